-- A branch taken one way when recorded: the other way exits, grows hot and gets a
-- side trace that goes on in the root trace.
local a, b = 0, 0
for i = 1, 200 do
  if i % 3 == 0 then a = a + 1 else b = b - 1 end
end
print(a, b)
