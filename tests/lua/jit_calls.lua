-- Lua calls inlined into traces: arguments and results adjusted as the
-- interpreter does, errors and tracebacks from inside a callee after an exit,
-- callees replaced between iterations, upvalues of the calling frame.
local out = {}
local function say(...) local t = {...} for i = 1, select("#", ...) do t[i] = tostring(t[i]) end out[#out + 1] = table.concat(t, " ") end

local function A(i, j)
  local ij = i + j - 1
  return 1.0 / (ij * (ij - 1) * 0.5 + i)
end
local s = 0
for i = 1, 300 do s = s + A(i, 3) end
say(string.format("%.12f", s))

-- Fewer arguments than parameters, more than parameters, results padded and cut.
local function three(a, b, c) return a, b, c end
local function one(a) return a end
local acc = {0, 0, 0, 0}
for i = 1, 200 do
  local x, y, z = three(i)
  local p = one(i, i + 1, i + 2)
  local q, r = one(i)
  acc[1] = acc[1] + x + (y or 0) + (z or 0)
  acc[2] = acc[2] + p
  acc[3] = acc[3] + q + (r or 1000)
  acc[4] = acc[4] + select("#", three(i, i))
end
say(acc[1], acc[2], acc[3], acc[4])

-- Nested calls, a branch inside the callee, a callee that writes a table and a global.
local hist = {0, 0, 0}
local function bucket(x) if x % 3 == 0 then return 1 elseif x % 3 == 1 then return 2 end return 3 end
local function count(x) local b = bucket(x) hist[b] = hist[b] + 1 total_calls = (total_calls or 0) + 1 return b end
local function twice(x) return count(x) + count(x + 1) end
local sum = 0
for i = 1, 300 do sum = sum + twice(i) end
say(sum, hist[1], hist[2], hist[3], total_calls)

-- Upvalues of the calling frame, read and written by the callee.
local function run()
  local base, seen = 10, 0
  local function f(x) seen = seen + 1 return x + base end
  local r = 0
  for i = 1, 200 do
    r = r + f(i)
    if i == 100 then base = 1000 end
  end
  return r, seen, base
end
say(run())
say(run())

-- A closure from an earlier call of the same function, its upvalue closed since.
local keep
local function outer(n)
  local x = n
  keep = keep or function() return x end
  local r = 0
  for _ = 1, 100 do r = r + keep() end
  return r
end
say(outer(1), outer(2))

-- The callee replaced mid-loop; a callee that is not a function any more.
local function inc(x) return x + 1 end
local function dec(x) return x - 1 end
local g, v = inc, 0
for i = 1, 100 do
  if i == 60 then g = dec end
  v = g(v)
end
say(v)
local ok, err = pcall(function()
  local h, w = inc, 0
  for i = 1, 100 do
    if i == 70 then h = 42 end
    w = h(w)
  end
  return w
end)
say(ok, err)

-- An error raised inside an inlined callee, and a traceback taken there.
local function checked(x)
  if x == 150 then error("bad value " .. x) end
  return x
end
say(pcall(function() local t = 0 for i = 1, 200 do t = t + checked(i) end return t end))
local function where(x)
  if x == 120 then
    local tb = debug.traceback("here", 1)
    say((tb:gsub("\n[^\n]*%[C%][^\n]*", "")))
  end
  return x
end
local wsum = 0
for i = 1, 150 do wsum = wsum + where(i) end
say(wsum)

-- Recursion is left to the interpreter; deep but fine.
local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
local fsum = 0
for i = 1, 100 do fsum = fsum + fact(10) end
say(fsum)

-- Tail calls from inlined callees: the results, a traceback through the tail call.
local function leaf(x, y) return x * 2 + (y or 0) end
local function mid(x) return leaf(x) end
local function top(x) return mid(x + 1) end
local tsum = 0
for i = 1, 200 do tsum = tsum + top(i) end
say(tsum)
local tbs = {}
local function deep(x)
  if x == 90 then
    -- Up to the loop's function (the main chunk's lines differ between calls).
    local tb = debug.traceback("tail", 1)
    tbs[#tbs + 1] = tb:gsub("\n[^\n]*main chunk.*", "")
  end
  return x
end
local function via(x) return deep(x) end
local function vialoop() local d = 0 for i = 1, 100 do d = d + via(i) end return d end
-- The same traceback from the interpreter and after an exit inside the inlined
-- tail call (LuaJIT's text differs from Lua 5.1's here: compared, not printed).
jit.off()
jit.flush()
local d1 = vialoop()
jit.on()
local d2 = vialoop()
local d3 = vialoop()
say(d1, d2, d3, #tbs, tbs[1] == tbs[2], tbs[2] == tbs[3])

print(table.concat(out, "\n"))
