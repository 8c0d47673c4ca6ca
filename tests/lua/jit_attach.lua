-- jit.attach: trace, record and texit events with LuaJIT's arguments; detaching;
-- a failing handler is reported and ignored. Without a JIT (the Wasm sandbox) no
-- event is sent; with the JIT off (-joff) only jit.flush's.
local ok, msg = pcall(jit.attach, 1)
assert(not ok and msg == "bad argument #1 to '?' (function expected, got number)", msg)
assert(pcall(jit.attach, print, "no such event"))
jit.attach(print)

local jit_on = jit.status()
local events, records, exits = {}, {}, 0
local function on_trace(what, tr, func, pc, parent, exit)
  events[#events + 1] = { what = what, tr = tr, func = func, pc = pc, parent = parent, exit = exit }
end
local function on_record(tr, func, pc, depth)
  -- The trace being recorded is visible to jit.util meanwhile.
  local info = require("jit.util").traceinfo(tr)
  records[#records + 1] = { tr = tr, func = func, pc = pc, depth = depth, info = type(info) }
end
local function on_exit(tr, ex, ngpr, nfpr)
  assert(type(tr) == "number" and type(ex) == "number" and type(ngpr) == "number" and type(nfpr) == "number")
  exits = exits + 1
end
jit.attach(on_trace, "trace")
jit.attach(on_record, "record")
jit.attach(on_exit, "texit")

local function work()
  local s = 0
  for i = 1, 500 do
    if i % 7 == 0 then s = s + 1 else s = s + 2 end
  end
  return s
end
assert(work() == 929)
jit.flush()

if jit_on then
  local started, stopped = {}, {}
  for _, e in ipairs(events) do
    if e.what == "start" then
      assert(type(e.tr) == "number" and e.func == work and type(e.pc) == "number")
      assert((e.parent == nil) == (e.exit == nil))
      started[e.tr] = true
    elseif e.what == "stop" then
      assert(started[e.tr] and e.func == work, "stop without start")
      stopped[#stopped + 1] = e.tr
    end
  end
  assert(#stopped >= 1, "a hot loop compiles")
  assert(events[#events].what == "flush", "jit.flush sends flush")
  assert(#records > 0)
  for _, r in ipairs(records) do
    assert(started[r.tr] and r.func == work and type(r.pc) == "number" and type(r.depth) == "number")
    assert(r.info == "table", "traceinfo of the trace being recorded")
  end
  assert(exits > 0, "the branchy loop leaves its trace")
else
  -- jit.flush still sends "flush" when the JIT exists but is off (as LuaJIT).
  for _, e in ipairs(events) do assert(e.what == "flush") end
  assert(#records == 0 and exits == 0)
end

-- Detached handlers hear nothing more.
jit.attach(on_trace)
jit.attach(on_record)
jit.attach(on_exit)
local n = #events
assert(work() == 929)
assert(#events == n)

-- A failing handler: reported on stderr, the program goes on.
jit.attach(function() error("handler fails") end, "trace")
assert(work() == 929)
jit.flush()
print("ok")
