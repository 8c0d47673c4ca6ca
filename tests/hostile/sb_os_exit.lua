-- No os.exit.
-- expect: error: attempt to call field 'exit' (a nil value)
-- flags: --sandbox
os.exit(0)
