-- The string library (except patterns and format).

-- sub with all index forms
local s = "hello"
assert(s:sub(2) == "ello" and s:sub(-3) == "llo" and s:sub(0) == "hello", "sub basic")
assert(s:sub(10) == "" and s:sub(-100, 2) == "he" and s:sub(3, -3) == "l" and s:sub(4, 2) == "", "sub edges")
assert(s:sub(2, 100) == "ello" and s:sub(-1, -1) == "o" and s:sub(0, 0) == "", "sub clamps")
assert(s:sub(5, 5) == "o" and s:sub(6, 6) == "", "sub at end")
assert(string.sub(s, 2.9, 3.9) == "el" or string.sub(s, 2.9, 3.9) == "ll", "float indices truncated")

-- byte / char
assert(("abc"):byte() == 97 and ("abc"):byte(-1) == 99, "byte")
local b1, b2, b3 = ("abc"):byte(1, -1)
assert(b1 == 97 and b2 == 98 and b3 == 99, "byte range")
assert(select("#", ("abc"):byte(10)) == 0, "byte out of range gives nothing")
assert(select("#", ("abc"):byte(3, 2)) == 0, "empty byte range")
assert(select("#", (""):byte()) == 0, "byte of empty")
assert(string.char() == "" and string.char(104, 105) == "hi", "char")
assert(not pcall(string.char, 256) and not pcall(string.char, -1), "char range checked")
assert(string.char(0, 255):byte(1, 2) == 0, "char 0")

-- rep
assert(("x"):rep(0) == "" and ("x"):rep(-1) == "" and ("ab"):rep(3) == "ababab", "rep")
assert(("ab"):rep(3, ",") == "ab,ab,ab" and ("ab"):rep(1, ",") == "ab", "rep with separator")
assert(("x"):rep(3, "") == "xxx", "rep with empty separator")
assert(#("abc"):rep(1000) == 3000, "rep large")
assert((""):rep(1000000) == "", "rep of empty")

-- len, upper, lower, reverse
assert(string.len("") == 0 and ("a\0b"):len() == 3, "len")
assert(("AbC"):lower() == "abc" and ("AbC"):upper() == "ABC", "case")
assert(("\0ab\255"):upper() == "\0AB\255", "upper keeps other bytes")
assert(("abc"):reverse() == "cba" and (""):reverse() == "" and ("a\0b"):reverse() == "b\0a", "reverse")
assert(("\196\177"):upper() == "\196\177", "upper is byte-wise ASCII only (C locale)")

-- strings are immutable values, interned
local a = "abc"
local b = "ab" .. "c"
assert(a == b and rawequal(a, b), "equal strings")
local t = {}
t[a] = 1
assert(t[b] == 1, "string keys by value")
local long1 = string.rep("x", 1000) .. "y"
local long2 = string.rep("x", 1000) .. "y"
t[long1] = "long"
assert(t[long2] == "long" and long1 == long2, "long strings compare by value")
local long3 = string.rep("x", 1000) .. "z"
assert(long1 ~= long3 and long1 < long3, "long strings differ at the end")

-- concat
assert("a" .. "b" .. "c" == "abc", "concat chain")
assert("" .. "" == "", "empty concat")
local parts = {}
for i = 1, 1000 do parts[#parts + 1] = tostring(i) end
local joined = table.concat(parts)
local manual = ""
for i = 1, 1000 do manual = manual .. i end
assert(joined == manual and #joined == 2893, "concat in a loop matches table.concat")
assert(("a"):rep(3) .. 1 .. 2 == "aaa12", "concat mixes numbers")

-- tostring of various strings and string functions on numbers
assert(("5"):rep(2) == "55", "method on a numeric string")
assert(not pcall(function() return (5):rep(2) end), "numbers have no string methods")
assert(string.upper(12) == "12", "upper coerces numbers")
assert(string.byte(5) == 53, "byte of a number")

-- string comparison is byte-wise
assert("a" < "b" and "abc" < "abd" and "" < "\0" and "\0" < "\1", "byte-wise ordering")
assert("a\0b" ~= "a\0c" and "a\0b" < "a\0c", "embedded zeros")

-- string functions accept negative and out of range indices consistently
assert(("abc"):find("c", -1) == 3, "find with negative init")
assert(("abc"):find("a", -10) == 1, "find with very negative init")
assert(("abc"):find("", 10) == 4, "empty pattern at init beyond the end is clamped")

-- string.len vs # on strings with multibyte characters
local utf = "h\195\169llo"
assert(#utf == 6 and utf:len() == 6 and utf:sub(2, 3) == "\195\169", "byte semantics")

-- tostring / string.format on large strings
local big = string.rep("abcdefghij", 10000)
assert(#big == 100000 and big:sub(99991) == "abcdefghij", "100k string")
assert(big:upper():sub(1, 3) == "ABC", "upper on a large string")
assert(#(big .. big) == 200000, "concat large strings")

-- string.byte/char round trip of all bytes
local all = {}
for i = 0, 255 do all[#all + 1] = i end
local allstr = string.char(unpack(all))
assert(#allstr == 256, "all bytes")
local back = {allstr:byte(1, -1)}
for i = 0, 255 do assert(back[i + 1] == i, "byte " .. i) end

-- string methods through the metatable with :
local count = 0
for _ in ("a,b,c"):gmatch("[^,]+") do count = count + 1 end
assert(count == 3, "gmatch via method")
assert(("%d-%s"):format(1, "x") == "1-x", "format via method")

-- string keys that look like numbers stay strings
local m = {["10"] = "s", [10] = "n"}
assert(m["10"] == "s" and m[10] == "n", "distinct keys")
print("ok")
