-- loops: numeric for/while/repeat loops, integer-valued and floating-point arithmetic,
-- comparisons and branches, with no calls or allocation in the hot paths.
local n = tonumber(arg and arg[1]) or 10000000

-- 1. integer-valued arithmetic with % and branches (kept far below 2^53)
local s = 0
for i = 1, n do
  local x = i % 7
  if x < 3 then
    s = s + x * 3
  elseif x == 4 then
    s = s - 1
  else
    s = s + (i % 11)
  end
end

-- 2. floating-point accumulation (Basel series and an alternating series)
local basel, leibniz = 0.0, 0.0
local sign = 1.0
for k = 1, n do
  basel = basel + 1.0 / (k * k)
  leibniz = leibniz + sign / (2 * k - 1)
  sign = -sign
end

-- 3. while loop: Collatz step counts for a range of starting values
local steps = 0
local start = 1
local limit = math.floor(n / 60)
while start <= limit do
  local v = start
  while v ~= 1 do
    if v % 2 == 0 then v = v / 2 else v = 3 * v + 1 end
    steps = steps + 1
  end
  start = start + 1
end

-- 4. repeat loop with a float step and a nested for loop
local acc = 0.0
local t = 0.0
repeat
  for j = 1, 10 do
    acc = acc + t * j
  end
  t = t + 0.25
until t >= n / 200

-- 5. reverse loop with a non-unit step
local r = 0
for i = n, 1, -3 do
  r = (r + i) % 1000003
end

print(string.format("sum=%d collatz=%d reverse=%d", s, steps, r))
print(string.format("basel=%.10f leibniz=%.10f acc=%.3f", basel, leibniz, acc))
print(string.format("checksum: %d %d %d %.10f %.10f %.3f", s, steps, r, basel, leibniz, acc))
