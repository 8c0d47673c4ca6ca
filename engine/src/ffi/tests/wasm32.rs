//! wasm32 layout (the sandbox build's target), against clang's `--target=wasm32`.
//!
//! `wasm32_clang.txt` holds what clang 14 computed for the structs of the gcc
//! test (sizes, alignments, and member offsets of those without bitfields, whose
//! placement rules the gcc test covers); `regenerate_wasm32_expectations`
//! (ignored: it needs clang) rewrites it:
//!
//!   cargo test -j 1 -p moonbox-engine --lib ffi::tests::wasm32 -- --ignored

use std::fmt::Write as _;

use super::gcc_layout::DECLS;
use crate::ffi::{CTState, Kind, Target};

const EXPECTED: &str = include_str!("wasm32_clang.txt");

/// Lines "name size S align A" and "name.member at O"; also the C expressions
/// giving each number.
fn table(cts: &mut CTState) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut exprs = Vec::new();
    for &(decl, name) in DECLS {
        let id = cts.parse_type(name.as_bytes(), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        writeln!(text, "{name} size {} align {}", cts.size_of(id).unwrap_or(0), cts.align_of(id)).unwrap();
        exprs.push(format!("sizeof({name})"));
        exprs.push(format!("_Alignof({name})"));
        if decl.contains(':') {
            continue; // bitfields: no offsetof
        }
        let sid = cts.raw(id);
        let names: Vec<Vec<u8>> = cts
            .members(sid)
            .filter(|(_, m)| matches!(m.info.kind, Kind::Field { .. }))
            .filter_map(|(_, m)| m.name.as_deref().map(<[u8]>::to_vec))
            .collect();
        for m in names {
            let m = String::from_utf8(m).unwrap();
            let (ofs, _) = cts.offset_of(id, m.as_bytes()).unwrap();
            writeln!(text, "{name}.{m} at {ofs}").unwrap();
            exprs.push(format!("__builtin_offsetof({name}, {m})"));
        }
    }
    (text, exprs)
}

fn wasm32_state() -> CTState {
    let mut cts = CTState::new(Target::WASM32);
    let all: String = DECLS.iter().map(|d| format!("{}\n", d.0)).collect();
    cts.cdef(all.as_bytes(), &[]).unwrap_or_else(|e| panic!("cdef: {e}"));
    cts
}

#[test]
fn layout_matches_clang_wasm32() {
    let (ours, _) = table(&mut wasm32_state());
    let diffs: Vec<String> = EXPECTED
        .lines()
        .zip(ours.lines())
        .filter(|(c, o)| c != o)
        .map(|(c, o)| format!("  clang: {c}\n  ours:  {o}"))
        .collect();
    assert_eq!(EXPECTED.lines().count(), ours.lines().count(), "line counts differ:\n{ours}");
    assert!(diffs.is_empty(), "{} wasm32 layout differences:\n{}", diffs.len(), diffs.join("\n"));
}

#[test]
fn wasm32_basic_types() {
    let mut cts = CTState::new(Target::WASM32);
    for (t, size, align, repr) in [
        ("void *", 4, 4, "void *"),
        ("long", 4, 4, "int"),
        ("unsigned long", 4, 4, "unsigned int"),
        ("size_t", 4, 4, "unsigned int"),
        ("ssize_t", 4, 4, "int"),
        ("intptr_t", 4, 4, "int"),
        ("long long", 8, 8, "int64_t"),
        ("double", 8, 8, "double"),
        ("long double", 16, 16, "long double"),
        ("int64_t", 8, 8, "int64_t"),
        ("int (*)(int)", 4, 4, "int (*)()"),
        ("char *[3]", 12, 4, "char *[3]"),
    ] {
        let id = cts.parse_type(t.as_bytes(), &[]).unwrap();
        assert_eq!((cts.size_of(id), cts.align_of(id)), (Some(size), align), "{t}");
        assert_eq!(String::from_utf8_lossy(&cts.repr(id)), repr, "{t}");
    }
    // __ptr32/__ptr64 only change pointers on 64-bit targets.
    let id = cts.parse_type(b"int * __ptr64", &[]).unwrap();
    assert_eq!(cts.size_of(id), Some(4));
}

#[test]
#[ignore = "needs clang; rewrites wasm32_clang.txt"]
fn regenerate_wasm32_expectations() {
    let (ours, exprs) = table(&mut wasm32_state());
    let mut c = String::from("#include <stddef.h>\n");
    for d in DECLS {
        writeln!(c, "{}", d.0).unwrap();
    }
    writeln!(c, "const unsigned int layout_values[] = {{\n  {}\n}};", exprs.join(",\n  ")).unwrap();
    let dir = std::env::temp_dir().join(format!("moonbox-ffi-clang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    std::fs::write(&src, &c).unwrap();
    let out = std::process::Command::new("clang")
        .args(["--target=wasm32", "-std=gnu11", "-w", "-S", "-o", "-"])
        .arg(&src)
        .output()
        .expect("clang");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let asm = String::from_utf8(out.stdout).unwrap();
    let values: Vec<u32> = asm
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".int32"))
        .map(|v| v.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(values.len(), exprs.len());
    // Put clang's numbers where ours are, line by line.
    let mut vals = values.into_iter();
    let mut text = String::new();
    for line in ours.lines() {
        if let Some((name, _)) = line.split_once(" size ") {
            writeln!(text, "{name} size {} align {}", vals.next().unwrap(), vals.next().unwrap()).unwrap();
        } else {
            let (name, _) = line.rsplit_once(" at ").unwrap();
            writeln!(text, "{name} at {}", vals.next().unwrap()).unwrap();
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi/tests/wasm32_clang.txt");
    std::fs::write(path, text).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
