-- Arithmetic, concatenation, comparison and length metamethods.

local V = {}
V.__index = V
local function vec(x, y) return setmetatable({x = x, y = y}, V) end
local function unwrap(v) if type(v) == "table" then return v.x, v.y end return v, v end
V.__add = function(a, b) local ax, ay = unwrap(a) local bx, by = unwrap(b) return vec(ax + bx, ay + by) end
V.__sub = function(a, b) local ax, ay = unwrap(a) local bx, by = unwrap(b) return vec(ax - bx, ay - by) end
V.__mul = function(a, b) local ax, ay = unwrap(a) local bx, by = unwrap(b) return vec(ax * bx, ay * by) end
V.__div = function(a, b) local ax, ay = unwrap(a) local bx, by = unwrap(b) return vec(ax / bx, ay / by) end
V.__mod = function(a, b) local ax, ay = unwrap(a) local bx, by = unwrap(b) return vec(ax % bx, ay % by) end
V.__pow = function(a, b) local ax, ay = unwrap(a) local bx, by = unwrap(b) return vec(ax ^ bx, ay ^ by) end
V.__unm = function(a) return vec(-a.x, -a.y) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__lt = function(a, b) return a.x < b.x or (a.x == b.x and a.y < b.y) end
V.__le = function(a, b) return not (b < a) end
V.__concat = function(a, b)
  local function s(v) if type(v) == "table" then return "(" .. v.x .. "," .. v.y .. ")" end return tostring(v) end
  return s(a) .. s(b)
end
V.__tostring = function(a) return "vec(" .. a.x .. "," .. a.y .. ")" end

local p, q = vec(1, 2), vec(3, 4)
assert(p + q == vec(4, 6), "__add")
assert(q - p == vec(2, 2), "__sub")
assert(p * q == vec(3, 8), "__mul")
assert(q / p == vec(3, 2), "__div")
assert(q % vec(2, 3) == vec(1, 1), "__mod")
assert(p ^ vec(2, 2) == vec(1, 4), "__pow")
assert(-p == vec(-1, -2), "__unm")
assert(p + 1 == vec(2, 3) and 1 + p == vec(2, 3), "number on either side")
assert(p * "2" == vec(2, 4), "numeric string operand reaches the metamethod as a string")
assert(p < q and not (q < p), "__lt")
assert(p <= p and p <= q and not (q <= p), "__le")
assert(q > p and q >= p, "> and >= swap operands")
assert(p .. q == "(1,2)(3,4)", "__concat")
assert(p .. "!" == "(1,2)!" and "!" .. p == "!(1,2)", "__concat with a string on either side")
assert(1 .. p == "1(1,2)", "__concat with a number")
assert(tostring(p + q) == "vec(4,6)", "__tostring on a result")

-- metamethod argument order and count
local args
local rec = setmetatable({}, {
  __add = function(...) args = {n = select("#", ...), ...} return "add" end,
  __unm = function(...) args = {n = select("#", ...), ...} return "unm" end,
  __concat = function(...) args = {n = select("#", ...), ...} return "cat" end,
})
assert(rec + 5 == "add" and args.n == 2 and args[1] == rec and args[2] == 5, "__add(a, b)")
assert(5 + rec == "add" and args[1] == 5 and args[2] == rec, "__add keeps operand order")
assert(-rec == "unm" and args.n == 2 and args[1] == rec and args[2] == rec, "__unm receives the operand twice")
assert(rec .. "s" == "cat" and args[1] == rec and args[2] == "s", "__concat order")

-- the left operand's metamethod wins, else the right's
local L = setmetatable({}, {__add = function() return "left" end})
local R = setmetatable({}, {__add = function() return "right" end})
assert(L + R == "left" and R + L == "right", "left operand first")
assert(1 + R == "right" and {} + L == "left", "falls back to the right operand")

-- multiple results from a metamethod are truncated to one
local multi = setmetatable({}, {__add = function() return 1, 2, 3 end})
assert(select("#", multi + 1) == 1, "one result")

-- concatenation chains: right associative, metamethods applied pairwise
local C = setmetatable({}, {__concat = function(a, b)
  local sa = type(a) == "table" and "C" or a
  local sb = type(b) == "table" and "C" or b
  return sa .. sb
end})
assert("a" .. C .. "b" .. "c" == "aCbc", "concat chain with a metamethod")
assert(C .. C == "CC", "both operands")
assert("x" .. 1 .. C == "x1C", "numbers in a chain")

-- errors when no metamethod exists
local plain = {}
local ok, err = pcall(function() return plain + 1 end)
assert(not ok and err:find("attempt to perform arithmetic on upvalue 'plain' (a table value)", 1, true), tostring(err))
ok, err = pcall(function() return plain .. "x" end)
assert(not ok and err:find("attempt to concatenate upvalue 'plain' (a table value)", 1, true), tostring(err))
ok, err = pcall(function() return -plain end)
assert(not ok and err:find("attempt to perform arithmetic on upvalue 'plain' (a table value)", 1, true), tostring(err))

-- __eq is only called for two tables (or two userdata) with the same __eq
local eqcalls = 0
local eq = function(a, b) eqcalls = eqcalls + 1; return true end
local t1 = setmetatable({}, {__eq = eq})
local t2 = setmetatable({}, {__eq = eq})
local t3 = setmetatable({}, {__eq = function() return true end})
assert(t1 == t2 and eqcalls == 1, "same __eq function in different metatables")
assert(not (t1 == t3), "different __eq functions: not equal")
assert(not (t1 == {}), "other table has no __eq")
assert(not (t1 == 1) and not (t1 == "x") and eqcalls == 1, "never called for different types")
assert(t1 == t1 and eqcalls == 1, "identity does not call __eq")
assert(t1 ~= t2 == false and eqcalls == 2, "~= calls __eq and negates")
local e1 = setmetatable({}, {__eq = function() return 1 end})
local e2 = setmetatable({}, getmetatable(e1))
assert((e1 == e2) == true, "__eq result converted to boolean")
local ne1 = setmetatable({}, {__eq = function() return nil end})
local ne2 = setmetatable({}, getmetatable(ne1))
assert((ne1 == ne2) == false, "nil result is false")

-- __eq on userdata
local umt
local u1 = newproxy(true)
umt = getmetatable(u1)
umt.__eq = function() return true end
local u2 = newproxy(u1)
assert(getmetatable(u2) == umt and u1 == u2, "newproxy(u) shares the metatable, __eq applies")
assert(not (u1 == newproxy(true)), "different metatable")

-- __lt / __le
local Lt = {}
Lt.__lt = function(a, b) return a.v < b.v end
local function lt(v) return setmetatable({v = v}, Lt) end
assert(lt(1) < lt(2) and not (lt(2) < lt(1)), "__lt")
assert(lt(1) <= lt(2) and lt(2) <= lt(2) and not (lt(3) <= lt(2)), "__le falls back to not __lt(b, a)")
assert(lt(2) >= lt(1) and lt(2) > lt(1), "> and >= with fallback")
ok, err = pcall(function() return lt(1) < 1 end)
assert(not ok and err:find("attempt to compare table with number", 1, true), "mixed types: " .. tostring(err))
ok, err = pcall(function() return lt(1) < setmetatable({v = 2}, {__lt = function() return true end}) end)
assert(not ok and err:find("attempt to compare two table values", 1, true), "different __lt: " .. tostring(err))
local le_only = {__le = function(a, b) return "yes" end}
local l1, l2 = setmetatable({}, le_only), setmetatable({}, le_only)
assert((l1 <= l2) == true, "__le result converted to boolean")
ok = pcall(function() return l1 < l2 end)
assert(not ok, "__lt does not fall back to __le")
local lt_res = setmetatable({}, {__lt = function() return 0 end})
assert((lt_res < lt_res) == true, "0 from __lt is true")

-- metamethods can be functions with upvalues, and can error
local boom = setmetatable({}, {__add = function() error("boom in add") end})
ok, err = pcall(function() return boom + 1 end)
assert(not ok and err:find("boom in add", 1, true), "error from a metamethod")

-- __index / arithmetic metamethods on userdata
local ud = newproxy(true)
local udmt = getmetatable(ud)
udmt.__index = function(_, k) return "ud." .. k end
udmt.__add = function(a, b) return "ud+" end
udmt.__call = function(self, v) return "called " .. v end
udmt.__tostring = function() return "UD" end
udmt.__concat = function(a, b) return "udcat" end
udmt.__len = function() return 3 end
assert(ud.field == "ud.field", "userdata __index")
assert(ud + 1 == "ud+" and ud(5) == "called 5" and tostring(ud) == "UD", "userdata metamethods")
assert(ud .. "x" == "udcat" and #ud == 3, "userdata __concat and __len")
assert(type(ud) == "userdata", "type of a proxy")
assert(getmetatable(newproxy(false)) == nil and getmetatable(newproxy()) == nil, "newproxy without metatable")
assert(not pcall(newproxy, {}), "newproxy of a table is an error")

-- metamethods in hot loops
local acc = vec(0, 0)
for i = 1, 1000 do acc = acc + vec(i, 1) end
assert(acc == vec(500500, 1000), "hot __add")
local cnt = 0
for i = 1, 1000 do if lt(i) < lt(500) then cnt = cnt + 1 end end
assert(cnt == 499, "hot __lt")
print("ok")
