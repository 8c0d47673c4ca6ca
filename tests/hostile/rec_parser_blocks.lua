-- Deeply nested blocks in source.
-- expect: error: chunk has too many syntax levels
-- flags: --sandbox
local src = string.rep("do ", 1e5) .. string.rep("end ", 1e5)
assert(loadstring(src))
