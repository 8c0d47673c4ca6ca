-- A while loop: the condition comes before LOOP; two budget points per iteration.
local x, n = 0, 0
while x < 1000 do
  x = x + 3
  n = n + 1
end
print(x, n)
