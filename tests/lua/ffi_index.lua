-- Indexing cdata: arrays, pointers, structs (nested, anonymous members, bitfields,
-- unions), variable-length types, references, pointer arithmetic and comparisons,
-- and the conversions on loads and stores (luajit.org/ext_ffi_semantics.html).
local ffi = require("ffi")

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

ffi.cdef[[
typedef struct {
  int8_t i8; uint8_t u8; int16_t i16; uint16_t u16; int32_t i32; uint32_t u32;
  int64_t i64; uint64_t u64; float f; double d; bool b; char c;
  const int ci; int *p; int arr[3]; struct { int x, y; } pt;
  union { uint32_t w; uint8_t bytes[4]; };
  struct { int anon_a; int anon_b; };
  unsigned int bf_a:3, bf_b:5; int bf_s:4; bool bf_t:1;
  enum { IDX_A, IDX_B = 7 } e;
  int (*fn)(int);
} idx_all;
typedef struct { int n; double data[?]; } idx_vls;
]]

local s = ffi.new("idx_all")

-- Loads: small integers and floating-point numbers are Lua numbers, 64-bit
-- integers, pointers, enums and function pointers are cdata, bool a boolean,
-- nested structs and arrays references into the object.
s.i8, s.u8, s.i16, s.u16 = -1, 255, -2, 65535
s.i32, s.u32, s.f, s.d = -3, 4294967295, 1.5, 0.1
assert(s.i8 == -1 and s.u8 == 255 and s.i16 == -2 and s.u16 == 65535)
assert(s.i32 == -3 and s.u32 == 4294967295 and s.f == 1.5 and s.d == 0.1)
s.i64, s.u64 = -4, 5
assert(type(s.i64) == "cdata" and s.i64 == -4LL and tostring(s.u64) == "5ULL")
s.b = 1                       -- any number but 0 is true
assert(s.b == true)
s.b = 0
assert(s.b == false)
s.c = 65
assert(s.c == 65)
assert(type(s.pt) == "cdata" and tostring(ffi.typeof(s.pt)):find("&>$"))
assert(tostring(ffi.typeof(s.arr)) == "ctype<int (&)[3]>")
assert(type(s.p) == "cdata" and s.p == nil)
assert(type(s.e) == "cdata" and s.e == 0 and s.e == "IDX_A")

-- Stores: integers truncate and wrap, enums take their names, nil is NULL.
s.i8 = 200
assert(s.i8 == -56)
s.u8 = -1
assert(s.u8 == 255)
s.i32 = 3.99
assert(s.i32 == 3)
s.f = 0.1
assert(s.f ~= 0.1 and math.abs(s.f - 0.1) < 1e-7)
s.e = "IDX_B"
assert(s.e == 7 and tonumber(s.e) == 7)
assert(errmsg(function() s.e = "IDX_NOPE" end):find("cannot convert 'string' to"))
assert(errmsg(function() s.i32 = "1" end):find("cannot convert 'string' to 'int'"))
assert(errmsg(function() s.i32 = {} end):find("cannot convert 'table' to 'int'"))
assert(errmsg(function() s.p = 1 end):find("cannot convert 'number' to 'int %*'"))
assert(errmsg(function() s.ci = 1 end):find("attempt to write to constant location"))
assert(errmsg(function() return s.nope end):find("has no member named 'nope'"))
assert(errmsg(function() s.nope = 1 end):find("has no member named 'nope'"))
assert(errmsg(function() return s[0] end):find("cannot be indexed with 'number'"))

-- Nested structs, arrays in structs, anonymous members, unions.
s.pt.x, s.pt.y = 10, 20
assert(s.pt.x == 10 and s.pt.y == 20)
local ref = s.pt
ref.x = 11                    -- a reference writes through to the struct
assert(s.pt.x == 11)
s.arr[0], s.arr[2] = 1, 3
assert(s.arr[0] == 1 and s.arr[1] == 0 and s.arr[2] == 3)
s.anon_a, s.anon_b = 5, 6     -- members of an anonymous struct
assert(s.anon_a == 5 and s.anon_b == 6)
s.w = 0x04030201
assert(s.bytes[0] == 1 and s.bytes[3] == 4)   -- little-endian
s.bytes[0] = 0xff
assert(s.w == 0x040302ff)

-- Bitfields: unsigned wrap, signed sign-extends, bool.
s.bf_a = 9
assert(s.bf_a == 1)
s.bf_b = 31
assert(s.bf_b == 31 and s.bf_a == 1)
s.bf_s = 7
assert(s.bf_s == 7)
s.bf_s = 8
assert(s.bf_s == -8)
s.bf_t = true
assert(s.bf_t == true)

-- Initializers: positional (nested tables), by name, a copy of the same type.
local t = ffi.new("idx_all", { i8 = 1, pt = { 2, 3 }, arr = { 4, 5, 6 }, e = "IDX_B" })
assert(t.i8 == 1 and t.pt.y == 3 and t.arr[2] == 6 and t.e == 7)
local copy = ffi.new("idx_all", t)
assert(copy.arr[1] == 5)
copy.arr[1] = 50
assert(t.arr[1] == 5)         -- a value copy
local pair = ffi.new("struct { int a[2]; int b; }", { { 1, 2 }, 3 })
assert(pair.a[1] == 2 and pair.b == 3)
local zero_based = ffi.new("int[3]", { [0] = 7, 8, 9 })
assert(zero_based[0] == 7 and zero_based[2] == 9)
local chars = ffi.new("char[8]", "hi")
assert(chars[0] == 104 and chars[2] == 0 and ffi.string(chars) == "hi")

-- Arrays, pointers and pointer arithmetic.
local a = ffi.new("int[10]")
for i = 0, 9 do a[i] = i * i end
local p = a + 3               -- an array decays to a pointer
assert(ffi.istype("int *", p) and p[0] == 9 and p[-1] == 4 and p[2] == 25)
assert(p - a == 3 and (a + 9) - p == 6)
assert(p + 1 > p and p - 1 < p and p <= p and p == a + 3)
assert(a + 3 == p and p ~= a)
assert((2 + a)[0] == 4)
local vp = ffi.cast("void *", p)
assert(vp == p)               -- pointer equality ignores the pointed-to type
assert(ffi.cast("int *", vp)[0] == 9)
p[0] = -1
assert(a[3] == -1)
local pp = ffi.new("int *[1]", { p })
assert(pp[0][0] == -1)
assert(errmsg(function() return p < 1 end):find("attempt to compare 'int %*' with 'number'"))
assert(errmsg(function() return p + p end):find("attempt to perform arithmetic on 'int %*' and 'int %*'"))
assert(errmsg(function() return ffi.new("void *") + 1 end):find("attempt to perform arithmetic on 'void %*' and 'number'"))

-- A pointer to a struct indexes its members directly (->).
local node = ffi.new("struct { int v; } [2]", { { 1 }, { 2 } })
local np = node + 1
assert(np.v == 2)
np.v = 20
assert(node[1].v == 20)

-- Variable-length arrays and structs; byte buffers.
local vla = ffi.new("int[?]", 5, { 1, 2, 3 })
assert(ffi.sizeof(vla) == 20 and vla[2] == 3 and vla[4] == 0)
local vls = ffi.new("idx_vls", 4)
assert(ffi.sizeof(vls) == 8 + 4 * 8)
vls.n = 4
vls.data[3] = 2.5
assert(vls.data[3] == 2.5)
local buf = ffi.new("uint8_t[?]", 256)
for i = 0, 255 do buf[i] = i end
assert(buf[255] == 255 and ffi.string(buf + 65, 3) == "ABC")
assert(errmsg(ffi.new, "int[?]", -1):find("size of C type is unknown or too large"))

-- NULL pointers compare equal to nil.
local null = ffi.new("int *")
assert(null == nil and not (null ~= nil))
assert(ffi.cast("void *", 0) == nil and ffi.cast("void *", 1) ~= nil)
if null then else error("cdata is always true, even NULL") end

-- Keys may be integer cdata.
assert(a[2LL] == 4 and a[ffi.new("uint8_t", 1)] == 1)
print("ok")
