-- gmatch loops counted by the budget.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
local n = 0
while true do for w in string.gmatch(string.rep("a", 1000), "a*") do n = n + 1 end end
