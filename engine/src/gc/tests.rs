//! The heap's own tests, on a test object type (no VM): allocation, marking,
//! incremental sweeping, weak references, finalizers, the write barrier and pins.
//! They also run under Miri (`cargo +nightly miri test -p moonbox-engine gc::`),
//! which checks every `unsafe` block of this module against Rust's aliasing and
//! lifetime rules while they run.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::*;
use crate::value::{tag, Value};

/// A test object: a node with children (strong, or weak when `weak` is set), a
/// payload and a drop counter.
#[repr(C)]
struct Node {
    hdr: GcHeader,
    id: u32,
    children: RefCell<Vec<Value>>,
    weak: bool,
    drops: Rc<Cell<usize>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

impl GcObject for Node {
    const KIND: Kind = Kind::Table;
    const TAG: u64 = tag::TABLE;
    fn trace(&self, m: &mut Marker) {
        if self.weak {
            m.push_weak(self, false, true);
            return;
        }
        for &v in self.children.borrow().iter() {
            m.mark_value(v);
        }
    }
    fn clear_weak(&self, m: &Marker, _wk: bool, wv: bool) {
        if wv {
            self.children.borrow_mut().retain(|&v| m.weak_value_alive(v));
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Node>() + self.children.borrow().len() * 8
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

/// A finalizable test object (a userdata for the collector).
#[repr(C)]
struct Fin {
    hdr: GcHeader,
    drops: Rc<Cell<usize>>,
}

impl Drop for Fin {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

impl GcObject for Fin {
    const KIND: Kind = Kind::Userdata;
    const TAG: u64 = tag::UDATA;
    fn trace(&self, _m: &mut Marker) {}
    fn size(&self) -> usize {
        std::mem::size_of::<Fin>()
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

struct World {
    heap: Heap,
    drops: Rc<Cell<usize>>,
    roots: Vec<Value>,
}

impl World {
    fn new() -> World {
        // SAFETY: every test keeps the handles it uses afterwards in `roots` (or
        // reachable from them) across collections, and drops the heap last.
        let heap = unsafe { Heap::new(1) };
        World { heap, drops: Rc::new(Cell::new(0)), roots: Vec::new() }
    }

    fn node(&mut self, id: u32) -> GcRef<Node> {
        let n = Node {
            hdr: Heap::new_header::<Node>(),
            id,
            children: RefCell::new(Vec::new()),
            weak: false,
            drops: self.drops.clone(),
        };
        self.heap.alloc(n)
    }

    fn link(&mut self, parent: GcRef<Node>, child: GcRef<Node>) {
        parent.children.borrow_mut().push(child.to_value());
        self.heap.barrier(parent);
    }

    /// A full collection from `roots`, in small steps (as the VM runs one).
    fn collect(&mut self) {
        let roots = self.roots.clone();
        let mark = |m: &mut Marker| {
            for &v in &roots {
                m.mark_value(v);
            }
        };
        if self.heap.phase() == Phase::Pause {
            self.heap.start_cycle(Value::NIL);
            mark(self.heap.marker());
        }
        while !self.heap.propagate(64) {}
        mark(self.heap.marker());
        self.heap.finish_mark(|_| false);
        // SAFETY: everything the test uses afterwards is reachable from `roots`.
        while !unsafe { self.heap.sweep(64) } {}
    }
}

/// A chain of `n` nodes from `head`, returned head first.
fn chain(w: &mut World, n: u32) -> Vec<GcRef<Node>> {
    let nodes: Vec<GcRef<Node>> = (0..n).map(|i| w.node(i)).collect();
    for pair in nodes.windows(2) {
        w.link(pair[0], pair[1]);
    }
    nodes
}

#[test]
fn allocation_is_counted_and_freed_with_the_heap() {
    let drops;
    {
        let mut w = World::new();
        drops = w.drops.clone();
        let before = w.heap.total_bytes();
        for i in 0..10 {
            w.node(i);
        }
        assert!(w.heap.total_bytes() >= before + 10 * std::mem::size_of::<Node>());
        assert_eq!(drops.get(), 0);
    }
    assert_eq!(drops.get(), 10, "dropping the heap frees every object once");
}

#[test]
fn reachable_objects_survive_and_the_rest_is_swept() {
    let mut w = World::new();
    let kept = chain(&mut w, 20);
    let _lost = chain(&mut w, 30);
    w.roots.push(kept[0].to_value());
    w.collect();
    assert_eq!(w.drops.get(), 30);
    // The survivors are intact and still linked.
    let mut cur = Some(kept[0]);
    let mut seen = 0;
    while let Some(n) = cur {
        assert_eq!(n.id, seen);
        seen += 1;
        cur = n.children.borrow().first().and_then(|v| v.as_gc::<Node>());
    }
    assert_eq!(seen, 20);
    // A second cycle frees nothing more; dropping the root frees the rest.
    w.collect();
    assert_eq!(w.drops.get(), 30);
    w.roots.clear();
    w.collect();
    assert_eq!(w.drops.get(), 50);
}

#[test]
fn cycles_are_collected() {
    let mut w = World::new();
    let a = w.node(1);
    let b = w.node(2);
    w.link(a, b);
    w.link(b, a);
    w.collect();
    assert_eq!(w.drops.get(), 2);
}

#[test]
fn the_write_barrier_keeps_what_a_traced_object_gets_during_the_mark() {
    let mut w = World::new();
    let root = w.node(0);
    w.roots.push(root.to_value());
    for i in 1..200 {
        let n = w.node(i);
        w.link(root, n);
    }
    w.heap.start_cycle(Value::NIL);
    w.heap.marker().mark_value(root.to_value());
    // Trace everything: the root is now black.
    while !w.heap.propagate(usize::MAX) {}
    assert_eq!(root.header().color.get(), BLACK);
    // The mutator stores a new object into the black root: the barrier re-grays it.
    let late = w.node(999);
    w.link(root, late);
    assert_eq!(root.header().color.get(), GRAY);
    let roots = w.roots.clone();
    for &r in &roots {
        w.heap.marker().mark_value(r);
    }
    w.heap.verify = true;
    w.heap.finish_mark(|_| false);
    // SAFETY: the root keeps everything used below.
    while !unsafe { w.heap.sweep(usize::MAX) } {}
    assert_eq!(w.drops.get(), 0, "nothing reachable was freed");
    assert_eq!(root.children.borrow().last().and_then(|v| v.as_gc::<Node>()).map(|n| n.id), Some(999));
}

#[test]
fn weak_values_are_cleared_and_strong_ones_kept() {
    let mut w = World::new();
    let holder = Node {
        hdr: Heap::new_header::<Node>(),
        id: 0,
        children: RefCell::new(Vec::new()),
        weak: true,
        drops: w.drops.clone(),
    };
    let holder = w.heap.alloc(holder);
    let strong = w.node(1);
    let weak_only = w.node(2);
    holder.children.borrow_mut().push(strong.to_value());
    holder.children.borrow_mut().push(weak_only.to_value());
    w.roots.push(holder.to_value());
    w.roots.push(strong.to_value());
    w.collect();
    let left: Vec<u32> = holder.children.borrow().iter().filter_map(|v| v.as_gc::<Node>()).map(|n| n.id).collect();
    assert_eq!(left, [1], "the weakly held node is cleared, the rooted one stays");
    assert_eq!(w.drops.get(), 1);
}

#[test]
fn finalizable_objects_are_resurrected_once_then_freed() {
    let mut w = World::new();
    let f = Fin { hdr: Heap::new_header::<Fin>(), drops: w.drops.clone() };
    let f = w.heap.alloc(f);
    f.header().flags.set(FLAG_FINALIZE);
    w.collect();
    // Unreachable with a finalizer: queued, not freed (the queue is a root).
    assert_eq!(w.heap.pending_finalizers.len(), 1);
    assert_eq!(w.drops.get(), 0);
    // "Run" the finalizer: drop it from the queue; the next cycle frees it.
    w.heap.pending_finalizers.clear();
    w.collect();
    assert_eq!(w.drops.get(), 1);
    assert!(w.heap.pending_finalizers.is_empty(), "a finalizer is queued only once");
}

#[test]
fn a_pinned_heap_marks_but_frees_nothing() {
    let mut w = World::new();
    let _garbage = chain(&mut w, 10);
    w.heap.pin();
    w.heap.start_cycle(Value::NIL);
    while !w.heap.propagate(64) {}
    w.heap.finish_mark(|_| false);
    // SAFETY: the heap is pinned: the sweep frees nothing.
    assert!(!unsafe { w.heap.sweep(usize::MAX) });
    assert_eq!(w.drops.get(), 0);
    assert_eq!(w.heap.phase(), Phase::Sweep, "the sweep waits for the pin");
    w.heap.unpin();
    // SAFETY: nothing is used afterwards.
    while !unsafe { w.heap.sweep(usize::MAX) } {}
    assert_eq!(w.drops.get(), 10);
}

#[test]
fn strings_interned_during_a_string_sweep_survive_it() {
    let mut w = World::new();
    for i in 0..600 {
        w.heap.intern(format!("garbage {i}").as_bytes());
    }
    let keep = w.heap.intern(b"kept");
    w.roots.push(keep.to_value());
    w.heap.start_cycle(Value::NIL);
    w.heap.marker().mark_value(keep.to_value());
    while !w.heap.propagate(usize::MAX) {}
    w.heap.finish_mark(|_| false);
    // Sweep the object list and a little of the strings, then intern enough new
    // strings to make the intern table rebuild its buckets mid-sweep.
    // SAFETY: `keep` is rooted; the new strings are allocated after the mark.
    unsafe { w.heap.sweep(SWEEP_COST * 4) };
    let fresh: Vec<GcRef<LuaString>> = (0..600).map(|i| w.heap.intern(format!("fresh {i}").as_bytes())).collect();
    // SAFETY: as above.
    while !unsafe { w.heap.sweep(SWEEP_COST * 8) } {}
    assert_eq!(keep.as_bytes(), b"kept");
    for (i, s) in fresh.iter().enumerate() {
        assert_eq!(s.as_bytes(), format!("fresh {i}").as_bytes());
    }
    assert_eq!(w.heap.strings.len(), 601);
}

/// Table seeds differ from table to table and from state to state.
#[test]
fn table_seeds_differ() {
    // SAFETY: no object is allocated in these heaps.
    let (mut a, mut b) = unsafe { (Heap::new(1), Heap::new(2)) };
    let sa: Vec<u64> = (0..1000).map(|_| a.table_seed()).collect();
    let sb: Vec<u64> = (0..1000).map(|_| b.table_seed()).collect();
    let mut all: Vec<u64> = sa.iter().chain(&sb).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 2000);
    // Every bit varies.
    let ones = sa.iter().fold(0u64, |acc, s| acc | s);
    let zeros = sa.iter().fold(0u64, |acc, s| acc | !s);
    assert_eq!((ones, zeros), (u64::MAX, u64::MAX));
}

/// The grace room after an out-of-memory error at a collection point: granted once
/// (not widened by repeated errors), and withdrawn when a sweep ends under the limit.
#[test]
fn grace_past_the_limit() {
    let mut w = World::new();
    let h = &mut w.heap;
    h.set_limit(Some(1 << 20));
    assert_eq!(h.room(), 1 << 20);
    h.grant_grace();
    h.grant_grace();
    assert_eq!(h.room(), (1 << 20) + (64 << 10));
    assert!(!h.would_exceed(1 << 20));
    assert!(h.would_exceed((1 << 20) + (64 << 10) + 1));
    h.set_limit(Some(64 << 20));
    assert_eq!(h.room(), 64 << 20, "a new limit withdraws the grace");
    h.grant_grace();
    assert_eq!(h.room(), (64 << 20) + (2 << 20));
    // A cycle that ends under the limit withdraws it.
    w.collect();
    assert_eq!(w.heap.room(), 64 << 20);
}
