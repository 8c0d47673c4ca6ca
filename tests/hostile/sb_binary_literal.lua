-- A hand-made binary chunk is refused.
-- expect: error: binary chunks are not allowed
-- flags: --sandbox
assert(loadstring("\27LJ\2\0garbage"))
