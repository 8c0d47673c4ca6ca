-- Numeric for loops.

local function collect(a, b, c)
  local r = {}
  if c then for i = a, b, c do r[#r + 1] = i end
  else for i = a, b do r[#r + 1] = i end end
  return table.concat(r, ",")
end

assert(collect(1, 5) == "1,2,3,4,5", "basic")
assert(collect(1, 1) == "1", "single")
assert(collect(1, 0) == "", "empty")
assert(collect(5, 1, -1) == "5,4,3,2,1", "negative step")
assert(collect(5, 1) == "", "no implicit negative step")
assert(collect(1, 10, 3) == "1,4,7,10", "step 3 hits the limit")
assert(collect(1, 9, 3) == "1,4,7", "step 3 stops before the limit")
assert(collect(0, 1, 0.25) == "0,0.25,0.5,0.75,1", "float step")
assert(collect(1, 0, -0.5) == "1,0.5,0", "negative float step")
assert(collect(0.5, 3) == "0.5,1.5,2.5", "float start")
assert(collect(1, 3.5) == "1,2,3", "float limit")
assert(collect(-3, -1) == "-3,-2,-1", "negative range")
assert(collect("1", "3") == "1,2,3", "numeric strings are coerced")
assert(collect(1, 2, "1") == "1,2", "string step")

-- float accumulation: 0.1 step, 10 iterations expected (with rounding the 11th may be missed)
local n = 0
for x = 0, 1, 0.1 do n = n + 1 end
assert(n == 10 or n == 11, "0.1 step count")
n = 0
for x = 1, 0, -0.125 do n = n + 1 end
assert(n == 9, "exact negative float step")

-- the expressions are evaluated once
local evals = 0
local function lim() evals = evals + 1; return 3 end
for i = 1, lim() do end
assert(evals == 1, "limit evaluated once")

-- modifying the loop variable does not change iteration
local iters = 0
for i = 1, 5 do
  i = i * 100
  iters = iters + 1
end
assert(iters == 5, "assigning to the loop variable does not affect the loop")

-- the loop variable is local to the loop
local i = "outer"
for i = 1, 2 do end
assert(i == "outer", "loop variable does not leak")

-- zero step: LuaJIT loops forever if start <= limit, so only test the non-entering case
n = 0
for x = 2, 1, 0 do n = n + 1; break end
assert(n == 0, "zero step with start > limit does not run")
n = 0
for x = 1, 2, 0 do n = n + 1; if n == 10 then break end end
assert(n == 10, "zero step with start <= limit runs until break")

-- infinite bounds
n = 0
for x = 1, math.huge do n = n + 1; if n == 100 then break end end
assert(n == 100, "up to infinity")
n = 0
for x = -math.huge, 0 do n = n + 1; break end
assert(n == 1, "from -inf")
n = 0
for x = 1, 0 / 0 do n = n + 1 end
assert(n == 0, "nan limit never runs")

-- large bounds
local last
for x = 2 ^ 53 - 3, 2 ^ 53 - 1 do last = x end
assert(last == 2 ^ 53 - 1, "large bounds")
n = 0
for x = 4294967290, 4294967300 do n = n + 1 end
assert(n == 11, "crossing 2^32")
n = 0
for x = -2147483650, -2147483640 do n = n + 1 end
assert(n == 11, "crossing -2^31")

-- bad types
local ok, err = pcall(function() for x = 1, "a" do end end)
assert(not ok and err:find("'for' limit must be a number", 1, true), tostring(err))
ok, err = pcall(function() for x = nil, 2 do end end)
assert(not ok and err:find("'for' initial value must be a number", 1, true), tostring(err))
ok, err = pcall(function() for x = 1, 2, {} do end end)
assert(not ok and err:find("'for' step must be a number", 1, true), tostring(err))

-- nested loops and break only exits the inner loop
local pairs_found = 0
for a = 1, 10 do
  for b = 1, 10 do
    if b > a then break end
    pairs_found = pairs_found + 1
  end
end
assert(pairs_found == 55, "nested with break")

-- hot loop: sum of squares
local s = 0
for k = 1, 100000 do s = s + k * k end
assert(s == 333338333350000, "sum of squares")
local s2 = 0
for k = 100000, 1, -1 do s2 = s2 + k end
assert(s2 == 5000050000, "descending hot loop")
local s3 = 0
for k = 0.5, 1000, 0.5 do s3 = s3 + k end
assert(s3 == 1000500, "float hot loop")

-- closures over the loop variable each get their own copy
local fns = {}
for k = 1, 3 do fns[k] = function() return k end end
assert(fns[1]() + fns[2]() + fns[3]() == 6, "fresh loop variable")
print("ok")
