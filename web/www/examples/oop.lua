-- Classes with metatables: constructors, inheritance, metamethods.

local Vector = {}
Vector.__index = Vector

function Vector.new(x, y) return setmetatable({ x = x, y = y }, Vector) end
function Vector.__add(a, b) return Vector.new(a.x + b.x, a.y + b.y) end
function Vector.__mul(a, k) return Vector.new(a.x * k, a.y * k) end
function Vector.__eq(a, b) return a.x == b.x and a.y == b.y end
function Vector.__tostring(v) return "(" .. v.x .. ", " .. v.y .. ")" end
function Vector:length() return math.sqrt(self.x ^ 2 + self.y ^ 2) end

local a, b = Vector.new(3, 4), Vector.new(1, 2)
print(a + b, a * 2, a:length(), a == Vector.new(3, 4))

-- A tiny class helper with inheritance
local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, { __index = parent }) end
  c.new = function(...)
    local o = setmetatable({}, c)
    if o.init then o:init(...) end
    return o
  end
  return c
end

local Animal = class()
function Animal:init(name) self.name = name end
function Animal:speak() return self.name .. " makes a sound" end
function Animal:__tostring() return "Animal(" .. self.name .. ")" end

local Dog = class(Animal)
function Dog:init(name, trick) Animal.init(self, name); self.trick = trick end
function Dog:speak() return self.name .. " says woof and can " .. self.trick end
Dog.__tostring = Animal.__tostring

local pets = { Animal.new("Generic"), Dog.new("Rex", "roll over") }
for _, p in ipairs(pets) do print(tostring(p), p:speak()) end
print(getmetatable(pets[2]) == Dog, rawget(Dog, "init") ~= nil, Dog.speak ~= Animal.speak)

-- __index as a function (defaults), __newindex (read-only), __call and __len
local defaults = setmetatable({}, { __index = function(_, k) return "default " .. k end })
print(defaults.color)
local ro = setmetatable({}, { __newindex = function(_, k) error("read-only: " .. k, 2) end })
print(pcall(function() ro.x = 1 end))
local counter = setmetatable({ n = 0 }, {
  __call = function(self, by) self.n = self.n + (by or 1); return self.n end,
})
counter(); counter(5)
print("counter:", counter.n)
