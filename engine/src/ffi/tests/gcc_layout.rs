//! Struct layout against the real compiler: the declarations below are compiled
//! by `gcc` into a program printing `sizeof`, `_Alignof`, `offsetof` of every
//! member and the bit offset and width of every bitfield (found by setting the
//! field's bits in a zeroed struct), and the same numbers are computed by our
//! parser and layout for the host target. gcc is required: the test fails if it
//! cannot be run.

use std::fmt::Write as _;
use std::process::Command;

use crate::ffi::{CTState, CTypeId, Kind, Target};

/// Each entry declares one struct or union named by the second element. The
/// declarations go into one `ffi.cdef` and one C file, in this order.
pub(super) const DECLS: &[(&str, &str)] = &[
    ("struct g_plain { char c; int i; short s; double d; char e; };", "struct g_plain"),
    ("struct g_ptrs { char c; void *p; char d; const char *s; int (*fn)(int); };", "struct g_ptrs"),
    ("struct g_ll { char c; long long ll; char d; unsigned long ul; };", "struct g_ll"),
    ("struct g_ld { char c; long double ld; };", "struct g_ld"),
    ("struct g_cplx { char c; double _Complex z; float _Complex f; };", "struct g_cplx"),
    ("struct g_arr { char c[3]; int a[5]; char d; double m[2][3]; };", "struct g_arr"),
    ("struct g_empty_tail { int n; char c; };", "struct g_empty_tail"),
    ("struct g_nested { char c; struct g_plain p; char d; };", "struct g_nested"),
    ("struct g_inner_def { char c; struct g_in { short s; char t; } in; int z; };", "struct g_inner_def"),
    ("union g_u1 { char c[5]; int i; short s; };", "union g_u1"),
    ("union g_u2 { double d; char c[9]; };", "union g_u2"),
    ("struct g_fam { int n; double d[]; };", "struct g_fam"),
    ("struct g_fam2 { char c; short s[]; };", "struct g_fam2"),
    ("struct g_bool { _Bool a; char b; _Bool c; int i; };", "struct g_bool"),
    ("enum g_e { G_E1, G_E2 }; struct g_enum { char c; enum g_e e; char d; };", "struct g_enum"),
    // Bitfields.
    ("struct g_bf1 { int a:3; int b:5; int c:24; };", "struct g_bf1"),
    ("struct g_bf2 { char a:3; int b:30; char c; };", "struct g_bf2"),
    ("struct g_bf3 { unsigned a:1; unsigned :0; unsigned b:1; };", "struct g_bf3"),
    ("struct g_bf4 { char a; int :0; char b; };", "struct g_bf4"),
    ("struct g_bf5 { short a:9; short b:9; };", "struct g_bf5"),
    ("struct g_bf6 { int a:8; int b:24; int c:32; };", "struct g_bf6"),
    ("struct g_bf7 { _Bool f:1; unsigned char u:7; };", "struct g_bf7"),
    ("struct g_bf8 { char c; int x:20; int y:20; };", "struct g_bf8"),
    ("struct g_bf9 { unsigned char a:4; unsigned char b:4; unsigned char c:4; };", "struct g_bf9"),
    ("struct g_bf10 { int a:1; char b; int c:1; };", "struct g_bf10"),
    ("struct g_bf11 { short a; int b:17; short c:3; };", "struct g_bf11"),
    ("struct g_bf12 { char a; short b:12; char c:3; };", "struct g_bf12"),
    ("struct g_bf13 { unsigned int a:31; unsigned int b:2; };", "struct g_bf13"),
    ("struct g_bf14 { int a:3; int :2; int b:3; int :0; int c:3; };", "struct g_bf14"),
    ("struct g_bf15 { char c; unsigned short :0; char d; };", "struct g_bf15"),
    ("struct g_bf16 { long long x; int a:4; };", "struct g_bf16"),
    ("union g_bfu { int a:3; char b:7; short c:12; };", "union g_bfu"),
    ("struct g_bf17 { char a:8; char b:8; };", "struct g_bf17"),
    ("struct g_bf18 { int a:16; int b:16; int c:16; };", "struct g_bf18"),
    // Packing and alignment attributes.
    ("struct g_pk1 { char c; int i; double d; } __attribute__((packed));", "struct g_pk1"),
    ("struct __attribute__((packed)) g_pk2 { char c; short s; long long l; };", "struct g_pk2"),
    ("struct g_pk3 { char c; int i __attribute__((packed)); char d; };", "struct g_pk3"),
    ("struct g_pk4 { char c; int x:20; } __attribute__((packed));", "struct g_pk4"),
    ("struct g_pk5 { char c; int a:4; int b:12; char d; } __attribute__((packed));", "struct g_pk5"),
    ("struct g_al1 { char c; int x __attribute__((aligned(8))); };", "struct g_al1"),
    ("struct g_al2 { int x; } __attribute__((aligned(16)));", "struct g_al2"),
    ("struct __attribute__((aligned(32))) g_al3 { int x; char c; };", "struct g_al3"),
    ("struct g_al4 { char c; struct g_al2 s; char d; };", "struct g_al4"),
    ("struct g_al5 { char c; double d; } __attribute__((packed, aligned(4)));", "struct g_al5"),
    ("typedef int g_aint __attribute__((aligned(8))); struct g_al6 { char c; g_aint x; };", "struct g_al6"),
    ("struct g_al7 { char c; int x __attribute__((aligned(2))); };", "struct g_al7"),
    ("struct g_al8 { char c; int a:4 __attribute__((aligned(8))); };", "struct g_al8"),
    ("struct g_al9 { char c; double d __attribute__((aligned(16))); int i; };", "struct g_al9"),
    ("#pragma pack(1)\nstruct g_pp1 { char c; int i; double d; };\n#pragma pack()", "struct g_pp1"),
    ("#pragma pack(2)\nstruct g_pp2 { char c; int i; short s; char d; };\n#pragma pack()", "struct g_pp2"),
    ("#pragma pack(4)\nstruct g_pp3 { char c; double d; long long l; };\n#pragma pack()", "struct g_pp3"),
    (
        "#pragma pack(push, 2)\nstruct g_pp4 { char c; int i; };\n#pragma pack(pop)\nstruct g_pp5 { char c; int i; };",
        "struct g_pp4",
    ),
    ("struct g_pp6 { char c; int i; };", "struct g_pp6"),
    ("#pragma pack(1)\nstruct g_pp7 { char c; int a:4; int b:20; };\n#pragma pack()", "struct g_pp7"),
    ("#pragma pack(2)\nstruct g_pp8 { char c; struct g_plain p; };\n#pragma pack()", "struct g_pp8"),
    // Anonymous members.
    ("struct g_an1 { union { int a; float b; }; struct { int c; int d; }; int e; };", "struct g_an1"),
    ("struct g_an2 { char x; struct { struct { char deep; double dd; }; int y; }; };", "struct g_an2"),
    ("struct g_an3 { char c; union { char u1; long long u2; }; char d; };", "struct g_an3"),
    ("union g_an4 { struct { int lo, hi; }; long long all; };", "union g_an4"),
    ("struct g_an5 { int k; union { struct { short a, b; }; int ab; }; };", "struct g_an5"),
    // Shapes from real headers.
    ("struct g_timeval { long tv_sec; long tv_usec; };", "struct g_timeval"),
    ("struct g_timespec { long tv_sec; long tv_nsec; };", "struct g_timespec"),
    ("struct g_sockaddr_in { unsigned short sin_family; unsigned short sin_port; unsigned int sin_addr; unsigned char sin_zero[8]; };", "struct g_sockaddr_in"),
    ("struct g_sockaddr_in6 { unsigned short f; unsigned short p; unsigned int flow; unsigned char addr[16]; unsigned int scope; };", "struct g_sockaddr_in6"),
    ("struct g_iovec { void *iov_base; unsigned long iov_len; };", "struct g_iovec"),
    ("struct g_pollfd { int fd; short events; short revents; };", "struct g_pollfd"),
    ("struct g_epoll_event { unsigned int events; union { void *ptr; int fd; unsigned long long u64; } data; } __attribute__((packed));", "struct g_epoll_event"),
    ("struct g_dirent { unsigned long d_ino; long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[256]; };", "struct g_dirent"),
    ("struct g_z_stream { const unsigned char *next_in; unsigned avail_in; unsigned long total_in; unsigned char *next_out; unsigned avail_out; unsigned long total_out; const char *msg; void *state; void *zalloc; void *zfree; void *opaque; int data_type; unsigned long adler; unsigned long reserved; };", "struct g_z_stream"),
    ("struct g_tm { int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst; long tm_gmtoff; const char *tm_zone; };", "struct g_tm"),
    ("struct g_ipv4hdr { unsigned char ihl:4, version:4; unsigned char tos; unsigned short tot_len; unsigned short id; unsigned short frag_off; unsigned char ttl; unsigned char protocol; unsigned short check; unsigned int saddr, daddr; };", "struct g_ipv4hdr"),
    ("struct g_tcphdr { unsigned short source, dest; unsigned int seq, ack_seq; unsigned short res1:4, doff:4, fin:1, syn:1, rst:1, psh:1, ack:1, urg:1, res2:2; unsigned short window, check, urg_ptr; };", "struct g_tcphdr"),
];

/// Named members reachable from struct `sid` (looking into anonymous members),
/// with whether each is measured by its bits (bitfields, and integer fields, which
/// may be full-width bitfields in C) and whether its type is `_Bool`.
fn member_names(cts: &CTState, sid: CTypeId, out: &mut Vec<(Vec<u8>, bool, bool)>) {
    for (_, m) in cts.members(sid) {
        match m.info.kind {
            Kind::Field { ty } => {
                if let Some(n) = &m.name {
                    let info = cts.info(cts.raw(ty));
                    out.push((n.to_vec(), info.is_integer_or_bool(), info.is_bool()));
                }
            }
            Kind::Bitfield { is_bool, .. } => {
                if let Some(n) = &m.name {
                    out.push((n.to_vec(), true, is_bool));
                }
            }
            Kind::Attrib { target, .. } => {
                let t = cts.raw(target);
                if cts.info(t).is_struct() {
                    member_names(cts, t, out);
                }
            }
            _ => {}
        }
    }
}

#[test]
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn layout_matches_gcc() {
    let target = Target::host();
    let mut cts = CTState::new(target);
    let all: String = DECLS.iter().map(|d| format!("{}\n", d.0)).collect();
    cts.cdef(all.as_bytes(), &[]).unwrap_or_else(|e| panic!("cdef: {e}"));

    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n\
         static int lowbit(const unsigned char *p, size_t n, int *width) {\n\
           int lo = -1; *width = 0;\n\
           for (size_t i = 0; i < n * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (lo < 0) lo = (int)i; ++*width; }\n\
           return lo;\n}\n",
    );
    c.push_str(&all);
    c.push_str("int main(void) {\n  int w, lo;\n");
    let mut ours = String::new();
    for &(_, name) in DECLS {
        let id = cts.parse_type(name.as_bytes(), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let size = cts.size_of(id).unwrap_or(0);
        writeln!(c, "  printf(\"{name} size %zu align %zu\\n\", sizeof({name}), _Alignof({name}));").unwrap();
        writeln!(ours, "{name} size {size} align {}", cts.align_of(id)).unwrap();
        let mut members = Vec::new();
        member_names(&cts, cts.raw(id), &mut members);
        assert!(!members.is_empty(), "{name} has no members");
        for (m, is_bit, is_bool) in members {
            let m = String::from_utf8(m).unwrap();
            let (ofs, bits) = cts.offset_of(id, m.as_bytes()).unwrap_or_else(|| panic!("{name}.{m}: no offset"));
            let bits = match bits {
                None if is_bit => {
                    let id = cts.get_field(cts.raw_ref(id), m.as_bytes()).unwrap().0;
                    let Kind::Field { ty } = cts.info(id).kind else { unreachable!() };
                    Some((0, if is_bool { 1 } else { cts.size_of(ty).unwrap() * 8 }))
                }
                b => b,
            };
            match bits {
                None => {
                    writeln!(c, "  printf(\"{name}.{m} at %zu\\n\", offsetof({name}, {m}));").unwrap();
                    writeln!(ours, "{name}.{m} at {ofs}").unwrap();
                }
                Some((pos, width)) => {
                    let val = if is_bool { "1" } else { "-1" };
                    writeln!(
                        c,
                        "  {{ {name} s; memset(&s, 0, sizeof s); s.{m} = {val}; \
                         lo = lowbit((const unsigned char *)&s, sizeof s, &w); \
                         printf(\"{name}.{m} bit %d width %d\\n\", lo, w); }}"
                    )
                    .unwrap();
                    writeln!(ours, "{name}.{m} bit {} width {width}", ofs * 8 + pos).unwrap();
                }
            }
        }
    }
    c.push_str("  return 0;\n}\n");

    let dir = std::env::temp_dir().join(format!("moonbox-ffi-gcc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, &c).unwrap();
    let out = Command::new("gcc")
        .args(["-std=gnu11", "-w", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("this test needs gcc on PATH to compare struct layouts: {e}"));
    assert!(out.status.success(), "gcc failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let run = Command::new(&exe).output().expect("run the layout program");
    assert!(run.status.success());
    let gcc = String::from_utf8(run.stdout).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let diffs: Vec<String> = gcc
        .lines()
        .zip(ours.lines())
        .filter(|(g, o)| g != o)
        .map(|(g, o)| format!("  gcc:  {g}\n  ours: {o}"))
        .collect();
    assert_eq!(gcc.lines().count(), ours.lines().count(), "line counts differ:\n{gcc}\n---\n{ours}");
    assert!(diffs.is_empty(), "{} layout differences from gcc:\n{}", diffs.len(), diffs.join("\n"));
    assert!(DECLS.len() >= 70, "{} structs compared", DECLS.len());
}
