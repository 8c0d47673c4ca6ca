-- string.rep with 2^40: LuaJIT's integer conversion makes it an empty string.
-- expect: ok
-- flags: --sandbox --memory 32M
local s = string.rep("x", 2^40)
-- LuaJIT converts the count to a 32-bit integer: 2^40 becomes 0 (or negative).
assert(#s == 0)
