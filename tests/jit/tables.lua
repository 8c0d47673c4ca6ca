-- Table reads and writes: an array read at a carried index and written back
-- (loads are not hoisted past the store), a field of an object, a global (read
-- through the closure's environment; its guards are hoisted out of the body).
local a = {}
for i = 1, 64 do a[i] = i end
local p = {x = 1.5}
scale = 2
local s = 0
for i = 1, 64 do
  a[i] = a[i] * scale + p.x
  s = s + a[i]
end
print(s)
