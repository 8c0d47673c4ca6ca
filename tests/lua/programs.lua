-- Small complete programs; output compared against programs.expected.

-- 1. sieve of Eratosthenes
local function sieve(n)
  local is = {}
  for i = 2, n do is[i] = true end
  for i = 2, math.floor(math.sqrt(n)) do
    if is[i] then for j = i * i, n, i do is[j] = false end end
  end
  local out = {}
  for i = 2, n do if is[i] then out[#out + 1] = i end end
  return out
end
local primes = sieve(100)
print("primes:", #primes, table.concat(primes, " "))
print("primes below 100000:", #sieve(100000))

-- 2. n-queens
local function queens(n)
  local count, cols, d1, d2 = 0, {}, {}, {}
  local first
  local placement = {}
  local function place(r)
    if r > n then
      count = count + 1
      if not first then first = table.concat(placement, ",") end
      return
    end
    for c = 1, n do
      if not cols[c] and not d1[r + c] and not d2[r - c + n] then
        cols[c], d1[r + c], d2[r - c + n] = true, true, true
        placement[r] = c
        place(r + 1)
        cols[c], d1[r + c], d2[r - c + n] = nil, nil, nil
      end
    end
  end
  place(1)
  return count, first
end
for n = 4, 8 do print("queens", n, queens(n)) end

-- 3. serializer with sorted keys
local function serialize(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "string" then return string.format("%q", v)
  elseif t == "number" or t == "boolean" or t == "nil" then return tostring(v)
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    local parts = {}
    for _, k in ipairs(keys) do
      local ks = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or "[" .. serialize(k) .. "]"
      parts[#parts + 1] = indent .. "  " .. ks .. " = " .. serialize(v[k], indent .. "  ")
    end
    return "{\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "}"
  end
  return "<" .. t .. ">"
end
print(serialize({1, 2.5, "three", name = "x", nested = {ok = true, list = {3, 2, 1}}, ["with space"] = -0.125}))

-- 4. binary trees
local function make(d)
  if d == 0 then return {} end
  return {make(d - 1), make(d - 1)}
end
local function check(t)
  if not t[1] then return 1 end
  return 1 + check(t[1]) + check(t[2])
end
for d = 4, 12, 4 do print("tree depth", d, "nodes", check(make(d))) end

-- 5. word frequencies
local text = [[the quick brown fox jumps over the lazy dog the fox
is quick and the dog is lazy]]
local freq = {}
for w in text:gmatch("%a+") do freq[w] = (freq[w] or 0) + 1 end
local words = {}
for w, c in pairs(freq) do words[#words + 1] = {w = w, c = c} end
table.sort(words, function(a, b) if a.c ~= b.c then return a.c > b.c end return a.w < b.w end)
for i = 1, 5 do io.write(words[i].w, "=", words[i].c, i < 5 and " " or "\n") end

-- 6. matrix multiplication
local function matmul(a, b)
  local n, m, p = #a, #b, #b[1]
  local c = {}
  for i = 1, n do
    c[i] = {}
    for j = 1, p do
      local s = 0
      for k = 1, m do s = s + a[i][k] * b[k][j] end
      c[i][j] = s
    end
  end
  return c
end
local A = {{1, 2}, {3, 4}, {5, 6}}
local B = {{7, 8, 9}, {10, 11, 12}}
for _, row in ipairs(matmul(A, B)) do print(table.concat(row, " ")) end

-- 7. string manipulation: caesar cipher and run-length encoding
local function caesar(s, k)
  return (s:gsub("%a", function(ch)
    local base = ch:match("%l") and 97 or 65
    return string.char((ch:byte() - base + k) % 26 + base)
  end))
end
print(caesar("Hello, World!", 3), caesar(caesar("Hello, World!", 3), -3))
local function rle(s)
  local out = {}
  local i = 1
  while i <= #s do
    local ch = s:sub(i, i)
    local j = i
    while s:sub(j + 1, j + 1) == ch do j = j + 1 end
    out[#out + 1] = (j - i + 1) .. ch
    i = j + 1
  end
  return table.concat(out)
end
print(rle("aaabccddddde"))

-- 8. closures-based memoization and big numbers
local function memoize(f)
  local cache = {}
  return function(n)
    local v = cache[n]
    if v == nil then v = f(n); cache[n] = v end
    return v
  end
end
local fib
fib = memoize(function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end)
print("fib", fib(30), fib(70), fib(80))

-- 9. collatz
local best, bestn = 0, 0
for n = 1, 10000 do
  local steps, m = 0, n
  while m ~= 1 do
    if m % 2 == 0 then m = m / 2 else m = 3 * m + 1 end
    steps = steps + 1
  end
  if steps > best then best, bestn = steps, n end
end
print("collatz", bestn, best)

-- 10. mandelbrot in ASCII
for y = -1, 1, 0.25 do
  local line = {}
  for x = -2, 0.5, 0.125 do
    local zr, zi, i = 0, 0, 0
    while i < 50 and zr * zr + zi * zi < 4 do
      zr, zi = zr * zr - zi * zi + x, 2 * zr * zi + y
      i = i + 1
    end
    line[#line + 1] = i == 50 and "#" or (i > 5 and "+" or ".")
  end
  print(table.concat(line))
end

-- 11. string.format table
for i, v in ipairs({0.5, 12.25, -3, 1e10}) do
  print(string.format("%2d | %10.3f | %-12g | %e", i, v, v, v))
end
