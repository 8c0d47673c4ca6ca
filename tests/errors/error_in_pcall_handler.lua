local function f() error("inner") end
local ok, e = pcall(f)
error("rethrown: " .. e, 0)
