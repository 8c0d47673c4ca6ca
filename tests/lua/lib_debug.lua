-- The debug library in detail, as LuaJIT 2.1 has it: getinfo, locals, upvalues,
-- metatables and environments of any value, tracebacks (of threads too), hooks.

local SRC = debug.getinfo(1, "S").short_src
local function E(f)
  local ok, e = pcall(f)
  assert(not ok, "an error was expected")
  return e
end
local function at(line, msg) return SRC .. ":" .. line .. ": " .. msg end
local function here() return debug.getinfo(2, "l").currentline end

-- getinfo on running functions (called without tail calls, so they have frames).
local fline = here() + 1
local function f(a, b, ...)
  local c = a + b
  local info = debug.getinfo(1, "nSlu")
  local line = here() - 1
  return info, line
end
local info, line = f(1, 2)
assert(info.name == "f" and info.namewhat == "local", "name: " .. tostring(info.name))
assert(info.what == "Lua" and info.source == "@" .. SRC and info.short_src == SRC, "source fields")
assert(info.linedefined == fline and info.lastlinedefined == fline + 5 and info.currentline == line, "lines")
assert(info.nups == 1 and info.nparams == 2 and info.isvararg == true, "u fields")
assert(info.func == nil and info.activelines == nil, "only the options asked for")
local t = {m = function() local r = debug.getinfo(1, "n") return r end}
info = t.m() assert(info.name == "m" and info.namewhat == "field", "field name")
info = t:m() assert(info.name == "m" and info.namewhat == "method", "method name")
gfun = function() local r = debug.getinfo(1, "n") return r end
info = gfun() assert(info.name == "gfun" and info.namewhat == "global", "global name")
info = debug.getinfo(1, "nS")
assert(info.what == "main" and info.linedefined == 0 and info.name == nil and info.namewhat == "", "main chunk")
info = debug.getinfo(1)
assert(info.func ~= nil and info.currentline == here() - 1 and info.nups == 0 and info.source ~= nil and info.activelines == nil, "default options flnSu")

-- getinfo on function values.
info = debug.getinfo(f)
assert(info.func == f and info.linedefined == fline and info.currentline == -1 and info.namewhat == "" and info.name == nil, "function value")
local lines = debug.getinfo(f, "L").activelines
assert(lines[fline + 1] and lines[fline + 2] and lines[fline + 3] and lines[fline + 4] and not lines[fline - 1] and not lines[fline + 6], "activelines")
info = debug.getinfo(print, "SlunfL")
assert(info.what == "C" and info.source == "=[C]" and info.short_src == "[C]" and info.linedefined == -1 and info.lastlinedefined == -1, "C function S")
assert(info.currentline == -1 and info.nparams == 0 and info.isvararg == true and info.func == print and info.activelines == nil, "C function lunfL")
local chunk = loadstring("\n\nlocal r = debug.getinfo(1, 'S') return r", "=mychunk")
info = chunk()
assert(info.source == "=mychunk" and info.short_src == "mychunk" and info.what == "main" and info.lastlinedefined == 3, "loaded chunk")
info = loadstring("local r = debug.getinfo(1, 'S') return r")()
assert(info.short_src == '[string "local r = debug.getinfo(1, \'S\') return r"]' and info.source == "local r = debug.getinfo(1, 'S') return r", "string chunk")
assert(debug.getinfo(1000) == nil and debug.getinfo(-1) == nil, "levels out of the stack")
assert(debug.getinfo("1", "l").currentline == here(), "numeric strings are levels")
assert(E(function() local r = debug.getinfo(1, "x") return r end) == at(here(), "bad argument #2 to 'getinfo' (invalid option)"), "bad option")
assert(E(function() local r = debug.getinfo(1, ">S") return r end) == at(here(), "bad argument #2 to 'getinfo' (invalid option)"), "> is internal")
assert(E(function() local r = debug.getinfo({}) return r end) == at(here(), "bad argument #1 to 'getinfo' (function or level expected)"), "bad target")
assert(E(function() local r = debug.getinfo() return r end) == at(here(), "bad argument #1 to 'getinfo' (function or level expected)"), "no target")

-- Locals.
local function locals(x, y, ...)
  local z = x + y
  local names, values = {}, {}
  for i = 1, 3 do
    local n, v = debug.getlocal(1, i)
    names[i], values[i] = n, v
  end
  local va1, vv1 = debug.getlocal(1, -1)
  local va2, vv2 = debug.getlocal(1, -2)
  local va3 = debug.getlocal(1, -3)
  assert(debug.setlocal(1, 3, 30) == "z" and z == 30, "setlocal")
  assert(debug.setlocal(1, 100, 1) == nil, "setlocal out of range")
  assert(debug.getlocal(1, 100) == nil, "getlocal out of range")
  return names, values, va1, vv1, va2, vv2, va3
end
local names, values, va1, vv1, va2, vv2, va3 = locals(1, 2, "v1", "v2")
assert(names[1] == "x" and names[2] == "y" and names[3] == "z" and values[1] == 1 and values[2] == 2 and values[3] == 3, "getlocal")
assert(va1 == "(*vararg)" and vv1 == "v1" and va2 == "(*vararg)" and vv2 == "v2" and va3 == nil, "varargs")
assert(debug.getlocal(locals, 1) == "x" and debug.getlocal(locals, 2) == "y" and debug.getlocal(locals, 3) == nil, "parameter names")
assert(debug.getlocal(print, 1) == nil, "no parameter names for builtins")
assert(E(function() local r = debug.getlocal(1000, 1) return r end) == at(here(), "bad argument #1 to 'getlocal' (level out of range)"), "level")
assert(E(function() local r = debug.getlocal(1) return r end) == at(here(), "bad argument #2 to 'getlocal' (number expected, got no value)"), "slot")
assert(E(function() local r = debug.setlocal(1000, 1, 1) return r end) == at(here(), "bad argument #1 to 'setlocal' (level out of range)"), "set level")
assert(E(function() local r = debug.setlocal(1, 1) return r end) == at(here(), "bad argument #3 to 'setlocal' (value expected)"), "set value")

-- Upvalues.
local u1, u2 = 10, 20
local function g() return u1 + u2 end
local n1, v1 = debug.getupvalue(g, 1)
local n2, v2 = debug.getupvalue(g, 2)
assert(n1 == "u1" and v1 == 10 and n2 == "u2" and v2 == 20, "getupvalue")
assert(select("#", debug.getupvalue(g, 3)) == 0 and select("#", debug.getupvalue(g, 0)) == 0, "no such upvalue")
assert(debug.setupvalue(g, 1, 5) == "u1" and u1 == 5 and g() == 25, "setupvalue writes the variable")
assert(select("#", debug.setupvalue(g, 9, 1)) == 0, "setupvalue out of range")
local w = coroutine.wrap(function() end)
n1, v1 = debug.getupvalue(w, 1)
assert(n1 == "" and type(v1) == "thread", "builtin closures have unnamed upvalues")
assert(E(function() local r = debug.getupvalue(1, 1) return r end) == at(here(), "bad argument #1 to 'getupvalue' (function expected, got number)"), "not a function")
assert(E(function() local r = debug.setupvalue(g, 1) return r end) == at(here(), "bad argument #3 to 'setupvalue' (value expected)"), "setupvalue value")
local function h() return u1 end
assert(type(debug.upvalueid(g, 1)) == "userdata", "upvalueid is a light userdata")
assert(debug.upvalueid(g, 1) == debug.upvalueid(h, 1) and debug.upvalueid(g, 2) ~= debug.upvalueid(h, 1), "shared upvalues have one id")
assert(E(function() local r = debug.upvalueid(g, 3) return r end) == at(here(), "bad argument #2 to 'upvalueid' (index out of range)"), "upvalueid range")
debug.upvaluejoin(h, 1, g, 2)
assert(h() == 20 and debug.upvalueid(h, 1) == debug.upvalueid(g, 2), "upvaluejoin")
u2 = 21
assert(h() == 21, "joined upvalue is shared")
assert(E(function() local r = debug.upvaluejoin(print, 1, g, 1) return r end) == at(here(), "bad argument #1 to 'upvaluejoin' (Lua function expected)"), "join a builtin")
assert(E(function() local r = debug.upvaluejoin(h, 1, g, 5) return r end) == at(here(), "bad argument #4 to 'upvaluejoin' (index out of range)"), "join range")

-- Metatables of any value, environments.
local prot = setmetatable({}, {__metatable = "locked"})
assert(type(debug.getmetatable(prot)) == "table" and debug.getmetatable(1) == nil, "debug.getmetatable ignores __metatable")
assert(debug.setmetatable(prot, nil) == true and getmetatable(prot) == nil, "debug.setmetatable ignores protection, returns true")
assert(debug.setmetatable(1, {__index = {twice = function(n) return n * 2 end}}) == true and (21):twice() == 42, "number metatable")
assert(debug.setmetatable(1, nil) == true and debug.getmetatable(2) == nil, "number metatable removed")
debug.setmetatable(nil, {__index = function() return "from nil" end})
local nothing
assert(nothing.field == "from nil", "nil metatable")
debug.setmetatable(nil, nil)
assert(E(function() local r = debug.setmetatable(1, 2) return r end) == at(here(), "bad argument #2 to 'setmetatable' (nil or table expected)"), "bad metatable")
assert(E(function() local r = debug.getmetatable() return r end) == at(here(), "bad argument #1 to 'getmetatable' (value expected)"), "getmetatable()")
assert(type(debug.getregistry()) == "table", "registry")
assert(debug.getfenv(f) == _G and debug.getfenv(1) == nil and debug.getfenv("s") == nil, "getfenv")
local env = {}
assert(debug.setfenv(g, env) == g and debug.getfenv(g) == env, "setfenv of a function")
debug.setfenv(g, _G)
local ud = newproxy()
assert(debug.setfenv(ud, env) == ud and debug.getfenv(ud) == env, "userdata environment")
assert(E(function() local r = debug.setfenv(1, {}) return r end) == at(here(), "'setfenv' cannot change environment of given object"), "setfenv(1)")
assert(E(function() local r = debug.setfenv(g) return r end) == at(here(), "bad argument #2 to 'setfenv' (table expected, got no value)"), "setfenv table")

-- Coroutines: levels, locals and tracebacks of another thread.
local coline = here() + 1
local co = coroutine.create(function(p) local q = p * 2 coroutine.yield() end)
assert(coroutine.resume(co, 4))
assert(debug.getinfo(co, 0, "S").what == "C" and debug.getinfo(co, 0, "n").name == "yield", "level 0 of a suspended coroutine is yield")
assert(debug.getinfo(co, 1, "l").currentline == coline and debug.getinfo(co, 2) == nil, "its body")
local ln, lv = debug.getlocal(co, 1, 2)
assert(debug.getlocal(co, 1, 1) == "p" and ln == "q" and lv == 8, "locals of a coroutine")
assert(debug.setlocal(co, 1, 2, 9) == "q" and select(2, debug.getlocal(co, 1, 2)) == 9, "setlocal in a coroutine")
assert(E(function() local r = debug.getlocal(co, 5, 1) return r end) == at(here(), "bad argument #2 to 'getlocal' (level out of range)"), "coroutine level")
local body = SRC .. ":" .. coline .. ": in function <" .. SRC .. ":" .. coline .. ">"
assert(debug.traceback(co) == "stack traceback:\n\t[C]: in function 'yield'\n\t" .. body, "traceback of a coroutine")
assert(debug.traceback(co, "msg") == "msg\nstack traceback:\n\t[C]: in function 'yield'\n\t" .. body, "with a message")
assert(debug.traceback(co, 12, 1) == "12\nstack traceback:\n\t" .. body, "numbers are messages; level 1")
assert(debug.traceback(co, nil) == nil, "an explicit nil message is returned as is")
assert(debug.traceback(coroutine.create(print)) == "stack traceback:", "a coroutine not started")
local tab = {}
assert(debug.traceback(tab) == tab and debug.traceback(nil) == nil, "non-string messages are returned unchanged")
assert(E(function() local r = debug.traceback("x", "y") return r end) == at(here(), "bad argument #2 to 'traceback' (number expected, got string)"), "level type")

-- Tracebacks inside a coroutine have no host frame at the bottom: compare them whole.
local recline = here() + 2
local deep = coroutine.wrap(function()
  local function rec(n) if n == 0 then local r = debug.traceback("deep") return r end local r = rec(n - 1) return r end
  local r = rec(30)
  return r
end)
local expected = {"deep", "stack traceback:"}
for _ = 1, 11 do expected[#expected + 1] = "\t" .. SRC .. ":" .. recline .. ": in function 'rec'" end
expected[#expected + 1] = "\t..."
for _ = 1, 9 do expected[#expected + 1] = "\t" .. SRC .. ":" .. recline .. ": in function 'rec'" end
expected[#expected + 1] = "\t" .. SRC .. ":" .. (recline + 1) .. ": in function <" .. SRC .. ":" .. (recline - 1) .. ">"
assert(deep() == table.concat(expected, "\n"), "long tracebacks keep the first 11 and last 10 levels")
local tb = coroutine.wrap(function() local function inner() local r = debug.traceback("m", 2) return r end local r = inner() return r end)
assert(tb() == "m\nstack traceback:\n\t" .. SRC .. ":" .. here() - 1 .. ": in function <" .. SRC .. ":" .. here() - 1 .. ">", "traceback level")

-- pcall counts as a level of its own (a builtin) below the function it calls.
local pinfo
assert(pcall(function() pinfo = debug.getinfo(2, "nSl") end))
assert(pinfo.what == "C" and pinfo.name == "pcall" and pinfo.namewhat == "global" and pinfo.currentline == -1, "the pcall level")
local pline = here() + 1
local ptb = coroutine.wrap(function() local r select(2, pcall(function() r = debug.traceback("p") end)) return r end)()
local pfun = SRC .. ":" .. pline .. ": in function <" .. SRC .. ":" .. pline .. ">"
assert(ptb == "p\nstack traceback:\n\t" .. pfun .. "\n\t[C]: in function 'pcall'\n\t" .. pfun, "pcall in a traceback: " .. ptb)

-- Hooks.
assert(select("#", debug.gethook()) == 3 and debug.gethook() == nil, "no hook")
local events = {}
local function callee(x) return x end
local function caller(x) local r = callee(x) + 1 return r end
local hook = function(e, l)
  local i = debug.getinfo(2, "n")
  events[#events + 1] = e .. ":" .. tostring(i and i.name) .. ":" .. tostring(l)
end
debug.sethook(hook, "cr")
caller(1)
debug.sethook()
assert(table.concat(events, " ") == "call:caller:nil call:callee:nil return:callee:nil return:caller:nil call:sethook:nil", "call and return events: " .. table.concat(events, " "))
events = {}
local first = here() + 2
debug.sethook(function(e, l) events[#events + 1] = l end, "l")
local a = 1
local b = 2
debug.sethook()
assert(#events == 3 and events[1] == first and events[2] == first + 1 and events[3] == first + 2, "line events")
local count = 0
debug.sethook(function(e) count = count + 1 assert(e == "count") end, "", 1)
for i = 1, 10 do local y = i * 2 end
debug.sethook()
assert(count > 10, "count events")
local hf = function() end
debug.sethook(hf, "crl", 5)
local gf, gm, gc = debug.gethook()
assert(gf == hf and gm == "crl" and gc == 5, "gethook")
debug.sethook(hf, "rc")
gf, gm, gc = debug.gethook()
debug.sethook()
assert(gm == "cr" and gc == 0, "gethook normalises the mask")
assert(E(function() local r = debug.sethook(1, "c") return r end) == at(here(), "bad argument #1 to 'sethook' (function expected, got number)"), "hook type")
assert(E(function() local r = debug.sethook(hf) return r end) == at(here(), "bad argument #2 to 'sethook' (string expected, got no value)"), "mask")
local herr = here() + 1
local function disarm() debug.sethook() error("in hook") end
local ok, e = pcall(function() debug.sethook(disarm, "c") local r = type(1) return r end)
assert(not ok and e == at(herr, "in hook") and debug.gethook() == nil, "errors in hooks propagate: " .. tostring(e))

-- A line hook set by a return hook applies in the caller at once (the interpreter's
-- Lua-to-Lua return path must see the new hook mask).
do
  local lines = 0
  local function f() return 1 end
  local function g() local y = f() return y end
  debug.sethook(function(ev)
    if ev == "return" then debug.sethook(function() lines = lines + 1 end, "l") end
  end, "r")
  g()
  local x = 1
  x = x + 1
  debug.sethook()
  assert(lines > 0, "line hook set by a return hook")
end
print("ok")
