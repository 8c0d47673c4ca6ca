-- A script may tamper with its own string metatable (other states are not affected: tests/hostile.rs).
-- expect: ok
-- flags: --sandbox
local mt = getmetatable("")
mt.__index = function(s, k) return function() return "pwned" end end
assert(("x"):upper() == "pwned")
