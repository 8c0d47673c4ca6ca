-- The string library, function by function, with LuaJIT 2.1's odd corners.
-- Self-checking: prints nothing, fails with an assertion message.

local function eq(got, want, what)
  if got ~= want then
    error(what .. ": got [" .. tostring(got) .. "] want [" .. tostring(want) .. "]", 2)
  end
end

-- Packs results with their count, for exact comparisons of multiple returns.
local function pack(...) return {n = select("#", ...), ...} end
local function same(t, want, what)
  local wn = want.n or #want
  eq(t.n, wn, what .. " (count)")
  for i = 1, wn do eq(t[i], want[i], what .. " #" .. i) end
end

-- The error message of f(...), which must fail (without the position prefix).
local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end
-- Does the error of f(...) contain `text`?
local function fails(text, f, ...)
  local e = err(f, ...)
  assert(e:find(text, 1, true), "error [" .. e .. "] lacks [" .. text .. "]")
end

-- ---------------------------------------------------------------------------
-- The string metatable
-- ---------------------------------------------------------------------------
eq(getmetatable("").__index, string, "string metatable")
eq(("abc"):len(), 3, "method call")
eq(("x"):rep(2), "xx", "method on a literal")
local s = "hello"
eq(s:upper(), "HELLO", "method on a local")
eq(#string.format("%s", s), 5, "format through the library table")
assert(not pcall(function() return (5):len() end), "numbers have no methods")

-- ---------------------------------------------------------------------------
-- len, lower, upper, reverse
-- ---------------------------------------------------------------------------
eq(string.len(""), 0, "len empty")
eq(string.len("a\0b\0"), 4, "len counts zeros")
eq(string.len(1234), 4, "len of a number")
eq(string.len(1e100), 6, "len of 1e+100")
fails("bad argument #1 to 'len' (string expected, got nil)", function() local r = string.len(nil) return r end)
eq(("MiXeD 123 \0\255"):lower(), "mixed 123 \0\255", "lower")
eq(("MiXeD 123 \0\255"):upper(), "MIXED 123 \0\255", "upper")
eq(("\192\224"):upper(), "\192\224", "upper leaves bytes >= 128")
eq(string.upper(12.5), "12.5", "upper of a number")
eq(("abc"):reverse(), "cba", "reverse")
eq((""):reverse(), "", "reverse empty")
eq(("a\0b"):reverse(), "b\0a", "reverse with zero")
eq(string.reverse(123), "321", "reverse of a number")

-- ---------------------------------------------------------------------------
-- sub
-- ---------------------------------------------------------------------------
s = "hello"
eq(s:sub(2), "ello", "sub from 2")
eq(s:sub(2, 3), "el", "sub 2..3")
eq(s:sub(-3), "llo", "sub negative start")
eq(s:sub(-3, -2), "ll", "sub both negative")
eq(s:sub(0), "hello", "sub 0")
eq(s:sub(-100), "hello", "sub very negative")
eq(s:sub(-100, -100), "", "sub both very negative")
eq(s:sub(6), "", "sub just past the end")
eq(s:sub(100), "", "sub far past the end")
eq(s:sub(3, 100), "llo", "sub end clamped")
eq(s:sub(4, 2), "", "sub start > end")
eq(s:sub(0, 0), "", "sub 0,0")
eq(s:sub(1, 0), "", "sub 1,0")
eq(s:sub(-1, -1), "o", "sub last")
eq(s:sub(5, -1), "o", "sub 5,-1")
eq(s:sub(2.9, 3.9), "el", "sub truncates")
eq(s:sub("2", "3"), "el", "sub numeric strings")
eq(s:sub(-5, 1), "h", "sub -len")
eq(s:sub(-6, 1), "h", "sub -len-1")
eq((""):sub(1), "", "sub of empty")
eq((""):sub(0, -1), "", "sub of empty 0,-1")
eq(("a\0b"):sub(2, 2), "\0", "sub keeps zeros")
eq(string.sub(12345, 2, -2), "234", "sub of a number")
fails("bad argument #2 to 'sub' (number expected, got no value)", function() local r = string.sub("x") return r end)
fails("bad argument #2 to 'sub' (number expected, got table)", function() local r = string.sub("x", {}) return r end)
fails("bad argument #3 to 'sub' (number expected, got string)", function() local r = string.sub("x", 1, "y") return r end)
fails("bad argument #1 to 'sub' (string expected, got no value)", function() local r = string.sub() return r end)

-- ---------------------------------------------------------------------------
-- byte, char
-- ---------------------------------------------------------------------------
eq(("ABC"):byte(), 65, "byte default")
eq(("ABC"):byte(2), 66, "byte 2")
eq(("ABC"):byte(-1), 67, "byte -1")
same(pack(("ABC"):byte(1, -1)), {65, 66, 67}, "byte range")
same(pack(("ABC"):byte(-10, 10)), {65, 66, 67}, "byte clamped range")
same(pack(("ABC"):byte(4)), {}, "byte past the end")
same(pack(("ABC"):byte(0)), {}, "byte 0")
same(pack(("ABC"):byte(3, 2)), {}, "byte empty range")
same(pack((""):byte()), {}, "byte of empty")
same(pack(("\0\255"):byte(1, 2)), {0, 255}, "byte extremes")
eq(string.byte(9), 57, "byte of a number")
eq(select("#", ("x"):rep(8000):byte(1, -1)), 8000, "byte: 8000 results")
fails("string slice too long", function() local r = ("x"):rep(8001):byte(1, -1) return r end)
eq(string.char(), "", "char of nothing")
eq(string.char(72, 105), "Hi", "char")
eq(string.char(0, 255), "\0\255", "char extremes")
eq(string.char(65.9), "A", "char truncates")
eq(string.char("66"), "B", "char numeric string")
fails("bad argument #1 to 'char' (invalid value)", function() local r = string.char(256) return r end)
fails("bad argument #2 to 'char' (invalid value)", function() local r = string.char(65, -1) return r end)
fails("bad argument #1 to 'char' (number expected, got string)", function() local r = string.char("a") return r end)
fails("bad argument #3 to 'char' (number expected, got nil)", function() local r = string.char(1, 2, nil) return r end)
local all = {}
for i = 0, 255 do all[#all + 1] = i end
local allbytes = string.char(unpack(all))
eq(#allbytes, 256, "all 256 bytes")
for i = 0, 255 do eq(allbytes:byte(i + 1), i, "byte round trip") end

-- ---------------------------------------------------------------------------
-- rep
-- ---------------------------------------------------------------------------
eq(("ab"):rep(3), "ababab", "rep")
eq(("ab"):rep(1), "ab", "rep 1")
eq(("ab"):rep(0), "", "rep 0")
eq(("ab"):rep(-5), "", "rep negative")
eq(("ab"):rep(2.9), "abab", "rep truncates")
eq(("ab"):rep(3, ","), "ab,ab,ab", "rep with separator")
eq(("ab"):rep(1, ","), "ab", "rep 1 with separator")
eq(("ab"):rep(0, ","), "", "rep 0 with separator")
eq((""):rep(3, ","), ",,", "rep of empty with separator")
eq(("x"):rep(3, ""), "xxx", "rep with empty separator")
eq(("x"):rep(3, 5), "x5x5x", "rep with numeric separator")
eq((""):rep(1e9), "", "rep of empty, many times")
eq(#("abc"):rep(10000), 30000, "rep large")
eq(("abc"):rep(100, "--"):sub(1, 10), "abc--abc--", "rep with separator, large")
eq(("x"):rep(2 ^ 40), "", "rep count wraps like LuaJIT's int32 conversion")
fails("not enough memory", function() local r = ("x"):rep(2 ^ 31 - 1) return r end)
fails("not enough memory", function() local r = ("xyz"):rep(2 ^ 30, ",") return r end)
fails("bad argument #2 to 'rep' (number expected, got no value)", function() local r = string.rep("x") return r end)
fails("bad argument #3 to 'rep' (string expected, got table)", function() local r = string.rep("x", 2, {}) return r end)

-- ---------------------------------------------------------------------------
-- dump
-- ---------------------------------------------------------------------------
fails("unable to dump given function", function() local r = string.dump(print) return r end)
fails("bad argument #1 to 'dump' (function expected, got nil)", function() local r = string.dump(nil) return r end)
fails("bad argument #1 to 'dump' (function expected, got string)", function() local r = string.dump("x") return r end)

-- ---------------------------------------------------------------------------
-- find
-- ---------------------------------------------------------------------------
same(pack(("hello world"):find("o")), {5, 5}, "find char")
same(pack(("hello world"):find("o", 6)), {8, 8}, "find with init")
same(pack(("hello world"):find("o", -4)), {8, 8}, "find with negative init")
same(pack(("hello world"):find("l", -100)), {3, 3}, "find with very negative init")
same(pack(("hello world"):find("xyz")), {n = 1}, "find: not found is one nil")
same(pack(("hello"):find("")), {1, 0}, "find empty")
same(pack(("hello"):find("", 3)), {3, 2}, "find empty at init")
same(pack(("hello"):find("", 6)), {6, 5}, "find empty just past the end")
same(pack(("hello"):find("", 100)), {6, 5}, "find empty with init past the end is clamped")
same(pack(("hello"):find("o", 100)), {n = 1}, "find with init past the end")
same(pack(("hello"):find("l+")), {3, 4}, "find pattern")
same(pack(("hello"):find("(l)(l)")), {3, 4, "l", "l"}, "find returns captures")
same(pack(("hello"):find("()ll()")), {3, 4, 3, 5}, "find position captures")
same(pack(("a.b"):find(".", 1, true)), {2, 2}, "find plain")
same(pack(("a.b"):find(".")), {1, 1}, "find pattern dot")
same(pack(("a.b"):find(".", 1, 1)), {2, 2}, "find plain flag is any true value")
same(pack(("a.b"):find(".", 1, false)), {1, 1}, "find plain false")
same(pack(("a+b"):find("+", 1, true)), {2, 2}, "find plain special")
same(pack(("a]b"):find("]")), {2, 2}, "find: ] alone is not special")
same(pack(("a)b"):find(")")), {2, 2}, "find: ) alone is not special")
same(pack(("a\0b"):find("\0")), {2, 2}, "find a zero byte (no specials)")
same(pack(("a\0b"):find("%z")), {2, 2}, "find %z")
same(pack(("a\0b"):find("b", 1, true)), {3, 3}, "find plain past a zero")
same(pack(("abcabc"):find("abc", 2)), {4, 6}, "find plain from init")
same(pack(("aXb"):find("^a")), {1, 1}, "find anchored")
same(pack(("baXb"):find("^a")), {n = 1}, "find anchored fails")
same(pack(("aaa"):find("^a", 2)), {2, 2}, "find anchored at init")
same(pack(("a^b"):find("^", 1, true)), {2, 2}, "find plain caret")
same(pack(("hello"):find("l", 1, nil)), {3, 3}, "find with nil plain")
same(pack(string.find(12345, 34)), {3, 4}, "find in numbers")
fails("malformed pattern (missing ']')", function() local r = ("abc"):find("[a") return r end)
fails("malformed pattern (ends with '%')", function() local r = ("abc"):find("a%") return r end)
fails("unfinished capture", function() local r = ("abc"):find("(b") return r end)
fails("invalid capture index", function() local r = ("abc"):find("%1") return r end)
fails("invalid pattern capture", function() local r = ("abc"):match("b)") return r end)
fails("missing '[' after '%f' in pattern", function() local r = ("abc"):find("%f") return r end)
fails("unbalanced pattern", function() local r = ("abc"):find("%b") return r end)
fails("bad argument #1 to 'find' (string expected, got no value)", function() local r = ("abc"):find() return r end)
fails("bad argument #3 to 'find' (number expected, got table)", function() local r = string.find("abc", "b", {}) return r end)
eq(select("#", ("abc"):find("(a)(b)(c)")), 5, "find result count")

-- ---------------------------------------------------------------------------
-- match
-- ---------------------------------------------------------------------------
eq(("hello world"):match("o w"), "o w", "match whole")
eq(("hello world"):match("(%w+) (%w+)"), "hello", "match first capture")
same(pack(("hello world"):match("(%w+) (%w+)")), {"hello", "world"}, "match captures")
same(pack(("hello"):match("xyz")), {n = 1}, "match fails with one nil")
same(pack(("hello"):match("()ll()")), {3, 5}, "match position captures")
eq(("hello"):match("()"), 1, "match empty position")
eq(("hello"):match("()", 10), 6, "match with init past the end")
eq(("hello"):match(".", -1), "o", "match negative init")
eq(("key = value"):match("^(%w+)%s*=%s*(%w+)$"), "key", "match anchors")
eq(("  trim  "):match("^%s*(.-)%s*$"), "trim", "match lazy")
eq(("[[x]]"):match("%b[]"), "[[x]]", "match %b")
eq(("THE (quick) fox"):match("%f[%a]%a+"), "THE", "match %f")
eq(("hello"):match("(h)(e)(l)(l)(o)"), "h", "match many captures")
same(pack(("xabab"):find("(ab)%1")), {2, 5, "ab"}, "find back-reference")
eq(("a\0b"):match("a%zb"), "a\0b", "match %z")
eq(("a\0b"):match("a\0b"), "a", "a pattern ends at its first zero, as in LuaJIT")
eq(("x = 10"):match("%d+") + 1, 11, "match result is a string that coerces")
eq(string.match(2024, "%d%d$"), "24", "match in a number")
fails("pattern too complex", function() local r = ("a"):rep(300):match(("a?"):rep(250)) return r end)
fails("too many captures", function() local r = ("a"):rep(40):match(("(a)"):rep(33)) return r end)

-- ---------------------------------------------------------------------------
-- gmatch
-- ---------------------------------------------------------------------------
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
eq(table.concat(words, ","), "one,two,three", "gmatch words")
local kv = {}
for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do kv[#kv + 1] = k .. v end
eq(table.concat(kv, ","), "a1,b2,c3", "gmatch captures")
local pos = {}
for p in ("abc"):gmatch("()") do pos[#pos + 1] = p end
eq(table.concat(pos, ","), "1,2,3,4", "gmatch position captures")
local pairs_ = {}
for a, p in ("hello"):gmatch("(l)()") do pairs_[#pairs_ + 1] = a .. p end
eq(table.concat(pairs_, ","), "l4,l5", "gmatch capture and position")
local empties = 0
for e in ("abc"):gmatch("x*") do assert(e == ""); empties = empties + 1 end
eq(empties, 4, "gmatch empty matches")
local mixed = {}
for m in ("abc"):gmatch("b*") do mixed[#mixed + 1] = "[" .. m .. "]" end
eq(table.concat(mixed), "[][b][][]", "gmatch empty and non-empty matches")
local caret = 0
for _ in ("^a^a"):gmatch("^a") do caret = caret + 1 end
eq(caret, 2, "gmatch: ^ is not an anchor")
local it = ("a1b2"):gmatch("%d")
eq(it(), "1", "gmatch iterator 1")
eq(it(), "2", "gmatch iterator 2")
eq(it(), nil, "gmatch iterator exhausted")
eq(it(), nil, "gmatch iterator stays exhausted")
local n = 0
for _ in (""):gmatch("") do n = n + 1 end
eq(n, 1, "gmatch empty pattern on empty string")
n = 0
for _ in ("aaa"):gmatch("a") do n = n + 1 end
eq(n, 3, "gmatch count")
n = 0
for x in string.gmatch(1234, "%d") do n = n + x end
eq(n, 10, "gmatch over a number")
fails("bad argument #2 to 'gmatch' (string expected, got no value)", function() local r = string.gmatch("abc") return r end)
fails("unfinished capture", function() local f = ("abc"):gmatch("(b") return f() end)

-- ---------------------------------------------------------------------------
-- gsub
-- ---------------------------------------------------------------------------
same(pack(("hello world"):gsub("o", "0")), {"hell0 w0rld", 2}, "gsub string")
same(pack(("hello world"):gsub("o", "0", 1)), {"hell0 world", 1}, "gsub max n")
same(pack(("hello world"):gsub("o", "0", 0)), {"hello world", 0}, "gsub max 0")
same(pack(("hello world"):gsub("o", "0", -1)), {"hello world", 0}, "gsub negative max")
same(pack(("hello world"):gsub("o", "0", 1.9)), {"hell0 world", 1}, "gsub max truncated")
same(pack(("abc"):gsub("%w", "%0%0")), {"aabbcc", 3}, "gsub %0")
same(pack(("hello world"):gsub("(%w+) (%w+)", "%2 %1")), {"world hello", 1}, "gsub swap captures")
same(pack(("abc"):gsub("%w", "%1")), {"abc", 3}, "gsub %1 without captures is the match")
same(pack(("abc"):gsub("b", "%%")), {"a%c", 1}, "gsub %%")
same(pack(("abc"):gsub("b", "%x")), {"axc", 1}, "gsub % before another character")
same(pack(("abc"):gsub("()b", "%1")), {"a2c", 1}, "gsub position capture in replacement")
same(pack(("abc"):gsub("b", 5)), {"a5c", 1}, "gsub numeric replacement")
same(pack(("abc"):gsub("", "-")), {"-a-b-c-", 4}, "gsub empty pattern")
same(pack(("abc"):gsub("x*", "-")), {"-a-b-c-", 4}, "gsub empty matches")
same(pack(("abc"):gsub("b*", "-")), {"-a--c-", 4}, "gsub empty and non-empty matches")
same(pack(("a\0b\0c"):gsub("", "x")), {"xax\0xbx\0xcx", 6}, "gsub counts zeros in the limit")
same(pack(("hello"):gsub("^h", "H")), {"Hello", 1}, "gsub anchored")
same(pack(("hello"):gsub("^l", "L")), {"hello", 0}, "gsub anchored no match")
same(pack(("aaa"):gsub("^a", "b")), {"baa", 1}, "gsub anchored replaces once")
same(pack(("aaa"):gsub("^", "x")), {"xaaa", 1}, "gsub anchored empty")
same(pack(("hello"):gsub("o$", "O")), {"hellO", 1}, "gsub $ anchor")
same(pack(("hello"):gsub("$", "!")), {"hello!", 1}, "gsub empty at the end")
same(pack((""):gsub("", "x")), {"x", 1}, "gsub on empty")
same(pack(("abc"):gsub(".", {a = 1, b = true and "B"})), {"1Bc", 3}, "gsub table")
same(pack(("abc"):gsub(".", {a = false})), {"abc", 3}, "gsub table false keeps the match")
same(pack(("a b"):gsub("(%w)", {a = "A"})), {"A b", 2}, "gsub table with captures uses the first")
same(pack(("abc"):gsub("()", {[1] = "<", [4] = ">"})), {"<abc>", 4}, "gsub table with position keys")
local proxy = setmetatable({}, {__index = function(_, k) return k:upper() end})
same(pack(("abc"):gsub(".", proxy)), {"ABC", 3}, "gsub table uses __index")
same(pack(("abc"):gsub(".", function(c) return c:byte() end)), {"979899", 3}, "gsub function")
same(pack(("abc"):gsub(".", function() end)), {"abc", 3}, "gsub function nil keeps the match")
same(pack(("abc"):gsub(".", function() return false end)), {"abc", 3}, "gsub function false keeps the match")
same(pack(("k=v"):gsub("(%w)=(%w)", function(k, v) return v .. "=" .. k end)), {"v=k", 1}, "gsub function captures")
same(pack(("abc"):gsub("()(.)", function(p, c) return p .. c end)), {"1a2b3c", 3}, "gsub function position")
local calls = 0
same(pack(("aaaa"):gsub("a", function() calls = calls + 1 end, 2)), {"aaaa", 2}, "gsub function with max")
eq(calls, 2, "gsub function called max times")
same(pack(string.gsub(1234, 2, 0)), {"1034", 1}, "gsub on numbers")
local nested = ("a,b"):gsub("%a", function(c) return (c:gsub(".", "%0%0")) end)
eq(nested, "aa,bb", "gsub re-entered from a replacement function")
fails("invalid replacement value (a table)", function() local r = ("abc"):gsub("b", {b = {}}) return r end)
fails("invalid replacement value (a boolean)", function() local r = ("abc"):gsub(".", {a = true}) return r end)
fails("invalid replacement value (a table)", function() local r = ("abc"):gsub("b", function() return {} end) return r end)
fails("bad argument #3 to 'gsub' (string/function/table expected)", function() local r = string.gsub("abc", "b", true) return r end)
fails("bad argument #3 to 'gsub' (string/function/table expected)", function() local r = string.gsub("abc", "b") return r end)
fails("bad argument #4 to 'gsub' (number expected, got string)", function() local r = string.gsub("abc", "b", "x", "y") return r end)
fails("invalid capture index", function() local r = ("abc"):gsub("(b)", "%2") return r end)
fails("invalid capture index", function() local r = ("abc"):gsub("b", "%2") return r end)
fails("boom", function() local r = ("abc"):gsub("b", function() error("boom") end) return r end)
same(pack(("abc"):gsub("(b", "x")), {"axc", 1}, "gsub: an unfinished capture is fine if unused")
fails("unfinished capture", function() local r = ("abc"):gsub("(b", "%1") return r end)
fails("unfinished capture", function() local r = ("abc"):gsub("(b", function() end) return r end)

-- ---------------------------------------------------------------------------
-- format
-- ---------------------------------------------------------------------------
local F = string.format
eq(F("%5.2s|", "abc"), "   ab|", "%5.2s")
eq(F("%-5.1s|", "abc"), "a    |", "%-5.1s")
eq(F("%.0s|", "abc"), "|", "%.0s")
eq(("%q"):format("\0\r\n"), '"\\0\\13\\\n"', "%q of zero, CR, LF")
eq(F("%q", 'a"b\\c'), '"a\\"b\\\\c"', "%q quotes")
eq(F("%q", "\0001"), '"\\0001"', "%q zero before a digit")
eq(F("%q", 255), "\"255\"", "%q of a number")
eq(F("%d", 3.7), "3", "%d of 3.7")
eq(F("%d", -3.7), "-3", "%d of -3.7")
eq(F("%d", -0), "0", "%d of -0")
eq(F("%d", -0.0), "0", "%d of -0.0")
eq(F("%d", "12"), "12", "%d of a numeric string")
eq(F("%d", " 0x10 "), "16", "%d of a hex string")
eq(F("%5.1f|%-6.2f|", 3.14159, 2), "  3.1|2.00  |", "%f")
eq(F("%x %X %o", 255, 255, 8), "ff FF 10", "%x %X %o")
eq(F("%c%c", 104, 105), "hi", "%c")
eq(F("%e", 12345.6789), "1.234568e+04", "%e")
eq(F("%g %g", 1e20, 0.1), "1e+20 0.1", "%g")
eq(F("%s %s %s", nil, true, 12), "nil true 12", "%s of non-strings")
eq(F("%s", 1e15), "1e+15", "%s of a number uses tostring")
eq(F("%s", setmetatable({}, {__tostring = function() return "OBJ" end})), "OBJ", "%s with __tostring")
eq(F("%10s|", setmetatable({}, {__tostring = function() return "OBJ" end})), "       OBJ|", "%s width with __tostring")
eq(F("%s", setmetatable({}, {__tostring = function() return 42 end})), "42", "__tostring returning a number")
eq(F("%s|%s", "a\0b", "c"), "a\0b|c", "%s with zeros")
eq(F("%%"), "%", "%%")
eq(F("abc"), "abc", "no specifiers")
eq(F("%s", "x", "extra"), "x", "extra arguments ignored")
fails("invalid option '%5%' to 'format'", function() local r = string.format("%5%") return r end)
eq(F(12), "12", "numeric format string")
eq(F("%p", 1), "NULL", "%p of a number")
eq(F("%p", nil), "NULL", "%p of nil")
assert(F("%p", {}):match("^0x%x+$"), "%p of a table")
local t = {}
eq(F("%p", t), F("%p", t), "%p is stable")
eq(F("%s", t), tostring(t), "%s of a table")
fails("bad argument #2 to 'format' (number expected, got string)", function() local r = string.format("%d", "x") return r end)
fails("bad argument #2 to 'format' (number expected, got table)", function() local r = string.format("%f", {}) return r end)
fails("bad argument #3 to 'format' (number expected, got nil)", function() local r = string.format("%s %d", 1, nil) return r end)
fails("bad argument #2 to 'format' (value expected)", function() local r = string.format("%d") return r end)
fails("bad argument #3 to 'format' (value expected)", function() local r = string.format("%s %s", 1) return r end)
fails("bad argument #2 to 'format' (value expected)", function() local r = string.format("%s") return r end)
fails("bad argument #1 to 'format' (string expected, got no value)", function() local r = string.format() return r end)
fails("bad argument #1 to 'format' (number expected, got string)", function() local r = ("%d"):format("x") return r end)
fails("invalid option '%y' to 'format'", function() local r = string.format("%y", 1) return r end)
fails("invalid option '%123' to 'format'", function() local r = string.format("%123d", 1) return r end)
fails("invalid option '%' to 'format'", function() local r = string.format("%") return r end)
fails("boom", function() local r = F("%s", setmetatable({}, {__tostring = function() error("boom") end})) return r end)

-- ---------------------------------------------------------------------------
-- string.buffer
-- ---------------------------------------------------------------------------
local buffer = require("string.buffer")
eq(type(buffer.new), "function", "string.buffer.new")
eq(require("string.buffer"), buffer, "require caches string.buffer")
local b = buffer.new()
eq(type(b), "userdata", "buffer type")
eq(getmetatable(b), "buffer", "buffer metatable is protected")
eq(#b, 0, "new buffer is empty")
eq(b:tostring(), "", "empty tostring")
eq(b:put("ab", 1, 2.5), b, "put returns the buffer")
eq(#b, 6, "buffer length")
eq(b:tostring(), "ab12.5", "put strings and numbers")
eq(tostring(b), "ab12.5", "tostring(buffer)")
eq(b:get(1), "a", "get 1")
eq(b:get(100), "b12.5", "get more than there is")
eq(#b, 0, "get consumes")
eq(b:get(), "", "get from empty")
b:put("hello world")
eq(b:skip(6), b, "skip returns the buffer")
eq(b:tostring(), "world", "skip")
eq(b:skip(100):tostring(), "", "skip past the end")
same(pack(b:set("abc"):get(1, 1, 5)), {"a", "b", "c"}, "get several")
same(pack(b:set("abc"):get(nil, 1)), {"abc", ""}, "get nil takes everything")
eq(b:set("abc"):get(0), "", "get 0")
eq(b:set("hello"):get(2.7), "he", "get truncates")
eq(b:reset(), b, "reset returns the buffer")
eq(#b, 0, "reset empties")
eq(b:putf("%d-%s|%5.1f", 5, "x", 1.25):tostring(), "5-x|  1.3", "putf")
b:set("abc")
eq(b .. "x", "abcx", "buffer .. string")
eq("y" .. b, "yabc", "string .. buffer")
eq(b .. b, "abcabc", "buffer .. buffer")
eq(1 .. b, "1abc", "number .. buffer")
b:put(setmetatable({}, {__tostring = function() return "TS" end}))
eq(b:tostring(), "abcTS", "put uses __tostring")
local c = buffer.new(100)
c:put(b, "-", b)
eq(c:tostring(), "abcTS-abcTS", "put a buffer")
eq(b:tostring(), "abcTS", "putting a buffer does not consume it")
eq(b:free(), b, "free returns the buffer")
eq(#b, 0, "free empties")
eq(buffer.new():put("x"):put("y"):tostring(), "xy", "chained puts")
local big = buffer.new()
for i = 1, 1000 do big:put(i, ",") end
eq(#big, #table.concat((function() local r = {} for i = 1, 1000 do r[i] = i .. "," end return r end)()), "many puts")
for _ = 1, 500 do big:get(3) end
big:put("end")
eq(big:tostring():sub(-3), "end", "put after gets")
eq(string.format("%s|", b:set("q")), "q|", "format %s of a buffer uses __tostring")
fails("string/number/__tostring expected, got table", function() local r = b:put({}) return r end)
fails("string/number/__tostring expected, got nil", function() local r = b:put(nil) return r end)
fails("string/number/__tostring expected, got boolean", function() local r = b:put(true) return r end)
fails("cannot put buffer into itself", function() local r = b:put(b) return r end)
fails("number out of range", function() local r = b:get(-1) return r end)
fails("number out of range", function() local r = b:skip(-1) return r end)
fails("number expected, got string", function() local r = b:get("2") return r end)
fails("string expected, got number", function() local r = b:set(1) return r end)
fails("buffer expected, got table", function() local r = b.tostring({}) return r end)
fails("number expected, got string", function() local r = b:putf("%d", "x") return r end)
fails("attempt to index", function() b.field = 1 end)
eq(b.nosuchmethod, nil, "unknown method is nil")

-- serialization (LuaJIT's format: encodings of scalars and arrays are byte-exact)
local enc, dec = buffer.encode, buffer.decode
local function hex(str) return (str:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)) end
eq(hex(enc(nil)) .. hex(enc(false)) .. hex(enc(true)), "000102", "encode nil/false/true")
eq(hex(enc(1)), "07000000000000f03f", "encode a number")
eq(hex(enc(-0.0)), "070000000000000080", "encode -0")
eq(hex(enc("two")), "2374776f", "encode a short string")
eq(hex(enc(("x"):rep(300))):sub(1, 6), "e06c78", "encode a long string length")
eq(hex(enc({1, "two", 3})), "0c04" .. "07000000000000f03f" .. "2374776f" .. "070000000000000840", "encode an array")
eq(hex(enc({})), "08", "encode an empty table")
eq(hex(enc({x = 1})), "090121" .. "78" .. "07000000000000f03f", "encode a one-key table")
eq(dec(enc("str")), "str", "decode a string")
eq(dec(enc(1.5)), 1.5, "decode a number")
eq(1 / dec(enc(-0.0)), -1 / 0, "decode keeps -0")
assert(dec(enc(0 / 0)) ~= dec(enc(0 / 0)), "decode nan")
eq(dec("\6\255\255\255\255"), -1, "decode an int32")
eq(dec("\255\0\0\0\0"), nil, "decode a 5-byte tag")
local rt = dec(enc({1, "two", x = {3, y = true}, [true] = false, [2.5] = "f"}))
assert(rt[1] == 1 and rt[2] == "two" and rt.x[1] == 3 and rt.x.y == true and rt[true] == false and rt[2.5] == "f", "table round trip")
local holes = dec(enc({1, nil, 3}))
assert(holes[1] == 1 and holes[2] == nil and holes[3] == 3, "array with a hole")
local zero = dec(enc({[0] = "z", "a"}))
assert(zero[0] == "z" and zero[1] == "a", "index 0")
local deep = {}
local cur = deep
for _ = 1, 99 do cur[1] = {}; cur = cur[1] end
assert(type(dec(enc(deep))) == "table", "100 nested tables")
cur[1] = {}
fails("too deep to serialize", enc, deep)
local cyc = {}
cyc[1] = cyc
fails("too deep to serialize", enc, cyc)
fails("cannot serialize 'function'", enc, print)
fails("cannot serialize 'function'", enc, {f = print})
fails("cannot serialize 'thread'", enc, coroutine.create(print))
fails("cannot serialize 'userdata'", enc, buffer.new())
fails("left-over data in buffer", dec, "\1\1")
fails("unexpected end of buffer", dec, "")
fails("unexpected end of buffer", dec, "\7\0\0")
fails("unexpected end of buffer", dec, "\33")
fails("unexpected end of buffer", dec, "\12\10\1")
fails("table index is nil", dec, "\9\1\0\1")
fails("table index is NaN", dec, "\9\1\7\0\0\0\0\0\0\248\127\2")
fails("duplicate table key", dec, "\9\2\32\1\32\2")
fails("cannot deserialize dictionary index 1", dec, "\15\0")
fails("string expected, got number", dec, 12)
fails("too deep to serialize", dec, ("\12\2"):rep(200) .. "\0")
local sb = buffer.new()
eq(sb:encode(1):encode("x"), sb, "buffer:encode returns the buffer")
eq(#sb, 11, "buffer:encode appends")
eq(sb:decode(), 1, "buffer:decode 1")
eq(sb:decode(), "x", "buffer:decode 2")
eq(#sb, 0, "buffer:decode consumes")
fails("unexpected end of buffer", sb.decode, sb)
fails("cannot serialize 'function'", sb.encode, sb, print)
eq(#sb, 0, "a failed encode leaves the buffer alone")
print("ok")
