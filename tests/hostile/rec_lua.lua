-- Unbounded Lua recursion.
-- expect: error: stack overflow
-- flags: --sandbox
local function f() return 1 + f() end
f()
