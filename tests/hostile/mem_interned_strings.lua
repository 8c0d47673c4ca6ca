-- Millions of distinct short strings (the intern table grows).
-- expect: memory
-- flags: --sandbox --memory 32M
local t = {}
local i = 0
while true do i = i + 1; t[i] = "key" .. i end
