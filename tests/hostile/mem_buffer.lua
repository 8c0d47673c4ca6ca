-- A string.buffer grown forever.
-- expect: memory
-- flags: --sandbox --memory 32M
local buffer = require("string.buffer")
local b = buffer.new()
local chunk = string.rep("x", 65536)
while true do b:put(chunk) end
