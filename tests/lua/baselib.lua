-- The base library: type, tostring, print, select, next, module and friends.

assert(_VERSION == "Lua 5.1", "_VERSION")
assert(type(nil) == "nil" and type(true) == "boolean" and type(1) == "number" and type("") == "string", "type basics")
assert(type({}) == "table" and type(print) == "function" and type(io.stdout) == "userdata", "type of objects")
assert(type(coroutine.create(print)) == "thread" and type(newproxy()) == "userdata", "type of threads/proxies")
local ok, err = pcall(function() local r = type() return r end)
assert(not ok and err:find("bad argument #1 to 'type' (value expected)", 1, true), "type() without argument: " .. tostring(err))

-- print calls the global tostring (5.1 behaviour kept by LuaJIT)
local captured = {}
local old_tostring = tostring
tostring = function(v) captured[#captured + 1] = v; return "<" .. old_tostring(v) .. ">" end
-- the output "<1>\t<a>" is checked against baselib.expected
print(1, "a")
tostring = old_tostring
assert(#captured == 2 and captured[1] == 1 and captured[2] == "a", "print uses the global tostring")

-- tostring / tonumber on every type
for _, v in ipairs({true, false, 0, "s", {}, print, coroutine.create(print)}) do
  assert(type(tostring(v)) == "string", "tostring of " .. type(v))
end
assert(tostring(nil) == "nil", "tostring(nil)")

-- select
assert(select("#") == 0 and select("#", nil) == 1, "select #")
assert(select(2, "a", "b") == "b" and select(-1, "a", "b") == "b", "select index")
ok, err = pcall(function() local r = select(0, 1) return r end)
assert(not ok and err:find("bad argument #1 to 'select' (index out of range)", 1, true), "select 0: " .. tostring(err))
ok, err = pcall(function() local r = select("x", 1) return r end)
assert(not ok and err:find("bad argument #1 to 'select' (number expected, got string)", 1, true), "select 'x': " .. tostring(err))

-- next / pairs / ipairs / unpack basics are in generic_for.lua and varargs.lua

-- gcinfo and collectgarbage("count") agree roughly
assert(type(gcinfo()) == "number" and math.abs(gcinfo() - collectgarbage("count")) < 1024, "gcinfo in KiB")

-- module() / package.seeall (5.1 module system)
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = dir .. "/data/?.lua;" .. package.path
local m = require("old_style_module")
assert(m == old_style_module and package.loaded.old_style_module == m, "module() creates a global and registers it")
assert(m.hello() == "hello from old_style_module", "module functions see globals through package.seeall")
assert(m._NAME == "old_style_module" and m._M == m and m._PACKAGE == "", "module fields")
old_style_module = nil

-- newproxy
local p1 = newproxy(true)
local p2 = newproxy(p1)
assert(getmetatable(p1) == getmetatable(p2) and type(getmetatable(p1)) == "table", "newproxy shares metatables")
assert(getmetatable(newproxy(false)) == nil, "newproxy(false)")
ok = pcall(newproxy, {})
assert(not ok, "newproxy with a table is an error")

-- rawequal and friends on mixed types
assert(rawequal(nil, nil) and not rawequal(nil, false) and rawequal(p1, p1), "rawequal")
assert(rawget({10}, 1) == 10 and rawget(setmetatable({}, {__index = {x = 1}}), "x") == nil, "rawget")

-- global table manipulation
local count = 0
for k, v in pairs(_G) do count = count + 1 end
assert(count > 30, "the global table has the standard names")
for _, name in ipairs({"assert", "collectgarbage", "dofile", "error", "getfenv", "getmetatable", "ipairs",
    "load", "loadfile", "loadstring", "module", "next", "pairs", "pcall", "print", "rawequal", "rawget",
    "rawset", "require", "select", "setfenv", "setmetatable", "tonumber", "tostring", "type", "unpack",
    "xpcall", "gcinfo", "newproxy"}) do
  assert(type(_G[name]) == "function", "global function " .. name)
end
for _, name in ipairs({"string", "table", "math", "io", "os", "coroutine", "package", "debug", "bit", "jit"}) do
  assert(type(_G[name]) == "table", "library " .. name)
end
