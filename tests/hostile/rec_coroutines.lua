-- Coroutines resuming coroutines without end.
-- expect: error: C stack overflow
-- flags: --sandbox
local function r(n) return coroutine.wrap(function() return r(n + 1) end)() end
r(1)
