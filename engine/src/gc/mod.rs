//! The heap: allocation, incremental mark & sweep, weak tables and finalizers.
//!
//! Every GC object is a `#[repr(C)]` struct whose first field is a [`GcHeader`]. The
//! header links the object into the heap's list of all objects (strings are kept in
//! the intern table instead, see [`strings`]) and points at a per-type vtable that
//! knows how to trace, weak-clear and free it, so this module names no object type
//! above it: tables, closures and userdata implement [`GcObject`] on their own floor.
//!
//! The collector is incremental: a cycle marks a few objects at a time (`propagate`),
//! ends the mark in one atomic step (`finish_mark`: roots again, weak tables,
//! finalizers), then sweeps a few objects at a time. A write barrier
//! ([`Heap::barrier`]) keeps the tri-colour invariant while the program runs between
//! steps: an already traced object that is written to goes back to gray, and the
//! mark drains those step by step too (`propagate`), so the atomic step only traces
//! what was written during the last round, and its pause stays short.
//!
//! # The heap's rules
//!
//! These are the whole soundness argument of the engine's unsafe code; everything
//! else is built so that safe code cannot break them.
//!
//! 1. **Objects are never moved and never mutated through a `&mut` derived from a
//!    handle.** A [`GcRef`] only ever gives `&T`. Every field that changes after
//!    allocation is interior-mutable: `Cell` for plain data, or an `UnsafeCell`
//!    that only the object's own methods open, for the duration of one method that
//!    calls nothing outside its module (see `object::table`). So no safe code, in
//!    the engine or outside it, can hold two `&mut` to one object, or a `&mut`
//!    beside a `&`.
//! 2. **A reachable object is never freed.** Only [`Heap::sweep`] frees, and only
//!    objects left white by a complete mark from the roots the VM hands in.
//! 3. **An object a Rust frame may still use is never freed.** Rust code (a library
//!    function, a metamethod slow path, a hook) may hold handles in locals that no
//!    root reaches. The VM therefore lets the sweep free anything only where no such
//!    frame can be active: at the interpreter's own collection points, between
//!    instructions (its locals are the running frame's closure, prototype and code,
//!    which the frame stack roots), and at the top level, where only the state's
//!    owner is on the Rust stack. Everywhere else — inside a library function, or
//!    inside Lua code that one called (`table.sort`'s comparator, `__tostring`, a
//!    reader function) — the heap is *pinned* ([`Heap::pin`]): the collector may
//!    still mark, but sweeping waits until the pin is released. This is checked at
//!    run time by a counter, not trusted to each caller.
//! 4. **Handles do not outlive the heap**, and handles of one heap are not used
//!    with another. The owner of a heap promises this, and rule 3's "top level"
//!    part, by calling the `unsafe` constructor ([`Heap::new`], and `Vm::new_bare`
//!    and `stdlib::new_state` above it); the embedding facade keeps the promise with
//!    handles it checks.
//!
//! A handle (`GcRef`, or a GC-tagged `Value`) can only be made from a live object:
//! there is no safe way to build one from an address.

pub mod slots;
pub mod strings;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::value::Value;

pub use slots::{GrowError, Slots};
pub use strings::{LuaString, StringTable};

/// What kind of object a header belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Kind {
    String,
    Table,
    LuaFunction,
    NativeFunction,
    Userdata,
    Thread,
    Proto,
    UpVal,
    CData,
}

/// How many times a cycle's mark drains the objects the write barrier sent back to
/// gray before the atomic phase (see [`Heap::propagate`]).
const DRAIN_ROUNDS: u32 = 16;

/// The common header of every GC object.
#[repr(C)]
pub struct GcHeader {
    next: Cell<Option<NonNull<GcHeader>>>,
    vtable: &'static VTable,
    kind: Kind,
    /// Tri-colour mark: one of the two whites, gray (0) or [`BLACK`].
    color: Cell<u8>,
    /// Per-kind flag bits (e.g. "has a finalizer" for userdata).
    pub(crate) flags: Cell<u8>,
}

/// The first white: unmarked in even cycles.
const WHITE0: u8 = 1;
/// The second white. The heap flips between the two at the end of each mark phase,
/// so objects allocated during a sweep (the new white) are told apart from the dead
/// ones (the old white) without touching them.
const WHITE1: u8 = 2;
const WHITES: u8 = WHITE0 | WHITE1;
/// Marked and traced.
const BLACK: u8 = 4;

/// What generated code reads of an object's header (through `vm::layout`): the
/// colour byte's offset from the object's start (every object starts with its
/// header) and the value that means black.
pub(crate) mod offsets {
    pub const COLOR: usize = std::mem::offset_of!(super::GcHeader, color);
    pub const BLACK: u8 = super::BLACK;
}
/// Marked, waiting to be traced (no bits set).
const GRAY: u8 = 0;

impl GcHeader {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    #[inline(always)]
    fn is_white(&self) -> bool {
        self.color.get() & WHITES != 0
    }
}

/// Header flag: userdata whose finalizer must run when it becomes unreachable.
pub const FLAG_FINALIZE: u8 = 1;
/// Header flag: finalizer already ran (or was scheduled); never schedule again.
pub const FLAG_FINALIZED: u8 = 2;
/// Header flag: the object owns a registered memory range (see
/// [`Heap::register_range`]), dropped from the registry when it is freed.
pub const FLAG_RANGE: u8 = 4;
/// Header flag: the object is on the heap's finalizer list.
const FLAG_TRACKED: u8 = 8;

struct VTable {
    trace: unsafe fn(NonNull<GcHeader>, &mut Marker),
    clear_weak: unsafe fn(NonNull<GcHeader>, &Marker, bool, bool),
    free: unsafe fn(NonNull<GcHeader>) -> usize,
    size: unsafe fn(NonNull<GcHeader>) -> usize,
}

/// A GC object type.
pub trait GcObject: Sized + 'static {
    const KIND: Kind;
    /// The value tag under which this object is visible to Lua.
    const TAG: u64;
    /// Marks every GC reference the object holds.
    fn trace(&self, m: &mut Marker);
    /// After marking: drops entries whose weak key or value is dead (`m` tells).
    /// Only objects that registered themselves with [`Marker::push_weak`] are asked.
    fn clear_weak(&self, _m: &Marker, _weak_keys: bool, _weak_values: bool) {}
    /// Approximate bytes owned by the object (for GC pacing and `collectgarbage("count")`).
    fn size(&self) -> usize;
    /// The header (always the first field).
    fn header(&self) -> &GcHeader;
}

/// A handle to a live GC object: a pointer, `Copy`, dereferencing to `&T` only (the
/// heap's rules, in the module docs, say why that is sound).
#[repr(transparent)]
pub struct GcRef<T> {
    ptr: NonNull<T>,
    _p: PhantomData<*const T>,
}

impl<T> Clone for GcRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for GcRef<T> {}
impl<T> PartialEq for GcRef<T> {
    fn eq(&self, o: &Self) -> bool {
        self.ptr == o.ptr
    }
}
impl<T> Eq for GcRef<T> {}
impl<T> std::hash::Hash for GcRef<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.ptr.hash(h)
    }
}
impl<T> std::fmt::Debug for GcRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GcRef({:p})", self.ptr)
    }
}

impl<T> GcRef<T> {
    /// Builds a reference from a value's payload. The caller has checked the tag, so
    /// the payload is the address of a live object of type `T` (values are only ever
    /// made from live objects by [`GcRef::to_value`], and reachable objects are never
    /// freed).
    #[inline(always)]
    pub(crate) fn from_value_payload(v: Value) -> GcRef<T> {
        let addr = v.payload() as *mut T;
        debug_assert!(!addr.is_null(), "null GC payload");
        // SAFETY: a GC-tagged value is only made by `GcRef::to_value`, from a live
        // object's (non-null) address, and the caller has checked the tag. No test
        // of the address here: this runs in every table, string and call fast path.
        let ptr = unsafe { NonNull::new_unchecked(addr) };
        GcRef { ptr, _p: PhantomData }
    }

    /// The object's address.
    #[inline(always)]
    pub fn addr(self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Whether the object is black (marked and traced): in the mark phase a store
    /// into it needs the write barrier (what a trace's `TBAR` checks).
    pub fn is_black(self) -> bool
    where
        T: GcObject,
    {
        self.header().color.get() == BLACK
    }

    fn header_ptr(self) -> NonNull<GcHeader> {
        self.ptr.cast()
    }
}

impl<T: GcObject> GcRef<T> {
    /// The Lua value for this object.
    #[inline(always)]
    pub fn to_value(self) -> Value {
        Value::from_gc(T::TAG, self.addr())
    }
}

impl<T> std::ops::Deref for GcRef<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the object is alive: handles are only made from live objects, and
        // the heap's rules 2-4 (module docs) keep every object a handle can still be
        // used on from being freed. No `&mut` to it can exist (rule 1).
        unsafe { self.ptr.as_ref() }
    }
}

/// The marking state handed to [`GcObject::trace`]. It lives in the heap for the
/// whole mark phase, which is spread over many steps.
pub struct Marker {
    gray: Vec<NonNull<GcHeader>>,
    /// Objects to trace again in the atomic phase: threads (their stacks change
    /// without barriers) and black objects written to since they were traced.
    grayagain: Vec<NonNull<GcHeader>>,
    /// Weak tables met during marking, with their (weak keys, weak values) mode.
    weak: Vec<(NonNull<GcHeader>, bool, bool)>,
    /// The interned `"__mode"` string, so tables can find their mode.
    pub mode_key: Value,
    /// The current white (what unmarked means).
    white: u8,
    /// Set in the atomic phase: nothing is deferred any more.
    atomic: bool,
    /// Bytes of objects traced (the unit of GC work).
    work: usize,
    /// Set while checking the tri-colour invariant: marking a white object is a bug.
    verifying: bool,
    violations: usize,
}

impl Marker {
    fn new() -> Marker {
        Marker {
            gray: Vec::new(),
            grayagain: Vec::new(),
            weak: Vec::new(),
            mode_key: Value::NIL,
            white: WHITE0,
            atomic: false,
            work: 0,
            verifying: false,
            violations: 0,
        }
    }

    /// Marks a value (no-op for non-GC values).
    #[inline]
    pub fn mark_value(&mut self, v: Value) {
        if v.is_gc() && v.tag() != crate::value::tag::INTERNAL {
            let h: GcRef<GcHeader> = GcRef::from_value_payload(v);
            self.mark_header(h.header_ptr());
        }
    }

    /// Marks an object.
    #[inline]
    pub fn mark<T: GcObject>(&mut self, r: GcRef<T>) {
        self.mark_header(r.header_ptr());
    }

    #[inline]
    fn mark_header(&mut self, h: NonNull<GcHeader>) {
        // SAFETY: `h` points at the header of a live object (see GcRef).
        let hdr = unsafe { h.as_ref() };
        if hdr.is_white() {
            if self.verifying {
                self.violations += 1;
                return;
            }
            if hdr.kind == Kind::String {
                // Strings hold no references: straight to black.
                hdr.color.set(BLACK);
            } else {
                hdr.color.set(GRAY);
                self.gray.push(h);
            }
        }
    }

    /// Is this value marked (or not collectable)?
    pub fn is_marked(&self, v: Value) -> bool {
        if !v.is_gc() {
            return true;
        }
        let h: GcRef<GcHeader> = GcRef::from_value_payload(v);
        !h.is_white()
    }

    /// Records an object with weak references (a weak table), to be asked to
    /// [`clear_weak`](GcObject::clear_weak) after marking.
    pub fn push_weak<T: GcObject>(&mut self, obj: &T, weak_keys: bool, weak_values: bool) {
        if !self.verifying {
            // From the whole object, not its header field: the pointer must cover
            // the object for `clear_weak` to reach all of it.
            self.weak.push((NonNull::from(obj).cast::<GcHeader>(), weak_keys, weak_values));
        }
    }

    /// Does a weak key `v` survive this cycle? Strings are values, not objects, for
    /// weakness (as in Lua 5.1): a weak table never loses them.
    pub fn weak_key_alive(&self, v: Value) -> bool {
        v.is_string() || self.is_marked(v)
    }

    /// Does a weak value `v` survive? As a key, except that a userdata whose
    /// finalizer is queued goes at once (as in Lua 5.1 and LuaJIT).
    pub fn weak_value_alive(&self, v: Value) -> bool {
        if !self.weak_key_alive(v) {
            return false;
        }
        if v.tag() == crate::value::tag::UDATA || v.tag() == crate::value::tag::CDATA {
            let h: GcRef<GcHeader> = GcRef::from_value_payload(v);
            return h.flags.get() & FLAG_FINALIZED == 0;
        }
        true
    }

    /// Traces gray objects until about `budget` bytes of work are done; returns
    /// true when nothing gray is left.
    fn propagate(&mut self, budget: usize) -> bool {
        let start = self.work;
        while let Some(h) = self.gray.pop() {
            // SAFETY: gray objects are live (marked objects are never freed before
            // the next sweep); the vtable matches the object type because it was
            // stored at allocation time.
            let hdr = unsafe { h.as_ref() };
            hdr.color.set(BLACK);
            // SAFETY: as above.
            unsafe { (hdr.vtable.trace)(h, self) };
            // SAFETY: as above; `size` only reads the object.
            self.work += unsafe { object_size(h) };
            if hdr.kind == Kind::Thread && !self.atomic {
                // A thread's stack is written without barriers: look again at the end.
                hdr.color.set(GRAY);
                self.grayagain.push(h);
            }
            if self.work - start >= budget {
                return self.gray.is_empty();
            }
        }
        true
    }
}

/// Where the collector is in its cycle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Between cycles: every object is white.
    Pause,
    /// Marking: the gray objects are being traced, a few at a time.
    Propagate,
    /// Freeing dead objects from the object list, a few at a time.
    Sweep,
    /// Freeing dead strings from the intern table, a few buckets at a time.
    SweepStrings,
}

/// Allocation between two collector steps, in bytes (as Lua's `GCSTEPSIZE`).
pub const STEP_SIZE: usize = 1024;
/// Work charged for visiting one object in the sweep.
const SWEEP_COST: usize = 16;
/// The smallest threshold for starting a cycle.
const MIN_THRESHOLD: usize = 64 * 1024;

/// Owns every GC object.
pub struct Heap {
    objects: Option<NonNull<GcHeader>>,
    pub(crate) strings: StringTable,
    /// Every userdata (also in `objects`), and every cdata that was given a
    /// finalizer ([`Heap::track_finalizer`]): the ones the atomic phase checks for
    /// finalizers, without walking the whole heap.
    udata: Vec<NonNull<GcHeader>>,
    /// Registered memory ranges (see [`Heap::register_range`]): start -> (end,
    /// owner's header address).
    ranges: std::collections::BTreeMap<usize, (usize, usize)>,
    /// Owner's header address -> start of its registered range.
    range_of: std::collections::HashMap<usize, usize>,
    /// Bytes owned by live objects and garbage not yet swept.
    total: usize,
    /// Take the next collector step when `total` passes this.
    threshold: usize,
    /// Live bytes at the end of the last cycle (the base for the pause).
    estimate: usize,
    /// Unreachable userdata whose finalizers must run, in order.
    pub pending_finalizers: std::collections::VecDeque<Value>,
    /// Set while collection is disabled (`collectgarbage("stop")`).
    pub stopped: bool,
    /// GC pause in percent (as Lua's `setpause`).
    pub pause: u32,
    /// Step multiplier (as Lua's `setstepmul`).
    pub stepmul: u32,
    /// The state's memory limit in bytes (`usize::MAX`: none). The heap only keeps
    /// the number; the VM turns an allocation past it into "not enough memory".
    limit: usize,
    /// Rounds of draining `grayagain` done in this cycle's mark (see
    /// [`Heap::propagate`]).
    drain_rounds: u32,
    /// Room past `limit` granted after a collection point raised "not enough memory"
    /// with the heap already past the limit (objects the interpreter allocates
    /// unchecked can overshoot it): so the script that caught the error can still
    /// allocate a little, as it could in LuaJIT, whose failed allocation left the heap
    /// under its limit. Withdrawn when a sweep ends under the limit.
    grace: usize,
    phase: Phase,
    marker: Marker,
    /// Sweep cursor: the last surviving object visited (`None`: the list head).
    sweep_prev: Option<NonNull<GcHeader>>,
    /// String sweep cursor: the next bucket.
    sweep_bucket: usize,
    /// Check the tri-colour invariant at the end of every mark phase (tests).
    pub verify: bool,
    /// Stress mode (tests): a tiny step at every safe point, so that collection
    /// interleaves with everything the mutator does.
    pub stress: bool,
    /// Durations of collector steps and full collections, in nanoseconds, when
    /// [`measure_pauses`](Heap::measure_pauses) is set (a measuring aid).
    pub pauses: Vec<u64>,
    /// Record step durations (costs a clock read per step).
    pub measure_pauses: bool,
    /// Pins held (rule 3 of the module docs): while non-zero, nothing is freed.
    pins: u32,
    /// The state of the generator of table seeds ([`Heap::table_seed`]).
    table_seeds: u64,
}

/// Userdata `h` as a finalizer to queue, marked finalized, when it has a finalizer
/// (flagged, or `finalizable` says so) that was not queued before.
///
/// # Safety
/// `h` must be an entry of `Heap::udata`, which holds exactly the userdata (and
/// tracked cdata) not yet freed (dead ones are dropped from it before the sweep
/// frees them).
unsafe fn claim_finalizer(h: NonNull<GcHeader>, finalizable: &impl Fn(Value) -> bool) -> Option<Value> {
    // SAFETY: the caller passes a live userdata's or cdata's header (above).
    let hdr = unsafe { h.as_ref() };
    if hdr.flags.get() & FLAG_FINALIZED != 0 {
        return None;
    }
    let tag = if hdr.kind == Kind::CData { crate::value::tag::CDATA } else { crate::value::tag::UDATA };
    let v = Value::from_gc(tag, h.as_ptr() as usize);
    if hdr.flags.get() & FLAG_FINALIZE == 0 && !finalizable(v) {
        return None;
    }
    hdr.flags.set(hdr.flags.get() | FLAG_FINALIZED);
    Some(v)
}

impl Heap {
    /// An empty heap. `seed` keys the string hash.
    ///
    /// # Safety
    /// The caller owns the heap's rule 4 (module docs): no handle to one of its
    /// objects is used after the heap is dropped, or with another heap; and when it
    /// lets the heap sweep ([`Heap::sweep`]) every handle it will use afterwards is
    /// reachable from the roots it marked.
    pub unsafe fn new(seed: u64) -> Heap {
        Heap {
            objects: None,
            strings: StringTable::new(seed),
            udata: Vec::new(),
            ranges: std::collections::BTreeMap::new(),
            range_of: std::collections::HashMap::new(),
            total: 0,
            threshold: MIN_THRESHOLD,
            estimate: 0,
            pending_finalizers: std::collections::VecDeque::new(),
            stopped: false,
            pause: 200,
            stepmul: 200,
            limit: usize::MAX,
            grace: 0,
            drain_rounds: 0,
            phase: Phase::Pause,
            marker: Marker::new(),
            sweep_prev: None,
            sweep_bucket: 0,
            verify: false,
            stress: false,
            pauses: Vec::new(),
            measure_pauses: false,
            pins: 0,
            // Apart from the string hash's key: one does not tell the other.
            table_seeds: splitmix64(seed ^ 0x6A09_E667_F3BC_C909),
        }
    }

    /// A seed for a new table's hash of non-string keys (see `object::table`): the
    /// next output of a generator keyed by the state's random seed.
    #[inline]
    pub fn table_seed(&mut self) -> u64 {
        self.table_seeds = self.table_seeds.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix64(self.table_seeds)
    }

    /// Sets the memory limit (`None`: unlimited). Collections are paced so that one
    /// runs before the limit is reached.
    pub fn set_limit(&mut self, limit: Option<usize>) {
        self.limit = limit.unwrap_or(usize::MAX);
        self.grace = 0;
        self.threshold = self.threshold.min(self.limit);
    }

    /// The limit in force: the memory limit plus any grace (see `grace`).
    #[inline]
    fn cap(&self) -> usize {
        self.limit.saturating_add(self.grace)
    }

    /// Grants the grace room past the limit (a 32nd of it, at least 64 KiB) after a
    /// "not enough memory" raised with the heap past its limit. Repeated errors do not
    /// widen it.
    pub fn grant_grace(&mut self) {
        if self.limit != usize::MAX {
            self.grace = (self.limit / 32).max(64 << 10);
        }
    }

    /// The memory limit, if any.
    pub fn limit(&self) -> Option<usize> {
        (self.limit != usize::MAX).then_some(self.limit)
    }

    /// True when `extra` more bytes would take the heap past its limit.
    #[inline]
    pub fn would_exceed(&self, extra: usize) -> bool {
        self.total.saturating_add(extra) > self.cap()
    }

    /// Bytes left under the limit (`usize::MAX` when unlimited).
    #[inline]
    pub fn room(&self) -> usize {
        self.cap().saturating_sub(self.total)
    }

    /// Could a full collection free a useful amount? Not when little was allocated
    /// since the last cycle ended: then a script that keeps failing near its limit
    /// fails fast instead of collecting at every attempt.
    #[inline]
    pub fn collection_may_help(&self) -> bool {
        self.total.saturating_sub(self.estimate) > self.limit / 16
    }

    /// True when the heap is already past its limit.
    #[inline]
    pub fn over_limit(&self) -> bool {
        self.total > self.cap()
    }

    /// Moves `obj` onto the heap.
    pub fn alloc<T: GcObject>(&mut self, obj: T) -> GcRef<T> {
        let size = obj.size();
        let b = Box::new(obj);
        let ptr = NonNull::from(Box::leak(b));
        let r = GcRef { ptr, _p: PhantomData };
        let h = r.header();
        h.color.set(self.marker.white);
        h.next.set(self.objects);
        self.objects = Some(r.header_ptr());
        if T::KIND == Kind::Userdata {
            self.udata.push(r.header_ptr());
        }
        self.total += size;
        r
    }

    /// Puts an object (a cdata given a finalizer) on the list the atomic phase
    /// checks for finalizers; its header's `FLAG_FINALIZE` says whether it has one.
    /// Userdata are always on it. Idempotent.
    pub fn track_finalizer<T: GcObject>(&mut self, r: GcRef<T>) {
        let h = r.header();
        if T::KIND != Kind::Userdata && h.flags.get() & FLAG_TRACKED == 0 {
            h.flags.set(h.flags.get() | FLAG_TRACKED);
            self.udata.push(r.header_ptr());
        }
    }

    /// Registers `start .. start + len` as memory owned by `owner` until it is
    /// freed (the FFI's data level checks every access it makes through a pointer
    /// against these ranges). One range per object; registering again is a no-op.
    pub fn register_range<T: GcObject>(&mut self, owner: GcRef<T>, start: usize, len: usize) {
        let h = owner.header();
        if h.flags.get() & FLAG_RANGE != 0 {
            return;
        }
        h.flags.set(h.flags.get() | FLAG_RANGE);
        let key = owner.addr();
        self.ranges.insert(start, (start.saturating_add(len), key));
        self.range_of.insert(key, start);
    }

    /// Is `addr .. addr + len` inside one registered range?
    pub fn range_registered(&self, addr: usize, len: usize) -> bool {
        let Some(end) = addr.checked_add(len) else { return false };
        match self.ranges.range(..=addr).next_back() {
            Some((_, &(rend, _))) => end <= rend,
            None => false,
        }
    }

    /// The registered range that contains `addr`, as (start, end).
    pub fn range_at(&self, addr: usize) -> Option<(usize, usize)> {
        match self.ranges.range(..=addr).next_back() {
            Some((&start, &(end, _))) if addr < end || (addr == start && start == end) => Some((start, end)),
            _ => None,
        }
    }

    fn unregister_range(&mut self, hdr_addr: usize) {
        if let Some(start) = self.range_of.remove(&hdr_addr) {
            if self.ranges.get(&start).is_some_and(|&(_, k)| k == hdr_addr) {
                self.ranges.remove(&start);
            }
        }
    }

    /// Creates an interned string.
    pub fn intern(&mut self, bytes: &[u8]) -> GcRef<LuaString> {
        let (s, added, grew) = self.strings.intern(bytes, self.marker.white);
        if grew && self.phase == Phase::SweepStrings {
            // The buckets were rebuilt under the sweep's cursor: sweep them again
            // from the start (survivors already swept keep the current white).
            self.sweep_bucket = 0;
        }
        self.total += added;
        s
    }

    /// Creates an interned string from a buffer the caller built (see
    /// `StringTable::intern_owned`: a long new string keeps the buffer).
    pub fn intern_owned(&mut self, bytes: Vec<u8>) -> GcRef<LuaString> {
        let (s, added, grew) = self.strings.intern_owned(bytes, self.marker.white);
        if grew && self.phase == Phase::SweepStrings {
            self.sweep_bucket = 0;
        }
        self.total += added;
        s
    }

    /// Adds `bytes` to the live-size estimate (e.g. when a table grows).
    #[inline]
    pub fn account(&mut self, bytes: usize) {
        self.total += bytes;
    }

    /// Takes `bytes` off the live-size estimate (an object shrank).
    #[inline]
    pub fn unaccount(&mut self, bytes: usize) {
        self.total = self.total.saturating_sub(bytes);
    }

    /// Estimated live bytes.
    pub fn total_bytes(&self) -> usize {
        self.total
    }

    /// True when a collector step is due (or the heap is past its limit).
    #[inline(always)]
    pub fn should_collect(&self) -> bool {
        (self.total >= self.threshold && !self.stopped) || self.total > self.cap()
    }

    /// Where the collector is in its cycle.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// A header value's vtable for a new object of type `T`.
    pub fn new_header<T: GcObject>() -> GcHeader {
        GcHeader {
            next: Cell::new(None),
            vtable: vtable_of::<T>(),
            kind: T::KIND,
            color: Cell::new(WHITE0),
            flags: Cell::new(0),
        }
    }

    /// The write barrier: call after storing a reference into `r` (a table slot, a
    /// metatable, an upvalue, an environment). If the collector already traced `r`
    /// in this mark phase, it is traced again before the phase ends, so whatever
    /// was stored into it is not freed.
    #[inline(always)]
    pub fn barrier<T: GcObject>(&mut self, r: GcRef<T>) {
        let h = r.header();
        if h.color.get() == BLACK && self.phase == Phase::Propagate {
            h.color.set(GRAY);
            self.marker.grayagain.push(r.header_ptr());
        }
    }

    /// The marker, for the VM to mark its roots with (only between
    /// [`start_cycle`](Heap::start_cycle) and [`finish_mark`](Heap::finish_mark)).
    pub fn marker(&mut self) -> &mut Marker {
        &mut self.marker
    }

    /// Pause → Propagate. The caller marks its roots right after.
    pub fn start_cycle(&mut self, mode_key: Value) {
        debug_assert_eq!(self.phase, Phase::Pause);
        self.drain_rounds = 0;
        let m = &mut self.marker;
        m.gray.clear();
        m.grayagain.clear();
        m.weak.clear();
        m.mode_key = mode_key;
        m.atomic = false;
        m.mark_value(mode_key);
        for &v in &self.pending_finalizers {
            m.mark_value(v);
        }
        self.phase = Phase::Propagate;
    }

    /// Traces about `budget` bytes; true when the gray list is empty and the
    /// atomic phase may run.
    ///
    /// What the write barrier sent back to gray (`grayagain`) is drained here, step by
    /// step, up to [`DRAIN_ROUNDS`] times a cycle, rather than all in the atomic
    /// phase: a table written during the mark leads to everything the mutator hung
    /// under it since (new, white objects), and tracing that in one go was the long
    /// pause (70 ms on a 1 GiB heap, `examples/gc_pauses.rs`). Each round covers what
    /// was written during the one before, which the step pacing keeps short, so the
    /// atomic phase is left with the last round's writes only.
    pub fn propagate(&mut self, budget: usize) -> bool {
        let start = self.marker.work;
        loop {
            let spent = self.marker.work - start;
            if !self.marker.propagate(budget.saturating_sub(spent).max(1)) {
                return false;
            }
            let only_threads = self.marker.grayagain.iter().all(|h| {
                // SAFETY: entries of `grayagain` are live objects marked this cycle
                // (nothing is freed before the sweep).
                unsafe { h.as_ref() }.kind == Kind::Thread
            });
            if only_threads || self.drain_rounds >= DRAIN_ROUNDS {
                return true;
            }
            self.drain_rounds += 1;
            let again = std::mem::take(&mut self.marker.grayagain);
            self.marker.gray.extend(again);
            if self.marker.work - start >= budget {
                return false;
            }
        }
    }

    /// Marks everything reachable from what is marked so far (in the atomic phase,
    /// after the roots: then an unmarked object is garbage, unless a finalizer
    /// resurrects it in [`Heap::finish_mark`]).
    pub fn mark_all(&mut self) {
        let again = std::mem::take(&mut self.marker.grayagain);
        self.marker.gray.extend(again);
        self.marker.propagate(usize::MAX);
    }

    /// Whether `v` is marked (or not a collectable object), during marking.
    pub fn is_marked_value(&self, v: Value) -> bool {
        self.marker.is_marked(v)
    }

    /// The atomic end of the mark phase. The caller has marked every root again
    /// (the mutator ran since the cycle started). Finishes marking, queues the
    /// finalizers of unreachable userdata (resurrecting them for one more cycle),
    /// clears weak tables and starts the sweep.
    pub fn finish_mark(&mut self, finalizable: impl Fn(Value) -> bool) {
        debug_assert_eq!(self.phase, Phase::Propagate);
        let m = &mut self.marker;
        m.atomic = true;
        for &v in &self.pending_finalizers {
            m.mark_value(v);
        }
        let again = std::mem::take(&mut m.grayagain);
        m.gray.extend(again);
        m.propagate(usize::MAX);

        // Unreachable userdata with finalizers: resurrect them (and what they reach)
        // for one more cycle and queue their finalizers.
        let mut newly = Vec::new();
        for &h in &self.udata {
            // SAFETY: `udata` holds exactly the live userdata (pruned at each flip).
            if unsafe { h.as_ref() }.is_white() {
                // SAFETY: `h` is an entry of `udata`.
                newly.extend(unsafe { claim_finalizer(h, &finalizable) });
            }
        }
        // Resurrect them (and what they reach), then clear weak tables. As in Lua
        // 5.1 and LuaJIT, a resurrected userdata stays as a weak key until it is
        // really collected, but goes at once as a weak value.
        for &v in &newly {
            m.mark_value(v);
        }
        m.propagate(usize::MAX);
        let weak = std::mem::take(&mut m.weak);
        for &(h, wk, wv) in &weak {
            // SAFETY: `h` was pushed by a live object's `trace` in this mark phase,
            // and nothing is freed before the sweep; the vtable matches its type.
            unsafe { (h.as_ref().vtable.clear_weak)(h, m, wk, wv) };
        }
        // Finalizers run most recently created first, as in LuaJIT (`udata` is in
        // creation order).
        newly.reverse();
        self.pending_finalizers.extend(newly);

        if self.verify {
            self.check_invariant();
        }

        // Flip: what is still white is dead.
        let m = &mut self.marker;
        let dead = m.white;
        m.white ^= WHITES;
        m.atomic = false;
        // SAFETY: every entry is a live userdata; dead ones are dropped from the list
        // before the sweep frees them.
        self.udata.retain(|h| unsafe { h.as_ref() }.color.get() & dead == 0);
        self.phase = Phase::Sweep;
        self.sweep_prev = None;
    }

    /// Closing the state: queues the finalizer of every userdata that has one and was
    /// not finalized yet, reachable or not, most recently created first (as
    /// `lua_close` does in Lua 5.1 and LuaJIT).
    pub fn queue_all_finalizers(&mut self, finalizable: impl Fn(Value) -> bool) {
        // SAFETY: every `h` is an entry of `udata`.
        let mut all: Vec<Value> =
            self.udata.iter().filter_map(|&h| unsafe { claim_finalizer(h, &finalizable) }).collect();
        all.reverse();
        self.pending_finalizers.extend(all);
    }

    /// After marking: every black object's references must be marked. Counts
    /// violations (a missing write barrier) and panics on one: this is a test aid.
    fn check_invariant(&mut self) {
        let mut cur = self.objects;
        self.marker.verifying = true;
        while let Some(h) = cur {
            // SAFETY: every listed header is a live object.
            let hdr = unsafe { h.as_ref() };
            if hdr.color.get() == BLACK {
                // SAFETY: live object, matching vtable.
                unsafe { (hdr.vtable.trace)(h, &mut self.marker) };
            }
            cur = hdr.next.get();
        }
        self.marker.verifying = false;
        let bad = std::mem::take(&mut self.marker.violations);
        assert!(bad == 0, "GC invariant violated: {bad} white objects referenced from black ones");
    }

    /// Pins the heap: until the matching [`unpin`](Heap::unpin), the sweep frees
    /// nothing (marking may go on). Rule 3 of the module docs.
    #[inline]
    pub fn pin(&mut self) {
        self.pins += 1;
    }

    /// Releases a pin taken by [`pin`](Heap::pin).
    #[inline]
    pub fn unpin(&mut self) {
        debug_assert!(self.pins > 0, "unbalanced unpin");
        self.pins = self.pins.saturating_sub(1);
    }

    /// Is any pin held?
    #[inline]
    pub fn pinned(&self) -> bool {
        self.pins != 0
    }

    /// Sweeps about `budget` bytes' worth of objects; true when the cycle is over.
    /// While the heap is pinned it does nothing and returns false.
    ///
    /// # Safety
    /// Every handle that the caller, or any Rust frame below it, uses after this call
    /// refers to an object that was reachable from the roots marked in this cycle (or
    /// that was allocated after the mark ended). See the module docs, rule 3.
    pub unsafe fn sweep(&mut self, budget: usize) -> bool {
        if self.pinned() {
            return false;
        }
        let white = self.marker.white;
        let dead = white ^ WHITES;
        let mut work = 0usize;
        if self.phase == Phase::Sweep {
            let mut cur = match self.sweep_prev {
                // SAFETY: the cursor is a live survivor.
                Some(p) => unsafe { p.as_ref() }.next.get(),
                None => self.objects,
            };
            loop {
                let Some(h) = cur else {
                    self.phase = Phase::SweepStrings;
                    self.sweep_bucket = 0;
                    break;
                };
                // SAFETY: every listed header is a live allocation owned by the heap.
                let hdr = unsafe { h.as_ref() };
                let next = hdr.next.get();
                if hdr.color.get() & dead != 0 {
                    if hdr.flags.get() & FLAG_RANGE != 0 {
                        self.unregister_range(h.as_ptr() as usize);
                    }
                    match self.sweep_prev {
                        // SAFETY: `p` is a live header earlier in the list.
                        Some(p) => unsafe { p.as_ref() }.next.set(next),
                        None => self.objects = next,
                    }
                    // SAFETY: the object is unreachable (still white after a complete
                    // mark), unlinked from the list, and freed exactly once.
                    let size = unsafe { (hdr.vtable.free)(h) };
                    self.total = self.total.saturating_sub(size);
                } else {
                    hdr.color.set(white);
                    self.sweep_prev = Some(h);
                }
                cur = next;
                work += SWEEP_COST;
                if work >= budget {
                    return false;
                }
            }
        }
        let (freed, next, done) =
            self.strings.sweep_buckets(self.sweep_bucket, budget.saturating_sub(work) / SWEEP_COST + 1, white);
        self.total = self.total.saturating_sub(freed);
        self.sweep_bucket = next;
        if done {
            self.phase = Phase::Pause;
            self.estimate = self.total;
            if self.total <= self.limit {
                self.grace = 0;
            }
            self.set_pause_threshold();
        }
        done
    }

    /// The threshold for starting the next cycle: `pause` percent of the live size.
    fn set_pause_threshold(&mut self) {
        let pause = self.pause.max(50) as usize;
        self.threshold = (self.estimate / 100).saturating_mul(pause).max(MIN_THRESHOLD).min(self.limit);
    }

    /// The work for one step: proportional to what was allocated since the last.
    pub fn step_budget(&self) -> usize {
        if self.stress {
            return 64;
        }
        let debt = self.total.saturating_sub(self.threshold) + STEP_SIZE;
        debt.saturating_mul(self.stepmul.max(10) as usize) / 100
    }

    /// After a step that left the cycle running: the next step comes after another
    /// [`STEP_SIZE`] bytes of allocation.
    pub fn step_done(&mut self) {
        if self.stress {
            self.threshold = 0;
        } else if self.phase != Phase::Pause {
            self.threshold = self.total.saturating_add(STEP_SIZE);
        }
    }

    /// Runs a full collection with `roots` as the only roots (for the heap's own
    /// tests; the VM drives its cycles step by step through the same phases).
    ///
    /// # Safety
    /// As [`Heap::sweep`], with `roots` as the roots.
    #[cfg(test)]
    pub(crate) unsafe fn collect(
        &mut self,
        mode_key: Value,
        roots: impl Fn(&mut Marker),
        finalizable: impl Fn(Value) -> bool,
    ) {
        // Finish a cycle in progress (its marks may be stale), then run a whole one.
        let cycles = if self.phase == Phase::Pause { 1 } else { 2 };
        for _ in 0..cycles {
            if self.phase == Phase::Pause {
                self.start_cycle(mode_key);
                roots(&mut self.marker);
            }
            if self.phase == Phase::Propagate {
                self.propagate(usize::MAX);
                roots(&mut self.marker);
                self.finish_mark(&finalizable);
            }
            // SAFETY: the caller's contract.
            while !unsafe { self.sweep(usize::MAX) } {}
        }
    }

    /// Frees every object (when the state is dropped).
    fn free_all(&mut self) {
        let mut cur = self.objects.take();
        while let Some(h) = cur {
            // SAFETY: the heap owns every listed object; each is freed once.
            let hdr = unsafe { h.as_ref() };
            cur = hdr.next.get();
            // SAFETY: as above; nothing reads the object after this.
            unsafe { (hdr.vtable.free)(h) };
        }
        self.udata.clear();
        self.ranges.clear();
        self.range_of.clear();
        self.strings.free_all();
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        self.free_all();
    }
}

/// SplitMix64's output function: a bijection that spreads every input bit.
#[inline]
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// # Safety
/// `h` must be the header of a live object allocated by [`Heap::alloc`].
unsafe fn object_size(h: NonNull<GcHeader>) -> usize {
    // SAFETY: per the contract, `h` is live and its vtable matches its type.
    unsafe { (h.as_ref().vtable.size)(h) }
}

fn vtable_of<T: GcObject>() -> &'static VTable {
    trait HasVTable {
        const VT: VTable;
    }
    impl<T: GcObject> HasVTable for T {
        const VT: VTable = VTable {
            trace: trace_erased::<T>,
            clear_weak: clear_weak_erased::<T>,
            free: free_erased::<T>,
            size: size_erased::<T>,
        };
    }
    &<T as HasVTable>::VT
}

/// # Safety
/// `h` must be the header of a live `T`.
unsafe fn trace_erased<T: GcObject>(h: NonNull<GcHeader>, m: &mut Marker) {
    // SAFETY: per the contract, `h` is the first field of a live `#[repr(C)]` `T`.
    let obj = unsafe { h.cast::<T>().as_ref() };
    obj.trace(m);
}

/// # Safety
/// `h` must be the header of a live `T`.
unsafe fn clear_weak_erased<T: GcObject>(h: NonNull<GcHeader>, m: &Marker, wk: bool, wv: bool) {
    // SAFETY: per the contract, `h` is the first field of a live `#[repr(C)]` `T`.
    let obj = unsafe { h.cast::<T>().as_ref() };
    obj.clear_weak(m, wk, wv);
}

/// # Safety
/// `h` must be the header of a `T` allocated by [`Heap::alloc`], not yet freed, and
/// never used again.
unsafe fn free_erased<T: GcObject>(h: NonNull<GcHeader>) -> usize {
    // SAFETY: per the contract the allocation came from `Box<T>` and is freed once.
    let b = unsafe { Box::from_raw(h.cast::<T>().as_ptr()) };
    let size = b.size();
    drop(b);
    size
}

/// # Safety
/// `h` must be the header of a live `T`.
unsafe fn size_erased<T: GcObject>(h: NonNull<GcHeader>) -> usize {
    // SAFETY: per the contract.
    unsafe { h.cast::<T>().as_ref() }.size()
}
