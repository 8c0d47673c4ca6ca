-- tables: array insert/remove (at the end and in the middle), table.sort with
-- comparators, # on arrays, hash keys (string and numeric) insert/lookup/delete,
-- next/pairs counting, and unpack.
local n = tonumber(arg and arg[1]) or 200000

local unpack = unpack or table.unpack
local insert, remove, sort = table.insert, table.remove, table.sort

local seed = 7
local function rand(m)
  seed = seed * 16807 % 2147483647
  return seed % m
end

local check = 0
local function mix(v) check = (check * 31 + v) % 2147483647 end

-- 1. stack and queue use of table.insert / table.remove
do
  local stack = {}
  for i = 1, n do
    insert(stack, i)
    if i % 3 == 0 then mix(remove(stack)) end
  end
  mix(#stack)
  -- middle inserts/removes on a small array (O(len) shifting each)
  local small = {}
  for i = 1, 200 do small[i] = i end
  for i = 1, math.floor(n / 10) do
    local pos = 1 + rand(#small)
    insert(small, pos, i)
    mix(remove(small, 1 + rand(#small)))
  end
  mix(#small)
end

-- 2. sorting records with comparators (total orders, so every engine agrees)
do
  local recs = {}
  for i = 1, math.floor(n / 3) do
    recs[i] = { id = i, score = rand(1000), name = "n" .. rand(5000) }
  end
  sort(recs, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    return a.id < b.id
  end)
  for i = 1, #recs, 97 do mix(recs[i].id) end
  sort(recs, function(a, b)
    if a.name ~= b.name then return a.name < b.name end
    return a.id > b.id
  end)
  for i = 1, #recs, 97 do mix(recs[i].id) end
  local nums = {}
  for i = 1, n do nums[i] = rand(1000000) end
  sort(nums)
  for i = 1, #nums, 101 do mix(nums[i]) end
  local strs = {}
  for i = 1, math.floor(n / 3) do strs[i] = "s" .. rand(100000) end
  sort(strs, function(a, b) return a > b end)
  mix(#strs[1] + #strs[#strs])
end

-- 3. hash keys: string and sparse numeric keys, lookups, deletes, re-inserts
do
  local h = {}
  local count = 0
  for i = 1, n do
    local k = "key" .. rand(n)
    if h[k] then h[k] = h[k] + 1 else h[k] = 1; count = count + 1 end
  end
  mix(count)
  local hits = 0
  for i = 1, n do
    if h["key" .. i] then hits = hits + 1 end
  end
  mix(hits)
  -- delete every key with an odd count, then count survivors with pairs
  for k, v in pairs(h) do
    if v % 2 == 1 then h[k] = nil end
  end
  local left, sum = 0, 0
  for _, v in pairs(h) do left = left + 1; sum = sum + v end
  mix(left); mix(sum)
  local sparse = {}
  for i = 1, n do sparse[i * 7919 % 1000003] = i end
  local s = 0
  for i = 1, n, 3 do s = (s + (sparse[i * 7919 % 1000003] or 0)) % 1000003 end
  mix(s)
end

-- 4. small tables: constructors, # and unpack
do
  local s = 0
  for i = 1, n do
    local t = { i, i + 1, i + 2, x = i, y = -i }
    local a, b, c = unpack(t)
    s = (s + a + b + c + #t + t.x + t.y) % 1000003
  end
  mix(s)
end

print(string.format("checksum: %d", check))
