-- A counted loop: loads, arithmetic, the FORL close, PHIs for the carried values.
local s, t = 0, 1
for i = 1, 100 do
  s = s + i * 2
  t = t * 1.5 - s / 4
end
print(s, t)
