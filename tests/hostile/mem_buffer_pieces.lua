-- A string.buffer grown by many small pieces, then copied into itself: its contents
-- are checked against the memory limit before each growth (they held 1.4 GiB under
-- --memory 32M), and its work is charged.
-- expect: memory
-- flags: --sandbox --memory 32M
local buffer = require("string.buffer")
local b = buffer.new()
for i = 1, 1e7 do b:put("0123456789abcdef") end
while true do b:put(b:tostring()) end
