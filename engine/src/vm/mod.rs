//! The virtual machine: state, calls, the interpreter and its slow paths.
//!
//! Files, in the order a call flows through them:
//! - `mod.rs`: the `Vm` state, value helpers for natives, the GC entry point.
//! - `call.rs`: call setup and return (`precall` / `postcall`), `pcall` unwinding,
//!   re-entrant calls from native code, coroutine switching.
//! - `interp.rs`: the dispatch loop (one per `execute`, never one per Lua call).
//! - `meta.rs`: metamethod lookup and the slow paths of arithmetic, comparison,
//!   concatenation, indexing.
//! - `debug.rs`: names of values for error messages, positions, tracebacks.
//! - `load.rs`: compiled prototypes into heap prototypes and closures.
//! - `layout.rs`: offsets the JIT will read.

pub mod call;
pub mod debug;
pub mod error;
pub mod hook;
pub mod interp;
pub mod layout;
pub mod load;
pub mod meta;
pub mod native;

use std::cell::Cell;

use crate::gc::{GcRef, Heap, LuaString, Phase};
use crate::object::table::SetError;
use crate::object::{Table, UpVal, Userdata};
use crate::value::{LuaType, Value};

pub use crate::object::thread::{self, CoStatus, Cont, Frame, FrameFn, Thread, ThreadState};
pub use error::{ErrorKind, LResult, LuaError};
pub use meta::MetaEvent;
pub use native::{NativeFn, NativeFunction, Special};

/// `collectgarbage` options a state without GC control refuses: those that would
/// stop or slow the collector.
pub const REFUSED_GC_OPTIONS: &[&str] = &["stop", "setpause", "setstepmul"];

/// Most stack slots one thread may use ("stack overflow" past it).
pub const MAX_STACK: usize = 1_000_000;
/// Most frames one thread may have.
pub const MAX_FRAMES: usize = 200_000;
/// Most nested re-entries from native code into Lua ("C stack overflow" past it).
pub const MAX_CCALLS: u32 = 200;
/// Bytes of native (Rust) stack the engine may use below its outermost entry, unless
/// the host says otherwise ([`Vm::set_native_stack_limit`]). Every Rust recursion in
/// the engine (native code calling Lua, coroutine resumes, the parser, nested `load`s
/// with readers) checks it, so no combination of them runs off a thread whose stack
/// has this much room plus [`NATIVE_STACK_SLACK`] left where it calls into the state.
/// ARCHITECTURE.md ("Native stack") has the measurements behind it.
#[cfg(not(target_family = "wasm"))]
pub const DEFAULT_NATIVE_STACK: usize = 1 << 20;
/// On wasm32 the guest's whole stack is 1 MiB (host-wasi's `-zstack-size`), and the
/// default for wasm-bindgen is 1 MiB as well.
#[cfg(target_family = "wasm")]
pub const DEFAULT_NATIVE_STACK: usize = 512 << 10;
/// What the engine may use past its native stack limit between two checks (the
/// deepest stretch of Rust code without a check: a library function, a pattern match,
/// the error path), so a thread needs this much beyond the limit.
pub const NATIVE_STACK_SLACK: usize = 128 << 10;

pub use crate::native_stack::stack_pos;

/// Bytes a library function (or the compiler) processes for one unit of the
/// instruction budget ([`Vm::charge_bytes`]). A unit is what a Lua loop iteration or
/// call costs, some 3-4 ns in the interpreter; copying, scanning or converting 16
/// bytes takes about as long (`string.upper` runs at some 0.4 ns a byte). So `--fuel`
/// bounds the time of builtins as it does that of Lua code, and a deadline is checked
/// while they run.
pub const WORK_BYTES_PER_UNIT: usize = 16;

/// Heap bytes a collection visits for one unit of the instruction budget (marking
/// and sweeping cost less per byte than copying: a full collection of a 16 MB heap of
/// tables took some 1.3 ms, about what 250,000 units of Lua code take).
pub const GC_BYTES_PER_UNIT: usize = 64;

/// Errors of `__gc` finalizers reported per state (see `Vm::report_finalizer_error`).
pub const MAX_GC_ERROR_REPORTS: u32 = 100;
/// Bytes of a finalizer's error message reported.
pub const MAX_GC_ERROR_TEXT: usize = 300;
/// Longest string a script may build (LuaJIT's LJ_MAX_STR).
pub const MAX_STR_LEN: usize = 0x7fff_ff00;
/// Slots kept free above a Lua frame for metamethod calls.
pub const EXTRA_STACK: usize = 16;

/// Stack slots every running Lua frame can address from its base: any 8-bit register
/// operand, plus the three slots above it that the numeric `for` instructions use.
/// The dispatch loop holds a frame's registers as a `&mut [Value; REG_WINDOW]`
/// ([`window`]), so register accesses need no bounds checks.
pub const REG_WINDOW: usize = 256 + 4;

/// The register window of a frame at `base`. Lua calls reserve it (`precall`), so the
/// stack only grows here in odd cases (a resumed coroutine's first frame).
#[inline(always)]
pub(crate) fn window(stack: &mut Vec<Value>, base: usize) -> &mut [Value; REG_WINDOW] {
    // `get_mut` and `first_chunk_mut` repeat these two tests, and LLVM folds them
    // into these (two compares; a form computing `base + REG_WINDOW` also needed an
    // overflow test, which LLVM did not fold).
    if base > stack.len() || stack.len() - base < REG_WINDOW {
        grow_window(stack, base);
    }
    match stack.get_mut(base..).and_then(|w| w.first_chunk_mut::<REG_WINDOW>()) {
        Some(w) => w,
        // The stack was just made long enough.
        None => unreachable!("register window"),
    }
}

/// Whether a userdata has a `__gc` metamethod (`gc_key` is the interned name).
fn has_gc_metamethod(gc_key: GcRef<LuaString>) -> impl Fn(Value) -> bool {
    move |v| v.as_userdata().and_then(|u| u.meta()).is_some_and(|mt| !mt.get_str(gc_key).is_nil())
}

#[cold]
#[inline(never)]
fn grow_window(stack: &mut Vec<Value>, base: usize) {
    let len = base + REG_WINDOW + EXTRA_STACK;
    stack.reserve_exact(len.saturating_sub(stack.len()));
    stack.resize(len, Value::NIL);
}

/// Hot counters: the trace JIT's trigger. Loops (FORL, ITERL, LOOP) and function
/// entries count down a small hashed counter table, as LuaJIT does; reaching zero
/// is a hot spot (`tick` returns true), where a loop starts the trace recorder
/// (`Vm::jit_hot`). Function entries count but start nothing yet.
pub struct HotCounters {
    pub counts: [u16; 64],
    pub hot_events: u64,
    /// The start value (`hotloop`).
    pub reset: u16,
}

impl HotCounters {
    #[inline(always)]
    pub fn tick(&mut self, code: &[Cell<crate::bytecode::Ins>], pc: usize) -> bool {
        // Hashed by the instruction's address, as LuaJIT does: the code pointer is
        // at hand in the dispatch loop, where a prototype's address is one more load.
        let slot = ((code.as_ptr() as usize >> 2) + pc) & 63;
        // Counters start at `reset` (at least 1) and are reset there, so they never wrap.
        let c = self.counts[slot].wrapping_sub(1);
        self.counts[slot] = c;
        if c == 0 {
            self.hot_spot(slot);
            return true;
        }
        false
    }

    /// A counter reached zero: a hot spot.
    #[cold]
    #[inline(never)]
    fn hot_spot(&mut self, slot: usize) {
        self.counts[slot] = self.reset;
        self.hot_events += 1;
    }

    /// Restarts every counter at `reset` (after `hotloop` changed).
    pub fn reset_all(&mut self, reset: u16) {
        self.reset = reset.max(1);
        self.counts = [self.reset; 64];
    }
}

/// The host's hook when the instruction budget runs out: more budget, or `None` to
/// stop the script.
pub type BudgetHook = Box<dyn FnMut() -> Option<i64>>;

/// Where a state's output goes (see [`Vm::set_output`]).
pub type OutputSink = Box<dyn FnMut(&[u8])>;

/// A Lua state.
pub struct Vm {
    pub(crate) heap: Heap,
    /// The running thread's value stack.
    pub(crate) stack: Vec<Value>,
    /// The running thread's frames.
    pub(crate) frames: Vec<Frame>,
    /// Multires top / native stack top.
    pub(crate) top: usize,
    /// The running thread's open upvalues, sorted by slot.
    pub(crate) open_upvals: Vec<GcRef<UpVal>>,
    pub(crate) cur_thread: GcRef<Thread>,
    pub(crate) main_thread: GcRef<Thread>,
    pub(crate) globals: GcRef<Table>,
    pub(crate) registry: GcRef<Table>,
    /// Metatables of non-table types, indexed by `type_slot`.
    pub(crate) type_meta: [Option<GcRef<Table>>; 9],
    /// Interned metamethod names, indexed by `MetaEvent`.
    pub(crate) mm_names: Vec<GcRef<LuaString>>,
    /// The names `type()` returns, interned once (indexed by `LuaType as usize`).
    pub(crate) type_names: Vec<GcRef<LuaString>>,
    /// "not enough memory", interned up front so that reporting it never allocates.
    pub(crate) oom_msg: GcRef<LuaString>,
    /// Depth of re-entrant `execute` invocations.
    pub(crate) ccalls: u32,
    /// Rust recursions into the engine in progress (`call_at`, `resume`, a parse):
    /// the outermost one records [`native_floor`](Vm::native_floor).
    pub(crate) native_entries: u32,
    /// The lowest native stack address the engine may reach in the current outermost
    /// entry: where it began, less [`native_stack_limit`](Vm::native_stack_limit).
    pub(crate) native_floor: usize,
    /// Bytes of native stack the engine may use ([`DEFAULT_NATIVE_STACK`]).
    pub(crate) native_stack_limit: usize,
    /// `ccalls` when the running coroutine was resumed: yields need equality.
    pub(crate) co_ccalls: u32,
    /// Nested coroutine resumes.
    pub(crate) resume_depth: u32,
    pub(crate) hot: HotCounters,
    /// The trace JIT (`jit` module): settings, traces, the recorder.
    pub(crate) jit: crate::jit::Jit,
    /// Remaining instruction budget (checked on backward jumps and calls).
    pub(crate) budget: i64,
    /// May `load` accept binary chunks (`string.dump` output)?
    pub(crate) allow_binary: bool,
    /// Last builtin number handed out.
    pub(crate) next_builtin_id: u32,
    /// Headroom (in frames) granted to running error handlers past the limits.
    pub(crate) handler_extra: usize,
    /// The next frame pushed is reached by a tail call.
    pub(crate) tail_pending: bool,
    /// Set while `__gc` finalizers run, so they don't recurse.
    pub(crate) in_finalizer: bool,
    /// While a finalizer runs: the index of its frame (its name in `debug.getinfo`
    /// comes from the instruction that ran the collector, as in LuaJIT: `__gc`).
    pub(crate) finalizer_frame: Option<usize>,
    /// Finalizer errors reported so far (capped at [`MAX_GC_ERROR_REPORTS`]).
    pub(crate) gc_errors_reported: u32,
    /// May scripts stop or slow the collector (`collectgarbage("stop")`, ...)?
    pub(crate) gc_control: bool,
    /// Set while a library function runs again after a collection it asked for
    /// (`reserve_mem`), so that it asks only once.
    pub(crate) gc_retried: bool,
    /// Threads that resumed the running coroutine (kept alive while they wait).
    pub(crate) resumers: Vec<GcRef<Thread>>,
    /// Called when the instruction budget runs out: `Some(n)` continues with `n` more
    /// instructions, `None` stops the script. Without a hook the budget is unlimited.
    pub(crate) budget_hook: Option<BudgetHook>,
    /// Where `print`, `io.write` to stdout and warnings (errors in `__gc`
    /// finalizers) go; `None` means the process's stdout (warnings: stderr).
    pub(crate) output: Option<OutputSink>,
    /// Extra values kept alive with the state (e.g. the string metatable).
    pub(crate) roots: Vec<Value>,
    /// Per-state data of the libraries opened above the VM (the standard
    /// library's `LibState`), traced with the roots.
    pub(crate) ext: Option<Box<dyn Extension>>,
    /// Debug hooks (`debug.sethook`); see `hook.rs`.
    pub(crate) hooks: hook::Hooks,
    /// Installs the cdata metatable (the FFI's metamethods) on first need: the
    /// `ffi` library sets it when the state may have cdata, and `load` calls it
    /// before it makes the first cdata constant (`1LL`) while no cdata metatable
    /// is installed. The VM knows the FFI only through this and that metatable.
    pub(crate) cdata_init: Option<fn(&mut Vm)>,
}

/// Per-state data of a library floor above the VM, kept by the VM (which knows it
/// only through this trait) and traced with its roots.
pub trait Extension: std::any::Any {
    /// Marks the GC references it holds.
    fn trace(&self, m: &mut crate::gc::Marker);
    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// Index into `Vm::type_meta` for a non-table, non-userdata value.
pub fn type_slot(t: LuaType) -> usize {
    match t {
        LuaType::Nil => 0,
        LuaType::Boolean => 1,
        LuaType::LightUserdata => 2,
        LuaType::Number => 3,
        LuaType::String => 4,
        LuaType::Function => 5,
        LuaType::Thread => 6,
        LuaType::CData => 8,
        _ => 7,
    }
}

fn random_seed() -> u64 {
    // `MOONBOX_HASH_SEED` fixes it (as PYTHONHASHSEED does), for reproducible
    // instruction counts and collision patterns when profiling.
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(seed) = std::env::var("MOONBOX_HASH_SEED").ok().and_then(|s| s.parse::<u64>().ok()) {
        return seed;
    }
    // Different per state: the address of a fresh allocation and a clock reading.
    let b = Box::new(0u8);
    let addr = &*b as *const u8 as u64;
    addr.rotate_left(32) ^ clock_nanos() ^ 0x5851_F42D_4C95_7F2D
}

#[cfg(not(any(miri, all(target_arch = "wasm32", target_os = "unknown"))))]
fn clock_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// wasm32-unknown-unknown has no clock: `SystemTime::now` panics there (and Miri's
/// isolation refuses it). A per-process counter keeps seeds of successive states
/// apart.
#[cfg(any(miri, all(target_arch = "wasm32", target_os = "unknown")))]
fn clock_nanos() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATES: AtomicU64 = AtomicU64::new(0);
    STATES.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Vm {
    /// A bare state: no libraries opened.
    ///
    /// # Safety
    /// The caller takes on the heap's rule 4 (`gc` module docs) for this state: no
    /// handle (`GcRef`, or a GC-tagged `Value`) to one of its objects is used after
    /// the state is dropped or with another state; and whatever such handles it holds
    /// in Rust while it calls into the state at the top level (not from inside a
    /// running script) are reachable from the state's roots (stack, registry,
    /// globals) if it uses them afterwards. The embedding facade (`moonbox::Lua`)
    /// keeps these rules with checked, registry-anchored handles.
    pub unsafe fn new_bare() -> Vm {
        // SAFETY: this state's owner takes on the heap's contract (above).
        let mut heap = unsafe { Heap::new(random_seed()) };
        let main_thread = heap.alloc(Thread::new());
        main_thread.set_status(CoStatus::Running);
        let seed = heap.table_seed();
        let globals = heap.alloc(Table::new(0, 64, seed));
        let seed = heap.table_seed();
        let registry = heap.alloc(Table::new(0, 8, seed));
        let mm_names = MetaEvent::ALL.iter().map(|e| heap.intern(e.name().as_bytes())).collect();
        let type_names = crate::value::LuaType::ALL.iter().map(|t| heap.intern(t.name().as_bytes())).collect();
        let oom_msg = heap.intern(b"not enough memory");
        let mut jit = crate::jit::Jit::default();
        // The JIT's PRNG starts random, as LuaJIT's does (`jit.prngstate()`).
        let (a, b) = (heap.table_seed(), heap.table_seed());
        jit.prng = [
            a as u32,
            (a >> 32) as u32,
            b as u32,
            (b >> 32) as u32,
            !a as u32,
            !(a >> 32) as u32,
            !b as u32,
            !(b >> 32) as u32,
        ];
        Vm {
            heap,
            stack: Vec::with_capacity(64),
            frames: Vec::with_capacity(16),
            top: 0,
            open_upvals: Vec::new(),
            cur_thread: main_thread,
            main_thread,
            globals,
            registry,
            type_meta: [None; 9],
            mm_names,
            type_names,
            oom_msg,
            ccalls: 0,
            native_entries: 0,
            native_floor: 0,
            native_stack_limit: DEFAULT_NATIVE_STACK,
            co_ccalls: 0,
            resume_depth: 0,
            hot: HotCounters { counts: [interp::HOT_LOOP; 64], hot_events: 0, reset: interp::HOT_LOOP },
            jit,
            tail_pending: false,
            handler_extra: 0,
            next_builtin_id: 0,
            allow_binary: true,
            budget: i64::MAX,
            in_finalizer: false,
            finalizer_frame: None,
            gc_errors_reported: 0,
            gc_retried: false,
            gc_control: true,
            resumers: Vec::new(),
            budget_hook: None,
            output: None,
            roots: Vec::new(),
            ext: None,
            hooks: hook::Hooks::default(),
            cdata_init: None,
        }
    }

    // ----- The state, for embedders ---------------------------------------------------
    //
    // The fields are crate-private; these are what a host reads and changes. Stack
    // slots are plain values (a slot past the end reads nil; writes grow the stack
    // within its limits), so no misuse here can break the VM's invariants.

    /// The globals table.
    pub fn globals(&self) -> GcRef<Table> {
        self.globals
    }

    /// Replaces the globals table (the environment new chunks get). The old table
    /// stays wherever else it is referenced.
    pub fn set_globals(&mut self, t: GcRef<Table>) {
        self.globals = t;
    }

    /// Arms the debug hook events `mask` (`hook::MASK_*` bits; count events every
    /// `count` instructions) for the function stored under `hook::HOOK_KEY` in the
    /// registry, as `debug.sethook` does. A mask of 0 disarms the hook.
    pub fn set_hook_mask(&mut self, mask: u8, count: i64) {
        self.hooks.set(mask, count);
    }

    /// The registry table.
    pub fn registry(&self) -> GcRef<Table> {
        self.registry
    }

    /// Stack slot `i` of the running thread (nil past the end).
    #[inline]
    pub fn slot(&self, i: usize) -> Value {
        self.stack.get(i).copied().unwrap_or(Value::NIL)
    }

    /// Stack slots `range` (clamped to the stack).
    pub fn slots(&self, range: std::ops::Range<usize>) -> &[Value] {
        let end = range.end.min(self.stack.len());
        self.stack.get(range.start.min(end)..end).unwrap_or(&[])
    }

    /// Sets stack slot `i`, growing the stack if needed ("stack overflow" past its
    /// limit).
    pub fn set_slot(&mut self, i: usize, v: Value) -> LResult<()> {
        self.ensure_stack(i.saturating_add(1 + EXTRA_STACK))?;
        self.stack[i] = v;
        Ok(())
    }

    /// Moves slots `src` to start at `dst` (as `slice::copy_within`), growing the
    /// stack if needed.
    pub fn copy_slots(&mut self, src: std::ops::Range<usize>, dst: usize) -> LResult<()> {
        let n = src.end.saturating_sub(src.start);
        self.ensure_stack(dst.max(src.start).saturating_add(n + EXTRA_STACK))?;
        self.stack.copy_within(src, dst);
        Ok(())
    }

    /// The multires / native top.
    #[inline]
    pub fn top(&self) -> usize {
        self.top
    }

    /// Sets the top (natives return the values below it).
    #[inline]
    pub fn set_top(&mut self, top: usize) {
        self.top = top;
    }

    /// Is the innermost running function a native one?
    pub fn in_native(&self) -> bool {
        self.frames.last().is_some_and(|f| matches!(f.fun, FrameFn::Native))
    }

    /// The instruction budget left in the current slice (see `budget_hook`).
    pub fn budget(&self) -> i64 {
        self.budget
    }

    /// Sets the instruction budget of the current slice.
    pub fn set_budget(&mut self, b: i64) {
        self.budget = b;
    }

    /// Sets how many bytes of native stack the engine may use below the point where
    /// the host calls into it (default [`DEFAULT_NATIVE_STACK`]). A host that runs the
    /// state on a thread with a small stack lowers it to what that thread has left,
    /// less [`NATIVE_STACK_SLACK`]: recursion through native code (metamethods called
    /// by library functions, comparators, coroutines, nested `load`s, deep syntax)
    /// then ends in "C stack overflow" or "chunk has too many syntax levels" instead
    /// of running off the stack.
    pub fn set_native_stack_limit(&mut self, bytes: usize) {
        self.native_stack_limit = bytes;
    }

    /// The native stack limit in bytes.
    pub fn native_stack_limit(&self) -> usize {
        self.native_stack_limit
    }

    /// Enters a Rust recursion into the engine; false (entering nothing) when the
    /// native stack is used up. The outermost entry records the floor. Every `true`
    /// is matched by a [`native_leave`](Vm::native_leave).
    #[inline]
    pub(crate) fn native_enter(&mut self) -> bool {
        let here = stack_pos();
        if self.native_entries == 0 {
            self.native_floor = here.saturating_sub(self.native_stack_limit);
        } else if here < self.native_floor {
            return false;
        }
        self.native_entries += 1;
        true
    }

    /// Leaves what [`native_enter`](Vm::native_enter) entered.
    #[inline]
    pub(crate) fn native_leave(&mut self) {
        self.native_entries = self.native_entries.saturating_sub(1);
    }

    /// Is there native stack left above the floor? (For Rust recursions inside one
    /// entry, e.g. the parser's levels and encoders walking nested tables.)
    #[inline]
    pub fn native_stack_ok(&self) -> bool {
        self.native_entries == 0 || stack_pos() >= self.native_floor
    }

    /// The lowest native stack address the engine may reach now (0: no entry yet).
    pub fn native_floor(&self) -> usize {
        if self.native_entries == 0 {
            0
        } else {
            self.native_floor
        }
    }

    /// The memory limit in bytes, if any.
    pub fn memory_limit(&self) -> Option<usize> {
        self.heap.limit()
    }

    /// Bytes in use by the heap (live objects and garbage not yet swept).
    pub fn used_memory(&self) -> usize {
        self.heap.total_bytes()
    }

    /// Is the heap past its limit?
    pub fn over_memory_limit(&self) -> bool {
        self.heap.over_limit()
    }

    /// The write barrier, after storing a reference into `obj` from outside the VM.
    pub fn barrier<T: crate::gc::GcObject>(&mut self, obj: GcRef<T>) {
        self.heap.barrier(obj);
    }

    /// Adds `bytes` that an object grew by outside the VM to the heap's count.
    pub fn account_bytes(&mut self, bytes: usize) {
        self.heap.account(bytes);
    }

    /// A userdata's payload now owns `bytes` outside the object (see
    /// `Userdata::set_extra_bytes`): the heap's count follows. Growth past the memory
    /// limit is "not enough memory" (the growth already happened; check before).
    pub fn account_resize(&mut self, u: GcRef<Userdata>, bytes: usize) -> LResult<()> {
        let old = u.set_extra_bytes(bytes);
        if bytes >= old {
            self.account(bytes - old)
        } else {
            self.heap.unaccount(old - bytes);
            Ok(())
        }
    }

    /// May `load` accept binary chunks?
    pub fn allow_binary(&self) -> bool {
        self.allow_binary
    }

    /// Lets `load` accept binary chunks, or not.
    pub fn set_allow_binary(&mut self, on: bool) {
        self.allow_binary = on;
    }

    /// Stress mode (a test aid): a small collector step at every safe point, and
    /// the tri-colour invariant checked at the end of every mark (a failure is a
    /// missing write barrier: the process panics).
    pub fn set_gc_stress(&mut self, on: bool) {
        self.heap.stress = on;
        self.heap.verify = on;
    }

    /// Records collector step durations in [`take_gc_pauses`](Vm::take_gc_pauses)
    /// (a measuring aid; costs a clock read per step).
    pub fn measure_gc_pauses(&mut self, on: bool) {
        self.heap.measure_pauses = on;
    }

    /// The collector step durations recorded so far, in nanoseconds.
    pub fn take_gc_pauses(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.heap.pauses)
    }

    /// Sets the hook called when the instruction budget of a slice runs out
    /// (`Some(n)`: go on with `n` more; `None`: stop the script).
    pub fn set_budget_hook(&mut self, hook: Option<Box<dyn FnMut() -> Option<i64>>>) {
        self.budget_hook = hook;
    }

    /// Sets where `print` and `io.write` to stdout go (`None`: the process's stdout);
    /// returns the previous sink.
    #[allow(clippy::type_complexity)]
    pub fn set_output(&mut self, out: Option<OutputSink>) -> Option<OutputSink> {
        std::mem::replace(&mut self.output, out)
    }

    /// Sets the function that installs the cdata metatable on first need (see
    /// the field `cdata_init`).
    pub fn set_cdata_init(&mut self, f: Option<fn(&mut Vm)>) {
        self.cdata_init = f;
    }

    /// The metatable shared by all cdata (the FFI's metamethods), if installed.
    pub fn cdata_meta(&self) -> Option<GcRef<Table>> {
        self.type_meta[type_slot(LuaType::CData)]
    }

    /// Installs the metatable shared by all cdata.
    pub fn set_cdata_meta(&mut self, mt: Option<GcRef<Table>>) {
        self.type_meta[type_slot(LuaType::CData)] = mt;
    }

    /// Makes sure the cdata metatable is installed, if the state may have cdata.
    pub fn ensure_cdata_meta(&mut self) {
        if self.cdata_meta().is_none() {
            if let Some(f) = self.cdata_init {
                f(self);
            }
        }
    }

    /// A new cdata object.
    pub fn alloc_cdata(&mut self, c: crate::object::CData) -> GcRef<crate::object::CData> {
        self.heap.alloc(c)
    }

    /// Puts a cdata that was given a finalizer on the collector's finalizer list.
    pub fn track_finalizer(&mut self, c: GcRef<crate::object::CData>) {
        self.heap.barrier(c);
        self.heap.track_finalizer(c);
    }

    /// Registers the payload of `c` as memory that checked (data-level FFI)
    /// pointer accesses may reach, until `c` is freed.
    pub fn register_cdata_range(&mut self, c: GcRef<crate::object::CData>) {
        self.heap.register_range(c, c.payload_addr(), c.len());
    }

    /// Is `addr .. addr + len` inside the payload of a live registered cdata?
    pub fn cdata_range_ok(&self, addr: usize, len: usize) -> bool {
        self.heap.range_registered(addr, len)
    }

    /// The registered cdata payload containing `addr`, as (start, end).
    pub fn cdata_range_at(&self, addr: usize) -> Option<(usize, usize)> {
        self.heap.range_at(addr)
    }

    /// Keeps `v` alive as long as the state.
    pub fn add_root(&mut self, v: Value) {
        self.roots.push(v);
    }

    /// A closure of the loaded prototype `p` with the globals as environment and a
    /// fresh closed (nil) upvalue for each one it has.
    pub fn closure_of(&mut self, p: GcRef<crate::object::Proto>) -> Value {
        let ups: Vec<GcRef<UpVal>> = (0..p.upvals.len())
            .map(|_| self.heap.alloc(UpVal::new(crate::object::UpState::Closed(Value::NIL))))
            .collect();
        let f = crate::object::LuaFunction::new(p, self.globals, ups);
        self.heap.alloc(f).to_value()
    }

    /// A new coroutine that will call `f`.
    pub fn new_thread(&mut self, f: Value) -> GcRef<Thread> {
        let co = self.heap.alloc(Thread::with_body(f));
        co.set_env(Some(self.globals));
        co
    }

    /// The running thread's execution state, to hand to `Thread::swap_state`.
    pub(crate) fn thread_state(&mut self) -> ThreadState<'_> {
        ThreadState {
            stack: &mut self.stack,
            frames: &mut self.frames,
            top: &mut self.top,
            open_upvals: &mut self.open_upvals,
        }
    }

    // ----- Values -------------------------------------------------------------------

    /// An interned string value.
    #[inline]
    pub fn str_value(&mut self, b: &[u8]) -> Value {
        self.heap.intern(b).to_value()
    }

    /// An interned string value made from a buffer a library function built: a long
    /// new string takes the buffer over instead of copying it, so a big result never
    /// exists twice (reserve the buffer with its exact size).
    pub fn str_value_owned(&mut self, b: Vec<u8>) -> Value {
        self.heap.intern_owned(b).to_value()
    }

    /// An interned string.
    #[inline]
    pub fn intern(&mut self, b: &[u8]) -> GcRef<LuaString> {
        self.heap.intern(b)
    }

    /// A new table.
    pub fn new_table(&mut self, narr: usize, nhash: usize) -> GcRef<Table> {
        let seed = self.heap.table_seed();
        self.heap.alloc(Table::new(narr, nhash, seed))
    }

    /// A new table of a size a script chose: "not enough memory" past the limit.
    pub fn try_new_table(&mut self, narr: usize, nhash: usize) -> LResult<GcRef<Table>> {
        match Table::try_new(narr, nhash, self.heap.room(), self.heap.table_seed()) {
            Ok(t) => Ok(self.heap.alloc(t)),
            Err(_) => Err(self.mem_error()),
        }
    }

    /// A new native function value.
    pub fn native(&mut self, f: NativeFn, name: &'static str) -> Value {
        self.native_closure(f, name, Vec::new())
    }

    /// A new native closure with upvalues.
    pub fn native_closure(&mut self, f: NativeFn, name: &'static str, upvals: Vec<Value>) -> Value {
        let mut nf = NativeFunction::new(f, name, upvals.into_boxed_slice());
        self.alloc_native(&mut nf);
        self.heap.alloc(nf).to_value()
    }

    /// A new native function left out of tracebacks (see `NativeFunction::hidden`).
    pub fn native_hidden(&mut self, f: NativeFn, name: &'static str) -> Value {
        let mut nf = NativeFunction::new(f, name, Box::new([]));
        nf.hidden = true;
        self.alloc_native(&mut nf);
        self.heap.alloc(nf).to_value()
    }

    /// Gives a native function its builtin number (call before allocating it).
    pub fn alloc_native(&mut self, nf: &mut NativeFunction) {
        self.next_builtin_id += 1;
        nf.id = self.next_builtin_id;
    }

    /// A new userdata.
    pub fn new_userdata(&mut self, data: Option<Box<dyn std::any::Any>>) -> GcRef<Userdata> {
        self.heap.alloc(Userdata::new(data))
    }

    /// `t[k] = v` raw, with GC accounting; errors for nil / NaN keys, and "not
    /// enough memory" when the table would grow past the memory limit (nothing is
    /// stored then).
    pub fn raw_set(&mut self, t: GcRef<Table>, k: Value, v: Value) -> LResult<()> {
        let r = t.set(k, v, self.heap.room());
        self.heap.barrier(t);
        self.table_stored(r)
    }

    /// `t[i] = v` raw, as [`raw_set`](Vm::raw_set).
    pub fn raw_set_int(&mut self, t: GcRef<Table>, i: i64, v: Value) -> LResult<()> {
        let r = t.set_int(i, v, self.heap.room());
        self.heap.barrier(t);
        self.table_stored(r)
    }

    /// Accounts a table store's growth, or turns its failure into the error.
    #[inline]
    pub(crate) fn table_stored(&mut self, r: Result<usize, SetError>) -> LResult<()> {
        match r {
            Ok(grown) => {
                self.heap.account(grown);
                Ok(())
            }
            Err(SetError::NoMemory) => Err(self.mem_error()),
            Err(e) => Err(self.rt_error(e.message())),
        }
    }

    /// `t[name] = v` raw, for a string key (library set-up: the engine's own
    /// names, so past the memory limit it still stores).
    pub fn set_field(&mut self, t: GcRef<Table>, name: &str, v: Value) {
        let k = self.intern(name.as_bytes());
        let grown = t.set_str(k, v, usize::MAX).unwrap_or(0);
        self.heap.barrier(t);
        self.heap.account(grown);
    }

    /// `t[name]` raw.
    pub fn get_field(&mut self, t: GcRef<Table>, name: &str) -> Value {
        let k = self.intern(name.as_bytes());
        t.get_str(k)
    }

    /// Pushes a value on top of the stack (natives push their results this way).
    #[inline]
    pub fn push(&mut self, v: Value) {
        if self.top >= self.stack.len() {
            self.stack.resize(self.top + 1 + EXTRA_STACK, Value::NIL);
        }
        self.stack[self.top] = v;
        self.top += 1;
    }

    /// Argument `i` (0-based) of a native call, or nil past the end.
    #[inline]
    pub fn arg(&self, base: usize, nargs: usize, i: usize) -> Value {
        if i < nargs {
            self.stack[base + i]
        } else {
            Value::NIL
        }
    }

    /// Upvalue `i` of the running native closure (nil if absent).
    pub fn native_upval(&self, i: usize) -> Value {
        let Some(f) = self.frames.last() else { return Value::NIL };
        let v = self.stack[f.func];
        match v.as_native_function() {
            Some(nf) => nf.upval(i),
            None => Value::NIL,
        }
    }

    /// Sets upvalue `i` of the running native closure.
    pub fn set_native_upval(&mut self, i: usize, v: Value) {
        let Some(f) = self.frames.last() else { return };
        let fv = self.stack[f.func];
        if let Some(nf) = fv.as_native_function() {
            nf.set_upval(i, v);
            self.heap.barrier(nf);
        }
    }

    /// The metatable of any value.
    #[inline]
    pub fn metatable(&self, v: Value) -> Option<GcRef<Table>> {
        if let Some(t) = v.as_table() {
            t.meta()
        } else if let Some(u) = v.as_userdata() {
            u.meta()
        } else {
            self.type_meta[type_slot(v.lua_type())]
        }
    }

    // ----- Memory limit -----------------------------------------------------------

    /// Sets the state's memory limit in bytes (`None`: unlimited). An allocation past
    /// it raises "not enough memory" (catchable); the state stays usable.
    pub fn set_memory_limit(&mut self, limit: Option<usize>) {
        self.heap.set_limit(limit);
    }

    /// The "not enough memory" error (no position, as LuaJIT's). Never allocates.
    #[cold]
    pub fn mem_error(&self) -> LuaError {
        LuaError::new(ErrorKind::Memory, self.oom_msg.to_value())
    }

    /// Fails with "not enough memory" if `extra` more bytes would pass the limit.
    /// Never collects, so it is safe anywhere.
    #[inline]
    pub fn check_mem(&self, extra: usize) -> LResult<()> {
        if self.heap.would_exceed(extra) {
            return Err(self.mem_error());
        }
        Ok(())
    }

    /// Like [`check_mem`](Vm::check_mem), but when the limit would be passed and a
    /// collection could free enough, asks for one: at the top level it collects now;
    /// inside a running script (a library function, which may hold references the
    /// collector cannot see) the error it returns makes the interpreter collect and
    /// call the function again. So call it only before the function has done
    /// anything visible (typically first thing).
    pub fn reserve_mem(&mut self, extra: usize) -> LResult<()> {
        if self.heap.would_exceed(extra) && !self.in_finalizer && self.heap.collection_may_help() {
            if self.ccalls == 0 {
                self.collect_garbage();
            } else if !self.gc_retried {
                return Err(LuaError::new(ErrorKind::RetryAfterGc, self.oom_msg.to_value()));
            }
        }
        self.check_mem(extra)
    }

    /// Accounts `grown` bytes a table or buffer just took; past the limit this is
    /// "not enough memory" (the growth itself already happened and is freed with
    /// the object).
    #[inline]
    pub fn account(&mut self, grown: usize) -> LResult<()> {
        self.heap.account(grown);
        if grown != 0 && self.heap.over_limit() {
            return Err(self.mem_error());
        }
        Ok(())
    }

    // ----- GC -----------------------------------------------------------------------
    //
    // Who may let the sweep free (the heap's rule 3, `gc` module docs):
    // - the interpreter, between instructions ([`gc_check`](Vm::gc_check), unsafe:
    //   its callers state that they hold nothing but the running frame's own data);
    // - the state's owner at the top level, when no script runs (`ccalls == 0`;
    //   promised by `Vm::new_bare`'s contract).
    // A script-triggered entry point that runs while a library function may be on
    // the Rust stack (`collectgarbage`'s "step", `reserve_mem`, anything called from
    // inside `execute`) only marks; and re-entering the interpreter from Rust pins the
    // heap (`call_at`), so the Lua code it runs cannot free what that Rust code holds.

    /// The interpreter's collection point: a collector step if one is due, then
    /// pending finalizers, then, past the memory limit, a full collection or "not
    /// enough memory".
    ///
    /// # Safety
    /// Every GC reference the caller, and every Rust frame up to the nearest
    /// `execute` (or pin), uses after this call is reachable from the VM's roots:
    /// the running frame's closure, prototype and code are (the frame stack holds
    /// them); register values are (they are stack slots).
    #[inline(always)]
    pub(crate) unsafe fn gc_check(&mut self) -> LResult<()> {
        if self.heap.should_collect() {
            // SAFETY: the caller's contract.
            return unsafe { self.gc_check_slow() };
        }
        Ok(())
    }

    /// The work of [`gc_check`](Vm::gc_check), out of the interpreter's loop.
    ///
    /// # Safety
    /// As [`gc_check`](Vm::gc_check).
    #[inline(never)]
    unsafe fn gc_check_slow(&mut self) -> LResult<()> {
        self.gc_step_sweeping(true);
        self.run_finalizers()?;
        if self.heap.over_limit() {
            // SAFETY: the caller's contract.
            unsafe { self.emergency_gc() }?;
        }
        Ok(())
    }

    /// Past the limit at a safe point: a full collection (unless one just ran and
    /// little was allocated since), then "not enough memory" if still past it.
    ///
    /// # Safety
    /// As [`gc_check`](Vm::gc_check).
    pub(crate) unsafe fn emergency_gc(&mut self) -> LResult<()> {
        if self.heap.collection_may_help() {
            self.collect_sweeping(true);
            self.run_finalizers()?;
        }
        if self.heap.over_limit() {
            // The heap stays past its limit while the error unwinds (what overshot
            // it is still reachable): give the handler a little room.
            self.heap.grant_grace();
            return Err(self.mem_error());
        }
        Ok(())
    }

    /// A full collection at an interpreter collection point, without finalizers (they
    /// run at the next [`gc_check`](Vm::gc_check)).
    ///
    /// # Safety
    /// As [`gc_check`](Vm::gc_check).
    pub(crate) unsafe fn emergency_gc_quiet(&mut self) {
        self.collect_sweeping(true);
    }

    /// A full collection, then pending finalizers. Fails only when a finalizer was
    /// stopped by the budget or the host (an error that must reach the host).
    /// Inside a running script this only completes the mark (see above).
    pub fn full_gc(&mut self) -> LResult<()> {
        self.collect_garbage();
        self.run_finalizers()
    }

    /// A full collection without running finalizers: finishes the cycle in
    /// progress, then runs a whole one, so all garbage made before the call goes.
    /// Inside a running script this only completes the mark.
    pub fn collect_garbage(&mut self) {
        self.collect_sweeping(self.ccalls == 0);
    }

    /// One incremental collector step, paced by the allocation since the last one
    /// and the step multiplier. Returns true if it finished a cycle (never, inside a
    /// running script, where it only marks).
    pub fn gc_step(&mut self) -> bool {
        self.gc_step_sweeping(self.ccalls == 0)
    }

    /// A full collection; with `sweep` false (or the heap pinned) it stops once the
    /// mark is complete.
    fn collect_sweeping(&mut self, sweep: bool) {
        let cycles = if self.heap.phase() == Phase::Pause { 1 } else { 2 };
        for _ in 0..cycles {
            while !self.gc_work(usize::MAX, sweep) {
                if self.heap.phase() != Phase::Propagate && (!sweep || self.heap.pinned()) {
                    // The mark is done and the sweep may not run now.
                    return;
                }
            }
        }
    }

    fn gc_step_sweeping(&mut self, sweep: bool) -> bool {
        let start = self.heap.measure_pauses.then(std::time::Instant::now);
        let budget = self.heap.step_budget();
        let done = self.gc_work(budget, sweep);
        self.heap.step_done();
        if let Some(t) = start {
            self.heap.pauses.push(t.elapsed().as_nanos() as u64);
        }
        done
    }

    /// Advances the collector by about `budget` bytes of work. True when this
    /// finished a cycle. The sweep part runs only when `sweep` is true and the heap
    /// is not pinned.
    fn gc_work(&mut self, budget: usize, sweep: bool) -> bool {
        loop {
            match self.heap.phase() {
                Phase::Pause => {
                    let mode_key = self.mm_names[MetaEvent::Mode as usize].to_value();
                    self.heap.start_cycle(mode_key);
                    self.mark_roots();
                }
                Phase::Propagate => {
                    if !self.heap.propagate(budget) {
                        return false;
                    }
                    // The atomic phase: the mutator ran since the roots were marked.
                    self.mark_roots();
                    // Traces whose prototype is unreachable go before it does.
                    self.heap.mark_all();
                    self.jit_drop_dead_traces();
                    // Lua 5.1 decides at collection time whether a userdata needs
                    // finalizing.
                    self.heap.finish_mark(has_gc_metamethod(self.mm_names[MetaEvent::Gc as usize]));
                }
                Phase::Sweep | Phase::SweepStrings => {
                    if !sweep {
                        return false;
                    }
                    // SAFETY: `sweep` is true only at the interpreter's collection
                    // points (`gc_check`, whose callers vouch for their frames) and
                    // at the top level (no script running: only the state's owner is
                    // on the Rust stack, bound by `Vm::new_bare`'s contract). Rust frames
                    // inside a running script are covered by the pin that `call_at`
                    // takes, which makes `sweep` a no-op.
                    return unsafe { self.heap.sweep(budget) };
                }
            }
        }
    }

    /// `collectgarbage(opt, arg)` called without the interpreter's permission to
    /// sweep (from Rust, through the function value): it runs, but "collect" and
    /// "step" then only mark (see above).
    pub fn collectgarbage(&mut self, base: usize, nargs: usize) -> LResult<usize> {
        self.collectgarbage_impl(base, nargs, false)
    }

    /// `collectgarbage` as the interpreter runs it.
    ///
    /// # Safety
    /// As [`gc_check`](Vm::gc_check) for the callers (this function itself holds no
    /// GC reference across the collection).
    pub(crate) unsafe fn collectgarbage_sweeping(&mut self, base: usize, nargs: usize) -> LResult<usize> {
        self.collectgarbage_impl(base, nargs, true)
    }

    fn collectgarbage_impl(&mut self, base: usize, nargs: usize, sweep: bool) -> LResult<usize> {
        let sweep = sweep || self.ccalls == 0;
        let opt = match self.opt_str(base, nargs, 0)? {
            Some(s) => s.to_str_lossy().into_owned(),
            None => "collect".to_string(),
        };
        if !self.gc_control {
            if let Some(bad) = REFUSED_GC_OPTIONS.iter().find(|r| **r == opt) {
                return Err(self.rt_error(&format!("collectgarbage option '{bad}' is not allowed in this state")));
            }
        }
        let arg = self.opt_number(base, nargs, 1, 0.0)?;
        let r = match opt.as_str() {
            "collect" => {
                // A full collection visits the whole heap: charged before it runs, so
                // that `collectgarbage()` in a loop meets the budget and the deadline.
                self.charge((self.heap.total_bytes() / GC_BYTES_PER_UNIT) as u64)?;
                self.collect_sweeping(sweep);
                self.run_finalizers()?;
                Value::number(0.0)
            }
            "count" => Value::number(self.heap.total_bytes() as f64 / 1024.0),
            "step" => {
                // As LuaJIT: the argument (KB) lowers the step threshold; steps run
                // until the heap is back under it. True if a cycle finished.
                let kb = arg.clamp(0.0, 1e12) as usize;
                let target = self.heap.total_bytes().saturating_sub(kb << 10);
                let mut finished = false;
                loop {
                    self.charge((self.heap.step_budget() / GC_BYTES_PER_UNIT) as u64 + 1)?;
                    if self.gc_step_sweeping(sweep) {
                        finished = true;
                        break;
                    }
                    // Inside a running script without the permission to sweep, a
                    // step stops at the end of the mark: don't spin there.
                    let stuck = !sweep && !matches!(self.heap.phase(), Phase::Propagate | Phase::Pause);
                    if self.heap.total_bytes() < target || kb == 0 || stuck {
                        break;
                    }
                }
                self.run_finalizers()?;
                Value::boolean(finished)
            }
            "stop" => {
                self.heap.stopped = true;
                Value::number(0.0)
            }
            "restart" => {
                self.heap.stopped = false;
                Value::number(0.0)
            }
            "setpause" => {
                let old = self.heap.pause;
                self.heap.pause = arg.max(0.0) as u32;
                Value::number(old as f64)
            }
            "setstepmul" => {
                let old = self.heap.stepmul;
                self.heap.stepmul = arg.max(0.0) as u32;
                Value::number(old as f64)
            }
            "isrunning" => Value::boolean(!self.heap.stopped),
            _ => return Err(self.arg_error(1, &format!("invalid option '{opt}'"))),
        };
        self.push(r);
        Ok(1)
    }

    /// Marks every root the VM holds.
    fn mark_roots(&mut self) {
        // Drop stale references above the live part of the running stack.
        let hi = self.live_top();
        for v in self.stack.iter_mut().skip(hi) {
            *v = Value::NIL;
        }
        let Vm {
            heap,
            stack,
            frames,
            open_upvals,
            cur_thread,
            main_thread,
            globals,
            registry,
            type_meta,
            mm_names,
            type_names,
            oom_msg,
            resumers,
            roots,
            ext,
            jit,
            ..
        } = self;
        let m = heap.marker();
        jit.trace_roots(m);
        for &v in stack.iter() {
            m.mark_value(v);
        }
        for f in frames.iter() {
            if let FrameFn::Lua(c, _) = f.fun {
                m.mark(c);
            }
        }
        for &u in open_upvals.iter() {
            m.mark(u);
        }
        m.mark(*cur_thread);
        m.mark(*main_thread);
        m.mark(*globals);
        m.mark(*registry);
        for t in type_meta.iter().flatten() {
            m.mark(*t);
        }
        for &s in mm_names.iter().chain(type_names.iter()) {
            m.mark(s);
        }
        m.mark(*oom_msg);
        for &t in resumers.iter() {
            m.mark(t);
        }
        for &v in roots.iter() {
            m.mark_value(v);
        }
        if let Some(e) = ext {
            e.trace(m);
        }
    }

    /// One past the highest stack slot in use by the running thread.
    pub fn live_top(&self) -> usize {
        self.free_top().min(self.stack.len())
    }

    /// Closes the state as `lua_close` does: runs the queued finalizers, then those
    /// of every other userdata with a `__gc` metamethod. The state stays usable.
    pub fn close(&mut self) -> LResult<()> {
        self.run_finalizers()?;
        self.heap.queue_all_finalizers(has_gc_metamethod(self.mm_names[MetaEvent::Gc as usize]));
        self.run_finalizers()
    }

    /// Runs queued `__gc` finalizers. An error in one is reported through the state's
    /// output (see [`report_finalizer_error`](Vm::report_finalizer_error)) and
    /// otherwise ignored. A budget or cancellation stop is not an error of the
    /// finalizer: it drops the queue and is returned, so that it stops the script as
    /// it would anywhere else (`pcall` cannot catch it).
    pub fn run_finalizers(&mut self) -> LResult<()> {
        if self.in_finalizer || self.heap.pending_finalizers.is_empty() {
            return Ok(());
        }
        let mut stop = None;
        self.in_finalizer = true;
        // The queue keeps the not-yet-run ones rooted while a finalizer runs Lua.
        while let Some(u) = self.heap.pending_finalizers.pop_front() {
            let gc = if let Some(cd) = u.as_cdata() {
                // `ffi.gc`: the finalizer runs once.
                let f = cd.finalizer();
                cd.set_finalizer(Value::NIL);
                f
            } else {
                let Some(ud) = u.as_userdata() else { continue };
                let Some(mt) = ud.meta() else { continue };
                mt.get_str(self.mm_names[MetaEvent::Gc as usize])
            };
            if gc.is_nil() {
                continue;
            }
            self.finalizer_frame = Some(self.frames.len());
            let called = self.call_value(gc, &[u], 0);
            self.finalizer_frame = None;
            let r = match called {
                Ok(_) => Ok(()),
                // The error object's `__tostring` may be stopped by a limit too.
                Err(e) if e.kind().catchable() => match self.error_text(&e) {
                    Ok(msg) => {
                        self.report_finalizer_error(&msg);
                        Ok(())
                    }
                    Err(stop) => Err(stop),
                },
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                // A budget or cancellation stop: drop what is queued.
                self.heap.pending_finalizers.clear();
                stop = Some(e);
                break;
            }
        }
        self.in_finalizer = false;
        match stop {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Reports an error raised by a `__gc` finalizer: the line
    /// `moonbox: error in __gc metamethod (<message>)` goes to the state's output when
    /// the host set one ([`set_output`](Vm::set_output)), else to the process's
    /// stderr (the CLI). A script decides how many finalizers fail and with what
    /// message, so each message is cut at [`MAX_GC_ERROR_TEXT`] bytes and only the
    /// first [`MAX_GC_ERROR_REPORTS`] errors of a state are reported (then one line
    /// saying the rest are not).
    pub fn report_finalizer_error(&mut self, msg: &str) {
        let n = self.gc_errors_reported;
        if n > MAX_GC_ERROR_REPORTS {
            return;
        }
        self.gc_errors_reported = n + 1;
        let line = if n == MAX_GC_ERROR_REPORTS {
            "moonbox: further errors in __gc metamethods are not reported\n".to_string()
        } else {
            let mut cut = msg.len().min(MAX_GC_ERROR_TEXT);
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            let more = if cut < msg.len() { "..." } else { "" };
            format!("moonbox: error in __gc metamethod ({}{more})\n", &msg[..cut])
        };
        match self.output.as_mut() {
            Some(out) => out(line.as_bytes()),
            None => {
                use std::io::Write;
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }
}
