-- Coroutines.

-- basic create/resume/yield/status and value passing both ways
local log = {}
local co = coroutine.create(function(a, b)
  log[#log + 1] = "start " .. a .. " " .. b
  local c = coroutine.yield(a + b)
  log[#log + 1] = "got " .. c
  local d, e = coroutine.yield(c * 2)
  log[#log + 1] = "got " .. d .. " " .. e
  return "finished", d + e
end)
assert(type(co) == "thread", "type thread")
assert(coroutine.status(co) == "suspended", "initially suspended")
local ok, v = coroutine.resume(co, 1, 2)
assert(ok and v == 3, "first yield")
assert(coroutine.status(co) == "suspended", "suspended after yield")
ok, v = coroutine.resume(co, 10)
assert(ok and v == 20, "second yield")
local ok2, r1, r2 = coroutine.resume(co, 4, 5)
assert(ok2 and r1 == "finished" and r2 == 9, "return values")
assert(coroutine.status(co) == "dead", "dead after return")
assert(table.concat(log, ";") == "start 1 2;got 10;got 4 5", "order: " .. table.concat(log, ";"))
ok, v = coroutine.resume(co)
assert(not ok and v == "cannot resume dead coroutine", "resume dead: " .. tostring(v))

-- yield with multiple values and none
co = coroutine.create(function()
  coroutine.yield()
  coroutine.yield(nil, nil)
  coroutine.yield(1, 2, 3)
end)
assert(select("#", coroutine.resume(co)) == 1, "yield() gives just true")
assert(select("#", coroutine.resume(co)) == 3, "yield(nil, nil)")
assert(select("#", coroutine.resume(co)) == 4, "yield(1, 2, 3)")
assert(select("#", coroutine.resume(co)) == 1, "return nothing")

-- resume arguments become yield's results
co = coroutine.create(function()
  local n = select("#", coroutine.yield())
  return n
end)
coroutine.resume(co)
local _, n = coroutine.resume(co, nil, nil, nil)
assert(n == 3, "yield returns all resume arguments")

-- running / isyieldable
assert(coroutine.running() == nil, "running() in the main thread is nil in LuaJIT")
assert(coroutine.isyieldable() == false, "main thread is not yieldable")
local inside
co = coroutine.create(function()
  inside = coroutine.running()
  assert(coroutine.isyieldable() == true, "coroutine is yieldable")
  assert(coroutine.status(inside) == "running", "status running from inside")
end)
coroutine.resume(co)
assert(inside == co, "running() returns the coroutine")

-- normal status
local outer
outer = coroutine.create(function()
  local inner = coroutine.create(function() return coroutine.status(outer) end)
  return coroutine.resume(inner)
end)
local okk, okinner, st = coroutine.resume(outer)
assert(okk and okinner and st == "normal", "outer is normal while inner runs")

-- resuming a running coroutine
local selfco
selfco = coroutine.create(function() return coroutine.resume(selfco) end)
local a1, a2, a3 = coroutine.resume(selfco)
assert(a1 == true and a2 == false and a3 == "cannot resume running coroutine", "self resume: " .. tostring(a3))

-- errors inside coroutines
co = coroutine.create(function() local x = nil; return x.y end)
ok, v = coroutine.resume(co)
assert(not ok and v:find("attempt to index local 'x' (a nil value)", 1, true), "error message")
assert(coroutine.status(co) == "dead", "dead after error")
co = coroutine.create(function() error({code = 5}) end)
ok, v = coroutine.resume(co)
assert(not ok and v.code == 5, "table error object from a coroutine")
co = coroutine.create(function() coroutine.yield(1); error("later") end)
assert(select(2, coroutine.resume(co)) == 1, "yield before error")
ok, v = coroutine.resume(co)
assert(not ok and v:find("later", 1, true), "error after yield")

-- wrap
local gen = coroutine.wrap(function(first)
  local x = first
  while true do x = x + coroutine.yield(x) end
end)
assert(gen(1) == 1 and gen(2) == 3 and gen(10) == 13, "wrap passes values")
local w = coroutine.wrap(function() error("werr") end)
ok, v = pcall(w)
assert(not ok and v:find("werr", 1, true), "wrap propagates errors")
local wt = coroutine.wrap(function() error({}) end)
ok, v = pcall(wt)
assert(not ok and type(v) == "table", "wrap propagates table errors unchanged")
local w3 = coroutine.wrap(function() return 1 end)
assert(w3() == 1, "wrap return")
ok, v = pcall(w3)
assert(not ok and v:find("cannot resume dead coroutine", 1, true), "calling a dead wrap: " .. tostring(v))

-- generators
local function range(n)
  return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
end
local sum = 0
for i in range(100) do sum = sum + i end
assert(sum == 5050, "generator in for")

-- permutations generator (recursive yields)
local function permgen(a, m)
  m = m or #a
  if m <= 1 then coroutine.yield(a) else
    for i = 1, m do
      a[m], a[i] = a[i], a[m]
      permgen(a, m - 1)
      a[m], a[i] = a[i], a[m]
    end
  end
end
local count = 0
local seen = {}
for p in coroutine.wrap(function() permgen({1, 2, 3, 4}) end) do
  count = count + 1
  seen[table.concat(p)] = true
end
local distinct = 0
for _ in pairs(seen) do distinct = distinct + 1 end
assert(count == 24 and distinct == 24, "24 permutations")

-- yield across pcall
co = coroutine.create(function()
  local okp, val = pcall(function()
    local got = coroutine.yield("in pcall")
    error("after " .. got)
  end)
  coroutine.yield(okp, val)
  return "end"
end)
assert(select(2, coroutine.resume(co)) == "in pcall", "yield inside pcall")
local _, okp, val = coroutine.resume(co, "resume")
assert(okp == false and val:find("after resume", 1, true), "error caught by pcall after yield")
assert(select(2, coroutine.resume(co)) == "end", "continues")

-- yield across xpcall with a handler
co = coroutine.create(function()
  return xpcall(function() coroutine.yield(1); error("x") end, function(m) return "H:" .. tostring(m):gsub("^.-: ", "") end)
end)
coroutine.resume(co)
local _, xok, xmsg = coroutine.resume(co)
assert(xok == false and xmsg == "H:x", "xpcall handler after yield: " .. tostring(xmsg))

-- yield inside metamethods (LuaJIT allows it for Lua metamethods)
local function yields_in(f)
  local c = coroutine.create(f)
  local o1, y = coroutine.resume(c)
  assert(o1, "first resume: " .. tostring(y))
  local o2, r = coroutine.resume(c, "back")
  assert(o2, "second resume: " .. tostring(r))
  return y, r
end
local y, r = yields_in(function() local t = setmetatable({}, {__index = function(_, k) return coroutine.yield(k) end}) return t.key end)
assert(y == "key" and r == "back", "yield in __index")
y, r = yields_in(function() local t = setmetatable({}, {__add = function() return coroutine.yield("add") end}) return t + 1 end)
assert(y == "add" and r == "back", "yield in __add")
y, r = yields_in(function() local t = setmetatable({}, {__concat = function() return coroutine.yield("cat") end}) return t .. "x" end)
assert(y == "cat" and r == "back", "yield in __concat")
y, r = yields_in(function() local mt = {__lt = function() return coroutine.yield("lt") end} return setmetatable({}, mt) < setmetatable({}, mt) end)
assert(y == "lt" and r == true, "yield in __lt, result converted to boolean")
y, r = yields_in(function() local mt = {__eq = function() return coroutine.yield("eq") end} return setmetatable({}, mt) == setmetatable({}, mt) end)
assert(y == "eq" and r == true, "yield in __eq")
y, r = yields_in(function() local t = setmetatable({}, {__call = function() return coroutine.yield("call") end}) return t() end)
assert(y == "call" and r == "back", "yield in __call")
y, r = yields_in(function() local t = setmetatable({}, {__newindex = function() coroutine.yield("ni") end}) t.x = 1 return "done" end)
assert(y == "ni" and r == "done", "yield in __newindex")
y, r = yields_in(function() for k in function(_, k) if not k then return coroutine.yield("iter") end end do return k end end)
assert(y == "iter" and r == "back", "yield in an iterator function")

-- yield across a C function boundary is an error
co = coroutine.create(function()
  local t = {3, 2, 1}
  table.sort(t, function(p, q) coroutine.yield() return p < q end)
end)
ok, v = coroutine.resume(co)
assert(not ok and v:find("attempt to yield across C-call boundary", 1, true), "yield in sort comparator: " .. tostring(v))
co = coroutine.create(function() return (("abc"):gsub(".", function(c) return coroutine.yield(c) end)) end)
ok, v = coroutine.resume(co)
assert(not ok and v:find("attempt to yield across C-call boundary", 1, true), "yield in gsub callback")
ok, v = pcall(coroutine.yield, 1)
assert(not ok and v:find("attempt to yield", 1, true), "yield from the main thread: " .. tostring(v))

-- argument errors
ok, v = pcall(coroutine.create, 1)
assert(not ok and v:find("function expected", 1, true), "create needs a function")
ok, v = pcall(coroutine.resume, 1)
assert(not ok, "resume needs a coroutine")
assert(coroutine.status(coroutine.create(print)) == "suspended", "C function coroutine")
local okm, mx = coroutine.resume(coroutine.create(math.max), 3, 9)
assert(okm and mx == 9, "coroutine of a C function")

-- many coroutines alive at once
local cos = {}
for i = 1, 1000 do
  cos[i] = coroutine.create(function(x) local y = coroutine.yield(x * 2) return x + y end)
end
local total = 0
for i = 1, 1000 do local _, d = coroutine.resume(cos[i], i); total = total + d end
for i = 1, 1000 do local _, d = coroutine.resume(cos[i], 1); total = total + d end
assert(total == 1001000 + 500500 + 1000, "1000 coroutines: " .. total)

-- deep recursion inside a coroutine
co = coroutine.create(function()
  local function rec(k) if k == 0 then return coroutine.yield("deep") end return rec(k - 1) + 0 end
  return rec(5000)
end)
assert(select(2, coroutine.resume(co)) == "deep", "yield from a deep stack")
assert(select(2, coroutine.resume(co, 7)) == 7, "unwinds the deep stack")

-- stack overflow inside a coroutine is reported by resume
co = coroutine.create(function() local function f() return 1 + f() end return f() end)
ok, v = coroutine.resume(co)
assert(not ok and v:find("stack overflow", 1, true), "overflow in coroutine: " .. tostring(v))

-- producer/consumer
local function producer()
  return coroutine.create(function()
    for _, word in ipairs({"a", "b", "c"}) do coroutine.yield(word) end
    return nil
  end)
end
local function consumer(prod)
  local out = {}
  while true do
    local _, item = coroutine.resume(prod)
    if not item then break end
    out[#out + 1] = item
  end
  return table.concat(out)
end
assert(consumer(producer()) == "abc", "producer/consumer")

-- coroutine passed around and resumed from another coroutine
local shared = coroutine.create(function() for i = 1, 3 do coroutine.yield(i) end end)
local driver = coroutine.wrap(function()
  local acc = {}
  while coroutine.status(shared) ~= "dead" do
    local _, x = coroutine.resume(shared)
    if x then acc[#acc + 1] = x end
  end
  return table.concat(acc, ",")
end)
assert(driver() == "1,2,3", "resume from inside another coroutine")

-- wrap inside wrap with yields to the right level
local outerw = coroutine.wrap(function()
  local innerw = coroutine.wrap(function() coroutine.yield("inner1"); return "inner done" end)
  coroutine.yield(innerw())
  coroutine.yield(innerw())
  return "outer done"
end)
assert(outerw() == "inner1" and outerw() == "inner done" and outerw() == "outer done", "nested wraps")

-- hot loop of yields
local counter = coroutine.wrap(function() local i = 0 while true do i = i + 1; coroutine.yield(i) end end)
local last
for _ = 1, 100000 do last = counter() end
assert(last == 100000, "100000 yields")
print("ok")
