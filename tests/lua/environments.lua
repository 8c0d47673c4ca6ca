-- Function environments: getfenv/setfenv, _G.

assert(_G._G == _G, "_G refers to itself")
assert(getfenv() == _G and getfenv(0) == _G and getfenv(1) == _G, "default environment")
assert(getfenv(print) == _G, "builtin environment")

-- globals live in the environment table
some_global = 1
assert(_G.some_global == 1 and rawget(_G, "some_global") == 1, "globals are fields of _G")
_G.other_global = 2
assert(other_global == 2, "fields of _G are globals")
some_global, other_global = nil, nil

-- setfenv on a function
local function reads() return x_var end
local env = {x_var = 5}
assert(setfenv(reads, env) == reads, "setfenv returns the function")
assert(reads() == 5, "reads from the new environment")
assert(getfenv(reads) == env, "getfenv(f)")
local function writes() y_var = 10 end
setfenv(writes, env)
writes()
assert(env.y_var == 10 and rawget(_G, "y_var") == nil, "writes go to the new environment")

-- environment with __index fallback to _G
local sandbox = setmetatable({}, {__index = _G})
local function uses_print() return type(print), tostring(123) end
setfenv(uses_print, sandbox)
local tp, ts = uses_print()
assert(tp == "function" and ts == "123", "fallback to _G through __index")

-- closures created inside inherit the creator's environment
local function maker() return function() return z_var end end
setfenv(maker, {z_var = "inner"})
assert(maker()() == "inner", "nested closure inherits the environment")

-- setfenv with a level
local function g() setfenv(2, {marker = "from level 2"}) end
local function h() g(); return marker end
assert(h() == "from level 2", "setfenv(2, ...) changes the caller's environment")
assert(rawget(_G, "marker") == nil, "main environment untouched")

-- getfenv with levels
local function lvl() return getfenv(1), getfenv(2) end
local e1, e2 = lvl()
assert(e1 == _G and e2 == _G, "levels")
local special = {getfenv = getfenv}
local function inner_level() local e = getfenv(2) return e end
local function outer_level() local r = inner_level() return r end
setfenv(outer_level, special)
assert(outer_level() == special, "getfenv(2) sees the caller's environment")
local function outer_tail() return inner_level() end
setfenv(outer_tail, special)
assert(outer_tail() == _G, "a tail call replaces the caller's frame, so level 2 is the main chunk")
-- `return getfenv(2)` is itself a tail call: level 1 is then the caller
local function tail_getfenv() return getfenv(2) end
local function calls_tail() local r = tail_getfenv() return r end
setfenv(calls_tail, special)
assert(calls_tail() == _G, "tail-called getfenv(2) skips one frame")

-- errors
local ok, err = pcall(getfenv, 100)
assert(not ok and err:find("invalid level", 1, true), "invalid level: " .. tostring(err))
ok, err = pcall(setfenv, print, {})
assert(not ok and err:find("'setfenv' cannot change environment of given object", 1, true), tostring(err))
ok, err = pcall(setfenv, reads, 1)
assert(not ok, "setfenv needs a table")

-- loadstring chunks get the global environment; setfenv on them
local chunk = loadstring("v = (v or 0) + 1; return v")
local cenv = {}
setfenv(chunk, cenv)
assert(chunk() == 1 and chunk() == 2 and cenv.v == 2 and rawget(_G, "v") == nil, "chunk environment")

-- setfenv(0, t) changes the thread's environment, used by loadstring afterwards
local co = coroutine.create(function()
  local tenv = setmetatable({}, {__index = _G})
  setfenv(0, tenv)
  local f = loadstring("return thread_local_value")
  tenv.thread_local_value = "from thread env"
  return f(), getfenv(0) == tenv
end)
local okc, val, same = coroutine.resume(co)
assert(okc and val == "from thread env" and same, "thread environment: " .. tostring(val))
assert(getfenv(0) == _G, "main thread environment unchanged")

-- a sandbox that cannot see globals
local function run_sandboxed(src)
  local f = assert(loadstring(src))
  setfenv(f, {})
  return pcall(f)
end
local okb, eb = run_sandboxed("return print('x')")
assert(not okb and eb:find("attempt to call global 'print' (a nil value)", 1, true), "sandboxed: " .. tostring(eb))

-- module pattern using setfenv(1, ...)
local M = {}
do
  local function define()
    setfenv(1, setmetatable(M, {__index = _G}))
    function exported() return "exp" end
  end
  define()
end
assert(M.exported() == "exp" and rawget(_G, "exported") == nil, "setfenv(1, M) module pattern")

-- the environment of a running function can be changed while it runs
local function switching()
  local a = shared_name
  setfenv(1, {shared_name = "second"})
  local b = shared_name
  return a, b
end
shared_name = "first"
local sa, sb = switching()
assert(sa == "first" and sb == "second", "setfenv(1) affects later global reads")
shared_name = nil

-- hot global access in a loop with a custom environment
local counter_src = "local s = 0 for i = 1, 1000 do s = s + step end return s"
local counter = loadstring(counter_src)
setfenv(counter, {step = 2})
assert(counter() == 2000, "globals from a custom environment in a loop")
print("ok")
