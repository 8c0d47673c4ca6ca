-- LuaJIT 2.1 and OpenResty extensions beyond the bit library.

-- jit table
assert(type(jit) == "table" and require("jit") == jit, "jit module")
assert(type(jit.version) == "string" and jit.version:match("^LuaJIT 2%.1"), "jit.version: " .. tostring(jit.version))
assert(jit.version_num == 20100, "jit.version_num")
assert(type(jit.os) == "string" and type(jit.arch) == "string", "jit.os / jit.arch")
assert(type(jit.on) == "function" and type(jit.off) == "function" and type(jit.flush) == "function", "jit control functions")
assert(type(jit.status()) == "boolean", "jit.status returns a boolean first")
-- A state without a JIT (the Wasm sandbox, -joff at start) says false throughout.
local has_jit = jit.status()
assert(type(jit.opt) == "table" and type(jit.opt.start) == "function", "jit.opt.start")
jit.off()
assert(jit.status() == false, "jit.off")
local s = 0
for i = 1, 1000 do s = s + i end
jit.on()
assert(jit.status() == has_jit and s == 500500, "jit.on")
jit.flush()
-- per-function control
local function f(n) local a = 0 for i = 1, n do a = a + i end return a end
jit.off(f)
assert(f(100) == 5050, "function with the JIT off")
jit.on(f)
assert(f(100) == 5050, "function with the JIT on again")

-- table.new / table.clear
local new = require("table.new")
local t = new(10, 5)
assert(type(t) == "table" and #t == 0 and next(t) == nil, "table.new gives an empty table")
assert(table.new == new, "requiring table.new installs it into table")
for i = 1, 10 do t[i] = i end
assert(#t == 10, "preallocated table fills normally")
local clear = require("table.clear")
local u = {1, 2, x = 3}
local same = u
clear(u)
assert(next(u) == nil and #u == 0 and same == u, "table.clear empties in place")
u[1] = "again"
assert(u[1] == "again", "usable after clear")

-- OpenResty table extensions
local nkeys = require("table.nkeys")
assert(nkeys({1, 2, x = 3}) == 3 and nkeys({}) == 0 and nkeys({nil, nil, 3}) == 1, "table.nkeys")
local isempty = require("table.isempty")
assert(isempty({}) and isempty({nil}) and not isempty({x = 1}) and not isempty({1}), "table.isempty")
local isarray = require("table.isarray")
assert(isarray({}) and isarray({1, 2, 3}) and not isarray({x = 1}) and not isarray({[1.5] = 1}), "table.isarray")
local clone = require("table.clone")
local inner = {2}
local src = setmetatable({1, inner, x = 3}, {})
local c = clone(src)
assert(c ~= src and c[1] == 1 and c[2] == inner and c.x == 3, "table.clone is shallow")
assert(getmetatable(c) == nil, "table.clone does not copy the metatable")

-- table.move (LuaJIT 2.1)
local m = table.move({1, 2, 3}, 1, 3, 2)
assert(m[1] == 1 and m[2] == 1 and m[3] == 2 and m[4] == 3, "table.move within a table")
local dst = table.move({1, 2, 3}, 1, 3, 1, {})
assert(#dst == 3 and dst[3] == 3, "table.move to another table")

-- string.buffer
local buffer = require("string.buffer")
local b = buffer.new()
b:put("a", 1, "b"):putf("%d-%s", 5, "x")
assert(b:tostring() == "a1b5-x" and #b == 6, "put / putf / tostring / #")
assert(b:get(2) == "a1" and b:tostring() == "b5-x", "get consumes")
assert(tostring(b) == "b5-x", "__tostring")
b:reset()
assert(#b == 0 and b:tostring() == "", "reset")
b:put("xyz"):skip(1)
assert(b:tostring() == "yz", "skip")
local b2 = buffer.new()
b2:set("hello")
assert(b2:tostring() == "hello" and b2:get() == "hello" and #b2 == 0, "set / get all")
assert(buffer.new():put("abc"):get(1, 1) == "a", "get with several lengths returns several strings")
local parts = {}
local bb = buffer.new()
for i = 1, 1000 do bb:put(i, ",") end
assert(#bb:tostring() == 3893, "many puts")
-- serialisation
local enc = buffer.encode({1, "two", x = {3}, [true] = false})
assert(type(enc) == "string", "encode gives a string")
local dec = buffer.decode(enc)
assert(dec[1] == 1 and dec[2] == "two" and dec.x[1] == 3 and dec[true] == false, "decode round trip")
assert(buffer.decode(buffer.encode("str")) == "str" and buffer.decode(buffer.encode(1.5)) == 1.5, "scalars")
assert(not pcall(buffer.encode, print), "functions cannot be encoded")

-- package.searchpath (LuaJIT 2.1)
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
assert(package.searchpath("luajit_ext", dir .. "/?.lua") == dir .. "/luajit_ext.lua", "package.searchpath")
local np, perr = package.searchpath("nope_missing", dir .. "/?.lua")
assert(np == nil and perr:find("no file '" .. dir .. "/nope_missing.lua'", 1, true), "searchpath failure")

-- xpcall with arguments, load with mode/env, \x \z \u escapes and goto are tested elsewhere.
-- Things LuaJIT does NOT have (5.2+):
assert(string.pack == nil and utf8 == nil and table.unpack == nil and table.pack == nil, "no 5.3 APIs")
assert(not loadstring("local x <const> = 1"), "no attributes")
assert(not loadstring("return 7 // 2"), "no integer division")
assert(not loadstring("return 1 & 2"), "no bitwise operators")

-- arg table from the command line
assert(type(arg) == "table" and type(arg[0]) == "string" and arg[0]:match("luajit_ext%.lua$"), "arg[0] is the script")
assert(type(arg[-1]) == "string", "arg[-1] is the interpreter")
print("ok")
