-- collectgarbage() in a loop over a large heap: each call walks the heap, and is
-- charged for it.
-- expect: fuel
-- flags: --sandbox --fuel 5000000
local t = {}
for i = 1, 200000 do t[i] = { i } end
for i = 1, 100000 do collectgarbage() end
