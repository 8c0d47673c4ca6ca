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
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use moonbox_engine::gc::GcRef;
use moonbox_engine::object::Table as RawTable;
use moonbox_engine::vm::{ErrorKind, LResult, LuaError, Vm, EXTRA_STACK, MAX_STACK};
use moonbox_engine::Value as Raw;

use crate::error::{Error, Result};
use crate::limits::{Limits, Stop};
use crate::sync::{XRc, XWeak};
use crate::value::Ref;
use crate::{Function, Table};

pub use crate::state::Lua;

/// A callback error's Lua text and the error.
type RecentError = (Box<[u8]>, Arc<Error>);

/// Callback errors remembered for recovery.
const RECENT_ERRORS: usize = 16;

/// Spare VMs kept for lending (deeper nesting allocates and frees extra ones).
const MAX_SPARES: usize = 8;

pub(crate) static NEXT_ID: AtomicU64 = AtomicU64::new(1);

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
    pub(crate) limits: XRc<Limits>,
    /// Errors recently raised by Rust callbacks, by the text Lua sees (newest last),
    /// so the original error can be recovered when that value propagates out.
    recent_errors: RefCell<VecDeque<RecentError>>,
    /// A panic that reached the facade's boundary: resumed when control leaves the
    /// engine (see [`Inner::with_vm`]).
    pending_panic: Cell<Option<Box<dyn Any + Send>>>,
    /// Data the application attached to the state (see [`Lua::set_app_data`]).
    pub(crate) app_data: crate::types::AppData,
    /// The global table the state started with.
    globals: std::cell::OnceCell<Table>,
    /// Metatables of userdata types, by Rust type.
    pub(crate) ud_types: RefCell<HashMap<TypeId, GcRef<RawTable>>>,
    /// Userdata types whose metatable is being built.
    pub(crate) ud_building: RefCell<std::collections::HashSet<TypeId>>,
    /// The hook set with [`Lua::set_hook`], if any.
    pub(crate) hook: RefCell<Option<crate::debug::HookCallback>>,
    /// A closed state (see `Lua::closed`): its VM is never handed out.
    closed: Cell<bool>,
    /// The waker of the task polling an `AsyncThread`, while it resumes.
    #[cfg(feature = "async")]
    waker: Cell<Option<std::task::Waker>>,
    /// Serializes every use of the fields above between threads (`send` feature).
    #[cfg(feature = "send")]
    lock: parking_lot::ReentrantMutex<()>,
}

#[cfg(feature = "send")]
// SAFETY: `Inner`'s interior-mutable fields and the VM (whose heap has no thread
// affinity: the engine keeps no per-thread state that outlives a call) are only
// touched while `lock` is held: `with_vm`/`try_vm` take it around every use of the
// VM (so also while Lua code, and the callbacks it calls, run), and the few fields
// used outside the VM (slots released by `Drop`, app data, userdata metatables, the
// hook, the waker, the interrupt hook) are reached through `Inner::lock` as well.
// The lock is reentrant, so a callback on the thread that holds it re-enters as in
// the single-threaded build; another thread waits. Everything stored inside (callbacks,
// userdata, hooks, output) is `Send` by the `MaybeSend` bounds of this feature.
unsafe impl Send for Inner {}
#[cfg(feature = "send")]
// SAFETY: as above: shared access goes through `lock`.
unsafe impl Sync for Inner {}

/// What `Inner::lock` returns: the reentrant lock's guard, or nothing.
#[cfg(feature = "send")]
pub(crate) type LockGuard<'a> = parking_lot::ReentrantMutexGuard<'a, ()>;
#[cfg(not(feature = "send"))]
pub(crate) type LockGuard<'a> = std::marker::PhantomData<&'a ()>;

impl Inner {
    /// The shared state around a fresh VM.
    pub(crate) fn new(mut vm: Box<Vm>, limits: XRc<Limits>, id: u64) -> Inner {
        let anchors = vm.new_table(16, 0);
        vm.add_root(anchors.to_value());
        Inner {
            id,
            vm: Cell::new(Some(vm)),
            spare: Cell::new(None),
            spares: Cell::new(Vec::new()),
            anchors,
            free_slots: Cell::new(Vec::new()),
            next_slot: Cell::new(0),
            deferred: Cell::new(Vec::new()),
            limits,
            recent_errors: RefCell::new(VecDeque::new()),
            pending_panic: Cell::new(None),
            app_data: crate::types::AppData::default(),
            globals: std::cell::OnceCell::new(),
            ud_types: RefCell::new(HashMap::new()),
            ud_building: RefCell::new(std::collections::HashSet::new()),
            hook: RefCell::new(None),
            closed: Cell::new(false),
            #[cfg(feature = "async")]
            waker: Cell::new(None),
            #[cfg(feature = "send")]
            lock: parking_lot::ReentrantMutex::new(()),
        }
    }

    /// Takes the state's lock (a no-op without the `send` feature).
    #[inline(always)]
    pub(crate) fn lock(&self) -> LockGuard<'_> {
        #[cfg(feature = "send")]
        return self.lock.lock();
        #[cfg(not(feature = "send"))]
        std::marker::PhantomData
    }

    /// The waker of the task polling the running `AsyncThread`, if any.
    #[cfg(feature = "async")]
    pub(crate) fn waker(&self) -> Option<std::task::Waker> {
        let _l = self.lock();
        let w = self.waker.take();
        self.waker.set(w.clone());
        w
    }

    /// Sets the current waker; returns the previous one.
    #[cfg(feature = "async")]
    pub(crate) fn set_waker(&self, w: Option<std::task::Waker>) -> Option<std::task::Waker> {
        let _l = self.lock();
        self.waker.replace(w)
    }

    /// Remembers the global table the state starts with (see `initial_globals`).
    pub(crate) fn init_globals(self: &XRc<Self>) {
        let _l = self.lock();
        if let Ok(g) = self.with_vm(|vm| Table(self.make_ref(vm, vm.globals().to_value()))) {
            let _ = self.globals.set(g);
        }
    }

    /// The global table the state started with (for when the VM is busy).
    pub(crate) fn initial_globals(&self) -> Table {
        let _l = self.lock();
        match self.globals.get() {
            Some(t) => t.clone(),
            None => unreachable!("set when the state is made"),
        }
    }

    /// Closes the state: its VM is dropped and never handed out again.
    pub(crate) fn close(&self) {
        let _l = self.lock();
        self.closed.set(true);
        drop(self.vm.take());
    }
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
#[cfg(not(feature = "send"))]
pub(crate) type CallbackFn = dyn Fn(&Lua, usize, usize) -> Result<usize>;
#[cfg(feature = "send")]
pub(crate) type CallbackFn = dyn Fn(&Lua, usize, usize) -> Result<usize> + Send;

pub(crate) struct Callback {
    inner: XWeak<Inner>,
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
///
/// It holds the state's lock for its whole life (the `send` feature's reentrant
/// lock; nothing without it): an operation pushes a function, then its arguments,
/// then calls, each step taking the VM on its own, and another thread must not push
/// onto the same stack in between.
pub(crate) struct StackGuard<'a> {
    inner: &'a Inner,
    top: usize,
    _lock: LockGuard<'a>,
}

impl<'a> StackGuard<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Result<StackGuard<'a>> {
        let lock = inner.lock();
        let top = inner.with_vm(|vm| vm.top())?;
        Ok(StackGuard { inner, top, _lock: lock })
    }
    /// A guard, then pushes `v` (at [`base`](StackGuard::base)).
    #[inline]
    pub(crate) fn with_pushed(inner: &'a Inner, v: Raw) -> Result<StackGuard<'a>> {
        let lock = inner.lock();
        let top = inner.try_vm(|vm| {
            let top = vm.top();
            push1(vm, v).map(|_| top)
        })?;
        Ok(StackGuard { inner, top, _lock: lock })
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
    ///
    /// When a Rust callback's panic reached the facade during `f` (as a Lua error that
    /// left the engine), it is resumed here, after the VM is back in its cell: either
    /// in the embedder's code, or inside an outer callback, whose trampoline catches it
    /// again. It never unwinds through the engine.
    #[inline(always)]
    pub(crate) fn with_vm<R>(&self, f: impl FnOnce(&mut Vm) -> R) -> Result<R> {
        let _l = self.lock();
        let Some(vm) = self.vm.take() else { return Err(self.busy()) };
        let mut g = VmGuard { cell: &self.vm, vm: Some(vm) };
        let r = f(g.vm());
        drop(g);
        self.resume_panic();
        Ok(r)
    }

    /// [`with_vm`](Inner::with_vm) for a fallible `f`.
    #[inline(always)]
    pub(crate) fn try_vm<R>(&self, f: impl FnOnce(&mut Vm) -> Result<R>) -> Result<R> {
        let _l = self.lock();
        let Some(vm) = self.vm.take() else { return Err(self.busy()) };
        let mut g = VmGuard { cell: &self.vm, vm: Some(vm) };
        let r = f(g.vm());
        drop(g);
        self.resume_panic();
        r
    }

    /// Why the VM is not in its cell.
    #[cold]
    fn busy(&self) -> Error {
        if self.closed.get() {
            Error::StateDropped
        } else {
            Error::StateBusy
        }
    }

    /// Resumes a pending callback panic (see [`with_vm`](Inner::with_vm)).
    #[inline(always)]
    fn resume_panic(&self) {
        if let Some(p) = self.pending_panic.take() {
            resume_unwind(p);
        }
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
    pub(crate) fn drain_deferred(&self) {
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
        let _l = self.lock();
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
    pub(crate) fn make_ref(self: &XRc<Self>, vm: &mut Vm, raw: Raw) -> XRc<Ref> {
        let slot = self.anchor(vm, raw);
        XRc::new(Ref { inner: XRc::downgrade(self), lua_id: self.id, slot, raw })
    }

    // ----- Errors ------------------------------------------------------------------------

    /// Turns an engine error into a facade error (may run `__tostring`).
    pub(crate) fn convert_error(&self, vm: &mut Vm, e: LuaError) -> Error {
        let v = e.value();
        if let Some(p) = self.recent_panic(v) {
            // Resumed when control leaves the engine (see `with_vm`).
            let message = panic_message(&*p);
            self.pending_panic.set(Some(p));
            return Error::RuntimeError(format!("panic: {message}"));
        }
        if let Some(err) = self.recent_error(v) {
            if err.is_uncatchable() || matches!(*err, Error::MemoryError(_)) {
                return (*err).clone();
            }
            let traceback = host_traceback(e.traceback()).unwrap_or_else(|| "stack traceback:\n\t[C]: in ?".to_owned());
            return Error::CallbackError { traceback, cause: err };
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
                let mut message = text;
                if let Some(tb) = host_traceback(e.traceback()) {
                    message.push('\n');
                    message.push_str(&tb);
                }
                Error::RuntimeError(message)
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
            Error::BadArgument { to: None, pos, name, cause } => {
                let (fname, _) = vm.native_name();
                Error::BadArgument { to: (fname != "?").then_some(fname), pos, name, cause }
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

    /// Turns a callback's panic into a Lua error: a userdata that carries the payload
    /// (its `tostring` is the panic message, as in mlua) until it leaves the engine.
    fn raise_panic(&self, vm: &mut Vm, payload: Box<dyn Any + Send>) -> LuaError {
        let reg = vm.registry();
        let mut mt = vm.get_field(reg, "moonbox.panic_mt").as_table();
        if mt.is_none() {
            let t = vm.new_table(0, 2);
            let f = vm.native(panic_tostring, "__tostring");
            vm.set_field(t, "__tostring", f);
            vm.set_field(reg, "moonbox.panic_mt", t.to_value());
            mt = Some(t);
        }
        let message = panic_message(&*payload);
        let p = WrappedPanic { message, payload: Cell::new(Some(payload)) };
        let ud = vm.new_userdata(Some(Box::new(NoUnwind::new(p))));
        ud.set_meta(mt);
        vm.barrier(ud);
        LuaError::new(ErrorKind::Runtime, ud.to_value())
    }

    /// The panic carried by the error value `v`, taken out of it.
    fn recent_panic(&self, v: Raw) -> Option<Box<dyn Any + Send>> {
        let u = v.as_userdata()?;
        let p = u.data()?.downcast_ref::<NoUnwind<WrappedPanic>>()?.get()?;
        p.payload.take()
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
    pub(crate) fn before_run(&self, vm: &mut Vm) -> Result<()> {
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
            Ok(Err(ev)) => {
                // The coroutine's frames still show where it failed.
                let mut e = LuaError::new(ErrorKind::Runtime, ev);
                e.set_traceback(vm.thread_traceback(co, 0));
                Err(self.convert_error(vm, e))
            }
            Err(e) => Err(self.convert_error(vm, e)),
        }
    }

    /// Compiles a chunk into a function handle.
    pub(crate) fn load_chunk(
        self: &XRc<Self>,
        src: &[u8],
        name: &[u8],
        env: Option<&Table>,
        mode: Option<&[u8]>,
    ) -> Result<Function> {
        let env = match env {
            Some(t) => Some(t.0.raw_for(self)?.as_table().ok_or(Error::MismatchedLua)?),
            None => None,
        };
        self.with_vm(|vm| {
            self.check_memory(vm)?;
            let src = moonbox_engine::vm::load::ChunkSource::Bytes(src);
            match vm.load_chunk(src, name, mode, env) {
                Ok(f) => Ok(Function(self.make_ref(vm, f))),
                Err(e) => Err(self.convert_error(vm, e)),
            }
        })?
    }

    /// Wraps a callback as a Lua function value.
    pub(crate) fn make_callback(self: &XRc<Self>, vm: &mut Vm, f: Box<CallbackFn>) -> Raw {
        // Under `send` the callback's lock makes it shareable; clippy cannot see it.
        #[allow(clippy::arc_with_non_send_sync)]
        let cb = XRc::new(Callback { inner: XRc::downgrade(self), f });
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

/// A traceback as an embedder sees it: without the engine's line for the host's
/// entry frame (`[C]: at 0x00000000`, which the `luajit` command shows for its own C
/// caller; LuaJIT called from a host through `lua_pcall` has no such frame).
fn host_traceback(tb: Option<&str>) -> Option<String> {
    let tb = tb?;
    Some(tb.strip_suffix("\n\t[C]: at 0x00000000").unwrap_or(tb).to_owned())
}

/// The text Lua code sees for a callback's error.
fn lua_text(e: &Error) -> String {
    match e {
        Error::RuntimeError(message) => message.clone(),
        Error::CallbackError { cause, .. } => lua_text(cause),
        Error::BadArgument { to, pos, cause, .. } => match to {
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
        "<panic>".to_string()
    }
}

/// A Rust callback's panic travelling through Lua as an error value.
struct WrappedPanic {
    message: String,
    /// Taken when the error leaves the engine (the panic then resumes).
    payload: Cell<Option<Box<dyn Any + Send>>>,
}

/// `__tostring` of panic error values: the panic message.
fn panic_tostring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.arg(base, nargs, 0);
    let msg = v
        .as_userdata()
        .and_then(|u| {
            u.data()
                .and_then(|d| d.downcast_ref::<NoUnwind<WrappedPanic>>())
                .and_then(|p| p.get())
                .map(|p| p.message.clone())
        })
        .unwrap_or_else(|| "<panic>".to_string());
    let s = vm.str_value(msg.as_bytes());
    vm.push(s);
    Ok(1)
}

/// The native behind every Rust callback (upvalue 0: the callback).
fn callback_trampoline(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let cb = vm.native_upval(0).as_userdata().and_then(|u| {
        u.data().and_then(|d| d.downcast_ref::<NoUnwind<XRc<Callback>>>()).and_then(|c| c.get().cloned())
    });
    let Some(cb) = cb else { return Err(vm.rt_error("moonbox: not a Rust callback")) };
    let Some(inner) = cb.inner.upgrade() else {
        return Err(vm.rt_error("the Lua state of this Rust callback was dropped"));
    };
    if let Err(e) = inner.check_memory(vm) {
        return Err(inner.raise(vm, e));
    }
    let lua = Lua::from_inner(inner);
    let r = lua.inner.lend(vm, || catch_unwind(AssertUnwindSafe(|| (cb.f)(&lua, base, nargs))));
    let e = match r {
        Ok(Ok(Ok(n))) => return Ok(n),
        Ok(Ok(Err(e))) => e,
        Ok(Err(payload)) => return Err(lua.inner.raise_panic(vm, payload)),
        Err(e) => e,
    };
    Err(lua.inner.raise(vm, e))
}
