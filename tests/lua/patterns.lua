-- Lua patterns: find, match, gmatch, gsub.

-- find
assert(("hello world"):find("o") == 5, "find first")
assert(("hello world"):find("o", 6) == 8, "find from init")
local i, j = ("hello world"):find("wor")
assert(i == 7 and j == 9, "find returns start and end")
assert(("hello"):find("xyz") == nil, "not found")
i, j = ("hello"):find("")
assert(i == 1 and j == 0, "empty pattern matches at init")
i, j = ("hello"):find("", 6)
assert(i == 6 and j == 5, "empty match at the end")
assert(("a.b"):find(".", 1, true) == 2, "plain find")
assert(("a+b"):find("+", 1, true) == 2, "plain find with a magic char")
assert(("a.b"):find("%.") == 2, "escaped dot")
i, j = ("THE (quick) fox"):find("%((%a+)%)")
assert(i == 5 and j == 11 and select(3, ("THE (quick) fox"):find("%((%a+)%)")) == "quick", "find returns captures too")
assert(("aaa"):find("^a", 2) == 2 and ("abb"):find("^a", 2) == nil, "^ anchors at init")
assert(("a^"):find("^^") == nil and ("^a"):find("^^") == 1, "^^ is an anchor then a literal ^")
assert(("a$b"):find("$b") == 2, "$ not at the end is literal")
assert(("ab"):find("b$") == 2, "$ anchor")

-- character classes
assert(("abc123"):match("%d+") == "123", "%d")
assert(("  x"):match("%s*") == "  ", "%s")
assert(("abc123"):match("%a+") == "abc", "%a")
assert(("a_b"):match("%w+") == "a", "%w excludes _")
assert(("Hello"):match("%u%l+") == "Hello", "%u %l")
assert(("a,b"):match("%p") == ",", "%p")
assert(("\1\2x"):match("%c+") == "\1\2", "%c")
assert(("ff0x"):match("%x+") == "ff0", "%x")
assert(("abc"):match("%D+") == "abc" and ("12a"):match("%A+") == "12", "complements")
assert(("x\0y"):match("%z") == "\0", "%z matches NUL")
assert(("a\0b"):match("a%zb") == "a\0b", "%z in the middle")
assert(("abc"):match("[^%a]") == nil and ("ab1"):match("[^%a]") == "1", "negated set")
assert(("a-b"):find("[a-]", 2) == 2, "literal - at the end of a set")
assert(("]"):find("[]]") == 1, "] first in a set is literal")
assert(("^"):find("[%^]") == 1, "escaped ^ in a set")
assert(("b"):find("[a-c]") == 1 and ("d"):find("[a-c]") == nil, "ranges")
assert(("5"):match("[%d]") == "5" and ("x"):match("[^%d%s]") == "x", "classes inside sets")

-- quantifiers
assert(("aaa"):match("a*") == "aaa" and ("aaa"):match("a-") == "" and ("aaa"):match("a-$") == "aaa", "* and -")
assert(("aaab"):match("a+b") == "aaab" and ("b"):match("a+b") == nil, "+")
assert(("ab"):match("a?b") == "ab" and ("b"):match("a?b") == "b", "?")
assert(("<a><b>"):match("<.->") == "<a>" and ("<a><b>"):match("<.*>") == "<a><b>", "lazy vs greedy")
assert(("  trim  "):match("^%s*(.-)%s*$") == "trim", "trim idiom")

-- captures
local k, v = ("key = val"):match("(%w+)%s*=%s*(%w+)")
assert(k == "key" and v == "val", "two captures")
local p1, p2 = ("abc"):match("()b()")
assert(p1 == 2 and p2 == 3, "position captures")
local a, b2, c = ("hello"):match("(h)(e)(l)")
assert(a == "h" and b2 == "e" and c == "l", "three captures")
local outer, inner = ("abc"):match("(a(b)c)")
assert(outer == "abc" and inner == "b", "nested captures")
assert(("abab"):match("(ab)%1") == "ab", "back reference")
assert(("abcd"):match("(ab)%1") == nil, "back reference mismatch")
assert(("x = 'a', y = \"b\""):match("([\"'])(.-)%1") == "'", "quote back reference")
assert(select(2, ("x = 'a', y"):match("([\"'])(.-)%1")) == "a", "content between quotes")

-- %b and %f
assert(("f(a(b)c)d"):match("%b()") == "(a(b)c)", "%b")
assert(("x[[y]]z"):match("%b[]") == "[[y]]", "%b nested same")
assert(("no parens"):match("%b()") == nil, "%b no match")
local r, n = ("THE quick"):gsub("%f[%a]%a+", "W")
assert(r == "W W" and n == 2, "%f frontier")
assert(("hello world"):gsub("%f[%w]%w+", string.upper) == "HELLO WORLD", "frontier words")
assert(("THE (quick) fox"):find("%f[%a]%a+%f[%A]", 5) == 6, "frontier with find")

-- gmatch
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
assert(table.concat(words, "|") == "one|two|three", "gmatch words")
local pairs_found = {}
for key, val in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do pairs_found[#pairs_found + 1] = key .. val end
assert(table.concat(pairs_found, ",") == "a1,b2", "gmatch captures")
local positions = {}
for pos in ("abc"):gmatch("()") do positions[#positions + 1] = pos end
assert(table.concat(positions, ",") == "1,2,3,4", "empty matches at every position")
local cnt = 0
for _ in (""):gmatch(".") do cnt = cnt + 1 end
assert(cnt == 0, "gmatch on empty string")
cnt = 0
for _ in ("abc"):gmatch("^a") do cnt = cnt + 1 end
assert(cnt == 1 or cnt == 0, "anchor in gmatch")

-- gsub with string replacement
r, n = ("hello"):gsub("l", "L")
assert(r == "heLLo" and n == 2, "gsub all")
r, n = ("hello"):gsub("l", "L", 1)
assert(r == "heLlo" and n == 1, "gsub with a limit")
r, n = ("hello"):gsub("l", "L", 0)
assert(r == "hello" and n == 0, "gsub with limit 0")
r, n = ("abc"):gsub("", "-")
assert(r == "-a-b-c-" and n == 4, "gsub empty pattern")
r, n = ("hello"):gsub("", "x", 2)
assert(r == "xhxello" and n == 2, "empty pattern with a limit")
assert(("abc"):gsub("%w", "%0%0") == "aabbcc", "%0")
assert(("hello world"):gsub("(%w+) (%w+)", "%2 %1") == "world hello", "swap captures")
assert(("x"):gsub("x", "%%") == "%", "%% in replacement")
assert(("x"):gsub("x", "a%%b") == "a%b", "%% inside replacement")
r, n = ("abc"):gsub("b*", "X")
assert(r == "XaXXcX" and n == 4, "5.1 semantics: an empty match right after a match is allowed: " .. r)
r, n = ("aaa"):gsub("a*", "-")
assert(r == "--" and n == 2, "greedy match then empty match at the end (5.1): " .. r)
assert(("abc"):gsub(".", {a = 1}) == "1bc", "table replacement")
local okr, er = pcall(string.gsub, "abc", ".", {b = true})
assert(not okr and er:find("invalid replacement value (a boolean)", 1, true), "true is not a valid replacement: " .. tostring(er))
okr, er = pcall(string.gsub, "abc", ".", function() return {} end)
assert(not okr and er:find("invalid replacement value (a table)", 1, true), "table from a function: " .. tostring(er))
r = ("$x $y"):gsub("%$(%w+)", {x = "1", y = false})
assert(r == "1 $y", "false in a replacement table keeps the match")
r = ("abc"):gsub(".", function(ch) if ch == "b" then return nil end return ch:upper() end)
assert(r == "AbC", "nil from a replacement function keeps the match")
r = ("a1b2c3"):gsub("%d", {["1"] = "one", ["2"] = 2})
assert(r == "aoneb2c3", "number replacement value, missing key")
r = ("abc"):gsub("(a)(b)", function(x, y) return y .. x end)
assert(r == "bac", "function receives captures")
r = ("abc"):gsub("()b", function(pos) return pos end)
assert(r == "a2c", "position capture passed to the function")
r = ("[test]"):gsub("[%[%]]", "")
assert(r == "test", "brackets removed")
assert(("%d"):gsub("%%", "%%%%") == "%%d", "escaping percent signs")
assert(("a.b.c"):gsub("%.", "/") == "a/b/c", "escaped dot gsub")
assert(("hello"):gsub("l+", function(m) return "<" .. m .. ">" end) == "he<ll>o", "function replacement")

-- malformed patterns
local function perr(f, ...) local ok, e = pcall(f, ...) assert(not ok) return e end
assert(perr(string.find, "abc", "%"):find("malformed pattern (ends with '%')", 1, true), "ends with %")
assert(perr(string.find, "abc", "[a"):find("malformed pattern (missing ']')", 1, true), "missing ]")
assert(perr(string.gsub, "abc", "a", "%2"):find("invalid capture index", 1, true), "bad replacement index")
assert(perr(string.find, "abc", "%f"):find("missing '[' after '%f' in pattern", 1, true), "%f without set")
assert(perr(string.match, "abc", "(()"):find("unfinished capture", 1, true), "unfinished capture")
assert(perr(string.match, "abc", "%1"):find("invalid capture index", 1, true), "back reference without capture")
assert(perr(string.find, "abc", "(a"):find("unfinished capture", 1, true), "unclosed capture")
-- an unmatched ')' just fails to match in LuaJIT (PUC Lua raises "invalid pattern capture")
assert(string.find("abc", "a)") == nil, "unmatched ) in LuaJIT")
assert(perr(string.gsub, "abc", "a", true):find("string/function/table expected", 1, true), "bad replacement type")

-- long subjects
local long = string.rep("ab", 10000)
r, n = long:gsub("ab", "c")
assert(#r == 10000 and n == 10000, "gsub on a long subject")
assert(long:find("ba", 1, true) == 2, "plain find on a long subject")
assert(select(2, long:gsub("a", "")) == 10000, "count occurrences")
assert((string.rep("a", 100) .. "b"):match("^(a*)b$") == string.rep("a", 100), "backtracking")
print("ok")
