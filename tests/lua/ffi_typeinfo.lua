-- ffi.typeinfo: the type table as LuaJIT reports it (ids, packed info words, sizes,
-- member chains, names), for the predefined types and keywords and for declarations.
local ffi = require"ffi"
local function show(id)
  local t = ffi.typeinfo(id)
  if not t then print(id, nil) return end
  print(id, bit.tohex(t.info), t.size, t.sib, t.name)
end
for i = 0, 97 do show(i) end
ffi.cdef[[
struct ti_s1 { char c; int x __attribute__((aligned(16))); const int y; };
struct ti_s2 { unsigned a:3; int b:5; bool c:1; };
union ti_u1 { int a; double b; };
struct __attribute__((packed)) ti_s3 { char c; int x; };
typedef int __attribute__((aligned(8))) ti_aint;
struct ti_s4 { int n; double v[?]; };
struct ti_s5 { struct { int a; }; int b; };
typedef int (__stdcall *ti_fp)(int, double);
extern int ti_errno;
int ti_foo(int) __asm__("ti_bar");
typedef int ti_v4si __attribute__ ((vector_size (16)));
typedef int & ti_iref;
enum ti_e { TA = -1, TB = 2 };
int ti_printf(const char *, ...);
]]
local _ = ffi.typeof("int[3]"), ffi.typeof("volatile int *")
for i = 97, 147 do show(i) end
-- Arguments: a number (or a string that converts), nothing for ids out of range.
print(select('#', ffi.typeinfo(0)), select('#', ffi.typeinfo(-1)), select('#', ffi.typeinfo(65536)))
print(pcall(ffi.typeinfo, "9"))
print(pcall(ffi.typeinfo))
