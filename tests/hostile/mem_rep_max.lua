-- A string.rep past the maximum string length fails before allocating.
-- expect: memory
-- flags: --sandbox --memory 32M
local s = string.rep("x", 2^31 - 1)
print(#s)
