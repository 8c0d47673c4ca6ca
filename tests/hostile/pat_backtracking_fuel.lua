-- The same, stopped by the instruction budget (the matcher charges it).
-- expect: fuel
-- flags: --sandbox --fuel 1000000
print(string.find(string.rep("a", 1e5), ".-.-.-.-.-.-b"))
