local ffi = require("ffi")
local p = ffi.new("int *")
local x = p * 2
