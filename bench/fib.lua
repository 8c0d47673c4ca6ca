-- fib: recursive function calls (call/return overhead, small integer arithmetic).
local n = tonumber(arg and arg[1]) or 36

local function fib(k)
  if k < 2 then return k end
  return fib(k - 1) + fib(k - 2)
end

-- a second, mutually recursive pair exercises calls through upvalues
local is_even, is_odd
function is_even(k) if k == 0 then return true end return is_odd(k - 1) end
function is_odd(k) if k == 0 then return false end return is_even(k - 1) end

local r = fib(n)
local evens = 0
for i = 1, 2000 do
  if is_even(i % 200) then evens = evens + 1 end
end
print(string.format("fib(%d) = %d", n, r))
print(string.format("checksum: %d %d", r, evens))
