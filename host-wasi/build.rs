//! Builds the tenant program (`guest/`, the engine as a `wasm32-wasip1` command) so
//! that `cargo build` from a fresh clone needs no manual step. The guest is built by
//! a nested cargo into its own target directory (`target/guest-wasm`), always
//! optimised, and its path is handed to the crate as `MOONBOX_GUEST_WASM`.
//!
//! `MOONBOX_GUEST_WASM` set in the environment skips the build and uses that file.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// Linker flags of the guest (see DESIGN.md, "jit-wasm and the link contract"): the
/// function table is exported and growable so the host can link trace modules into
/// it; 1 MiB of shadow stack (the parser and pattern matcher recurse, boundedly).
const GUEST_RUSTFLAGS: &[&str] =
    &["-Clink-arg=--export-table", "-Clink-arg=--growable-table", "-Clink-arg=-zstack-size=1048576"];

fn main() {
    println!("cargo:rerun-if-env-changed=MOONBOX_GUEST_WASM");
    if let Ok(path) = env::var("MOONBOX_GUEST_WASM") {
        println!("cargo:rustc-env=MOONBOX_GUEST_WASM={path}");
        return;
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("host-wasi lives in the workspace").to_path_buf();
    for p in [
        "host-wasi/guest",
        "jit-wasm/src",
        "jit-wasm/Cargo.toml",
        "engine/src",
        "engine/Cargo.toml",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let target_dir = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let target_dir = if target_dir.is_absolute() { target_dir } else { root.join(target_dir) };
    let guest_dir = target_dir.join("guest-wasm");

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--release", "-p", "moonbox-guest", "--target", "wasm32-wasip1", "--target-dir"])
        .arg(&guest_dir);
    // What the outer build set for itself must not leak into the guest's build.
    for (k, _) in env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        // Kept: where cargo lives, the jobserver, and how it reaches registries.
        let kept = ["CARGO_HOME", "CARGO_MAKEFLAGS", "CARGO_NET_", "CARGO_HTTP_", "CARGO_REGISTR", "CARGO_TERM_"]
            .iter()
            .any(|p| k.starts_with(p));
        let outer = k.starts_with("CARGO_") && !kept
            || ["RUSTFLAGS", "TARGET", "HOST", "PROFILE", "OPT_LEVEL", "DEBUG", "OUT_DIR", "NUM_JOBS", "RUSTC_LINKER"]
                .contains(&k.as_str());
        if outer {
            cmd.env_remove(&k);
        }
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", GUEST_RUSTFLAGS.join("\x1f"))
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort");
    // The nested cargo's progress goes to stderr; stdout is for cargo: directives.
    cmd.stdout(std::process::Stdio::from(std::io::stderr()));
    let status = cmd.status().expect("could not run cargo to build the wasm32-wasip1 guest");
    if !status.success() {
        panic!(
            "building the guest (cargo build --release -p moonbox-guest --target wasm32-wasip1) failed; \
             is the wasm32-wasip1 target installed? (`rustup target add wasm32-wasip1`)"
        );
    }
    let wasm = guest_dir.join("wasm32-wasip1/release/moonbox-guest.wasm");
    println!("cargo:rustc-env=MOONBOX_GUEST_WASM={}", wasm.display());
}
