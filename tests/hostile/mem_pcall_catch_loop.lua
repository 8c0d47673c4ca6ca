-- A memory bomb inside pcall: "not enough memory" is catchable (as in LuaJIT), but
-- everything the script allocated stays reachable, so the heap is full and the next
-- allocation outside the pcall (the closure) fails too, uncaught. A collection that
-- cannot free enough is not retried at every attempt, so this ends at once.
-- expect: memory
-- flags: --sandbox --memory 32M
local keep, caught = {}, 0
while true do
  local ok, err = pcall(function() keep[#keep + 1] = string.rep("y", 1e6) .. #keep end)
  if not ok then
    assert(err == "not enough memory", err)
    caught = caught + 1
  end
end
