//! Declarations of the kind real programs `ffi.cdef`: libc, POSIX, sockets,
//! pthreads, zlib, and the OpenResty style. Written here from the C standard,
//! POSIX and glibc's x86-64 shapes; the sizes and offsets expected are those gcc
//! reports for the system headers on x86-64 Linux.

use crate::ffi::{CTState, Kind, Target, NS_DEFAULT};

const LIBC: &str = r#"
typedef long time_t;
typedef long suseconds_t;
typedef unsigned int socklen_t;
typedef unsigned short sa_family_t;
typedef unsigned short in_port_t;
typedef unsigned int in_addr_t;
typedef int pid_t;
typedef unsigned int uid_t, gid_t;
typedef long off_t;
typedef unsigned long dev_t, ino_t, nlink_t;
typedef unsigned int mode_t;
typedef long blksize_t, blkcnt_t;
typedef struct _IO_FILE FILE;

struct timeval { time_t tv_sec; suseconds_t tv_usec; };
struct timespec { time_t tv_sec; long tv_nsec; };
struct timezone { int tz_minuteswest; int tz_dsttime; };
struct tm {
  int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst;
  long tm_gmtoff;
  const char *tm_zone;
};

struct stat {
  dev_t st_dev;
  ino_t st_ino;
  nlink_t st_nlink;
  mode_t st_mode;
  uid_t st_uid;
  gid_t st_gid;
  int __pad0;
  dev_t st_rdev;
  off_t st_size;
  blksize_t st_blksize;
  blkcnt_t st_blocks;
  struct timespec st_atim, st_mtim, st_ctim;
  long __unused[3];
};

struct in_addr { in_addr_t s_addr; };
struct in6_addr { union { unsigned char s6_addr[16]; unsigned short s6_addr16[8]; unsigned int s6_addr32[4]; } __in6_u; };
struct sockaddr { sa_family_t sa_family; char sa_data[14]; };
struct sockaddr_in {
  sa_family_t sin_family;
  in_port_t sin_port;
  struct in_addr sin_addr;
  unsigned char sin_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(in_port_t) - sizeof(struct in_addr)];
};
struct sockaddr_in6 { sa_family_t sin6_family; in_port_t sin6_port; uint32_t sin6_flowinfo; struct in6_addr sin6_addr; uint32_t sin6_scope_id; };
struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; };
struct sockaddr_storage { sa_family_t ss_family; char __ss_padding[128 - sizeof(sa_family_t) - sizeof(unsigned long)]; unsigned long __ss_align; };
struct addrinfo {
  int ai_flags, ai_family, ai_socktype, ai_protocol;
  socklen_t ai_addrlen;
  struct sockaddr *ai_addr;
  char *ai_canonname;
  struct addrinfo *ai_next;
};
struct hostent { char *h_name; char **h_aliases; int h_addrtype; int h_length; char **h_addr_list; };
struct iovec { void *iov_base; size_t iov_len; };
struct msghdr {
  void *msg_name; socklen_t msg_namelen;
  struct iovec *msg_iov; size_t msg_iovlen;
  void *msg_control; size_t msg_controllen;
  int msg_flags;
};
struct linger { int l_onoff; int l_linger; };
struct pollfd { int fd; short events; short revents; };
typedef union epoll_data { void *ptr; int fd; uint32_t u32; uint64_t u64; } epoll_data_t;
struct epoll_event { uint32_t events; epoll_data_t data; } __attribute__ ((__packed__));
struct dirent { ino_t d_ino; off_t d_off; unsigned short d_reclen; unsigned char d_type; char d_name[256]; };
typedef struct { long fds_bits[1024 / (8 * sizeof(long))]; } fd_set;
typedef struct { unsigned long __val[1024 / (8 * sizeof(unsigned long))]; } sigset_t;
struct rlimit { unsigned long rlim_cur, rlim_max; };
struct utsname { char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65]; };

typedef unsigned long pthread_t;
typedef union { char __size[40]; long __align; } pthread_mutex_t;
typedef union { char __size[48]; long long __align; } pthread_cond_t;
typedef union { char __size[56]; long __align; } pthread_attr_t;
typedef union { char __size[56]; long __align; } pthread_rwlock_t;
typedef int pthread_once_t;

int printf(const char *fmt, ...);
int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...);
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
char *strdup(const char *s);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));
int *__errno_location(void) __attribute__((__nothrow__, __leaf__, __const__));
char *strerror(int errnum);
FILE *fopen(const char *path, const char *mode);
size_t fread(void *ptr, size_t size, size_t n, FILE *f);
int fclose(FILE *f);
int gettimeofday(struct timeval *tv, struct timezone *tz);
int clock_gettime(int clk, struct timespec *ts);
time_t time(time_t *t);
struct tm *localtime_r(const time_t *t, struct tm *out);
int stat(const char *restrict path, struct stat *restrict buf) __asm__("" "stat64");
int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t sendmsg(int fd, const struct msghdr *msg, int flags);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
void freeaddrinfo(struct addrinfo *res);
int poll(struct pollfd *fds, unsigned long nfds, int timeout);
int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*start)(void *), void *arg);
pid_t getpid(void);
void (*signal(int sig, void (*handler)(int)))(int);
extern char **environ;
extern int daylight;
extern long timezone;
"#;

const ZLIB: &str = r#"
typedef unsigned char Bytef;
typedef unsigned int uInt;
typedef unsigned long uLong;
typedef void *voidpf;
typedef voidpf (*alloc_func)(voidpf opaque, uInt items, uInt size);
typedef void (*free_func)(voidpf opaque, voidpf address);
struct internal_state;
typedef struct z_stream_s {
  const Bytef *next_in;
  uInt avail_in;
  uLong total_in;
  Bytef *next_out;
  uInt avail_out;
  uLong total_out;
  const char *msg;
  struct internal_state *state;
  alloc_func zalloc;
  free_func zfree;
  voidpf opaque;
  int data_type;
  uLong adler;
  uLong reserved;
} z_stream;
typedef z_stream *z_streamp;
enum { Z_NO_FLUSH = 0, Z_PARTIAL_FLUSH = 1, Z_SYNC_FLUSH = 2, Z_FULL_FLUSH = 3, Z_FINISH = 4,
       Z_OK = 0, Z_STREAM_END = 1, Z_NEED_DICT = 2, Z_ERRNO = (-1), Z_STREAM_ERROR = (-2),
       Z_DEFAULT_COMPRESSION = (-1), Z_DEFLATED = 8, MAX_WBITS = 15 };
const char *zlibVersion(void);
int deflateInit2_(z_streamp strm, int level, int method, int windowBits, int memLevel, int strategy,
                  const char *version, int stream_size);
int deflate(z_streamp strm, int flush);
int deflateEnd(z_streamp strm);
int inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size);
int inflate(z_streamp strm, int flush);
int inflateEnd(z_streamp strm);
uLong compressBound(uLong sourceLen);
int compress2(Bytef *dest, uLong *destLen, const Bytef *source, uLong sourceLen, int level);
int uncompress(Bytef *dest, uLong *destLen, const Bytef *source, uLong sourceLen);
uLong crc32(uLong crc, const Bytef *buf, uInt len);
"#;

/// In the style of OpenResty's lua-resty-core.
const OPENRESTY: &str = r#"
typedef struct { size_t len; const unsigned char *data; } ngx_str_t;
typedef intptr_t ngx_int_t;
typedef uintptr_t ngx_uint_t;
typedef struct ngx_http_request_s ngx_http_request_t;
typedef struct {
    ngx_str_t key;
    ngx_str_t value;
} ngx_http_lua_ffi_table_elt_t;
typedef struct {
    int len;
    /* this padding hole on 64-bit systems is expected */
    unsigned char *data;
} ngx_http_lua_ffi_str_t;
typedef struct {
    ngx_http_lua_ffi_str_t key;
    ngx_http_lua_ffi_str_t value;
} ngx_http_lua_ffi_req_header_t;
int ngx_http_lua_ffi_get_resp_status(ngx_http_request_t *r);
int ngx_http_lua_ffi_set_resp_status(ngx_http_request_t *r, int r);
int ngx_http_lua_ffi_req_get_headers_count(ngx_http_request_t *r, int max, int *truncated);
int ngx_http_lua_ffi_req_get_headers(ngx_http_request_t *r, ngx_http_lua_ffi_table_elt_t *out,
    int count, int raw);
double ngx_http_lua_ffi_now(void);
long ngx_http_lua_ffi_time(void);
unsigned int ngx_http_lua_ffi_crc32_short(const unsigned char *src, size_t len);
size_t ngx_http_lua_ffi_encode_base64(const unsigned char *src, size_t len, unsigned char *dst, int no_padding);
void ngx_http_lua_ffi_md5_bin(const unsigned char *src, size_t len, unsigned char *dst);
int ngx_http_lua_ffi_shdict_get(void *zone, const unsigned char *key, size_t key_len, int *value_type,
    unsigned char **str_value_buf, size_t *str_value_len, double *num_value, int *user_flags,
    int get_stale, int *is_stale, char **errmsg);
"#;

fn state() -> CTState {
    let mut cts = CTState::new(Target::X86_64_SYSV);
    cts.cdef(LIBC.as_bytes(), &[]).unwrap_or_else(|e| panic!("libc: {e}"));
    cts.cdef(ZLIB.as_bytes(), &[]).unwrap_or_else(|e| panic!("zlib: {e}"));
    cts.cdef(OPENRESTY.as_bytes(), &[]).unwrap_or_else(|e| panic!("openresty: {e}"));
    cts
}

fn size_align(cts: &mut CTState, t: &str) -> (u32, u32) {
    let id = cts.parse_type(t.as_bytes(), &[]).unwrap_or_else(|e| panic!("{t}: {e}"));
    (cts.size_of(id).unwrap_or_else(|| panic!("{t}: no size")), cts.align_of(id))
}

fn offset(cts: &mut CTState, t: &str, f: &str) -> u32 {
    let id = cts.parse_type(t.as_bytes(), &[]).unwrap();
    cts.offset_of(id, f.as_bytes()).unwrap_or_else(|| panic!("{t}.{f}")).0
}

#[test]
fn posix_shapes_have_glibc_x86_64_layouts() {
    let mut cts = state();
    // (type, size, align) as gcc reports them for the system headers.
    let expect: &[(&str, u32, u32)] = &[
        ("struct stat", 144, 8),
        ("struct timeval", 16, 8),
        ("struct timespec", 16, 8),
        ("struct sockaddr", 16, 2),
        ("struct sockaddr_in", 16, 4),
        ("struct sockaddr_in6", 28, 4),
        ("struct sockaddr_storage", 128, 8),
        ("struct sockaddr_un", 110, 2),
        ("struct addrinfo", 48, 8),
        ("pthread_t", 8, 8),
        ("pthread_mutex_t", 40, 8),
        ("pthread_cond_t", 48, 8),
        ("pthread_attr_t", 56, 8),
        ("pthread_rwlock_t", 56, 8),
        ("pthread_once_t", 4, 4),
        ("struct iovec", 16, 8),
        ("struct pollfd", 8, 4),
        ("struct epoll_event", 12, 1),
        ("struct dirent", 280, 8),
        ("struct tm", 56, 8),
        ("fd_set", 128, 8),
        ("struct msghdr", 56, 8),
        ("struct rlimit", 16, 8),
        ("struct utsname", 390, 1),
        ("sigset_t", 128, 8),
        ("struct timezone", 8, 4),
        ("struct linger", 8, 4),
        ("struct hostent", 32, 8),
        ("z_stream", 112, 8),
        ("ngx_str_t", 16, 8),
        ("ngx_http_lua_ffi_req_header_t", 32, 8),
    ];
    for &(t, size, align) in expect {
        assert_eq!(size_align(&mut cts, t), (size, align), "{t}");
    }
    let offsets: &[(&str, &str, u32)] = &[
        ("struct stat", "st_size", 48),
        ("struct stat", "st_mtim", 88),
        ("struct stat", "st_blocks", 64),
        ("struct stat", "st_mode", 24),
        ("struct stat", "st_nlink", 16),
        ("struct sockaddr_in", "sin_addr", 4),
        ("struct sockaddr_in6", "sin6_scope_id", 24),
        ("struct addrinfo", "ai_addr", 24),
        ("struct addrinfo", "ai_canonname", 32),
        ("struct epoll_event", "data", 4),
        ("struct dirent", "d_name", 19),
        ("struct tm", "tm_gmtoff", 40),
        ("struct msghdr", "msg_flags", 48),
        ("struct hostent", "h_addr_list", 24),
        ("z_stream", "msg", 48),
        ("z_stream", "adler", 96),
        ("ngx_http_lua_ffi_str_t", "data", 8),
    ];
    for &(t, f, o) in offsets {
        assert_eq!(offset(&mut cts, t, f), o, "{t}.{f}");
    }
}

#[test]
fn functions_externs_and_constants_are_declared() {
    let mut cts = state();
    let printf = cts.get_name(b"printf", NS_DEFAULT).expect("printf");
    match cts.info(printf).kind {
        Kind::Func { vararg, ret, .. } => {
            assert!(vararg);
            assert_eq!(cts.repr(ret), b"int");
        }
        k => panic!("printf is {k:?}"),
    }
    let qsort = cts.get_name(b"qsort", NS_DEFAULT).unwrap();
    let params: Vec<_> = cts.members(qsort).filter(|(_, p)| p.info.is_field()).collect();
    assert_eq!(params.len(), 4);
    let Kind::Field { ty } = params[3].1.info.kind else { panic!() };
    assert_eq!(cts.repr(ty), b"int (*)()");
    assert_eq!(params[3].1.name.as_deref(), Some(&b"compar"[..]));
    let stat = cts.get_name(b"stat", NS_DEFAULT).unwrap();
    assert_eq!(cts.redirect(stat), Some(&b"stat64"[..]));
    assert!(cts.info(cts.get_name(b"environ", NS_DEFAULT).unwrap()).is_extern());
    // `timezone` is both a struct tag and an extern variable.
    assert!(cts.info(cts.get_name(b"timezone", NS_DEFAULT).unwrap()).is_extern());
    assert!(cts.parse_type(b"struct timezone", &[]).is_ok());
    let zerr = cts.get_name(b"Z_STREAM_ERROR", NS_DEFAULT).unwrap();
    assert_eq!(cts.get(zerr).size as i32, -2);
    let signal = cts.get_name(b"signal", NS_DEFAULT).unwrap();
    let Kind::Func { ret, .. } = cts.info(signal).kind else { panic!() };
    assert_eq!(cts.repr(ret), b"void (*)()");
    // The declarations can be repeated (LuaJIT ignores redeclared names and
    // accepts repeated typedefs of anonymous structs), but not struct bodies.
    cts.cdef(OPENRESTY.as_bytes(), &[]).unwrap();
    let e = cts.cdef(ZLIB.as_bytes(), &[]).unwrap_err();
    // (luajit says line 8 for the same text without the leading newline.)
    assert_eq!(e.to_string(), "attempt to redefine 'z_stream_s' at line 9");
    assert_eq!(size_align(&mut cts, "z_stream"), (112, 8));
}

#[test]
fn vla_buffers_and_casts_of_header_types() {
    let mut cts = state();
    for (t, n, size) in
        [("uint8_t[?]", 4096, 4096), ("struct iovec[?]", 3, 48), ("ngx_str_t[?]", 2, 32), ("char *[?]", 5, 40)]
    {
        let id = cts.parse_type(t.as_bytes(), &[]).unwrap();
        assert_eq!(cts.vl_size(id, n), Some(size), "{t}");
    }
    for (t, repr) in [
        ("z_stream *", "struct z_stream_s *"),
        ("const struct sockaddr *", "const struct sockaddr *"),
        ("void (*)(int)", "void (*)()"),
        ("struct addrinfo **", "struct addrinfo **"),
        ("FILE *", "struct _IO_FILE *"),
        ("epoll_data_t", "union epoll_data"),
        ("pthread_mutex_t *", "union 263 *"),
    ] {
        let id = cts.parse_type(t.as_bytes(), &[]).unwrap();
        assert_eq!(String::from_utf8_lossy(&cts.repr(id)), repr, "{t}");
    }
}
