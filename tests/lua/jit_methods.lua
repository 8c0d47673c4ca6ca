-- Method lookups through __index tables inside traces: classes, inheritance,
-- polymorphic loops, and every link of the chain changing between iterations.
local out = {}
local function say(...) local t = {...} for i = 1, select("#", ...) do t[i] = tostring(t[i]) end out[#out + 1] = table.concat(t, " ") end

local Base = {}
Base.__index = Base
function Base.new(x) return setmetatable({x = x, moved = 0}, Base) end
function Base:area() return self.x * 2 end
function Base:move(d) self.x = self.x + d; self.moved = self.moved + 1 end
local Sub = setmetatable({}, {__index = Base})
Sub.__index = Sub
function Sub.new(x) return setmetatable(Base.new(x), Sub) end
function Sub:area() return self.x * 3 end

local objs = {}
for i = 1, 30 do objs[i] = (i % 3 == 0) and Sub.new(i) or Base.new(i) end
local total = 0
for r = 1, 20 do
  for i = 1, #objs do
    local o = objs[i]
    o:move(1)
    total = total + o:area() + (o.missing and 1 or 0)
  end
  if r == 10 then function Base:area() return self.x * 5 end end
end
say("classes", total)

-- An instance field shadows the method; the class's __index becomes a function,
-- then goes away; the object changes class.
local Other = {area = function() return 1000 end}
Other.__index = Other
local o = Base.new(1)
local seen = {}
for i = 1, 60 do seen[i] = 0 end
for i = 1, 60 do
  if i == 10 then o.area = function() return -1 end end
  if i == 20 then o.area = nil end
  if i == 30 then Base.__index = function(_, k) if k == "area" then return function() return 7 end end end end
  if i == 40 then Base.__index = nil end
  if i == 45 then setmetatable(o, Other) end
  local f = o.area
  seen[i] = f and f(o) or "none"
end
say(table.concat(seen, ","))
Base.__index = Base

-- Globals that are absent, then defined.
local hits = 0
for i = 1, 100 do
  if i == 50 then maybe_defined = 2 end
  hits = hits + (maybe_defined or 1)
end
say("globals", hits)
maybe_defined = nil

-- A deeper chain (three levels) and a key found at the second level only.
local A = {deep = function() return "A" end}
A.__index = A
local B = setmetatable({mid = function() return "B" end}, A)
B.__index = B
local C = setmetatable({}, B)
C.__index = C
local c = setmetatable({}, C)
local s1, s2 = 0, 0
for i = 1, 100 do
  s1 = s1 + #c.deep()
  s2 = s2 + #c.mid()
  if i == 70 then A.deep = function() return "AA" end end
end
say("chain", s1, s2)

-- Objects of one class with different field layouts: the method's field
-- accesses exit inside the inlined call, side traces start there, and an error
-- raised in the method after such an exit has the interpreter's frames.
local P = {}
P.__index = P
function P:bump(d)
  self.v = self.v + d
  if self.v == 1234 then error("v reached " .. self.v) end
  return self.v
end
local ps = {}
for i = 1, 40 do
  local o = {}
  if i % 2 == 0 then o.a = 1 end
  if i % 3 == 0 then o.b = 2; o.c = 3 end
  o.v = i
  ps[i] = setmetatable(o, P)
end
local acc = 0
for _ = 1, 20 do for i = 1, 40 do acc = acc + ps[i]:bump(1) end end
say("layouts", acc)
say(pcall(function() for _ = 1, 2000 do for i = 1, 40 do acc = acc + ps[i]:bump(3) end end end))
say("after", acc)

print(table.concat(out, "\n"))
