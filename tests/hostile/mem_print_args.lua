-- print with thousands of arguments, each a string just under the memory limit's
-- reach: the line print builds is checked against the limit before it grows.
-- expect: memory
-- flags: --sandbox --memory 32M
local s = string.rep("x", 4194304)
print(unpack((function() local t = {} for i = 1, 7000 do t[i] = s end return t end)()))
