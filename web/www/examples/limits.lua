-- Every run has an instruction budget and a memory limit (see Limits above).
-- Scripts also run in a Web Worker, so the Stop button always works.
--
-- This loop never ends. The budget stops it, and pcall cannot catch that:
print("counting forever...")
local n = 0
local ok = pcall(function()
  while true do n = n + 1 end
end)
print("never printed", ok)
