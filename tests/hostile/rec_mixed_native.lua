-- Native recursion through every route at once: __tostring, sort comparators,
-- coroutine.wrap, gsub callbacks, load readers and xpcall handlers, taking turns. Each
-- route alone stops at 200 levels; together they are bounded by the one native stack
-- floor, and each level's error is caught by the level above.
-- expect: ok
-- flags: --sandbox
local n = 0
local f
local routes = {
  function() return tostring(setmetatable({}, { __tostring = function() f() return "" end })) end,
  function() table.sort({ 1, 2 }, function(a, b) f() return a < b end) end,
  function() return coroutine.wrap(function() f() end)() end,
  function() string.gsub("x", "x", function() f() end) end,
  function() load(function() f() return nil end) end,
  function() xpcall(error, function() f() end) end,
}
f = function()
  n = n + 1
  return routes[n % #routes + 1]()
end
print(pcall(f))
assert(n >= 100, n)
