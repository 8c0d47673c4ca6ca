-- Millions of coroutines kept alive.
-- expect: memory
-- flags: --sandbox --memory 32M
local t = {}
for i = 1, 1e7 do t[i] = coroutine.create(function() end) end
