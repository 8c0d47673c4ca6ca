//! Malformed input never panics: random token soups and mutated real
//! declarations go through `cdef` and `parse_type` (with random `$` parameters),
//! then every type in the table is queried. Deep nesting is tried on a thread
//! with a 1 MiB stack (the wasm32 default). A failed `cdef` must leave the table
//! as long as it was.

use crate::ffi::{CTState, CTypeId, Param, SizeOf, Target, NS_DEFAULT, NS_STRUCT};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const TOKENS: &[&str] = &[
    "int",
    "char",
    "short",
    "long",
    "unsigned",
    "signed",
    "float",
    "double",
    "void",
    "bool",
    "_Bool",
    "complex",
    "const",
    "volatile",
    "restrict",
    "__restrict",
    "__extension__",
    "inline",
    "typedef",
    "extern",
    "static",
    "register",
    "auto",
    "struct",
    "union",
    "enum",
    "sizeof",
    "__alignof__",
    "__attribute__",
    "__declspec",
    "__asm__",
    "__stdcall",
    "__cdecl",
    "__ptr32",
    "__ptr64",
    "aligned",
    "packed",
    "mode",
    "vector_size",
    "DI",
    "V4SF",
    "align",
    "int8_t",
    "uint64_t",
    "size_t",
    "va_list",
    "foo",
    "bar",
    "x",
    "y",
    "T",
    "S",
    "E",
    "A",
    "B",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "*",
    "&",
    "&&",
    ",",
    ";",
    ":",
    "?",
    "=",
    "+",
    "-",
    "/",
    "%",
    "<<",
    ">>",
    "<",
    ">",
    "<=",
    ">=",
    "==",
    "!=",
    "!",
    "~",
    "|",
    "^",
    "||",
    ".",
    "->",
    "...",
    "$",
    "#",
    "#pragma",
    "pack",
    "push",
    "pop",
    "line",
    "\n",
    "0",
    "1",
    "7",
    "31",
    "32",
    "33",
    "0x80000000",
    "0xffffffff",
    "2147483647",
    "4294967295",
    "-1",
    "08",
    "1e3",
    "1.5",
    "'a'",
    "'\\n'",
    "'ab'",
    "\"s\"",
    "\"x\\0y\"",
    "/*",
    "*/",
    "//",
    "\\\n",
    "@",
    "\u{1}",
    "\u{ff}",
    "é",
    "[?]",
    "[]",
    "(*)",
    "(void)",
    "__attribute__((packed))",
    "__attribute__((aligned(16)))",
    "#pragma pack(1)\n",
    "#pragma pack(push, 2)\n",
    "#pragma pack(pop)\n",
];

const SEEDS: &[&str] = &[
    "struct s1 { char c; int i; short s; double d; char e; };",
    "struct b1 { int a:3; int b:5; int c:24; } __attribute__((packed));",
    "typedef struct { int p, q; } PQ; struct an4 { char c; PQ; union { int a; float b; }; };",
    "enum e4 { E4A = 1 << 4, E4B = E4A | 3, E4C = ~E4B & 0xff, E4D = sizeof(struct s1) };",
    "int printf(const char *fmt, ...); void (*signal(int, void (*)(int)))(int);",
    "#pragma pack(push, 2)\nstruct p2 { char c; int i; };\n#pragma pack(pop)",
    "static const int K1 = 5, K2 = K1 * 2; extern char **environ;",
    "struct vls { int n; double d[?]; }; typedef int IA3[3]; typedef int (*FP)(int);",
    "char *strdup(const char *) __asm__(\"strdup\"); int g(void) { return 1; }",
    "typedef float v4sf __attribute__((mode(V4SF))); int __attribute__((vector_size(16))) vi;",
];

const TYPE_SEEDS: &[&str] = &[
    "int (*(*)(int))[3]",
    "struct { int x, y; } *",
    "uint8_t[?]",
    "const char * const *",
    "int[sizeof(double) * 2]",
    "union { int a:3; char b; }",
    "$ *",
    "struct $ { int $; }",
    "int (__stdcall *)(int, ...)",
];

fn params(rng: &mut Rng, cts: &CTState) -> Vec<Param> {
    (0..rng.below(4))
        .map(|_| match rng.below(5) {
            0 => Param::Type(CTypeId(rng.below(cts.len() + 3) as u32)),
            1 => Param::Int(rng.next() as i32),
            2 => Param::Name(b"pname".to_vec()),
            3 => Param::Name(Vec::new()),
            _ => Param::Bad,
        })
        .collect()
}

fn soup(rng: &mut Rng) -> Vec<u8> {
    let n = 1 + rng.below(40);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(rng.pick(TOKENS));
        if rng.below(3) != 0 {
            s.push(' ');
        }
    }
    s.into_bytes()
}

fn mutate(rng: &mut Rng, seed: &str) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(4) {
            0 if at < b.len() => {
                let len = 1 + rng.below(6);
                b.drain(at..(at + len).min(b.len()));
            }
            1 => {
                let t = rng.pick(TOKENS).as_bytes().to_vec();
                b.splice(at..at, t);
            }
            2 if at < b.len() => b[at] = rng.next() as u8,
            _ => {
                let dup = b[at.min(b.len())..].iter().take(12).copied().collect::<Vec<_>>();
                b.splice(at..at, dup);
            }
        }
    }
    b
}

/// Queries every entry the way the library will; nothing may panic.
fn query_all(cts: &CTState) {
    for i in 0..cts.len() as u32 {
        let id = CTypeId(i);
        let _ = cts.repr(id);
        let _ = cts.repr_named(id, Some(b"n"));
        let _ = cts.type_info(id);
        let _ = cts.align_of(id);
        let _ = cts.sizeof(id, None);
        if cts.sizeof(id, None) == SizeOf::NeedsCount {
            let _ = cts.sizeof(id, Some(u32::MAX));
            let _ = cts.sizeof(id, Some(7));
        }
        let _ = cts.raw_ref(id);
        let _ = cts.raw_child(id);
        let _ = cts.redirect(id);
        let _ = cts.offset_of(id, b"x");
        let _ = cts.get_field(id, b"a");
        assert!(cts.members(id).count() <= cts.len());
    }
    let _ = cts.get_name(b"foo", NS_DEFAULT);
    let _ = cts.get_name(b"foo", NS_STRUCT);
}

fn run_one(cts: &mut CTState, rng: &mut Rng, src: &[u8], as_type: bool) {
    let ps = params(rng, cts);
    let before = cts.len();
    if as_type {
        match cts.parse_type(src, &ps) {
            Ok(id) => assert!(id.index() < cts.len()),
            Err(e) => {
                assert!(!e.message().is_empty());
                assert_eq!(
                    cts.len(),
                    before,
                    "failed parse_type left types behind: {:?}",
                    String::from_utf8_lossy(src)
                );
            }
        }
    } else if let Err(e) = cts.cdef(src, &ps) {
        assert!(!e.message().is_empty());
        assert_eq!(cts.len(), before, "failed cdef left types behind: {:?}", String::from_utf8_lossy(src));
    }
}

#[test]
fn random_token_soups_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..40 {
        let mut cts = CTState::new(if round % 3 == 0 { Target::WASM32 } else { Target::X86_64_SYSV });
        for s in SEEDS {
            let _ = cts.cdef(s.as_bytes(), &[]);
        }
        for _ in 0..250 {
            let src = match rng.below(4) {
                0 => soup(&mut rng),
                1 => {
                    let seed = rng_pick_seed(&mut rng, SEEDS);
                    mutate(&mut rng, seed)
                }
                2 => {
                    let seed = rng_pick_seed(&mut rng, TYPE_SEEDS);
                    mutate(&mut rng, seed)
                }
                _ => soup(&mut rng),
            };
            let as_type = rng.below(2) == 0;
            run_one(&mut cts, &mut rng, &src, as_type);
        }
        query_all(&cts);
    }
}

fn rng_pick_seed<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len())]
}

#[test]
fn deep_nesting_is_bounded_on_a_small_stack() {
    let t = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let mut cts = CTState::new(Target::X86_64_SYSV);
            let deep = |open: &str, mid: &str, close: &str, n: usize| {
                let mut s = open.repeat(n);
                s.push_str(mid);
                s.push_str(&close.repeat(n));
                s.into_bytes()
            };
            for n in [10, 19, 20, 21, 99, 100, 101, 1000, 100_000] {
                let _ = cts.parse_type(&deep("(", "int", ")", n), &[]);
                let _ = cts.parse_type(&deep("int (", "*", ")", n), &[]);
                let _ = cts.cdef(&deep("enum { A = ", "1", " };", 1), &[]);
                let _ = cts.cdef(&deep("enum { Q = (", "1", ")", n), &[]);
                let _ = cts.parse_type(&deep("int[", "1", "]", n), &[]);
                let _ = cts.parse_type(&deep("int[-", "1", "]", n), &[]);
                let _ = cts.parse_type(&deep("int[sizeof(", "int", ")]", n), &[]);
                let _ = cts.parse_type(&deep("struct { ", "int x;", " } a;", n)[..], &[]);
                let mut s = deep("struct { ", "int x;", " } a;", n);
                s.truncate(s.len() - 3);
                let r = cts.parse_type(&s, &[]);
                assert_eq!(r.is_ok(), n <= 100, "struct nesting {n}");
                let _ = cts.parse_type(&deep("void (*)(", "int", ")", n), &[]);
                let _ = cts.parse_type(format!("int{}", "*".repeat(n)).as_bytes(), &[]);
                let _ = cts.parse_type(format!("int{}", "[1]".repeat(n)).as_bytes(), &[]);
                let _ = cts.cdef(format!("enum {{ Z{n} = {} 1 }};", "-".repeat(n)).as_bytes(), &[]);
            }
            // LuaJIT's limits and messages.
            assert!(cts.parse_type(&deep("int (", "*", ")", 19), &[]).is_ok());
            let e = cts.parse_type(&deep("int (", "*", ")", 20), &[]).unwrap_err();
            assert_eq!(e.to_string(), "chunk has too many syntax levels");
            // Typedef chains of anonymous members, deeper than any recursion limit.
            cts.cdef(b"typedef struct { int leaf; } T0;", &[]).unwrap();
            for i in 1..3000 {
                cts.cdef(format!("typedef struct {{ T{}; }} T{i};", i - 1).as_bytes(), &[]).unwrap();
            }
            let id = cts.parse_type(b"T2999", &[]).unwrap();
            assert_eq!(cts.offset_of(id, b"leaf"), Some((0, None)));
            query_all(&cts);
        })
        .unwrap();
    t.join().expect("no panic or stack overflow");
}
