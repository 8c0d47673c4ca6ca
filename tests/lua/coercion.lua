-- String <-> number coercions.

-- strings in arithmetic are converted to numbers
assert("10" + 1 == 11, "string + number")
assert("3" * "4" == 12, "string * string")
assert("0x10" + 0 == 16, "hex string in arithmetic")
assert(" 5 " + 0 == 5, "whitespace is allowed around numeric strings")
assert("1e2" * 1 == 100, "exponent string")
assert("-2" ^ 2 == 4, "string base of pow")
assert(-"2" == -2, "unary minus on string")
assert("10" % "3" == 1, "mod on strings")
assert("7" / "2" == 3.5, "div on strings")
assert(type("10" + 0) == "number", "result type is number")
assert("0x1p4" + 0 == 16, "hex float string")
assert("  0xff  " + 0 == 255, "hex with spaces")

local ok, err = pcall(function() return "abc" + 1 end)
assert(not ok and err:find("attempt to perform arithmetic on a string value", 1, true), "non-numeric string: " .. tostring(err))
ok = pcall(function() return "" + 1 end)
assert(not ok, "empty string is not a number")
ok = pcall(function() return "1 2" + 1 end)
assert(not ok, "two numbers in a string")
ok = pcall(function() return {} + 1 end)
assert(not ok, "table arithmetic")
ok = pcall(function() return true + 1 end)
assert(not ok, "boolean arithmetic")

-- numbers in concatenation are converted to strings
assert(1 .. "" == "1", "integer formatting")
assert(1.5 .. "" == "1.5", "float formatting")
assert(-0.0 .. "" == "-0", "negative zero formatting")
assert(1e15 .. "" == "1e+15", "1e15 formatting")
assert(123456789012 .. "" == "123456789012", "large integer formatting")
assert(1e100 .. "" == "1e+100", "1e100")
assert(2 ^ 63 .. "" == "9.2233720368548e+18", "2^63 uses %.14g")
assert(0.1 .. "" == "0.1", "0.1")
assert(1 / 3 .. "" == "0.33333333333333", "14 significant digits")
assert(100 .. 200 == "100200", "number .. number")
assert(1 / 0 .. "" == "inf", "inf formatting")
assert(-1 / 0 .. "" == "-inf", "-inf formatting")
assert((0 / 0) .. "" == "nan", "nan formatting (LuaJIT prints nan, never -nan)")
assert(-(0 / 0) .. "" == "nan", "negated nan also prints nan")
assert(1e-5 .. "" == "1e-05", "small exponent has two digits")
assert(123e-7 .. "" == "1.23e-05", "1.23e-05")
assert(0.0001 .. "" == "0.0001", "0.0001 stays fixed")
assert(1e14 .. "" == "1e+14", "1e14 literal")
assert(99999999999999 .. "" == "99999999999999", "14 digits stay fixed")
assert(3.14159265358979 .. "" == "3.1415926535898", "rounded pi")

ok, err = pcall(function() return "x" .. nil end)
assert(not ok and err:find("attempt to concatenate a nil value", 1, true), "concat nil: " .. tostring(err))
ok, err = pcall(function() return "x" .. {} end)
assert(not ok and err:find("attempt to concatenate a table value", 1, true), "concat table: " .. tostring(err))
ok = pcall(function() return "x" .. true end)
assert(not ok, "concat boolean")

-- comparisons do NOT coerce
ok, err = pcall(function() return 1 < "2" end)
assert(not ok and err:find("attempt to compare number with string", 1, true), "compare number/string: " .. tostring(err))
ok, err = pcall(function() return "1" < 2 end)
assert(not ok and err:find("attempt to compare string with number", 1, true), "compare string/number: " .. tostring(err))
assert(1 ~= "1", "equality never coerces")
assert(not (0 == "0"), "0 ~= '0'")

-- tostring / tonumber round trips
for _, v in ipairs{0, 1, -1, 0.5, 1e300, -1e-300, 123456.789, 2 ^ 40} do
  assert(tonumber(tostring(v)) == v, "round trip " .. tostring(v))
end
assert(tonumber(tostring(2 ^ 52)) ~= 2 ^ 52, "tostring keeps only 14 significant digits")
for _, v in ipairs{} do
end

-- string keys and number keys are distinct in tables
local t = {}
t[1] = "num"
t["1"] = "str"
assert(t[1] == "num" and t["1"] == "str", "1 and '1' are different keys")
t[1.0] = "float"
assert(t[1] == "float", "1.0 and 1 are the same key")
t[2 ^ 53] = "big"
assert(t[2 ^ 53] == "big", "big number key")

-- string methods on numbers need explicit conversion, but library functions coerce
assert(string.len(123) == 3, "string.len coerces a number")
assert(string.rep(1, 3) == "111", "string.rep coerces")
assert(("x"):rep("3") == "xxx", "count argument coerced from string")
assert(math.floor("3.7") == 3, "math.floor coerces a string")
assert(string.sub(12345, 2, "3") == "23", "sub coerces both")
assert(("%d"):format("42") == "42", "format %d coerces a numeric string")
print("ok")
