-- No debug.getupvalue.
-- expect: error: attempt to call field 'getupvalue' (a nil value)
-- flags: --sandbox
debug.getupvalue(print, 1)
