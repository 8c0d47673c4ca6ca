-- A finalizer fails with an error object whose __tostring never returns: reporting
-- that error is stopped by the deadline like the finalizer itself would be.
-- expect: timeout
-- flags: --sandbox --timeout 1s
local p = newproxy(true)
getmetatable(p).__gc = function()
  error(setmetatable({}, { __tostring = function() while true do end end }))
end
p = nil
collectgarbage()
print("not reached")
