-- Strings of scattered sizes, every third one dropped: the heap fills with holes too
-- small for the next request (fragmentation). Peak RSS must still stay near --memory.
-- expect: memory
-- flags: --sandbox --memory 256M
local t = {}
local n = 0
while true do
  n = n + 1
  t[n] = string.rep("x", 1000 + (n * 7919) % 300000) .. n
  if n % 3 == 0 then t[n - 1] = nil end
end
