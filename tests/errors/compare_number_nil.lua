local a = 1
local b
if a < b then end
