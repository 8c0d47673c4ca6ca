//! The compilation cache of the guest.
//!
//! Compiling the engine's Wasm build with Cranelift takes seconds; a command-line
//! run must not pay that each time. The compiled code is kept in
//! `$MOONBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/moonbox`, else `~/.cache/moonbox`,
//! under a name that hashes the Wasm bytes, the wasmtime version and the engine's
//! compatibility settings. `MOONBOX_CACHE_DIR=off` disables it.
//!
//! A cache entry is machine code that the host will execute, so it is treated as
//! hostile until proven otherwise. The threat is a tenant with a write grant that
//! reaches the file (`--allow-write ~`): it could truncate the file while the host has
//! it mapped (SIGBUS in the host) or replace it with its own machine code (run
//! natively by the next host). Three rules, each enough against a tenant on its own:
//!
//! 1. **No grant reaches the cache.** [`covers`] tells whether a directory is the
//!    cache directory, one of its ancestors or inside it (compared by device and
//!    inode, so another path, a symlink or a bind mount of the same directory is
//!    caught); `Sandbox::run` refuses such grants, read-only ones too (the key must
//!    stay secret).
//! 2. **Entries are authenticated.** Each file is the serialized module followed by
//!    an HMAC-SHA256 over its name and bytes, keyed by a per-user secret (`key` in the
//!    cache directory: 32 random bytes, mode 0600, in a 0700 directory that no grant
//!    may cover). A file whose tag does not verify is ignored and rewritten.
//! 3. **Nothing is mapped from the file.** It is read whole into memory (bounded by
//!    [`MAX_ENTRY_BYTES`]), checked, and only then handed to wasmtime, which copies
//!    the code into memory of its own: a file truncated or rewritten meanwhile
//!    changes nothing that the host runs.
//!
//! When in doubt — a missing or malformed key, a short file, a bad tag, any I/O
//! error, wasmtime refusing the bytes — the guest is compiled afresh.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// The largest cache entry read (the compiled guest is about 10 MB).
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;
/// The length of the authentication tag at the end of an entry.
const TAG_BYTES: usize = 32;
/// The name of the key file inside the cache directory.
const KEY_FILE: &str = "key";

/// The cache directory named by the environment, if caching is on.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("MOONBOX_CACHE_DIR") {
        Some(d) if d == "off" => return None,
        Some(d) if !d.is_empty() => return Some(PathBuf::from(d)),
        _ => {}
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("moonbox"));
    }
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache/moonbox"))
}

/// Where the guest came from when a sandbox was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// No cache directory: compiled.
    Off,
    /// Loaded from an authenticated cache entry.
    Loaded,
    /// No usable entry: compiled, and stored if `stored`.
    Compiled {
        /// Whether the new entry was written.
        stored: bool,
    },
    /// An entry was there but refused (the reason); compiled, and stored if `stored`.
    Rejected {
        /// Why the entry was not used.
        reason: String,
        /// Whether a fresh entry replaced it.
        stored: bool,
    },
}

/// The guest compiled for `engine`: from the cache in `dir` when it holds an
/// authentic entry, else compiled now (and stored, best effort).
pub fn load_or_compile(engine: &Engine, wasm: &[u8], dir: Option<&Path>) -> wasmtime::Result<(Module, CacheStatus)> {
    let Some(dir) = dir else { return Ok((Module::new(engine, wasm)?, CacheStatus::Off)) };
    let Ok(key) = ensure_dir(dir).and_then(|()| load_or_create_key(dir)) else {
        return Ok((Module::new(engine, wasm)?, CacheStatus::Compiled { stored: false }));
    };
    let name = entry_name(engine, wasm);
    let file = dir.join(&name);
    let rejected = match read_entry(&file, &name, &key) {
        Ok(Some(bytes)) => {
            // SAFETY: `Module::deserialize` requires bytes that `Module::serialize`
            // produced for a compatible engine (it checks the header, the wasmtime
            // version and the engine's settings itself, but trusts the machine code).
            // These bytes carry a valid HMAC-SHA256 tag under the user's secret key,
            // and only `store_entry` below computes such tags, over the output of
            // `serialize` of a module compiled from these Wasm bytes by this engine
            // configuration (both are in the entry's name, which the tag covers). The
            // key cannot have reached a tenant: it lives in the 0700 cache directory,
            // which `Sandbox::run` refuses to grant, read-only or writable, under any
            // path (`ProtectedDir` compares directory identities), and a key file that
            // is not 0600, not the directory owner's, or has a second link is replaced
            // before use. So only this user's own processes, which may run any code
            // anyway, can have written an entry that verifies. The bytes are a private
            // copy in memory, already verified, so nothing can change them after the
            // check (the file is never mapped: truncating or rewriting it cannot
            // affect this module).
            match unsafe { Module::deserialize(engine, &bytes) } {
                Ok(m) => return Ok((m, CacheStatus::Loaded)),
                Err(e) => Some(format!("wasmtime refused the entry: {e}")),
            }
        }
        Ok(None) => None,
        Err(reason) => Some(reason),
    };
    let module = Module::new(engine, wasm)?;
    let stored = module.serialize().is_ok_and(|bytes| store_entry(dir, &file, &name, &key, &bytes).is_ok());
    let status = match rejected {
        Some(reason) => CacheStatus::Rejected { reason, stored },
        None => CacheStatus::Compiled { stored },
    };
    Ok((module, status))
}

/// The entry's file name: a hash of the Wasm bytes, the engine's compatibility
/// settings and this crate's version.
fn entry_name(engine: &Engine, wasm: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(wasm);
    let mut settings = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut settings);
    h.update(std::hash::Hasher::finish(&settings).to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    let d = h.finalize();
    let hex: String = d[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("guest-{hex}.cwasm")
}

/// The entry's bytes if the file exists and its tag verifies; `Ok(None)` if there is
/// no file; `Err(reason)` if there is one that must not be used.
fn read_entry(file: &Path, name: &str, key: &[u8; 32]) -> Result<Option<Vec<u8>>, String> {
    let f = match File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot open: {e}")),
    };
    let mut bytes = Vec::new();
    // One byte more than the largest entry, to tell "too long" from "exactly full".
    f.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err("too long".into());
    }
    let Some(split) = bytes.len().checked_sub(TAG_BYTES).filter(|&n| n > 0) else {
        return Err(format!("too short ({} bytes)", bytes.len()));
    };
    let expected = tag(key, name, &bytes[..split]);
    if !constant_time_eq(&expected, &bytes[split..]) {
        return Err("authentication tag does not match".into());
    }
    bytes.truncate(split);
    Ok(Some(bytes))
}

/// Writes `bytes` and their tag into a temporary file and renames it into place
/// whole (a new inode: a hard link someone made to an older entry keeps the old one).
fn store_entry(dir: &Path, file: &Path, name: &str, key: &[u8; 32], bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}-{}-{:?}.tmp", std::process::id(), std::thread::current().id()));
    let r = (|| {
        let mut f = private_file(&tmp)?;
        f.write_all(bytes)?;
        f.write_all(&tag(key, name, bytes))?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// HMAC-SHA256 (RFC 2104) of the entry name, a separator and the bytes.
fn tag(key: &[u8; 32], name: &str, bytes: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new().chain_update(ipad).chain_update(name.as_bytes()).chain_update([0]).chain_update(bytes);
    let outer = Sha256::new().chain_update(opad).chain_update(inner.finalize());
    outer.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Creates the cache directory (mode 0700 on Unix) if it is missing.
fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// A new file that only the user can read and write (fails if it exists).
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// The user's cache key: read if it is a private regular file of exactly 32 bytes
/// owned by this user with a single link, else made afresh (replacing one that
/// fails those checks, which invalidates every entry tagged with it).
fn load_or_create_key(dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = dir.join(KEY_FILE);
    if let Some(key) = read_key(&path) {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".key-{}-{:?}.tmp", std::process::id(), std::thread::current().id()));
    let r = (|| {
        let mut f = private_file(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()?;
        // A key that another process made meanwhile wins (the link fails): read it.
        match std::fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(key),
            Err(_) => match read_key(&path) {
                Some(k) => Ok(k),
                None => {
                    std::fs::rename(&tmp, &path)?;
                    Ok(key)
                }
            },
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    r
}

fn read_key(path: &Path) -> Option<[u8; 32]> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() != 32 {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata(path.parent()?).ok()?.uid();
        if meta.mode() & 0o077 != 0 || meta.nlink() != 1 || meta.uid() != uid {
            return None;
        }
    }
    let mut key = [0u8; 32];
    File::open(path).ok()?.read_exact(&mut key).ok()?;
    Some(key)
}

/// Whether a grant of `dir` would reach `protected`: `dir` is `protected`, one of its
/// ancestors, or inside it. Directories are compared by identity (device and inode
/// on Unix), so a second path to the same directory (a symlink, a bind mount) is
/// caught too. A directory that cannot be inspected counts as covering (refused).
pub fn covers(dir: &Path, protected: &Path) -> bool {
    ProtectedDir::new(protected).is_none_or(|p| p.covered_by(dir))
}

/// A directory no grant may cover, with the identities of it and its ancestors
/// taken once (a sandbox checks every run's grants against it).
#[derive(Debug, Clone)]
pub struct ProtectedDir {
    path: PathBuf,
    /// The directory's identity first, then its ancestors', up to the root.
    chain: Vec<DirId>,
}

impl ProtectedDir {
    /// `None` if `dir` cannot be inspected.
    pub fn new(dir: &Path) -> Option<ProtectedDir> {
        let path = std::fs::canonicalize(dir).ok()?;
        let chain = path.ancestors().map(dir_id).collect::<Option<Vec<_>>>()?;
        Some(ProtectedDir { path, chain })
    }

    /// The directory (canonical).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a grant of `dir` would reach this directory (see [`covers`]).
    pub fn covered_by(&self, dir: &Path) -> bool {
        let Ok(dir) = std::fs::canonicalize(dir) else { return true };
        let mut ancestors = dir.ancestors();
        let Some(first) = ancestors.next().and_then(dir_id) else { return true };
        // `dir` is this directory or an ancestor of it ...
        if self.chain.contains(&first) {
            return true;
        }
        // ... or this directory is an ancestor of `dir`.
        for a in ancestors {
            match dir_id(a) {
                Some(id) if id == self.chain[0] => return true,
                Some(_) => {}
                None => return true,
            }
        }
        false
    }
}

#[cfg(unix)]
type DirId = (u64, u64);
#[cfg(not(unix))]
type DirId = PathBuf;

#[cfg(unix)]
fn dir_id(p: &Path) -> Option<DirId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn dir_id(p: &Path) -> Option<DirId> {
    Some(p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231, test case 2 uses a 4-byte key; our keys are 32 bytes, so check
        // the construction against case 1 padded the way HMAC pads: key 0x0b * 20.
        let mut key = [0u8; 32];
        key[..20].fill(0x0b);
        // HMAC(key, "Hi There") with the name "Hi There" and no bytes would add the
        // separator, so compare the raw construction instead.
        let raw = |key: &[u8; 32], msg: &[u8]| {
            let mut ipad = [0x36u8; 64];
            let mut opad = [0x5cu8; 64];
            for (i, k) in key.iter().enumerate() {
                ipad[i] ^= k;
                opad[i] ^= k;
            }
            let inner = Sha256::new().chain_update(ipad).chain_update(msg).finalize();
            let out: [u8; 32] = Sha256::new().chain_update(opad).chain_update(inner).finalize().into();
            out
        };
        let hex: String = raw(&key, b"Hi There").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        let mut msg = b"n".to_vec();
        msg.push(0);
        msg.extend_from_slice(b"bytes");
        assert_eq!(tag(&key, "n", b"bytes"), raw(&key, &msg));
    }

    #[test]
    fn covers_ancestors_itself_and_descendants_only() {
        let base = std::env::temp_dir().join(format!("moonbox-covers-{}", std::process::id()));
        let cache = base.join("home/.cache/moonbox");
        std::fs::create_dir_all(cache.join("sub")).unwrap();
        std::fs::create_dir_all(base.join("home/work")).unwrap();
        assert!(covers(&base.join("home"), &cache));
        assert!(covers(&base, &cache));
        assert!(covers(&cache, &cache));
        assert!(covers(&cache.join("sub"), &cache));
        assert!(covers(Path::new("/"), &cache));
        assert!(!covers(&base.join("home/work"), &cache));
        #[cfg(unix)]
        {
            // Another path to the same directory.
            std::os::unix::fs::symlink(base.join("home"), base.join("alias")).unwrap();
            assert!(covers(&base.join("alias"), &cache));
        }
        assert!(covers(&base.join("missing"), &cache), "what cannot be inspected is refused");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
