-- The parts of the debug library that ordinary scripts use.

local function f(a, b, ...)
  local c = 3
  local info = debug.getinfo(1, "nSlu")
  assert(info.name == "f" and info.namewhat == "local", "name of the running function")
  assert(info.what == "Lua" and info.short_src:match("debug%.lua$") and info.source:match("^@.*debug%.lua$"), "source fields")
  assert(info.currentline == 5 and info.linedefined == 3 and info.lastlinedefined == 17, "line fields")
  assert(info.nups == 0, "no upvalues")
  local n1, v1 = debug.getlocal(1, 1)
  local n3, v3 = debug.getlocal(1, 3)
  local n4, v4 = debug.getlocal(1, 4)
  assert(n1 == "a" and v1 == 1 and n3 == "c" and v3 == 3 and n4 == "info", "getlocal")
  assert(debug.getlocal(1, 50) == nil, "getlocal past the last local")
  assert(debug.setlocal(1, 3, 30) == "c" and c == 30, "setlocal")
  return info
end
f(1, 2)

local pinfo = debug.getinfo(print)
assert(pinfo.what == "C" and pinfo.short_src == "[C]" and pinfo.source == "=[C]" and pinfo.currentline == -1, "C function info")
local main = debug.getinfo(1, "S")
assert(main.what == "main", "main chunk")
assert(debug.getinfo(100) == nil, "level beyond the stack")
local finfo = debug.getinfo(f, "S")
assert(finfo.linedefined == 3 and finfo.what == "Lua", "getinfo of a function value")
assert(debug.getinfo(1, "f").func ~= nil, "func field")
local ok = pcall(debug.getinfo, 1, ">")
assert(not ok, "invalid option")

-- traceback
local tb = debug.traceback("msg")
assert(tb:match("^msg\nstack traceback:\n"), "traceback starts with the message")
assert(tb:find("debug.lua:" .. debug.getinfo(1, "l").currentline .. ": in main chunk", 1, true) or tb:find("in main chunk", 1, true), "traceback mentions the main chunk")
assert(type(debug.traceback()) == "string" and debug.traceback():match("^stack traceback:"), "traceback without a message")
local t = {}
assert(debug.traceback(t) == t, "non-string messages are returned unchanged")
assert(debug.traceback(nil) == nil, "nil returned unchanged")
local function lvl3() local r = debug.traceback("deep", 1) return r end
local function lvl2() local r = lvl3() return r end
local function lvl1() local r = lvl2() return r end
local deep = lvl1()
assert(deep:find("in function 'lvl3'", 1, true) and deep:find("in function 'lvl2'", 1, true) and deep:find("in function 'lvl1'", 1, true), "traceback names functions: " .. deep)
local function tail3() return debug.traceback("tail", 1) end
local function tail2() local r = tail3() return r end
assert(not tail2():find("tail3", 1, true), "a tail-called builtin runs in place of its caller's frame")
local co = coroutine.create(function() coroutine.yield() end)
coroutine.resume(co)
local ctb = debug.traceback(co)
assert(ctb:match("^stack traceback:") and ctb:find("in function 'yield'", 1, true), "traceback of a coroutine: " .. ctb)
assert(debug.traceback(co, "hi"):match("^hi\nstack traceback:"), "coroutine traceback with a message")

-- upvalues
local up = 5
local function g() return up end
local name, val = debug.getupvalue(g, 1)
assert(name == "up" and val == 5, "getupvalue")
assert(debug.setupvalue(g, 1, 7) == "up" and g() == 7 and up == 7, "setupvalue changes the shared variable")
assert(debug.getupvalue(g, 2) == nil, "no second upvalue")

-- metatables through debug
assert(debug.getmetatable("").__index == string, "debug.getmetatable on a string")
local prot = setmetatable({}, {__metatable = "locked"})
assert(type(debug.getmetatable(prot)) == "table", "debug.getmetatable ignores __metatable")
local num_mt = {__index = function(n, k) return k end}
debug.setmetatable(0, num_mt)
assert((5).field == "field", "numbers can get a metatable through debug.setmetatable")
debug.setmetatable(0, nil)
assert(debug.getmetatable(0) == nil, "number metatable removed")

-- registry and environment helpers exist
assert(type(debug.getregistry()) == "table", "registry")
assert(debug.getfenv(f) == _G, "debug.getfenv")
print("ok")
