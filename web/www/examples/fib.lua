-- Fibonacci three ways: naive recursion, memoisation and iteration.

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local memo = {}
local function mfib(n)
  if n < 2 then return n end
  local v = memo[n]
  if not v then
    v = mfib(n - 1) + mfib(n - 2)
    memo[n] = v
  end
  return v
end

local function ifib(n)
  local a, b = 0, 1
  for _ = 1, n do a, b = b, a + b end
  return a
end

print("fib(27) =", fib(27))
print("mfib(80) =", string.format("%.0f", mfib(80)))
print("ifib(80) =", string.format("%.0f", ifib(80)))

local row = {}
for i = 0, 15 do row[#row + 1] = fib(i) end
print(table.concat(row, " "))
