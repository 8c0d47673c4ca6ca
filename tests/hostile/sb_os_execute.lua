-- No os.execute.
-- expect: error: attempt to call field 'execute' (a nil value)
-- flags: --sandbox
os.execute("echo escaped")
