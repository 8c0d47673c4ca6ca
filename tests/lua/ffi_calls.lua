-- Calls into C (libc and libm on Linux/glibc): integers, floating-point numbers,
-- pointers, strings, varargs, structs by value, out-parameters, errno, ffi.load,
-- extern variables, and Lua functions as C callbacks (qsort).
local ffi = require("ffi")
if ffi.os ~= "Linux" then return end
local C = ffi.C

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

ffi.cdef[[
int abs(int);
long labs(long);
long long llabs(long long);
size_t strlen(const char *);
int memcmp(const void *, const void *, size_t);
void *memset(void *, int, size_t);
char *strcpy(char *, const char *);
int snprintf(char *, size_t, const char *, ...);
double strtod(const char *, char **);
long strtol(const char *, char **, int);
typedef struct { int quot, rem; } div_t;
typedef struct { long quot, rem; } ldiv_t;
div_t div(int, int);
ldiv_t ldiv(long, long);
void qsort(void *, size_t, size_t, int (*)(const void *, const void *));
int atoi(const char *) __asm__("atoi");
int my_atoi(const char *) __asm__("atoi");
extern void *stdout;
]]

-- Integers and 64-bit integers.
assert(C.abs(-5) == 5 and C.abs(7) == 7)
assert(C.labs(-5) == 5LL and ffi.istype("long", C.labs(-1)))
assert(C.llabs(-0x7fffffffffffffffLL) == 0x7fffffffffffffffLL)

-- Strings are passed as NUL-terminated const char *; results convert back.
assert(C.strlen("hello") == 5 and C.strlen("") == 0)
local long = ("x"):rep(1000)
assert(C.strlen(long) == 1000)
assert(C.memcmp("abc", "abd", 3) < 0)
local buf = ffi.new("char[64]")
C.strcpy(buf, "copied")
assert(ffi.string(buf) == "copied")
assert(C.memset(buf, 65, 3) == ffi.cast("void *", buf))
assert(ffi.string(buf) == "AAAied")

-- Varargs: numbers are doubles, strings pointers, integer cdata keep their type.
local n = C.snprintf(buf, 64, "%d|%.2f|%s|%lld|%c", ffi.new("int", 42), 2.5, "str", 1LL, ffi.new("char", 65))
assert(n == 15 and ffi.string(buf) == "42|2.50|str|1|A", ffi.string(buf))

-- Out-parameters through pointers to pointers.
local endp = ffi.new("char *[1]")
local s = "12.5rest"
assert(C.strtod(s, endp) == 12.5)
assert(ffi.string(endp[0]) == "rest")

-- errno after a call.
ffi.errno(0)
C.strtol("99999999999999999999999", nil, 10)
assert(ffi.errno() == 34)   -- ERANGE

-- Structs by value.
local d = C.div(17, 5)
assert(d.quot == 3 and d.rem == 2 and ffi.istype("div_t", d))
local ld = C.ldiv(-17, 5)
assert(ld.quot == -3LL and ld.rem == -2LL)

-- __asm__ redirects.
assert(C.my_atoi("123") == 123 and C.atoi("-7") == -7)

-- extern variables.
assert(C.stdout ~= nil)

-- Argument checks.
assert(errmsg(function() return C.abs() end):find("wrong number of arguments for function call"))
assert(errmsg(function() return C.abs(1, 2) end):find("wrong number of arguments for function call"))
assert(errmsg(function() return C.abs("x") end):find("cannot convert 'string' to 'int'"))
assert(errmsg(function() return C.no_such_function_declared end):find("missing declaration for symbol"))
ffi.cdef("int ffi_test_no_such_symbol_anywhere(void);")
assert(errmsg(function() return C.ffi_test_no_such_symbol_anywhere end):find("undefined symbol"))

-- ffi.load.
local m = ffi.load("libm.so.6")
ffi.cdef("double pow(double, double); float fabsf(float); double floor(double);")
assert(m.pow(2, 10) == 1024 and m.fabsf(-1.5) == 1.5 and m.floor(-0.5) == -1)
assert(errmsg(ffi.load, "libdoes-not-exist-anywhere.so.99"))

-- Callbacks: qsort with a Lua comparator, both as a cast and passed directly.
local arr = ffi.new("int[8]", { 5, 3, 8, 1, 9, 2, 7, 4 })
local calls = 0
local cmp = ffi.cast("int (*)(const void *, const void *)", function(pa, pb)
  calls = calls + 1
  local x, y = ffi.cast("const int *", pa)[0], ffi.cast("const int *", pb)[0]
  return x < y and -1 or (x > y and 1 or 0)
end)
C.qsort(arr, 8, ffi.sizeof("int"), cmp)
for i = 0, 6 do assert(arr[i] <= arr[i + 1]) end
assert(calls > 0)
-- set replaces the Lua function; free releases the callback.
cmp:set(function(pa, pb)
  local x, y = ffi.cast("const int *", pa)[0], ffi.cast("const int *", pb)[0]
  return y - x
end)
C.qsort(arr, 8, 4, cmp)
assert(arr[0] == 9 and arr[7] == 1)
cmp:free()
assert(errmsg(function() cmp:free() end):find("bad callback"))
local bytes = ffi.new("uint8_t[16]")
for i = 0, 15 do bytes[i] = (i * 7) % 16 end
C.qsort(bytes, 16, 1, function(pa, pb)
  return ffi.cast("const uint8_t *", pa)[0] - ffi.cast("const uint8_t *", pb)[0]
end)
for i = 0, 14 do assert(bytes[i] <= bytes[i + 1]) end

-- Callbacks called directly, with several argument types and results.
local add3 = ffi.cast("int64_t (*)(int64_t, int, double)", function(a, b, c) return a + b + c end)
assert(add3(1LL, 2, 3.9) == 6LL)
local fsum = ffi.cast("double (*)(double, float, double)", function(a, b, c) return a + b + c end)
assert(fsum(7.125, -123.25, 9999.33) == 7.125 - 123.25 + 9999.33)
-- An error in a callback is raised when the C call returns.
local bad = ffi.cast("int (*)(void)", function() error("from callback") end)
assert(errmsg(bad):find("from callback"))
local conv = ffi.cast("int (*)(void)", function() return "x" end)
assert(errmsg(conv):find("cannot convert 'string' to 'int'"))
print("ok")

-- os.setlocale sets the C library's locale for the C functions the FFI calls.
ffi.cdef[[int towupper(int c); int towlower(int c);]]
assert(os.setlocale("C.UTF-8", "ctype") == "C.UTF-8")
assert(ffi.C.towupper(0x430) == 0x410 and ffi.C.towlower(0x416) == 0x436)
assert(os.setlocale("C", "ctype") == "C")
assert(ffi.C.towupper(0x430) == 0x430)
assert(os.setlocale("no_such_locale") == nil)

-- Reading an array object out of range does not fail (LuaJIT reads whatever lies
-- there; libraries do it harmlessly): utf8.lua reads index -1 of a uint32_t[?].
local arr = ffi.new("uint32_t[?]", 4)
assert(pcall(function() return arr[-1], arr[4] end))
