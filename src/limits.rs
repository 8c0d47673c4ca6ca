//! Instruction budget, host cancellation, the interrupt hook and the memory limit.
//!
//! The engine counts down `Vm::budget` on calls and backward jumps and calls
//! `budget_hook` when it goes negative. Every state gets a hook that hands
//! out the budget in slices of [`SLICE`] checks, so the hook runs regularly even when
//! the budget is unlimited: that is where the cancel flag, the interrupt hook and the
//! "memory limit exceeded" flag are looked at. When the hook says stop, the engine
//! raises an error that `pcall` cannot catch; [`Limits::stop`] records why, so the
//! facade can report `Cancelled`, `Interrupted` or `BudgetExhausted`.
//!
//! The memory limit is the engine's own (`Vm::set_memory_limit`): an allocation past
//! it is the catchable Lua error "not enough memory", reported to the host as
//! `MemoryError`.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use moonbox_engine::vm::Vm;

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

/// The interrupt hook (`Send` under the `send` feature).
#[cfg(not(feature = "send"))]
pub(crate) type InterruptFn = Box<dyn FnMut() -> Interrupt>;
#[cfg(feature = "send")]
pub(crate) type InterruptFn = Box<dyn FnMut() -> Interrupt + Send>;

/// The limit state shared by the facade and the budget hook.
pub(crate) struct Limits {
    cancel: Arc<AtomicBool>,
    /// Budget checks left before the current slice (`u64::MAX`: unlimited).
    remaining: Cell<u64>,
    /// Size of the slice the engine is counting down.
    granted: Cell<i64>,
    pub(crate) stop: Cell<Stop>,
    interrupt: Cell<Option<InterruptFn>>,
}

#[cfg(feature = "send")]
// SAFETY: the `Cell`s are only touched under the state's lock (by the facade, or by
// the budget hook while the engine runs inside a locked call); the interrupt hook is
// `Send`. See `Inner`'s `Send`/`Sync`.
unsafe impl Send for Limits {}
#[cfg(feature = "send")]
// SAFETY: as above.
unsafe impl Sync for Limits {}

impl Limits {
    pub(crate) fn new(budget: Option<u64>) -> Limits {
        Limits {
            cancel: Arc::new(AtomicBool::new(false)),
            remaining: Cell::new(budget.unwrap_or(u64::MAX)),
            granted: Cell::new(0),
            stop: Cell::new(Stop::None),
            interrupt: Cell::new(None),
        }
    }

    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { flag: self.cancel.clone() }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub(crate) fn set_interrupt(&self, f: Option<InterruptFn>) {
        // The old hook is dropped outside the engine; a panic in its destructor is
        // contained.
        let old = self.interrupt.replace(f);
        let _ = catch_unwind(AssertUnwindSafe(move || drop(old)));
    }

    /// Starts a new slice: the engine's counter is set to it.
    fn grant(&self, vm: &mut Vm) {
        vm.set_budget(self.next_slice());
    }

    /// Starts a new slice: its size, recorded as granted.
    fn next_slice(&self) -> i64 {
        let g = self.remaining.get().min(SLICE as u64) as i64;
        self.granted.set(g);
        g
    }

    /// Sets the total budget (`None`: unlimited).
    pub(crate) fn set_budget(&self, vm: &mut Vm, budget: Option<u64>) {
        self.remaining.set(budget.unwrap_or(u64::MAX));
        if self.stop.get() == Stop::Budget {
            self.stop.set(Stop::None);
        }
        self.grant(vm);
    }

    /// Budget checks left (`None`: unlimited).
    pub(crate) fn remaining(&self, vm: &Vm) -> Option<u64> {
        let r = self.remaining.get();
        if r == u64::MAX {
            return None;
        }
        let used = (self.granted.get() - vm.budget().max(0)).max(0) as u64;
        Some(r.saturating_sub(used))
    }

    /// The budget hook: called by the engine when a slice is used up.
    fn on_slice(&self) -> Option<i64> {
        let used = self.granted.replace(0).max(0) as u64;
        let r = self.remaining.get();
        if r != u64::MAX {
            self.remaining.set(r.saturating_sub(used));
        }
        if self.cancel.load(Ordering::Relaxed) {
            self.stop.set(Stop::Cancelled);
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
        Some(self.next_slice())
    }
}

/// Installs the budget hook into a fresh state.
pub(crate) fn install(vm: &mut Vm, limits: &crate::sync::XRc<Limits>) {
    let l = limits.clone();
    vm.set_budget_hook(Some(Box::new(move || l.on_slice())));
    limits.grant(vm);
}
