-- Nested parses: a load reader that, deep inside 190 levels of parentheses, calls load
-- with another such reader. Each parse keeps within its 200 syntax levels, but
-- together they overflowed the native stack (SIGSEGV, as in LuaJIT); the parser now
-- checks one native stack floor shared by every nested parse and native call.
-- expect: error: chunk has too many syntax levels
-- flags: --sandbox
local depth = 0
local function mk()
  local i = 0
  return function()
    i = i + 1
    if i == 1 then return "return " .. string.rep("(", 190) end
    if i == 2 then
      depth = depth + 1
      local f, m = load(mk())
      if not f then error(m, 0) end
      return "nil"
    end
    if i == 3 then return string.rep(")", 190) end
  end
end
local f, m = load(mk())
assert(depth >= 2 and depth < 50, depth)
error(m, 0)
