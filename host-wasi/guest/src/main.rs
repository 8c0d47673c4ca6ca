//! The tenant program: the engine as a `wasm32-wasip1` command, run by
//! `moonbox-host-wasi` once per tenant (and by any other WASI runtime).
//!
//! ```text
//! moonbox [--cwd DIR] [--memory BYTES] [--grant-read DIR]... [--grant-write DIR]...
//!         [-jCMD]... [-O[OPTS]]... [--jit-exits=MODE]
//!         [--host-script NAME] [--] (-e CHUNK | SCRIPT | -) [ARGS]...
//! ```
//!
//! `-j` and `-O` are the native CLI's (`-jon`, `-joff`, `-jflush`, `-jv`,
//! `-jdump[=FLAGS]`; `-O` with `jit.opt.start`'s options), in order; `--jit-exits=
//! first|random:SEED` is the forced-exit test mode (`MOONBOX_JIT_EXITS` natively),
//! `--gc-stress` the collector's stress mode (`MOONBOX_GC_STRESS` natively).
//! The JIT is the Wasm one (`jit.rs`): on when the host links traces.
//!
//! `--host-script NAME` takes the main chunk from the host (the `moonbox.script_*`
//! imports) instead of a file: the host reads the script the user named, which need
//! not lie inside a directory grant; NAME is its path, for `arg[0]` and messages.
//! `--cwd` sets the working directory that relative paths resolve against (WASI
//! has none of its own); `--memory` sets the engine's memory limit, so that most
//! allocations past it become the catchable Lua error "not enough memory" before the
//! host's hard cap on linear memory is reached. `--grant-read`/`--grant-write` name
//! the directories the host preopened (WASI enforces them; the engine opens its file
//! functions only for them). The script runs with the sandboxed Lua capabilities of
//! `Lua::sandboxed()` plus those grants (see `profile.rs`) and the host functions the
//! tenant was granted (`host.rs`). Errors print as the native CLI prints them: `moonbox: message` and a
//! traceback on stderr, exit status 1.
//!
//! There are no threads on wasip1: everything runs on the main thread. The engine
//! does not recurse on the Rust stack per Lua call; the parser and the pattern
//! matcher recurse within fixed limits, which the stack size in `build.rs` covers.

mod host;
mod jit;
mod profile;
mod wire;

use std::io::Write;
use std::process::ExitCode;

use moonbox_engine::stdlib::base::read_source;
use moonbox_engine::value::Value;
use moonbox_engine::vm::{ErrorKind, LuaError, MetaEvent, Vm};

/// The exit status of a run the engine's memory limit ended (as the native CLI's).
const EXIT_MEMORY: u8 = 3;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let code = run(&argv);
    let _ = std::io::stdout().flush();
    ExitCode::from(code)
}

fn run(argv: &[String]) -> u8 {
    let prog = argv.first().cloned().unwrap_or_else(|| "moonbox".into());
    let mut i = 1;
    let mut grants = profile::Grants::default();
    let mut memory: Option<usize> = None;
    let mut chunk: Option<String> = None;
    let mut host_script: Option<String> = None;
    let mut jit_args: Vec<String> = Vec::new();
    while i < argv.len() {
        let a = argv[i].as_str();
        let value = argv.get(i + 1);
        match (a, value) {
            ("--cwd", Some(dir)) => {
                // A working directory outside every grant cannot be entered; then
                // relative paths find nothing, which is what they should find.
                let _ = std::env::set_current_dir(dir);
                i += 2;
            }
            ("--memory", Some(n)) => {
                memory = n.parse().ok();
                i += 2;
            }
            ("--grant-read" | "--grant-write", Some(dir)) => {
                grants.add(dir, a == "--grant-write");
                i += 2;
            }
            (j, _)
                if (j.len() > 2 && j.starts_with("-j"))
                    || j.starts_with("-O")
                    || j.starts_with("--jit-exits=")
                    || j == "--gc-stress" =>
            {
                jit_args.push(j.to_string());
                i += 1;
            }
            ("--host-script", Some(name)) => {
                host_script = Some(name.clone());
                i += 2;
                break;
            }
            ("-e", Some(src)) => {
                chunk = Some(src.clone());
                i += 2;
                break;
            }
            ("--", _) => {
                i += 1;
                break;
            }
            _ => break,
        }
    }
    let mut vm = profile::new_state(grants);
    vm.set_memory_limit(memory);
    host::install(&mut vm);
    jit::install(&mut vm);
    for a in &jit_args {
        if let Err(m) = jit::apply(&mut vm, a) {
            eprintln!("{prog}: {m}");
            return 1;
        }
    }
    let (script, name, src) = match (chunk, &host_script) {
        (Some(src), _) => (None, "=(command line)".to_string(), Ok(src.into_bytes())),
        (None, Some(path)) => {
            let src = host::script().ok_or_else(|| format!("cannot open {path}: the host handed over no script"));
            (Some(path.as_str()), format!("@{path}"), src)
        }
        (None, None) => {
            let Some(path) = argv.get(i) else {
                eprintln!("usage: {prog} [--cwd DIR] [--memory BYTES] [--] (-e chunk | script | -) [args...]");
                return 1;
            };
            i += 1;
            if path == "-" {
                (Some(path.as_str()), "=stdin".to_string(), read_source(None))
            } else {
                (Some(path.as_str()), format!("@{path}"), read_source(Some(path)))
            }
        }
    };
    set_arg_table(&mut vm, &prog, script, &argv[i..]);
    let src = match src {
        Ok(s) => s,
        Err(m) => {
            eprintln!("{prog}: {m}");
            host::report_error(m.as_bytes());
            return 1;
        }
    };
    let f = match vm.load(&src, name.as_bytes(), None) {
        Ok(f) => f,
        Err(e) => {
            report(&mut vm, &prog, &e);
            return exit_status(&e);
        }
    };
    let args: Vec<Value> = argv[i..].iter().map(|a| vm.str_value(a.as_bytes())).collect();
    let status = match vm.call_value(f, &args, 0) {
        Ok(_) => 0,
        Err(e) => {
            report(&mut vm, &prog, &e);
            exit_status(&e)
        }
    };
    jit::finish(&vm);
    status
}

/// 1 for an error, [`EXIT_MEMORY`] when the engine's memory limit raised it: so the host
/// tells "not enough memory" from a script's error that only says so
/// (`error("not enough memory")`).
fn exit_status(e: &LuaError) -> u8 {
    if e.kind() == ErrorKind::Memory {
        EXIT_MEMORY
    } else {
        1
    }
}

/// The global `arg`: `arg[0]` is the script, `arg[-1]` the interpreter, as natively.
fn set_arg_table(vm: &mut Vm, prog: &str, script: Option<&str>, rest: &[String]) {
    let t = vm.new_table(rest.len(), 2);
    let prog_v = vm.str_value(prog.as_bytes());
    let _ = vm.raw_set_int(t, -1, prog_v);
    if let Some(s) = script {
        let v = vm.str_value(s.as_bytes());
        let _ = vm.raw_set_int(t, 0, v);
    }
    for (k, a) in rest.iter().enumerate() {
        let v = vm.str_value(a.as_bytes());
        let _ = vm.raw_set_int(t, k as i64 + 1, v);
    }
    let g = vm.globals();
    vm.set_field(g, "arg", t.to_value());
}

/// Prints an uncaught error as the native CLI does.
fn report(vm: &mut Vm, prog: &str, e: &LuaError) {
    let _ = std::io::stdout().flush();
    let v = e.value();
    if v.is_nil() {
        host::report_error(b"nil");
        return;
    }
    let printable = v.is_string() || v.is_number() || !vm.metamethod(v, MetaEvent::Tostring).is_nil();
    let msg = vm.error_to_string(e);
    host::report_error(msg.as_bytes());
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{prog}: {msg}");
    if printable {
        if let Some(tb) = e.traceback() {
            let _ = writeln!(err, "{tb}");
        }
    }
    let _ = err.flush();
}
