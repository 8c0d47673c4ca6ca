-- A numeric for loop to infinity.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
for i = 1, math.huge do end
