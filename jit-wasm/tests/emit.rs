//! Every trace that the `tests/lua` and `tests/jit` scripts compile (with every loop
//! hot at once: `hotloop=1,hotexit=1`) is emitted as a Wasm module and checked by
//! wasmparser's validator; the traces themselves run on the reference evaluator, so
//! the scripts behave as under `-jeval`. Wasm-text goldens: `tests/golden/*.wat`
//! (`MOONBOX_BLESS=1` re-blesses). They are emitted on the host: its layout offsets
//! and stand-in helper indices, not the guest's.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use moonbox_engine::jit::eval::Evaluator;
use moonbox_engine::jit::ir::TraceIr;
use moonbox_engine::jit::{CompileOptions, CompiledTrace, TraceBackend};
use moonbox_jit_wasm::emit::{emit, EmitOptions};
use moonbox_jit_wasm::HelperIndices;

#[derive(Default)]
struct Seen {
    emitted: usize,
    refused: Vec<String>,
    invalid: Vec<String>,
    modules: Vec<Vec<u8>>,
}

/// Emits and validates each trace, then runs it on the evaluator.
struct Checking {
    seen: Rc<RefCell<Seen>>,
    eval: Evaluator,
}

impl TraceBackend for Checking {
    fn name(&self) -> &'static str {
        "wasm-check"
    }
    fn compile(
        &mut self,
        ir: &TraceIr,
        opts: &CompileOptions,
        link_to: Option<&dyn CompiledTrace>,
    ) -> Result<Box<dyn CompiledTrace>, String> {
        for force_checks in [false, true] {
            // Linked as the backend links them (a link table, a side trace's target),
            // or, in the forced-exit mode, not at all.
            let eopts = EmitOptions {
                number: opts.number,
                force_checks,
                helpers: HelperIndices::current(),
                exit_links: (!force_checks).then_some(0x10000),
                link_to: (ir.link && !force_checks).then_some(7),
            };
            let mut seen = self.seen.borrow_mut();
            match emit(ir, &eopts) {
                Ok(m) => {
                    seen.emitted += 1;
                    if let Err(e) = wasmparser::Validator::new().validate_all(&m) {
                        seen.invalid.push(format!("trace {}: {e}\n{ir}", opts.number));
                    }
                    if !force_checks {
                        seen.modules.push(m);
                    }
                }
                Err(e) => seen.refused.push(e.to_string()),
            }
        }
        self.eval.compile(ir, opts, link_to)
    }
}

/// Runs `src` with every loop hot, the checking backend installed; what it saw.
fn run(name: &str, src: &[u8]) -> Seen {
    let seen = Rc::new(RefCell::new(Seen::default()));
    // SAFETY: the state lives for this function and no value outlives it.
    let mut vm = unsafe { moonbox_engine::stdlib::new_state() };
    vm.jit_install(Box::new(Checking { seen: Rc::clone(&seen), eval: Evaluator }));
    vm.jit_settings(|j| {
        assert!(j.opt(b"hotloop=1") && j.opt(b"hotexit=1"));
    });
    // Quiet: the scripts' output is not what is checked here.
    let _ = vm
        .load(b"print = function() end; io.write = function() end", b"=quiet", None)
        .and_then(|f| vm.call_value(f, &[], 0));
    let chunk = format!("@{name}");
    if let Ok(f) = vm.load(src, chunk.as_bytes(), None) {
        let _ = vm.call_value(f, &[], 0);
    }
    drop(vm);
    Rc::try_unwrap(seen).ok().expect("the backend is gone").into_inner()
}

fn scripts(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "lua")
                .then(|| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_trace_of_the_test_scripts_emits_a_valid_module() {
    let mut emitted = 0;
    let mut invalid = Vec::new();
    let mut refused = std::collections::BTreeMap::<String, usize>::new();
    for dir in ["tests/lua", "tests/jit"] {
        for (name, src) in scripts(dir) {
            // Scripts that sleep, spawn or wait on input, and the FFI's C calls.
            if name.starts_with("ffi_") || ["os_io.lua", "lib_os.lua", "lib_io.lua"].contains(&name.as_str()) {
                continue;
            }
            let s = run(&name, &src);
            emitted += s.emitted;
            invalid.extend(s.invalid.into_iter().map(|m| format!("{name}: {m}")));
            for r in s.refused {
                *refused.entry(r).or_default() += 1;
            }
        }
    }
    eprintln!("{emitted} modules emitted; not emitted: {refused:?}");
    assert!(invalid.is_empty(), "{} invalid modules:\n{}", invalid.len(), invalid.join("\n"));
    // The scripts compile hundreds of traces; a number far below says nothing ran.
    assert!(emitted > 200, "only {emitted} modules emitted");
    // Every op the native backend lowers is emitted (POW is NYI in both); only
    // traces past the Wasm backend's snapshot cap are refused besides.
    assert!(refused.keys().all(|r| r.contains("POW") || r.contains("too many snapshots")), "refused: {refused:?}");
}

/// The Wasm text of the first trace of each `tests/jit` script, against
/// `tests/golden/<name>.wat`. Not `tables.lua`: its trace holds heap addresses
/// (string constants, hash node numbers) that change from run to run.
#[test]
fn wasm_text_goldens() {
    let bless = std::env::var_os("MOONBOX_BLESS").is_some();
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failures = Vec::new();
    for (name, src) in scripts("tests/jit") {
        if name == "tables.lua" {
            continue;
        }
        let s = run(&name, &src);
        let Some(first) = s.modules.first() else { panic!("{name}: no trace") };
        let text = wasmprinter::print_bytes(first).unwrap();
        let path = golden_dir.join(name.replace(".lua", ".wat"));
        if bless {
            std::fs::create_dir_all(&golden_dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != text {
            failures.push(format!("{name}: differs from {} (MOONBOX_BLESS=1 re-blesses)\n{text}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
