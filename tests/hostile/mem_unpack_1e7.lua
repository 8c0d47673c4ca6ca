-- unpack of 1e7 values is refused, as in LuaJIT.
-- expect: error: too many results to unpack
-- flags: --sandbox --memory 32M
local t = {}
print(unpack(t, 1, 1e7))
