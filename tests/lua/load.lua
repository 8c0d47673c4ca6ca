-- load, loadstring, loadfile, dofile, require.

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local data = dir .. "/data/"

-- loadstring
local f = loadstring("return 1 + 1")
assert(type(f) == "function" and f() == 2, "loadstring")
assert(loadstring("return ...")(1, 2, 3) == 1 and select("#", loadstring("return ...")(1, 2, 3)) == 3, "chunks are vararg")
assert(select("#", loadstring("")()) == 0, "empty chunk")
local bad, err = loadstring("x = = 1")
assert(bad == nil and err == [[[string "x = = 1"]:1: unexpected symbol near '=']], "syntax error message: " .. err)
bad, err = loadstring("error('e')", "named")
local ok, e = pcall(bad)
assert(e == [[[string "named"]:1: e]], "chunk name in runtime errors: " .. e)
ok, e = pcall(loadstring("error('e')", "=named"))
assert(e == "named:1: e", "= chunk name used verbatim: " .. e)
ok, e = pcall(loadstring("error('e')", "@some/file.lua"))
assert(e == "some/file.lua:1: e", "@ chunk name is a file name: " .. e)
ok, e = pcall(loadstring("\n\nerror('e')"))
assert(e == [[[string "..."]:3: e]], "multi-line source is abbreviated: " .. e)
ok, e = pcall(loadstring("local x = 1\nerror('e')"))
assert(e == [[[string "local x = 1..."]:2: e]], "first line kept: " .. e)
ok, e = pcall(loadstring("error('e')", "a very long chunk name that goes on and on and on and on and on and on and on"))
assert(e == [[[string "a very long chunk name that goes on and on an..."]:1: e]], "long names truncated: " .. e)

-- load with a string (LuaJIT 2.1) and with mode / env arguments
assert(load("return 7")() == 7, "load accepts a string")
assert(load("return x", "chunk", "t", {x = 5})() == 5, "load with env")
bad, err = load("return 1", "x", "b")
assert(bad == nil and err:find("attempt to load chunk with wrong mode", 1, true), "text chunk in binary mode: " .. tostring(err))
bad, err = load("syntax error here", "=mychunk")
assert(err == "mychunk:1: '=' expected near 'error'", "load syntax error: " .. tostring(err))

-- load with a reader function
local parts = {"return ", "1 ", "+ ", "2"}
local i = 0
f = load(function() i = i + 1; return parts[i] end)
assert(f() == 3, "reader pieces")
i = 0
f = load(function() i = i + 1; if i == 1 then return "return 5" elseif i == 2 then return "" end return "9" end)
assert(f() == 5, "empty string ends the reader")
f = load(function() return nil end)
assert(type(f) == "function" and select("#", f()) == 0, "reader returning nil at once: empty chunk")
local chars = "local a = 40 return a + 2"
local pos = 0
f = load(function() pos = pos + 1; return chars:sub(pos, pos) ~= "" and chars:sub(pos, pos) or nil end, "=charwise")
assert(f() == 42, "one character at a time")
ok, e = pcall(load, function() return {} end)
assert(ok and e == nil, "reader returning a table: load returns nil")
assert(select(3, pcall(load, function() return {} end)) == "reader function must return a string", "reader type error message")
ok, f, e = pcall(load, function() error("reader err") end)
assert(ok and f == nil and e:find("reader err", 1, true), "error in the reader is returned by load: " .. tostring(e))
local longsrc = {"local s = 0\n"}
for k = 1, 2000 do longsrc[#longsrc + 1] = "s = s + " .. k .. "\n" end
longsrc[#longsrc + 1] = "return s"
i = 0
f = load(function() i = i + 1; return longsrc[i] end)
assert(f() == 2001000, "long chunk through a reader")

-- The reader is called lazily, as the lexer needs more: a syntax error stops it
-- (LuaJIT reads one character past the bad token).
local function counting(src)
  local n = 0
  return function() n = n + 1; return src:sub(n, n) end, function() return n end
end
local rd, calls = counting("*a = 123")
f, e = load(rd, "=lazy")
assert(f == nil and e == "lazy:1: unexpected symbol near '*'" and calls() == 2, "syntax error stops the reader: " .. calls())
rd, calls = counting("x = = 1 + 2 + 3")
f, e = load(rd, "=lazy")
assert(f == nil and e == "lazy:1: unexpected symbol near '='" and calls() == 6, "stops after the bad token: " .. calls())
rd, calls = counting("return 1")
assert(load(rd)() == 1 and calls() == 9, "reads to the end, then once more for the end")
-- Collections while the chunk is being compiled are harmless.
rd = counting("local t = {} for k = 1, 10 do t[k] = ('x'):rep(k) end return #t[10]")
assert(load(function() collectgarbage() return rd() end)() == 10, "collect inside the reader")
-- Numbers count as strings; the mode is checked on the first piece.
i = 0
f = load(function() i = i + 1; if i == 1 then return "return " elseif i == 2 then return 42 end end)
assert(f() == 42, "number pieces")
i = 0
f, e = load(function() i = i + 1; return "return 1" end, "=m", "b")
assert(f == nil and e == "attempt to load chunk with wrong mode" and i == 1, "mode checked on the first piece")
-- A reader that cannot yield across load.
ok, e = coroutine.wrap(function() return pcall(load, function() coroutine.yield() end) end)()
assert(ok and e == nil, "yield in a reader")
-- A dumped function with upvalues loads with fresh nil upvalues.
local up1, up2 = 1, 2
f = loadstring(string.dump(function() return up1, up2 end))
assert(select("#", f()) == 2 and f() == nil and debug.getupvalue(f, 2) == "up2", "dumped upvalues")

-- load's environment defaults to the global one
local env_chunk = loadstring("return _G")
assert(env_chunk() == _G, "default environment")

-- loadfile / dofile
local lf, lerr = loadfile(data .. "dofile_helper.lua")
assert(type(lf) == "function", "loadfile: " .. tostring(lerr))
local r1, r2 = lf("arg1")
assert(r1 == "helper result" and r2 == "arg1" and dofile_helper_loaded == 1, "loadfile chunk receives arguments")
assert(dofile(data .. "dofile_helper.lua") == "helper result" and dofile_helper_loaded == 2, "dofile runs the file")
lf, lerr = loadfile("/nonexistent/dir/file.lua")
assert(lf == nil and lerr == "cannot open /nonexistent/dir/file.lua: No such file or directory", "loadfile error: " .. tostring(lerr))
ok, e = pcall(dofile, "/nonexistent/dir/file.lua")
assert(not ok and e:find("cannot open /nonexistent/dir/file.lua", 1, true), "dofile error: " .. tostring(e))
lf, lerr = loadfile(data .. "syntax_error.lua")
assert(lf == nil and lerr:find("syntax_error.lua:2: unexpected symbol near '='", 1, true), "loadfile syntax error: " .. tostring(lerr))
ok, e = pcall(dofile, data .. "syntax_error.lua")
assert(not ok and e:find("syntax_error.lua:2:", 1, true), "dofile propagates syntax errors")

-- shebang line is skipped
f = loadstring("#!/usr/bin/env lua\nreturn 'shebang'")
assert(f and f() == "shebang", "first line starting with # is skipped")

-- require with package.path
package.path = data .. "?.lua;" .. package.path
local m = require("mod_helper")
assert(m.name == "mod_helper" and m.answer == 42, "require passes the module name")
assert(require("mod_helper") == m and mod_helper_loads == 1, "require caches in package.loaded")
assert(package.loaded.mod_helper == m, "package.loaded")
assert(require("mod_noreturn") == true and mod_noreturn_ran, "module returning nothing is stored as true")
package.preload.virtual_mod = function(name) return {virtual = name} end
assert(require("virtual_mod").virtual == "virtual_mod", "package.preload")
ok, e = pcall(require, "definitely_missing_module_xyz")
assert(not ok and e:find("module 'definitely_missing_module_xyz' not found:", 1, true), "missing module")
assert(e:find("no field package.preload['definitely_missing_module_xyz']", 1, true), "lists the preload search")
package.loaded.fake = "already"
assert(require("fake") == "already", "anything in package.loaded is returned")
assert(require("string") == string and require("_G") == _G, "builtin libraries are preloaded")
assert(type(package.loaders) == "table" and package.searchers == nil, "5.1 has package.loaders")
assert(package.config:sub(1, 1) == "/", "package.config")

-- string.dump round trip
local function dumped(a) return a * 2 end
local bin = string.dump(dumped)
assert(type(bin) == "string" and #bin > 0, "string.dump")
local undumped = load(bin)
assert(undumped(21) == 42, "load a dumped function")
bad, err = load(bin, "b", "t")
assert(bad == nil and err:find("wrong mode", 1, true), "binary chunk refused in text mode")
assert(not pcall(string.dump, print), "cannot dump a builtin")

-- syntax error messages
local function serr(src) local _, m2 = loadstring(src, "=src") return m2 end
assert(serr("x =") == "src:1: unexpected symbol near '<eof>'", "eof")
assert(serr("for") == "src:1: '<name>' expected near '<eof>'", "for")
assert(serr("local 1") == "src:1: '<name>' expected near '1'", "local 1")
assert(serr("x = }") == "src:1: unexpected symbol near '}'", "}")
assert(serr("a.b:c = 1") == "src:1: function arguments expected near '='", "method call syntax")
assert(serr("return return") == "src:1: unexpected symbol near 'return'", "return return")
assert(serr("if x then") == "src:1: 'end' expected near '<eof>'", "missing end on the same line")
assert(serr("if x then\n\n") == "src:3: 'end' expected (to close 'if' at line 1) near '<eof>'", "missing end on a later line")
assert(serr("x = 'abc") == "src:1: unfinished string near '<eof>'", "unfinished string")
assert(serr("function f( end") == "src:1: <name> or '...' expected near 'end'", "bad parameter list")
assert(serr("function f() x = ... end") == "src:1: cannot use '...' outside a vararg function near '...'", "vararg outside")
assert(serr("x = a b") == "src:1: '=' expected near '<eof>'", "two names")
assert(serr("x = 3 + * 4") == "src:1: unexpected symbol near '*'", "binary op without operand")
assert(serr("local x = f\n(g)()") == "src:2: ambiguous syntax (function call x new statement) near '('", "ambiguous syntax")
assert(serr("a=" .. ("("):rep(300) .. "1" .. (")"):rep(300)):find("chunk has too many syntax levels", 1, true), "nesting limit")
assert(serr("x = 1e") == "src:1: malformed number near '1e'", "malformed number")
assert(serr("x = 'abc\\q'") == "src:1: invalid escape sequence near ''abc'", "invalid escape: the token text so far")
assert(serr("x = 'abc\ndef'") == "src:1: unfinished string near ''abc'", "newline in a string")
assert(serr("x = 12abc") == "src:1: malformed number near '12abc'", "malformed number with letters")
assert(serr("x = @") == "src:1: unexpected symbol near '@'", "bad character")
assert(serr("local t = {1 2}") == "src:1: '}' expected near '2'", "missing comma in a constructor")
assert(serr("f(1,)") == "src:1: unexpected symbol near ')'", "trailing comma in arguments")
assert(serr("local t = {1, 2,}") == nil, "trailing separator in a constructor is fine")
assert(serr("local t = {1; 2; x = 3;}") == nil, "semicolon separators")
print("ok")
