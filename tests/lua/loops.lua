-- while, repeat-until and break.

local i, s = 1, 0
while i <= 10 do s = s + i; i = i + 1 end
assert(s == 55 and i == 11, "while")
while false do error("never") end
local n = 0
while true do n = n + 1; if n == 5 then break end end
assert(n == 5, "while true with break")

-- repeat runs at least once
n = 0
repeat n = n + 1 until true
assert(n == 1, "repeat runs once")

-- until sees body locals
local count = 0
repeat
  local done = count >= 3
  count = count + 1
until done
assert(count == 4, "until sees the local 'done'")

-- until sees body locals even when captured by closures
local fns = {}
local k = 0
repeat
  local kk = k
  fns[#fns + 1] = function() return kk end
  k = k + 1
until kk == 4
assert(#fns == 5 and fns[5]() == 4 and fns[1]() == 0, "captured body local in until")

-- break in repeat
n = 0
repeat
  n = n + 1
  if n == 3 then break end
until false
assert(n == 3, "break in repeat")

-- break only exits the innermost loop
local outer = 0
for a = 1, 3 do
  while true do
    break
  end
  repeat
    break
  until false
  outer = outer + 1
end
assert(outer == 3, "break exits innermost loop only")

-- break must be the last statement in a block, in LuaJIT too (unlike 5.2)
local bf, be = loadstring("while true do break; local x = 1 end")
assert(not bf and be:find("'end' expected near 'local'", 1, true), "statement after break: " .. tostring(be))
assert(loadstring("while true do break; end"), "break followed by a semicolon")
assert(not loadstring("break"), "break outside a loop is an error")
local f, e = loadstring("do break end")
assert(not f and e:find("no loop to break", 1, true), "break outside loop message: " .. tostring(e))

-- return must be last in a block
assert(not loadstring("return 1; local x = 2"), "statement after return")
assert(loadstring("return 1;"), "return with a semicolon")
assert(loadstring("do return end local x = 2"), "do return end in the middle")

-- loops with complex conditions
local a, b = 0, 100
while a < b and b - a > 1 do a = a + 2; b = b - 3 end
assert(a == 40 and b == 40, "while with compound condition: " .. a .. " " .. b)

-- nested repeat with locals of the same name
local log = {}
local x = 0
repeat
  local x = x + 1
  log[#log + 1] = x
until x > 0
assert(#log == 1 and log[1] == 1, "inner local shadows in repeat")

-- hot while loop
local c = 0
local j = 0
while j < 200000 do
  j = j + 1
  if j % 3 == 0 then c = c + 1 end
end
assert(c == 66666, "hot while loop")

-- loop with table building and early exit
local primes = {}
local cand = 2
while #primes < 100 do
  local isp = true
  for _, p in ipairs(primes) do
    if p * p > cand then break end
    if cand % p == 0 then isp = false; break end
  end
  if isp then primes[#primes + 1] = cand end
  cand = cand + 1
end
assert(primes[100] == 541, "100th prime")

-- semicolons are optional separators
local y = 1; local z = 2; y = y + z;
assert(y == 3, "semicolons")
-- empty statements are a 5.2 feature: LuaJIT rejects them
assert(not loadstring("local a = 1;; a = 2"), "double semicolon is a syntax error")
assert(not loadstring(";"), "lone semicolon is a syntax error")
print("ok")
