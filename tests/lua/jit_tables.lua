-- Table reads and writes inside traces (arrays, string keys, globals): every
-- result must be the interpreter's, whatever changes between iterations.

-- Array reads and writes, with the index's odd cases.
local t = {}
for i = 1, 200 do t[i] = i end
local s = 0
for i = 1, 200 do s = s + t[i] end
assert(s == 20100)
local keys = {1, 2, 2.5, 0, -1, 0/0, 1e300, -0.0, 3, 200, 201, 100}
local got = {}
for j = 1, #keys do got[j] = tostring(t[keys[j]]) end
assert(table.concat(got, " ") == "1 2 nil nil nil nil nil nil 3 200 nil 100", table.concat(got, " "))
for i = 1, 200 do t[i] = t[i] * 2 end
assert(t[1] == 2 and t[200] == 400)

-- Swaps (fannkuch's inner loop).
local perm = {}
for i = 1, 9 do perm[i] = i end
for _ = 1, 301 do
  local i, j = 1, 9
  while i < j do
    perm[i], perm[j] = perm[j], perm[i]
    i = i + 1; j = j - 1
  end
end
assert(table.concat(perm, "") == "987654321")

-- A metatable with __index appears in the middle of a loop: reads of absent
-- elements must see it from then on.
local holes = {1, 2, nil, 4}
local mt = {__index = function(_, k) return k * 100 end}
local out = {}
for i = 1, 40 do
  local k = (i % 4) + 1
  if i == 20 then setmetatable(holes, mt) end
  out[#out + 1] = tostring(holes[k])
end
assert(table.concat(out, ","):sub(1, 40) == "2,nil,4,1,2,nil,4,1,2,nil,4,1,2,nil,4,1,", table.concat(out, ","))
assert(out[22] == "300" and out[26] == "300", out[22])

-- __newindex appears in the middle of a loop: stores over nil must call it,
-- stores over values must not.
local logged = 0
local arr = {1, nil, 3}
for i = 1, 30 do
  if i == 10 then setmetatable(arr, {__newindex = function(tt, k, v) logged = logged + 1; rawset(tt, k, v) end}) end
  arr[1] = i
  if i >= 10 and i % 5 == 0 then arr[2] = nil end
  arr[2 + (i % 2)] = i
end
assert(arr[1] == 30 and logged > 0, logged)

-- String keys: fields of one object, and many objects of one shape.
local p = {x = 0, y = 1, z = 2}
for i = 1, 100 do
  p.x = p.x + p.y
  p.y = p.z - p.x
end
local q = {x = 0, y = 1, z = 2}
for _ = 1, 100 do
  q.x = q.x + q.y
  q.y = q.z - q.x
end
assert(p.x == q.x and p.y == q.y)
local objs = {}
for i = 1, 20 do objs[i] = {v = i, w = -i} end
local acc = 0
for _ = 1, 30 do
  for i = 1, 20 do
    local o = objs[i]
    o.v = o.v + o.w
    acc = acc + o.v
  end
end
local check = 0
for i = 1, 20 do check = check + objs[i].v end
assert(check == 210 - 30 * 210, check)

-- A field set to nil (a dead key) and read back; then the object gets a metatable.
local d = {a = 1, b = 2}
local seen = {}
for i = 1, 30 do
  if i == 5 then d.a = nil end
  if i == 15 then setmetatable(d, {__index = {a = "meta"}}) end
  seen[i] = tostring(d.a)
end
assert(seen[4] == "1" and seen[5] == "nil" and seen[14] == "nil" and seen[15] == "meta" and seen[30] == "meta")

-- Objects that change type under the same key.
local mixed = {v = 1}
local kinds = {}
for i = 1, 40 do
  if i == 10 then mixed.v = "s" elseif i == 20 then mixed.v = {} elseif i == 30 then mixed.v = true end
  kinds[#kinds + 1] = type(mixed.v)
end
assert(kinds[9] == "number" and kinds[10] == "string" and kinds[20] == "table" and kinds[40] == "boolean")

-- Globals: read, written, replaced, and an environment swapped mid-loop.
counter = 0
for i = 1, 100 do counter = counter + i end
assert(counter == 5050)
step = 1
local total = 0
for i = 1, 60 do
  if i == 30 then step = 10 end
  total = total + step
end
assert(total == 29 + 31 * 10, total)
local function envloop()
  local r = 0
  for i = 1, 50 do
    r = r + (gv or 0)
    if i == 25 then setfenv(1, {gv = 2}) end
  end
  return r
end
gv = 1
assert(envloop() == 25 * 1 + 25 * 2)

-- Tables stored into tables while the collector runs (write barriers).
local keep = {}
for i = 1, 50 do keep[i] = false end
for round = 1, 40 do
  for i = 1, 50 do keep[i] = {round, i, string.rep("x", i)} end
  collectgarbage("step", 1)
end
collectgarbage()
for i = 1, 50 do assert(keep[i][1] == 40 and keep[i][2] == i and #keep[i][3] == i) end

-- Arrays whose part changes size between loop runs.
local grow = {}
for n = 1, 20 do
  grow[#grow + 1] = n
  local sum = 0
  for i = 1, #grow do sum = sum + grow[i] end
  assert(sum == n * (n + 1) / 2)
end

-- A loop-carried index that is a different constant in each iteration: the loop
-- body's guard on it fails, so the trace must not assume it holds.
do
  local pair = {1, 2}
  for start = 1, 2 do
    local k, x = start, 0
    for _ = 1, 200 do
      x = x + pair[k]
      k = k == 1 and 2 or 1
    end
    assert(x == 300 and k == start, x)
  end
end

print(s, table.concat(perm, ""), p.x, p.y, check, counter, total, table.concat(kinds, " ", 8, 11))

-- Keys found at run time: numbers in the hash part (negative, fractional, -0,
-- past the array part), strings in registers, booleans; keys that go away.
-- (Results go into preallocated arrays: the traced loops only index.)
do
  local h = {[0] = 0, [-1] = -1, [0.5] = 0.5, [100] = 100, a = "A", b = "B", [true] = "T"}
  local keys = {0, -0.0, -1, 0.5, 100, "a", "b", true}
  local got = {}
  for i = 1, 24 do got[i] = false end
  local n = 0
  for round = 1, 3 do
    for i = 1, #keys do
      local k = keys[i]
      n = n + 1
      got[n] = h[k]
      if type(k) == "number" then h[k] = h[k] + 1 end
    end
  end
  for i = 1, 24 do got[i] = tostring(got[i]) end
  assert(table.concat(got, ",") ==
    "0,1,-1,0.5,100,A,B,T,2,3,0,1.5,101,A,B,T,4,5,1,2.5,102,A,B,T", table.concat(got, ","))
  local counts = {}
  for i = 1, 9 do counts[10 - i] = 0 end
  for i = 1, 900 do
    local k = i % 9 + 1
    counts[k] = counts[k] + 1
  end
  for i = 1, 9 do assert(counts[i] == 100) end
  local gone = {x = 1, y = 2}
  local names = {"x", "y", "x", "y"}
  local seen = {}
  for i = 1, 40 do seen[i] = false end
  for i = 1, 40 do
    if i == 20 then gone.x = nil end
    seen[i] = gone[names[i % 4 + 1]]
  end
  assert(seen[18] == 1 and seen[19] == 2 and seen[20] == nil and seen[21] == 2)
end
