-- Multiple assignment and multiple returns.

local a, b, c = 1, 2
assert(a == 1 and b == 2 and c == nil, "fewer values")
a, b = b, a
assert(a == 2 and b == 1, "swap")
a, b, c = c, a, b
assert(a == nil and b == 2 and c == 1, "rotate")

-- all expressions are evaluated before any assignment
local i = 1
local t = {}
i, t[i] = i + 1, "x"
assert(i == 2, "i updated")
assert(t[1] == "x" and t[2] == nil, "table index evaluated before assignment")

local u = {1, 2, 3}
local j = 1
j, u[j] = 2, u[j] + 10
assert(j == 2 and u[1] == 11 and u[2] == 2, "rhs uses the old j, lhs index uses the old j")

-- swapping table fields
local s = {x = 1, y = 2}
s.x, s.y = s.y, s.x
assert(s.x == 2 and s.y == 1, "field swap")
local arr = {10, 20, 30}
arr[1], arr[3] = arr[3], arr[1]
assert(arr[1] == 30 and arr[3] == 10, "array swap")

-- function call results are adjusted
local function none() end
local function one() return 1 end
local function two() return 1, 2 end
local function three() return 1, 2, 3 end
a, b, c = two()
assert(a == 1 and b == 2 and c == nil, "two into three")
a, b, c = two(), 10
assert(a == 1 and b == 10 and c == nil, "call not last truncated to 1")
a, b, c = 0, two()
assert(a == 0 and b == 1 and c == 2, "call last expanded")
a, b, c = 0, (two())
assert(a == 0 and b == 1 and c == nil, "parentheses truncate")
a, b = none()
assert(a == nil and b == nil, "no results")
a, b, c = none(), 5
assert(a == nil and b == 5, "empty call not last gives nil")
a = three()
assert(a == 1, "first value kept")

-- returns
local function ret_call() return three() end
assert(select("#", ret_call()) == 3, "return f() returns all")
local function ret_paren() return (three()) end
assert(select("#", ret_paren()) == 1, "return (f()) returns one")
local function ret_mixed() return three(), three() end
assert(select("#", ret_mixed()) == 4, "return f(), f() returns 1 + 3")
local function ret_none() return end
assert(select("#", ret_none()) == 0, "empty return")
local function ret_nil() return nil end
assert(select("#", ret_nil()) == 1, "return nil is one value")
local function no_return() end
assert(select("#", no_return()) == 0, "falling off the end returns nothing")

-- multiple results as arguments
local function args(...) return select("#", ...) end
assert(args(three()) == 3, "expanded as last argument")
assert(args(three(), 1) == 2, "truncated as non-last argument")
assert(args(three(), three()) == 4, "1 + 3")
assert(args((three())) == 1, "parenthesised argument")
assert(args(none()) == 0, "no values")
assert(args(none(), none()) == 1, "nil + nothing")

-- in table constructors
local tt = {three(), three()}
assert(#tt == 4, "constructor")
tt = {three(), x = 1}
assert(#tt == 1, "call followed by a field is truncated")
tt = {[1] = "a", three()}
assert(tt[1] == 1, "positional overrides the explicit [1] set earlier")

-- string methods returning several values
local x1, x2 = ("hello"):find("l")
assert(x1 == 3 and x2 == 3, "find returns two values")
local m1, m2 = ("key=value"):match("(%w+)=(%w+)")
assert(m1 == "key" and m2 == "value", "match captures")

-- return in the middle of a block requires do...end
local function early(v)
  do return v * 2 end
end
assert(early(4) == 8, "do return end")

-- long chains of assignment targets
local p, q, r, s1, t1, u1, v1, w1 = 1, 2, 3, 4, 5, 6, 7, 8
assert(p + q + r + s1 + t1 + u1 + v1 + w1 == 36, "eight targets")

-- nested tables
local n = {a = {b = {c = 1}}}
n.a.b.c, n.a.b.d = n.a.b.c + 1, "d"
assert(n.a.b.c == 2 and n.a.b.d == "d", "nested assignment")

-- assignment through __newindex happens for each target
local log = {}
local proxy = setmetatable({}, {__newindex = function(_, k, v) log[#log + 1] = k .. "=" .. tostring(v) end})
proxy.a, proxy.b = 1, 2
table.sort(log)
assert(table.concat(log, ",") == "a=1,b=2", "both __newindex calls happen: " .. table.concat(log, ","))

-- globals in multiple assignment
g1, g2 = "x", "y"
assert(g1 == "x" and g2 == "y", "global multiple assignment")
g1, g2 = nil
assert(g1 == nil and g2 == nil, "clear globals")

-- compound expression statements are not allowed
assert(not loadstring("1 + 1"), "expression statement is a syntax error")
assert(not loadstring("x"), "bare name is a syntax error")
assert(not loadstring("(f)"), "parenthesised name is a syntax error")
assert(loadstring("(f)()"), "parenthesised call is fine")
assert(not loadstring("a, b() = 1, 2"), "cannot assign to a call")
assert(not loadstring("(a) = 1"), "cannot assign to a parenthesised name")
print("ok")
