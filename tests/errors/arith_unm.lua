local b = true
local y = -b
