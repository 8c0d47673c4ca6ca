-- Polynomial backtracking in the pattern matcher.
-- expect: timeout
-- flags: --sandbox --timeout 1s
print(string.find(string.rep("a", 1e5), ".-.-.-.-.-.-b"))
