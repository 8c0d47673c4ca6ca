-- Loops whose types, shapes and control flow change while they run.
-- Under a trace JIT these exercise guards, side exits and snapshot restore.

-- type changes of a loop variable's value
local vals = {}
for i = 1, 300 do
  if i % 3 == 0 then vals[i] = "s" .. i elseif i % 3 == 1 then vals[i] = i else vals[i] = i + 0.5 end
end
local nums, strs = 0, 0
for i = 1, #vals do
  local v = vals[i]
  if type(v) == "number" then nums = nums + v else strs = strs + #v end
end
assert(strs == 3 * 2 + 30 * 3 + 67 * 4, "string entries: " .. strs)
local expect_nums = 0
for i = 1, 300 do if i % 3 == 1 then expect_nums = expect_nums + i elseif i % 3 == 2 then expect_nums = expect_nums + i + 0.5 end end
assert(nums == expect_nums, "sum of numeric entries")

-- a value that switches from number to string mid-loop (coercion in arithmetic)
local acc = 0
for i = 1, 200 do
  local v = i < 100 and i or tostring(i)
  acc = acc + v
end
assert(acc == 20100, "number then numeric string")

-- integer overflow of 32-bit narrowed arithmetic must not happen
local x = 2147483600
for i = 1, 100 do x = x + 1 end
assert(x == 2147483700, "past 2^31")
local y = -2147483600
for i = 1, 100 do y = y - 1 end
assert(y == -2147483700, "past -2^31")
local z = 1
for i = 1, 40 do z = z * 3 end
assert(z == 3 ^ 40, "big products stay doubles")
local w = 0
for i = 1, 100 do w = w + 0x7fffffff end
assert(w == 100 * 2147483647, "sum of int32 max")
local negz = 0
for i = 1, 100 do negz = -negz end
assert(1 / negz == math.huge, "sign of zero through a loop")
local mz = 0
for i = 1, 101 do mz = -mz * 1 end
local mz2 = 0 * -1
assert(1 / mz2 == -math.huge, "-0 from multiplication")

-- table shape changes during a loop
local t = {a = 1}
local sum = 0
for i = 1, 500 do
  if i == 250 then t.b = 2; t.c = 3 end
  sum = sum + t.a
end
assert(sum == 500, "hash part grows mid-loop")
local arr = {}
for i = 1, 1000 do arr[i] = i end
sum = 0
for i = 1, 1000 do
  if i == 500 then for j = 1001, 3000 do arr[j] = j end end
  sum = sum + arr[i]
end
assert(sum == 500500, "array reallocated mid-loop")

-- metatable added mid-loop
local obj = {}
local hits = 0
for i = 1, 400 do
  if i == 200 then setmetatable(obj, {__index = function() return 1 end}) end
  hits = hits + (obj.missing or 0)
end
assert(hits == 201, "metatable appears mid-loop")

-- function redefined mid-loop
local function g1(v) return v + 1 end
local function g2(v) return v * 2 end
local fn = g1
local total = 0
for i = 1, 300 do
  if i == 150 then fn = g2 end
  total = total + fn(i)
end
local expect = 0
for i = 1, 149 do expect = expect + i + 1 end
for i = 150, 300 do expect = expect + i * 2 end
assert(total == expect, "call target changes")

-- global redefined mid-loop
GLOBAL_STEP = 1
local gsum = 0
for i = 1, 300 do
  if i == 100 then GLOBAL_STEP = 10 end
  gsum = gsum + GLOBAL_STEP
end
assert(gsum == 99 + 201 * 10, "global changes")
GLOBAL_STEP = nil

-- upvalue changed by a called closure
local counter = 0
local function bump() counter = counter + 2 end
for i = 1, 500 do bump() end
assert(counter == 1000, "upvalue updated in a loop")

-- error thrown from inside a hot loop, caught outside, then the loop runs again
local function risky(limit)
  local s = 0
  for i = 1, 1000 do
    if i == limit then error("stop at " .. i) end
    s = s + i
  end
  return s
end
for round = 1, 5 do
  local ok, e = pcall(risky, 100 * round)
  assert(not ok and e:find("stop at " .. 100 * round, 1, true), "error from a loop, round " .. round)
end
assert(risky(-1) == 500500, "the loop completes when it does not throw")

-- break out of nested hot loops with state restored
local found
for i = 1, 100 do
  for j = 1, 100 do
    if i * j == 2021 then found = i * 1000 + j; break end
  end
  if found then break end
end
assert(found == 43047, "nested break: " .. tostring(found))

-- loop with many live variables (register pressure)
local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10 = 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
local a11, a12, a13, a14, a15, a16 = 0, 0, 0, 0, 0, 0
for i = 1, 1000 do
  a1 = a1 + i; a2 = a2 + a1 % 7; a3 = a3 + a2 % 5; a4 = a4 + i * 2; a5 = a5 + a4 % 3
  a6 = a6 + 1; a7 = a7 + a6; a8 = a8 - i; a9 = a9 + i % 2; a10 = a10 + (i % 3 == 0 and 1 or 0)
  a11 = a11 + 0.5; a12 = a12 + a11; a13 = a13 + a12 % 11; a14 = a14 + a9; a15 = a15 + a10; a16 = a16 + 1
end
assert(a1 == 500500 and a4 == 1001000 and a6 == 1000 and a7 == 500500 and a8 == -500500, "many live values")
assert(a9 == 500 and a10 == 333 and a11 == 500 and a16 == 1000, "many live values 2")

-- while loop whose condition depends on a table lookup
local chain = {}
for i = 1, 999 do chain[i] = i + 1 end
local p, steps = 1, 0
while chain[p] do p = chain[p]; steps = steps + 1 end
assert(p == 1000 and steps == 999, "linked walk")

-- string building in a loop (allocation under traces)
local pieces = {}
for i = 1, 2000 do pieces[#pieces + 1] = string.format("%04d", i) end
local joined = table.concat(pieces)
assert(#joined == 8000 and joined:sub(-4) == "2000", "formatted pieces")
local sb = ""
for i = 1, 500 do sb = sb .. (i % 10) end
assert(#sb == 500 and sb:sub(1, 10) == "1234567890", "repeated concatenation")

-- recursion inside loops
local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
local fs = 0
for i = 1, 20 do fs = fs + fib(i) end
assert(fs == 17710, "recursion called from a loop")

-- varargs in a hot loop
local function count(...) return select("#", ...) end
local cc = 0
for i = 1, 1000 do cc = cc + count(i, nil, i) end
assert(cc == 3000, "varargs in a loop")

-- pcall in a hot loop
local pc = 0
for i = 1, 1000 do
  local ok = pcall(function() if i % 10 == 0 then error("x") end end)
  if ok then pc = pc + 1 end
end
assert(pc == 900, "pcall in a loop")

-- coroutine resumed in a hot loop, yielding from inside its own loop
local gen = coroutine.wrap(function() for i = 1, 2000 do coroutine.yield(i) end end)
local gs = 0
for _ = 1, 2000 do gs = gs + gen() end
assert(gs == 2001000, "yield/resume in loops")

-- numeric for loop with float step accumulating many iterations
local fcount = 0
for v = 0, 100, 0.25 do fcount = fcount + 1 end
assert(fcount == 401, "float stepped loop")

-- comparisons flipping between numbers and strings in the same loop (no coercion)
local lt = 0
for i = 1, 300 do
  local a, b
  if i % 2 == 0 then a, b = i, i + 1 else a, b = tostring(i), tostring(i + 1) end
  if a < b then lt = lt + 1 end
end
-- every numeric pair is ordered; of the string pairs only "9" < "10" and "99" < "100" fail
assert(lt == 298, "mixed compare: " .. lt)
print("ok")
