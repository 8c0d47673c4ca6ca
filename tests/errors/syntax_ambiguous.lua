local f = print
local x = f
("a")("b")
