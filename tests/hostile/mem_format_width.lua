-- string.format with a huge width is refused, as in LuaJIT.
-- expect: error: invalid option
-- flags: --sandbox --memory 32M
print(string.format("%099999d", 1))
