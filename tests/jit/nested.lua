-- Nested loops: the inner loop's root trace, and side traces from its exits that
-- carry the outer loop round into the inner one again.
local total = 0
for i = 1, 40 do
  for j = 1, 8 do
    total = total + j / 2
  end
  total = total % 1000
end
print(total)
