-- No dofile.
-- expect: error: attempt to call global 'dofile' (a nil value)
-- flags: --sandbox
dofile("tests/hostile/data/evil.lua")
