-- string.rep with a separator: 200 MB in one call.
-- expect: memory
-- flags: --sandbox --memory 32M
local s = string.rep("x", 1e8, ",")
print(#s)
