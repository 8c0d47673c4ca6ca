-- A metamethod that calls itself.
-- expect: error: stack overflow
-- flags: --sandbox
local mt = {}
mt.__add = function(a, b) return a + b end
local x = setmetatable({}, mt)
return x + 1
