-- The math library, as LuaJIT 2.1 behaves (x86-64, glibc libm).

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

local function isnan(x) return x ~= x end
local function isneg0(x) return x == 0 and 1 / x < 0 end

-- constants
assert(math.huge == 1 / 0 and -math.huge == -1 / 0, "huge")
assert(math.pi == 3.141592653589793, "pi")
assert(tostring(math.pi) == "3.1415926535898", "pi prints with 14 digits")

-- rounding keeps the sign of zero, as LuaJIT's SSE code does
assert(isneg0(math.floor(-0.0)) and isneg0(math.ceil(-0.5)) and isneg0(math.ceil(-0.0)), "signed zero")
assert(tostring(math.floor(-0.0)) == "-0" and tostring(math.ceil(-0.5)) == "-0", "-0 prints as -0")
assert(math.floor(0.5) == 0 and not isneg0(math.floor(0.5)) and math.floor(-0.5) == -1, "floor")
assert(math.floor(1e300) == 1e300 and math.floor(-1 / 0) == -1 / 0 and isnan(math.floor(0 / 0)), "floor specials")
assert(math.floor("3.7") == 3 and math.floor(" 0x10 ") == 16, "numeric strings")
assert(math.ceil(2^53 + 0.5) == 2^53, "ceil large")
assert(math.abs(-3) == 3 and not isneg0(math.abs(-0.0)), "abs")
assert(err(function() local r = math.floor("x") return r end)
  == "bad argument #1 to 'floor' (number expected, got string)", "floor of a non-number")
assert(err(function() local r = math.floor() return r end)
  == "bad argument #1 to 'floor' (number expected, got no value)", "floor without argument")

-- modf / frexp / ldexp
do
  local i, f = math.modf(-3.5)
  assert(i == -3 and f == -0.5, "modf -3.5")
  i, f = math.modf(5)
  assert(i == 5 and f == 0 and not isneg0(f), "modf 5")
  i, f = math.modf(-5)
  assert(i == -5 and isneg0(f), "modf -5 gives -0")
  i, f = math.modf(1 / 0)
  assert(i == 1 / 0 and f == 0 and not isneg0(f), "modf inf")
  i, f = math.modf(-1 / 0)
  assert(i == -1 / 0 and isneg0(f), "modf -inf")
  i, f = math.modf(0 / 0)
  assert(isnan(i) and isnan(f), "modf nan")
  i, f = math.modf(-1e-310)
  assert(isneg0(i) and f == -1e-310, "modf subnormal")
  local m, e = math.frexp(1)
  assert(m == 0.5 and e == 1, "frexp 1")
  m, e = math.frexp(-3)
  assert(m == -0.75 and e == 2, "frexp -3")
  m, e = math.frexp(0)
  assert(m == 0 and e == 0, "frexp 0")
  m, e = math.frexp(-0.0)
  assert(isneg0(m) and e == 0, "frexp -0")
  m, e = math.frexp(5e-324)
  assert(m == 0.5 and e == -1073, "frexp smallest subnormal")
  m, e = math.frexp(1 / 0)
  assert(m == 1 / 0 and e == 0, "frexp inf")
  m, e = math.frexp(0 / 0)
  assert(isnan(m) and e == 0, "frexp nan")
  -- LuaJIT's ldexp truncates the exponent (x87 fscale); a NaN exponent gives NaN.
  assert(math.ldexp(1, 1.5) == 2 and math.ldexp(1, -1.5) == 0.5, "ldexp truncates")
  assert(math.ldexp(1, 2^40) == 1 / 0 and math.ldexp(1, -2^40) == 0, "ldexp huge exponents")
  assert(math.ldexp(3, -1074) == 1.5e-323 and math.ldexp(1, -1075) == 0, "ldexp subnormal rounding")
  assert(isnan(math.ldexp(1, 0 / 0)) and math.ldexp(5, 2^31) == 1 / 0, "ldexp nan exponent")
  assert(math.ldexp(1, 1023.9) == 2^1023 and math.ldexp(1, 1024) == 1 / 0, "ldexp near the top")
end

-- min / max: SSE minsd/maxsd folding decides NaN and signed zeros
assert(math.min(3, 1, 2) == 1 and math.max(3, "7", 2) == 7, "min/max")
assert(math.min(0 / 0, 1) == 1 and isnan(math.min(1, 0 / 0)), "min with NaN")
assert(math.max(0 / 0, 1) == 1 and isnan(math.max(1, 0 / 0)), "max with NaN")
assert(isneg0(math.min(0, -0.0)) and not isneg0(math.min(-0.0, 0)), "min signed zeros")
assert(isneg0(math.max(0, -0.0)) and not isneg0(math.max(-0.0, 0)), "max signed zeros")
assert(err(function() local r = math.min() return r end)
  == "bad argument #1 to 'min' (number expected, got no value)", "min without arguments")
assert(err(function() local r = math.max(1, nil) return r end)
  == "bad argument #2 to 'max' (number expected, got nil)", "max with nil")

-- fmod / pow / sqrt / log / exp / trig
assert(math.fmod(5.5, 2) == 1.5 and math.fmod(-5.5, 2) == -1.5, "fmod sign follows dividend")
assert(isnan(math.fmod(5, 0)) and isnan(math.fmod(1 / 0, 2)) and math.fmod(5, 1 / 0) == 5, "fmod specials")
assert(isneg0(math.fmod(-0.0, 1)), "fmod -0")
assert(math.pow(2, 0.5) == 1.4142135623730951 and isnan(math.pow(-8, 1 / 3)), "pow")
assert(isnan(math.sqrt(-1)) and math.sqrt("4") == 2, "sqrt")
assert(math.log(8, 2) == 3 and math.log(100, 10) == 2 and math.log(1000, 10) == 3, "log with base")
assert(math.log(27, 3) == 3.0000000000000004 and math.log(0.5, 4) == -0.5 and isneg0(math.log(8, 0)),
  "log2(x) * (1/log2(b))")
assert(math.log(0) == -1 / 0 and isnan(math.log(-1)), "log specials")
assert(math.log10(1000) == 3 and math.exp(1) == 2.718281828459045, "log10 / exp")
assert(math.sin(1) == 0.8414709848078965 and math.atan2(1, 2) == 0.4636476090008061, "sin / atan2")
assert(math.atan2(-0.0, -1) == -math.pi and math.atan(1) == math.pi / 4, "atan2 / atan")
assert(isnan(math.asin(2)) and math.acos(0.5) == 1.0471975511965979, "asin / acos")
assert(math.sinh(1) == 1.1752011936438014 and math.cosh(1) == 1.5430806348152437, "sinh / cosh")
assert(math.tanh(1) == 0.7615941559557649, "tanh")
assert(err(function() local r = math.atan2(1) return r end)
  == "bad argument #2 to 'atan2' (number expected, got no value)", "atan2 needs two")
assert(err(function() local r = math.log(1, "x") return r end)
  == "bad argument #2 to 'log' (number expected, got string)", "log bad base")

-- deg / rad are Lua functions in LuaJIT: plain arithmetic, with coercion and __mul
assert(math.deg(1) == 57.29577951308232 and math.rad(180) == math.pi, "deg / rad")
assert(math.deg("10") == 572.9577951308232, "deg of a numeric string")
assert(math.deg(setmetatable({}, {__mul = function(a, b) return "mul" end})) == "mul", "deg uses __mul")
do
  local ok, e = pcall(math.rad)
  assert(not ok and e == "[builtin:rad]:0: attempt to perform arithmetic on a nil value", "rad(nil): " .. e)
  ok, e = pcall(math.deg, {})
  assert(e == "[builtin:deg]:0: attempt to perform arithmetic on a table value", "deg({})")
end

-- random: LuaJIT's Tausworthe generator, bit for bit
do
  -- The initial state is randomseed(0)'s.
  local first = math.random()
  math.randomseed(0)
  assert(math.random() == first and first == 0.79420629243124097, "initial state")
  math.randomseed(42)
  local t = {}
  for i = 1, 10 do t[i] = math.random(1, 100) end
  assert(table.concat(t, ",") == "96,1,54,44,72,82,7,20,53,69", "seed 42: " .. table.concat(t, ","))
  math.randomseed(123)
  assert(math.random() == 0.11554853058275572 and math.random() == 0.9162365223246136, "seed 123")
  local function seq(n, ...)
    math.randomseed(7)
    local r = {}
    for i = 1, n do r[i] = math.random(...) end
    return table.concat(r, ",")
  end
  assert(seq(8, 6) == "2,6,5,5,1,6,6,4", "random(m)")
  assert(seq(8, -3, 3) == "-2,3,1,2,-3,3,3,1", "random(m, n)")
  -- No range checks in LuaJIT 2.1: floor(r*m)+1 and floor(r*(n-m+1))+m.
  assert(seq(8, 0) == "1,1,1,1,1,1,1,1", "random(0)")
  assert(seq(8, 5, 1) == "4,2,2,2,4,2,2,3", "random(5, 1)")
  assert(seq(8, 2.5) == "1,3,2,2,1,3,3,2", "random(2.5)")
  for i = 1, 1000 do
    local r = math.random()
    assert(r >= 0 and r < 1, "random() in [0, 1)")
    local k = math.random(3, 5)
    assert(k == 3 or k == 4 or k == 5, "random(3, 5)")
  end
  -- The generator steps before the arguments are checked.
  math.randomseed(7)
  assert(not pcall(math.random, "x"))
  assert(math.random(100) == 87, "a failed call still consumed a number")
  math.randomseed(1.5)
  assert(math.random() == 0.738484833559836, "fractional seed")
  math.randomseed(-1e300)
  assert(math.random() == 0.3598439058835856, "huge negative seed")
  math.randomseed(0 / 0)
  assert(math.random() == 0.99401821283724456, "NaN seed")
  math.randomseed("12")
  assert(math.random() == 0.55695202613635475, "string seed")
  assert(err(function() math.randomseed() end) == "bad argument #1 to 'randomseed' (number expected, got no value)",
    "randomseed needs a number")
  assert(err(function() local r = math.random(1, "y") return r end)
    == "bad argument #2 to 'random' (number expected, got string)", "random bad upper bound")
  assert(math.random(1, 2, 3) >= 1, "extra arguments are ignored")
end
print("ok")
