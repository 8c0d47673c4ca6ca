-- Garbage collection: collectgarbage, weak tables, __gc on userdata.

assert(type(collectgarbage("count")) == "number" and collectgarbage("count") > 0, "count in KiB")
assert(collectgarbage() == 0, "full collection returns 0")
assert(collectgarbage("collect") == 0, "explicit collect")
assert(type(collectgarbage("step")) == "boolean", "step returns a boolean")
local oldpause = collectgarbage("setpause", 150)
assert(type(oldpause) == "number", "setpause returns the previous value")
assert(collectgarbage("setpause", oldpause) == 150, "setpause round trip")
local oldmul = collectgarbage("setstepmul", 300)
assert(collectgarbage("setstepmul", oldmul) == 300, "setstepmul round trip")
collectgarbage("stop")
assert(collectgarbage("isrunning") == false, "stopped")
collectgarbage("restart")
assert(collectgarbage("isrunning") == true, "restarted")
local ok, err = pcall(collectgarbage, "bogus")
assert(not ok and err:find("invalid option 'bogus'", 1, true), tostring(err))

-- memory is reclaimed
collectgarbage()
local before = collectgarbage("count")
local function make_junk()
  local junk = {}
  for i = 1, 100000 do junk[i] = {i} end
end
make_junk()
collectgarbage()
collectgarbage()
local after = collectgarbage("count")
assert(after < before + 1024, "garbage reclaimed: " .. before .. " -> " .. after)

-- Garbage is always created inside helper calls, so that no dead stack slot of the
-- running function can still reference it when collectgarbage() runs.
local function run(f, ...) f(...) end
local function full_gc() collectgarbage(); collectgarbage() end

-- weak values
local wv = setmetatable({}, {__mode = "v"})
run(function() wv[1] = {} end)
wv[2] = "strings are values, never collected from weak tables"
wv[3] = 42
local keep = {}
wv[4] = keep
collectgarbage()
assert(wv[1] == nil, "unreferenced table value collected")
assert(wv[2] ~= nil and wv[3] == 42, "strings and numbers stay")
assert(wv[4] == keep, "referenced value stays")

-- weak keys
local wk = setmetatable({}, {__mode = "k"})
local kept_key = {}
wk[kept_key] = "kept"
run(function() wk[{}] = "lost" end)
wk["str"] = "string key"
collectgarbage()
local n = 0
for k, v in pairs(wk) do n = n + 1 end
assert(n == 2 and wk[kept_key] == "kept" and wk.str == "string key", "weak key entry removed")

-- weak keys and values
local wkv = setmetatable({}, {__mode = "kv"})
run(function() wkv[{}] = 1; wkv[1] = {} end)
wkv[keep] = keep
collectgarbage()
n = 0
for _ in pairs(wkv) do n = n + 1 end
assert(n == 1 and wkv[keep] == keep, "kv weak table")

-- functions and closures in weak tables
local wf = setmetatable({}, {__mode = "v"})
wf[1] = function() return 1 end       -- no upvalues: may be a shared prototype instance, but still collectable
local up = 5
wf[2] = function() return up end
local strong = wf[2]
collectgarbage()
assert(wf[2] == strong, "referenced closure kept")

-- a value reachable only through a weak table inside a coroutine's stack is kept
local wco = setmetatable({}, {__mode = "v"})
local co = coroutine.create(function()
  local held = {}
  wco[1] = held
  coroutine.yield()
  return held
end)
coroutine.resume(co)
collectgarbage()
assert(wco[1] ~= nil, "value held by a suspended coroutine's stack")

-- __gc on newproxy
local finalized = {}
run(function()
  local p = newproxy(true)
  getmetatable(p).__gc = function(self) finalized[#finalized + 1] = "p1" end
end)
full_gc()
assert(#finalized == 1 and finalized[1] == "p1", "__gc ran for an unreachable proxy")

-- __gc receives the object, objects sharing one metatable
local count = 0
local proto = newproxy(true)
getmetatable(proto).__gc = function(u) assert(type(u) == "userdata"); count = count + 1 end
run(function() for i = 1, 10 do local _ = newproxy(proto) end end)
full_gc()
assert(count == 10, "__gc for each proxy sharing the metatable: " .. count)

-- __gc on tables is not supported in 5.1 / LuaJIT
local table_gc = false
run(function() setmetatable({}, {__gc = function() table_gc = true end}) end)
full_gc()
assert(table_gc == false, "__gc ignored for tables")

-- resurrection: the finalizer can store the object
local resurrected
run(function()
  local p = newproxy(true)
  getmetatable(p).__gc = function(self) resurrected = self end
end)
full_gc()
assert(type(resurrected) == "userdata", "object resurrected by its finalizer")
resurrected = nil
collectgarbage()

-- an error in __gc does not break the program
run(function()
  local p = newproxy(true)
  getmetatable(p).__gc = function() error("gc error") end
end)
pcall(collectgarbage)
pcall(collectgarbage)
assert(true, "still running after a finalizer error")

-- strings survive collection and stay interned
local s1 = "abc" .. string.rep("d", 3)
collectgarbage()
assert(s1 == "abcddd", "string intact")

-- lots of allocation in a loop with periodic steps
local live = {}
for i = 1, 20000 do
  live[i % 100 + 1] = {i, tostring(i)}
  if i % 1000 == 0 then collectgarbage("step") end
end
assert(live[1][2] == "20000" or live[1][1] % 100 == 0, "live set intact")

-- weak table used as a cache
local cache = setmetatable({}, {__mode = "k"})
local function memo(obj)
  local v = cache[obj]
  if not v then v = {computed = true}; cache[obj] = v end
  return v
end
run(function()
  local key1 = {}
  assert(memo(key1) == memo(key1), "cache hit")
end)
full_gc()
assert(next(cache) == nil, "cache entry collected with its key")

-- Strings are values for weakness: a weak-keyed table keeps its string keys alive
-- (they were once freed while still in the table).
do
  local lim = 50
  local a = setmetatable({}, {__mode = "k"})
  for i = 1, lim do a[{}] = i end
  for i = 1, lim do local t = {}; a[t] = t end
  for i = 1, lim do a[i] = i end
  for i = 1, lim do local s = string.rep("@", i); a[s] = s .. "#" end
  full_gc()
  local n = 0
  for k, v in pairs(a) do
    assert(k == v or k .. "#" == v, "weak-keyed table entry intact")
    n = n + 1
  end
  assert(n == 3 * lim, "only the collectable keys went")
  local w = setmetatable({}, {__mode = "v"})
  w[1] = string.rep("b", 21)
  full_gc()
  assert(w[1] == string.rep("b", 21), "string values stay in a weak-valued table")
end

-- A finalized userdata stays as a weak key while its finalizer runs, but goes at
-- once as a weak value (Lua 5.1 / LuaJIT order).
do
  local weak = setmetatable({}, {__mode = "kv"})
  local seen
  local u = newproxy(true)
  getmetatable(u).__gc = function(o) seen = (weak[o] == "key") and (weak[1] == nil) end
  weak[u] = "key"
  weak[1] = u
  u = nil
  full_gc()
  assert(seen == true, "finalizer saw the weak key but not the weak value")
end
print("ok")
