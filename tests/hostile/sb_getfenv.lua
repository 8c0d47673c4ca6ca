-- getfenv only ever reaches the sandbox's own globals.
-- expect: ok
-- flags: --sandbox
local g = getfenv(0)
assert(g == _G and g.io == nil and g.loadfile == nil)
assert(getfenv(print) == _G)
assert(getfenv(1) == _G)
