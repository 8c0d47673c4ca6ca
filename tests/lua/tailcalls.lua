-- Proper tail calls: unbounded depth without stack growth.

local function count_down(n)
  if n == 0 then return "bottom" end
  return count_down(n - 1)
end
assert(count_down(1000000) == "bottom", "1e6 self tail calls")

-- mutual tail recursion
local is_even, is_odd
function is_even(n) if n == 0 then return true end return is_odd(n - 1) end
function is_odd(n) if n == 0 then return false end return is_even(n - 1) end
assert(is_even(1000000) == true and is_odd(1000001) == true, "mutual tail recursion")

-- accumulator style
local function sum(n, acc)
  if n == 0 then return acc end
  return sum(n - 1, acc + n)
end
assert(sum(1000000, 0) == 500000500000, "tail-recursive sum")

-- tail calls with varargs
local function va(n, ...)
  if n == 0 then return select("#", ...), ... end
  return va(n - 1, ...)
end
local cnt, x, y = va(300000, "a", "b")
assert(cnt == 2 and x == "a" and y == "b", "vararg tail calls")

-- tail call through a method
local obj = {n = 0}
function obj:step(k)
  if k == 0 then return self.n end
  self.n = self.n + 1
  return self:step(k - 1)
end
assert(obj:step(500000) == 500000, "method tail calls")

-- tail call into a __call metamethod
local callable = setmetatable({}, {__call = function(self, n)
  if n == 0 then return "called" end
  return self(n - 1)
end})
assert(callable(200000) == "called", "tail calls through __call")

-- tail call to a C function
local function to_c(s) return string.upper(s) end
assert(to_c("abc") == "ABC", "tail call to a builtin")
local function to_select(...) return select("#", ...) end
assert(to_select(1, 2, 3) == 3, "tail call to select")

-- tail calls in a coroutine
local co = coroutine.wrap(function(n)
  local function loop(k)
    if k == 0 then return "co done" end
    if k % 100000 == 0 then coroutine.yield(k) end
    return loop(k - 1)
  end
  return loop(n)
end)
assert(co(300000) == 300000, "yield from deep tail-call chain")
assert(co() == 200000 and co() == 100000 and co() == "co done", "resume continues")

-- return (f(x)) is NOT a tail call, but it still works for modest depth
local function not_tail(n)
  if n == 0 then return 0 end
  return (not_tail(n - 1))
end
assert(not_tail(1000) == 0, "non-tail recursion of depth 1000")

-- non-tail recursion to moderate depth works (LuaJIT's stack grows to ~65500 Lua frames)
local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
assert(depth(10000) == 10000, "non-tail recursion of depth 10000")

-- infinite non-tail recursion is a catchable error
local function inf(n) return 1 + inf(n + 1) end
local ok, err = pcall(inf, 1)
assert(not ok and tostring(err):find("stack overflow", 1, true), "stack overflow caught: " .. tostring(err))
-- and the state is usable afterwards
assert(depth(100) == 100, "usable after stack overflow")

-- tail call in a pcall-ed function
local function tail_in_pcall(n) if n == 0 then return "p" end return tail_in_pcall(n - 1) end
local ok2, v = pcall(tail_in_pcall, 1000000)
assert(ok2 and v == "p", "tail calls under pcall")

-- state machine via tail calls
local states = {}
local visits = 0
function states.a(n) visits = visits + 1; if n == 0 then return "end" end return states.b(n - 1) end
function states.b(n) visits = visits + 1; return states.c(n) end
function states.c(n) visits = visits + 1; return states.a(n) end
assert(states.a(100000) == "end" and visits == 300001, "state machine")
print("ok")
