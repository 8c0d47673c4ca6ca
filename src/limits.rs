//! Instruction budget, host cancellation, the interrupt hook and the memory limit.
//!
//! The engine counts down `Vm::budget` on calls and backward jumps and calls
//! `lib_state.budget_hook` when it goes negative. Every state gets a hook that hands
//! out the budget in slices of [`SLICE`] checks, so the hook runs regularly even when
//! the budget is unlimited: that is where the cancel flag, the interrupt hook and the
//! "memory limit exceeded" flag are looked at. When the hook says stop, the engine
//! raises an error that `pcall` cannot catch; [`Limits::stop`] records why, so the
//! facade can report `Cancelled`, `Interrupted`, `BudgetExhausted` or `MemoryError`.
//!
//! The memory limit is enforced as well as the engine allows today (it has no
//! allocation limit of its own yet): after every garbage collection a finalizer
//! sentinel compares the live heap size with the limit, paces the collector so the
//! next collection comes before the limit is far exceeded, and raises the flag that
//! stops the script at the next budget check. Allocations through the API and entries
//! into Rust callbacks check the limit directly (collecting first).

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use moonbox_engine::gc::GcRef;
use moonbox_engine::object::Table as RawTable;
use moonbox_engine::vm::{LResult, Vm};

use crate::lua::NoUnwind;

/// Budget checks handed out per hook call.
pub(crate) const SLICE: i64 = 1000;

/// What the interrupt hook tells a running script.
///
/// ```
/// use moonbox::{Error, Interrupt, Lua};
///
/// let lua = Lua::new();
/// let mut calls = 0;
/// lua.set_interrupt(move || {
///     calls += 1;
///     if calls > 10 { Interrupt::Stop } else { Interrupt::Continue }
/// });
/// let err = lua.load("while true do end").exec().unwrap_err();
/// assert!(matches!(err, Error::Interrupted));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// Keep running.
    Continue,
    /// Stop the script with [`Error::Interrupted`](crate::Error::Interrupted).
    Stop,
}

/// Why the budget hook last stopped a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    None,
    Budget,
    Cancelled,
    Interrupted,
    Memory,
}

/// A thread-safe handle that stops the scripts of one state.
///
/// Cloneable and `Send + Sync`: hand it to a watchdog thread. After
/// [`cancel`](CancelHandle::cancel), the running script (and every later call into
/// Lua) fails with [`Error::Cancelled`](crate::Error::Cancelled) within about a
/// thousand instructions, until [`reset`](CancelHandle::reset) is called.
///
/// ```
/// use moonbox::{Error, Lua};
/// use std::time::Duration;
///
/// let lua = Lua::new();
/// let cancel = lua.cancel_handle();
/// let watchdog = std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_millis(20));
///     cancel.cancel();
/// });
/// let err = lua.load("while true do end").exec().unwrap_err();
/// assert!(matches!(err, Error::Cancelled));
/// watchdog.join().unwrap();
/// lua.cancel_handle().reset();
/// assert_eq!(lua.load("return 1 + 1").eval::<i32>().unwrap(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct CancelHandle {
    flag: Arc<AtomicBool>,
}

impl CancelHandle {
    /// Asks the state to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
    /// Has `cancel` been called (and not reset)?
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
    /// Lets the state run again.
    pub fn reset(&self) {
        self.flag.store(false, Ordering::Relaxed);
    }
}

/// The limit state shared by the facade, the budget hook and the GC sentinel.
pub(crate) struct Limits {
    cancel: Arc<AtomicBool>,
    /// Budget checks left before the current slice (`u64::MAX`: unlimited).
    remaining: Cell<u64>,
    /// Size of the slice the engine is counting down.
    granted: Cell<i64>,
    pub(crate) stop: Cell<Stop>,
    pub(crate) memory_limit: Cell<Option<usize>>,
    pub(crate) memory_exceeded: Cell<bool>,
    interrupt: Cell<Option<Box<dyn FnMut() -> Interrupt>>>,
    /// Generation of the live GC sentinel; older sentinels die without re-arming.
    sentinel_gen: Cell<u64>,
    /// The sentinels' metatable (rooted by the state).
    sentinel_mt: Cell<Option<GcRef<RawTable>>>,
    /// A script was stopped: if that happened while finalizers ran, the engine dropped
    /// the queued finalizers, maybe the sentinel's; re-arm before the next run.
    sentinel_maybe_lost: Cell<bool>,
}

impl Limits {
    pub(crate) fn new(budget: Option<u64>, memory_limit: Option<usize>) -> Limits {
        Limits {
            cancel: Arc::new(AtomicBool::new(false)),
            remaining: Cell::new(budget.unwrap_or(u64::MAX)),
            granted: Cell::new(0),
            stop: Cell::new(Stop::None),
            memory_limit: Cell::new(memory_limit),
            memory_exceeded: Cell::new(false),
            interrupt: Cell::new(None),
            sentinel_gen: Cell::new(0),
            sentinel_mt: Cell::new(None),
            sentinel_maybe_lost: Cell::new(false),
        }
    }

    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { flag: self.cancel.clone() }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub(crate) fn set_interrupt(&self, f: Option<Box<dyn FnMut() -> Interrupt>>) {
        // The old hook is dropped outside the engine; a panic in its destructor is
        // contained.
        let old = self.interrupt.replace(f);
        let _ = catch_unwind(AssertUnwindSafe(move || drop(old)));
    }

    /// Starts a new slice: the engine's counter is set to it.
    fn grant(&self, vm_budget: &mut i64) {
        let g = self.remaining.get().min(SLICE as u64) as i64;
        self.granted.set(g);
        *vm_budget = g;
    }

    /// Ends the current slice at the next budget check (the unused part of the slice
    /// is not charged).
    fn end_slice_now(&self, vm_budget: &mut i64) {
        let unused = (*vm_budget).clamp(0, self.granted.get());
        self.granted.set(self.granted.get() - unused);
        *vm_budget = 0;
    }

    /// Sets the total budget (`None`: unlimited).
    pub(crate) fn set_budget(&self, vm: &mut Vm, budget: Option<u64>) {
        self.remaining.set(budget.unwrap_or(u64::MAX));
        if self.stop.get() == Stop::Budget {
            self.stop.set(Stop::None);
        }
        self.grant(&mut vm.budget);
    }

    /// Budget checks left (`None`: unlimited).
    pub(crate) fn remaining(&self, vm: &Vm) -> Option<u64> {
        let r = self.remaining.get();
        if r == u64::MAX {
            return None;
        }
        let used = (self.granted.get() - vm.budget.max(0)).max(0) as u64;
        Some(r.saturating_sub(used))
    }

    /// The budget hook: called by the engine when a slice is used up.
    fn on_slice(&self) -> Option<i64> {
        let r = self.on_slice_inner();
        if r.is_none() {
            self.sentinel_maybe_lost.set(true);
        }
        r
    }

    fn on_slice_inner(&self) -> Option<i64> {
        let used = self.granted.replace(0).max(0) as u64;
        let r = self.remaining.get();
        if r != u64::MAX {
            self.remaining.set(r.saturating_sub(used));
        }
        if self.cancel.load(Ordering::Relaxed) {
            self.stop.set(Stop::Cancelled);
            return None;
        }
        if self.memory_exceeded.get() {
            self.stop.set(Stop::Memory);
            return None;
        }
        if let Some(mut f) = self.interrupt.take() {
            let r = catch_unwind(AssertUnwindSafe(&mut f));
            // Put it back unless the hook replaced itself meanwhile (it cannot reach
            // the state, but stay robust).
            if let Some(newer) = self.interrupt.replace(Some(f)) {
                self.set_interrupt(Some(newer));
            }
            if !matches!(r, Ok(Interrupt::Continue)) {
                self.stop.set(Stop::Interrupted);
                return None;
            }
        }
        if self.remaining.get() == 0 {
            self.stop.set(Stop::Budget);
            return None;
        }
        let mut b = 0;
        self.grant(&mut b);
        Some(b)
    }
}

impl Limits {
    /// Before a run from the host: re-arms the GC sentinel if a stop may have dropped it.
    pub(crate) fn ensure_sentinel(&self, vm: &mut Vm) {
        if self.sentinel_maybe_lost.replace(false) {
            self.sentinel_gen.set(self.sentinel_gen.get() + 1);
            if let Some(mt) = self.sentinel_mt.get() {
                arm_sentinel(vm, mt, self.sentinel_gen.get());
            }
        }
    }
}

/// Installs the budget hook and the GC sentinel into a fresh state.
pub(crate) fn install(vm: &mut Vm, limits: &Rc<Limits>) {
    let l = limits.clone();
    vm.lib_state.budget_hook = Some(Box::new(move || l.on_slice()));
    limits.grant(&mut vm.budget);

    // The sentinel: an unreachable userdata whose `__gc` runs after every collection.
    let holder = vm.new_userdata(Some(Box::new(NoUnwind::new(limits.clone()))));
    let mt = vm.new_table(0, 2);
    vm.lib_state.roots.push(mt.to_value());
    let f = vm.native_closure(gc_sentinel, "gc_sentinel", vec![holder.to_value()]);
    vm.set_field(mt, "__gc", f);
    limits.sentinel_mt.set(Some(mt));
    arm_sentinel(vm, mt, 0);
}

/// Makes an unreachable userdata whose finalizer is the sentinel.
fn arm_sentinel(vm: &mut Vm, mt: GcRef<RawTable>, gen: u64) {
    let u = vm.new_userdata(None);
    let ud = u.get_mut();
    ud.meta = Some(mt);
    ud.user_values.push(moonbox_engine::Value::number(gen as f64));
}

/// `__gc` of the sentinel: runs right after a collection, when the heap total is the
/// live size.
fn gc_sentinel(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let limits = vm
        .native_upval(0)
        .as_userdata()
        .and_then(|u| u.data.as_ref().and_then(|d| d.downcast_ref::<NoUnwind<Rc<Limits>>>()).and_then(|l| l.get().cloned()));
    let Some(limits) = limits else { return Ok(0) };
    let gen = vm.arg(base, nargs, 0).as_userdata().and_then(|u| u.user_values.first().copied());
    if gen.and_then(|g| g.as_number()) != Some(limits.sentinel_gen.get() as f64) {
        // A stale sentinel (a newer one was armed): let it die.
        return Ok(0);
    }
    let live = vm.heap.total_bytes();
    match limits.memory_limit.get() {
        Some(limit) => {
            // The script is stopped at the end of the current budget slice (not at
            // once: an uncatchable stop inside the finalizer batch would make the
            // engine drop the other queued finalizers).
            limits.memory_exceeded.set(live > limit);
            if live > limit {
                // Stop at the very next budget check, not at the end of the slice: a
                // script doubling a string could grow far past the limit in a slice.
                limits.end_slice_now(&mut vm.budget);
            }
            // Pace the collector: the next collection should come before the limit.
            let pause = (limit as u128 * 100 / live.max(1) as u128).clamp(110, 200) as u32;
            vm.heap.pause = pause;
        }
        None => limits.memory_exceeded.set(false),
    }
    if let Some(mt) = limits.sentinel_mt.get() {
        arm_sentinel(vm, mt, limits.sentinel_gen.get());
    }
    Ok(0)
}
