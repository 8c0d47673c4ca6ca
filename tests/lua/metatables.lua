-- Metatables: __index, __newindex, __call, __tostring, __metatable and friends.

-- setmetatable returns its first argument; getmetatable reads it back
local mt = {}
local t = {}
assert(setmetatable(t, mt) == t, "setmetatable returns the table")
assert(getmetatable(t) == mt, "getmetatable")
assert(setmetatable(t, nil) == t and getmetatable(t) == nil, "remove metatable")
assert(getmetatable({}) == nil and getmetatable(1) == nil and getmetatable(print) == nil, "no metatable")
assert(not pcall(setmetatable, {}, 1), "metatable must be a table or nil")
assert(not pcall(setmetatable, 1, {}), "setmetatable only on tables")

-- __index as a table
local base = {greet = "hello", n = 1}
local obj = setmetatable({n = 2}, {__index = base})
assert(obj.greet == "hello", "inherited field")
assert(obj.n == 2, "own field shadows")
assert(obj.missing == nil, "missing everywhere")
assert(rawget(obj, "greet") == nil, "rawget bypasses __index")

-- __index chains
local a = {x = "a"}
local b = setmetatable({y = "b"}, {__index = a})
local c = setmetatable({z = "c"}, {__index = b})
assert(c.x == "a" and c.y == "b" and c.z == "c", "chain of three")
base.late = "late"
assert(obj.late == "late", "lookups are dynamic")

-- __index as a function
local calls = 0
local fn_idx = setmetatable({}, {__index = function(tab, key)
  calls = calls + 1
  return key .. "!"
end})
assert(fn_idx.foo == "foo!" and fn_idx[1] == "1!", "function __index")
assert(calls == 2, "called each time")
fn_idx.foo = "own"
assert(fn_idx.foo == "own" and calls == 2, "not called for present keys")

-- __index is not consulted for present keys holding false
local falsy = setmetatable({v = false}, {__index = function() return "mm" end})
assert(falsy.v == false, "false is present")

-- __index function receives the original table
local recv
local orig = setmetatable({}, {__index = function(tab, k) recv = tab end})
local _ = orig.x
assert(recv == orig, "__index receives the table")

-- __index chain through a function in the middle
local mid = setmetatable({}, {__index = function(_, k) return "mid:" .. k end})
local top = setmetatable({}, {__index = mid})
assert(top.q == "mid:q", "table then function")

-- too long an __index chain
local loop = setmetatable({}, {})
getmetatable(loop).__index = loop
local ok, err = pcall(function() return loop.x end)
assert(not ok and err:find("loop in gettable", 1, true), "loop in gettable: " .. tostring(err))

-- __newindex as a table
local store = {}
local w = setmetatable({}, {__newindex = store})
w.a = 1
assert(rawget(w, "a") == nil and store.a == 1, "__newindex table receives the assignment")
rawset(w, "b", 2)
assert(w.b == 2 and store.b == nil, "rawset bypasses")
w.b = 3
assert(w.b == 3 and store.b == nil, "__newindex not used for existing keys")

-- __newindex as a function
local log = {}
local wf = setmetatable({}, {__newindex = function(tab, k, v)
  log[#log + 1] = tostring(k) .. "=" .. tostring(v)
  rawset(tab, k, v and v * 2)
end})
wf.x = 5
assert(wf.x == 10 and log[1] == "x=5", "function __newindex")
wf.x = 7
assert(wf.x == 7 and #log == 1, "existing key assigned directly")
wf.x = nil
wf.x = 1
assert(wf.x == 2 and #log == 2, "after removal __newindex fires again")

-- __newindex chain: the assignment goes through the second table's metamethods too
local sink = {}
local layer2 = setmetatable({}, {__newindex = sink})
local layer1 = setmetatable({}, {__newindex = layer2})
layer1.k = "v"
assert(rawget(layer1, "k") == nil and rawget(layer2, "k") == nil and sink.k == "v", "__newindex chain")

-- read-only table
local ro = setmetatable({}, {__index = {a = 1}, __newindex = function() error("read-only table", 2) end})
ok, err = pcall(function() ro.a = 2 end)
assert(not ok and err:find("read-only table", 1, true), "read-only: " .. tostring(err))
assert(ro.a == 1, "unchanged")

-- __call
local callable = setmetatable({}, {__call = function(self, x, y) return self, x, y end})
local s, x, y = callable(1, 2)
assert(s == callable and x == 1 and y == 2, "__call receives self and arguments")
assert(select("#", callable()) == 3, "results pass through")
local cc = setmetatable({}, {__call = callable})
ok, err = pcall(function() return cc("arg") end)
assert(not ok and err:find("attempt to call upvalue 'cc' (a table value)", 1, true), "__call is not followed recursively: " .. tostring(err))
ok, err = pcall(function() local q = setmetatable({}, {__call = 5}) return q() end)
assert(not ok and err:find("attempt to call local 'q' (a table value)", 1, true), "bad __call: " .. tostring(err))
-- pcall of a callable table
local okc, v = pcall(setmetatable({}, {__call = function(_, a1) return a1 * 2 end}), 21)
assert(okc and v == 42, "pcall a callable table")

-- __tostring
local ts = setmetatable({}, {__tostring = function(self) return "custom" end})
assert(tostring(ts) == "custom", "__tostring")
local tn = setmetatable({}, {__tostring = function() return 42 end})
assert(tostring(tn) == 42, "LuaJIT returns whatever __tostring returns")
local pieces = {}
local function fake_print(...) for i = 1, select("#", ...) do pieces[#pieces + 1] = tostring((select(i, ...))) end end
fake_print(ts, 1, nil)
assert(table.concat(pieces, " ") == "custom 1 nil", "tostring in a print-like function")
assert(tostring(setmetatable({}, {__name = "N"})):match("^table: "), "__name is not used by LuaJIT")

-- __metatable protects
local prot = setmetatable({}, {__metatable = "locked"})
assert(getmetatable(prot) == "locked", "__metatable value returned")
ok, err = pcall(setmetatable, prot, {})
assert(not ok and err:find("cannot change a protected metatable", 1, true), tostring(err))
local prot2 = setmetatable({}, {__metatable = false})
assert(getmetatable(prot2) == false, "false __metatable is returned")

-- string metatable
local smt = getmetatable("")
assert(type(smt) == "table" and smt.__index == string, "strings index the string table")
assert(("x"):rep(3) == "xxx", "method on a string")
local str = "hello"
assert(str:upper() == "HELLO" and str:len() == 5 and str:sub(2, 3) == "el", "string methods")
assert(#str:rep(2, "-") == 11, "rep with separator")
string.custom_helper = function(self) return "helped " .. self end
assert(("x"):custom_helper() == "helped x", "extending the string table")
string.custom_helper = nil
ok, err = pcall(function() return ("x"):nomethod() end)
assert(not ok and err:find("attempt to call method 'nomethod' (a nil value)", 1, true), tostring(err))
ok = pcall(function() local n = 5; return n:foo() end)
assert(not ok, "numbers have no metatable")

-- __pairs / __ipairs are 5.2 features: ignored
local pp = setmetatable({a = 1}, {__pairs = function() error("must not be called") end})
for _ in pairs(pp) do end

-- metamethods are looked up raw in the metatable
local meta_with_index = setmetatable({}, {__index = function(_, k)
  if k == "__index" then return function() return "via meta-meta" end end
end})
local ind = setmetatable({}, meta_with_index)
assert(ind.anything == nil, "metamethod lookup is raw")

-- rawequal / rawget / rawset
local eqmt = {__eq = function() return true end}
local e1, e2 = setmetatable({}, eqmt), setmetatable({}, eqmt)
assert(e1 == e2 and not rawequal(e1, e2), "rawequal ignores __eq")
assert(rawequal("a", "a") and rawequal(1, 1) and not rawequal(1, "1"), "rawequal on values")
assert(rawset({}, 1, 2)[1] == 2, "rawset returns the table")
assert(not pcall(rawset, {}, nil, 1), "rawset with a nil key")
assert(not pcall(rawget, "s", 1), "rawget requires a table")
assert(rawlen == nil, "no rawlen in LuaJIT without 5.2 compat")

-- metatable on a class hierarchy
local Animal = {}
Animal.__index = Animal
function Animal.new(name) return setmetatable({name = name}, Animal) end
function Animal:speak() return self.name .. " makes a sound" end
local Dog = setmetatable({}, {__index = Animal})
Dog.__index = Dog
function Dog.new(name) local d = Animal.new(name); return setmetatable(d, Dog) end
function Dog:speak() return self.name .. " barks" end
local an, dg = Animal.new("generic"), Dog.new("rex")
assert(an:speak() == "generic makes a sound" and dg:speak() == "rex barks", "override")
assert(Animal.speak(dg) == "rex makes a sound", "super call")
assert(getmetatable(dg) == Dog, "class identity")

-- metatable shared by many objects, changed later
local shared = {}
local objs = {}
for i = 1, 10 do objs[i] = setmetatable({}, shared) end
shared.__index = function(_, k) return k * 2 end
for i = 1, 10 do assert(objs[i][i] == i * 2, "metatable changes are seen") end

-- __index on a hot path (JIT): values change between iterations
local proto = {v = 1}
local inst = setmetatable({}, {__index = proto})
local sum = 0
for i = 1, 1000 do
  if i == 500 then proto.v = 2 end
  sum = sum + inst.v
end
assert(sum == 499 + 501 * 2, "__index seen through a loop")
local sum2 = 0
for i = 1, 1000 do
  if i == 500 then rawset(inst, "v", 10) end
  sum2 = sum2 + inst.v
end
assert(sum2 == 499 * 2 + 501 * 10, "shadowing mid-loop")

-- __index chains: the interpreter's fallback takes the first link itself, then
-- hands the rest to the general walk; the depth limit (100 links, as in LuaJIT)
-- and a function further down the chain must come out the same.
do
  local function chain(n)
    local cur = {x = "found"}
    for _ = 1, n do cur = setmetatable({}, {__index = cur}) end
    return cur
  end
  for _, n in ipairs({1, 2, 99}) do
    local t, k = chain(n), "x"
    assert(t.x == "found" and t[k] == "found")
  end
  for _, n in ipairs({100, 101}) do
    local t, k = chain(n), "x"
    local ok, e = pcall(function() return t.x end)
    assert(not ok and e:find("loop in gettable"))
    ok, e = pcall(function() return t[k] end)
    assert(not ok and e:find("loop in gettable"))
  end
  local f = setmetatable({}, {__index = setmetatable({}, {__index = function(_, k) return k .. "!" end})})
  assert(f.abc == "abc!" and f[1] == "1!")
  local direct = setmetatable({}, {__index = function(t, k) return rawequal(t, t) and k end})
  assert(direct.q == "q" and direct[7] == 7)
end
print("ok")
