-- table.concat of 1024 one-megabyte pieces (1 GB result).
-- expect: memory
-- flags: --sandbox --memory 32M
local piece = string.rep("x", 2^20)
local t = {}
for i = 1, 1024 do t[i] = piece end
local s = table.concat(t)
print(#s)
