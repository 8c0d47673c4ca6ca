//! The `Lua` state and the machinery that lets Rust and the engine call each other.
//!
//! # How the VM is shared without a double borrow
//!
//! The engine's `Vm` lives in a `Cell<Option<Box<Vm>>>` inside the shared state
//! (`Inner`). Every facade operation *takes* the box out of the cell, works on it, and
//! puts it back ([`Inner::with_vm`]); there is no `RefCell`, so no borrow can panic.
//! While Lua code runs, the box is out of the cell and the engine has `&mut Vm`.
//!
//! When Lua calls a Rust callback, the engine is in the middle of a call with `&mut Vm`
//! on its Rust stack. The callback trampoline *lends* the state: it swaps the contents
//! of that `&mut Vm` with a spare, empty `Vm`, puts the box holding the real state
//! back into the cell, runs the callback (whose `&Lua` operations take and return the
//! box as usual), then takes the box out again and swaps the real state back under the
//! engine's feet. So the engine is never borrowed while Rust code runs, all of this is
//! safe Rust, and the cost is two `memcpy`s of the `Vm` struct per callback. Spares
//! are pooled, one per level of callback nesting.
//!
//! # Garbage-collection safety
//!
//! Raw engine values are only alive while something the collector sees refers to
//! them. The facade keeps every raw value it holds either in a handle's anchor slot or
//! on the VM stack (pushed above `top`, and popped by a [`StackGuard`]), and never
//! holds an unrooted raw value across a point where the collector may run (a call
//! into Lua, a metamethod, an explicit collection).

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use moonbox_engine::gc::GcRef;

use crate::capabilities::Capabilities;
use moonbox_engine::object::Table as RawTable;
use moonbox_engine::vm::{ErrorKind, LResult, LuaError, Vm, EXTRA_STACK, MAX_STACK};
use moonbox_engine::Value as Raw;

use crate::conv::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::limits::{self, CancelHandle, Interrupt, Limits, Stop};
use crate::value::{Ref, Value};
use crate::{Function, LuaString, Table, Thread};

/// A callback error's Lua text and the error.
type RecentError = (Box<[u8]>, Arc<Error>);

/// Callback errors remembered for recovery.
const RECENT_ERRORS: usize = 16;

/// Spare VMs kept for lending (deeper nesting allocates and frees extra ones).
const MAX_SPARES: usize = 8;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Options for [`Lua::with_options`].
///
/// ```
/// use moonbox::{Lua, LuaOptions};
///
/// let lua = Lua::with_options(LuaOptions {
///     sandboxed: true,
///     memory_limit: Some(16 << 20),
///     instruction_limit: Some(1_000_000),
/// });
/// assert_eq!(lua.load("return 6 * 7").eval::<i32>()?, 42);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct LuaOptions {
    /// Open the sandboxed library set (see [`Lua::sandboxed`]) instead of the full one.
    pub sandboxed: bool,
    /// Memory limit in bytes of live heap (see [`Lua::set_memory_limit`]).
    pub memory_limit: Option<usize>,
    /// Instruction budget (see [`Lua::set_budget`]).
    pub instruction_limit: Option<u64>,
}

/// A Lua state: the entry point of the embedding API.
///
/// `Lua` is not `Send`: the engine is single-threaded. Use a [`CancelHandle`] to stop
/// a script from another thread. Dropping the `Lua` frees the whole Lua heap; handles
/// that outlive it report [`Error::StateDropped`].
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
pub struct Lua {
    pub(crate) inner: Rc<Inner>,
}

/// The shared state behind a `Lua` and its handles.
pub(crate) struct Inner {
    pub(crate) id: u64,
    vm: Cell<Option<Box<Vm>>>,
    /// Stand-in VMs for lending (boxed: a lent box moves into `vm`).
    spare: Cell<Option<Box<Vm>>>,
    #[allow(clippy::vec_box)]
    spares: Cell<Vec<Box<Vm>>>,
    /// The anchor table: slot `i` holds the object of a live handle.
    anchors: GcRef<RawTable>,
    free_slots: Cell<Vec<u32>>,
    next_slot: Cell<u32>,
    /// Slots released while the VM was busy; cleared at the next anchoring.
    deferred: Cell<Vec<u32>>,
    pub(crate) limits: Rc<Limits>,
    /// Errors recently raised by Rust callbacks, by the text Lua sees (newest last),
    /// so the original error can be recovered when that value propagates out.
    recent_errors: RefCell<VecDeque<RecentError>>,
    /// The global table the state started with.
    globals: std::cell::OnceCell<Table>,
    /// Metatables of userdata types, by Rust type.
    pub(crate) ud_types: RefCell<HashMap<TypeId, GcRef<RawTable>>>,
    /// Userdata types whose metatable is being built.
    pub(crate) ud_building: RefCell<std::collections::HashSet<TypeId>>,
}

/// A value whose destructor must not unwind into the engine (userdata payloads are
/// dropped by the collector).
pub(crate) struct NoUnwind<T>(Option<T>);

impl<T> NoUnwind<T> {
    pub(crate) fn new(v: T) -> NoUnwind<T> {
        NoUnwind(Some(v))
    }
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

impl<T> Drop for NoUnwind<T> {
    fn drop(&mut self) {
        let v = self.0.take();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(v)));
    }
}

/// A Rust callback as the trampoline sees it: reads `nargs` arguments at
/// `stack[base ..]`, pushes its results, returns how many.
pub(crate) type CallbackFn = dyn Fn(&Lua, usize, usize) -> Result<usize>;

pub(crate) struct Callback {
    inner: Weak<Inner>,
    f: Box<CallbackFn>,
}

/// Puts the VM back into its cell, also on unwinding.
struct VmGuard<'a> {
    cell: &'a Cell<Option<Box<Vm>>>,
    vm: Option<Box<Vm>>,
}

impl VmGuard<'_> {
    #[inline]
    fn vm(&mut self) -> &mut Vm {
        match self.vm.as_deref_mut() {
            Some(vm) => vm,
            None => unreachable!("VmGuard holds the VM until dropped"),
        }
    }
}

impl Drop for VmGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.cell.replace(self.vm.take()).is_some() {
            // Two VMs for one state would mean a broken invariant; never risk freeing
            // a heap the engine still uses.
            std::process::abort();
        }
    }
}

/// Restores the VM to the engine when a lent callback ends, also on unwinding.
struct LendGuard<'a> {
    inner: &'a Inner,
    vm: &'a mut Vm,
}

impl Drop for LendGuard<'_> {
    fn drop(&mut self) {
        let Some(mut real) = self.inner.vm.take() else {
            // The engine is suspended on a stand-in VM and the real one is gone:
            // continuing could touch freed objects.
            std::process::abort();
        };
        std::mem::swap(self.vm, &mut *real);
        if let Some(other) = self.inner.spare.replace(Some(real)) {
            let mut spares = self.inner.spares.take();
            if spares.len() < MAX_SPARES {
                spares.push(other);
            }
            self.inner.spares.set(spares);
        }
    }
}

/// Restores the stack top on drop (pops what an operation pushed).
pub(crate) struct StackGuard<'a> {
    inner: &'a Inner,
    top: usize,
}

impl<'a> StackGuard<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Result<StackGuard<'a>> {
        let top = inner.with_vm(|vm| vm.top())?;
        Ok(StackGuard { inner, top })
    }
    /// A guard, then pushes `v` (at [`base`](StackGuard::base)).
    #[inline]
    pub(crate) fn with_pushed(inner: &'a Inner, v: Raw) -> Result<StackGuard<'a>> {
        let top = inner.try_vm(|vm| {
            let top = vm.top();
            push1(vm, v).map(|_| top)
        })?;
        Ok(StackGuard { inner, top })
    }

    /// The stack top when the guard was made: where the first pushed value went.
    pub(crate) fn base(&self) -> usize {
        self.top
    }
}

impl Drop for StackGuard<'_> {
    fn drop(&mut self) {
        let top = self.top;
        let _ = self.inner.with_vm(|vm| vm.set_top(top));
    }
}

impl Inner {
    /// Runs `f` with exclusive access to the VM (see the module docs).
    #[inline(always)]
    pub(crate) fn with_vm<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> Result<R> {
        let Some(vm) = self.vm.take() else { return Err(Error::StateBusy) };
        let mut g = VmGuard { cell: &self.vm, vm: Some(vm) };
        Ok(f(g.vm()))
    }

    /// [`with_vm`](Inner::with_vm) for a fallible `f`.
    #[inline(always)]
    pub(crate) fn try_vm<R>(&self, f: impl FnOnce(&mut Vm) -> Result<R>) -> Result<R> {
        let Some(vm) = self.vm.take() else { return Err(Error::StateBusy) };
        let mut g = VmGuard { cell: &self.vm, vm: Some(vm) };
        f(g.vm())
    }

    /// Lends the VM that the engine holds as `vm` to Rust code for the duration of
    /// `f` (see the module docs). `f` must not unwind.
    #[inline]
    fn lend<R>(&self, vm: &mut Vm, f: impl FnOnce() -> R) -> Result<R> {
        let mut slot = match self.spare.take() {
            Some(s) => s,
            None => {
                let mut spares = self.spares.take();
                let spare = spares.pop();
                self.spares.set(spares);
                // SAFETY: a spare is only a placeholder that holds the cell while the
                // engine runs on the real state: no handle to its objects is ever made.
                spare.unwrap_or_else(|| Box::new(unsafe { Vm::new_bare() }))
            }
        };
        if let Some(other) = self.vm.take() {
            // Not reachable: the engine only runs on a VM taken out of the cell.
            self.vm.set(Some(other));
            return Err(Error::StateBusy);
        }
        std::mem::swap(vm, &mut *slot);
        self.vm.set(Some(slot));
        let _g = LendGuard { inner: self, vm };
        Ok(f())
    }

    // ----- Anchors ---------------------------------------------------------------------

    /// Clears the slots released while the VM was busy.
    fn drain_deferred(&self) {
        let deferred = self.deferred.take();
        if !deferred.is_empty() {
            let mut free = self.free_slots.take();
            for s in deferred {
                let _ = self.anchors.set_int(i64::from(s), Raw::NIL, usize::MAX);
                free.push(s);
            }
            self.free_slots.set(free);
        }
    }

    /// Anchors `raw` in a fresh slot.
    fn anchor(&self, vm: &mut Vm, raw: Raw) -> u32 {
        self.drain_deferred();
        let mut free = self.free_slots.take();
        let slot = match free.pop() {
            Some(s) => s,
            None => {
                let s = self.next_slot.get() + 1;
                self.next_slot.set(s);
                s
            }
        };
        self.free_slots.set(free);
        // The anchor table is the facade's own bookkeeping: it grows past the limit
        // (accounted) rather than fail.
        let grown = self.anchors.set_int(i64::from(slot), raw, usize::MAX).unwrap_or(0);
        vm.barrier(self.anchors);
        vm.account_bytes(grown);
        slot
    }

    /// Frees a handle's slot (deferred if the VM is busy).
    pub(crate) fn release_slot(&self, slot: u32) {
        match self.vm.take() {
            Some(vm) => {
                let _ = self.anchors.set_int(i64::from(slot), Raw::NIL, usize::MAX);
                let mut free = self.free_slots.take();
                free.push(slot);
                self.free_slots.set(free);
                self.vm.set(Some(vm));
            }
            None => {
                let mut d = self.deferred.take();
                d.push(slot);
                self.deferred.set(d);
            }
        }
    }

    /// A handle core for `raw` (a reference value).
    pub(crate) fn make_ref(self: &Rc<Self>, vm: &mut Vm, raw: Raw) -> Rc<Ref> {
        let slot = self.anchor(vm, raw);
        Rc::new(Ref { inner: Rc::downgrade(self), lua_id: self.id, slot, raw })
    }

    // ----- Errors ------------------------------------------------------------------------

    /// Turns an engine error into a facade error (may run `__tostring`).
    pub(crate) fn convert_error(&self, vm: &mut Vm, e: LuaError) -> Error {
        let v = e.value();
        if let Some(err) = self.recent_error(v) {
            if err.is_uncatchable() || matches!(*err, Error::MemoryError(_)) {
                return (*err).clone();
            }
            return Error::CallbackError { traceback: e.traceback().map(str::to_owned), cause: err };
        }
        // The text of a catchable error (its `__tostring` may run, and may be stopped by
        // a limit: then the stop is what the host sees).
        let text = match e.kind() {
            ErrorKind::Budget | ErrorKind::Cancelled => String::new(),
            _ => match vm.error_text(&e) {
                Ok(t) => t,
                Err(stop) => return self.convert_error(vm, stop),
            },
        };
        match e.kind() {
            ErrorKind::Syntax => {
                let message = text;
                let incomplete_input = message.ends_with("'<eof>'");
                Error::SyntaxError { message, incomplete_input }
            }
            ErrorKind::Runtime | ErrorKind::ErrorHandler => {
                Error::RuntimeError { message: text, traceback: e.traceback().map(str::to_owned) }
            }
            ErrorKind::Memory | ErrorKind::RetryAfterGc => {
                // The engine's message, with the state's limit and use when one is set.
                let msg = text;
                if msg == "not enough memory" && vm.memory_limit().is_some() {
                    Error::MemoryError(self.memory_message(vm))
                } else {
                    Error::MemoryError(msg)
                }
            }
            ErrorKind::Cancelled => Error::Cancelled,
            ErrorKind::Budget => match self.limits.stop.get() {
                Stop::Cancelled => Error::Cancelled,
                Stop::Interrupted => Error::Interrupted,
                Stop::Budget | Stop::None => Error::BudgetExhausted,
            },
        }
    }

    fn memory_message(&self, vm: &Vm) -> String {
        match vm.memory_limit() {
            Some(l) => {
                format!("not enough memory (memory limit of {l} bytes exceeded, {} in use)", vm.used_memory())
            }
            None => "not enough memory".to_string(),
        }
    }

    /// Turns a callback's error into a Lua error raised at the callback's call site.
    fn raise(&self, vm: &mut Vm, e: Error) -> LuaError {
        let kind = match &e {
            Error::BudgetExhausted | Error::Interrupted => ErrorKind::Budget,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::MemoryError(_) => ErrorKind::Memory,
            _ => ErrorKind::Runtime,
        };
        let e = match e {
            Error::BadArgument { to: None, pos, cause } => {
                let (name, _) = vm.native_name();
                Error::BadArgument { to: (name != "?").then_some(name), pos, cause }
            }
            e => e,
        };
        let level = if vm.in_native() { 2 } else { 1 };
        let text = format!("{}{}", vm.where_prefix(level), lua_text(&e));
        match kind {
            ErrorKind::Budget => self.limits.stop.set(match e {
                Error::Interrupted => Stop::Interrupted,
                _ => Stop::Budget,
            }),
            ErrorKind::Cancelled => self.limits.stop.set(Stop::Cancelled),
            _ => {}
        }
        let v = vm.str_value(text.as_bytes());
        let mut recent = self.recent_errors.borrow_mut();
        if recent.len() >= RECENT_ERRORS {
            recent.pop_front();
        }
        recent.push_back((text.into_bytes().into_boxed_slice(), Arc::new(e)));
        LuaError::new(kind, v)
    }

    /// The callback error whose Lua text is `v`, if one was raised recently.
    fn recent_error(&self, v: Raw) -> Option<Arc<Error>> {
        let s = v.as_string()?;
        let recent = self.recent_errors.borrow();
        recent.iter().rev().find(|(t, _)| **t == *s.as_bytes()).map(|(_, e)| e.clone())
    }

    // ----- Limits ------------------------------------------------------------------------

    /// If the heap is over the memory limit, collects; still over: `MemoryError`.
    pub(crate) fn check_memory(&self, vm: &mut Vm) -> Result<()> {
        if !vm.over_memory_limit() {
            return Ok(());
        }
        if let Err(e) = vm.full_gc() {
            // A finalizer was stopped by a limit.
            return Err(self.convert_error(vm, e));
        }
        if vm.over_memory_limit() {
            return Err(Error::MemoryError(self.memory_message(vm)));
        }
        Ok(())
    }

    /// Checks before running Lua code: cancellation, and a pending memory stop.
    fn before_run(&self, vm: &mut Vm) -> Result<()> {
        if self.limits.is_cancelled() {
            self.limits.stop.set(Stop::Cancelled);
            return Err(Error::Cancelled);
        }
        self.check_memory(vm)
    }

    /// Calls the function at `stack[func]` with the `nargs` values above it; all results
    /// are left at `stack[func ..]`. Returns their count.
    pub(crate) fn call_at(&self, vm: &mut Vm, func: usize, nargs: usize) -> Result<usize> {
        self.before_run(vm)?;
        match vm.call_at(func, nargs, -1) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.convert_error(vm, e)),
        }
    }

    /// Resumes a coroutine with the values at `stack[base .. base + nargs]`; pushes
    /// what it yields or returns and gives their count.
    pub(crate) fn resume_at(&self, vm: &mut Vm, co: Raw, base: usize, nargs: usize) -> Result<usize> {
        let Some(co) = co.as_thread() else { return Err(Error::CoroutineUnresumable) };
        if co.status() != moonbox_engine::vm::CoStatus::Suspended {
            return Err(Error::CoroutineUnresumable);
        }
        self.before_run(vm)?;
        match vm.resume(co, base, nargs) {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(ev)) => Err(self.convert_error(vm, LuaError::new(ErrorKind::Runtime, ev))),
            Err(e) => Err(self.convert_error(vm, e)),
        }
    }

    /// Compiles a chunk into a function handle.
    fn load_chunk(self: &Rc<Self>, src: &[u8], name: &[u8], env: Option<&Table>) -> Result<Function> {
        let env = match env {
            Some(t) => Some(t.0.raw_for(self)?.as_table().ok_or(Error::MismatchedLua)?),
            None => None,
        };
        self.with_vm(|vm| {
            self.check_memory(vm)?;
            match vm.load(src, name, env) {
                Ok(f) => Ok(Function(self.make_ref(vm, f))),
                Err(e) => Err(self.convert_error(vm, e)),
            }
        })?
    }

    /// Wraps a callback as a Lua function value.
    pub(crate) fn make_callback(self: &Rc<Self>, vm: &mut Vm, f: Box<CallbackFn>) -> Raw {
        let cb = Rc::new(Callback { inner: Rc::downgrade(self), f });
        let ud = vm.new_userdata(Some(Box::new(NoUnwind::new(cb))));
        vm.native_closure(callback_trampoline, "?", vec![ud.to_value()])
    }
}

/// Pushes one value, failing cleanly past the engine's stack limit.
#[inline(always)]
pub(crate) fn push1(vm: &mut Vm, v: Raw) -> Result<()> {
    if vm.top() >= MAX_STACK {
        return Err(Error::runtime("stack overflow"));
    }
    vm.push(v);
    Ok(())
}

/// Pushes values, failing cleanly past the engine's stack limit.
pub(crate) fn push_checked(vm: &mut Vm, vals: &[Raw]) -> Result<()> {
    if vm.top() + vals.len() > MAX_STACK {
        return Err(Error::runtime("stack overflow"));
    }
    if vm.ensure_stack(vm.top() + vals.len() + EXTRA_STACK).is_err() {
        return Err(Error::runtime("stack overflow"));
    }
    for &v in vals {
        vm.push(v);
    }
    Ok(())
}

/// The text Lua code sees for a callback's error.
fn lua_text(e: &Error) -> String {
    match e {
        Error::RuntimeError { message, .. } => message.clone(),
        Error::CallbackError { cause, .. } => lua_text(cause),
        Error::BadArgument { to, pos, cause } => match to {
            Some(t) => format!("bad argument #{pos} to '{t}' ({})", lua_text(cause)),
            None => format!("bad argument #{pos} ({})", lua_text(cause)),
        },
        Error::MemoryError(_) => "not enough memory".to_string(),
        e => e.to_string(),
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// The native behind every Rust callback (upvalue 0: the callback).
fn callback_trampoline(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let cb = vm
        .native_upval(0)
        .as_userdata()
        .and_then(|u| u.data().and_then(|d| d.downcast_ref::<NoUnwind<Rc<Callback>>>()).and_then(|c| c.get().cloned()));
    let Some(cb) = cb else { return Err(vm.rt_error("moonbox: not a Rust callback")) };
    let Some(inner) = cb.inner.upgrade() else {
        return Err(vm.rt_error("the Lua state of this Rust callback was dropped"));
    };
    if let Err(e) = inner.check_memory(vm) {
        return Err(inner.raise(vm, e));
    }
    let lua = Lua { inner };
    let r = lua.inner.lend(vm, || catch_unwind(AssertUnwindSafe(|| (cb.f)(&lua, base, nargs))));
    let e = match r {
        Ok(Ok(Ok(n))) => return Ok(n),
        Ok(Ok(Err(e))) => e,
        Ok(Err(payload)) => {
            let message = panic_message(&*payload);
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Error::CallbackPanic { message }
        }
        Err(e) => e,
    };
    Err(lua.inner.raise(vm, e))
}

// ----- The public API ---------------------------------------------------------------

impl Default for Lua {
    fn default() -> Self {
        Lua::new()
    }
}

impl std::fmt::Debug for Lua {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lua(#{})", self.inner.id)
    }
}

impl Lua {
    /// A state with the full standard library, for trusted code: like the `luajit`
    /// command (io, os, debug, `require` from the file system, binary chunks).
    pub fn new() -> Lua {
        Lua::with_options(LuaOptions::default())
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
        Lua::new_with(caps, options)
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
        Lua::new_with(caps, LuaOptions::default())
    }

    /// A state with `caps` and the limits of `options` (whose `sandboxed` flag is
    /// not used: `caps` decides).
    pub fn new_with(caps: Capabilities, options: LuaOptions) -> Lua {
        // SAFETY: the facade keeps the state's contract: every handle it gives out
        // is anchored in `anchors` (a root) and checked against this state's id,
        // and it holds no other reference across a call into the state.
        let mut vm = Box::new(unsafe { Vm::new_bare() });
        moonbox_engine::stdlib::open_with(&mut vm, &caps.caps);
        if !caps.gc_control || options.memory_limit.is_some() {
            crate::sandbox::guard_collectgarbage(&mut vm);
        }
        let anchors = vm.new_table(16, 0);
        vm.add_root(anchors.to_value());
        vm.set_memory_limit(options.memory_limit);
        let limits = Rc::new(Limits::new(options.instruction_limit));
        limits::install(&mut vm, &limits);
        let inner = Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            vm: Cell::new(Some(vm)),
            spare: Cell::new(None),
            spares: Cell::new(Vec::new()),
            anchors,
            free_slots: Cell::new(Vec::new()),
            next_slot: Cell::new(0),
            deferred: Cell::new(Vec::new()),
            limits,
            recent_errors: RefCell::new(VecDeque::new()),
            globals: std::cell::OnceCell::new(),
            ud_types: RefCell::new(HashMap::new()),
            ud_building: RefCell::new(std::collections::HashSet::new()),
        };
        let lua = Lua { inner: Rc::new(inner) };
        if let Ok(g) = lua.inner.with_vm(|vm| Table(lua.inner.make_ref(vm, vm.globals().to_value()))) {
            let _ = lua.inner.globals.set(g);
        }
        lua
    }

    /// Prepares a chunk of Lua source for running. See [`Chunk`].
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// lua.load("x = 1 + 2").set_name("=setup").exec()?;
    /// assert_eq!(lua.globals().get::<_, i32>("x")?, 3);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn load<'a>(&'a self, source: impl AsChunk<'a>) -> Chunk<'a> {
        Chunk { lua: self, source: source.into_source(), name: None, env: None }
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
            Err(_) => self.initial_globals(),
        }
    }

    fn initial_globals(&self) -> Table {
        match self.inner.globals.get() {
            Some(t) => t.clone(),
            None => unreachable!("set when the state is made"),
        }
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
    /// assert_eq!(t.get::<_, i32>("b")?, 2);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_table_from<K, V, I>(&self, pairs: I) -> Result<Table>
    where
        K: IntoLua,
        V: IntoLua,
        I: IntoIterator<Item = (K, V)>,
    {
        let t = self.create_table()?;
        for (k, v) in pairs {
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
    pub fn create_sequence_from<V, I>(&self, values: I) -> Result<Table>
    where
        V: IntoLua,
        I: IntoIterator<Item = V>,
    {
        let t = self.create_table()?;
        for (i, v) in values.into_iter().enumerate() {
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
    pub fn create_string(&self, bytes: impl AsRef<[u8]>) -> Result<LuaString> {
        let b = bytes.as_ref();
        self.inner.with_vm(|vm| {
            self.inner.check_memory(vm)?;
            let s = vm.str_value(b);
            Ok(LuaString::from_ref(self.inner.make_ref(vm, s)))
        })?
    }

    /// Wraps a Rust closure as a Lua function. Arguments and results are converted
    /// with [`FromLuaMulti`] / [`IntoLuaMulti`]; an `Err` becomes a Lua error that
    /// `pcall` can catch, and a panic is caught and becomes a Lua error too.
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
    pub fn create_function<A, R, F>(&self, func: F) -> Result<Function>
    where
        A: FromLuaMulti,
        R: IntoLuaMulti,
        F: Fn(&Lua, A) -> Result<R> + 'static,
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
    /// counter.call::<_, ()>(())?;
    /// assert_eq!(counter.call::<_, i32>(())?, 2);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_function_mut<A, R, F>(&self, func: F) -> Result<Function>
    where
        A: FromLuaMulti,
        R: IntoLuaMulti,
        F: FnMut(&Lua, A) -> Result<R> + 'static,
    {
        let func = RefCell::new(func);
        self.create_function(move |lua, args| {
            let mut f = func.try_borrow_mut().map_err(|_| Error::RecursiveMutCallback)?;
            f(lua, args)
        })
    }

    pub(crate) fn create_callback(&self, f: Box<CallbackFn>) -> Result<Function> {
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
    /// assert_eq!(co.resume::<_, i32>(1)?, 2);
    /// assert_eq!(co.resume::<_, i32>(10)?, 20);
    /// assert_eq!(co.status(), ThreadStatus::Finished);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn create_thread(&self, func: Function) -> Result<Thread> {
        let f = func.0.raw_for(&self.inner)?;
        self.inner.with_vm(|vm| {
            self.inner.check_memory(vm)?;
            let co = vm.new_thread(f);
            Ok(Thread(self.inner.make_ref(vm, co.to_value())))
        })?
    }

    /// Converts a Rust value to a Lua value.
    pub fn pack<T: IntoLua>(&self, v: T) -> Result<Value> {
        v.into_lua(self)
    }

    /// Converts a Lua value to a Rust value.
    pub fn unpack<T: FromLua>(&self, v: Value) -> Result<T> {
        T::from_lua(v, self)
    }

    // ----- Registry ------------------------------------------------------------------

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
    pub fn create_registry_value<T: IntoLua>(&self, v: T) -> Result<RegistryKey> {
        let value = v.into_lua(self)?;
        if let Some(r) = value.as_ref_core() {
            r.raw_for(&self.inner)?;
        }
        Ok(RegistryKey { lua_id: self.inner.id, value })
    }

    /// The value stored under a registry key.
    pub fn registry_value<T: FromLua>(&self, key: &RegistryKey) -> Result<T> {
        if key.lua_id != self.inner.id {
            return Err(Error::MismatchedLua);
        }
        T::from_lua(key.value.clone(), self)
    }

    /// Removes a registry value (the same as dropping the key).
    pub fn remove_registry_value(&self, key: RegistryKey) -> Result<()> {
        if key.lua_id != self.inner.id {
            return Err(Error::MismatchedLua);
        }
        drop(key);
        Ok(())
    }

    /// Stores a value in the Lua registry under a string name (the same table Lua's
    /// `debug.getregistry()` returns; pick names that will not clash, e.g. prefixed
    /// by your crate's name).
    pub fn set_named_registry_value<T: IntoLua>(&self, name: &str, v: T) -> Result<()> {
        let g = StackGuard::new(&self.inner)?;
        v.push_into_stack(self)?;
        let at = g.base();
        self.inner.with_vm(|vm| {
            let v = vm.slot(at);
            let reg = vm.registry();
            vm.set_field(reg, name, v);
        })
    }

    /// The registry value stored under `name` (nil if none).
    pub fn named_registry_value<T: FromLua>(&self, name: &str) -> Result<T> {
        let g = StackGuard::new(&self.inner)?;
        let at = g.base();
        self.inner.with_vm(|vm| {
            let reg = vm.registry();
            let v = vm.get_field(reg, name);
            vm.push(v);
        })?;
        T::from_stack(at, self)
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

    /// Bytes used by the Lua heap (the engine's estimate: live objects plus garbage
    /// not yet collected).
    pub fn used_memory(&self) -> usize {
        self.inner.with_vm(|vm| vm.used_memory()).unwrap_or(0)
    }

    /// Sets the memory limit in bytes (`None`: no limit); returns the previous one.
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
    /// lua.set_memory_limit(Some(4 << 20));
    /// let err = lua.load("local t = {} for i = 1, 1e8 do t[i] = {} end").exec().unwrap_err();
    /// assert!(matches!(err, Error::MemoryError(_)));
    /// lua.set_memory_limit(None);
    /// assert_eq!(lua.load("return 1").eval::<i32>()?, 1);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_memory_limit(&self, limit: Option<usize>) -> Option<usize> {
        self.inner
            .with_vm(|vm| {
                let old = vm.memory_limit();
                vm.set_memory_limit(limit);
                old
            })
            .unwrap_or(None)
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
    /// the script as `Stop` would.
    pub fn set_interrupt(&self, hook: impl FnMut() -> Interrupt + 'static) {
        self.inner.limits.set_interrupt(Some(Box::new(hook)));
    }

    /// Removes the interrupt hook.
    pub fn remove_interrupt(&self) {
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
    pub fn set_output(&self, out: impl FnMut(&[u8]) + 'static) -> Result<()> {
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
    pub(crate) fn push_raw(&self, v: Raw) -> Result<()> {
        self.inner.try_vm(|vm| push1(vm, v))
    }

    /// Pushes an owned value.
    pub(crate) fn push_value(&self, v: &Value) -> Result<()> {
        let raw = v.to_raw(&self.inner)?;
        self.push_raw(raw)
    }

    /// The raw value at stack slot `idx`.
    #[inline]
    pub(crate) fn raw_at(&self, idx: usize) -> Result<Raw> {
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

/// A value kept alive by the state until the key is dropped (see
/// [`Lua::create_registry_value`]).
pub struct RegistryKey {
    lua_id: u64,
    value: Value,
}

impl std::fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryKey({:?})", self.value)
    }
}

// ----- Chunks -----------------------------------------------------------------------

/// Lua source text accepted by [`Lua::load`]: `&str`, `String`, `&[u8]`, `Vec<u8>`.
pub trait AsChunk<'a> {
    /// The source bytes.
    fn into_source(self) -> Cow<'a, [u8]>;
}

impl<'a> AsChunk<'a> for &'a str {
    fn into_source(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl<'a> AsChunk<'a> for &'a String {
    fn into_source(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl<'a> AsChunk<'a> for String {
    fn into_source(self) -> Cow<'a, [u8]> {
        Cow::Owned(self.into_bytes())
    }
}

impl<'a> AsChunk<'a> for &'a [u8] {
    fn into_source(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self)
    }
}

impl<'a, const N: usize> AsChunk<'a> for &'a [u8; N] {
    fn into_source(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self)
    }
}

impl<'a> AsChunk<'a> for Vec<u8> {
    fn into_source(self) -> Cow<'a, [u8]> {
        Cow::Owned(self)
    }
}

/// A chunk of Lua source being prepared to run (from [`Lua::load`]).
///
/// Chunk names follow Lua: `"=name"` is shown as `name`, `"@file.lua"` as a file name,
/// anything else as `[string "..."]`. The default name is the source itself, as for
/// Lua's `loadstring`.
///
/// ```
/// use moonbox::{Error, Lua};
///
/// let lua = Lua::new();
/// let err = lua.load("error('bad')").set_name("=config").exec().unwrap_err();
/// assert!(err.to_string().contains("config:1: bad"));
/// # let _: Result<(), Error> = Ok(());
/// ```
pub struct Chunk<'a> {
    lua: &'a Lua,
    source: Cow<'a, [u8]>,
    name: Option<String>,
    env: Option<Table>,
}

impl<'a> Chunk<'a> {
    /// Sets the chunk name used in error messages and tracebacks.
    pub fn set_name(mut self, name: impl Into<String>) -> Chunk<'a> {
        self.name = Some(name.into());
        self
    }

    /// Runs the chunk with `env` as its global environment instead of the globals.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let env = lua.create_table()?;
    /// lua.load("answer = 42").set_environment(env.clone()).exec()?;
    /// assert_eq!(env.get::<_, i32>("answer")?, 42);
    /// assert!(lua.globals().get::<_, Option<i32>>("answer")?.is_none());
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_environment(mut self, env: Table) -> Chunk<'a> {
        self.env = Some(env);
        self
    }

    fn chunk_name(&self) -> Vec<u8> {
        match &self.name {
            Some(n) => n.as_bytes().to_vec(),
            None => self.source.to_vec(),
        }
    }

    /// Compiles the chunk into a function without running it.
    pub fn into_function(self) -> Result<Function> {
        let name = self.chunk_name();
        self.lua.inner.load_chunk(&self.source, &name, self.env.as_ref())
    }

    /// Runs the chunk, discarding its results.
    pub fn exec(self) -> Result<()> {
        self.into_function()?.call::<_, ()>(())
    }

    /// Evaluates the chunk as an expression (`return <source>`), or, if that does not
    /// compile, runs it as statements; returns its results.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// assert_eq!(lua.load("1 + 2").eval::<i32>()?, 3);
    /// assert_eq!(lua.load("local x = 5 return x * 2").eval::<i32>()?, 10);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn eval<R: FromLuaMulti>(self) -> Result<R> {
        let name = self.chunk_name();
        let binary = self.source.first() == Some(&0x1b);
        if !binary {
            let mut expr = b"return ".to_vec();
            expr.extend_from_slice(&self.source);
            if let Ok(f) = self.lua.inner.load_chunk(&expr, &name, self.env.as_ref()) {
                return f.call(());
            }
        }
        self.lua.inner.load_chunk(&self.source, &name, self.env.as_ref())?.call(())
    }

    /// Runs the chunk with arguments (its `...`); returns its results.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let sum: f64 = lua.load("local a, b = ... return a + b").call((1, 2.5))?;
    /// assert_eq!(sum, 3.5);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn call<A: IntoLuaMulti, R: FromLuaMulti>(self, args: A) -> Result<R> {
        self.into_function()?.call(args)
    }
}
