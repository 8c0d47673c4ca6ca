-- load with a reader that never ends a long comment: the source it hands over is
-- held by the lexer, and counted against the memory limit: load returns
-- "not enough memory" (as LuaJIT's load does for an allocation failure).
-- expect: error: not enough memory
-- flags: --sandbox --memory 32M
local piece = string.rep("x", 1048576)
local first = true
local f, err = load(function()
  if first then first = false return "--[[" end
  return piece
end)
error(err, 0)
