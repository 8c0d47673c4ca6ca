-- Varargs, select and unpack.

local function count(...) return select("#", ...) end
assert(count() == 0 and count(nil) == 1 and count(nil, nil) == 2, "select # counts nils")
assert(count(1, nil, 3, nil) == 4, "trailing nils counted")

local function pass(...) return ... end
assert(count(pass(1, 2, 3)) == 3, "vararg passthrough")
assert(count(pass()) == 0, "empty passthrough")
assert(count(pass(nil, nil, nil)) == 3, "nils passthrough")

-- select with positive and negative indices
assert(select(2, "a", "b", "c") == "b", "select 2")
assert(count(select(2, "a", "b", "c")) == 2, "select returns the rest")
assert(select(-1, "a", "b", "c") == "c", "select -1")
assert(count(select(-2, "a", "b", "c")) == 2, "select -2 returns two")
assert(select(-3, "a", "b", "c") == "a", "select -n")
assert(count(select(4, "a", "b", "c")) == 0, "select past the end")
assert(count(select(3, "a", "b", "c")) == 1, "select last")
assert(not pcall(select, 0, 1, 2), "select 0 errors")
assert(not pcall(select, -4, 1, 2, 3), "select -n-1 errors")
assert(select("#") == 0, "select('#') with nothing")
assert(select(2.7, "a", "b", "c") == "b", "index is truncated")
assert(select("2", "a", "b") == "b", "numeric string index")

-- varargs in table constructors
local function pack(...) return {n = select("#", ...), ...} end
local p = pack(1, nil, 3)
assert(p.n == 3 and p[1] == 1 and p[2] == nil and p[3] == 3, "pack")
local t = {pass(1, 2), pass(3, 4)}
assert(#t == 3 and t[1] == 1 and t[2] == 3 and t[3] == 4, "only the last call expands")
t = {pass(1, 2), (pass(3, 4))}
assert(#t == 2 and t[2] == 3, "parenthesised call truncates to one value")
t = {..., n = 1}
assert(t.n == 1, "main chunk varargs in a constructor")

-- vararg in the middle is truncated to one value
local function three(...) local a, b, c = ..., "x" return a, b, c end
local a, b, c = three(1, 2, 3)
assert(a == 1 and b == "x" and c == nil, "... not last is truncated")
a, b, c = three()
assert(a == nil and b == "x" and c == nil, "empty ... not last gives nil")

-- varargs captured by a nested function must be copied into a table
local function capture(...)
  local args = {...}
  return function() return unpack(args) end
end
local f = capture(7, 8, 9)
a, b, c = f()
assert(a == 7 and b == 8 and c == 9, "captured varargs")

-- arg table: LuaJIT has no implicit `arg` inside vararg functions
local function no_arg(...) return arg end
assert(no_arg(1, 2) == _G.arg, "no implicit local arg in vararg functions")

-- varargs with many values
local big = {}
for i = 1, 200 do big[i] = i end
assert(count(unpack(big)) == 200, "200 values through unpack")
local function sum(...)
  local s = 0
  for i = 1, select("#", ...) do s = s + select(i, ...) end
  return s
end
assert(sum(unpack(big)) == 20100, "sum of 200 varargs")
local bigger = {}
for i = 1, 7000 do bigger[i] = 1 end
assert(sum(unpack(bigger)) == 7000, "7000 values through unpack")

-- unpack ranges
assert(count(unpack({1, 2, 3})) == 3, "unpack whole")
assert(count(unpack({1, 2, 3}, 2)) == 2, "unpack from 2")
assert(count(unpack({1, 2, 3}, 2, 5)) == 4, "unpack past the end gives nils")
assert(count(unpack({1, 2, 3}, 3, 2)) == 0, "empty range")
assert(count(unpack({}, 1, 0)) == 0, "empty table")
a, b = unpack({1, 2, 3}, -1, 0)
assert(a == nil and b == nil, "negative index range")
assert(select("#", unpack({n = 5}, 1, 3)) == 3, "explicit range ignores length")
t = {1, 2, 3, nil, 5}
assert(select(5, unpack(t, 1, 5)) == 5, "range spanning a hole")
assert(not pcall(unpack, {}, 1, 1e8), "too many results")
assert(unpack({"a", "b"}, "2") == "b", "string index coerced")

-- varargs and methods
local obj = {}
function obj:m(...) return self, select("#", ...) end
local s, n = obj:m(1, 2)
assert(s == obj and n == 2, "method varargs")

-- vararg in a returned call keeps all values
local function ret_all(...) return pass(...) end
assert(count(ret_all(1, nil, nil)) == 3, "vararg through return")

-- ... in the main chunk holds the script arguments
assert(select("#", ...) == 0 or type(...) == "string", "main chunk varargs")

-- string.format / print with varargs of nil
assert(string.format("%s %s", nil, 1) == "nil 1", "nil formatted")

-- math.max/min with varargs
assert(math.max(unpack(big)) == 200 and math.min(unpack(big)) == 1, "max/min over varargs")

-- adjusting varargs when calling functions with fixed parameters
local function fixed(a, b) return a, b end
a, b = fixed(pass(1))
assert(a == 1 and b == nil, "missing parameters are nil")
a, b = fixed(pass(1, 2, 3))
assert(a == 1 and b == 2, "extra arguments dropped")
print("ok")
