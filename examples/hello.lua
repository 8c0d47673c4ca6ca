-- moonbox quick start: run with `cargo run --release -- examples/hello.lua`
local function greet(name)
  return ("Hello, %s!"):format(name)
end

print(greet("moonbox"))

-- closures, metatables and coroutines, all in one breath
local Counter = {}
Counter.__index = Counter
function Counter.new() return setmetatable({ n = 0 }, Counter) end
function Counter:inc() self.n = self.n + 1; return self.n end

local c = Counter.new()
local gen = coroutine.wrap(function()
  for _ = 1, 3 do coroutine.yield(c:inc()) end
end)
print(gen(), gen(), gen())
print(_VERSION, jit and jit.version or "no jit table")
