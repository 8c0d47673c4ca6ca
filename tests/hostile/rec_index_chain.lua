-- An __index chain of a million tables: LuaJIT gives up after 100 levels.
-- expect: error: loop in gettable
-- flags: --sandbox --memory 512M
local t = {}
for i = 1, 1e6 do t = setmetatable({}, { __index = t }) end
return t.missing
