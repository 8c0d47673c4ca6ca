-- An __index function that never returns.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
local t = setmetatable({}, { __index = function() while true do end end })
print(pcall(function() return t.x end))
