-- Closures with upvalues allocated forever.
-- expect: memory
-- flags: --sandbox --memory 32M
local t = {}
local i = 0
while true do i = i + 1; local j = i; t[i] = function() return j end end
