local ffi = require("ffi")
local a = ffi.new("int[4]")
a[1] = "one"
