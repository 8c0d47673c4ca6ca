-- The math library.

local function close(a, b, eps) return math.abs(a - b) <= (eps or 1e-12) end

assert(math.pi == 3.141592653589793 and close(math.pi, 4 * math.atan(1)), "pi")
assert(math.huge == 1 / 0 and -math.huge == -1 / 0, "huge")
assert(math.floor(3.7) == 3 and math.floor(-3.5) == -4 and math.floor(5) == 5, "floor")
assert(math.ceil(3.2) == 4 and math.ceil(-3.5) == -3 and math.ceil(5) == 5, "ceil")
assert(1 / math.floor(-0.0) == -math.huge and 1 / math.ceil(-0.5) == -math.huge, "floor/ceil keep -0")
assert(math.floor(2 ^ 31 + 0.5) == 2147483648 and math.floor(-2 ^ 40 - 0.5) == -2 ^ 40 - 1, "floor beyond int32")
assert(math.floor(math.huge) == math.huge, "floor of inf")
assert(math.abs(-3) == 3 and math.abs(3) == 3 and math.abs(-0.0) == 0 and math.abs(-math.huge) == math.huge, "abs")
assert(math.max(1, 5, 3) == 5 and math.min(4, 2, 8) == 2 and math.max(-1) == -1, "max/min")
assert(math.max(1, 2.5) == 2.5 and math.min(-1 / 0, 0) == -1 / 0, "max/min with floats")
assert(not pcall(math.max) and not pcall(math.min), "max/min need an argument")
assert(math.sqrt(16) == 4 and close(math.sqrt(2), 1.4142135623730951), "sqrt")
local nan = math.sqrt(-1)
assert(nan ~= nan, "sqrt(-1) is nan")
assert(math.fmod(5.5, 2) == 1.5 and math.fmod(-5, 3) == -2 and math.fmod(5, -3) == 2, "fmod")
local fm = math.fmod(1, 0)
assert(fm ~= fm, "fmod by zero is nan")
local ip, fp = math.modf(3.7)
assert(ip == 3 and close(fp, 0.7), "modf")
ip, fp = math.modf(-3.7)
assert(ip == -3 and close(fp, -0.7), "modf negative")
ip, fp = math.modf(1 / 0)
assert(ip == math.huge and fp == 0, "modf of inf")
local mant, ex = math.frexp(8)
assert(mant == 0.5 and ex == 4, "frexp")
mant, ex = math.frexp(0)
assert(mant == 0 and ex == 0, "frexp 0")
assert(math.ldexp(0.5, 4) == 8 and math.ldexp(1, -1) == 0.5, "ldexp")
assert(math.exp(0) == 1 and close(math.exp(1), 2.718281828459045), "exp")
assert(close(math.log(math.exp(2)), 2) and math.log(1) == 0, "log")
assert(math.log(8, 2) == 3 and math.log(100, 10) == 2, "log with base (LuaJIT 2.1)")
assert(math.log10(1000) == 3, "log10")
assert(math.log(0) == -math.huge, "log 0")
assert(math.pow(2, 10) == 1024, "pow")
assert(math.sin(0) == 0 and math.cos(0) == 1 and math.tan(0) == 0, "trig at 0")
assert(close(math.sin(math.pi / 2), 1) and close(math.cos(math.pi), -1), "trig")
assert(close(math.asin(1), math.pi / 2) and math.acos(1) == 0 and close(math.atan(1), math.pi / 4), "inverse trig")
assert(close(math.atan2(1, 1), math.pi / 4) and close(math.atan2(1, -1), 3 * math.pi / 4), "atan2")
assert(close(math.atan2(-1, -1), -3 * math.pi / 4) and math.atan2(0, 1) == 0, "atan2 quadrants")
assert(math.sinh(0) == 0 and math.cosh(0) == 1 and math.tanh(0) == 0, "hyperbolic")
assert(close(math.tanh(100), 1), "tanh saturates")
assert(math.deg(math.pi) == 180 and math.rad(180) == math.pi, "deg/rad")
assert(math.mod == nil and math.tointeger == nil and math.type == nil and math.ult == nil, "no 5.0/5.3 names")
assert(not pcall(math.floor, "a") and math.floor("2.5") == 2, "argument coercion")

-- random
math.randomseed(42)
local r = math.random()
assert(r >= 0 and r < 1, "random in [0,1)")
for _ = 1, 1000 do
  local x = math.random(10)
  assert(x >= 1 and x <= 10 and x == math.floor(x), "random(10)")
  local y = math.random(-5, 5)
  assert(y >= -5 and y <= 5 and y == math.floor(y), "random(-5,5)")
end
assert(math.random(5, 5) == 5, "degenerate interval")
-- seeding is deterministic
math.randomseed(7)
local s1 = {math.random(), math.random(100), math.random(3, 9)}
math.randomseed(7)
local s2 = {math.random(), math.random(100), math.random(3, 9)}
assert(s1[1] == s2[1] and s1[2] == s2[2] and s1[3] == s2[3], "same seed, same sequence")
-- LuaJIT's own PRNG (Tausworthe, identical on every platform): exact values
math.randomseed(123)
local seq = {}
for i = 1, 5 do seq[i] = math.random(1000) end
assert(table.concat(seq, ",") == "116,917,927,975,110", "LuaJIT PRNG sequence: " .. table.concat(seq, ","))
math.randomseed(123)
assert(string.format("%.17g", math.random()) == "0.11554853058275572", "LuaJIT PRNG first double")
-- distribution sanity
math.randomseed(1)
local buckets = {0, 0, 0, 0}
for _ = 1, 40000 do local b = math.random(4); buckets[b] = buckets[b] + 1 end
for i = 1, 4 do assert(buckets[i] > 9000 and buckets[i] < 11000, "roughly uniform bucket " .. i) end

-- math in hot loops
local acc = 0
for i = 1, 10000 do acc = acc + math.sin(i) ^ 2 + math.cos(i) ^ 2 end
assert(close(acc, 10000, 1e-6), "sin^2 + cos^2")
local fl = 0
for i = 1, 10000 do fl = fl + math.floor(i / 3) end
assert(fl == 16665000, "floor in a loop: " .. fl)
local mx = -math.huge
for i = 1, 1000 do mx = math.max(mx, (i * 7919) % 1000) end
assert(mx == 999, "max in a loop")
print("ok")
