-- coroutines: generator pipelines built from coroutine.wrap (producer -> filter ->
-- map -> consumer), coroutine.resume/yield passing values both ways, and many
-- short-lived coroutines.
local n = tonumber(arg and arg[1]) or 1000000

local wrap, yield, create, resume, status =
  coroutine.wrap, coroutine.yield, coroutine.create, coroutine.resume, coroutine.status

local function producer(count)
  return wrap(function()
    for i = 1, count do yield(i) end
  end)
end

local function filter(src, pred)
  return wrap(function()
    for v in src do if pred(v) then yield(v) end end
  end)
end

local function map(src, f)
  return wrap(function()
    for v in src do yield(f(v)) end
  end)
end

local function take_sum(src)
  local s, c = 0, 0
  for v in src do s = (s + v) % 1000000007; c = c + 1 end
  return s, c
end

local check = 0

-- 1. a four-stage pipeline
do
  local p = map(filter(map(producer(n * 2), function(x) return x * 3 end),
                       function(x) return x % 2 == 0 end),
                function(x) return x + 1 end)
  local s, c = take_sum(p)
  check = (check + s + c) % 1000000007
end

-- 2. two-way communication: an accumulator coroutine fed through resume
do
  local acc = create(function(first)
    local total = first
    while true do
      local v = yield(total)
      if v == nil then break end
      total = (total + v) % 1000003
    end
    return total
  end)
  local _, t = resume(acc, 0)
  for i = 1, n do
    local ok, v = resume(acc, i)
    t = v
  end
  local ok, final = resume(acc, nil)
  check = (check + t + final) % 1000000007
  if status(acc) ~= "dead" then error("accumulator should be dead") end
end

-- 3. many short-lived coroutines
do
  local s = 0
  for i = 1, math.floor(n / 10) do
    local co = wrap(function(a, b)
      local c = yield(a + b)
      return a * c
    end)
    s = (s + co(i, 1) + co(2)) % 1000003
  end
  check = (check + s) % 1000000007
end

-- 4. a round-robin scheduler over several workers
do
  local workers, done = {}, 0
  for w = 1, 8 do
    workers[w] = create(function()
      local x = 0
      for i = 1, math.floor(n / 8) do x = (x + i * w) % 1000003; yield() end
      return x
    end)
  end
  local results = 0
  while done < #workers do
    for w = 1, #workers do
      local co = workers[w]
      if status(co) ~= "dead" then
        local ok, r = resume(co)
        if status(co) == "dead" then done = done + 1; results = results + r end
      end
    end
  end
  check = (check + results) % 1000000007
end

print(string.format("checksum: %d", check))
