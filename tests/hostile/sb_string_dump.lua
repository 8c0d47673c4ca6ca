-- A sandboxed state has no string.dump (and could not load its output).
-- expect: error: attempt to call field 'dump' (a nil value)
-- flags: --sandbox
local f = assert(loadstring(string.dump(function() return 1 end)))
