//! What a state may reach outside itself: the plain data the libraries are opened
//! with ([`open_with`](super::open_with)). The embedding facade wraps it as
//! `moonbox::Capabilities`.
//!
//! Contract: a library function that touches the outside world is *registered only
//! when granted*; a state without a capability has no function for it (no stub that
//! raises). The one exception is file access through directory grants, which keeps
//! `io.open`, `io.lines`, `loadfile`, `dofile` and `require`'s Lua searcher, and makes
//! them open files through [`super::fs::FileAccess`].

use std::path::PathBuf;

/// How much of the `debug` library a state gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugLevel {
    /// The whole library (`getinfo`, `getlocal`, `sethook`, `getregistry`, ...).
    Full,
    /// `debug.traceback` only.
    Traceback,
}

/// Resolution of `os.clock` (CPU time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockResolution {
    /// As precise as the platform gives.
    Precise,
    /// Rounded down to whole milliseconds, so untrusted code cannot time fine-grained
    /// effects (`os.time` and `os.date` have whole seconds anyway).
    Coarse,
}

/// How much of LuaJIT's `ffi` library a state gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FfiLevel {
    /// No `ffi` module (`require("ffi")` fails) and no cdata; 64-bit literals
    /// (`1LL`) still compile, but every operation on them fails.
    Off,
    /// C data only: cdata, structs, arrays and byte buffers, 64-bit integers,
    /// metatypes, `ffi.gc`; every access through a pointer is checked against the
    /// live cdata objects of the state, and casts from numbers to pointers are
    /// refused. `ffi.C` resolves nothing and `ffi.load` fails: both raise a
    /// capability error (the one exception to "absent, not raising").
    Data,
    /// Everything, as LuaJIT: `ffi.C` (the process's symbols), `ffi.load`, calls
    /// into C and callbacks, and raw pointers (a wrong one may crash the process).
    Calls,
}

/// One file-system grant: a directory, and whether files in it may be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirGrant {
    /// The directory (relative paths are taken against the working directory when the
    /// state is created).
    pub path: PathBuf,
    /// Write modes (`w`, `a`, `+`) allowed too.
    pub writable: bool,
}

/// What a state gets. [`Caps::full`] is the trusted set (like the `luajit` command);
/// [`Caps::sandboxed`] the set for untrusted code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caps {
    /// The whole `io` library with ambient file access: `io.open` of any path, the
    /// standard streams (`io.read`, `io.write`, `io.stdin`, ...), `io.input`/`io.output`,
    /// `io.tmpfile`; and `loadfile`/`dofile` of any path or stdin.
    pub io: bool,
    /// `io.popen` (needs `io`).
    pub popen: bool,
    /// `os.execute`, `os.exit`, `os.getenv`, `os.remove`, `os.rename`, `os.tmpname`, and
    /// `package.path`/`cpath` taken from `LUA_PATH`/`LUA_CPATH`.
    pub os: bool,
    /// `require` searching `package.path` and `package.cpath` anywhere in the file
    /// system, `package.loadlib`, `package.searchpath`.
    pub package_paths: bool,
    /// The `debug` library.
    pub debug: DebugLevel,
    /// `load`, `loadstring`, `loadfile` and `require` accept binary chunks.
    pub binary_chunks: bool,
    /// `string.dump`.
    pub string_dump: bool,
    /// `os.clock` resolution.
    pub clock: ClockResolution,
    /// Directories whose files the state may open even without `io`: `io.open`,
    /// `io.lines`, `loadfile`, `dofile`, `require` (Lua modules) and
    /// `package.searchpath` reach them, and nothing else.
    pub dirs: Vec<DirGrant>,
    /// How much of the `ffi` library the state gets.
    pub ffi: FfiLevel,
    /// The trace JIT may run machine code it generates for this state. Off in
    /// [`Caps::sandboxed`]: untrusted code never runs native code we generated (the
    /// sandbox's trace JIT is the Wasm one, contained by Wasm).
    pub jit: bool,
}

impl Caps {
    /// Everything: the standard library of the `luajit` command.
    pub fn full() -> Caps {
        Caps {
            io: true,
            popen: true,
            os: true,
            package_paths: true,
            debug: DebugLevel::Full,
            binary_chunks: true,
            string_dump: true,
            clock: ClockResolution::Precise,
            dirs: Vec::new(),
            ffi: FfiLevel::Calls,
            jit: true,
        }
    }

    /// The safe set: no io, no os side effects, no binary chunks or `string.dump`,
    /// `debug.traceback` only, `require` from `package.preload` only, coarse clock.
    pub fn sandboxed() -> Caps {
        Caps {
            io: false,
            popen: false,
            os: false,
            package_paths: false,
            debug: DebugLevel::Traceback,
            binary_chunks: false,
            string_dump: false,
            clock: ClockResolution::Coarse,
            dirs: Vec::new(),
            ffi: FfiLevel::Data,
            jit: false,
        }
    }

    /// Files can be opened at all (ambiently or through a grant).
    pub fn any_files(&self) -> bool {
        self.io || !self.dirs.is_empty()
    }
}

impl Default for Caps {
    fn default() -> Caps {
        Caps::full()
    }
}
