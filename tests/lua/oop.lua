-- Object-oriented idioms built from metatables and closures.

-- class helper with inheritance and super calls
local function class(parent)
  local c = {}
  c.__index = c
  if parent then setmetatable(c, {__index = parent}) end
  c.new = function(...)
    local o = setmetatable({}, c)
    if o.init then o:init(...) end
    return o
  end
  c.super = parent
  return c
end

local Shape = class()
function Shape:init(name) self.name = name end
function Shape:area() return 0 end
function Shape:describe() return self.name .. " with area " .. self:area() end

local Rect = class(Shape)
function Rect:init(w, h) Shape.init(self, "rect"); self.w, self.h = w, h end
function Rect:area() return self.w * self.h end

local Square = class(Rect)
function Square:init(s) Rect.init(self, s, s); self.name = "square" end

local r, s = Rect.new(2, 3), Square.new(4)
assert(r:describe() == "rect with area 6", "rect")
assert(s:describe() == "square with area 16", "square uses Rect:area through the chain")
assert(getmetatable(s) == Square and Square.super == Rect and Rect.super == Shape, "hierarchy")
local function isinstance(o, cls)
  local m = getmetatable(o)
  while m do
    if m == cls then return true end
    m = m.super
  end
  return false
end
assert(isinstance(s, Shape) and isinstance(s, Rect) and not isinstance(r, Square), "isinstance")

-- operators on instances
local Vec = class()
function Vec:init(x, y) self.x, self.y = x, y end
Vec.__add = function(a, b) return Vec.new(a.x + b.x, a.y + b.y) end
Vec.__eq = function(a, b) return a.x == b.x and a.y == b.y end
Vec.__tostring = function(v) return "(" .. v.x .. ", " .. v.y .. ")" end
Vec.__len = function(v) return 2 end  -- ignored for tables in 5.1
local v = Vec.new(1, 2) + Vec.new(3, 4)
assert(v == Vec.new(4, 6) and tostring(v) == "(4, 6)", "operators from the class table")
assert(#v == 0, "__len ignored on tables")

-- closure-based objects with private state
local function Account(balance)
  local self = {}
  function self.deposit(n) balance = balance + n end
  function self.withdraw(n)
    if n > balance then error("insufficient funds", 2) end
    balance = balance - n
  end
  function self.balance() return balance end
  return self
end
local acc = Account(100)
acc.deposit(50)
acc.withdraw(30)
assert(acc.balance() == 120, "closure object")
local ok, e = pcall(acc.withdraw, 1000)
assert(not ok and e:find("insufficient funds", 1, true), "error from a method")
assert(acc.balance() == 120 and acc.balance ~= nil and rawget(acc, "balance_value") == nil, "state is private")

-- mixins
local Comparable = {
  __lt = function(a, b) return a:key() < b:key() end,
  __le = function(a, b) return a:key() <= b:key() end,
}
local Person = class()
for k, f in pairs(Comparable) do Person[k] = f end
function Person:init(name, age) self.name, self.age = name, age end
function Person:key() return self.age end
local people = {Person.new("a", 30), Person.new("b", 20), Person.new("c", 25)}
table.sort(people)
assert(people[1].name == "b" and people[3].name == "a", "sort via mixin __lt")
assert(people[1] <= people[2], "mixin __le")

-- properties with __index/__newindex functions
local function Observable()
  local data, log = {}, {}
  local o = setmetatable({}, {
    __index = function(_, k) return data[k] end,
    __newindex = function(_, k, val) log[#log + 1] = k; data[k] = val end,
  })
  return o, log
end
local ob, log = Observable()
ob.x = 1; ob.x = 2; ob.y = 3
assert(ob.x == 2 and ob.y == 3 and #log == 3 and rawget(ob, "x") == nil, "proxy observes every write")

-- default values via __index
local defaults = setmetatable({}, {__index = function() return 0 end})
defaults.hits = defaults.hits + 1
defaults.hits = defaults.hits + 1
assert(defaults.hits == 2 and defaults.misses == 0, "defaulting table")

-- method call on a table stored in a table
local registry = {handlers = {}}
function registry:add(name, fn) self.handlers[name] = fn; return self end
function registry:run(name, ...) return self.handlers[name](...) end
registry:add("sum", function(a, b) return a + b end):add("neg", function(a) return -a end)
assert(registry:run("sum", 2, 3) == 5 and registry:run("neg", 4) == -4, "fluent interface")

-- singleton with __call constructor
local Counter = setmetatable({count = 0}, {__call = function(cls, step)
  cls.count = cls.count + (step or 1)
  return cls.count
end})
Counter(); Counter(5)
assert(Counter.count == 6, "callable class table")

-- many objects
local objs = {}
for i = 1, 10000 do objs[i] = Rect.new(i, 2) end
local total = 0
for i = 1, #objs do total = total + objs[i]:area() end
assert(total == 100010000, "10000 method calls: " .. total)
print("ok")
