//! The heap: allocation, precise mark & sweep, weak tables and finalizers.
//!
//! Every GC object is a `#[repr(C)]` struct whose first field is a [`GcHeader`]. The
//! header links the object into the heap's list of all objects (strings are kept in
//! the intern table instead, see [`strings`]) and points at a per-type vtable that
//! knows how to trace and free it, so this module does not depend on the object types
//! defined above it.
//!
//! # The one aliasing rule
//! A [`GcRef`] is a `Copy` pointer. It dereferences to `&T`, and [`GcRef::get_mut`]
//! hands out `&mut T`. Engine code must never hold a reference obtained from a `GcRef`
//! across anything that may touch the same object: a call into Lua, a metamethod, a
//! GC step, or another `get_mut` of the same object. In practice every borrow is a
//! temporary inside one VM operation. This rule, plus "the collector runs only at safe
//! points where every live value is reachable from a root", is what the `unsafe`
//! blocks in this module rely on.
//!
//! Collection is currently a stop-the-world full cycle (mark from the roots the VM
//! hands in, clear weak entries, separate unreachable finalizable userdata, sweep).

pub mod strings;

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::value::Value;

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
}

/// The common header of every GC object.
#[repr(C)]
pub struct GcHeader {
    next: Cell<Option<NonNull<GcHeader>>>,
    vtable: &'static VTable,
    kind: Kind,
    marked: Cell<bool>,
    /// Per-kind flag bits (e.g. "has a finalizer" for userdata).
    pub(crate) flags: Cell<u8>,
}

impl GcHeader {
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// Header flag: userdata whose finalizer must run when it becomes unreachable.
pub const FLAG_FINALIZE: u8 = 1;
/// Header flag: finalizer already ran (or was scheduled); never schedule again.
pub const FLAG_FINALIZED: u8 = 2;

struct VTable {
    trace: unsafe fn(NonNull<GcHeader>, &mut Marker),
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
    /// Approximate bytes owned by the object (for GC pacing and `collectgarbage("count")`).
    fn size(&self) -> usize;
    /// The header (always the first field).
    fn header(&self) -> &GcHeader;
}

/// A pointer to a live GC object.
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
        // A tagged payload is never null: it came from a NonNull.
        match NonNull::new(addr) {
            Some(ptr) => GcRef { ptr, _p: PhantomData },
            None => unreachable!("null GC payload"),
        }
    }

    /// The object's address.
    #[inline(always)]
    pub fn addr(self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Mutable access. See the module docs for the aliasing rule every caller follows.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn get_mut(&self) -> &mut T {
        // SAFETY: the object is alive (reachable objects are never freed, and engine
        // code only holds references to reachable objects between safe points); the
        // aliasing rule in the module docs guarantees no other reference to this object
        // is live while the returned one is used.
        unsafe { &mut *self.ptr.as_ptr() }
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
        // SAFETY: as in `get_mut`: the object is alive, and no `&mut` to it is live.
        unsafe { self.ptr.as_ref() }
    }
}

/// The kind of a GC value's object (the caller checked `v.is_gc()`).
pub(crate) fn header_kind(v: Value) -> Kind {
    let h: GcRef<GcHeader> = GcRef::from_value_payload(v);
    h.kind
}

/// The marking state handed to [`GcObject::trace`].
pub struct Marker {
    gray: Vec<NonNull<GcHeader>>,
    /// Weak tables met during marking, with their (weak keys, weak values) mode.
    pub(crate) weak: Vec<(Value, bool, bool)>,
    /// The interned `"__mode"` string, so tables can find their mode.
    pub mode_key: Value,
}

impl Marker {
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

    fn mark_header(&mut self, h: NonNull<GcHeader>) {
        // SAFETY: `h` points at the header of a live object (see GcRef).
        let hdr = unsafe { h.as_ref() };
        if !hdr.marked.get() {
            hdr.marked.set(true);
            if hdr.kind != Kind::String {
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
        h.marked.get()
    }

    /// Records a weak table to clear after marking.
    pub fn push_weak(&mut self, t: Value, weak_keys: bool, weak_values: bool) {
        self.weak.push((t, weak_keys, weak_values));
    }

    fn drain(&mut self) {
        while let Some(h) = self.gray.pop() {
            // SAFETY: gray objects are live and marked; the vtable matches the object
            // type because it was stored at allocation time.
            unsafe { (h.as_ref().vtable.trace)(h, self) };
        }
    }
}

/// Owns every GC object.
pub struct Heap {
    objects: Option<NonNull<GcHeader>>,
    pub strings: StringTable,
    /// Bytes owned by live objects (estimated at allocation, recomputed at each sweep).
    total: usize,
    /// Collect when `total` passes this.
    threshold: usize,
    /// Unreachable userdata whose finalizers must run, in order.
    pub pending_finalizers: std::collections::VecDeque<Value>,
    /// Set while collection is disabled (`collectgarbage("stop")`).
    pub stopped: bool,
    /// GC pause in percent (as Lua's `setpause`).
    pub pause: u32,
    /// Step multiplier (as Lua's `setstepmul`).
    pub stepmul: u32,
    /// Work accumulated by `collectgarbage("step")` towards the next cycle.
    pub step_work: usize,
}

impl Heap {
    pub fn new(seed: u64) -> Heap {
        Heap {
            objects: None,
            strings: StringTable::new(seed),
            total: 0,
            threshold: 256 * 1024,
            pending_finalizers: std::collections::VecDeque::new(),
            stopped: false,
            pause: 200,
            stepmul: 200,
            step_work: 0,
        }
    }

    /// Moves `obj` onto the heap.
    pub fn alloc<T: GcObject>(&mut self, obj: T) -> GcRef<T> {
        let size = obj.size();
        let b = Box::new(obj);
        let ptr = NonNull::from(Box::leak(b));
        let r = GcRef { ptr, _p: PhantomData };
        let h = r.header();
        h.next.set(self.objects);
        self.objects = Some(r.header_ptr());
        self.total += size;
        r
    }

    /// Creates an interned string.
    pub fn intern(&mut self, bytes: &[u8]) -> GcRef<LuaString> {
        let (s, added) = self.strings.intern(bytes);
        self.total += added;
        s
    }

    /// Adds `bytes` to the live-size estimate (e.g. when a table grows).
    #[inline]
    pub fn account(&mut self, bytes: usize) {
        self.total += bytes;
    }

    /// Estimated live bytes.
    pub fn total_bytes(&self) -> usize {
        self.total
    }

    /// True when a collection is due.
    #[inline(always)]
    pub fn should_collect(&self) -> bool {
        self.total >= self.threshold && !self.stopped
    }

    /// A header value's vtable for a new object of type `T`.
    pub fn new_header<T: GcObject>() -> GcHeader {
        GcHeader {
            next: Cell::new(None),
            vtable: vtable_of::<T>(),
            kind: T::KIND,
            marked: Cell::new(false),
            flags: Cell::new(0),
        }
    }

    /// Runs a full collection. `roots` marks every root (it is called with a fresh
    /// marker; the heap then traces everything reachable).
    pub fn collect(
        &mut self,
        mode_key: Value,
        roots: impl FnOnce(&mut Marker),
        finalizable: impl Fn(Value) -> bool,
    ) {
        let mut m = Marker { gray: Vec::new(), weak: Vec::new(), mode_key };
        m.mark_value(mode_key);
        roots(&mut m);
        // Pending finalizers keep their objects alive until they have run.
        for &v in &self.pending_finalizers {
            m.mark_value(v);
        }
        m.drain();

        // Unreachable userdata with finalizers: resurrect them (and what they reach)
        // for one more cycle and queue their finalizers.
        let mut newly = Vec::new();
        let mut cur = self.objects;
        while let Some(h) = cur {
            // SAFETY: every header in the list is a live allocation owned by the heap.
            let hdr = unsafe { h.as_ref() };
            if !hdr.marked.get() && hdr.kind == Kind::Userdata && hdr.flags.get() & FLAG_FINALIZED == 0 {
                let v = Value::from_gc(crate::value::tag::UDATA, h.as_ptr() as usize);
                if hdr.flags.get() & FLAG_FINALIZE != 0 || finalizable(v) {
                    hdr.flags.set(hdr.flags.get() | FLAG_FINALIZED);
                    newly.push(v);
                }
            }
            cur = hdr.next.get();
        }
        // Clear weak entries before resurrection, as Lua 5.1 does for values; keys of
        // resurrected userdata are removed too.
        let weak = std::mem::take(&mut m.weak);
        for &(t, wk, wv) in &weak {
            clear_weak(t, wk, wv, &m);
        }
        // Finalizers run in reverse order of marking for finalization (LuaJIT runs the
        // most recently created first).
        newly.reverse();
        for &v in &newly {
            m.mark_value(v);
        }
        m.drain();
        self.pending_finalizers.extend(newly);

        // Sweep objects.
        let mut live = 0usize;
        let mut prev: Option<NonNull<GcHeader>> = None;
        let mut cur = self.objects;
        while let Some(h) = cur {
            // SAFETY: as above.
            let hdr = unsafe { h.as_ref() };
            let next = hdr.next.get();
            if hdr.marked.get() {
                hdr.marked.set(false);
                // SAFETY: `h` is live; `size` only reads the object.
                live += unsafe { object_size(h) };
                prev = Some(h);
            } else {
                match prev {
                    // SAFETY: `p` is a live header earlier in the list.
                    Some(p) => unsafe { p.as_ref() }.next.set(next),
                    None => self.objects = next,
                }
                // SAFETY: the object is unreachable (unmarked after a full mark from
                // every root), unlinked from the list, and freed exactly once.
                unsafe { (hdr.vtable.free)(h) };
            }
            cur = next;
        }
        live += self.strings.sweep();
        self.total = live;
        let pause = self.pause.max(100) as usize;
        self.threshold = (live / 100).saturating_mul(pause).max(256 * 1024);
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
        self.strings.free_all();
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        self.free_all();
    }
}

fn clear_weak(t: Value, wk: bool, wv: bool, m: &Marker) {
    let Some(t) = t.as_table() else { return };
    t.get_mut().clear_weak(wk, wv, &|v| {
        // Strings are values, not objects, for weakness (as in Lua 5.1).
        v.is_string() || m.is_marked(v)
    });
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
        const VT: VTable =
            VTable { trace: trace_erased::<T>, free: free_erased::<T>, size: size_erased::<T> };
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
