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

#[test]
fn tampered_truncated_and_replaced_entries_are_never_loaded() {
    let d = TempDir::new("cache");
    let cache = d.path().join("cache");
    assert_eq!(start(&cache).1, CacheStatus::Compiled { stored: true });
    assert_eq!(start(&cache).1, CacheStatus::Loaded);
    let file = entry(&cache);
    let good = std::fs::read(&file).unwrap();

    // One byte of machine code changed.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(&file, &bad).unwrap();
    rejected(&start(&cache).1, "tag does not match");
    assert_eq!(start(&cache).1, CacheStatus::Loaded);

    // Truncated (the SIGBUS of a mapped file), to half and to almost nothing.
    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    rejected(&start(&cache).1, "tag does not match");
    std::fs::write(&file, &good[..7]).unwrap();
    rejected(&start(&cache).1, "too short");
    std::fs::write(&file, b"").unwrap();
    rejected(&start(&cache).1, "too short");

    // Replaced by code that wasmtime would accept: another module serialized by the
    // same engine configuration, with the old tag kept, or with a tag of its own
    // under a key the attacker chose.
    let (s, _) = start(&cache);
    let empty_module = wasmtime::Module::new(s.engine(), b"\0asm\x01\0\0\0").unwrap().serialize().unwrap();
    drop(s);
    let mut forged = empty_module.clone();
    forged.extend_from_slice(&good[good.len() - 32..]);
    std::fs::write(&file, &forged).unwrap();
    rejected(&start(&cache).1, "tag does not match");
    let mut unauthenticated = empty_module.clone();
    unauthenticated.extend_from_slice(&[0u8; 32]);
    std::fs::write(&file, &unauthenticated).unwrap();
    rejected(&start(&cache).1, "tag does not match");

    // An entry made under another key (another user's cache, or a key the tenant
    // wrote itself) does not verify under this one.
    let other = d.path().join("other-cache");
    assert_eq!(start(&other).1, CacheStatus::Compiled { stored: true });
    std::fs::copy(entry(&other), &file).unwrap();
    rejected(&start(&cache).1, "tag does not match");
    assert_eq!(start(&cache).1, CacheStatus::Loaded);
}

#[cfg(unix)]
#[test]
fn the_key_is_private_and_a_readable_key_is_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("cache-key");
    let cache = d.path().join("cache");
    assert_eq!(start(&cache).1, CacheStatus::Compiled { stored: true });
    let key = cache.join("key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(entry(&cache)).unwrap().permissions().mode() & 0o777, 0o600);
    // A key that others could have read is no secret: a new one is made, and the
    // entries tagged with the old one no longer load.
    let old = std::fs::read(&key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    rejected(&start(&cache).1, "tag does not match");
    assert_ne!(std::fs::read(&key).unwrap(), old);
    assert_eq!(start(&cache).1, CacheStatus::Loaded);
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
