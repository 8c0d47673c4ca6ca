local s = "abc"
local y = s * 2
