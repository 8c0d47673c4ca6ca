-- Line, count and return hooks, and hooks switched on and off from inside
-- hook functions, coroutines and pcall (the interpreter has one dispatch loop
-- for hooked execution and one without; these cross between them).

local lines = {}
local function f(x)
  local y = x + 1
  return y * 2
end
debug.sethook(function(_, line) lines[#lines + 1] = line end, "l")
f(1)
local _ = f(2)
debug.sethook()
assert(table.concat(lines, ",") == "11,7,8,12,7,8,13", table.concat(lines, ","))

-- A count hook that turns itself off: the rest of the loop runs unhooked.
local n = 0
debug.sethook(function() n = n + 1; if n == 3 then debug.sethook() end end, "", 10)
local s = 0
for i = 1, 1000 do s = s + i end
assert(n == 3 and s == 500500)
assert(debug.gethook() == nil)

-- Set inside a coroutine, cleared after a resume.
local co = coroutine.wrap(function()
  local c = 0
  debug.sethook(function() c = c + 1 end, "", 1)
  coroutine.yield()
  local q = 0
  for i = 1, 10 do q = q + i end
  debug.sethook()
  return c > 0, q
end)
co()
local ran, q = co()
assert(ran == true and q == 55)

-- An error raised by a hook function unwinds like any error.
local ok, err = pcall(function()
  debug.sethook(function() error("boom") end, "", 5)
  local a = 0
  for i = 1, 100 do a = a + i end
end)
debug.sethook()
assert(not ok and err:find("boom"), err)
assert(debug.gethook() == nil)

-- Return hooks count Lua returns; a return hook can clear itself.
local rets = 0
debug.sethook(function(ev) if ev == "return" then rets = rets + 1 end end, "r")
local function g() return 1 end
for _ = 1, 5 do g() end
debug.sethook()
assert(rets >= 5, rets)
local once = 0
debug.sethook(function() once = once + 1; debug.sethook() end, "r")
g(); g()
assert(once == 1)

-- A hook set by a native iterator's callee keeps working in the loop body.
local seen = 0
local function it(_, i)
  if i == 1 then debug.sethook(function() seen = seen + 1 end, "", 1) end
  if i < 3 then return i + 1 end
end
for _ in it, nil, 0 do local _ = 1 end
debug.sethook()
assert(seen > 0)
print("ok")
