//! `moonbox --sandbox`: the command line of the sandbox (the `moonbox-sandbox`
//! binary, and what the `moonbox` command runs when given `--sandbox`).
//!
//! ```text
//! moonbox --sandbox [--memory SIZE] [--fuel N] [--timeout TIME] [-jCMD]... [-O[OPTS]]...
//!                   [--allow-read DIR]... [--allow-write DIR]... [-e chunk | script | -] [args]...
//! ```
//!
//! `-j` and `-O` are the native CLI's JIT flags; the tenant's trace JIT is the Wasm
//! one (`moonbox-jit-wasm`), its traces compiled and checked by this host. `-jstats`
//! prints, at the end, how many trace modules the host linked and how long each
//! link (compile + instantiate) took.
//!
//! The script (read by the host: naming it is granting it) runs in a fresh instance
//! with the sandboxed Lua profile. It sees only the granted directories, each at its
//! own absolute path, and the working directory is kept, so relative and absolute
//! paths inside a grant behave as natively; everything else is "No such file or
//! directory" or "Permission denied". Stdin, stdout and stderr are the terminal's.
//! `SIZE` takes K, M or G suffixes; `TIME` takes ms, s or m (plain numbers are
//! seconds); fuel counts Wasm instructions, roughly. Without flags the limits are
//! 64 MiB and 10 seconds, as for the native `--sandbox=native`. Exit status and
//! message as the native CLI's: 0, 1 after a Lua error, 2 for a usage error (or a
//! refused grant), 3 memory (`moonbox: script.lua: not enough memory (--memory 32M)`),
//! 4 fuel (`moonbox: script.lua: CPU budget exhausted (--fuel 1000000)`), 5 timeout
//! (`moonbox: script.lua: timeout after 2s (--timeout)`). The timeout holds whatever
//! the script waits on: a FIFO inside a grant, a stdin that never closes.

use std::time::Duration;

use crate::{Outcome, Sandbox, SandboxConfig, Script, Stdio, Tenant};

const USAGE: &str = "usage: moonbox --sandbox [--memory SIZE] [--fuel N] [--timeout TIME] [-jCMD] [-O[OPTS]] \
[--allow-read DIR]... [--allow-write DIR]... [-e chunk | script | -] [args]...";

use moonbox_units::{parse_count, parse_duration, parse_size};

/// Runs the command line `argv` (`argv[0]` is the program; `--sandbox` anywhere
/// among the options is accepted and ignored). Returns the exit status.
pub fn main(argv: &[String]) -> u8 {
    match run(argv) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("moonbox: {msg}");
            2
        }
    }
}

/// Exit statuses, as the native CLI's.
const EXIT_ERROR: u8 = 1;
const EXIT_MEMORY: u8 = 3;
const EXIT_FUEL: u8 = 4;
const EXIT_TIMEOUT: u8 = 5;

fn run(argv: &[String]) -> Result<u8, String> {
    // `--flag=value` is `--flag value` (among the options, not in the script's args).
    const WITH_VALUE: &[&str] = &["--memory", "--fuel", "--timeout", "--allow-read", "--allow-write"];
    let mut split: Vec<String> = argv.first().cloned().into_iter().collect();
    let mut k = 1;
    while k < argv.len() {
        let a = &argv[k];
        match a.split_once('=') {
            Some((f, v)) if WITH_VALUE.contains(&f) => {
                split.push(f.to_string());
                split.push(v.to_string());
            }
            _ if WITH_VALUE.contains(&a.as_str()) => {
                split.extend(argv[k..].iter().take(2).cloned());
                k += 1;
            }
            _ if a.starts_with('-') && a != "-" && a != "--" && a != "-e" => split.push(a.clone()),
            _ => {
                split.extend(argv[k..].iter().cloned());
                break;
            }
        }
        k += 1;
    }
    let argv = &split[..];
    let mut tenant = Tenant::new().memory(64 << 20).timeout(Some(Duration::from_secs(10))).stdio(Stdio::Inherit);
    // The flags as given, for the messages.
    let (mut memory_text, mut fuel_text, mut timeout_text) = ("64M".to_string(), String::new(), "10s".to_string());
    let mut i = 1;
    let mut script: Option<Script> = None;
    let mut jit_flags: Vec<String> = Vec::new();
    let mut jit_stats = false;
    while i < argv.len() {
        let a = argv[i].as_str();
        let next = || argv.get(i + 1).ok_or_else(|| format!("option '{a}' needs an argument\n{USAGE}"));
        match a {
            "--sandbox" => {}
            "--memory" => {
                let v = next()?;
                tenant = tenant.memory(parse_size(v).ok_or_else(|| format!("bad size '{v}'"))?);
                memory_text = v.clone();
                i += 1;
            }
            "--fuel" => {
                let v = next()?;
                tenant = tenant.fuel(Some(parse_count(v).ok_or_else(|| format!("bad fuel '{v}'"))?));
                fuel_text = v.clone();
                i += 1;
            }
            "--timeout" => {
                let v = next()?;
                tenant = tenant.timeout(Some(parse_duration(v).ok_or_else(|| format!("bad time '{v}'"))?));
                timeout_text = v.clone();
                i += 1;
            }
            "--allow-read" | "--allow-write" => {
                let v = next()?;
                tenant = if a == "--allow-read" { tenant.allow_read(v) } else { tenant.allow_write(v) }
                    .map_err(|e| e.to_string())?;
                i += 1;
            }
            "-e" => {
                script = Some(Script::Eval(next()?.clone()));
                i += 2;
                break;
            }
            "-v" => println!("moonbox {} (sandbox)", env!("CARGO_PKG_VERSION")),
            // moonbox's own: the host's record of trace links, at the end.
            "-jstats" => jit_stats = true,
            "-j" => {
                jit_flags.push(format!("-j{}", next()?));
                i += 1;
            }
            _ if a.starts_with("-j") || a.starts_with("-O") => jit_flags.push(a.to_string()),
            "--" => {
                i += 1;
                break;
            }
            "-" => break,
            _ if a.starts_with('-') => return Err(format!("option '{a}' is not available in the sandbox\n{USAGE}")),
            _ => break,
        }
        i += 1;
    }
    let script = match script {
        Some(s) => s,
        None => match argv.get(i) {
            Some(p) if p == "-" => {
                i += 1;
                Script::File("-".into())
            }
            Some(p) => {
                i += 1;
                let code = std::fs::read(p).map_err(|e| format!("cannot open {p}: {}", io_text(&e)))?;
                Script::source(p.clone(), code)
            }
            None => return Err(format!("no script given\n{USAGE}")),
        },
    };
    // The forced-exit test mode, as natively (`MOONBOX_JIT_EXITS=first|random:SEED`).
    if let Ok(mode) = std::env::var("MOONBOX_JIT_EXITS") {
        jit_flags.push(format!("--jit-exits={mode}"));
    }
    // And the collector's stress mode (`MOONBOX_GC_STRESS=1`).
    if std::env::var_os("MOONBOX_GC_STRESS").is_some() {
        jit_flags.push("--gc-stress".into());
    }
    tenant = tenant.jit_flags(&jit_flags).map_err(|e| e.to_string())?;
    if let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize) {
        tenant = tenant.cwd(cwd.to_string_lossy().into_owned());
    }
    let config = SandboxConfig {
        // Fuel metering costs speed: meter only when a budget is asked for.
        fuel: tenant.fuel.is_some(),
        max_concurrent: 1,
        max_memory: tenant.hard_memory_cap(),
        tick: Duration::from_millis(10),
        max_wasm_stack: 4 << 20,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::with_config(config).map_err(|e| format!("cannot start the sandbox: {e:#}"))?;
    sandbox.check_grants(&tenant).map_err(|e| e.to_string())?;
    let args: Vec<&str> = argv[i..].iter().map(String::as_str).collect();
    let r = sandbox.run(&tenant, &script, &args).map_err(|e| format!("{e:#}"))?;
    if jit_stats {
        let ms: Vec<String> = r.jit_link_times.iter().map(|d| format!("{:.3}", d.as_secs_f64() * 1e3)).collect();
        eprintln!("jit: {} traces linked, {} refused", r.jit_link_times.len(), r.jit_refused);
        eprintln!("jit: link times ms: {}", ms.join(" "));
    }
    // As the native CLI names the chunk in a limit's message.
    let name = match &script {
        Script::Eval(_) => "(command line)",
        Script::File(p) if p == "-" => "stdin",
        Script::File(p) => p.as_str(),
        Script::Source { name, .. } => name.as_str(),
    };
    let status = match r.outcome {
        Outcome::Ok => 0,
        // The guest has printed the message and the traceback.
        Outcome::LuaError { .. } => EXIT_ERROR,
        // The engine's "not enough memory": the guest has printed it.
        Outcome::MemoryLimit if r.exit_code == crate::sandbox::GUEST_EXIT_MEMORY => EXIT_MEMORY,
        Outcome::MemoryLimit => {
            eprintln!("moonbox: {name}: not enough memory (--memory {memory_text})");
            EXIT_MEMORY
        }
        Outcome::OutOfFuel => {
            eprintln!("moonbox: {name}: CPU budget exhausted (--fuel {fuel_text})");
            EXIT_FUEL
        }
        Outcome::Timeout => {
            eprintln!("moonbox: {name}: timeout after {timeout_text} (--timeout)");
            EXIT_TIMEOUT
        }
        other => {
            eprintln!("moonbox: {other}");
            EXIT_ERROR
        }
    };
    // Stop here: a run that timed out may have left a thread blocked in a system
    // call (a FIFO, the terminal), which nothing needs to wait for.
    std::io::Write::flush(&mut std::io::stdout()).ok();
    drop(sandbox);
    Ok(status)
}

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}
