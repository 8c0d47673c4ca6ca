-- string.format with many wide arguments: the result is checked before each
-- argument is added.
-- expect: memory
-- flags: --sandbox --memory 32M
local s = string.rep("x", 4194304)
local args = {}
for i = 1, 7000 do args[i] = s end
print(#string.format(string.rep("%s", 7000), unpack(args)))
