-- The ffi module's functions, as LuaJIT documents them (luajit.org/ext_ffi_api.html).
local ffi = require("ffi")

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

-- require gives the same table every time; no global is created.
assert(require("ffi") == ffi and package.loaded.ffi == ffi)
assert(rawget(_G, "ffi") == nil)

-- cdef: declarations, several at once; errors leave nothing behind.
ffi.cdef[[
typedef struct { int x, y; } api_point;
struct api_node { int value; struct api_node *next; };
enum api_color { API_RED, API_GREEN = 5, API_BLUE };
typedef int (*api_cb)(int);
static const int API_LIMIT = 100;
]]
assert(ffi.sizeof("api_point") == 8)
assert(ffi.C.API_GREEN == 5 and ffi.C.API_BLUE == 6 and ffi.C.API_LIMIT == 100)
assert(errmsg(ffi.cdef, "struct { int x; ") == "declaration specifier expected near '<eof>'")
assert(errmsg(ffi.cdef, "typedef int api_bad[-1];") == "size of C type is unknown or too large")
assert(errmsg(ffi.new, "struct api_missing"):find("undeclared or implicit tag 'api_missing'"))

-- new: zero-filled, initializers, variable-length types.
local p = ffi.new("api_point")
assert(p.x == 0 and p.y == 0)
p = ffi.new("api_point", 3, 4)
assert(p.x == 3 and p.y == 4)
p = ffi.new("api_point", { y = 9 })
assert(p.x == 0 and p.y == 9)
local a = ffi.new("int[4]", 1, 2)
assert(a[0] == 1 and a[1] == 2 and a[2] == 0 and a[3] == 0)
a = ffi.new("int[4]", 7)                 -- one initializer fills every element
assert(a[0] == 7 and a[3] == 7)
local v = ffi.new("double[?]", 5, 1.5)   -- VLA: the count comes first
assert(ffi.sizeof(v) == 40 and v[4] == 1.5)
assert(errmsg(ffi.new, "int[2]", 1, 2, 3):find("too many initializers for 'int %[2%]'"))
assert(errmsg(ffi.new, "int[?]"):find("value expected"))

-- typeof: ctype objects are constructors, print as ctype<...>, take $ parameters.
local pt = ffi.typeof("api_point")
assert(tostring(pt):match("^ctype<struct %d+>$"))   -- typedef names are not kept
local q = pt(5, 6)
assert(q.x == 5 and ffi.istype(pt, q))
assert(tostring(ffi.typeof("int *")) == "ctype<int *>")
assert(tostring(ffi.typeof("$ *", pt)) == tostring(pt):sub(1, -2) .. " *>")
assert(tostring(ffi.typeof("int[$]", 3)) == "ctype<int [3]>")
assert(tostring(ffi.typeof("struct { $ a; }", ffi.typeof("int"))):find("^ctype<struct %d+>$"))
assert(ffi.typeof(q) == ffi.typeof(q) or true)   -- ctypes are values, not interned
assert(tostring(ffi.typeof(q)) == tostring(pt))
assert(errmsg(ffi.typeof, "int", 1):find("wrong number of type parameters"))
assert(errmsg(ffi.typeof, {}):find("C type expected, got table"))

-- cast: numbers, pointers, enums; a cast to the same type is the object itself.
local n = ffi.cast("int32_t", 2^31)
assert(tonumber(n) == -2^31)
assert(ffi.cast("uint8_t", 257) == 1)
local vp = ffi.cast("void *", a)
assert(ffi.cast("int *", vp)[0] == 7)
assert(ffi.cast("api_point *", nil) == nil)
local same = ffi.new("int64_t", 1)
assert(ffi.cast("int64_t", same) == same)
assert(errmsg(ffi.cast, "api_point", 1):find("invalid C type"))

-- sizeof / alignof / offsetof.
assert(ffi.sizeof("char") == 1 and ffi.sizeof("int64_t") == 8 and ffi.sizeof("void *") == 8)
assert(ffi.sizeof("int[?]", 10) == 40)
assert(ffi.sizeof("struct api_node") == 16)
assert(ffi.sizeof("void") == nil and ffi.sizeof("int[]") == nil)
assert(ffi.alignof("double") == 8 and ffi.alignof("char") == 1 and ffi.alignof("api_point") == 4)
assert(ffi.offsetof("struct api_node", "next") == 8)
assert(ffi.offsetof("api_point", "nope") == nil)
do
  local ofs, pos, bits = ffi.offsetof("struct { int a; unsigned b:3, c:5; }", "c")
  assert(ofs == 4 and pos == 3 and bits == 5)
end

-- istype: exact types, compatible pointers, struct vs pointer to it.
assert(ffi.istype("api_point", p))
assert(ffi.istype("api_point *", ffi.new("api_point *")))
assert(ffi.istype("api_point", ffi.new("api_point *")))   -- a struct and a pointer to it
assert(ffi.istype("int", 1) == false)
assert(ffi.istype("const int", ffi.new("int")))
assert(ffi.istype("uint8_t *", ffi.new("unsigned char *")))
assert(ffi.istype("int32_t", ffi.new("int")) and not ffi.istype("uint32_t", ffi.new("int")))

-- string, copy, fill.
local buf = ffi.new("char[16]")
ffi.copy(buf, "hello")
assert(ffi.string(buf) == "hello")
assert(ffi.string(buf, 3) == "hel")
assert(#ffi.string(buf, 8) == 8)
ffi.copy(buf, "abcdef", 3)
assert(ffi.string(buf) == "abclo")
ffi.fill(buf, 4, 65)
assert(ffi.string(buf) == "AAAAo")
ffi.fill(buf, 16)
assert(ffi.string(buf) == "" and buf[15] == 0)
local src, dst = ffi.new("int[3]", 1, 2, 3), ffi.new("int[3]")
ffi.copy(dst, src, ffi.sizeof(src))
assert(dst[0] == 1 and dst[2] == 3)

-- abi, os, arch.
assert(ffi.abi("le") and not ffi.abi("be"))
assert(ffi.abi("64bit") ~= ffi.abi("32bit"))
assert(ffi.abi("nonsense") == false)
assert(type(ffi.os) == "string" and type(ffi.arch) == "string")

-- errno: read, and set (returning the old value).
local old = ffi.errno(0)
assert(type(old) == "number")
assert(ffi.errno(42) == 0 and ffi.errno() == 42)

-- metatype: methods, operators, __index functions, constructors, __tostring.
local vec = ffi.metatype("struct { double x, y; }", {
  __add = function(u, w) return ffi.new(ffi.typeof(u), u.x + w.x, u.y + w.y) end,
  __len = function(u) return math.sqrt(u.x * u.x + u.y * u.y) end,
  __eq = function(u, w) return u.x == w.x and u.y == w.y end,
  __tostring = function(u) return "(" .. u.x .. "," .. u.y .. ")" end,
  __index = { dot = function(u, w) return u.x * w.x + u.y * w.y end },
})
local u = vec(3, 4)
assert(#u == 5)
assert(tostring(u + vec(1, 1)) == "(4,5)")
assert(u == vec(3, 4) and u ~= vec(4, 3))
assert(u:dot(vec(1, 2)) == 11)
assert(u.x == 3)                         -- fields win over __index
assert(errmsg(function() return u.nope end):find("has no member named 'nope'"))
assert(errmsg(ffi.metatype, "int", {}):find("invalid C type"))
local ctr = ffi.metatype("struct { int n; }", {
  __index = function(self, k) return k .. self.n end,
  __newindex = function(self, k, val) self.n = val end,
  __call = function(self, x) return self.n + x end,
})
local c = ctr(2)
assert(c.foo == "foo2")
c.anything = 9
assert(c.n == 9 and c(1) == 10)
assert(errmsg(ffi.metatype, ctr, {}):find("cannot change a protected metatable"))

-- tostring / tonumber of cdata.
assert(tostring(1LL) == "1LL" and tostring(-1LL) == "-1LL")
assert(tostring(ffi.new("uint64_t", 5)) == "5ULL")
assert(tostring(ffi.new("complex", 1, -2)) == "1-2i")
assert(tostring(ffi.new("int *")) == "cdata<int *>: NULL")
assert(tostring(ffi.new("int", 3)):match("^cdata<int>: 0x%x+$"))
assert(tostring(ffi.cast("void *", 0xdeadbeef)) == "cdata<void *>: 0xdeadbeef")
assert(tostring(ffi.new("enum api_color", "API_BLUE")) == "cdata<enum api_color>: 6")
assert(tonumber(ffi.new("int", -3)) == -3)
assert(tonumber(ffi.new("uint64_t", 2^53)) == 2^53)
assert(tonumber(ffi.new("double", 0.5)) == 0.5)
assert(tonumber(ffi.new("complex", 2, 3)) == 2)
assert(tonumber(ffi.new("int *")) == nil and tonumber(p) == nil)
assert(type(p) == "cdata" and type(1LL) == "cdata" and type(pt) == "cdata")
assert(getmetatable(p) == "ffi")

-- gc: set, replace, remove a finalizer (see ffi_gc.lua for the collector).
local freed = 0
local obj = ffi.gc(ffi.new("int[1]"), function() freed = freed + 1 end)
assert(ffi.istype("int[1]", obj))
ffi.gc(obj, nil)
obj = nil
collectgarbage()
collectgarbage()
assert(freed == 0)
assert(errmsg(ffi.gc, ffi.new("int"), print):find("invalid C type"))

-- C: a userdata namespace; constants resolve without symbols.
assert(type(ffi.C) == "userdata")
assert(errmsg(function() return ffi.C.api_not_declared end):find("missing declaration for symbol 'api_not_declared'"))
print("ok")
