-- closures: creating closures, reading and writing upvalues (open and closed),
-- upvalues shared between closures, higher-order functions (map/filter/reduce,
-- composition), and vararg helpers.
local n = tonumber(arg and arg[1]) or 2000000

local select = select

local function counter(start)
  local c = start
  return function(step) c = c + step; return c end,
         function() return c end
end

local function compose(f, g) return function(x) return f(g(x)) end end
local function adder(k) return function(x) return x + k end end
local function scaler(k) return function(x) return (x * k) % 1000003 end end

local function map(t, f) local r = {} for i = 1, #t do r[i] = f(t[i]) end return r end
local function filter(t, p) local r = {} for i = 1, #t do if p(t[i]) then r[#r + 1] = t[i] end end return r end
local function reduce(t, f, acc) for i = 1, #t do acc = f(acc, t[i]) end return acc end

local function sum_varargs(...)
  local s = 0
  for i = 1, select("#", ...) do s = s + (select(i, ...)) end
  return s
end

local check = 0

-- 1. many short-lived closures, each with its own upvalue
for i = 1, n do
  local inc, get = counter(i)
  inc(1); inc(2)
  check = (check + get()) % 1000003
end

-- 2. a long-lived closure updating a shared upvalue in a loop
do
  local inc, get = counter(0)
  for i = 1, n * 3 do inc(i % 5) end
  check = (check + get()) % 1000003
end

-- 3. composition chains
do
  local f = compose(scaler(3), compose(adder(7), compose(scaler(5), adder(1))))
  local s = 0
  for i = 1, n do s = (s + f(i)) % 1000003 end
  check = (check + s) % 1000003
end

-- 4. map/filter/reduce with fresh anonymous functions each round
do
  local base = {}
  for i = 1, 1000 do base[i] = i end
  for round = 1, math.floor(n / 3000) do
    local m = map(base, function(x) return x * round % 97 end)
    local f = filter(m, function(x) return x % 2 == 0 end)
    local r = reduce(f, function(a, b) return a + b end, round)
    check = (check + r) % 1000003
  end
end

-- 5. closures created in a loop capture a fresh loop variable each iteration
do
  local fs = {}
  for i = 1, 1000 do fs[i] = function() return i end end
  local s = 0
  for rep = 1, math.floor(n / 1000) do
    for i = 1, #fs do s = s + fs[i]() end
  end
  check = (check + s) % 1000003
end

-- 6. varargs through closures
do
  local s = 0
  for i = 1, math.floor(n / 2) do
    s = (s + sum_varargs(i, 1, 2, 3)) % 1000003
  end
  check = (check + s) % 1000003
end

print(string.format("checksum: %d", check))
