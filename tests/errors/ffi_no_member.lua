local ffi = require("ffi")
ffi.cdef("struct ffi_err_point { int x, y; };")
local p = ffi.new("struct ffi_err_point")
local z = p.z
