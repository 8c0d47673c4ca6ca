//! The public `Lua` state: constructors, values, callbacks, registry, app data, GC and
//! limits. The machinery under it (how the VM is shared with callbacks, anchors,
//! errors) is in `lua.rs`.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use moonbox_engine::ffi::grants::CValue;
use moonbox_engine::vm::{LuaError, Vm};

use crate::capabilities::Capabilities;
use crate::chunk::{AsChunk, Chunk};
use crate::conv::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::limits::{self, CancelHandle, Interrupt, Limits};
use crate::lua::{Inner, NoUnwind, StackGuard, NEXT_ID};
use crate::stdlib::StdLib;
use crate::sync::{XRc, XWeak};
use crate::types::{AppDataRef, AppDataRefMut, Integer, MaybeSend, Number, RegistryKey};
use crate::value::{MultiValue, Value};
use crate::{Function, String as LuaString, Table, Thread};

/// Options for [`Lua::new_with`] and [`Lua::with_options`].
///
/// mlua's builder methods ([`LuaOptions::new`], [`catch_rust_panics`],
/// [`thread_pool_size`]) and moonbox's limits, as public fields:
///
/// ```
/// use moonbox::{Lua, LuaOptions};
///
/// let lua = Lua::with_options(LuaOptions {
///     sandboxed: true,
///     memory_limit: Some(16 << 20),
///     instruction_limit: Some(1_000_000),
///     ..LuaOptions::default()
/// });
/// assert_eq!(lua.load("return 6 * 7").eval::<i32>()?, 42);
/// # Ok::<(), moonbox::Error>(())
/// ```
///
/// [`catch_rust_panics`]: LuaOptions::catch_rust_panics
/// [`thread_pool_size`]: LuaOptions::thread_pool_size
#[derive(Clone, Debug)]
pub struct LuaOptions {
    /// Whether Lua's `pcall` may catch a Rust callback's panic (as an error). Either
    /// way, a panic that leaves Lua resumes in the embedder's code. Default: true.
    pub catch_rust_panics: bool,
    /// Kept for mlua compatibility (moonbox's coroutines need no pool).
    pub thread_pool_size: usize,
    /// Open the sandboxed library set (see [`Lua::sandboxed`]) instead of the full one
    /// ([`Lua::with_options`] only).
    pub sandboxed: bool,
    /// Memory limit in bytes of live heap (see [`Lua::set_memory_limit`]).
    pub memory_limit: Option<usize>,
    /// Instruction budget (see [`Lua::set_budget`]).
    pub instruction_limit: Option<u64>,
}

impl Default for LuaOptions {
    fn default() -> Self {
        LuaOptions::new()
    }
}

impl LuaOptions {
    /// The default options.
    pub const fn new() -> LuaOptions {
        LuaOptions {
            catch_rust_panics: true,
            thread_pool_size: 0,
            sandboxed: false,
            memory_limit: None,
            instruction_limit: None,
        }
    }

    /// Sets [`catch_rust_panics`](LuaOptions::catch_rust_panics).
    #[must_use]
    pub const fn catch_rust_panics(mut self, enabled: bool) -> LuaOptions {
        self.catch_rust_panics = enabled;
        self
    }

    /// Sets [`thread_pool_size`](LuaOptions::thread_pool_size).
    #[must_use]
    pub const fn thread_pool_size(mut self, size: usize) -> LuaOptions {
        self.thread_pool_size = size;
        self
    }
}

/// A Lua state: the entry point of the embedding API.
///
/// Cloning a `Lua` gives another handle to the same state; the state is freed when the
/// last clone is dropped (handles such as [`Table`] do not keep it alive: they report
/// [`Error::StateDropped`] afterwards). A Rust callback gets the state as `&Lua`.
///
/// `Lua` is not `Send` unless the `send` feature is on. Use a [`CancelHandle`] to stop
/// a script from another thread.
///
/// ```
/// use moonbox::Lua;
///
/// let lua = Lua::new();
/// lua.globals().set("name", "world")?;
/// let greeting: String = lua.load(r#"return "hello, " .. name"#).eval()?;
/// assert_eq!(greeting, "hello, world");
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct Lua {
    pub(crate) inner: XRc<Inner>,
}

/// A weak handle to a [`Lua`] state (see [`Lua::weak`]).
#[derive(Clone)]
pub struct WeakLua(pub(crate) XWeak<Inner>);

impl WeakLua {
    /// The state, if it is still alive.
    pub fn try_upgrade(&self) -> Option<Lua> {
        self.0.upgrade().map(Lua::from_inner)
    }

    /// The state. If it was dropped, a closed state whose every operation fails with
    /// [`Error::StateDropped`] (mlua panics here).
    pub fn upgrade(&self) -> Lua {
        self.try_upgrade().unwrap_or_else(Lua::closed)
    }
}

impl PartialEq for WeakLua {
    fn eq(&self, other: &WeakLua) -> bool {
        XWeak::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for WeakLua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WeakLua({:p})", self.0.as_ptr())
    }
}

impl Default for Lua {
    fn default() -> Self {
        Lua::new()
    }
}

impl std::fmt::Debug for Lua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lua({:p})", XRc::as_ptr(&self.inner))
    }
}

impl PartialEq for Lua {
    fn eq(&self, other: &Lua) -> bool {
        XRc::ptr_eq(&self.inner, &other.inner)
    }
}

/// The garbage collector's mode (see [`Lua::gc_inc`]). LuaJIT has only the
/// incremental collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GCMode {
    /// Incremental mark & sweep.
    Incremental,
    /// Generational (not in LuaJIT; never returned).
    Generational,
}

/// What [`Lua::set_memory_limit`] accepts: mlua's `usize` (0: no limit), returning
/// `Result<usize>`, or moonbox's `Option<usize>`, returning `Option<usize>`.
pub trait MemoryLimit: private::Sealed {
    /// What `set_memory_limit` returns.
    type Output;
    #[doc(hidden)]
    fn apply(self, lua: &Lua) -> Self::Output;
}

mod private {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for Option<usize> {}
}

impl MemoryLimit for usize {
    type Output = Result<usize>;
    fn apply(self, lua: &Lua) -> Result<usize> {
        let limit = (self != 0).then_some(self);
        lua.inner.with_vm(|vm| {
            let old = vm.memory_limit();
            vm.set_memory_limit(limit);
            old.unwrap_or(0)
        })
    }
}

impl MemoryLimit for Option<usize> {
    type Output = Option<usize>;
    fn apply(self, lua: &Lua) -> Option<usize> {
        lua.inner
            .with_vm(|vm| {
                let old = vm.memory_limit();
                vm.set_memory_limit(self);
                old
            })
            .unwrap_or(None)
    }
}

impl Lua {
    pub(crate) fn from_inner(inner: XRc<Inner>) -> Lua {
        Lua { inner }
    }

    /// A state with the full standard library, for trusted code: like the `luajit`
    /// command (io, os, debug, `require` from the file system, binary chunks).
    /// (mlua's `Lua::new` leaves out `debug`; moonbox keeps `luajit`'s set.)
    pub fn new() -> Lua {
        Lua::with_options(LuaOptions::default())
    }

    /// A state with the libraries in `libs` (the base library is always there) and
    /// `options`. `StdLib::IO`, `OS`, `PACKAGE` and `DEBUG` grant what they name (see
    /// [`Capabilities`]); `StdLib::FFI` is not available (moonbox's FFI is configured
    /// through the engine). Fails only for `StdLib` bits moonbox cannot provide.
    ///
    /// ```
    /// use moonbox::{Lua, LuaOptions, StdLib};
    ///
    /// let lua = Lua::new_with(StdLib::MATH | StdLib::STRING, LuaOptions::new())?;
    /// assert_eq!(lua.load("math.floor(2.5)").eval::<i32>()?, 2);
    /// assert!(lua.load("io").eval::<Option<moonbox::Table>>()?.is_none());
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn new_with(libs: StdLib, options: LuaOptions) -> Result<Lua> {
        if libs.contains(StdLib::FFI) && libs != StdLib::ALL {
            return Err(Error::SafetyError("the FFI library is not available through StdLib".to_string()));
        }
        let lua = Lua::with_capabilities_and_options(libs.capabilities(), options);
        libs.remove_unrequested(&lua)?;
        Ok(lua)
    }

    /// As [`Lua::new_with`] (moonbox has no C modules to guard against).
    ///
    /// # Safety
    /// None beyond the safe constructor's; `unsafe` only for mlua compatibility.
    pub unsafe fn unsafe_new_with(libs: StdLib, options: LuaOptions) -> Lua {
        let lua = Lua::with_capabilities_and_options(libs.capabilities(), options);
        let _ = libs.remove_unrequested(&lua);
        lua
    }

    /// As [`Lua::new`].
    ///
    /// # Safety
    /// None beyond the safe constructor's; `unsafe` only for mlua compatibility.
    pub unsafe fn unsafe_new() -> Lua {
        Lua::new()
    }

    /// A state for untrusted code, with [`Capabilities::sandboxed`]. Compared with
    /// [`Lua::new`] it has:
    ///
    /// - no `io` library (nor in `package.loaded`);
    /// - an `os` library without `execute`, `exit`, `remove`, `rename`, `tmpname` and
    ///   `getenv` (it keeps `clock`, `date`, `time`, `difftime`, `setlocale`);
    /// - no `dofile` and `loadfile`; `require` finds only modules already in
    ///   `package.loaded` or `package.preload` (the file loaders, `package.loadlib` and
    ///   `package.searchpath` are removed);
    /// - a `debug` library with only `traceback`;
    /// - `load`/`loadstring` that refuse binary chunks (source only), no `string.dump`;
    /// - an `os.clock` rounded to whole milliseconds;
    /// - a `collectgarbage` that refuses `"stop"`, `"setpause"` and `"setstepmul"`
    ///   (which would defeat the memory limit).
    ///
    /// None of these functions is registered (they are absent, not failing).
    /// `print` still writes to the process's stdout unless [`Lua::set_output`]
    /// redirects it. No memory limit or instruction budget is set: use
    /// [`Lua::with_options`] or the setters for those. To grant directories or
    /// single capabilities, use [`Lua::with_capabilities`].
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::sandboxed();
    /// let gone: bool = lua.load("return io == nil and os.execute == nil and dofile == nil").eval()?;
    /// assert!(gone);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn sandboxed() -> Lua {
        Lua::with_options(LuaOptions { sandboxed: true, ..LuaOptions::default() })
    }

    /// A state configured by `options` ([`Capabilities::sandboxed`] if
    /// `options.sandboxed`, else [`Capabilities::full`]).
    pub fn with_options(options: LuaOptions) -> Lua {
        let caps = if options.sandboxed { Capabilities::sandboxed() } else { Capabilities::full() };
        Lua::with_capabilities_and_options(caps, options)
    }

    /// A state with `caps` and no limits.
    ///
    /// ```
    /// use moonbox::{Capabilities, Lua};
    ///
    /// // Sandboxed, but string.dump and binary chunks allowed.
    /// let lua = Lua::with_capabilities(Capabilities::sandboxed().string_dump(true).binary_chunks(true));
    /// let n: i32 = lua.load("return load(string.dump(function() return 7 end))()").eval()?;
    /// assert_eq!(n, 7);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn with_capabilities(caps: Capabilities) -> Lua {
        Lua::with_capabilities_and_options(caps, LuaOptions::default())
    }

    /// A state with `caps` and the limits of `options` (whose `sandboxed` flag is
    /// not used: `caps` decides).
    pub fn with_capabilities_and_options(caps: Capabilities, options: LuaOptions) -> Lua {
        // SAFETY: the facade keeps the state's contract: every handle it gives out
        // is anchored in `anchors` (a root) and checked against this state's id,
        // and it holds no other reference across a call into the state.
        let mut vm = Box::new(unsafe { Vm::new_bare() });
        moonbox_engine::stdlib::open_with(&mut vm, &caps.caps);
        if !caps.gc_control || options.memory_limit.is_some() {
            crate::sandbox::guard_collectgarbage(&mut vm);
        }
        vm.set_memory_limit(options.memory_limit);
        if caps.caps.jit {
            crate::jit::install_native(&mut vm);
        }
        let limits = XRc::new(Limits::new(options.instruction_limit));
        limits::install(&mut vm, &limits);
        let lua = Lua { inner: XRc::new(Inner::new(vm, limits, NEXT_ID.fetch_add(1, Ordering::Relaxed))) };
        lua.inner.init_globals();
        lua
    }

    /// A state that is already closed: every operation fails with
    /// [`Error::StateDropped`] (what [`WeakLua::upgrade`] returns for a dropped state).
    fn closed() -> Lua {
        // SAFETY: as in `with_capabilities_and_options`; this VM is never run.
        let vm = Box::new(unsafe { Vm::new_bare() });
        let inner = XRc::new(Inner::new(vm, XRc::new(Limits::new(None)), 0));
        inner.init_globals();
        inner.close();
        Lua { inner }
    }

    /// A weak handle to this state, which does not keep it alive.
    pub fn weak(&self) -> WeakLua {
        WeakLua(XRc::downgrade(&self.inner))
    }

    /// Prepares a chunk of Lua source for running. See [`Chunk`]. The chunk's default
    /// name is the caller's source position (`@src/main.rs:10`), as in mlua.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// lua.load("x = 1 + 2").set_name("=setup").exec()?;
    /// assert_eq!(lua.globals().get::<i32>("x")?, 3);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    #[track_caller]
    pub fn load<'a>(&self, chunk: impl AsChunk + 'a) -> Chunk<'a> {
        let location = std::panic::Location::caller();
        Chunk::new(self, chunk, location)
    }

    /// The global table (the environment of the main thread).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let print: moonbox::Function = lua.globals().get("print")?;
    /// # let _ = print;
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn globals(&self) -> Table {
        // The VM is only unavailable while the engine is busy (in a destructor run by
        // the collector); then the table the state started with is returned.
        match self.inner.with_vm(|vm| Table(self.inner.make_ref(vm, vm.globals().to_value()))) {
            Ok(t) => t,
            Err(_) => self.inner.initial_globals(),
        }
    }

    /// Replaces the global table of the main thread (what new chunks see as their
    /// environment).
    pub fn set_globals(&self, globals: Table) -> Result<()> {
        let t = globals.0.raw_for(&self.inner)?.as_table().ok_or(Error::MismatchedLua)?;
        self.inner.with_vm(|vm| vm.set_globals(t))
    }

    /// A new empty table.
    pub fn create_table(&self) -> Result<Table> {
        self.create_table_with_capacity(0, 0)
    }

    /// A new table with room for `narr` sequence and `nrec` other entries.
    pub fn create_table_with_capacity(&self, narr: usize, nrec: usize) -> Result<Table> {
        self.inner.with_vm(|vm| {
            self.inner.check_memory(vm)?;
            let t = vm.new_table(narr.min(1 << 24), nrec.min(1 << 24));
            Ok(Table(self.inner.make_ref(vm, t.to_value())))
        })?
    }

    /// A table filled from key/value pairs.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.create_table_from([("a", 1), ("b", 2)])?;
    /// assert_eq!(t.get::<i32>("b")?, 2);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_table_from<K, V>(&self, iter: impl IntoIterator<Item = (K, V)>) -> Result<Table>
    where
        K: IntoLua,
        V: IntoLua,
    {
        let t = self.create_table()?;
        for (k, v) in iter {
            t.raw_set(k, v)?;
        }
        Ok(t)
    }

    /// A sequence table (`{v1, v2, ...}`) from an iterator.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let t = lua.create_sequence_from(["x", "y", "z"])?;
    /// assert_eq!(t.len()?, 3);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_sequence_from<T: IntoLua>(&self, iter: impl IntoIterator<Item = T>) -> Result<Table> {
        let iter = iter.into_iter();
        let t = self.create_table_with_capacity(iter.size_hint().0, 0)?;
        for (i, v) in iter.enumerate() {
            t.raw_set(i as f64 + 1.0, v)?;
        }
        Ok(t)
    }

    /// A Lua string with these bytes (any bytes, not only UTF-8).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let s = lua.create_string(b"\xffbinary")?;
    /// assert_eq!(&s.as_bytes()[1..], b"binary");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_string(&self, s: impl AsRef<[u8]>) -> Result<LuaString> {
        let b = s.as_ref();
        self.inner.with_vm(|vm| {
            self.inner.check_memory(vm)?;
            let s = vm.str_value(b);
            Ok(LuaString::from_ref(self.inner.make_ref(vm, s)))
        })?
    }

    /// Wraps a Rust closure as a Lua function. Arguments and results are converted
    /// with [`FromLuaMulti`] / [`IntoLuaMulti`]; an `Err` becomes a Lua error that
    /// `pcall` can catch. A panic travels through Lua as an error and resumes when
    /// control leaves Lua.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let greet = lua.create_function(|_lua, (n, who): (f64, String)| {
    ///     Ok(format!("{who} x{n}"))
    /// })?;
    /// lua.globals().set("greet", greet)?;
    /// assert_eq!(lua.load("return greet(3, 'hi')").eval::<String>()?, "hi x3");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_function<F, A, R>(&self, func: F) -> Result<Function>
    where
        F: Fn(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        self.create_callback(Box::new(move |lua, base, nargs| {
            let args = A::from_stack_args(base, nargs, 1, lua)?;
            func(lua, args)?.push_into_stack_multi(lua)
        }))
    }

    /// Like [`create_function`](Lua::create_function) for an `FnMut` closure. Calling
    /// it again while it runs (through Lua) fails with
    /// [`Error::RecursiveMutCallback`].
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let mut count = 0;
    /// let counter = lua.create_function_mut(move |_, ()| { count += 1; Ok(count) })?;
    /// counter.call::<()>(())?;
    /// assert_eq!(counter.call::<i32>(())?, 2);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_function_mut<F, A, R>(&self, func: F) -> Result<Function>
    where
        F: FnMut(&Lua, A) -> Result<R> + MaybeSend + 'static,
        A: FromLuaMulti,
        R: IntoLuaMulti,
    {
        let func = crate::types::XRefCell::new(func);
        self.create_function(move |lua, args| {
            let mut f = func.try_borrow_mut().ok_or(Error::RecursiveMutCallback)?;
            (*f)(lua, args)
        })
    }

    pub(crate) fn create_callback(&self, f: Box<crate::lua::CallbackFn>) -> Result<Function> {
        self.inner.with_vm(|vm| {
            self.inner.check_memory(vm)?;
            let fv = self.inner.make_callback(vm, f);
            Ok(Function(self.inner.make_ref(vm, fv)))
        })?
    }

    /// A coroutine that will run `func`.
    ///
    /// ```
    /// use moonbox::{Lua, ThreadStatus};
    ///
    /// let lua = Lua::new();
    /// let f = lua.load("return function(a) local b = coroutine.yield(a + 1) return b * 2 end").eval()?;
    /// let co = lua.create_thread(f)?;
    /// assert_eq!(co.resume::<i32>(1)?, 2);
    /// assert_eq!(co.resume::<i32>(10)?, 20);
    /// assert_eq!(co.status(), ThreadStatus::Finished);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_thread(&self, func: Function) -> Result<Thread> {
        let f = func.0.raw_for(&self.inner)?;
        self.inner.with_vm(|vm| {
            self.inner.check_memory(vm)?;
            let co = vm.new_thread(f);
            Ok(Thread::from_ref(self.inner.make_ref(vm, co.to_value())))
        })?
    }

    /// Converts a string or a number to a string, as Lua's coercion does (`nil`
    /// for other types).
    pub fn coerce_string(&self, v: Value) -> Result<Option<LuaString>> {
        match v {
            Value::String(s) => Ok(Some(s)),
            Value::Integer(i) => self.create_string(i.to_string()).map(Some),
            Value::Number(n) => self.create_string(crate::string::number_to_string(n)).map(Some),
            _ => Ok(None),
        }
    }

    /// Converts a number or a string holding one to an integer, if it is integral.
    pub fn coerce_integer(&self, v: Value) -> Result<Option<Integer>> {
        Ok(match self.coerce_number(v)? {
            Some(n) => crate::conv::f64_to_integer(n),
            None => None,
        })
    }

    /// Converts a number or a string holding one to a number, as Lua's arithmetic
    /// coerces.
    pub fn coerce_number(&self, v: Value) -> Result<Option<Number>> {
        match v {
            Value::Integer(i) => Ok(Some(i as Number)),
            Value::Number(n) => Ok(Some(n)),
            Value::String(s) => {
                let raw = s.0.raw_for(&self.inner)?;
                Ok(moonbox_engine::Vm::to_arith_number(raw))
            }
            _ => Ok(None),
        }
    }

    /// Converts a Rust value to a Lua value.
    pub fn pack(&self, t: impl IntoLua) -> Result<Value> {
        t.into_lua(self)
    }

    /// Converts a Lua value to a Rust value.
    pub fn unpack<T: FromLua>(&self, value: Value) -> Result<T> {
        T::from_lua(value, self)
    }

    /// Converts a Rust value to another through Lua (`unpack(pack(value))`).
    pub fn convert<U: FromLua>(&self, value: impl IntoLua) -> Result<U> {
        U::from_lua(value.into_lua(self)?, self)
    }

    /// Converts Rust values to a list of Lua values.
    pub fn pack_multi(&self, t: impl IntoLuaMulti) -> Result<MultiValue> {
        t.into_lua_multi(self)
    }

    /// Converts a list of Lua values to Rust values.
    pub fn unpack_multi<T: FromLuaMulti>(&self, value: MultiValue) -> Result<T> {
        T::from_lua_multi(value, self)
    }

    // ----- Registry ------------------------------------------------------------------

    /// Stores a value in the Lua registry under a string name (the same table Lua's
    /// `debug.getregistry()` returns; pick names that will not clash, e.g. prefixed
    /// by your crate's name).
    pub fn set_named_registry_value(&self, key: &str, t: impl IntoLua) -> Result<()> {
        let g = StackGuard::new(&self.inner)?;
        t.push_into_stack(self)?;
        let at = g.base();
        self.inner.with_vm(|vm| {
            let v = vm.slot(at);
            let reg = vm.registry();
            vm.set_field(reg, key, v);
        })
    }

    /// The registry value stored under `key` (nil if none).
    pub fn named_registry_value<T: FromLua>(&self, key: &str) -> Result<T> {
        let g = StackGuard::new(&self.inner)?;
        let at = g.base();
        self.inner.try_vm(|vm| {
            let reg = vm.registry();
            let v = vm.get_field(reg, key);
            crate::lua::push1(vm, v)
        })?;
        T::from_stack(at, self)
    }

    /// Removes the registry value stored under `key`.
    pub fn unset_named_registry_value(&self, key: &str) -> Result<()> {
        self.set_named_registry_value(key, Value::Nil)
    }

    /// Keeps a value alive, and reachable from Rust, until the key is dropped.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let key = lua.create_registry_value(lua.create_sequence_from([1, 2, 3])?)?;
    /// lua.gc_collect()?;
    /// let t: moonbox::Table = lua.registry_value(&key)?;
    /// assert_eq!(t.len()?, 3);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_registry_value(&self, t: impl IntoLua) -> Result<RegistryKey> {
        let value = t.into_lua(self)?;
        if let Some(r) = value.as_ref_core() {
            r.raw_for(&self.inner)?;
        }
        Ok(RegistryKey::new(self.inner.id, value))
    }

    /// The value stored under a registry key.
    pub fn registry_value<T: FromLua>(&self, key: &RegistryKey) -> Result<T> {
        if !self.owns_registry_value(key) {
            return Err(Error::MismatchedRegistryKey);
        }
        T::from_lua(key.value(), self)
    }

    /// Removes a registry value (the same as dropping the key).
    pub fn remove_registry_value(&self, key: RegistryKey) -> Result<()> {
        if !self.owns_registry_value(&key) {
            return Err(Error::MismatchedRegistryKey);
        }
        drop(key);
        Ok(())
    }

    /// Replaces the value stored under a registry key.
    pub fn replace_registry_value(&self, key: &mut RegistryKey, t: impl IntoLua) -> Result<()> {
        if !self.owns_registry_value(key) {
            return Err(Error::MismatchedRegistryKey);
        }
        let value = t.into_lua(self)?;
        if let Some(r) = value.as_ref_core() {
            r.raw_for(&self.inner)?;
        }
        key.replace(value);
        Ok(())
    }

    /// Does this key belong to this state?
    pub fn owns_registry_value(&self, key: &RegistryKey) -> bool {
        key.lua_id() == self.inner.id
    }

    /// Frees the slots of dropped registry keys (moonbox frees them when dropped, so
    /// this only clears slots released while the state was busy).
    pub fn expire_registry_values(&self) {
        let _ = self.inner.with_vm(|_| self.inner.drain_deferred());
    }

    // ----- Modules ---------------------------------------------------------------------

    /// Registers `value` as the module `modname` (`package.loaded[modname]`), so
    /// `require(modname)` returns it.
    pub fn register_module(&self, modname: &str, value: impl IntoLua) -> Result<()> {
        self.loaded_table()?.raw_set(modname, value)
    }

    /// Registers `func` as the loader of `modname` in `package.preload`.
    pub fn preload_module(&self, modname: &str, func: Function) -> Result<()> {
        let package: Table = self.globals().raw_get("package")?;
        let preload: Table = package.raw_get("preload")?;
        preload.raw_set(modname, func)
    }

    /// Loads a module with `func` as `require` would (calling it with the module
    /// name, storing its result in `package.loaded`), unless it is loaded already.
    pub fn load_from_function<T: FromLua>(&self, modname: &str, func: Function) -> Result<T> {
        let loaded = self.loaded_table()?;
        let v: Value = loaded.raw_get(modname)?;
        if !v.is_nil() {
            return T::from_lua(v, self);
        }
        let v: Value = func.call(modname)?;
        let v = if v.is_nil() { Value::Boolean(true) } else { v };
        loaded.raw_set(modname, &v)?;
        T::from_lua(v, self)
    }

    /// Removes a module from `package.loaded`.
    pub fn unload_module(&self, modname: &str) -> Result<()> {
        self.loaded_table()?.raw_set(modname, Value::Nil)
    }

    fn loaded_table(&self) -> Result<Table> {
        match self.named_registry_value::<Option<Table>>("_LOADED")? {
            Some(t) => Ok(t),
            None => {
                let package: Table = self.globals().raw_get("package")?;
                package.raw_get("loaded")
            }
        }
    }

    /// Turns the JIT compiler on or off (`jit.on()` / `jit.off()`).
    pub fn enable_jit(&self, enable: bool) {
        if let Ok(jit) = self.globals().raw_get::<Table>("jit") {
            if let Ok(f) = jit.raw_get::<Function>(if enable { "on" } else { "off" }) {
                let _ = f.call::<()>(());
            }
        }
    }

    // ----- App data --------------------------------------------------------------------

    /// Attaches a value of type `T` to the state, replacing (and returning) the one
    /// there was. Callbacks reach it with [`app_data_ref`](Lua::app_data_ref).
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// struct Config { greeting: &'static str }
    /// let lua = Lua::new();
    /// lua.set_app_data(Config { greeting: "hi" });
    /// let greet = lua.create_function(|lua, name: String| {
    ///     let cfg = lua.app_data_ref::<Config>().unwrap();
    ///     Ok(format!("{} {name}", cfg.greeting))
    /// })?;
    /// assert_eq!(greet.call::<String>("bob")?, "hi bob");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_app_data<T: MaybeSend + 'static>(&self, data: T) -> Option<T> {
        let _l = self.inner.lock();
        self.inner.app_data.insert(data)
    }

    /// Like [`set_app_data`](Lua::set_app_data); never fails in moonbox (a value still
    /// borrowed stays valid for its borrower), so always `Ok`.
    pub fn try_set_app_data<T: MaybeSend + 'static>(&self, data: T) -> std::result::Result<Option<T>, T> {
        let _l = self.inner.lock();
        Ok(self.inner.app_data.insert(data))
    }

    /// A shared borrow of the app data of type `T` (`None` if there is none, or if it
    /// is mutably borrowed).
    pub fn app_data_ref<T: 'static>(&self) -> Option<AppDataRef<'_, T>> {
        let _l = self.inner.lock();
        self.inner.app_data.borrow::<T>()
    }

    /// Like [`app_data_ref`](Lua::app_data_ref), failing when the data is mutably
    /// borrowed.
    pub fn try_app_data_ref<T: 'static>(&self) -> std::result::Result<Option<AppDataRef<'_, T>>, Error> {
        let _l = self.inner.lock();
        self.inner.app_data.try_borrow::<T>()
    }

    /// A mutable borrow of the app data of type `T` (`None` if there is none, or if it
    /// is borrowed).
    pub fn app_data_mut<T: 'static>(&self) -> Option<AppDataRefMut<'_, T>> {
        let _l = self.inner.lock();
        self.inner.app_data.borrow_mut::<T>()
    }

    /// Like [`app_data_mut`](Lua::app_data_mut), failing when the data is borrowed.
    pub fn try_app_data_mut<T: 'static>(&self) -> std::result::Result<Option<AppDataRefMut<'_, T>>, Error> {
        let _l = self.inner.lock();
        self.inner.app_data.try_borrow_mut::<T>()
    }

    /// Removes the app data of type `T` and returns it (`None` if there is none or it
    /// is still borrowed).
    pub fn remove_app_data<T: 'static>(&self) -> Option<T> {
        let _l = self.inner.lock();
        self.inner.app_data.remove::<T>()
    }

    // ----- GC, memory, budget ----------------------------------------------------------

    /// Runs a full garbage collection (and pending `__gc` finalizers). Fails when a
    /// finalizer is stopped by a limit (budget, cancellation, interrupt, memory).
    pub fn gc_collect(&self) -> Result<()> {
        self.inner.try_vm(|vm| {
            // Clear released slots first so their objects can go.
            self.inner.drain_deferred();
            let r = vm.full_gc();
            // A finalizer stopped by a limit.
            r.map_err(|e| self.inner.convert_error(vm, e))
        })
    }

    /// Runs one incremental step of the collector; true if it finished a cycle.
    pub fn gc_step(&self) -> Result<bool> {
        self.gc_step_kbytes(0)
    }

    /// Runs an incremental step as `collectgarbage("step", kbytes)` does; true if it
    /// finished a cycle.
    pub fn gc_step_kbytes(&self, kbytes: i32) -> Result<bool> {
        self.collectgarbage(&["step"], Some(f64::from(kbytes))).map(|v| v.as_boolean().unwrap_or(false))
    }

    /// Is the collector running (not stopped with [`gc_stop`](Lua::gc_stop))?
    pub fn gc_is_running(&self) -> bool {
        self.collectgarbage(&["isrunning"], None).map(|v| v.as_boolean().unwrap_or(true)).unwrap_or(true)
    }

    /// Stops the collector (`collectgarbage("stop")`; refused, silently, by states
    /// without `gc_control` or with a memory limit).
    pub fn gc_stop(&self) {
        let _ = self.collectgarbage(&["stop"], None);
    }

    /// Restarts the collector.
    pub fn gc_restart(&self) {
        let _ = self.collectgarbage(&["restart"], None);
    }

    /// Sets the collector's pause (percent); returns the previous one.
    pub fn gc_set_pause(&self, pause: i32) -> i32 {
        self.collectgarbage(&["setpause"], Some(f64::from(pause))).ok().and_then(|v| v.as_i32()).unwrap_or(0)
    }

    /// Sets the collector's step multiplier; returns the previous one.
    pub fn gc_set_step_multiplier(&self, step_multiplier: i32) -> i32 {
        self.collectgarbage(&["setstepmul"], Some(f64::from(step_multiplier)))
            .ok()
            .and_then(|v| v.as_i32())
            .unwrap_or(0)
    }

    /// Sets the incremental collector's parameters (0 keeps one); LuaJIT has no step
    /// size, so `step_size` is ignored. Returns the previous mode (always incremental).
    pub fn gc_inc(&self, pause: i32, step_multiplier: i32, step_size: i32) -> GCMode {
        let _ = step_size;
        if pause > 0 {
            self.gc_set_pause(pause);
        }
        if step_multiplier > 0 {
            self.gc_set_step_multiplier(step_multiplier);
        }
        GCMode::Incremental
    }

    /// `collectgarbage(opt, arg)` from the host.
    fn collectgarbage(&self, opt: &[&str], arg: Option<f64>) -> Result<Value> {
        let g = StackGuard::new(&self.inner)?;
        let base = g.base();
        let inner = &self.inner;
        inner.try_vm(|vm| {
            let o = vm.str_value(opt[0].as_bytes());
            crate::lua::push1(vm, o)?;
            let mut nargs = 1;
            if let Some(a) = arg {
                crate::lua::push1(vm, moonbox_engine::Value::number(a))?;
                nargs += 1;
            }
            match vm.collectgarbage(base, nargs) {
                Ok(n) if n > 0 => Ok(inner.value_from_raw(vm, vm.slot(vm.top() - n))),
                Ok(_) => Ok(Value::Nil),
                Err(e) => Err(inner.convert_error(vm, e)),
            }
        })
    }

    /// Bytes used by the Lua heap (the engine's estimate: live objects plus garbage
    /// not yet collected).
    pub fn used_memory(&self) -> usize {
        self.inner.with_vm(|vm| vm.used_memory()).unwrap_or(0)
    }

    /// Sets the memory limit in bytes and returns the previous one. mlua's form takes
    /// a `usize` (0: no limit) and returns `Result<usize>`; moonbox's takes an
    /// `Option<usize>` (`None`: no limit) and returns `Option<usize>`.
    ///
    /// Every allocation of the state is accounted (strings, tables, closures, stacks,
    /// coroutines, buffers). One that would take the heap past the limit, even after a
    /// collection, raises the Lua error "not enough memory": Lua code can catch it
    /// with `pcall`, as in LuaJIT; uncaught, it reaches the host as
    /// [`Error::MemoryError`]. Big builtins (`string.rep`, `table.concat`, `gsub`, `..`)
    /// check before they allocate, so a gigabyte request fails without being made.
    /// The state stays usable.
    ///
    /// ```
    /// use moonbox::{Error, Lua};
    ///
    /// let lua = Lua::sandboxed();
    /// lua.set_memory_limit(4 << 20)?;
    /// let err = lua.load("local t = {} for i = 1, 1e8 do t[i] = {} end").exec().unwrap_err();
    /// assert!(matches!(err, Error::MemoryError(_)));
    /// assert_eq!(lua.set_memory_limit(None), Some(4 << 20));
    /// assert_eq!(lua.load("return 1").eval::<i32>()?, 1);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_memory_limit<L: MemoryLimit>(&self, limit: L) -> L::Output {
        limit.apply(self)
    }

    /// Sets how many bytes of the calling thread's stack the engine may use below the
    /// point where the host calls into it; returns the old setting. The default,
    /// [`DEFAULT_NATIVE_STACK`](moonbox_engine::vm::DEFAULT_NATIVE_STACK) (1 MiB
    /// natively), suits any thread with 2 MiB of stack, Rust's default for spawned
    /// threads. Lua calls do not use the native stack, but native code calling Lua does
    /// (metamethods called by library functions, sort comparators, coroutine resumes,
    /// nested `load`s, deeply nested syntax): past the limit that is the Lua error "C
    /// stack overflow" (or "chunk has too many syntax levels"), never a crash, as long
    /// as the thread has the limit plus
    /// [`NATIVE_STACK_SLACK`](moonbox_engine::vm::NATIVE_STACK_SLACK) left.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// // A thread with a 512 KiB stack.
    /// std::thread::Builder::new().stack_size(512 << 10).spawn(|| {
    ///     let lua = Lua::new();
    ///     lua.set_native_stack_limit(192 << 10);
    ///     let r = lua.load("local t = setmetatable({}, {__tostring = function(s) return tostring(s) end}) return tostring(t)").exec();
    ///     assert!(r.unwrap_err().to_string().contains("C stack overflow"));
    /// }).unwrap().join().unwrap();
    /// ```
    pub fn set_native_stack_limit(&self, bytes: usize) -> usize {
        self.inner
            .with_vm(|vm| {
                let old = vm.native_stack_limit();
                vm.set_native_stack_limit(bytes);
                old
            })
            .unwrap_or(0)
    }

    /// Turns the trace JIT on or off (`jit.on()` / `jit.off()`; off flushes every
    /// trace). Without the `jit` capability there is no JIT and this does nothing.
    pub fn set_jit_enabled(&self, on: bool) {
        let _ = self.inner.with_vm(|vm| vm.jit_settings(|j| j.on = on));
    }

    /// Whether the trace JIT exists on this state and is on (`jit.status()`).
    pub fn jit_enabled(&self) -> bool {
        self.inner.with_vm(|vm| vm.jit().active()).unwrap_or(false)
    }

    /// LuaJIT's optimisation settings, as `jit.opt.start` takes them: a level
    /// (`"3"`), a flag (`"-loop"`), a parameter (`"hotloop=10"`).
    ///
    /// ```
    /// let lua = moonbox::Lua::new();
    /// lua.set_jit_option("hotloop=10")?;
    /// assert!(lua.set_jit_option("hotloop=x").is_err());
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_jit_option(&self, opt: &str) -> Result<()> {
        let ok = self.inner.with_vm(|vm| {
            let mut ok = false;
            vm.jit_settings(|j| ok = j.opt(opt.as_bytes()));
            ok
        })?;
        if ok {
            Ok(())
        } else {
            Err(Error::RuntimeError(format!("unknown or malformed optimization flag '{opt}'")))
        }
    }

    /// Grants the C function `name` to a state whose FFI cannot call C itself (the
    /// `data` level of [`Capabilities::sandboxed`]): after
    /// `ffi.cdef("int32_t add(int32_t, int32_t);")`, `ffi.C.add(2, 3)` calls `f`.
    /// `signature` is `ret(param, ...)` over `void`, `bool`, `int8_t` .. `uint64_t`,
    /// `float`, `double` and `string` (`const char *`; no pointer crosses, the
    /// bytes do), and the script's declaration must match it exactly. Arguments
    /// are converted by LuaJIT's C conversion rules; `f`'s `Err` is raised in the
    /// script. At the `calls` level `ffi.C` resolves real symbols and grants are
    /// not consulted.
    ///
    /// ```
    /// use moonbox::{CValue, Capabilities, Lua};
    /// let lua = Lua::with_capabilities(Capabilities::sandboxed());
    /// lua.grant_c_function("add", "int32_t(int32_t, int32_t)", |args| match args {
    ///     [CValue::Num(a), CValue::Num(b)] => Ok(CValue::Num(a + b)),
    ///     _ => Err("add: two numbers".into()),
    /// })?;
    /// let n: i32 = lua.load(r#"
    ///     local ffi = require("ffi")
    ///     ffi.cdef("int add(int a, int b);")
    ///     return ffi.C.add(2, 3)
    /// "#).eval()?;
    /// assert_eq!(n, 5);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn grant_c_function<F>(&self, name: &str, signature: &str, f: F) -> Result<()>
    where
        F: Fn(&[CValue]) -> std::result::Result<CValue, std::string::String> + MaybeSend + 'static,
    {
        let f: moonbox_engine::ffi::grants::GrantFn = std::rc::Rc::new(move |_vm: &mut Vm, args: &[CValue]| {
            catch_unwind(AssertUnwindSafe(|| f(args))).unwrap_or_else(|_| Err("granted C function panicked".into()))
        });
        self.inner
            .with_vm(|vm| moonbox_engine::ffi::grants::grant_c_function(vm, name, signature, f))?
            .map_err(Error::RuntimeError)
    }

    /// The memory limit, if any.
    pub fn memory_limit(&self) -> Option<usize> {
        self.inner.with_vm(|vm| vm.memory_limit()).unwrap_or(None)
    }

    /// Sets the instruction budget: how many budget checks (one per call and per loop
    /// iteration or backward jump) Lua code may still make, across calls, before it is
    /// stopped with [`Error::BudgetExhausted`] (`None`: unlimited). `pcall` cannot
    /// catch the stop; setting a new budget makes the state usable again.
    ///
    /// ```
    /// use moonbox::{Error, Lua};
    ///
    /// let lua = Lua::new();
    /// lua.set_budget(Some(10_000));
    /// let err = lua.load("while true do end").exec().unwrap_err();
    /// assert!(matches!(err, Error::BudgetExhausted));
    /// lua.set_budget(None);
    /// lua.load("for i = 1, 100000 do end").exec()?;
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_budget(&self, budget: Option<u64>) {
        let _ = self.inner.with_vm(|vm| self.inner.limits.set_budget(vm, budget));
    }

    /// What is left of the instruction budget (`None`: unlimited).
    pub fn remaining_budget(&self) -> Option<u64> {
        self.inner.with_vm(|vm| self.inner.limits.remaining(vm)).unwrap_or(Some(0))
    }

    /// A thread-safe handle that stops this state's scripts (see [`CancelHandle`]).
    pub fn cancel_handle(&self) -> CancelHandle {
        self.inner.limits.cancel_handle()
    }

    /// Sets a hook called about every thousand budget checks while Lua code runs;
    /// returning [`Interrupt::Stop`] stops the script with [`Error::Interrupted`]
    /// (`pcall` cannot catch it). The hook runs inside the engine, so it gets no `&Lua`;
    /// capture what it needs (a deadline, an atomic flag). A panic in the hook stops
    /// the script as `Stop` would. (mlua's `set_interrupt` is Luau's and takes
    /// `Fn(&Lua) -> Result<VmState>`; this is moonbox's.)
    pub fn set_interrupt(&self, hook: impl FnMut() -> Interrupt + MaybeSend + 'static) {
        let _l = self.inner.lock();
        self.inner.limits.set_interrupt(Some(Box::new(hook)));
    }

    /// Removes the interrupt hook.
    pub fn remove_interrupt(&self) {
        let _l = self.inner.lock();
        self.inner.limits.set_interrupt(None);
    }

    /// Runs `f` on this state's raw engine [`Vm`](moonbox_engine::vm::Vm), for hosts
    /// that need the engine API (the `moonbox` command runs its chunks this way). The
    /// state's limits stay in force: the budget hook, the memory check and the interrupt
    /// hook are installed in the `Vm`. Values that `f` gets from the engine are only
    /// safe to use inside `f` (nothing anchors them); turn an engine error into an
    /// [`Error`] with [`Lua::error_from_raw`] when it says which limit stopped a script.
    ///
    /// Fails with [`Error::StateBusy`] when called from inside a running callback,
    /// and with [`Error::Cancelled`] or [`Error::MemoryError`] when a limit is already
    /// hit before `f` could run.
    ///
    /// # Safety
    /// Inside `f` the caller holds the raw engine's contract (`Vm::new_bare`): no
    /// handle (`GcRef`, or a GC-tagged `Value`) that `f` got from the engine is used
    /// after a call into the engine that may collect unless it is reachable from the
    /// state's roots, and none is used after `f` returns.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// // SAFETY: the loaded function is on the stack while it runs, and the result is
    /// // read at once as a number.
    /// let n = unsafe {
    ///     lua.with_raw_vm(|vm| {
    ///         let f = vm.load(b"return 6 * 7", b"=raw", None).unwrap();
    ///         vm.call_value(f, &[], 1).unwrap()[0].as_number()
    ///     })
    /// }?;
    /// assert_eq!(n, Some(42.0));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub unsafe fn with_raw_vm<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> Result<R> {
        self.inner.try_vm(|vm| {
            self.inner.before_run(vm)?;
            Ok(f(vm))
        })
    }

    /// Turns an error that the raw engine returned inside [`Lua::with_raw_vm`] into an
    /// [`Error`], as the facade's own calls do: a stop by a limit becomes
    /// [`Error::BudgetExhausted`], [`Error::Interrupted`], [`Error::Cancelled`] or
    /// [`Error::MemoryError`]. `vm` must be the one `with_raw_vm` lent (the conversion
    /// may run `__tostring`).
    pub fn error_from_raw(&self, vm: &mut Vm, e: LuaError) -> Error {
        self.inner.convert_error(vm, e)
    }

    /// Sends what `print` (and, in a trusted state, `io.write` to stdout) writes to
    /// `out` instead of the process's stdout. The handler runs inside the engine, so it
    /// gets no `&Lua`; a panic in it is contained (the output is dropped).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::sandboxed();
    /// let buf = Rc::new(RefCell::new(Vec::new()));
    /// let b = buf.clone();
    /// lua.set_output(move |bytes| b.borrow_mut().extend_from_slice(bytes))?;
    /// lua.load("print('hi', 42)").exec()?;
    /// assert_eq!(&*buf.borrow(), b"hi\t42\n");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    #[cfg(not(feature = "send"))]
    pub fn set_output(&self, out: impl FnMut(&[u8]) + 'static) -> Result<()> {
        self.set_output_boxed(Box::new(out))
    }

    /// Sends what `print` writes to `out` (see the non-`send` documentation).
    #[cfg(feature = "send")]
    pub fn set_output(&self, out: impl FnMut(&[u8]) + Send + 'static) -> Result<()> {
        self.set_output_boxed(Box::new(out))
    }

    fn set_output_boxed(&self, out: moonbox_engine::vm::OutputSink) -> Result<()> {
        let out = RefCell::new(out);
        self.inner.with_vm(|vm| {
            let old = vm.set_output(Some(Box::new(move |b: &[u8]| {
                if let Ok(mut f) = out.try_borrow_mut() {
                    let _ = catch_unwind(AssertUnwindSafe(|| (*f)(b)));
                }
            })));
            drop(NoUnwind::new(old));
        })
    }

    /// The unique id of this state (handles of other states are refused).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    // ----- Stack helpers for conversions ------------------------------------------------

    /// Pushes a raw value.
    #[inline]
    pub(crate) fn push_raw(&self, v: moonbox_engine::Value) -> Result<()> {
        self.inner.try_vm(|vm| crate::lua::push1(vm, v))
    }

    /// Pushes an owned value.
    pub(crate) fn push_value(&self, v: &Value) -> Result<()> {
        if let Value::Error(e) = v {
            return self.inner.try_vm(|vm| {
                let u = crate::userdata::error_userdata(vm, e);
                crate::lua::push1(vm, u)
            });
        }
        let raw = v.to_raw(&self.inner)?;
        self.push_raw(raw)
    }

    /// The raw value at stack slot `idx`.
    #[inline]
    pub(crate) fn raw_at(&self, idx: usize) -> Result<moonbox_engine::Value> {
        self.inner.with_vm(|vm| vm.slot(idx))
    }

    /// The owned value at stack slot `idx`.
    pub(crate) fn value_at(&self, idx: usize) -> Result<Value> {
        self.inner.with_vm(|vm| {
            let raw = vm.slot(idx);
            self.inner.value_from_raw(vm, raw)
        })
    }
}
