//! Shared by the integration tests: one sandbox per test binary, temporary
//! directories, running a snippet.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use moonbox_host_wasi::{RunResult, Sandbox, SandboxConfig, Script, Tenant};

/// The sandbox shared by a test binary's tests (compiling the guest is the slow part).
pub fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| {
        // Test threads have 2 MiB stacks: keep the Wasm stack well inside that.
        Sandbox::with_config(SandboxConfig { max_wasm_stack: 1 << 20, ..SandboxConfig::default() })
            .expect("the sandbox starts")
    })
}

/// Runs `code` as `tenant`.
pub fn run(tenant: &Tenant, code: &str) -> RunResult {
    sandbox().run(tenant, &Script::source("test.lua", code), &[]).expect("the host runs it")
}

pub fn stdout(r: &RunResult) -> String {
    String::from_utf8_lossy(&r.stdout).into_owned()
}

pub fn stderr(r: &RunResult) -> String {
    String::from_utf8_lossy(&r.stderr).into_owned()
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("moonbox-sbx-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(std::fs::canonicalize(&p).expect("canonical temp dir"))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as a Lua string literal body (no escaping needed for temp paths).
    pub fn lua(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
