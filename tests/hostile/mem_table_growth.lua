-- A table's array part grown forever.
-- expect: memory
-- flags: --sandbox --memory 32M
local t = {}
while true do t[#t + 1] = #t end
