-- %b() over a million unbalanced parentheses (quadratic).
-- expect: timeout
-- flags: --sandbox --timeout 1s
print(string.find(string.rep("(", 1e6), "%b()"))
