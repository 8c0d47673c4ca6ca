-- table.concat and string.rep of megabytes in a loop, under a deadline: each call is
-- charged for the bytes it builds, so the deadline is checked between them.
-- expect: fuel
-- flags: --sandbox --fuel 10000000
local t = {}
for i = 1, 100000 do t[i] = "0123456789" end
for i = 1, 1000 do
  local a = table.concat(t)
  local b = string.rep("ab", 1000000)
end
