//! The engine's floors run one way: no source file names a module of a floor above
//! its own (ARCHITECTURE.md, "Floors inside the engine"). This test reads every
//! file under `src/` and fails on any `crate::<module>` path that points upward, or
//! sideways between the object and compiler floors, which stand side by side.

use std::path::{Path, PathBuf};

/// The floor of each top-level module, bottom first. Modules on one floor may use
/// each other, except `object` and `compiler` (see `SIDE_BY_SIDE`).
const FLOORS: &[(&str, u32)] = &[
    ("value", 0),
    ("gc", 0),
    ("bytecode", 0),
    ("number", 0),
    ("native_stack", 0),
    ("object", 1),
    ("compiler", 1),
    ("vm", 2),
    ("jit", 2),
    ("stdlib", 3),
    ("ffi", 3),
];

/// Pairs on one floor that must not use each other.
const SIDE_BY_SIDE: &[(&str, &str)] = &[("object", "compiler"), ("compiler", "object")];

fn floor_of(module: &str) -> Option<u32> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|&(_, f)| f)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The `crate::<name>` module names a line refers to (comments skipped).
fn crate_refs(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut refs = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        // `use crate::{a, b}` names several modules.
        if name.is_empty() && after.starts_with('{') {
            let inner = after[1..].split('}').next().unwrap_or("");
            for part in inner.split(',') {
                let n: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !n.is_empty() {
                    refs.push(n);
                }
            }
        } else if !name.is_empty() {
            refs.push(name);
        }
        rest = after;
    }
    refs
}

#[test]
fn no_module_uses_a_floor_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 30, "found only {} source files under {}", files.len(), src.display());
    let mut bad = Vec::new();
    let mut unknown = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap_or(f);
        let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
        let own = first.trim_end_matches(".rs").to_string();
        if own == "lib" {
            continue;
        }
        let Some(own_floor) = floor_of(&own) else {
            unknown.push(rel.display().to_string());
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            for r in crate_refs(line) {
                let Some(floor) = floor_of(&r) else { continue };
                let sideways = SIDE_BY_SIDE.iter().any(|&(a, b)| a == own && b == r);
                if floor > own_floor || sideways {
                    bad.push(format!(
                        "{}:{}: {} (floor {}) uses crate::{} (floor {})",
                        rel.display(),
                        n + 1,
                        own,
                        own_floor,
                        r,
                        floor
                    ));
                }
            }
        }
    }
    assert!(unknown.is_empty(), "modules with no floor assigned in tests/floors.rs: {unknown:?}");
    assert!(bad.is_empty(), "imports from a higher floor:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_imports() {
    assert_eq!(crate_refs("use crate::vm::Vm;"), ["vm"]);
    assert_eq!(crate_refs("use crate::{gc::GcRef, value::Value};"), ["gc", "value"]);
    assert_eq!(crate_refs("    let x = crate::stdlib::lib(vm); // crate::jit"), ["stdlib"]);
    assert!(crate_refs("// use crate::vm").is_empty());
}
