-- ffi.gc finalizers and metatype __gc run through the collector; cdata survive
-- while referenced, and references into them do not keep them alive (as LuaJIT).
local ffi = require("ffi")

local log = {}
local function make(tag)
  -- Created in a helper, so no dead stack slot keeps it alive.
  return ffi.gc(ffi.new("int[4]", tag), function(cd)
    assert(ffi.istype("int[4]", cd) and cd[0] == tag)
    log[#log + 1] = tag
  end)
end

local keep = make(1)
make(2)
make(3)
collectgarbage()
collectgarbage()
table.sort(log)
assert(#log == 2 and log[1] == 2 and log[2] == 3, "unreachable cdata finalized once each")
assert(keep[0] == 1)

-- A finalizer runs once, even across more collections.
collectgarbage()
assert(#log == 2)

-- Replacing and removing finalizers.
log = {}
do
  local x = make(4)
  ffi.gc(x, function() log[#log + 1] = "replaced" end)
  local y = make(5)
  ffi.gc(y, nil)
end
collectgarbage()
collectgarbage()
assert(#log == 1 and log[1] == "replaced")

-- metatype __gc: every new instance gets it.
local freed = 0
local res = ffi.metatype("struct { int id; }", { __gc = function(r) freed = freed + r.id end })
local function alloc(n) for i = 1, n do res(i) end end
alloc(10)
collectgarbage()
collectgarbage()
assert(freed == 55, freed)

-- Many short-lived cdata (64-bit arithmetic allocates) are collected.
local before = collectgarbage("count")
local acc = 0LL
for i = 1, 20000 do acc = acc + i end
assert(acc == 200010000LL)
collectgarbage()
assert(collectgarbage("count") < before + 1024)

-- A finalizer can resurrect its object and allocate.
local saved
do
  ffi.gc(ffi.new("int[1]", 42), function(cd) saved = cd; local t = ffi.new("int[100]") end)
end
collectgarbage()
collectgarbage()
assert(saved and saved[0] == 42)

-- Byte buffers count towards the heap.
local c0 = collectgarbage("count")
local big = ffi.new("uint8_t[?]", 1024 * 1024)
assert(collectgarbage("count") > c0 + 1000)
big = nil
collectgarbage()
assert(collectgarbage("count") < c0 + 100)
print("ok")
