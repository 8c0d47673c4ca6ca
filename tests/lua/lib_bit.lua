-- The bit library (LuaJIT BitOp): 32-bit semantics for every input.

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

-- tobit: low 32 bits of x + 2^52 + 2^51 (round to nearest even, wrap modulo 2^32)
local cases = {
  {2^32 + 5, 5}, {-1, -1}, {2^31, -2147483648}, {2^31 - 1, 2147483647}, {-2^31 - 1, 2147483647},
  {0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {0.49999999999999994, 0}, {3.7, 4},
  {0 / 0, 0}, {1 / 0, 0}, {-1 / 0, 0}, {2^52, 0}, {2^53 + 2, 1}, {2^60 + 2^40 + 7, 0},
  {-2^63, 0}, {1e300, -2013235812}, {"0x10", 16}, {"  12  ", 12}, {0xffffffff, -1},
}
for i, c in ipairs(cases) do
  assert(bit.tobit(c[1]) == c[2], "tobit case " .. i .. ": got " .. bit.tobit(c[1]))
end
assert(1 / bit.tobit(-0.0) > 0, "tobit(-0) is +0")

-- tohex
assert(bit.tohex(1) == "00000001" and bit.tohex(-1) == "ffffffff", "tohex default width")
assert(bit.tohex(255, 2) == "ff" and bit.tohex(255, -2) == "FF", "tohex width and case")
assert(bit.tohex(0x12345678, 0) == "", "tohex zero width")
assert(bit.tohex(-1, 10) == "00ffffffff" and bit.tohex(-1, -10) == "00FFFFFFFF", "tohex wide")
assert(#bit.tohex(1, 300) == 254 and #bit.tohex(1, -2^31) == 254, "tohex width is capped at 254")
assert(bit.tohex(0xabcdef, 3) == "def" and bit.tohex(0xabcdef, -3) == "DEF", "tohex keeps low digits")
assert(bit.tohex(2^32 + 10) == "0000000a", "tohex wraps")
assert(bit.tohex(1, 2.7) == "001" and bit.tohex(1, 2^32 + 3) == "001", "tohex width is a bit value")
assert(bit.tohex(0, 0) == "" and bit.tohex(0) == "00000000", "tohex of zero")

-- bnot / band / bor / bxor, with any number of arguments
assert(bit.bnot(0) == -1 and bit.bnot(-1) == 0 and bit.bnot(2^32) == -1, "bnot")
assert(bit.band(0xff, 0x0f) == 15 and bit.band(-1) == -1, "band")
assert(bit.bor(1, 2, 4, 8) == 15 and bit.bxor(1, 3, 7) == 5, "bor / bxor with many arguments")
assert(bit.band(0xffffffff, 2^33 - 1) == -1, "band of wrapped values")
assert(bit.band("7", "3") == 3, "numeric strings")
assert(bit.bor(1) == 1 and bit.bxor(5) == 5, "one argument")

-- shifts and rotates: the count uses its low 5 bits
assert(bit.lshift(1, 31) == -2147483648 and bit.lshift(1, 32) == 1 and bit.lshift(1, 33) == 2, "lshift")
assert(bit.lshift(1, -1) == -2147483648, "lshift by -1 is by 31")
assert(bit.rshift(-1, 28) == 15 and bit.rshift(-1, 0) == -1 and bit.rshift(-1, 32) == -1, "rshift")
assert(bit.arshift(-256, 4) == -16 and bit.arshift(-1, 31) == -1 and bit.arshift(2^31, 1) == -1073741824, "arshift")
assert(bit.rol(0x12345678, 8) == 0x34567812 and bit.ror(0x12345678, 8) == 0x78123456, "rol / ror")
assert(bit.rol(1, 32) == 1 and bit.ror(1, -1) == 2, "rotate counts")
assert(bit.lshift(1, 2.5) == 4 and bit.lshift(1, 0 / 0) == 1, "shift count rounding")
assert(bit.lshift("1", "4") == 16, "shift numeric strings")

-- bswap
assert(bit.bswap(0x12345678) == 0x78563412 and bit.bswap(-1) == -1, "bswap")
assert(bit.bswap(0xff) == -16777216 and bit.bswap(2^31) == 128, "bswap sign")

-- errors
assert(err(function() local r = bit.bor() return r end) == "bad argument #1 to 'bor' (number expected, got no value)",
  "bor without arguments")
assert(err(function() local r = bit.band(1, "x") return r end)
  == "bad argument #2 to 'band' (number expected, got string)", "band with a non-numeric string")
assert(err(function() local r = bit.band(1, nil) return r end)
  == "bad argument #2 to 'band' (number expected, got nil)", "band with nil")
assert(err(function() local r = bit.tohex({}) return r end)
  == "bad argument #1 to 'tohex' (number expected, got table)", "tohex of a table")
assert(err(function() local r = bit.tohex(1, {}) return r end)
  == "bad argument #2 to 'tohex' (number expected, got table)", "tohex bad width")
assert(err(function() local r = bit.lshift(1) return r end)
  == "bad argument #2 to 'lshift' (number expected, got no value)", "lshift needs a count")
assert(err(function() local r = bit.tobit() return r end)
  == "bad argument #1 to 'tobit' (number expected, got no value)", "tobit needs a value")
print("ok")
