-- Deeply nested table constructors in source.
-- expect: error: chunk has too many syntax levels
-- flags: --sandbox
local src = "return " .. string.rep("{", 1e5) .. string.rep("}", 1e5)
assert(loadstring(src))
