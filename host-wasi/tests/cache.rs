//! The compiled-guest cache: an entry the host did not write itself is never loaded
//! (the host compiles afresh and the run is correct), and no grant reaches the cache.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TempDir;
use moonbox_host_wasi::{CacheStatus, GrantError, Outcome, Sandbox, SandboxConfig, Script, Tenant};

fn config(cache: &Path) -> SandboxConfig {
    SandboxConfig {
        cache_dir: Some(cache.to_path_buf()),
        pooling: false,
        max_concurrent: 2,
        ..SandboxConfig::default()
    }
}

/// A sandbox on `cache` that runs a script correctly; its cache status.
fn start(cache: &Path) -> (Sandbox, CacheStatus) {
    let s = Sandbox::with_config(config(cache)).expect("the sandbox starts");
    let r = s.run(&Tenant::new(), &Script::source("t.lua", "print(6 * 7, ('ab'):rep(3))"), &[]).unwrap();
    assert_eq!(r.outcome, Outcome::Ok, "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(String::from_utf8_lossy(&r.stdout), "42\tababab\n");
    let status = s.cache_status().clone();
    (s, status)
}

fn entry(cache: &Path) -> PathBuf {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

fn rejected(status: &CacheStatus, why: &str) {
    match status {
        CacheStatus::Rejected { reason, stored: true } if reason.contains(why) => {}
        s => panic!("expected the entry to be rejected ({why}) and replaced, got {s:?}"),
    }
}

/// End to end with the real guest: an entry with one byte of machine code changed is
/// rejected, the guest compiled afresh, the run's output right, the entry rewritten.
#[test]
fn a_tampered_guest_entry_is_never_loaded() {
    let d = TempDir::new("cache");
    let cache = d.path().join("cache");
    assert_eq!(start(&cache).1, CacheStatus::Compiled { stored: true });
    assert_eq!(start(&cache).1, CacheStatus::Loaded);
    let file = entry(&cache);
    let mut bad = std::fs::read(&file).unwrap();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(&file, &bad).unwrap();
    rejected(&start(&cache).1, "tag does not match");
    assert_eq!(start(&cache).1, CacheStatus::Loaded);
}

/// The same rules for any module (small ones compile in milliseconds, so every way
/// of spoiling an entry is tried): `load_or_compile` loads only what it stored.
mod entries {
    use super::*;
    use moonbox_host_wasi::cache::load_or_compile;
    use wasmtime::{Engine, Module};

    /// A module whose one export, `answer`, returns `answer` (0 to 63).
    fn module(answer: u8) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // type 0: (func (result i32)); function 0 of type 0; export "answer"; its code.
        m.extend_from_slice(&[1, 5, 1, 0x60, 0, 1, 0x7f]);
        m.extend_from_slice(&[3, 2, 1, 0]);
        m.extend_from_slice(&[7, 10, 1, 6, b'a', b'n', b's', b'w', b'e', b'r', 0, 0]);
        m.extend_from_slice(&[10, 6, 1, 4, 0, 0x41, answer & 0x3f, 0x0b]);
        m
    }

    fn answer(engine: &Engine, m: &Module) -> i32 {
        let mut store = wasmtime::Store::new(engine, ());
        let i = wasmtime::Instance::new(&mut store, m, &[]).unwrap();
        i.get_typed_func::<(), i32>(&mut store, "answer").unwrap().call(&mut store, ()).unwrap()
    }

    /// Loads (or compiles) module 7 through the cache in `dir`; its status, after
    /// checking that what came back is module 7.
    fn load(engine: &Engine, dir: &Path) -> CacheStatus {
        let (m, status) = load_or_compile(engine, &module(7), Some(dir)).unwrap();
        assert_eq!(answer(engine, &m), 7, "{status:?}");
        status
    }

    #[test]
    fn truncated_replaced_and_forged_entries_are_rejected() {
        let d = TempDir::new("cache-entries");
        let dir = d.path().join("c");
        let engine = Engine::default();
        assert_eq!(load(&engine, &dir), CacheStatus::Compiled { stored: true });
        assert_eq!(load(&engine, &dir), CacheStatus::Loaded);
        let file = entry(&dir);
        let good = std::fs::read(&file).unwrap();
        let spoil = |bytes: &[u8], why: &str| {
            std::fs::write(&file, bytes).unwrap();
            rejected(&load(&engine, &dir), why);
            assert_eq!(load(&engine, &dir), CacheStatus::Loaded, "rewritten after {why}");
        };
        // One byte changed; truncated (the SIGBUS of a mapped file) to half and to
        // almost nothing.
        let mut flipped = good.clone();
        flipped[good.len() / 3] ^= 1;
        spoil(&flipped, "tag does not match");
        spoil(&good[..good.len() / 2], "tag does not match");
        spoil(&good[..7], "too short");
        spoil(b"", "too short");
        // Replaced by code that wasmtime would accept: another module serialized by
        // the same engine, with the old tag kept, with no tag.
        let other = Module::new(&engine, module(42)).unwrap().serialize().unwrap();
        let mut forged = other.clone();
        forged.extend_from_slice(&good[good.len() - 32..]);
        spoil(&forged, "tag does not match");
        let mut untagged = other;
        untagged.extend_from_slice(&[0u8; 32]);
        spoil(&untagged, "tag does not match");
        // An entry stored under another key (another cache, or a key a tenant made).
        let elsewhere = d.path().join("elsewhere");
        assert_eq!(load(&engine, &elsewhere), CacheStatus::Compiled { stored: true });
        spoil(&std::fs::read(entry(&elsewhere)).unwrap(), "tag does not match");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_private_and_a_readable_key_is_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let d = TempDir::new("cache-key");
        let dir = d.path().join("c");
        let engine = Engine::default();
        assert_eq!(load(&engine, &dir), CacheStatus::Compiled { stored: true });
        let key = dir.join("key");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(entry(&dir)).unwrap().permissions().mode() & 0o777, 0o600);
        // A key that others could have read is no secret: a new one is made, and the
        // entries tagged with the old one no longer load.
        let old = std::fs::read(&key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        rejected(&load(&engine, &dir), "tag does not match");
        assert_ne!(std::fs::read(&key).unwrap(), old);
        assert_eq!(load(&engine, &dir), CacheStatus::Loaded);
        // A key with a second link (one a tenant could read through) is replaced too.
        std::fs::hard_link(&key, d.path().join("link")).unwrap();
        rejected(&load(&engine, &dir), "tag does not match");
        assert_eq!(load(&engine, &dir), CacheStatus::Loaded);
    }
}

#[test]
fn grants_that_cover_the_cache_are_refused() {
    let d = TempDir::new("cache-grants");
    let home = d.path().join("home");
    let cache = home.join(".cache/moonbox");
    let work = home.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (s, _) = start(&cache);
    let script = Script::source("t.lua", "print(1)");
    let refused = |t: Tenant| {
        let e = s.check_grants(&t).expect_err("the grant covers the cache");
        assert!(matches!(e, GrantError::Reserved { .. }), "{e:?}");
        let msg = s.run(&t, &script, &[]).expect_err("run refuses it").to_string();
        assert!(msg.contains("compiled-code cache") && msg.contains("MOONBOX_CACHE_DIR"), "{msg}");
    };
    refused(Tenant::new().allow_write(&home).unwrap());
    refused(Tenant::new().allow_read(&home).unwrap());
    refused(Tenant::new().allow_read(d.path()).unwrap());
    refused(Tenant::new().allow_read(&cache).unwrap());
    refused(Tenant::new().allow_read("/").unwrap());
    refused(Tenant::new().allow_read(&work).unwrap().allow_write(home.join(".cache")).unwrap());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&home, d.path().join("alias")).unwrap();
        refused(Tenant::new().allow_write(d.path().join("alias")).unwrap());
        // A grant at another guest path, given by hand.
        refused(Tenant::new().grant_at(&home, "/data", true));
    }
    // A sibling of the cache is fine.
    let r = s.run(&Tenant::new().allow_write(&work).unwrap(), &script, &[]).unwrap();
    assert_eq!(r.outcome, Outcome::Ok);
    // Without a cache there is nothing to protect.
    let off = Sandbox::with_config(SandboxConfig { cache_dir: None, ..config(&cache) }).unwrap();
    assert_eq!(off.cache_status(), &CacheStatus::Off);
    assert!(off.check_grants(&Tenant::new().allow_write(&home).unwrap()).is_ok());
}

#[test]
fn the_command_line_refuses_a_grant_over_the_cache() {
    let d = TempDir::new("cache-cli");
    let cache = d.path().join(".cache/moonbox");
    let out = Command::new(env!("CARGO_BIN_EXE_moonbox-sandbox"))
        .env("MOONBOX_CACHE_DIR", &cache)
        .current_dir(d.path())
        .args(["--allow-write", ".", "-e", "print('ran')"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.starts_with(&format!("moonbox: cannot grant {}: it contains moonbox's compiled-code cache", d.lua())),
        "{err}"
    );
    // Elsewhere, the same command runs.
    std::fs::create_dir(d.path().join("w")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_moonbox-sandbox"))
        .env("MOONBOX_CACHE_DIR", &cache)
        .current_dir(d.path())
        .args(["--allow-write", "w", "-e", "print('ran')"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n", "{}", String::from_utf8_lossy(&out.stderr));
}

/// A grant of a directory that does not exist fails as such, not as a cache refusal.
#[test]
fn a_missing_directory_is_not_called_the_cache() {
    let d = TempDir::new("cache-missing");
    let (s, _) = start(&d.path().join("cache"));
    let t = Tenant::new().grant_at(d.path().join("missing"), "/data", false);
    assert!(s.check_grants(&t).is_ok());
    let msg = s.run(&t, &Script::source("t.lua", "print(1)"), &[]).expect_err("cannot open it").to_string();
    assert!(!msg.contains("cache"), "{msg}");
}
