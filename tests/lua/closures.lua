-- Locals, scoping and upvalues.

-- block scoping and shadowing
local x = 1
do
  local x = 2
  assert(x == 2, "inner shadows")
  do local x = x + 1; assert(x == 3, "initialiser sees the outer x") end
end
assert(x == 1, "outer restored")
local y = 10
local y = y + 1
assert(y == 11, "redeclaration sees the previous local")
local a, b, c = 1
assert(a == 1 and b == nil and c == nil, "missing initialisers are nil")
local d, e = 1, 2, 3
assert(d == 1 and e == 2, "extra values dropped")
local function rec(n) if n == 0 then return "done" end return rec(n - 1) end
assert(rec(5) == "done", "local function is visible in its own body")
local g = function(n) return "old" end
local g = function(n) if n == 0 then return "new" end return g(n - 1) end
assert(g(3) == "old", "local g = function ... refers to the previous g, not itself")

-- globals vs locals
z_global = 5
assert(_G.z_global == 5, "assignment to an undeclared name is global")
local z_global = 6
assert(z_global == 6 and _G.z_global == 5, "local shadows the global")
_G.z_global = nil

-- simple counter closure
local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c1, c2 = counter(), counter()
assert(c1() == 1 and c1() == 2 and c2() == 1 and c1() == 3, "independent counters")

-- closures sharing one upvalue
local function pair()
  local v = 0
  local function get() return v end
  local function set(nv) v = nv end
  return get, set
end
local get, set = pair()
set(42)
assert(get() == 42, "shared upvalue")
local get2, set2 = pair()
set2(7)
assert(get() == 42 and get2() == 7, "separate instances")

-- open upvalue: the closure sees later changes made by the enclosing function
local function open_upvalue()
  local v = 1
  local f = function() return v end
  v = 2
  local r1 = f()
  v = 3
  return r1, f()
end
local r1, r2 = open_upvalue()
assert(r1 == 2 and r2 == 3, "open upvalue sees assignments")

-- upvalue of an upvalue
local function outer()
  local v = "o"
  return function()
    return function() v = v .. "!"; return v end
  end
end
local mid = outer()
local inner1, inner2 = mid(), mid()
assert(inner1() == "o!" and inner2() == "o!!", "nested closures share the same variable")

-- fresh local per loop iteration (numeric for)
local fs = {}
for i = 1, 5 do fs[i] = function() return i end end
for i = 1, 5 do assert(fs[i]() == i, "numeric for: fresh i per iteration " .. i) end

-- fresh local per iteration (generic for)
fs = {}
for k, v in ipairs({"a", "b", "c"}) do fs[k] = function() return k .. v end end
assert(fs[1]() == "1a" and fs[2]() == "2b" and fs[3]() == "3c", "generic for fresh vars")

-- locals declared in a while body are fresh each iteration
fs = {}
local i = 1
while i <= 3 do
  local j = i
  fs[i] = function() j = j + 10; return j end
  i = i + 1
end
assert(fs[1]() == 11 and fs[1]() == 21 and fs[2]() == 12 and fs[3]() == 13, "while body locals are fresh")

-- repeat body locals, closed over, visible in until
fs = {}
local k = 0
repeat
  local kk = k
  fs[#fs + 1] = function() return kk end
  k = k + 1
until kk >= 2
assert(#fs == 3 and fs[1]() == 0 and fs[3]() == 2, "repeat locals")

-- modifying the loop variable copy does not affect iteration
local seen = {}
for i = 1, 3 do
  local f = function() i = i * 10; return i end
  seen[#seen + 1] = f()
end
assert(seen[1] == 10 and seen[2] == 20 and seen[3] == 30, "loop var copy is per-iteration")

-- closure captured in a loop with break
local captured
for i = 1, 10 do
  local v = i * i
  captured = function() return v end
  if i == 4 then break end
end
assert(captured() == 16, "upvalue closed on break")

-- upvalues closed when the block ends via goto / return
local function make_many()
  local list = {}
  for i = 1, 3 do
    local acc = i
    list[i] = {get = function() return acc end, inc = function() acc = acc + 1 end}
  end
  return list
end
local many = make_many()
many[2].inc(); many[2].inc()
assert(many[1].get() == 1 and many[2].get() == 4 and many[3].get() == 3, "each iteration's closures share only their own acc")

-- a closure created before the variable is assigned
local late
local function uses_late() return late end
late = "assigned"
assert(uses_late() == "assigned", "late assignment visible")

-- parameters as upvalues
local function adder(n) return function(m) return n + m end end
assert(adder(3)(4) == 7, "parameter upvalue")
local function mutate_param(p)
  local f = function() p = p + 1 end
  f(); f()
  return p
end
assert(mutate_param(1) == 3, "closure mutates parameter")

-- many upvalues
local u1, u2, u3, u4, u5, u6, u7, u8 = 1, 2, 3, 4, 5, 6, 7, 8
local function sum8() return u1 + u2 + u3 + u4 + u5 + u6 + u7 + u8 end
assert(sum8() == 36, "many upvalues")
u8 = 100
assert(sum8() == 128, "upvalue updated")

-- recursion through an upvalue
local fib
fib = function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
assert(fib(20) == 6765, "fib via upvalue")

-- closures in coroutines keep upvalues alive after the coroutine dies
local co = coroutine.create(function()
  local secret = "s"
  coroutine.yield(function() return secret end)
  secret = "changed"
end)
local _, getter = coroutine.resume(co)
assert(getter() == "s", "upvalue from coroutine stack")
coroutine.resume(co)
assert(coroutine.status(co) == "dead" and getter() == "changed", "closed after coroutine finished")

-- many closures and garbage
local total = 0
for n = 1, 2000 do
  local f = function() return n end
  total = total + f()
end
assert(total == 2001000, "many closures")

-- local function vs local f = function in recursion
local function fact(n) return n <= 1 and 1 or n * fact(n - 1) end
assert(fact(10) == 3628800, "local function recursion")

-- 200 locals in one function are allowed
local src = {"local "}
for n = 1, 199 do src[#src + 1] = "v" .. n .. (n < 199 and "," or "") end
src[#src + 1] = " = 1 return v1"
assert(loadstring(table.concat(src))() == 1, "199 locals")
print("ok")
