-- A gsub callback that never returns.
-- expect: timeout
-- flags: --sandbox --timeout 1s
print(pcall(string.gsub, string.rep("x", 10), ".", function() while true do end end))
