-- oop: classes built from metatables: method calls through an __index chain
-- (two levels of inheritance), field reads and writes on self, constructors,
-- overridden methods calling the base method, and __index / __newindex functions.
local n = tonumber(arg and arg[1]) or 1500000

local Shape = {}
Shape.__index = Shape
function Shape.new(x, y)
  return setmetatable({ x = x, y = y, moved = 0 }, Shape)
end
function Shape:move(dx, dy)
  self.x = self.x + dx
  self.y = self.y + dy
  self.moved = self.moved + 1
end
function Shape:area() return 0 end
function Shape:describe() return self:kind() .. ":" .. self:area() end
function Shape:kind() return "shape" end

local Rect = setmetatable({}, { __index = Shape })
Rect.__index = Rect
function Rect.new(x, y, w, h)
  local o = Shape.new(x, y)
  o.w, o.h = w, h
  return setmetatable(o, Rect)
end
function Rect:area() return self.w * self.h end
function Rect:kind() return "rect" end

local Square = setmetatable({}, { __index = Rect })
Square.__index = Square
function Square.new(x, y, s)
  return setmetatable(Rect.new(x, y, s, s), Square)
end
function Square:kind() return "square" end
function Square:area() return Rect.area(self) + 0 end -- calls the base method

local Circle = setmetatable({}, { __index = Shape })
Circle.__index = Circle
function Circle.new(x, y, r)
  local o = Shape.new(x, y)
  o.r = r
  return setmetatable(o, Circle)
end
function Circle:area() return self.r * self.r * 3 end
function Circle:kind() return "circle" end

-- a vector type with arithmetic metamethods
local Vec = {}
Vec.__index = Vec
function Vec.new(x, y) return setmetatable({ x = x, y = y }, Vec) end
Vec.__add = function(a, b) return Vec.new(a.x + b.x, a.y + b.y) end
Vec.__eq = function(a, b) return a.x == b.x and a.y == b.y end
function Vec:dot(o) return self.x * o.x + self.y * o.y end

-- a "proxy" with __index/__newindex functions (defaults + write counting)
local writes = 0
local function proxy(defaults)
  local store = {}
  return setmetatable({}, {
    __index = function(_, k) local v = store[k]; if v == nil then v = defaults[k] end; return v end,
    __newindex = function(_, k, v) writes = writes + 1; store[k] = v end,
  })
end

local check = 0
local shapes = {}
for i = 1, 300 do
  local kind = i % 3
  if kind == 0 then shapes[i] = Rect.new(i, -i, 1 + i % 7, 1 + i % 5)
  elseif kind == 1 then shapes[i] = Square.new(-i, i, 1 + i % 9)
  else shapes[i] = Circle.new(i, i, 1 + i % 4) end
end

for round = 1, math.floor(n / 300) do
  local total = 0
  for i = 1, #shapes do
    local s = shapes[i]
    s:move(1, -1)
    total = total + s:area()
  end
  check = (check + total + round) % 1000003
end
for i = 1, #shapes do
  local s = shapes[i]
  check = (check + #s:describe() + s.moved + s.x % 1000) % 1000003
end

do
  local acc = Vec.new(0, 0)
  local one = Vec.new(1, 2)
  for i = 1, n do
    acc = acc + one
    if acc == one then check = check + 1 end
  end
  check = (check + acc:dot(Vec.new(3, 1))) % 1000003
end

do
  local p = proxy({ a = 1, b = 2, c = 3 })
  local s = 0
  for i = 1, n do
    s = s + p.a + p.b + p.c
    if i % 4 == 0 then p.a = p.a + 1 end
  end
  check = (check + s % 1000003 + writes) % 1000003
end

print(string.format("checksum: %d", check))
