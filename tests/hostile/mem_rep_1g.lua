-- One gigabyte in one string.rep call.
-- expect: memory
-- flags: --sandbox --memory 32M
local s = string.rep("x", 2^30)
print(#s)
