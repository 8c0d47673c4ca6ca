-- The memory limit (see Limits above) stops a script that keeps allocating.
-- The state stays usable: run something else afterwards.
local keep = {}
for i = 1, 1e9 do
  keep[i] = string.rep("x", 100) .. i
  if i % 100000 == 0 then print(i .. " strings, " .. math.floor(collectgarbage("count")) .. " KiB") end
end
