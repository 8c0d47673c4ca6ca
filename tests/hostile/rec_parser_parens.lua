-- A million nested parentheses in source.
-- expect: error: chunk has too many syntax levels
-- flags: --sandbox
local src = "return " .. string.rep("(", 1e6) .. "1" .. string.rep(")", 1e6)
assert(loadstring(src))
