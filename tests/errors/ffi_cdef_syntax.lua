local ffi = require("ffi")
ffi.cdef[[
struct s { int a; }
int f(void);
]]
