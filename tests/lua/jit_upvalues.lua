-- Upvalues inside traces: open (a local of an enclosing function still running)
-- and closed, read and written, shared between closures, rejoined, seen from a
-- coroutine, and holding tables while the collector runs.

local out = {}
local function say(...) out[#out + 1] = table.concat({...}, " ") end

-- Open upvalues: the main chunk's locals, read and written by a function's loop.
local limit, count, last = 100, 0, nil
local function walk()
  local s = 0
  for i = 1, limit do
    s = s + i
    count = count + 1
    last = i
  end
  return s
end
say(walk(), count, last)
limit = 50
say(walk(), count, last)

-- Closed upvalues: one closure per call, each with its own counter.
local function counter(step)
  local c = 0
  return function(n)
    for _ = 1, n do c = c + step end
    return c
  end
end
local a, b = counter(1), counter(10)
say(a(100), b(30), a(5), b(1))

-- Two closures sharing one upvalue; one of them rejoined to another's.
local function pair()
  local v = 0
  local function add(n) for i = 1, n do v = v + i end return v end
  local function get() return v end
  return add, get
end
local add1, get1 = pair()
local add2, get2 = pair()
say(add1(10), get1(), add2(20), get2())
debug.upvaluejoin(add1, 1, add2, 1)
say(add1(10), get1(), get2())

-- Types that change between runs of the same trace.
local box = 1
local function kinds(n)
  local seen = {}
  for i = 1, n do seen[i] = type(box) end
  return table.concat(seen, ",", 1, 2)
end
say(kinds(40))
box = "s"
say(kinds(40))
box = {}
say(kinds(40))

-- A coroutine's trace reading the main chunk's open upvalue, and its own.
local shared = 7
local co = coroutine.wrap(function()
  local mine = 0
  local function bump(n) for _ = 1, n do mine = mine + shared end return mine end
  coroutine.yield(bump(30))
  shared = 1
  coroutine.yield(bump(30))
end)
say(co(), co())

-- Tables stored into a closed upvalue while the collector marks.
local function holder()
  local slot
  return function(pool, n)
    for i = 1, n do slot = pool[i] end
    return slot
  end
end
local keep = holder()
for round = 1, 30 do
  local pool = {}
  for i = 1, 20 + round do pool[#pool + 1] = {i, tostring(i)} end
  local s = keep(pool, 20 + round)
  pool = nil
  collectgarbage("step", 1)
  assert(s[1] == 20 + round and s[2] == tostring(20 + round))
end
collectgarbage()
say(keep({{0, "kept"}}, 1)[2])

print(table.concat(out, "\n"))
