-- A finalizer run by the collector step of an allocating instruction is named
-- after that instruction's metamethod, as LuaJIT names it: "__gc" for table and
-- closure creation, "__concat" for `..`.
if jit then jit.off() end

local caught, caught_name, caught_what, caught_line

local function gcmeta()
  if not caught then
    local info = debug.getinfo(1, "n")
    caught_name, caught_what = info.name, info.namewhat
    caught_line = debug.getinfo(2, "l").currentline
    caught = true
  end
end

local function run(f)
  collectgarbage()
  caught = false
  local u = newproxy(true)
  getmetatable(u).__gc = gcmeta
  u = nil
  for i = 1, 100000 do
    f(i)
    if caught then break end
  end
  assert(caught, "finalizer never ran")
  assert(type(caught_line) == "number" and caught_line > 0, "no line for the allocating frame")
  return caught_name, caught_what
end

local x
print(run(function(i) x = {} end))
print(run(function(i) x = {1} end))
print(run(function(i) x = function() end end))
print(run(function(i) x = i .. "" end))
