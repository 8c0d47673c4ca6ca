-- A memory bomb inside pcall: the limit still stops the script.
-- expect: memory
-- flags: --sandbox --memory 32M
local keep = {}
while true do
  local ok = pcall(function() keep[#keep + 1] = string.rep("y", 1e6) .. #keep end)
end
