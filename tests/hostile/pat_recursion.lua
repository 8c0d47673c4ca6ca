-- Pattern recursion depth.
-- expect: error: pattern too complex
-- flags: --sandbox
local s = string.rep("a", 300)
print(string.match(s, string.rep("a?", 300) .. s))
