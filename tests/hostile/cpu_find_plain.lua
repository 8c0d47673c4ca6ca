-- Plain string.find of a needle that almost matches at every position: LuaJIT's
-- search (first byte, then the rest) costs the subject's length times the needle's,
-- about 10^12 byte comparisons here, in one call. The search charges the budget as it
-- scans, so the fuel limit stops it.
-- expect: fuel
-- flags: --sandbox --fuel 10000000
local hay = string.rep("a", 4000000)
local needle = string.rep("a", 1000000) .. "b"
print(string.find(hay, needle, 1, true))
