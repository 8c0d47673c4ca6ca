-- Table constructors and the table library.

-- constructors
local t = {1, 2, 3; x = "x", ["y z"] = "yz", [10] = 10, [1.5] = "f", [true] = "t"}
assert(t[1] == 1 and t[3] == 3 and t.x == "x" and t["y z"] == "yz" and t[10] == 10 and t[1.5] == "f" and t[true] == "t", "constructor fields")
local nested = {a = {b = {c = {}}}, {1}, {{2}}}
assert(type(nested.a.b.c) == "table" and nested[1][1] == 1 and nested[2][1][1] == 2, "nested constructors")
local k = "dyn"
local dyn = {[k .. "1"] = 1, [k] = 0}
assert(dyn.dyn1 == 1 and dyn.dyn == 0, "computed keys")
local dup = {x = 1, x = 2}
assert(dup.x == 2, "later duplicate wins")
local f = {function() return "f" end}
assert(f[1]() == "f", "function in a constructor")
local big = {}
for i = 1, 1000 do big[i] = i end
local lit = loadstring("return {" .. table.concat(big, ",") .. "}")()
assert(#lit == 1000 and lit[1000] == 1000, "1000-element literal")

-- insert
local a = {}
table.insert(a, "x")
table.insert(a, "y")
table.insert(a, 1, "w")
assert(table.concat(a, ",") == "w,x,y", "insert append and front")
table.insert(a, 3, "mid")
assert(table.concat(a, ",") == "w,x,mid,y", "insert in the middle")
table.insert(a, #a + 1, "end")
assert(a[5] == "end", "insert at n+1")
local sparse = {1, 2}
table.insert(sparse, 5, "x")
assert(sparse[5] == "x", "LuaJIT does not check the position")
assert(not pcall(table.insert, {}, 1, 2, 3), "too many arguments")
assert(not pcall(table.insert, nil, 1), "no table")

-- remove
local r = {1, 2, 3, 4}
assert(table.remove(r) == 4 and #r == 3, "remove last")
assert(table.remove(r, 1) == 1 and r[1] == 2 and r[2] == 3 and #r == 2, "remove first shifts down")
assert(select("#", table.remove({})) == 0, "remove from empty returns nothing")
assert(select("#", table.remove({1, 2, 3}, 7)) == 0, "remove beyond the end returns nothing")
local r2 = {1, 2, 3}
assert(table.remove(r2, 2) == 2 and r2[1] == 1 and r2[2] == 3 and r2[3] == nil, "remove middle")
local queue = {}
for i = 1, 100 do table.insert(queue, i) end
local sum = 0
while #queue > 0 do sum = sum + table.remove(queue, 1) end
assert(sum == 5050, "queue drained")

-- concat
assert(table.concat({1, 2, 3}, ", ") == "1, 2, 3", "concat with separator")
assert(table.concat({1, 2, 3}, ", ", 2, 3) == "2, 3", "concat range")
assert(table.concat({}, "x") == "" and table.concat({1, 2}, "", 3, 2) == "", "empty concat")
assert(table.concat({1, 2.5, "s"}) == "12.5s", "numbers in concat")
assert(table.concat({"a"}, ",", 1, 1) == "a", "single element")
local ok, e = pcall(table.concat, {1, 2, 3}, ",", 1, 5)
assert(not ok and e:find("invalid value (nil) at index 4 in table for 'concat'", 1, true), tostring(e))
ok, e = pcall(table.concat, {1, {}, 3})
assert(not ok and e:find("invalid value (table) at index 2 in table for 'concat'", 1, true), tostring(e))

-- sort
local s = {5, 2, 8, 1, 9, 3}
table.sort(s)
assert(table.concat(s, ",") == "1,2,3,5,8,9", "sort numbers")
table.sort(s, function(x, y) return x > y end)
assert(table.concat(s, ",") == "9,8,5,3,2,1", "sort descending")
local words = {"banana", "apple", "Cherry", "date"}
table.sort(words)
assert(table.concat(words, ",") == "Cherry,apple,banana,date", "sort strings")
local recs = {{n = "b", v = 2}, {n = "a", v = 2}, {n = "c", v = 1}}
table.sort(recs, function(x, y) if x.v ~= y.v then return x.v < y.v end return x.n < y.n end)
assert(recs[1].n == "c" and recs[2].n == "a" and recs[3].n == "b", "sort records")
local empty = {}
table.sort(empty)
local one = {1}
table.sort(one)
assert(one[1] == 1, "trivial sorts")
ok, e = pcall(table.sort, {1, "x", 2})
assert(not ok and e:find("attempt to compare", 1, true), "sort of mixed types: " .. tostring(e))
local perm = {}
for i = 1, 100 do perm[i] = (i * 37) % 101 end
ok, e = pcall(table.sort, perm, function() return true end)
assert(not ok and e:find("invalid order function for sorting", 1, true), "inconsistent comparator: " .. tostring(e))
-- large sort, already sorted and reverse sorted inputs
local lots = {}
for i = 1, 10000 do lots[i] = (i * 7919) % 10007 end
table.sort(lots)
for i = 2, #lots do assert(lots[i - 1] <= lots[i], "sorted at " .. i) end
local asc = {}
for i = 1, 5000 do asc[i] = i end
table.sort(asc)
table.sort(asc, function(x, y) return x > y end)
assert(asc[1] == 5000 and asc[5000] == 1, "reverse an ordered array")
-- sort with __lt on elements
local mt = {__lt = function(x, y) return x.k < y.k end}
local objs = {}
for i = 1, 20 do objs[i] = setmetatable({k = (i * 7) % 20}, mt) end
table.sort(objs)
for i = 2, 20 do assert(objs[i - 1].k <= objs[i].k, "sort with __lt") end
-- comparator error propagates
ok, e = pcall(table.sort, {3, 2, 1}, function() error("cmp fail") end)
assert(not ok and e:find("cmp fail", 1, true), "comparator error")

-- maxn, getn, foreach, foreachi (5.1 leftovers present in LuaJIT)
assert(table.maxn({1, 2, [10] = 1}) == 10, "maxn")
assert(table.getn({1, 2, 3}) == 3, "getn")
assert(table.setn == nil, "no setn")
local fe = {}
table.foreachi({"a", "b"}, function(i, v) fe[#fe + 1] = i .. v end)
assert(table.concat(fe, ",") == "1a,2b", "foreachi")
assert(table.foreach({x = 1}, function(k, v) return k .. v end) == "x1", "foreach returns the first non-nil result")

-- unpack is global in 5.1 (table.unpack is absent without 5.2 compat)
assert(unpack and table.unpack == nil and table.pack == nil, "5.1 names")

-- tables as keys, functions as keys
local kt, kf = {}, function() end
local m = {[kt] = "table", [kf] = "function"}
assert(m[kt] == "table" and m[kf] == "function", "reference keys")

-- removing during numeric iteration from the end
local rm = {1, 2, 3, 4, 5, 6}
for i = #rm, 1, -1 do if rm[i] % 2 == 0 then table.remove(rm, i) end end
assert(table.concat(rm, ",") == "1,3,5", "remove while iterating backwards")

-- growth of the array part and the hash part
local g = {}
for i = 1, 100000 do g[i] = i end
for i = 1, 100000, 2 do g[i] = nil end
local cnt = 0
for _ in pairs(g) do cnt = cnt + 1 end
assert(cnt == 50000, "half cleared")
local h = {}
for i = 1, 50000 do h["k" .. i] = i end
for i = 1, 50000 do h["k" .. i] = nil end
assert(next(h) == nil, "hash emptied")
for i = 1, 10 do h[i * 1.5] = i end
cnt = 0
for _ in pairs(h) do cnt = cnt + 1 end
assert(cnt == 10, "reuse after emptying")

-- negative and zero keys, float keys near integers
local nk = {[0] = "zero", [-1] = "neg", [1] = "one"}
assert(nk[0] == "zero" and nk[-1] == "neg" and #nk == 1, "zero and negative keys")
local fk = {}
fk[1] = "a"; fk[1 + 2 ^ -52] = "b"
assert(fk[1] == "a" and fk[1 + 2 ^ -52] == "b", "distinct float keys")

-- Constructors with constant items (LuaJIT copies a template table): every evaluation
-- gives a fresh table, computed items land where they belong, and a dumped function
-- keeps its templates.
do
  local function mk(x, ...)
    return {1, "two", x, 4.5, [10] = true, k = "v", n = x, [false] = 0, 7, ...}
  end
  local function check(t, x, tail)
    assert(t[1] == 1 and t[2] == "two" and t[3] == x and t[4] == 4.5 and t[5] == 7)
    assert(t[10] == true and t.k == "v" and t.n == x and t[false] == 0)
    assert(t[6] == tail)
  end
  local a, b = mk("x", "y"), mk("z")
  check(a, "x", "y")
  check(b, "z", nil)
  a.k, a[1] = "changed", 100
  check(mk(3), 3, nil)
  assert(a ~= b and mk(1).k == "v")
  local f = loadstring(string.dump(mk))
  check(f("d", "e"), "d", "e")
  local empty = {nil, nil}
  assert(next(empty) == nil)
  local holes = {1, nil, 3}
  assert(holes[1] == 1 and holes[2] == nil and holes[3] == 3)
end
-- A constant key with a value that has jumps (LuaJIT's lang/constant/table.lua).
do
  local a, b = nil, {}
  local t = {[true] = a, [false] = b or 1, k = b and 2, [3] = a or b, [300] = not a}
  assert(t[true] == nil and t[false] == b and t.k == 2 and t[3] == b and t[300] == true)
  local u = {[true] = nil, [false] = b or 1, "x", n = (a or 5) + 1}
  assert(u[true] == nil and u[false] == b and u[1] == "x" and u.n == 6)
end
-- Repeated keys in a constructor: the constant items act as stores in source order,
-- and (as in LuaJIT) computed items are stored after all constant ones.
do
  local function f() return "f" end
  local k = "x"
  assert(({x = f(), x = 1}).x == "f" and ({[k] = 5, x = 1}).x == 5)
  assert(({1, 2, [1] = "a"})[1] == "a" and ({[1] = "a", 1, 2})[1] == 1)
  local t = {[2] = "h", 1, 2, 3, [3] = "z", x = 1, x = 2, y = f(), y = 3, [false] = 1, [false] = 2}
  assert(t[1] == 1 and t[2] == 2 and t[3] == "z" and t.x == 2 and t.y == "f" and t[false] == 2)
  assert(({[1] = "b", (f())})[1] == "f")
  local u = {(f()), [1] = "b", 3}
  assert(u[1] == "f" and u[2] == 3)
  local v = {[5] = "five", 1, 2, 3, 4, 5, [2] = "two"}
  assert(v[5] == 5 and v[2] == "two" and #v == 5)
end

-- Number keys at the edges of the array part's fast path (`t[k]` with k in a
-- register): zero, negatives, fractions, the i32 limits and beyond, NaN.
do
  local t = {10, 20, 30}
  t[0] = "zero"; t[-1] = "neg"; t[1.5] = "frac"
  t[2^31] = "big"; t[-2^31] = "negbig"; t[2^32 + 1] = "huge"; t[4294967295] = "u32max"
  local keys = {0, -1, 1.5, 2^31, -2^31, 2^32 + 1, 4294967295, 1, 2, 3, 4, -0.0, 1e300, -1e300, 1/0, -1/0}
  local want = {"zero", "neg", "frac", "big", "negbig", "huge", "u32max", 10, 20, 30, nil, "zero"}
  for i, k in ipairs(keys) do
    assert(t[k] == want[i], "key " .. tostring(k))
  end
  local u = {}
  for i = -3, 3 do u[i] = i * 2 end
  for i = -3, 3 do assert(u[i] == i * 2) end
  assert(#t == 3 and #u == 3)
  local ok, e = pcall(function() t[0/0] = 1 end)
  assert(not ok and e:find("table index is NaN"))
  assert(t[0/0] == nil)
end
print("ok")
