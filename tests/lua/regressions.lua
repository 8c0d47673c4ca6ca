-- Regressions found by the benchmark suite and the conformance corpus.

-- Metamethod calls must not leak stack: 300,000 rounds of __add + __eq + __lt +
-- __index/__newindex/__concat functions used to end in "stack overflow".
do
  local V = {}
  V.__add = function(a, b) return a end
  V.__eq = function(a, b) return false end
  V.__lt = function(a, b) return false end
  V.__index = function(t, k) return 1 end
  V.__newindex = function(t, k, v) end
  V.__concat = function(a, b) return "x" end
  local a, b = setmetatable({}, V), setmetatable({}, V)
  local c = 0
  for i = 1, 300000 do
    a = a + b
    if a == b then c = c + 1 end
    if a < b then c = c + 1 end
    local x = a.foo
    a.bar = 1
    local s = a .. "y" .. b
  end
  assert(c == 0)
end

-- A key that lived in the hash part must not be duplicated when the array part
-- grows over it (pairs used to loop forever).
do
  local t = {}
  for _, k in ipairs{6, 17, 5, 2, 8, 7, 15, 1, 4, 18, 23, 16} do t[k] = true end
  t[17] = false
  local n = 0
  for k in pairs(t) do n = n + 1; assert(n <= 12, "pairs visits a key twice") end
  assert(n == 12)
  math.randomseed(1)
  local counts = setmetatable({}, {__index = function() return 0 end})
  for i = 1, 100 do
    local r = math.random(10)
    counts[r] = counts[r] + 1
  end
  for i = 1, 10 do counts[i] = nil end
  assert(next(counts) == nil)
end

-- Positional constructor items past 255 (the register allocator used to free them
-- out of order).
do
  local src = {"local t = {"}
  for i = 1, 300 do src[#src + 1] = i .. "," end
  src[#src + 1] = "'x'} return t"
  local t = assert(loadstring(table.concat(src)))()
  assert(#t == 301 and t[300] == 300 and t[301] == "x")
end

-- goto resolves to the innermost visible label.
do
  local n = 0
  ::a:: do n = n + 1; if n > 3 then goto b end goto a; ::a:: end
  ::b::
  assert(n == 1)
end

-- A builtin reached by a tail call runs with its caller's frame in place, and is
-- named '?' in argument errors, as in LuaJIT.
do
  local t = setmetatable({}, {__tostring = function() return error("e") end})
  local ok, e = pcall(tostring, t)
  assert(not ok and e == "e")
  local ok2, e2 = pcall(function() return string.rep() end)
  assert(not ok2 and e2 == "bad argument #1 to '?' (string expected, got no value)", e2)
end

-- t[0] comes first in a traversal, as LuaJIT keeps it in its array part.
do
  local t = {[0] = "a", [1] = "b", [12] = "c"}
  assert(next(t) == 0)
end

-- A coroutine that died keeps its frames for debug.traceback, as in LuaJIT.
do
  local function inner() error("boom") end
  local co = coroutine.create(function() inner() end)
  assert(not coroutine.resume(co))
  local tb = debug.traceback(co)
  assert(tb:find("in function 'inner'", 1, true), tb)
  assert(coroutine.status(co) == "dead")
end
print("ok")
