-- Hash flooding with number keys: 50,000 doubles whose bits all hash to the same
-- node under an unseeded 64-bit mixer (x ^= x >> 33; x *= 0xff51afd7ed558ccd;
-- x ^= x >> 33, whose low 20 bits are zero for every key), so without a seed every
-- insertion probes past all the earlier keys (quadratic: 2.6 s natively, 0.01 s with a seed).
-- expect: ok
-- flags: --sandbox --timeout 1s
local bxor, band, rshift = bit.bxor, bit.band, bit.rshift
local floor, ldexp = math.floor, math.ldexp

-- 64-bit words as four 16-bit limbs, least significant first.
local function limbs(v)
  local r = {}
  for i = 1, 4 do r[i] = v % 65536; v = floor(v / 65536) end
  return r
end
local function xorshift33(x) -- x ^ (x >> 33)
  local r0 = rshift(x[3], 1) + band(x[4], 1) * 32768
  local r1 = rshift(x[4], 1)
  return { bxor(x[1], r0), bxor(x[2], r1), x[3], x[4] }
end
local function mul(x, k) -- x * k mod 2^64
  local r = { 0, 0, 0, 0 }
  for i = 1, 4 do
    for j = 1, 5 - i do r[i + j - 1] = r[i + j - 1] + x[i] * k[j] end
  end
  local c = 0
  for i = 1, 4 do
    local v = r[i] + c
    r[i] = v % 65536
    c = floor(v / 65536)
  end
  return r
end
local function todouble(x) -- the double with these bits (nil for NaN/inf)
  local neg = x[4] >= 32768
  local exp = floor((x[4] % 32768) / 16)
  local mant = (x[4] % 16) * 2^48 + x[3] * 2^32 + x[2] * 2^16 + x[1]
  if exp == 2047 then return nil end
  local v = exp == 0 and ldexp(mant, -1074) or ldexp(mant + 2^52, exp - 1075)
  return neg and -v or v
end
-- The multiplier's inverse mod 2^64 (0x4f74430c22a54005): the mixer run backwards.
local KINV = { 0x4005, 0x22a5, 0x430c, 0x4f74 }

local keys = {}
local i = 0
while #keys < 50000 do
  i = i + 1
  local x = xorshift33(mul(xorshift33(limbs(i * 2^20)), KINV))
  local k = todouble(x)
  if k and k ~= 0 and k ~= floor(k) then keys[#keys + 1] = k end
end

local t = {}
for j, k in ipairs(keys) do t[k] = j end
local n = 0
for j, k in ipairs(keys) do
  assert(t[k] == j)
  n = n + 1
end
assert(n == 50000)
