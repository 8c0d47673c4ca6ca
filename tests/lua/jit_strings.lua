-- string.byte and string.len inside traces: every position, negative and
-- out-of-range indexes, non-integer indexes, the function replaced mid-loop.
local byte, len = string.byte, string.len
local s = "hello, world"
local out = {}
for rep = 1, 3 do
  local acc = {}
  for i = -15, 15 do
    local b = byte(s, i)
    acc[#acc + 1] = tostring(b)
  end
  out[rep] = table.concat(acc, " ")
end
assert(out[1] == out[2] and out[2] == out[3])
print(out[1])

local sum, n = 0, 0
for i = -14, 14 do
  local b = byte(s, i)
  if b then sum = sum + b else n = n + 1 end
  sum = sum + len(s) + byte(s) + #s
end
print(sum, n)

local h = 0
for i = 1, 200 do h = (h * 31 + byte(s, i % #s + 1)) % 1000003 end
print(h)

local frac = 0
for i = 1, 40 do frac = frac + (byte(s, i / 4) or -1) end
print(frac)

local f, t = byte, 0
for i = 1, 60 do
  if i == 30 then f = function(x, j) return 1 end end
  t = t + f(s, 2)
end
print(t)
