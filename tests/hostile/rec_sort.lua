-- table.sort comparators that sort again.
-- expect: error: C stack overflow
-- flags: --sandbox
local function cmp(a, b) table.sort({3, 2, 1}, cmp) return a < b end
table.sort({3, 2, 1}, cmp)
