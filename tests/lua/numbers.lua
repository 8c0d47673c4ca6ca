-- Numeric literals, tostring and tonumber.

-- literal forms
assert(0x10 == 16 and 0XfF == 255 and 0xA == 10, "hex literals")
assert(0x7fffffff == 2147483647 and 0xffffffff == 4294967295, "32-bit hex literals")
assert(0x100000000 == 4294967296, "hex literal beyond 32 bits")
assert(1e2 == 100 and 1E2 == 100 and 1e+2 == 100 and 1e-2 == 0.01, "exponent literals")
assert(.5 == 0.5 and 5. == 5 and 3.e1 == 30, "dot forms")
assert(0x1p4 == 16 and 0x1P-1 == 0.5 and 0x.8 == 0.5 and 0xA.8p1 == 21, "hex floats")
assert(0x1.8p1 == 3, "hex float with fraction")
assert(0x.1 == 0.0625, "hex fraction only")
assert(007 == 7, "leading zeros are decimal")
assert(1e308 < math.huge and 1e309 == math.huge, "overflow literal is inf")

-- malformed numbers are syntax errors
for _, src in ipairs{"return 1e", "return 0x", "return 1..2", "return 3x", "return 0xg", "return 1.2.3", "return 08z"} do
  local f, e = loadstring(src)
  assert(not f and e:find("malformed number", 1, true), "malformed: " .. src .. " -> " .. tostring(e))
end

-- tostring
assert(tostring(1) == "1", "1")
assert(tostring(-0) == "-0", "tostring(-0)")
assert(tostring(0) == "0", "0")
assert(tostring(1e15) == "1e+15", "1e15")
assert(tostring(1e100) == "1e+100", "1e100")
assert(tostring(0 / 0) == "nan", "nan")
assert(tostring(1 / 0) == "inf" and tostring(-1 / 0) == "-inf", "inf")
assert(tostring(123456789012345) == "1.2345678901234e+14" or tostring(123456789012345) == "1.2345678901235e+14", "15 digits")
assert(tostring(12345678901234) == "12345678901234", "14 digits")
assert(tostring(2 ^ 53) == "9.007199254741e+15", "2^53")
assert(tostring(-1.5) == "-1.5", "-1.5")
assert(tostring(1e-300) == "1e-300", "tiny")
assert(tostring(5e-324) == "4.9406564584125e-324", "denormal")
assert(tostring(0.1 + 0.2) == "0.3", "rounded to 14 digits")
assert(tostring(100) == "100" and tostring(-100) == "-100", "integers")
assert(tostring(2 ^ 31) == "2147483648" and tostring(-2 ^ 31) == "-2147483648", "2^31")
assert(tostring(2 ^ 32) == "4294967296", "2^32")
assert(tostring(nil) == "nil" and tostring(true) == "true" and tostring(false) == "false", "constants")
assert(tostring("x") == "x", "string")
assert(tostring({}):match("^table: 0x%x+$"), "table address format")
assert(tostring(print):match("^function: builtin#%d+$"), "builtin function format")
assert(tostring(function() end):match("^function: 0x%x+$"), "Lua function format")
assert(tostring(coroutine.create(function() end)):match("^thread: 0x%x+$"), "thread format")
assert(tostring(newproxy()):match("^userdata: 0x%x+$"), "userdata format")
assert(select("#", pcall(tostring)) == 2 and not pcall(tostring), "tostring() without argument errors")

-- tonumber
assert(tonumber("10") == 10 and tonumber("  10  ") == 10 and tonumber("\t\n10\r") == 10, "whitespace")
assert(tonumber("0x10") == 16 and tonumber("-0x10") == -16 and tonumber("0X1F") == 31, "hex strings")
assert(tonumber("1e1") == 10 and tonumber(".5") == 0.5 and tonumber("5.") == 5, "decimal forms")
assert(tonumber("0x1p4") == 16, "hex float string")
assert(tonumber("") == nil and tonumber(" ") == nil, "empty")
assert(tonumber("1e") == nil and tonumber("0x") == nil and tonumber("1 2") == nil, "malformed")
assert(tonumber("- 1") == nil, "space after sign")
assert(tonumber("+1") == 1, "leading plus")
assert(tonumber("abc") == nil and tonumber("12abc") == nil, "non numeric")
assert(tonumber(nil) == nil, "tonumber(nil)")
assert(tonumber(true) == nil and tonumber({}) == nil, "non-string non-number")
assert(tonumber(42) == 42, "number passes through")
assert(tonumber("inf") == math.huge and tonumber("-inf") == -math.huge, "LuaJIT parses inf")
local n = tonumber("nan")
assert(n ~= n, "LuaJIT parses nan")
assert(tonumber("1e500") == math.huge, "overflowing string")
assert(tonumber("10\0") == nil, "embedded NUL is not numeric")

-- bases
assert(tonumber("10", 2) == 2 and tonumber("777", 8) == 511 and tonumber("ff", 16) == 255, "bases")
assert(tonumber("FF", 16) == 255 and tonumber("zz", 36) == 1295 and tonumber("Zz", 36) == 1295, "base 36, mixed case")
assert(tonumber("7", 2) == nil, "digit out of range")
assert(tonumber("-ff", 16) == -255, "negative in base 16")
assert(tonumber("10", 10) == 10, "explicit base 10")
assert(tonumber("  11  ", 2) == 3, "whitespace with base")
assert(tonumber("1.5", 10) == 1.5, "base 10 accepts floats")
assert(tonumber("1.5", 16) == nil, "other bases accept integers only")
assert(tonumber("0x10", 16) == 16, "base 16 accepts an optional 0x prefix (strtoul)")
assert(tonumber("0x10", 10) == 16, "base 10 is the ordinary conversion, hex included")
assert(tonumber("0x10", 2) == nil, "0x prefix only for base 16")
assert(tonumber("+ff", 16) == 255, "leading plus with base")
assert(tonumber("", 16) == nil, "empty with base")
assert(tonumber("11111111111111111111111111111111", 2) == 4294967295, "32 ones")
for base = 2, 36 do
  assert(tonumber("10", base) == base, "10 in base " .. base)
end
assert(not pcall(tonumber, "10", 1), "base 1 is out of range")
assert(not pcall(tonumber, "10", 37), "base 37 is out of range")

-- numbers as table keys: integral floats normalise
local t = {}
t[1] = "a"; t[2.0] = "b"; t[0.5] = "half"; t[-1] = "neg"; t[-0] = "zero"
assert(t[1.0] == "a" and t[2] == "b" and t[0.5] == "half" and t[-1] == "neg", "number keys")
assert(t[0] == "zero", "-0 and 0 are the same key")
assert(#t == 2, "length counts normalised keys")

-- math.floor of big values and integer-valued doubles
assert(math.floor(2 ^ 40 + 0.5) == 2 ^ 40, "floor large")
assert(math.floor(-2 ^ 40 - 0.5) == -2 ^ 40 - 1, "floor large negative")
assert(string.format("%d", 2 ^ 40) == "1099511627776", "%d of a large value")
-- LuaJIT formats numbers itself and rounds exact ties away from zero (C printf rounds to even)
assert(string.format("%.0f", 0.5) == "1" and string.format("%.0f", 1.5) == "2" and string.format("%.0f", 2.5) == "3", "%.0f ties away from zero")
assert(string.format("%.2f", 0.125) == "0.13" and string.format("%.0f", -0.5) == "-1" and string.format("%.0e", 2.5) == "3e+00", "ties away from zero")
print("ok")
