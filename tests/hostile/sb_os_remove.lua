-- No os.remove.
-- expect: error: attempt to call field 'remove' (a nil value)
-- flags: --sandbox
os.remove("/tmp/x")
