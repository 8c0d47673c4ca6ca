-- An xpcall handler that fails every time.
-- expect: ok
-- flags: --sandbox
local ok, msg = xpcall(error, function(m) return error(m) end)
assert(not ok and msg == "error in error handling", tostring(msg))
