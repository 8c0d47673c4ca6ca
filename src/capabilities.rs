//! [`Capabilities`]: what a state may reach outside itself.

use std::path::PathBuf;

use moonbox_engine::stdlib::caps::{Caps, DirGrant};
pub use moonbox_engine::stdlib::caps::{ClockResolution, DebugLevel, FfiLevel};

/// What a Lua state gets: which libraries and functions that touch the outside world
/// exist in it, and which directories it may open files in.
///
/// A function that is not granted is not there at all (`os.execute == nil`), rather
/// than there and failing. Start from [`Capabilities::full`] (what [`Lua::new`] uses:
/// the trusted set of the `luajit` command) or [`Capabilities::sandboxed`] (what
/// [`Lua::sandboxed`] uses) and adjust with the builder methods; then create the state
/// with [`Lua::with_capabilities`] or [`Lua::new_with`].
///
/// | capability | `full()` | `sandboxed()` | what it covers |
/// | --- | --- | --- | --- |
/// | [`io`](Self::io) | yes | no | the whole `io` library with ambient file access, the standard streams; `loadfile`/`dofile` of any file or stdin |
/// | [`popen`](Self::popen) | yes | no | `io.popen` (with `io`) |
/// | [`os`](Self::os) | yes | no | `os.execute`, `exit`, `getenv`, `remove`, `rename`, `tmpname`; `LUA_PATH`/`LUA_CPATH` |
/// | [`package_paths`](Self::package_paths) | yes | no | `require` from `package.path`/`cpath` anywhere, `package.loadlib`, `package.searchpath` |
/// | [`debug`](Self::debug) | `Full` | `Traceback` | the `debug` library, or `debug.traceback` alone |
/// | [`binary_chunks`](Self::binary_chunks) | yes | no | `load` & co. accept precompiled chunks |
/// | [`string_dump`](Self::string_dump) | yes | no | `string.dump` |
/// | [`clock`](Self::clock) | `Precise` | `Coarse` | `os.clock` resolution (coarse: whole milliseconds) |
/// | [`gc_control`](Self::gc_control) | yes | no | `collectgarbage("stop"/"setpause"/"setstepmul")` |
/// | [`ffi`](Self::ffi) | `Calls` | `Data` | LuaJIT's `ffi`: off, C data only (cdata, structs, buffers, 64-bit integers; pointers checked against the state's own cdata), or C calls too (`ffi.C`, `ffi.load`, raw pointers) |
/// | [`allow_read`](Self::allow_read), [`allow_write`](Self::allow_write) | none | none | directory grants |
///
/// `print`, `string`, `table`, `math`, `bit`, `coroutine`, `jit`, `os.time`,
/// `os.date`, `os.clock`, `os.difftime` and `require` of `package.preload` modules are
/// always there.
///
/// # Directory grants
///
/// Without `io`, a grant keeps `io.open`, `io.lines`, `io.close`, `io.type` (files
/// only: no standard streams), `loadfile`, `dofile`, `require` of Lua modules and
/// `package.searchpath`, and lets them open files inside the granted directories and
/// nowhere else. Natively, files are opened through cap-std directory handles: `..`,
/// absolute paths outside the grant and symlinks that point out of it cannot escape.
/// A refused file looks as the C library would report it: `io.open` returns
/// `nil, "<path>: Permission denied", 13`. A read-only grant refuses the write modes
/// (`w`, `a`, `+`) the same way. Relative paths are taken against the working
/// directory. With `io` granted, access is ambient and grants add nothing.
///
/// ```
/// use moonbox::{Capabilities, Lua};
///
/// let dir = std::env::temp_dir().join(format!("moonbox-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("in.txt"), "hello")?;
///
/// let lua = Lua::with_capabilities(Capabilities::sandboxed().allow_read(&dir));
/// lua.globals().set("dir", dir.to_str().unwrap())?;
/// let text: String = lua.load("return io.open(dir .. '/in.txt'):read('*a')").eval()?;
/// assert_eq!(text, "hello");
/// // Read-only: no writing, and nothing outside the grant.
/// let (ok, msg): (Option<bool>, String) = lua.load("return io.open(dir .. '/out.txt', 'w')").eval()?;
/// assert!(ok.is_none() && msg.ends_with("out.txt: Permission denied"));
/// let (ok, msg): (Option<bool>, String) = lua.load("return io.open(dir .. '/../x.txt')").eval()?;
/// assert!(ok.is_none() && msg.ends_with("Permission denied"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Adjusting the sandboxed set:
///
/// ```
/// use moonbox::{Capabilities, DebugLevel, Lua};
///
/// let lua = Lua::with_capabilities(Capabilities::sandboxed().debug(DebugLevel::Full));
/// let (getinfo, execute): (bool, bool) =
///     lua.load("return debug.getinfo ~= nil, os.execute ~= nil").eval()?;
/// assert!(getinfo && !execute);
/// # Ok::<(), moonbox::Error>(())
/// ```
///
/// [`Lua::new`]: crate::Lua::new
/// [`Lua::sandboxed`]: crate::Lua::sandboxed
/// [`Lua::with_capabilities`]: crate::Lua::with_capabilities
/// [`Lua::new_with`]: crate::Lua::new_with
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub(crate) caps: Caps,
    pub(crate) gc_control: bool,
}

impl Default for Capabilities {
    /// [`Capabilities::full`].
    fn default() -> Capabilities {
        Capabilities::full()
    }
}

impl Capabilities {
    /// Everything, for trusted code: the standard library of the `luajit` command.
    pub fn full() -> Capabilities {
        Capabilities { caps: Caps::full(), gc_control: true }
    }

    /// The safe set for untrusted code: no `io`, no `os` side effects, no binary chunks
    /// or `string.dump`, `debug.traceback` only, `require` from `package.preload`
    /// only, a coarse `os.clock`, a `collectgarbage` that cannot stop the collector,
    /// and no directory grants.
    pub fn sandboxed() -> Capabilities {
        Capabilities { caps: Caps::sandboxed(), gc_control: false }
    }

    /// The whole `io` library with ambient file access (see the table above).
    pub fn io(mut self, on: bool) -> Capabilities {
        self.caps.io = on;
        self
    }

    /// `io.popen` (only together with [`io`](Self::io)).
    pub fn popen(mut self, on: bool) -> Capabilities {
        self.caps.popen = on;
        self
    }

    /// The `os` functions with side effects: `execute`, `exit`, `getenv`, `remove`,
    /// `rename`, `tmpname` (and reading `LUA_PATH`/`LUA_CPATH`).
    pub fn os(mut self, on: bool) -> Capabilities {
        self.caps.os = on;
        self
    }

    /// `require` of files found anywhere on `package.path`/`package.cpath`,
    /// `package.loadlib` and `package.searchpath`.
    pub fn package_paths(mut self, on: bool) -> Capabilities {
        self.caps.package_paths = on;
        self
    }

    /// The whole `debug` library, or only `debug.traceback`.
    pub fn debug(mut self, level: DebugLevel) -> Capabilities {
        self.caps.debug = level;
        self
    }

    /// Whether `load`, `loadstring`, `loadfile` and `require` accept binary chunks
    /// (precompiled bytecode, which is verified before it runs).
    pub fn binary_chunks(mut self, on: bool) -> Capabilities {
        self.caps.binary_chunks = on;
        self
    }

    /// `string.dump`.
    pub fn string_dump(mut self, on: bool) -> Capabilities {
        self.caps.string_dump = on;
        self
    }

    /// The resolution of `os.clock`.
    pub fn clock(mut self, resolution: ClockResolution) -> Capabilities {
        self.caps.clock = resolution;
        self
    }

    /// `collectgarbage("stop")`, `"setpause"` and `"setstepmul"`, which let a script
    /// stop or slow the collector. (A state with a memory limit refuses them anyway.)
    pub fn gc_control(mut self, on: bool) -> Capabilities {
        self.gc_control = on;
        self
    }

    /// Whether the trace JIT may compile this state's hot loops to machine code (on
    /// in [`Capabilities::full`] where the native backend exists, x86-64; off in
    /// [`Capabilities::sandboxed`]: untrusted code never runs native code we
    /// generated). Without it `jit.status()` is false and everything is interpreted.
    pub fn jit(mut self, on: bool) -> Capabilities {
        self.caps.jit = on;
        self
    }

    /// How much of the `ffi` library the state gets (see [`FfiLevel`]). Untrusted
    /// code should get at most [`FfiLevel::Data`]: every pointer access is then
    /// checked against the state's own cdata objects, casts from numbers to
    /// pointers are refused, and `ffi.C` and `ffi.load` raise a capability error.
    ///
    /// ```
    /// use moonbox::{Capabilities, FfiLevel, Lua};
    ///
    /// let lua = Lua::with_capabilities(Capabilities::sandboxed().ffi(FfiLevel::Data));
    /// let n: f64 = lua.load("local ffi = require('ffi'); local b = ffi.new('uint8_t[?]', 4); b[3] = 7; return b[3]").eval()?;
    /// assert_eq!(n, 7.0);
    /// let msg: String = lua.load("return select(2, pcall(function() return require('ffi').cast('int*', 4096)[0] end))").eval()?;
    /// assert!(msg.contains("not allowed in this state"));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn ffi(mut self, level: FfiLevel) -> Capabilities {
        self.caps.ffi = level;
        self
    }

    /// Grants reading the files in `dir` (and its subdirectories).
    pub fn allow_read(self, dir: impl Into<PathBuf>) -> Capabilities {
        self.grant(dir.into(), false)
    }

    /// Grants reading and writing (creating, truncating, appending) the files in `dir`
    /// (and its subdirectories).
    pub fn allow_write(self, dir: impl Into<PathBuf>) -> Capabilities {
        self.grant(dir.into(), true)
    }

    fn grant(mut self, path: PathBuf, writable: bool) -> Capabilities {
        self.caps.dirs.push(DirGrant { path, writable });
        self
    }

    /// The directory grants, as `(directory, writable)` pairs.
    pub fn grants(&self) -> impl Iterator<Item = (&std::path::Path, bool)> {
        self.caps.dirs.iter().map(|g| (g.path.as_path(), g.writable))
    }

    /// The engine's plain form of these capabilities.
    pub fn as_engine(&self) -> &Caps {
        &self.caps
    }
}
