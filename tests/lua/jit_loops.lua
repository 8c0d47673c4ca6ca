-- Loops the trace JIT compiles (numeric for, while, repeat) at their edges: NaN, -0,
-- 2^31 and 2^53, % of negatives, infinities, types and branches that change while
-- a compiled loop runs, errors thrown from inside one. Run with every loop compiled
-- (-Ohotloop=1) and with forced exits, the output must be the interpreter's.
local function show(...) print(...) end

-- numeric edges through arithmetic in a loop
local vals = { 0, -0, 1, -1, 0.5, -0.5, 2^31 - 1, 2^31, -2^31, 2^53, 2^53 + 1, -2^53, 1/0, -1/0, 0/0, 1e308, 5e-324 }
for i = 1, #vals do
  local x = vals[i]
  local a, s, m, d, md, n = 0, 0, 0, 0, 0, 0
  for k = 1, 4 do
    a = x + k
    s = k - x
    m = x * k
    d = x / k
    md = x % 3
    n = -x
  end
  show(i, a, s, m, d, md, n, 1 / n)
end

-- division and % by powers of two (compiled as multiplications: must be exact)
for i = 1, #vals do
  local x = vals[i]
  local h, q, m2, mq, d8 = 0, 0, 0, 0, 0
  for k = 1, 3 do
    h = x / 2
    q = x / 0.25
    m2 = x % 2
    mq = x % 0.5
    d8 = x / 2^-1000
  end
  show(i, h, q, m2, mq, d8)
end

-- % with negative operands, zero and infinite divisors
for _, b in ipairs({ 3, -3, 0.75, -0.75, 0, 1/0, -1/0 }) do
  local r = {}
  for a = -5, 5 do r[#r + 1] = a % b end
  show(b, table.concat(r, " "))
end

-- -0 as a loop value and step results
local z = -0
for i = 1, 3 do z = z * 1 end
show(z, 1 / z)
local negz = 0
for i = 1, 5 do negz = -negz end
show(1 / negz)

-- NaN comparisons in branches (every ordering false, ~= true)
local nan = 0 / 0
local lt, le, gt, ge, eq, ne = 0, 0, 0, 0, 0, 0
for i = 1, 20 do
  local x = (i % 2 == 0) and nan or i
  if x < 10 then lt = lt + 1 end
  if x <= 10 then le = le + 1 end
  if x > 10 then gt = gt + 1 end
  if x >= 10 then ge = ge + 1 end
  if x == x then eq = eq + 1 end
  if x ~= x then ne = ne + 1 end
  if not (x < 10) then lt = lt + 100 end
end
show(lt, le, gt, ge, eq, ne)

-- loops with float steps, negative steps, and a limit crossing 2^31
local c = 0
for i = 2^31 - 5, 2^31 + 5 do c = c + i end
show(c)
c = 0
for i = 10, 1, -0.5 do c = c + i end
show(c)
c = 0
for i = 1, 0 do c = c + 1 end
show(c)
c = 0
for i = 0.1, 1, 0.1 do c = c + 1 end
show(c)

-- types that change while the loop runs
local t = { 1, 2, 3, "4", 5, true, 7 }
local sum, bad = 0, 0
for i = 1, #t do
  local v = t[i]
  local ok = pcall(function() sum = sum + v end)
  if not ok then bad = bad + 1 end
end
show(sum, bad)
local acc = 0
local x = 1
for i = 1, 100 do
  if i == 50 then x = "2" end
  acc = acc + x
end
show(acc)
local flag = false
local cnt = 0
for i = 1, 60 do
  if i > 30 then flag = i end
  if flag then cnt = cnt + 1 end
end
show(cnt)

-- a metatable set while a loop runs (arithmetic on a table then uses it)
local obj = 0
local mt = { __add = function(a, b) return 1000 end }
local got = {}
for i = 1, 40 do
  if i == 20 then obj = setmetatable({}, mt) end
  local ok, r = pcall(function() return obj + i end)
  got[#got + 1] = ok and r or "err"
end
show(got[1], got[19], got[20], got[40])

-- errors thrown from inside a compiled loop
local function boom(n)
  local s = 0
  for i = 1, n do
    s = s + i
    if i == 77 then error("stop at " .. i .. " with " .. s) end
  end
  return s
end
show(pcall(boom, 100))
show(pcall(boom, 50))

-- while and repeat loops, nested loops, early exits
local steps, v = 0, 27
while v ~= 1 do
  if v % 2 == 0 then v = v / 2 else v = 3 * v + 1 end
  steps = steps + 1
end
show(steps)
local r, k = 0, 0
repeat
  k = k + 1
  r = r + k * 0.5
until r > 1000
show(k, r)
local total = 0
for i = 1, 30 do
  for j = 1, i do
    if j > 20 then break end
    total = total + j
  end
end
show(total)

-- a loop in a coroutine, resumed and yielded around it
local co = coroutine.wrap(function()
  local s = 0
  for i = 1, 100 do
    s = s + i
    if i % 25 == 0 then coroutine.yield(s) end
  end
  return -1
end)
show(co(), co(), co(), co(), co())

-- string equality and booleans in a compiled loop
local words = { "a", "b", "a", "c", "a" }
local na = 0
for rep = 1, 20 do
  for i = 1, #words do
    local w = words[i]
    if w == "a" then na = na + 1 end
  end
end
show(na)
local b = true
local flips = 0
for i = 1, 99 do
  b = not b
  if b then flips = flips + 1 end
end
show(flips, b)
print("ok")
