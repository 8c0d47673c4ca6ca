//! What one tenant may do: its limits, its directory grants and its host functions.

use crate::jit::JitCaps;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::wire::HostValue;

/// A host function granted to tenants: takes the Lua arguments, returns Lua values
/// or an error message (raised in the script as a Lua error). It may be called from
/// many tenants on many threads at once.
pub type HostFn = Arc<dyn Fn(&[HostValue]) -> Result<Vec<HostValue>, String> + Send + Sync>;

/// Where a tenant's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// Into memory, returned in [`RunResult`](crate::RunResult); writing more than
    /// the given number of bytes to one stream stops the run
    /// ([`Outcome::OutputLimit`](crate::Outcome::OutputLimit)). Stdin is empty.
    Capture(usize),
    /// The host process's own stdin, stdout and stderr: for a command-line runner,
    /// whose user owns the terminal. Never for a multi-tenant service.
    Inherit,
}

/// Linear memory the guest needs besides the Lua heap: its 1 MiB shadow stack (see
/// `build.rs`), static data (about 1 MiB), the interpreter's own buffers, with room
/// to spare.
const GUEST_BASE_MEMORY: usize = 8 << 20;
/// How the tenant's memory limit M is shared out (see [`Tenant::memory`]). The guest
/// allocator (wasi-libc's dlmalloc) needs more linear memory than the engine
/// accounts for its objects: block headers and alignment, fragmentation (it never
/// returns memory to the Wasm heap, and a freed block serves only a request that
/// fits) and the moment a growing array exists twice. Measured on
/// `tests/hostile/mem_footprint_small_objects.lua` (a table and a short string per
/// slot): 1.44 bytes of linear memory per accounted byte, plus a 32 MiB array
/// growing into 64 at the end. So the engine's limit is 7/8 of M and the hard cap
/// M + M/2 + 8 MiB: then even that heap gets the catchable "not enough memory" before
/// the cap refuses anything, and the whole process stays within 1.5 × M + 32 MiB.
const LUA_SHARE_EIGHTHS: usize = 7;
const ALLOCATOR_SLACK_DIVISOR: usize = 2;

/// A directory a tenant can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The directory on the host.
    pub host: PathBuf,
    /// Where the tenant sees it (an absolute path inside the sandbox).
    pub guest: String,
    /// Whether the tenant may create, change and remove files in it.
    pub writable: bool,
}

/// A tenant's configuration: cheap to clone, shareable across threads, used for any
/// number of runs. Each run gets a fresh instance: nothing a script does survives it
/// except through its writable grants and its host functions.
///
/// The defaults are for untrusted code: 64 MiB of memory, a 10 s deadline, no fuel
/// limit, no files, no host functions, 1 MiB of captured output per stream.
#[derive(Clone)]
pub struct Tenant {
    pub(crate) memory: usize,
    pub(crate) fuel: Option<u64>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) stdio: Stdio,
    pub(crate) dirs: Vec<DirGrant>,
    pub(crate) cwd: Option<String>,
    pub(crate) functions: Vec<(String, HostFn)>,
    pub(crate) max_call_bytes: usize,
    pub(crate) jit: bool,
    pub(crate) jit_caps: JitCaps,
    pub(crate) jit_flags: Vec<String>,
}

impl Default for Tenant {
    fn default() -> Tenant {
        Tenant::new()
    }
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("memory", &self.memory)
            .field("fuel", &self.fuel)
            .field("timeout", &self.timeout)
            .field("stdio", &self.stdio)
            .field("dirs", &self.dirs)
            .field("cwd", &self.cwd)
            .field("functions", &self.functions.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .field("jit", &self.jit)
            .field("jit_caps", &self.jit_caps)
            .field("jit_flags", &self.jit_flags)
            .finish()
    }
}

/// Why a grant or a function name was refused.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The directory cannot be opened (or is not a directory).
    #[error("cannot grant {path}: {source}")]
    Dir {
        /// The directory as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A host function name that is not a dotted Lua name (`log`, `kv.get`).
    #[error("bad host function name '{0}' (expected names like log or kv.get)")]
    Name(String),
    /// A JIT flag that is not one of `-j...`, `-O...`, `--jit-exits=...`.
    #[error("bad JIT flag '{0}' (expected -jCMD, -OOPTS or --jit-exits=MODE)")]
    JitFlag(String),
    /// A C function grant whose name is not a C identifier or whose signature is
    /// not `ret(param, ...)` over the grantable types.
    #[error("bad C function grant '{0}'")]
    CFunction(String),
    /// A directory that covers what the host keeps from tenants (the compiled-guest
    /// cache, whose files the host executes): the directory itself, an ancestor of
    /// it, or inside it. Refused read-only too.
    #[error(
        "cannot grant {}: it contains moonbox's compiled-code cache ({}), which no tenant may reach; \
         grant a narrower directory, or move the cache with MOONBOX_CACHE_DIR=<dir> (off: no cache)",
        path.display(),
        reserved.display()
    )]
    Reserved {
        /// The directory as granted.
        path: PathBuf,
        /// What it would expose.
        reserved: PathBuf,
    },
}

impl Tenant {
    /// The defaults (see the type's documentation).
    pub fn new() -> Tenant {
        Tenant {
            memory: 64 << 20,
            fuel: None,
            timeout: Some(Duration::from_secs(10)),
            stdio: Stdio::Capture(1 << 20),
            dirs: Vec::new(),
            cwd: None,
            functions: Vec::new(),
            max_call_bytes: 1 << 20,
            jit: true,
            jit_caps: JitCaps::default(),
            jit_flags: Vec::new(),
        }
    }

    /// Whether the guest may compile traces (default: yes). Traces are Wasm
    /// modules the host checks, compiles with the tenant's engine (fuel and
    /// deadlines apply inside them) and links into the tenant's own instance.
    pub fn jit(mut self, on: bool) -> Tenant {
        self.jit = on;
        self
    }

    /// Caps on what the guest's JIT may link in one run (see [`JitCaps`]).
    pub fn jit_caps(mut self, caps: JitCaps) -> Tenant {
        self.jit_caps = caps;
        self
    }

    /// The native CLI's JIT flags, in order: `-jon`, `-joff`, `-jflush`, `-jv`,
    /// `-jdump[=FLAGS]`, `-O[OPTS]` (`jit.opt.start`'s options), and the test modes
    /// `--jit-exits=first|random:SEED` (every exit forced) and `--gc-stress` (the
    /// collector in small steps everywhere). Anything else is refused here; a
    /// flag the guest does not know ends the run with its message (exit status 1).
    pub fn jit_flags<S: AsRef<str>>(mut self, flags: &[S]) -> Result<Tenant, GrantError> {
        for f in flags {
            let f = f.as_ref();
            let ok = (f.len() > 2 && f.starts_with("-j"))
                || f.starts_with("-O")
                || f.starts_with("--jit-exits=")
                || f == "--gc-stress";
            if !ok || f.chars().any(char::is_whitespace) {
                return Err(GrantError::JitFlag(f.to_string()));
            }
            self.jit_flags.push(f.to_string());
        }
        Ok(self)
    }

    /// The tenant's memory limit, in bytes: what a platform sizes its machines by.
    ///
    /// The engine inside limits the Lua heap to 7/8 of it
    /// ([`Tenant::lua_memory_limit`]): past that an allocation is the catchable Lua
    /// error "not enough memory", and the state goes on. The instance's linear
    /// memory, which also holds the guest allocator's headers, free space and
    /// fragmentation, Rust-side buffers and the stack, is capped hard at 1.5 ×
    /// `bytes` + 8 MiB ([`Tenant::hard_memory_cap`]); an allocation refused there
    /// ends the run ([`Outcome::MemoryLimit`](crate::Outcome::MemoryLimit)). So the
    /// whole process stays within 1.5 × `bytes` + 32 MiB with the host's own share
    /// (about 13 MiB for `moonbox-sandbox`: wasmtime and the compiled guest).
    pub fn memory(mut self, bytes: usize) -> Tenant {
        self.memory = bytes;
        self
    }

    /// The limit the guest's engine puts on the Lua heap: 7/8 of
    /// [`Tenant::memory`], the rest being the allocator's overhead.
    pub fn lua_memory_limit(&self) -> usize {
        self.memory / 8 * LUA_SHARE_EIGHTHS + self.memory % 8 * LUA_SHARE_EIGHTHS / 8
    }

    /// The hard cap on the instance's linear memory (see [`Tenant::memory`]).
    pub fn hard_memory_cap(&self) -> usize {
        self.memory.saturating_add(self.memory / ALLOCATOR_SLACK_DIVISOR).saturating_add(GUEST_BASE_MEMORY)
    }

    /// A CPU budget in fuel units (about one per Wasm instruction), or none.
    pub fn fuel(mut self, fuel: Option<u64>) -> Tenant {
        self.fuel = fuel;
        self
    }

    /// A wall-clock deadline per run, or none.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Tenant {
        self.timeout = timeout;
        self
    }

    /// Where stdout and stderr go (default: captured, 1 MiB each).
    pub fn stdio(mut self, stdio: Stdio) -> Tenant {
        self.stdio = stdio;
        self
    }

    /// The largest encoded argument list or result of one host-function call (1 MiB
    /// by default); larger ones fail with a Lua error.
    pub fn max_call_bytes(mut self, bytes: usize) -> Tenant {
        self.max_call_bytes = bytes;
        self
    }

    /// Grants `dir` read-only, at the same (absolute, canonical) path inside.
    pub fn allow_read(self, dir: impl AsRef<Path>) -> Result<Tenant, GrantError> {
        self.grant(dir, false)
    }

    /// Grants `dir` read-write, at the same (absolute, canonical) path inside.
    pub fn allow_write(self, dir: impl AsRef<Path>) -> Result<Tenant, GrantError> {
        self.grant(dir, true)
    }

    fn grant(self, dir: impl AsRef<Path>, writable: bool) -> Result<Tenant, GrantError> {
        let path = dir.as_ref();
        let err = |source| GrantError::Dir { path: path.to_path_buf(), source };
        let host = std::fs::canonicalize(path).map_err(err)?;
        if !host.is_dir() {
            return Err(err(std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory")));
        }
        let guest = host.to_string_lossy().into_owned();
        Ok(self.grant_at(host, guest, writable))
    }

    /// Grants the host directory `host` (as given: no check until a run opens it),
    /// seen inside at `guest`.
    pub fn grant_at(mut self, host: impl Into<PathBuf>, guest: impl Into<String>, writable: bool) -> Tenant {
        let guest = guest.into();
        // Granting the same place twice: the wider permission wins.
        if let Some(g) = self.dirs.iter_mut().find(|g| g.guest == guest) {
            g.writable |= writable;
            g.host = host.into();
        } else {
            self.dirs.push(DirGrant { host: host.into(), guest, writable });
        }
        self
    }

    /// The working directory inside (relative paths resolve against it). It only
    /// works inside a grant; elsewhere relative paths find nothing.
    pub fn cwd(mut self, dir: impl Into<String>) -> Tenant {
        self.cwd = Some(dir.into());
        self
    }

    /// Grants a host function under a dotted name: `log` becomes a global function,
    /// `kv.get` the field `get` of a global table `kv` (created if absent).
    ///
    /// It takes nil, booleans, numbers and strings (a table or function argument is a
    /// Lua error before the host sees it); its `Err` is raised in the script. It runs
    /// on the tenant's thread outside fuel and deadline metering, so it should
    /// return promptly; a panic in it becomes a Lua error.
    pub fn function(
        mut self,
        name: &str,
        f: impl Fn(&[HostValue]) -> Result<Vec<HostValue>, String> + Send + Sync + 'static,
    ) -> Result<Tenant, GrantError> {
        let ok = !name.is_empty()
            && name.len() <= 200
            && name.split('.').all(|p| {
                let mut cs = p.chars();
                cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !ok {
            return Err(GrantError::Name(name.to_string()));
        }
        self.functions.retain(|(n, _)| n != name);
        self.functions.push((name.to_string(), Arc::new(f)));
        Ok(self)
    }

    /// Grants a C function to the tenant's FFI: after
    /// `ffi.cdef("int32_t add(int32_t, int32_t);")` the script calls it as
    /// `ffi.C.add(2, 3)`. `signature` is `ret(param, ...)` over `void`, `bool`,
    /// `int8_t` .. `uint64_t`, `float`, `double` and `string` (a `const char *`: the
    /// bytes cross, never a pointer); the script's declaration must match it
    /// exactly, or `ffi.C.add` is an error naming both. Arguments arrive converted
    /// by LuaJIT's C rules (integers and floats as numbers, `bool` as a boolean,
    /// strings as strings, NULL as nil); the result is converted to the declared
    /// type (ignored for `void`). Runs like [`Tenant::function`]'s functions.
    ///
    /// ```
    /// # use moonbox_host_wasi::{HostValue, Tenant};
    /// let tenant = Tenant::new().c_function("add", "int32_t(int32_t, int32_t)", |args| {
    ///     let n = |i: usize| args.get(i).and_then(HostValue::as_number).unwrap_or(0.0);
    ///     Ok(HostValue::Number(n(0) + n(1)))
    /// })?;
    /// # Ok::<(), moonbox_host_wasi::GrantError>(())
    /// ```
    pub fn c_function(
        mut self,
        name: &str,
        signature: &str,
        f: impl Fn(&[HostValue]) -> Result<HostValue, String> + Send + Sync + 'static,
    ) -> Result<Tenant, GrantError> {
        let ident = {
            let mut cs = name.chars();
            cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        // The guest parses the signature; here only its shape and length are checked.
        let sig_ok = signature.len() <= 512
            && signature.ends_with(')')
            && signature.contains('(')
            && signature.chars().all(|c| c.is_ascii_alphanumeric() || "_(), ".contains(c));
        if !ident || name.len() > 200 || !sig_ok {
            return Err(GrantError::CFunction(format!("{name}: {signature}")));
        }
        let key = format!("ffi.C:{name}:{signature}");
        let prefix = format!("ffi.C:{name}:");
        self.functions.retain(|(n, _)| !n.starts_with(&prefix));
        self.functions.push((key, Arc::new(move |args: &[HostValue]| f(args).map(|v| vec![v]))));
        Ok(self)
    }

    /// The directory grants.
    pub fn dirs(&self) -> &[DirGrant] {
        &self.dirs
    }
}
