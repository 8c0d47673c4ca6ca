-- A slot whose type changes every iteration cannot be carried in a register: the
-- trace keeps the unoptimised shape (loads and stores each iteration).
local v, c = 1, 0
for i = 1, 60 do
  if v then v = false else v = true end
  c = c + 1
end
print(v, c)
