-- Parser corners: statements, function definitions, call sugar, comments.

-- function definition forms
local obj = {a = {b = {}}}
function obj.a.b.f(x) return x end
function obj.a.b:m(x) return self, x end
assert(obj.a.b.f(1) == 1, "dotted function name")
local self_, x = obj.a.b:m(2)
assert(self_ == obj.a.b and x == 2, "method definition adds self")
assert(select(2, obj.a.b.m(obj.a.b, 3)) == 3, "method called with a dot")
function global_fn_for_test() return "g" end
assert(global_fn_for_test() == "g", "global function statement")
global_fn_for_test = nil
local anon = function(...) return select("#", ...) end
assert(anon(1, 2) == 2, "anonymous vararg function")

-- call sugar
local function id(...) return ... end
assert(id"str" == "str" and id[[long]] == "long" and id{7}[1] == 7, "string and table call sugar")
assert(type(id{}) == "table", "table argument")
local chain = {f = function(self, s) return function(t) return s .. t[1] end end}
assert(chain:f"a"{"b"} == "ab", "chained sugar calls")
local str = "abc"
assert(str:upper():lower():len() == 3, "method chains")
assert(("x"):rep(2):upper() == "XX", "method on parenthesised literal")
assert(#{id(1, 2, 3)} == 3, "call inside constructor")

-- keywords as string keys
local kw = {["end"] = 1, ["and"] = 2, ["nil"] = 3}
assert(kw["end"] == 1 and kw["and"] == 2 and kw["nil"] == 3, "keywords in brackets")
assert(not loadstring("local t = {} t.end = 1"), "keyword after a dot is an error")

-- operators spacing and unusual but valid expressions
assert(2- -2 == 4 and 2 - - 2 == 4 and - -2 == 2, "minus minus")
assert(not not nil == false, "not not")
assert((("a")) == "a", "nested parentheses")
assert(#"abc" == 3 and -#"ab" == -2, "length in expressions")
assert(1 == 1 == true, "== is left associative")
assert(("a" .. "b" .. "c"):len() == 3, "concat chain")
assert(2 ^ 2 ^ 0 == 2, "^ right assoc with 0")
assert(1 + 2 .. "" == "3", "arith before concat")
local n = 0
n = n + (function() return 5 end)()
assert(n == 5, "immediately invoked function")

-- comments everywhere
local c = --[[inline]] 1 --[==[ another ]==] + --[[x]] 2 -- trailing
assert(c == 3, "comments between tokens")
--[[ multi
line ]] assert(true)
-- a comment that ends the file without a newline is tested via loadstring
assert(loadstring("return 1 -- no newline")() == 1, "comment at EOF")
assert(loadstring("return 1 --[[ unterminated? no: ]]")() == 1, "long comment at EOF")

-- numbers adjacent to dots and names
assert(loadstring("return 1..2") == nil, "1..2 is a malformed number")
assert(loadstring("return 1 .. 2")() == "12", "spaces make it a concatenation")
assert(loadstring("local a = {} return a.b") ~= nil, "field access")

-- nested functions and blocks
local function deep()
  return (function() return (function() return (function() return "deep" end)() end)() end)()
end
assert(deep() == "deep", "nested function expressions")
do do do local z = 1; assert(z == 1) end end end

-- semicolons after statements, not as empty statements
local a = 1; local b = 2; a, b = b, a;
assert(a == 2 and b == 1, "semicolons")

-- long chains of elseif
local function classify(v)
  if v < 0 then return "neg" elseif v == 0 then return "zero" elseif v < 10 then return "small"
  elseif v < 100 then return "medium" else return "large" end
end
assert(classify(-1) == "neg" and classify(0) == "zero" and classify(5) == "small" and classify(50) == "medium" and classify(500) == "large", "elseif chain")

-- a long expression and many constants
local parts = {}
for i = 1, 500 do parts[#parts + 1] = tostring(i) end
assert(loadstring("return " .. table.concat(parts, " + "))() == 125250, "500-term expression")
local consts = {}
for i = 1, 3000 do consts[#consts + 1] = "'k" .. i .. "'" end
local bigt = loadstring("return {" .. table.concat(consts, ",") .. "}")()
assert(#bigt == 3000 and bigt[3000] == "k3000", "3000 string constants")

-- deeply nested tables and parentheses within limits
assert(loadstring("return " .. ("{"):rep(100) .. ("}"):rep(100)) ~= nil, "100 nested constructors")
assert(loadstring("return " .. ("("):rep(100) .. "1" .. (")"):rep(100))() == 1, "100 nested parentheses")

-- many locals and upvalues limits
local src = {}
for i = 1, 200 do src[#src + 1] = "local v" .. i .. " = " .. i end
src[#src + 1] = "return v200"
assert(loadstring(table.concat(src, "\n"))() == 200, "200 locals")
src[#src] = "local v201 = 1 return v201"
local f, e = loadstring(table.concat(src, "\n"))
assert(f == nil and e:find("main function has more than 200 local variables", 1, true), "201 locals: " .. tostring(e))

-- line numbers of runtime errors with multi-line statements
local ok, err = pcall(loadstring("local t = nil\nlocal x =\n  1 +\n  t.field", "=ml"))
assert(not ok and err == "ml:4: attempt to index local 't' (a nil value)", "error line of a multi-line expression: " .. err)
ok, err = pcall(loadstring("local f = nil\nf(\n1,\n2)", "=call"))
assert(not ok and err:match("^call:%d: attempt to call local 'f' %(a nil value%)$"), "call error: " .. err)

-- line endings: \r\n, \r, \n\r
assert(loadstring("local a = 1\r\nlocal b = 2\r\nreturn a + b")() == 3, "CRLF source")
assert(loadstring("local a = 1\rreturn a")() == 1, "CR source")
ok, err = pcall(loadstring("\r\n\r\nerror('x')", "=crlf"))
assert(err == "crlf:3: x", "CRLF counts as one line: " .. err)
ok, err = pcall(loadstring("\n\r\n\rerror('x')", "=lfcr"))
assert(err == "lfcr:3: x", "LF CR counts as one line: " .. err)

-- the main chunk can return values (ignored by the interpreter)
assert(loadstring("return 1, 2, 3") ~= nil, "return from main chunk")

-- upvalue limit: LuaJIT allows 120 upvalues per function
local function upvalue_src(n)
  local s = {}
  for i = 1, n do s[#s + 1] = "local u" .. i .. " = " .. i end
  s[#s + 1] = "return function() return 0"
  for i = 1, n do s[#s + 1] = "+ u" .. i end
  s[#s + 1] = " end"
  return table.concat(s, "\n")
end
local uf = loadstring(upvalue_src(120), "=up")
assert(uf and uf()() == 7260, "120 upvalues")
local _, uerr = loadstring(upvalue_src(121), "=up")
assert(uerr == "up:244: function at line 122 has more than 120 upvalues", "121 upvalues: " .. tostring(uerr))
print("ok")
