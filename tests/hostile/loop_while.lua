-- The plainest infinite loop, stopped by the instruction budget.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
while true do end
