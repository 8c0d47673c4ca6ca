-- The bit library (LuaJIT BitOp): 32-bit signed results.

local bit = require("bit")
assert(bit == _G.bit, "bit is preloaded and global")
assert(bit.tobit(2 ^ 32 + 5) == 5 and bit.tobit(0xffffffff) == -1 and bit.tobit(2 ^ 31) == -2147483648, "tobit wraps")
assert(bit.tobit(1.5) == 2 and bit.tobit(-1.5) == -2 and bit.tobit(2.5) == 2, "tobit rounds to nearest even")
assert(bit.tohex(255) == "000000ff" and bit.tohex(-1) == "ffffffff", "tohex")
assert(bit.tohex(255, -4) == "00FF" and bit.tohex(0x12345678, 2) == "78", "tohex width and case")
assert(bit.bnot(0) == -1 and bit.bnot(-1) == 0 and bit.bnot(0x0f) == -16, "bnot")
assert(bit.band(0xff, 0x0f, 0x3) == 3 and bit.band(5) == 5, "band is variadic")
assert(bit.bor(1, 2, 4) == 7 and bit.bxor(5, 3) == 6 and bit.bxor(1, 1, 1) == 1, "bor / bxor")
assert(bit.band(0xffffffff, 0xffffffff) == -1, "results are signed")
assert(bit.lshift(1, 31) == -2147483648 and bit.lshift(1, 32) == 1 and bit.lshift(1, -1) == -2147483648, "lshift uses the low 5 bits of the count")
assert(bit.rshift(-1, 28) == 15 and bit.rshift(0x80000000, 33) == 1073741824, "rshift is logical")
assert(bit.arshift(-256, 4) == -16 and bit.arshift(256, 4) == 16, "arshift is arithmetic")
assert(bit.rol(0x12345678, 8) == 0x34567812 and bit.ror(0x12345678, 8) == 0x78123456, "rotations")
assert(bit.bswap(0x12345678) == 0x78563412, "bswap")
assert(bit.band("0xff", "3") == 3, "numeric strings are accepted")
local ok, err = pcall(function() local r = bit.band("x"); return r end)
assert(not ok and err:find("bad argument #1 to 'band' (number expected, got string)", 1, true), tostring(err))
ok = pcall(function() return bit.band() end)
assert(not ok, "band needs an argument")

-- a typical use: a 32-bit hash (FNV-1a) must match exactly
local function fnv1a(s)
  local h = bit.tobit(0x811c9dc5)
  for i = 1, #s do
    h = bit.bxor(h, s:byte(i))
    -- multiply by the FNV prime 16777619 in 32-bit arithmetic
    h = bit.tobit(h * 403 + bit.lshift(h, 24))
  end
  return bit.tohex(h)
end
assert(fnv1a("") == "811c9dc5", "fnv of empty")
assert(fnv1a("a") == "e40c292c", "fnv of a: " .. fnv1a("a"))
assert(fnv1a("foobar") == "bf9cf968", "fnv of foobar: " .. fnv1a("foobar"))

-- bit ops in a hot loop
local x = 0
for i = 1, 100000 do x = bit.bxor(x, bit.lshift(i, i % 32)) end
assert(x == bit.tobit(x), "stays 32-bit")
local popcount = 0
local v = 0x7fffffff
while v ~= 0 do popcount = popcount + bit.band(v, 1); v = bit.rshift(v, 1) end
assert(popcount == 31, "popcount")
local parity = 0
for i = 0, 1023 do parity = bit.bxor(parity, i) end
assert(parity == 0, "xor of 0..1023")
print("ok")
