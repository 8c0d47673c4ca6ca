-- A finalizer that never returns.
-- expect: timeout
-- flags: --sandbox --timeout 1s
local p = newproxy(true)
getmetatable(p).__gc = function() while true do end end
p = nil
collectgarbage()
print("not reached")
