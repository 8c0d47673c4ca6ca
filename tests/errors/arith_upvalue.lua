local n
local function f() return n - 1 end
f()
