-- A pattern whose bracket class has 100,000 items, matched against a long subject:
-- each byte walks the whole class, but counted as one matcher step it cost one unit
-- of fuel for 100,000 bytes of work. Steps are now charged in proportion to the
-- class length, so the fuel limit stops it.
-- expect: fuel
-- flags: --sandbox --fuel 10000000
local class = "[" .. string.rep("b", 100000) .. "a]"
local s = string.rep("a", 100000)
print(#string.match(s, class .. "*"), string.find(s, class .. "c"))
