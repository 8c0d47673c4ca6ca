-- A binary chunk through load's reader function is refused.
-- expect: error: binary chunks are not allowed
-- flags: --sandbox
local parts = { "\27", "LJ", "\2" }
local i = 0
assert(load(function() i = i + 1 return parts[i] end))
