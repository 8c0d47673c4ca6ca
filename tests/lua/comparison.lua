-- Comparison and logical operators.

assert(1 < 2 and 2 > 1 and 1 <= 1 and 1 >= 1, "numeric ordering")
assert(not (2 < 1) and not (1 > 2), "numeric negatives")
assert(-1 < 0 and -math.huge < -1e308, "negatives")
assert(1 == 1.0, "1 == 1.0")
assert(1 ~= 2, "~=")

-- strings compare bytewise (LC_ALL=C)
assert("a" < "b", "a < b")
assert("abc" < "abd", "third char")
assert("ab" < "abc", "prefix is smaller")
assert("" < "a", "empty is smallest")
assert("Z" < "a", "uppercase before lowercase in ASCII")
assert("10" < "9", "strings compare lexicographically, not numerically")
assert("a\0b" < "a\0c", "embedded zeros are compared")
assert("a\0" > "a", "string with trailing zero is larger")
assert("\255" > "\1", "bytes compare unsigned")
assert("abc" <= "abc" and "abc" >= "abc", "<= >= on equal strings")

-- equality across types is always false, never an error
assert(not (1 == "1"), "number vs string")
assert(not (nil == false), "nil vs false")
assert(not ({} == {}), "distinct tables")
local t = {}
assert(t == t, "same table")
local f = function() end
assert(f == f, "same function")
assert(print == print, "same builtin")
assert(not (function() end == function() end), "different closures")
assert("abc" == "a" .. "bc", "strings are values")
assert(true == true and false == false and nil == nil, "constants")
assert(not (true == 1), "true ~= 1")

-- ordering across types is an error
local ok, err = pcall(function() return {} < {} end)
assert(not ok and err:find("attempt to compare two table values", 1, true), tostring(err))
ok, err = pcall(function() return nil < 1 end)
assert(not ok and err:find("attempt to compare nil with number", 1, true), tostring(err))
ok, err = pcall(function() return 1 <= nil end)
assert(not ok and err:find("attempt to compare number with nil", 1, true), tostring(err))
ok, err = pcall(function() return true < false end)
assert(not ok and err:find("attempt to compare two boolean values", 1, true), tostring(err))
ok, err = pcall(function() return "a" >= 1 end)
-- a >= b is evaluated as b <= a, so the operand order in the message is swapped
assert(not ok and err:find("attempt to compare number with string", 1, true), tostring(err))
ok, err = pcall(function() return 1 > "a" end)
assert(not ok and err:find("attempt to compare string with number", 1, true), tostring(err))

-- nan
local nan = 0 / 0
assert(not (nan == nan) and nan ~= nan, "nan equality")
assert(not (nan < 1) and not (nan > 1) and not (nan <= 1) and not (nan >= 1), "nan ordering")
assert(not (1 < nan) and not (1 >= nan), "nan on the right")
local tn = {}
local okk = pcall(function() tn[nan] = 1 end)
assert(not okk, "nan cannot be a table key")
assert(tn[nan] == nil, "reading a nan key gives nil")

-- and / or return operands, short circuit
assert((nil and 1) == nil, "nil and x")
assert((false and error("no")) == false, "and short-circuits")
assert((1 and 2) == 2, "and returns second")
assert((nil or 3) == 3, "or returns second")
assert((false or nil) == nil, "false or nil")
assert((1 or error("no")) == 1, "or short-circuits")
assert((0 and "zero is true") == "zero is true", "0 truthy")
assert(("" and "empty string is true") == "empty string is true", "'' truthy")
local calls = 0
local function bump(v) calls = calls + 1; return v end
local r = bump(false) and bump(true) or bump("x")
assert(r == "x" and calls == 2, "a and b or c evaluation count")
calls = 0
r = bump(1) or bump(2) and bump(3)
assert(r == 1 and calls == 1, "or binds looser than and")
assert(not nil and not false and (not 0) == false, "not")

-- comparison results are booleans
assert(type(1 < 2) == "boolean", "boolean result")
assert((1 == 1) == true, "equality yields true")

-- comparisons in loops with mixed int/float
local cnt = 0
for i = 1, 100 do
  if i * 0.5 < 25 then cnt = cnt + 1 end
end
assert(cnt == 49, "loop comparisons")
local strs = {"b", "a", "c", "aa", "B"}
table.sort(strs)
assert(table.concat(strs, ",") == "B,a,aa,b,c", "sorted strings " .. table.concat(strs, ","))
print("ok")
