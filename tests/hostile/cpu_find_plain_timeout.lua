-- The same almost-matching plain search, stopped by the deadline while it runs.
-- expect: timeout
-- flags: --sandbox --timeout 1s
local hay = string.rep("a", 4000000)
local needle = string.rep("a", 1000000) .. "b"
print(string.find(hay, needle, 1, true))
