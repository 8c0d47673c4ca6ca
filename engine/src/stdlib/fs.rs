//! Opening files under the state's capabilities: ambiently (the trusted set), or
//! only inside directory grants.
//!
//! Natively a grant is a cap-std [`Dir`](cap_std::fs::Dir) opened when the state is
//! created, and a file is opened *relative to that handle*, so `..`, absolute paths
//! and symlinks that point out of the directory are refused by cap-std's resolution,
//! not by string checks. A path picks its grant by prefix: an absolute path (a
//! relative one is first joined to the working directory) belongs to the grant
//! whose directory is its longest leading run of components; the rest of the path is
//! opened in that grant. A path in no grant, a write to a read-only grant, and an
//! escape all fail as "Permission denied" (EACCES), the way the C library reports a
//! file it may not open.
//!
//! On wasm targets there is no cap-std: file access is what the WASI host preopened
//! (which resolves paths with the same cap-std rules), and the grant is still matched
//! here so read-only grants and paths outside every grant behave the same.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::caps::DirGrant;

/// How a file is to be opened (the `fopen` mode, decoded).
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenFlags {
    pub read: bool,
    pub write: bool,
    pub append: bool,
    pub create: bool,
    pub truncate: bool,
    pub create_new: bool,
}

impl OpenFlags {
    /// Read only.
    pub fn read() -> OpenFlags {
        OpenFlags { read: true, ..OpenFlags::default() }
    }

    fn writes(&self) -> bool {
        self.write || self.append || self.create || self.truncate || self.create_new
    }
}

struct Grant {
    /// Absolute, without `.` components or a trailing separator.
    path: PathBuf,
    writable: bool,
    #[cfg(not(target_family = "wasm"))]
    dir: Result<cap_std::fs::Dir, io::ErrorKind>,
}

/// The state's file access.
pub struct FileAccess {
    ambient: bool,
    grants: Vec<Grant>,
}

impl Default for FileAccess {
    /// Ambient access (the trusted set).
    fn default() -> FileAccess {
        FileAccess { ambient: true, grants: Vec::new() }
    }
}

fn denied() -> io::Error {
    io::Error::from(io::ErrorKind::PermissionDenied)
}

/// `p` made absolute (against the working directory) with `.` components dropped.
fn absolute(p: &Path) -> io::Result<PathBuf> {
    let joined = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir()?.join(p) };
    Ok(joined.components().filter(|c| !matches!(c, Component::CurDir)).collect())
}

impl FileAccess {
    /// Ambient access if `ambient`, else only `grants` (opened now).
    pub fn new(ambient: bool, grants: &[DirGrant]) -> FileAccess {
        let grants = grants
            .iter()
            .map(|g| {
                let path = absolute(&g.path).unwrap_or_else(|_| g.path.clone());
                #[cfg(not(target_family = "wasm"))]
                let dir = cap_std::fs::Dir::open_ambient_dir(&path, cap_std::ambient_authority()).map_err(|e| e.kind());
                Grant {
                    path,
                    writable: g.writable,
                    #[cfg(not(target_family = "wasm"))]
                    dir,
                }
            })
            .collect();
        FileAccess { ambient, grants }
    }

    /// Whether files can be opened at all.
    pub fn any(&self) -> bool {
        self.ambient || !self.grants.is_empty()
    }

    /// Whether access is ambient (no grant checks).
    pub fn is_ambient(&self) -> bool {
        self.ambient
    }

    /// Opens `path` with `flags`, ambiently or through the grant that holds it.
    pub fn open(&self, path: &Path, flags: OpenFlags) -> io::Result<std::fs::File> {
        if self.ambient {
            return std_options(flags).open(path);
        }
        let abs = absolute(path)?;
        let (grant, rest) = self.grant_of(&abs).ok_or_else(denied)?;
        if flags.writes() && !grant.writable {
            return Err(denied());
        }
        open_in(grant, &rest, flags)
    }

    /// The grant holding `abs` (the longest matching directory), and the path inside it.
    fn grant_of(&self, abs: &Path) -> Option<(&Grant, PathBuf)> {
        self.grants
            .iter()
            .filter_map(|g| abs.strip_prefix(&g.path).ok().map(|rest| (g, rest.to_path_buf())))
            .max_by_key(|(g, _)| g.path.components().count())
    }
}

fn std_options(f: OpenFlags) -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.read(f.read).write(f.write).append(f.append).create(f.create).truncate(f.truncate).create_new(f.create_new);
    o
}

#[cfg(not(target_family = "wasm"))]
fn open_in(grant: &Grant, rest: &Path, f: OpenFlags) -> io::Result<std::fs::File> {
    let dir = grant.dir.as_ref().map_err(|&k| io::Error::from(k))?;
    let rest = if rest.as_os_str().is_empty() { Path::new(".") } else { rest };
    let mut o = cap_std::fs::OpenOptions::new();
    o.read(f.read).write(f.write).append(f.append).create(f.create).truncate(f.truncate).create_new(f.create_new);
    match dir.open_with(rest, &o) {
        Ok(file) => Ok(file.into_std()),
        // cap-std reports an escape (through `..`, an absolute symlink, ...) as an error
        // without an OS code: the C library would say EACCES.
        Err(e) if e.raw_os_error().is_none() && e.kind() == io::ErrorKind::PermissionDenied => Err(denied()),
        Err(e) => Err(e),
    }
}

#[cfg(target_family = "wasm")]
fn open_in(grant: &Grant, rest: &Path, f: OpenFlags) -> io::Result<std::fs::File> {
    std_options(f).open(grant.path.join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_is_the_longest_prefix() {
        let fa = FileAccess::new(
            false,
            &[
                DirGrant { path: "/nonexistent-a".into(), writable: false },
                DirGrant { path: "/nonexistent-a/b".into(), writable: true },
            ],
        );
        let (g, rest) = fa.grant_of(Path::new("/nonexistent-a/b/c.txt")).unwrap();
        assert!(g.writable);
        assert_eq!(rest, Path::new("c.txt"));
        let (g, rest) = fa.grant_of(Path::new("/nonexistent-a/bc")).unwrap();
        assert!(!g.writable);
        assert_eq!(rest, Path::new("bc"));
        assert!(fa.grant_of(Path::new("/elsewhere")).is_none());
        let e = fa.open(Path::new("/elsewhere/x"), OpenFlags::read()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let e = fa.open(Path::new("/nonexistent-a/x"), OpenFlags { write: true, ..OpenFlags::default() }).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
    }
}
