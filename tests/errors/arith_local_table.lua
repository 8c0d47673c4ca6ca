local t = {}
local y = 10 / t
