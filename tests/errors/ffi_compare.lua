local ffi = require("ffi")
local p = ffi.new("char *")
if p < 1 then end
