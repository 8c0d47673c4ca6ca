-- The length operator.

assert(#"" == 0 and #"abc" == 3 and #"a\0b" == 3, "string length")
assert(#{} == 0, "empty table")
assert(#{1, 2, 3} == 3, "constructor sequence")
assert(#{n = 1} == 0, "hash only")
assert(#{1, 2, 3, n = 3} == 3, "sequence plus hash")
assert(#{"a", nil} == 1, "trailing nil in constructor")

local t = {}
for i = 1, 100 do t[i] = i end
assert(#t == 100, "grown by appending")
t[#t + 1] = 101
assert(#t == 101, "append with #t+1")
t[#t] = nil
assert(#t == 100, "remove last")
for i = 100, 51, -1 do t[i] = nil end
assert(#t == 50, "shrink from the end")

-- sequence built in the hash part (reverse order)
local r = {}
for i = 20, 1, -1 do r[i] = i end
assert(#r == 20, "filled backwards")

-- keys that are floats with integral values count
local f = {}
f[1.0] = "a"; f[2.0] = "b"
assert(#f == 2, "integral float keys")

-- any border is acceptable for tables with holes
local function is_border(tab, n)
  return (n == 0 or tab[n] ~= nil) and tab[n + 1] == nil
end
local holes = {1, 2, nil, 4}
assert(is_border(holes, #holes), "border of {1,2,nil,4}")
local h2 = {}
h2[1] = 1; h2[2] = 2; h2[4] = 4
assert(is_border(h2, #h2), "border with hash entries")
local h3 = {1, 2, 3}
h3[2] = nil
assert(is_border(h3, #h3), "border after punching a hole")
local h4 = {nil, nil, 3}
assert(is_border(h4, #h4), "border with leading nils")
for trial = 1, 50 do
  local x = {}
  for i = 1, trial do if (i * 7) % 5 ~= 0 then x[i] = i end end
  assert(is_border(x, #x), "border property, trial " .. trial)
end

-- __len on tables is ignored in Lua 5.1 / LuaJIT without 5.2 compat
local withlen = setmetatable({1, 2}, {__len = function() return 99 end})
assert(#withlen == 2, "__len ignored for tables")

-- __len on userdata is honoured
local u = newproxy(true)
getmetatable(u).__len = function(self) return 7 end
assert(#u == 7, "__len on userdata")
local u2 = newproxy(true)
getmetatable(u2).__len = function(self, other) return type(other) end
assert(#u2 == "userdata" or #u2 == "nil", "__len receives the operand")

-- # on other types is an error
local ok, err = pcall(function() return #nil end)
assert(not ok and err:find("attempt to get length of a nil value", 1, true), tostring(err))
ok, err = pcall(function() return #5 end)
assert(not ok and err:find("attempt to get length of a number value", 1, true), tostring(err))
ok, err = pcall(function() local b = true; return #b end)
assert(not ok and err:find("attempt to get length of local 'b' (a boolean value)", 1, true), tostring(err))
ok = pcall(function() return #newproxy() end)
assert(not ok, "# of a userdata without __len")

-- table.getn is the same as #, table.maxn finds the largest numeric key
assert(table.getn({1, 2, 3}) == 3, "table.getn")
assert(table.maxn({1, 2, nil, 10, [20] = 1, [1.5] = 1}) == 20, "maxn")
assert(table.maxn({}) == 0, "maxn empty")
assert(table.maxn({[-5] = 1}) == 0, "maxn ignores negative keys")
assert(table.maxn({[2.5] = 1}) == 2.5, "maxn includes non-integer keys")

-- lengths of big strings and tables
assert(#string.rep("ab", 50000) == 100000, "long string length")
local big = {}
for i = 1, 100000 do big[i] = true end
assert(#big == 100000, "large array")

-- select('#') vs # of a packed table
local packed = {nil, nil, nil}
assert(select("#", nil, nil, nil) == 3 and is_border(packed, #packed), "packed nils")
print("ok")
