//! `moonbox --sandbox ...`: the command line goes to `moonbox-sandbox` (the Wasm
//! sandbox host, crate `moonbox-host-wasi`), installed beside this program. It takes
//! the same script, `-e` and argument conventions plus `--memory`, `--fuel`,
//! `--timeout`, `--allow-read DIR` and `--allow-write DIR`.
//!
//! Kept apart from the native option parsing on purpose: the native CLI does not link
//! wasmtime, and this is the only place that knows about the sandbox host.

use std::process::Command;

/// Options that take a value, so that the value is not mistaken for the script.
const WITH_VALUE: &[&str] = &["-e", "-l", "-j", "--memory", "--fuel", "--timeout", "--allow-read", "--allow-write"];

/// Whether `--sandbox` is among the options (before the script and `--`).
fn wants_sandbox(args: &[String]) -> bool {
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--sandbox" => return true,
            "--" | "-" => return false,
            a if WITH_VALUE.contains(&a) => i += 2,
            a if a.starts_with('-') => i += 1,
            _ => return false,
        }
    }
    false
}

/// With `--sandbox`, runs the sandbox host on the whole command line and returns its
/// exit status (on Unix it replaces this process and does not return); else `None`.
pub fn hand_over(args: &[String]) -> Option<u8> {
    if !wants_sandbox(args) {
        return None;
    }
    let name = format!("moonbox-sandbox{}", std::env::consts::EXE_SUFFIX);
    let exe = std::env::current_exe().map(|p| p.with_file_name(&name)).unwrap_or_else(|_| name.clone().into());
    let mut cmd = Command::new(&exe);
    cmd.args(&args[1..]);
    #[cfg(unix)]
    let err = std::os::unix::process::CommandExt::exec(&mut cmd);
    #[cfg(not(unix))]
    let err = match cmd.status() {
        Ok(s) => return Some(s.code().map_or(1, |c| c as u8)),
        Err(e) => e,
    };
    eprintln!(
        "moonbox: --sandbox needs {} ({err}); build it with `cargo build --release -p moonbox-host-wasi`",
        exe.display()
    );
    Some(1)
}

#[cfg(test)]
mod tests {
    use super::wants_sandbox;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn finds_the_flag_among_options_only() {
        assert!(wants_sandbox(&args("moonbox --sandbox x.lua")));
        assert!(wants_sandbox(&args("moonbox --memory 64M --sandbox x.lua")));
        assert!(wants_sandbox(&args("moonbox -e --sandbox --sandbox")));
        assert!(!wants_sandbox(&args("moonbox -e --sandbox")));
        assert!(!wants_sandbox(&args("moonbox x.lua --sandbox")));
        assert!(!wants_sandbox(&args("moonbox -- --sandbox")));
    }
}
