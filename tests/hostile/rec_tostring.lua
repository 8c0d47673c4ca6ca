-- __tostring recursion through tostring (native re-entry).
-- expect: error: C stack overflow
-- flags: --sandbox
local t = setmetatable({}, { __tostring = function(s) return tostring(s) end })
print(tostring(t))
