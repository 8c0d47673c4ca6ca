-- string.dump output cannot be loaded back in a sandbox.
-- expect: error: binary chunks are not allowed
-- flags: --sandbox
local f = assert(loadstring(string.dump(function() return 1 end)))
