-- Generic for: pairs, ipairs, next and custom iterators.

-- ipairs stops at the first nil
local t = {10, 20, 30, nil, 50}
local seen = {}
for i, v in ipairs(t) do seen[#seen + 1] = i .. "=" .. v end
assert(table.concat(seen, ",") == "1=10,2=20,3=30", "ipairs stops at nil")
for i, v in ipairs({}) do error("empty ipairs must not iterate") end
local n = 0
for i in ipairs({[0] = "zero", "one"}) do n = n + 1; assert(i == 1) end
assert(n == 1, "ipairs starts at 1")

-- ipairs returns three values: iterator, table, 0
local f, s, c = ipairs(t)
assert(type(f) == "function" and s == t and c == 0, "ipairs triple")
assert(f(t, 0) == 1 and select(2, f(t, 0)) == 10, "ipairs iterator step")
assert(f(t, 3) == nil, "ipairs iterator end")

-- LuaJIT's ipairs does not honour __index (5.1 semantics, raw access)
local proxy = setmetatable({}, {__index = function(_, k) if k <= 3 then return k * 2 end end})
n = 0
for _ in ipairs(proxy) do n = n + 1 end
assert(n == 0, "ipairs uses raw access in 5.1 / LuaJIT")

-- pairs visits every key once
local h = {a = 1, b = 2, c = 3, 1, 2, 3, [1.5] = "f", [true] = "t"}
local keys = {}
local cnt = 0
for k, v in pairs(h) do
  assert(keys[k] == nil, "each key once")
  keys[k] = v
  cnt = cnt + 1
end
assert(cnt == 8, "pairs count")
assert(keys.a == 1 and keys[1] == 1 and keys[3] == 3 and keys[1.5] == "f" and keys[true] == "t", "pairs values")

-- pairs returns next, t, nil
local pf, ps, pc = pairs(h)
assert(pf == next and ps == h and pc == nil, "pairs triple")

-- next
assert(next({}) == nil, "next of empty table")
local k1, v1 = next({x = 5})
assert(k1 == "x" and v1 == 5, "next single")
assert(next({x = 5}, "x") == nil, "next after the last key")
local ok, err = pcall(next, {}, "nokey")
assert(not ok and err:find("invalid key to 'next'", 1, true), "next with a missing key: " .. tostring(err))

-- array part is visited in order by pairs
local arr = {}
for i = 1, 10 do arr[i] = i end
local order = {}
for k in pairs(arr) do order[#order + 1] = k end
assert(table.concat(order, ",") == "1,2,3,4,5,6,7,8,9,10", "array part in order")

-- clearing fields during traversal is allowed
local m = {}
for i = 1, 100 do m["k" .. i] = i end
for k in pairs(m) do m[k] = nil end
assert(next(m) == nil, "cleared during traversal")

-- assigning existing fields during traversal is allowed
local m2 = {a = 1, b = 2, c = 3}
for k, v in pairs(m2) do m2[k] = v * 10 end
assert(m2.a == 10 and m2.b == 20 and m2.c == 30, "updated during traversal")

-- custom stateless iterator
local function range_iter(limit, i)
  if i < limit then return i + 1 end
end
local function range(n) return range_iter, n, 0 end
local total = 0
for i in range(100) do total = total + i end
assert(total == 5050, "stateless iterator")

-- closure iterator
local function chars(s)
  local i = 0
  return function()
    i = i + 1
    if i <= #s then return i, s:sub(i, i) end
  end
end
local out = {}
for i, ch in chars("abc") do out[i] = ch:upper() end
assert(table.concat(out) == "ABC", "closure iterator")

-- iterator returning more values than variables and fewer
for a, b, c, d in function(_, k) if not k then return 1, 2 end end do
  assert(a == 1 and b == 2 and c == nil and d == nil, "missing iterator values are nil")
end

-- the control variable is the first value; iteration stops when it is nil, even if others are not
n = 0
for a, b in function(_, k) if not k then return nil, "x" end end do n = n + 1 end
assert(n == 0, "stops on nil first value")

-- false as the first value does not stop iteration (only nil does)
n = 0
for a in function(_, k)
  n = n + 1
  if n == 1 then return false end
  return nil
end do
  assert(a == false)
end
assert(n == 2, "false does not end the loop")

-- iterator state objects
local function iter_state(st, ctl)
  st.calls = st.calls + 1
  if ctl < 3 then return ctl + 1 end
end
local st = {calls = 0}
for _ in iter_state, st, 0 do end
assert(st.calls == 4, "state passed to each call")

-- __call iterator objects
local callable = setmetatable({i = 0}, {__call = function(self)
  self.i = self.i + 1
  if self.i <= 3 then return self.i end
end})
total = 0
for v in callable do total = total + v end
assert(total == 6, "callable table as iterator")

-- calling a non-function as the iterator errors
ok, err = pcall(function() for x in 42 do end end)
assert(not ok and err:find("attempt to call a number value", 1, true), "for over a number: " .. tostring(err))
ok, err = pcall(function() for x in pairs(nil) do end end)
assert(not ok and err:find("bad argument #1 to 'pairs' (table expected, got nil)", 1, true), tostring(err))

-- string.gmatch as an iterator
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
assert(table.concat(words, "|") == "one|two|three", "gmatch loop")

-- loop variables are fresh locals per iteration
local fns = {}
for k, v in pairs({a = 1, b = 2}) do fns[k] = function() return v end end
assert(fns.a() == 1 and fns.b() == 2, "fresh variables")

-- break out of a generic for
n = 0
for i in range(1000) do if i > 10 then break end n = n + 1 end
assert(n == 10, "break in generic for")

-- nested generic for
local grid = {{1, 2}, {3, 4}, {5, 6}}
total = 0
for _, row in ipairs(grid) do for _, v in ipairs(row) do total = total + v end end
assert(total == 21, "nested ipairs")

-- pairs over a large hash table
local big = {}
for i = 1, 5000 do big["key" .. i] = i end
total = 0
for _, v in pairs(big) do total = total + v end
assert(total == 12502500, "pairs over 5000 keys")

-- next on a table with mixed array/hash parts after growth
local mixed = {}
for i = 1, 50 do mixed[i] = i; mixed["s" .. i] = i end
cnt = 0
local k = next(mixed)
while k ~= nil do cnt = cnt + 1; k = next(mixed, k) end
assert(cnt == 100, "manual next loop")
print("ok")
