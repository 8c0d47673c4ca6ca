-- An infinite loop stopped by the wall-clock timeout.
-- expect: timeout
-- flags: --sandbox --timeout 1s
local x = 0
while true do x = x + 1 end
