-- String literal syntax: escapes, long brackets, line continuation.

assert("\a\b\f\n\r\t\v" == string.char(7, 8, 12, 10, 13, 9, 11), "C escapes")
assert("\\" == string.char(92) and "\"" == string.char(34) and '\'' == string.char(39), "quote escapes")
assert('"' == "\"" and "'" == '\'', "unescaped other quote")
assert("\65\066\0067" == "AB\0067", "decimal escapes take up to three digits")
assert("\0067" == string.char(6) .. "7", "\\006 then 7")
assert("\0" == string.char(0) and #"\0" == 1, "NUL byte")
assert(#"a\0b\0c" == 5, "embedded NULs count")
assert("\255" == string.char(255), "\\255")
assert("\x41\x62\x7a" == "Abz", "hex escapes")
assert("\xff\xFF" == string.char(255, 255), "hex escapes case-insensitive")
assert("\x00" == "\0", "hex zero")
assert("\u{41}" == "A", "\\u{41}")
assert("\u{e9}" == "\195\169", "\\u{e9} is UTF-8 encoded")
assert("\u{20AC}" == "\226\130\172", "euro sign")
assert("\u{1F600}" == "\240\159\152\128", "4-byte UTF-8")
assert("\u{7F}" == "\127" and #"\u{80}" == 2 and #"\u{7FF}" == 2 and #"\u{800}" == 3, "UTF-8 boundaries")
assert(#"\u{FFFF}" == 3 and #"\u{10000}" == 4 and #"\u{10FFFF}" == 4, "UTF-8 boundaries 2")
assert("\u{0000041}" == "A", "leading zeros in \\u")

-- \z skips following whitespace including newlines
local s = "abc\z
           def"
assert(s == "abcdef", "\\z skips newline and spaces")
assert("a\z  b" == "ab", "\\z skips spaces")
assert("a\z" == "a", "\\z at end")

-- backslash-newline inserts a newline
local cont = "line1\
line2"
assert(cont == "line1\nline2", "backslash newline")

-- long strings
assert([[abc]] == "abc", "level 0 long string")
assert([==[a]]b]=]c]==] == "a]]b]=]c", "level 2 long string contains lower-level closers")
local ls = [[
first line]]
assert(ls == "first line", "first newline is skipped")
local ls2 = [[

two]]
assert(ls2 == "\ntwo", "only the first newline is skipped")
assert([[\n\t]] == "\\n\\t", "no escapes in long strings")
assert([=[[[nested]]]=] == "[[nested]]", "nested brackets")
assert([====[]====] == "", "empty level 4 string")
local crlf = load("return [[\r\nx\r\ny]]")()
assert(crlf == "x\ny", "CRLF inside long strings is normalised to \\n")
local lf_cr = load("return [[a\n\rb]]")()
assert(lf_cr == "a\nb", "LF CR is one newline")
assert(load("return 'a\\\r\nb'")() == "a\nb", "backslash CRLF is one newline")

-- long comments
local v = 1 --[[ a comment
  spanning lines ]] + 1
assert(v == 2, "long comment inside an expression")
--[==[
  a level-2 comment with ]] inside
]==]
local w = 3 --[=[ ]] ]=] + 4
assert(w == 7, "level 1 comment")
---[[ this is a line comment, not a long comment
w = 10
--]]
assert(w == 10, "---[[ trick")
--[[]] w = 11
assert(w == 11, "empty long comment then code")

-- single and double quotes are equivalent
assert('abc' == "abc", "quote kinds")
assert('a"b' == "a\"b", "mixed quotes")

-- calling with string literal and table literal sugar
local function id(x) return x end
assert(id"lit" == "lit", "f'str' call")
assert(id[[long]] == "long", "f[[str]] call")
assert(id{1}[1] == 1, "f{table} call")
assert(("abc"):upper() == "ABC", "method on parenthesised literal")
assert(#[[
]] == 0, "long string with only the skipped newline")

-- invalid escapes and unfinished strings are syntax errors
local function syntax_error(src, pat)
  local f, e = loadstring(src)
  assert(f == nil, "expected a syntax error for " .. src)
  assert(e:find(pat, 1, true), "message for " .. src .. ": " .. e)
end
syntax_error([[return "\q"]], "invalid escape sequence")
syntax_error([[return "\x4"]], "invalid escape sequence")
syntax_error([[return "\xg0"]], "invalid escape sequence")
syntax_error([[return "\u{110000}"]], "invalid escape sequence")
syntax_error([[return "\u41"]], "invalid escape sequence")
syntax_error([[return "\256"]], "invalid escape sequence")
syntax_error("return \"abc", "unfinished string")
syntax_error("return \"abc\ndef\"", "unfinished string")
syntax_error("return [[abc", "unfinished long string")
syntax_error("return [=[abc]]", "unfinished long string")
syntax_error("--[[ abc", "unfinished long comment")
syntax_error("return [=x", "invalid long string delimiter")

-- string.char/byte round trip over all bytes
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
local all = table.concat(bytes)
assert(#all == 256, "256 bytes")
for i = 0, 255 do assert(all:byte(i + 1) == i, "byte " .. i) end
assert(loadstring("return " .. string.format("%q", all))() == all, "%q round trips every byte")
print("ok")
