-- 64-bit integers: literals, arithmetic, comparisons, conversions, bit ops, format.
local ffi = require("ffi")

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

-- Literals: LL, ULL (either order, any case), hex, imaginary numbers.
assert(tostring(0ll) == "0LL" and tostring(0ULl) == "0ULL")
assert(tostring(18446744073709551615llu) == "18446744073709551615ULL")
assert(tostring(0x7fffffffffffffffll) == "9223372036854775807LL")
assert(tostring(0x8000000000000000ull) == "9223372036854775808ULL")
assert(tostring(-1ull) == "18446744073709551615ULL")   -- folded at compile time
assert(tostring(-0x8000000000000000ll) == "-9223372036854775808LL")
assert(tostring(9223372036854775808LL) == "-9223372036854775808LL")  -- wraps like C
assert(tostring(2i) == "0+2i" and tostring(-2i) == "0-2i" and tostring(0.5i) == "0+0.5i")
assert(type(1LL) == "cdata" and ffi.istype("int64_t", 1LL) and ffi.istype("uint64_t", 1ULL))
assert(ffi.istype("complex", 1i))
assert(tonumber("1LL") == nil and tonumber("1i") == nil)   -- not in tonumber

-- Arithmetic wraps around; the result is int64_t unless an operand is uint64_t.
local max, min = 0x7fffffffffffffffLL, -0x8000000000000000LL
assert(max + 1 == min and min - 1 == max)
assert(max * 2 == -2LL)
assert(-min == min)
assert(tostring(1ULL - 2) == "18446744073709551615ULL")
assert(tostring(1LL - 2ULL) == "18446744073709551615ULL")
assert(ffi.istype("int64_t", 1LL + 1) and ffi.istype("uint64_t", 1LL + 1ULL))
assert(2LL ^ 10 == 1024 and 2LL ^ 63 == min and 2LL ^ 64 == 0 and 3LL ^ -1 == 0 and 1LL ^ -5 == 1)
assert((-1LL) ^ -3 == -1 and (-1LL) ^ -2 == 1 and 0LL ^ -1 == max)

-- Division and modulo truncate (C semantics); by zero they give the minimum.
assert(7LL / 2 == 3 and -7LL / 2 == -3 and 7LL / -2 == -3)
assert(7LL % 3 == 1 and -7LL % 3 == -1 and 7LL % -3 == 1)
assert(5LL / 0 == min and 5LL % 0 == min and min / -1 == min and min % -1 == 0)
assert(tostring(5ULL / 0) == "9223372036854775808ULL" and tostring(7ULL % 0) == "9223372036854775808ULL")
assert(tostring(0xffffffffffffffffULL / 2) == "9223372036854775807ULL")

-- Mixing with Lua numbers: the number converts (truncating) to a 64-bit integer.
assert(10LL + 2.9 == 12 and 10LL * 0.5 == 0)
assert(tostring(math.huge + 1LL) == "-9223372036854775807LL")
assert(tostring(2^53 + 1LL) == "9007199254740993LL")
assert(tostring(-1 + 0ULL) == "9223372036854775808ULL")   -- x86-64 LuaJIT: a negative double to uint64_t

-- Comparisons: signed unless an operand is uint64_t; with numbers too.
assert(1LL < 2 and 2 > 1LL and 1LL <= 1 and -1LL < 0)
assert(not (-1LL < 0ULL))          -- -1 becomes 2^64-1
assert(0ULL < 0xffffffffffffffffULL)
assert(1LL == 1 and 1 == 1LL and 1LL == 1ULL and 1LL ~= 2)
assert(1LL ~= nil and 1LL ~= "1" and 1LL ~= true)
local t = {}
t[1LL] = "a"                        -- cdata keys are objects, not numbers
assert(t[1] == nil and t[1LL] == nil)

-- Conversions to Lua numbers and strings.
assert(tonumber(max) == 2^63 and tonumber(-1ULL) == 2^64)
assert(tostring(ffi.new("int64_t", 2^63)) == "-9223372036854775808LL")
assert(tostring(ffi.new("uint64_t", 2^63)) == "9223372036854775808ULL")
assert(tostring(ffi.new("uint64_t", 2^64 + 4096)) == "4096ULL")
assert(tostring(ffi.new("int64_t", -2.9)) == "-2LL")
assert(ffi.new("int32_t", 2^31 + 5) + 0 == -2^31)      -- out of range: 0x80000000
assert(ffi.new("uint32_t", 2^32 + 5) + 0 == 5)          -- via 64 bits, wraps
assert(ffi.new("uint8_t", -1) + 0 == 255 and ffi.new("int8_t", 255) + 0 == -1)

-- Errors name the C types.
assert(errmsg(function() return "10" + 1LL end):find("attempt to perform arithmetic on 'string' and 'int64_t'"))
assert(errmsg(function() return 1LL + {} end):find("attempt to perform arithmetic on 'int64_t' and 'table'"))
assert(errmsg(function() return 1LL .. "" end):find("attempt to concatenate 'int64_t' and 'string'"))
assert(errmsg(function() return #1LL end):find("attempt to get length of 'int64_t'"))
assert(errmsg(function() return 1LL < "x" end):find("attempt to compare 'int64_t' with 'string'"))

-- bit.*: 64-bit operations when an operand is a cdata (int64_t unless uint64_t).
assert(bit.band(1LL, 3) == 1LL and ffi.istype("int64_t", bit.band(1LL, 3)))
assert(ffi.istype("uint64_t", bit.bor(1ULL, 2LL)))
assert(bit.lshift(1LL, 40) == 2LL ^ 40 and bit.lshift(1LL, 64) == 1 and bit.lshift(1LL, 63) == min)
assert(bit.rshift(-1LL, 60) == 15 and bit.arshift(-16LL, 2) == -4)
assert(bit.rol(1LL, 65) == 2 and bit.ror(1LL, 1) == min)
assert(bit.bnot(0LL) == -1 and bit.bswap(0x0102030405060708LL) == 0x0807060504030201LL)
assert(bit.bxor(0xffLL, 0x0f) == 0xf0)
assert(bit.tobit(0x100000001LL) == 1 and type(bit.tobit(1LL)) == "number")
assert(bit.tohex(255LL) == "00000000000000ff" and bit.tohex(-1LL, 4) == "ffff" and bit.tohex(255LL, -4) == "00FF")
assert(bit.band(0xffffffffff, 0xff) == 255)            -- plain numbers: 32 bits
assert(bit.lshift(1, 40LL) == 256)                      -- a cdata count: still 32 bits

-- string.format with 64-bit integers.
assert(string.format("%d", 1LL) == "1" and string.format("%d", -3LL) == "-3")
assert(string.format("%x", 255ULL) == "ff" and string.format("%X", -1LL) == "FFFFFFFFFFFFFFFF")
assert(string.format("%5d|%-4d|", 7LL, 8LL) == "    7|8   |")
assert(string.format("%u", -1LL) == "18446744073709551615")
assert(string.format("%s", 1LL) == "1LL")
assert(errmsg(string.format, "%f", 1LL):find("number expected, got cdata"))

-- Complex numbers: parts, conversions (no arithmetic, as in LuaJIT).
local z = ffi.new("complex", 1.5, -2)
assert(z.re == 1.5 and z.im == -2 and z[0] == 1.5 and z[1] == -2)
assert(tostring(ffi.new("complex float", 3)) == "3+0i")
assert(tostring(ffi.new("complex", 0, 1/0)) == "0+infI")
assert(errmsg(function() z.re = 1 end):find("attempt to write to constant location"))
assert(errmsg(function() return z + 1 end):find("attempt to perform arithmetic on 'complex' and 'number'"))
print("ok")
