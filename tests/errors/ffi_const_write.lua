local ffi = require("ffi")
local s = ffi.new("struct { const int k; int v; }")
s.v = 1
s.k = 2
