-- jit.util as LuaJIT has it: loaded by require, funcinfo/funcbc/funck/funcuvname on
-- Lua functions, traceinfo of a trace that does not exist.
print(jit.util, type(require("jit.util")))
local ju = require("jit.util")
local up = 7
local function f(a, b, ...)
  local x = a + b + up
  return x, "k", 2.5
end
local fi = ju.funcinfo(f)
print(fi.params, fi.isvararg, fi.children, fi.linedefined, fi.lastlinedefined, fi.upvalues)
print(fi.source, fi.loc)
print(type(fi.bytecodes), fi.bytecodes > 0, type(fi.stackslots))
print(ju.funcuvname(f, 0), ju.funcuvname(f, 1))
print(ju.funcbc(f, 100000))
print(ju.traceinfo(9999), ju.traceinfo(0))
local g = ju.funcinfo(print)
print(type(g.ffid))
print(pcall(ju.funcinfo), pcall(ju.traceinfo))
print("ok")
