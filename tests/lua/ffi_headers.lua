-- The C parser on declarations as real headers write them (zlib.h, POSIX, Linux),
-- with the layouts gcc gives them on this target.
local ffi = require("ffi")

ffi.cdef[[
typedef unsigned char Byte;
typedef unsigned int uInt;
typedef unsigned long uLong;
typedef void *voidpf;
typedef voidpf (*alloc_func)(voidpf opaque, uInt items, uInt size);
typedef void (*free_func)(voidpf opaque, voidpf address);
struct internal_state;
typedef struct z_stream_s {
    const Byte *next_in;
    uInt     avail_in;
    uLong    total_in;
    Byte    *next_out;
    uInt     avail_out;
    uLong    total_out;
    const char *msg;
    struct internal_state *state;
    alloc_func zalloc;
    free_func  zfree;
    voidpf     opaque;
    int     data_type;
    uLong   adler;
    uLong   reserved;
} z_stream;
typedef z_stream *z_streamp;
extern const char *zlibVersion (void);
extern int deflateInit_ (z_streamp strm, int level, const char *version, int stream_size);

typedef long time_t;
typedef long suseconds_t;
struct timeval { time_t tv_sec; suseconds_t tv_usec; };
struct timespec { time_t tv_sec; long tv_nsec; };
typedef unsigned short sa_family_t;
typedef uint16_t in_port_t;
typedef uint32_t in_addr_t;
struct in_addr { in_addr_t s_addr; };
struct sockaddr_in {
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    unsigned char sin_zero[8];
};
struct in6_addr {
  union {
    uint8_t __u6_addr8[16];
    uint16_t __u6_addr16[8];
    uint32_t __u6_addr32[4];
  } __in6_u;
};
struct epoll_data_u { void *ptr; int fd; uint32_t u32; uint64_t u64; };
#pragma pack(push, 1)
struct packed_hdr { uint8_t kind; uint32_t len; uint16_t crc; };
#pragma pack(pop)
struct __attribute__((packed)) also_packed { char c; int64_t v; };
struct aligned16 { int x; } __attribute__((aligned(16)));
typedef struct { unsigned int ready:1, kind:3, :0, count:12; } flags_t;
enum { FH_MAGIC = 0x1234, FH_SHIFTED = FH_MAGIC << 4, FH_NEG = -1 };
static const int FH_SIZE = sizeof(struct sockaddr_in);
]]

local function check(ct, size, align)
  assert(ffi.sizeof(ct) == size, ct .. " size " .. tostring(ffi.sizeof(ct)))
  assert(ffi.alignof(ct) == align, ct .. " align " .. ffi.alignof(ct))
end

check("z_stream", 112, 8)
assert(ffi.offsetof("z_stream", "total_in") == 16 and ffi.offsetof("z_stream", "msg") == 48)
assert(ffi.offsetof("z_stream", "data_type") == 88 and ffi.offsetof("z_stream", "reserved") == 104)
check("struct timeval", 16, 8)
check("struct sockaddr_in", 16, 4)
assert(ffi.offsetof("struct sockaddr_in", "sin_addr") == 4 and ffi.offsetof("struct sockaddr_in", "sin_zero") == 8)
check("struct in6_addr", 16, 4)
check("struct packed_hdr", 7, 1)
assert(ffi.offsetof("struct packed_hdr", "crc") == 5)
check("struct also_packed", 9, 1)
check("struct aligned16", 16, 16)
check("flags_t", 8, 4)
assert(select(2, ffi.offsetof("flags_t", "count")) == 0 and ffi.offsetof("flags_t", "count") == 4)
assert(ffi.C.FH_MAGIC == 0x1234 and ffi.C.FH_SHIFTED == 0x12340 and ffi.C.FH_NEG == -1 and ffi.C.FH_SIZE == 16)

-- The declared functions and externs are there (not called: no zlib needed).
assert(tostring(ffi.typeof("alloc_func")) == "ctype<void *(*)()>")

-- Using the types: a sockaddr built field by field, read back through bytes.
local sa = ffi.new("struct sockaddr_in", { sin_family = 2, sin_port = 0x5000 })
sa.sin_addr.s_addr = 0x0100007f
local b = ffi.cast("uint8_t *", sa)
assert(b[0] == 2 and b[2] == 0 and b[3] == 0x50 and b[4] == 127 and b[7] == 1)
local v6 = ffi.new("struct in6_addr")
v6.__in6_u.__u6_addr32[3] = 0x01000000
assert(v6.__in6_u.__u6_addr8[15] == 1)
local f = ffi.new("flags_t", { ready = 1, kind = 5, count = 4095 })
assert(f.ready == 1 and f.kind == 5 and f.count == 4095)
local h = ffi.new("struct packed_hdr", 1, 0x04030201, 0xbeef)
assert(ffi.cast("uint8_t *", h)[1] == 1 and ffi.cast("uint8_t *", h)[4] == 4 and h.crc == 0xbeef)
print("ok")
