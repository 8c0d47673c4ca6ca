-- math builtins compiled inside traces: every special value gives the
-- interpreter's result (NaN, infinities, signed zeros, ties, extra arguments).
local sqrt, abs, floor, ceil, min, max = math.sqrt, math.abs, math.floor, math.ceil, math.min, math.max
local vals = {0, -0.0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, 1e308, -1e308, 1/0, -1/0, 0/0, 4, 2^53 + 1, -2^52 - 0.5}
local n = #vals

local function show(x)
  if x ~= x then return "nan" end
  if x == 0 then return 1 / x > 0 and "0" or "-0" end
  return string.format("%.17g", x)
end

local out = {}
for rep = 1, 3 do
  local acc = {}
  for i = 1, n do
    local x = vals[i]
    local y = vals[n + 1 - i]
    acc[i] = show(sqrt(x)) .. " " .. show(abs(x)) .. " " .. show(floor(x)) .. " " .. show(ceil(x))
      .. " " .. show(min(x, y)) .. " " .. show(max(x, y)) .. " " .. show(min(y, x, 1)) .. " " .. show(max(x, y, -1))
  end
  out[rep] = table.concat(acc, "\n")
end
assert(out[1] == out[2] and out[2] == out[3])
print(out[1])

-- The same operations in a numeric loop (compiled without string work).
local s = 0
for i = 1, 300 do
  local x = (i - 150) / 7
  s = s + sqrt(abs(x)) + floor(x) - ceil(x) + min(x, 1, i) - max(x, -x)
end
print(show(s))

-- A builtin replaced under the loop's feet: the guard on the function sends it
-- to the interpreter.
local f = math.floor
local t = 0
for i = 1, 100 do
  if i == 50 then f = math.ceil end
  t = t + f(i / 3)
end
print(t)

-- Calls that discard or pad their results.
local a, b, c
for i = 1, 50 do
  a, b, c = sqrt(i)
  abs(-i)
end
print(show(a), b, c)
