//! The Lua corpus (`tests/lua`) in the sandbox: every script that does not need a
//! capability the sandboxed profile removes passes there too, with the same output:
//! with the Wasm trace JIT at its defaults, off, with every loop and exit hot at once
//! (`-Ohotloop=1,hotexit=1`), so under the collector's stress mode (the traces'
//! write-barrier guards see the mark phase all the time), and so with every exit
//! forced (the first time it is reached, and at random): the interpreter is the
//! oracle.

mod common;

use common::{sandbox, stderr};
use moonbox_host_wasi::{Outcome, Script, Stdio, Tenant};

/// Scripts that test what the sandbox removes, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("debug", "debug.getinfo"),
    ("errors", "debug.getinfo"),
    ("lib_debug", "debug.getinfo"),
    ("hooks", "debug.sethook"),
    ("lib_io", "debug.getinfo"),
    ("lib_package", "debug.getinfo"),
    ("gc", "collectgarbage('setpause')"),
    ("lib_os", "os.getenv"),
    ("os_io", "os.getenv"),
    ("load", "binary chunks"),
    ("tables", "binary chunks (string.dump of a constructor template)"),
    // The sandboxed profile (`Lua::sandboxed()`) has no io.stdout/io.write and no
    // string.dump, with grants or without.
    ("baselib", "io.stdout"),
    ("lib_string", "string.dump"),
    ("output", "io.write"),
    ("programs", "io.write"),
    // The FFI scripts are written for x86-64 (pointer sizes, real C headers' layouts)
    // and for the `calls` level; the sandbox is wasm32 at the `data` level (C calls,
    // ffi.load and number-to-pointer casts refused, as tests/capabilities.rs checks).
    ("ffi_api", "sizeof('void *') == 8"),
    ("ffi_calls", "C calls"),
    ("ffi_headers", "x86-64 struct layouts"),
    ("ffi_index", "number-to-pointer casts"),
    ("ffi_typeinfo", "x86-64 type sizes and alignments"),
    ("gc_finalizer_name", "debug.getinfo"),
    ("jit_upvalues", "debug.upvaluejoin"),
];

#[test]
fn corpus_runs_in_the_sandbox() {
    corpus(&[]);
}

#[test]
fn corpus_runs_in_the_sandbox_interpreted() {
    corpus(&["-joff"]);
}

#[test]
fn corpus_runs_in_the_sandbox_with_every_loop_traced() {
    corpus(&["-Ohotloop=1,hotexit=1"]);
}

#[test]
fn corpus_runs_in_the_sandbox_with_every_loop_traced_under_gc_stress() {
    corpus(&["-Ohotloop=1,hotexit=1", "--gc-stress"]);
}

#[test]
fn corpus_runs_in_the_sandbox_with_forced_exits() {
    corpus(&["-Ohotloop=1,hotexit=1", "--jit-exits=first"]);
    corpus(&["-Ohotloop=1,hotexit=1", "--jit-exits=random:12345"]);
}

fn corpus(jit_flags: &[&str]) {
    let root = std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).unwrap();
    let root_s = root.to_string_lossy().into_owned();
    let tenant = Tenant::new()
        .memory(256 << 20)
        .timeout(Some(std::time::Duration::from_secs(60)))
        .stdio(Stdio::Capture(16 << 20))
        .allow_read(&root)
        .unwrap()
        .jit_flags(jit_flags)
        .unwrap()
        .cwd(root_s.clone());
    let mut names: Vec<String> = std::fs::read_dir(root.join("tests/lua"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".lua").map(String::from))
        .collect();
    names.sort();
    let mut ran = 0;
    let mut failures = Vec::new();
    for name in &names {
        if SKIPPED.iter().any(|(n, _)| n == name) {
            continue;
        }
        // It expects `jit.on()` to restore the status it started with (off here).
        if name == "luajit_ext" && jit_flags.contains(&"-joff") {
            continue;
        }
        let r = sandbox().run(&tenant, &Script::file(format!("tests/lua/{name}.lua")), &[]).unwrap();
        ran += 1;
        if r.outcome != Outcome::Ok {
            failures.push(format!("{name} ({jit_flags:?}): {:?}\n{}", r.outcome, stderr(&r)));
            continue;
        }
        if let Ok(expected) = std::fs::read(root.join(format!("tests/lua/{name}.expected"))) {
            if r.stdout != expected {
                failures.push(format!("{name} ({jit_flags:?}): output differs from {name}.expected"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 30, "only {ran} scripts ran");
}
