-- require cannot load a file (tests/hostile/data/evil.lua exists).
-- expect: error: module 'tests.hostile.data.evil' not found
-- flags: --sandbox
require("tests.hostile.data.evil")
