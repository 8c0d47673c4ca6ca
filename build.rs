//! Links the stack unwinder into the `moonbox` binaries statically on Linux with glibc.
//!
//! Rust's standard library asks for the unwinder as `-lgcc_s`, the shared libgcc.
//! Loading that library cost some 0.07 ms of a 1.1 ms `moonbox -e ''`: mapping and
//! relocating one more object, and its constructor's `cpuid` instructions, which trap
//! to the hypervisor on a virtual machine (bench/README.md, "Startup"). The same
//! unwinder ships as the static archive `libgcc_eh.a`, which is what std itself links
//! with `+crt-static`. This script points `-lgcc_s` at it: a linker script named
//! `libgcc_s.so` in a directory searched before the system's.
//!
//! Only for a native build (target = host) of a `*-linux-gnu` target without
//! `crt-static`, and only when the C compiler knows the archive; otherwise the link is
//! left as it was.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let target = env::var("TARGET").unwrap_or_default();
    let native = env::var("HOST").is_ok_and(|h| h == target);
    let crt_static = env::var("CARGO_CFG_TARGET_FEATURE").is_ok_and(|f| f.split(',').any(|x| x == "crt-static"));
    if !native || !target.ends_with("-linux-gnu") || crt_static {
        return;
    }
    let Some(archive) = libgcc_eh() else { return };
    let dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("static-unwinder");
    let script = format!("/* -lgcc_s, linked statically: see moonbox's build.rs */\nINPUT({})\n", archive.display());
    if std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("libgcc_s.so"), script)).is_ok() {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}

/// The path of `libgcc_eh.a` as the C compiler (the linker driver) reports it. The
/// compiler prints the bare name when it has no such file.
fn libgcc_eh() -> Option<PathBuf> {
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let out = Command::new(cc).arg("-print-file-name=libgcc_eh.a").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let path = Path::new(text.trim());
    (out.status.success() && path.is_absolute() && path.is_file()).then(|| path.to_path_buf())
}
