-- A string doubled until memory runs out.
-- expect: memory
-- flags: --sandbox --memory 32M
local s = "x"
while true do s = s .. s end
