-- Compiling a 1.6 MB chunk of 400,000 table constructors: the compiler's own memory
-- (code, constants, templates: some 200 bytes each, 50 times the source) is counted
-- against the limit, and load returns "not enough memory" (as LuaJIT's load does).
-- expect: error: not enough memory
-- flags: --sandbox --memory 32M
local src = "return {" .. string.rep("{1},", 400000) .. "}"
local f, err = load(src)
assert(f == nil, "compiled")
error(err, 0)
