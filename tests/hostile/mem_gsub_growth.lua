-- gsub doubling its subject forever.
-- expect: memory
-- flags: --sandbox --memory 16M
local s = "x"
while true do s = s:gsub("x", "xx") end
