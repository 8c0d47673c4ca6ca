-- Sorting a large table (with the default comparison: no Lua calls to count) and a
-- long gsub, over and over: both charge their work.
-- expect: fuel
-- flags: --sandbox --fuel 20000000
local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 200000 end
local s = string.rep("hello world ", 100000)
for i = 1, 1000 do
  table.sort(t)
  s = s:gsub("o", "0")
end
