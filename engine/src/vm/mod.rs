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
pub mod thread;

use crate::gc::{GcRef, Heap, LuaString, Phase};
use crate::object::{Table, UpVal, Userdata};
use crate::value::{LuaType, Value};

pub use error::{ErrorKind, LResult, LuaError};
pub use meta::MetaEvent;
pub use native::{NativeFn, NativeFunction, Special};
pub use thread::{CoStatus, Cont, Frame, FrameFn, Thread};

/// Most stack slots one thread may use ("stack overflow" past it).
pub const MAX_STACK: usize = 1_000_000;
/// Most frames one thread may have.
pub const MAX_FRAMES: usize = 200_000;
/// Most nested re-entries from native code into Lua ("C stack overflow" past it).
pub const MAX_CCALLS: u32 = 200;
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
    move |v| v.as_userdata().and_then(|u| u.meta).is_some_and(|mt| !mt.get_str(gc_key).is_nil())
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
/// will start the trace recorder. Until the recorder exists, a hot spot only resets
/// its counter and bumps `hot_events`.
pub struct HotCounters {
    pub counts: [u16; 64],
    pub hot_events: u64,
}

impl HotCounters {
    #[inline(always)]
    pub fn tick(&mut self, code: &[crate::bytecode::Ins], pc: usize) {
        // Hashed by the instruction's address, as LuaJIT does: the code pointer is
        // at hand in the dispatch loop, where a prototype's address is one more load.
        let slot = ((code.as_ptr() as usize >> 2) + pc) & 63;
        // Counters start at HOT_LOOP and are reset there, so they never wrap.
        let c = self.counts[slot].wrapping_sub(1);
        self.counts[slot] = c;
        if c == 0 {
            self.hot_spot(slot);
        }
    }

    /// A counter reached zero: a hot spot (the recorder will start here).
    #[cold]
    #[inline(never)]
    fn hot_spot(&mut self, slot: usize) {
        self.counts[slot] = interp::HOT_LOOP;
        self.hot_events += 1;
    }
}

/// A Lua state.
pub struct Vm {
    pub heap: Heap,
    /// The running thread's value stack.
    pub stack: Vec<Value>,
    /// The running thread's frames.
    pub frames: Vec<Frame>,
    /// Multires top / native stack top.
    pub top: usize,
    /// The running thread's open upvalues, sorted by slot.
    pub open_upvals: Vec<GcRef<UpVal>>,
    pub cur_thread: GcRef<Thread>,
    pub main_thread: GcRef<Thread>,
    pub globals: GcRef<Table>,
    pub registry: GcRef<Table>,
    /// Metatables of non-table types, indexed by `type_slot`.
    pub type_meta: [Option<GcRef<Table>>; 8],
    /// Interned metamethod names, indexed by `MetaEvent`.
    pub mm_names: Vec<GcRef<LuaString>>,
    /// The names `type()` returns, interned once (indexed by `LuaType as usize`).
    pub type_names: Vec<GcRef<LuaString>>,
    /// "not enough memory", interned up front so that reporting it never allocates.
    pub oom_msg: GcRef<LuaString>,
    /// Depth of re-entrant `execute` invocations.
    pub ccalls: u32,
    /// `ccalls` when the running coroutine was resumed: yields need equality.
    pub co_ccalls: u32,
    /// Nested coroutine resumes.
    pub resume_depth: u32,
    pub hot: HotCounters,
    /// Remaining instruction budget (checked on backward jumps and calls).
    pub budget: i64,
    /// May `load` accept binary chunks (`string.dump` output)?
    pub allow_binary: bool,
    /// Last builtin number handed out.
    pub next_builtin_id: u32,
    /// Headroom (in frames) granted to running error handlers past the limits.
    pub handler_extra: usize,
    /// The next frame pushed is reached by a tail call.
    pub tail_pending: bool,
    /// Set while `__gc` finalizers run, so they don't recurse.
    pub in_finalizer: bool,
    /// Loaded-library tables and other per-state data the stdlib keeps.
    pub lib_state: crate::stdlib::LibState,
    /// Debug hooks (`debug.sethook`); see `hook.rs`.
    pub hooks: hook::Hooks,
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

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn clock_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// wasm32-unknown-unknown has no clock: `SystemTime::now` panics there. A per-process
/// counter keeps seeds of successive states apart.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn clock_nanos() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATES: AtomicU64 = AtomicU64::new(0);
    STATES.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Vm {
    /// A bare state: no libraries opened.
    pub fn new_bare() -> Vm {
        let mut heap = Heap::new(random_seed());
        let main_thread = heap.alloc(Thread::new());
        main_thread.get_mut().status = CoStatus::Running;
        let globals = heap.alloc(Table::new(0, 64));
        let registry = heap.alloc(Table::new(0, 8));
        let mm_names = MetaEvent::ALL.iter().map(|e| heap.intern(e.name().as_bytes())).collect();
        let type_names = crate::value::LuaType::ALL.iter().map(|t| heap.intern(t.name().as_bytes())).collect();
        let oom_msg = heap.intern(b"not enough memory");
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
            type_meta: [None; 8],
            mm_names,
            type_names,
            oom_msg,
            ccalls: 0,
            co_ccalls: 0,
            resume_depth: 0,
            hot: HotCounters { counts: [interp::HOT_LOOP; 64], hot_events: 0 },
            tail_pending: false,
            handler_extra: 0,
            next_builtin_id: 0,
            allow_binary: true,
            budget: i64::MAX,
            in_finalizer: false,
            lib_state: crate::stdlib::LibState::default(),
            hooks: hook::Hooks::default(),
        }
    }

    /// A state with the full standard library (trusted).
    pub fn new() -> Vm {
        let mut vm = Vm::new_bare();
        crate::stdlib::open_all(&mut vm);
        vm
    }

    // ----- Values -------------------------------------------------------------------

    /// An interned string value.
    #[inline]
    pub fn str_value(&mut self, b: &[u8]) -> Value {
        self.heap.intern(b).to_value()
    }

    /// An interned string.
    #[inline]
    pub fn intern(&mut self, b: &[u8]) -> GcRef<LuaString> {
        self.heap.intern(b)
    }

    /// A new table.
    pub fn new_table(&mut self, narr: usize, nhash: usize) -> GcRef<Table> {
        self.heap.alloc(Table::new(narr, nhash))
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

    /// Gives a native function its builtin number (call before allocating it).
    pub fn alloc_native(&mut self, nf: &mut NativeFunction) {
        self.next_builtin_id += 1;
        nf.id = self.next_builtin_id;
    }

    /// A new userdata.
    pub fn new_userdata(&mut self, data: Option<Box<dyn std::any::Any>>) -> GcRef<Userdata> {
        self.heap.alloc(Userdata::new(data))
    }

    /// `t[k] = v` raw, with GC accounting; errors for nil / NaN keys.
    pub fn raw_set(&mut self, t: GcRef<Table>, k: Value, v: Value) -> LResult<()> {
        let r = t.get_mut().set(k, v);
        self.heap.barrier(t);
        match r {
            Ok(grown) => self.account(grown),
            Err(e) => Err(self.rt_error(e.message())),
        }
    }

    /// `t[name] = v` raw, for a string key.
    pub fn set_field(&mut self, t: GcRef<Table>, name: &str, v: Value) {
        let k = self.intern(name.as_bytes());
        let grown = t.get_mut().set_str(k, v);
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
        if v.func_kind() == Some(crate::gc::Kind::NativeFunction) {
            let nf: GcRef<NativeFunction> = GcRef::from_value_payload(v);
            nf.upvals.get(i).copied().unwrap_or(Value::NIL)
        } else {
            Value::NIL
        }
    }

    /// Sets upvalue `i` of the running native closure.
    pub fn set_native_upval(&mut self, i: usize, v: Value) {
        let Some(f) = self.frames.last() else { return };
        let fv = self.stack[f.func];
        if fv.func_kind() == Some(crate::gc::Kind::NativeFunction) {
            let nf: GcRef<NativeFunction> = GcRef::from_value_payload(fv);
            if let Some(slot) = nf.get_mut().upvals.get_mut(i) {
                *slot = v;
            }
            self.heap.barrier(nf);
        }
    }

    /// The metatable of any value.
    #[inline]
    pub fn metatable(&self, v: Value) -> Option<GcRef<Table>> {
        if let Some(t) = v.as_table() {
            t.meta
        } else if let Some(u) = v.as_userdata() {
            u.meta
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

    /// Like [`check_mem`](Vm::check_mem), but first tries a full collection when the
    /// limit would be passed. Call only where every live value is reachable from the
    /// VM's roots (e.g. at the start of a native function, before it creates objects
    /// it keeps in Rust locals).
    pub fn reserve_mem(&mut self, extra: usize) -> LResult<()> {
        if self.heap.would_exceed(extra) && !self.in_finalizer && self.heap.collection_may_help() {
            self.collect_garbage();
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

    /// [`account`](Vm::account) at a GC safe point (the interpreter between
    /// instructions): past the limit, collect first and fail only if still past it.
    #[inline]
    pub fn account_gc(&mut self, grown: usize) -> LResult<()> {
        self.heap.account(grown);
        if grown != 0 && self.heap.over_limit() {
            self.emergency_gc()?;
        }
        Ok(())
    }

    /// A GC safe point after an allocation: collects if due, then fails with
    /// "not enough memory" if the live heap is still past the limit.
    #[inline]
    pub fn gc_point(&mut self) -> LResult<()> {
        if self.heap.should_collect() {
            self.gc_step();
            self.run_finalizers()?;
            if self.heap.over_limit() {
                self.emergency_gc()?;
            }
        }
        Ok(())
    }

    /// Past the limit at a safe point: a full collection (unless one just ran and
    /// little was allocated since), then "not enough memory" if still past it.
    fn emergency_gc(&mut self) -> LResult<()> {
        if self.heap.collection_may_help() {
            self.full_gc()?;
        }
        if self.heap.over_limit() {
            return Err(self.mem_error());
        }
        Ok(())
    }

    // ----- GC -----------------------------------------------------------------------

    /// A full collection, then pending finalizers. Fails only when a finalizer was
    /// stopped by the budget or the host (an error that must reach the host).
    pub fn full_gc(&mut self) -> LResult<()> {
        self.collect_garbage();
        self.run_finalizers()
    }

    /// A full collection without running finalizers: finishes the cycle in
    /// progress, then runs a whole one, so all garbage made before the call goes.
    pub fn collect_garbage(&mut self) {
        let cycles = if self.heap.phase() == Phase::Pause { 1 } else { 2 };
        for _ in 0..cycles {
            while !self.gc_work(usize::MAX) {}
        }
    }

    /// One incremental collector step, paced by the allocation since the last one
    /// and the step multiplier. Returns true if it finished a cycle.
    pub fn gc_step(&mut self) -> bool {
        let start = self.heap.measure_pauses.then(std::time::Instant::now);
        let budget = self.heap.step_budget();
        let done = self.gc_work(budget);
        self.heap.step_done();
        if let Some(t) = start {
            self.heap.pauses.push(t.elapsed().as_nanos() as u64);
        }
        done
    }

    /// Advances the collector by about `budget` bytes of work. True when this
    /// finished a cycle.
    fn gc_work(&mut self, budget: usize) -> bool {
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
                    // Lua 5.1 decides at collection time whether a userdata needs
                    // finalizing.
                    self.heap.finish_mark(has_gc_metamethod(self.mm_names[MetaEvent::Gc as usize]));
                }
                Phase::Sweep | Phase::SweepStrings => return self.heap.sweep(budget),
            }
        }
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
            lib_state,
            ..
        } = self;
        let m = heap.marker();
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
        lib_state.trace(m);
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

    /// Runs queued `__gc` finalizers (errors in them are reported to stderr, as a
    /// warning, and otherwise ignored). A budget or cancellation stop is not an error
    /// of the finalizer: it drops the queue and is returned, so that it stops the
    /// script as it would anywhere else (`pcall` cannot catch it).
    pub fn run_finalizers(&mut self) -> LResult<()> {
        if self.in_finalizer || self.heap.pending_finalizers.is_empty() {
            return Ok(());
        }
        let mut stop = None;
        self.in_finalizer = true;
        // The queue keeps the not-yet-run ones rooted while a finalizer runs Lua.
        while let Some(u) = self.heap.pending_finalizers.pop_front() {
            let Some(ud) = u.as_userdata() else { continue };
            let Some(mt) = ud.meta else { continue };
            let gc = mt.get_str(self.mm_names[MetaEvent::Gc as usize]);
            if gc.is_nil() {
                continue;
            }
            if let Err(e) = self.call_value(gc, &[u], 0) {
                if !e.kind().catchable() {
                    // A budget or cancellation stop: drop what is queued.
                    self.heap.pending_finalizers.clear();
                    stop = Some(e);
                    break;
                }
                let msg = self.error_to_string(&e);
                eprintln!("moonbox: error in __gc metamethod ({msg})");
            }
        }
        self.in_finalizer = false;
        match stop {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}
