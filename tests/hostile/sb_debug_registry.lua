-- No debug.getregistry.
-- expect: error: attempt to call field 'getregistry' (a nil value)
-- flags: --sandbox
local r = debug.getregistry()
