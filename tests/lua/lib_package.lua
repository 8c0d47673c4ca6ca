-- require, module and package.*, as LuaJIT 2.1 has them (Lua 5.1 semantics).

local SRC = debug.getinfo(1, "S").short_src
local function E(f)
  local ok, e = pcall(f)
  assert(not ok, "an error was expected")
  return e
end
local function at(line, msg) return SRC .. ":" .. line .. ": " .. msg end
local function here() return debug.getinfo(2, "l").currentline end

-- The library itself.
assert(package.loaded.package == package and package.loaded._G == _G, "package and _G are loaded")
assert(package.loaded.io == io and package.loaded.debug == debug and package.loaded.jit == jit, "libraries are loaded")
assert(package.loaded["jit.opt"] == jit.opt and require("jit.opt") == jit.opt, "jit.opt")
assert(type(package.path) == "string" and type(package.cpath) == "string", "paths")
assert(package.config == "/\n;\n?\n!\n-\n", "package.config")
assert(type(package.loaders) == "table" and #package.loaders == 4 and package.searchers == nil, "5.1 loaders")
assert(type(package.preload) == "table" and type(package.searchpath) == "function", "preload, searchpath")
assert(type(package.seeall) == "function" and type(package.loadlib) == "function", "seeall, loadlib")
assert(debug.getregistry()._LOADED == package.loaded, "the registry's _LOADED is package.loaded")

-- Everything in package.loaded is returned as is.
package.loaded["x.y"] = 5
assert(require("x.y") == 5, "dotted names in package.loaded")
package.loaded.xfalse = false
assert(require("string") == string and require("_G") == _G, "standard libraries")

-- preload: called with the name only; nil result stores true.
local args
package.preload.pre = function(...) args = {n = select("#", ...), ...} end
assert(require("pre") == true and package.loaded.pre == true, "a module returning nothing is stored as true")
assert(args.n == 1 and args[1] == "pre", "loaders get the module name only")
package.preload.num = function() return 42 end
assert(require("num") == 42 and require("num") == 42, "cached")
package.preload.self = function(n) package.loaded[n] = "set by module" end
assert(require("self") == "set by module", "a module may set package.loaded itself")
package.preload["3"] = function(n) return n end
assert(require(3) == "3", "numbers are converted to strings")

-- Loops and failures leave the sentinel: later requires report them.
local cycline = here() + 1
package.preload.cyc = function(n) local r = require("cyc") return r end
assert(E(function() local r = require("cyc") return r end) == at(cycline, "loop or previous error loading module 'cyc'"), "cycle")
local e = E(function() local r = require("cyc") return r end)
assert(e == at(here() - 1, "loop or previous error loading module 'cyc'"), "cycle reported again: " .. e)
package.preload.err = function() error("boom", 0) end
assert(E(function() local r = require("err") return r end) == "boom", "the module's error propagates")
assert(E(function() local r = require("err") return r end) == at(here(), "loop or previous error loading module 'err'"), "previous error")

-- The not-found message lists every place searched.
local base = os.tmpname()
local dir = base .. "_"
local opath, ocpath = package.path, package.cpath
package.path = dir .. "?.lua;" .. dir .. "?/init.lua"
package.cpath = dir .. "?.so"
e = E(function() local r = require("nope") return r end)
assert(e == at(here() - 1, "module 'nope' not found:\n\tno field package.preload['nope']\n\tno file '" .. dir .. "nope.lua'\n\tno file '"
  .. dir .. "nope/init.lua'\n\tno file '" .. dir .. "nope.so'"), "not found: " .. e)
e = E(function() local r = require("a.b") return r end)
assert(e == at(here() - 1, "module 'a.b' not found:\n\tno field package.preload['a.b']\n\tno file '" .. dir .. "a/b.lua'\n\tno file '"
  .. dir .. "a/b/init.lua'\n\tno file '" .. dir .. "a/b.so'\n\tno file '" .. dir .. "a.so'"), "dotted not found: " .. e)

-- Lua modules from files.
local created = {}
local function write(path, s) local f = assert(io.open(path, "w")) f:write(s) f:close() created[#created + 1] = path end
write(dir .. "modx.lua", "local n = ... ; loads = (loads or 0) + 1 ; return {name = n}")
local m = require("modx")
assert(m.name == "modx" and require("modx") == m and package.loaded.modx == m and loads == 1, "file module")
write(dir .. "bad.lua", "x = = 1")
e = E(function() local r = require("bad") return r end)
-- Raised by the searcher, called by require (a C function): no position.
assert(e == "error loading module 'bad' from file '" .. dir .. "bad.lua':\n\t" .. dir .. "bad.lua:1: unexpected symbol near '='", "syntax error: " .. e)
write(dir .. "cm.so", "not a shared object")
assert(not pcall(require, "cm"), "a C module found on cpath fails to load")
assert(select(2, package.searchpath("cm", package.cpath)) == nil, "searchpath finds it")
local lib, lmsg, where = package.loadlib(dir .. "cm.so", "luaopen_cm")
assert(lib == nil and type(lmsg) == "string" and where == "open", "loadlib")

-- Broken package fields.
package.path = 5
e = E(function() local r = require("zzz5") return r end)
assert(e == at(here() - 1, "module 'zzz5' not found:\n\tno field package.preload['zzz5']\n\tno file '5'\n\tno file '" .. dir .. "zzz5.so'"), "numeric path: " .. e)
package.path = {}
assert(E(function() local r = require("zzz") return r end) == "'package.path' must be a string", "table path")
package.path = dir .. "?.lua"
local opre = package.preload
package.preload = nil
assert(E(function() local r = require("zzz") return r end) == "'package.preload' must be a table", "preload")
package.preload = opre
local oloaders = package.loaders
package.loaders = 1
assert(E(function() local r = require("zzz") return r end) == at(here(), "'package.loaders' must be a table"), "loaders")
package.loaders = {function(n) return "\n\tcustom " .. n end, function() return 7 end, function() return {} end}
assert(E(function() local r = require("zzz") return r end) == at(here(), "module 'zzz' not found:\n\tcustom zzz7"), "loader messages")
package.loaders = oloaders
table.insert(package.loaders, 1, function(n) if n == "virt" then return function() return "virtual" end end end)
assert(require("virt") == "virtual", "a custom loader")
table.remove(package.loaders, 1)

-- searchpath.
local found, smsg = package.searchpath("modx", package.path)
assert(found == dir .. "modx.lua" and smsg == nil, "searchpath finds a file")
found, smsg = package.searchpath("a.b", "./?.x;;/q/?/init.x")
assert(found == nil and smsg == "\n\tno file './a/b.x'\n\tno file '/q/a/b/init.x'", "searchpath message")
found, smsg = package.searchpath("a.b", "?", "", "-")
assert(smsg == "\n\tno file 'a.b'", "empty separator: no replacement")
found, smsg = package.searchpath("a.b", "?", ".", "-")
assert(smsg == "\n\tno file 'a-b'", "custom replacement")
assert(E(function() local r = package.searchpath("x") return r end) == at(here(), "bad argument #2 to 'searchpath' (string expected, got no value)"), "searchpath args")

-- module().
write(dir .. "oldmod.lua", [[
module(..., package.seeall)
function hello() return "hi from " .. _NAME end
value = tostring(1)
]])
local om = require("oldmod")
assert(om == package.loaded.oldmod and om == oldmod and om._NAME == "oldmod" and om._M == om and om._PACKAGE == "", "module fields")
assert(om.hello() == "hi from oldmod" and om.value == "1" and hello == nil, "module environment with seeall")
local chunk = loadstring("module('tm.sub.leaf') x = 1")
chunk()
assert(tm.sub.leaf.x == 1 and tm.sub.leaf._PACKAGE == "tm.sub." and package.loaded["tm.sub.leaf"] == tm.sub.leaf, "nested module")
assert(getfenv(chunk) == tm.sub.leaf and x == nil, "module sets the caller's environment")
local reuse = {}
package.loaded.reuse = reuse
loadstring("module('reuse') y = 2")()
assert(reuse.y == 2 and reuse._NAME == "reuse", "module reuses package.loaded's table")
loadstring("module('withopt', function(t) seen_opt = t end)")()
assert(seen_opt == withopt and withopt._NAME == "withopt", "module options are called with the module")
conflict = 1
e = E(function() local r = loadstring("module('conflict.x')") r() end)
assert(e == [[[string "module('conflict.x')"]:1: name conflict for module 'conflict.x']], "name conflict: " .. e)
local t = {}
package.seeall(t)
assert(getmetatable(t).__index == _G and t.print == print, "seeall")
assert(E(function() local r = package.seeall(1) return r end) == at(here(), "bad argument #1 to 'seeall' (table expected, got number)"), "seeall arg")

package.path, package.cpath = opath, ocpath
for _, p in ipairs(created) do os.remove(p) end
os.remove(base)
print("ok")
