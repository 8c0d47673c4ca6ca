-- Deeply nested functions in source.
-- expect: error: chunk has too many syntax levels
-- flags: --sandbox
local src = string.rep("local function f() ", 1e4) .. string.rep("end ", 1e4)
assert(loadstring(src))
