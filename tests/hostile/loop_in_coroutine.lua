-- An infinite loop inside a coroutine called through pcall.
-- expect: timeout
-- flags: --sandbox --timeout 1s
local co = coroutine.wrap(function() while true do end end)
print(pcall(co))
