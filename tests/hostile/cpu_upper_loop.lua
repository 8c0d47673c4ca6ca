-- string.upper of 16 MB in a loop: one budget check per call was 1/16,000,000 of the
-- work; now each call is charged for its bytes.
-- expect: fuel
-- flags: --sandbox --fuel 10000000
local s = string.rep("x", 16000000)
for i = 1, 1000 do local u = s:upper() end
