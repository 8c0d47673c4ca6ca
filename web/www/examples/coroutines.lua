-- Coroutines: generators, a producer/consumer pipeline and yields across pcall.

-- A generator with coroutine.wrap
local function range(n, step)
  return coroutine.wrap(function()
    for i = 1, n, step or 1 do coroutine.yield(i) end
  end)
end
local got = {}
for i in range(10, 3) do got[#got + 1] = i end
print("range:", table.concat(got, ","))

-- Permutations, yielded one at a time
local function permgen(a, n)
  n = n or #a
  if n <= 1 then coroutine.yield(a) else
    for i = 1, n do
      a[n], a[i] = a[i], a[n]
      permgen(a, n - 1)
      a[n], a[i] = a[i], a[n]
    end
  end
end
local count = 0
for p in coroutine.wrap(function() permgen({ "a", "b", "c" }) end) do
  count = count + 1
  io.write(table.concat(p), count < 6 and " " or "\n")
end

-- Producer -> filter -> consumer
local function producer()
  return coroutine.create(function()
    for _, line in ipairs({ "alpha", "beta", "gamma", "delta" }) do coroutine.yield(line) end
  end)
end
local function filter(src)
  return coroutine.create(function()
    local n = 0
    while true do
      local ok, line = coroutine.resume(src)
      if not line then return end
      n = n + 1
      coroutine.yield(string.format("%d: %s", n, line:upper()))
    end
  end)
end
local f = filter(producer())
while true do
  local _, line = coroutine.resume(f)
  if not line then break end
  print(line)
end

-- Status, values passed both ways, and yield across pcall (as in LuaJIT)
local co = coroutine.create(function(a, b)
  print("start", a, b)
  local c = coroutine.yield(a + b)
  local ok, err = pcall(function()
    local d = coroutine.yield(c * 2)
    error("oops " .. d)
  end)
  print("caught:", ok, err)
  return "done"
end)
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co), coroutine.resume(co, 10))
print(coroutine.resume(co, "x"))
print(coroutine.status(co), coroutine.resume(co))
