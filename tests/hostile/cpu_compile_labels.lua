-- Compiling a chunk with 20,000 gotos and 20,000 labels: matching them is quadratic
-- (1.2 s of compiler time with no check). The compiler charges the budget for its
-- scans, so the fuel limit stops the compilation.
-- expect: fuel
-- flags: --sandbox --fuel 2000000
local parts = { "do" }
for i = 1, 20000 do parts[#parts + 1] = "goto l" .. i end
for i = 1, 20000 do parts[#parts + 1] = "::l" .. i .. "::" end
parts[#parts + 1] = "end"
print(load(table.concat(parts, "\n")))
