-- A __tostring that never returns, called by tostring (native code re-entering Lua).
-- expect: timeout
-- flags: --sandbox --timeout 1s
local t = setmetatable({}, { __tostring = function() while true do end end })
print(pcall(tostring, t))
