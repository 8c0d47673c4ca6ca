//! Running a compiled trace: the one call into generated code, and the links between
//! traces.
//!
//! This file and `code_memory.rs` are the only ones in the crate with `unsafe`.
//!
//! Links: an exit stub of a trace jumps to the address in its exit link table (when
//! not zero), and a side trace's end jumps to another trace's inner entry. Whatever
//! code a trace may jump to is kept alive by that trace's [`TraceCode`] (an `Rc` per
//! link), so no jump ever lands in unmapped or reused memory, whatever the engine does
//! with its traces. Dropping a [`NativeTrace`] zeroes its link table and lets go of
//! its links, which also breaks the cycles links form.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use moonbox_engine::jit::{can_enter, CompiledTrace, TraceEnv};
use moonbox_engine::value::Value;

use crate::code_memory::ExecutableCode;
use crate::TraceCtx;

/// The signature every trace has (`x64::lower`).
type TraceFn = unsafe extern "sysv64" fn(*mut TraceCtx, *mut Value) -> u32;

/// A trace's code and the memory its code refers to.
pub(crate) struct TraceCode {
    pub(crate) code: ExecutableCode,
    /// Where linked traces enter (after the prologue).
    pub(crate) inner_entry: usize,
    /// The exit link table the code reads (its address is in the code): one
    /// address per snapshot, zero when the exit returns to the engine.
    pub(crate) exit_links: Box<[Cell<u64>]>,
    /// The code each non-zero entry of `exit_links` points into.
    pub(crate) links: RefCell<Vec<Option<Rc<TraceCode>>>>,
    /// The code a side trace's end jumps into (held only to keep it alive).
    pub(crate) _link_to: Option<Rc<TraceCode>>,
}

impl TraceCode {
    /// The address of the inner entry.
    pub(crate) fn inner_addr(&self) -> Option<u64> {
        self.code.entry_ptr(self.inner_entry).ok().map(|p| p as u64)
    }
}

/// A compiled trace.
pub struct NativeTrace {
    pub(crate) tc: Rc<TraceCode>,
    /// Snapshots (exit numbers `0..nsnaps`); the code reads `force[0..nsnaps]` when
    /// compiled with force checks.
    pub(crate) nsnaps: usize,
    pub(crate) force_checks: bool,
    pub(crate) listing: Option<String>,
}

impl Drop for NativeTrace {
    fn drop(&mut self) {
        for l in self.tc.exit_links.iter() {
            l.set(0);
        }
        self.tc.links.borrow_mut().clear();
    }
}

impl CompiledTrace for NativeTrace {
    fn run(&self, budget: &mut i64, stack: &mut [Value], base: usize, force: &[u8], env: TraceEnv) -> u32 {
        // What the code (and any trace linked from it) touches must exist; otherwise
        // nothing runs, and the interpreter goes on where the trace would have started.
        if !can_enter(stack, base, force, self.nsnaps, self.force_checks, &env) {
            return u32::MAX;
        }
        let Ok(entry) = self.tc.code.entry_ptr(0) else { return u32::MAX };
        let stack_ptr = stack.as_mut_ptr();
        let mut ctx = TraceCtx {
            budget: *budget,
            force: force.as_ptr(),
            func: env.func.to_bits(),
            marking: u64::from(env.marking),
            stack: stack_ptr,
            base: base as u64,
            thread: env.thread as u64,
        };
        // SAFETY: `entry` is the start of code that `x64::lower` generated for this
        // trace, a complete `extern "sysv64" fn(*mut TraceCtx, *mut Value) -> u32` that
        // keeps the ABI (callee-saved registers restored, stack balanced and aligned),
        // made executable and not patched or freed while `self` is borrowed here.
        // `stack_ptr.add(base)` stays inside `stack` (checked above).
        //
        // Memory: the code, and the code of any trace it jumps to (kept alive by
        // `TraceCode` links, and compiled by the same lowering with the same frame),
        // reads and writes only `ctx`'s fields, its own stack frame, its constant
        // pool, its exit link table (owned by its `TraceCode`), the frame's slots
        // `stack[base..base + MAX_SLOTS]` (checked above by `can_enter`; the lowering rejects any
        // other slot), slots below `base` through open upvalues (the code checks
        // `slot < ctx.base` first), the heap objects below, and, compiled with force
        // checks, `force[0..nsnaps]` (checked above; such traces are never linked).
        // It stores only values of the types its guards checked, numbers, or
        // constants, so every slot holds a valid `Value` afterwards. `Value` is
        // `repr(transparent)` over `u64`.
        //
        // Heap objects: the code reads the closure in `ctx.func` (checked above to be
        // a Lua function), closures it holds as constants (kept alive by the trace),
        // and tables found in values whose tag a guard checked (in the slots, a
        // closure's environment, or loaded from such tables), at the offsets of
        // `vm::layout`. Every such object is alive: a `Value` is only made from a live
        // object, and nothing can free one while the trace runs (it never allocates,
        // calls out or runs the collector). The lowering checks every operand's IR
        // type, so an address it dereferences is only ever one these checks made:
        // an array element after checking the index against the array part's
        // length, a hash node's value after checking the node count, an upvalue's
        // value (closed) or stack slot (open, below `base`) read through the
        // closure's upvalue cell. Stores go only through such addresses, and never
        // resize a part, so addresses computed earlier stay inside it. A value it
        // stores is a valid `Value`, and the write barrier's guard has exited first
        // when the collector needed one. It calls only `moonbox_engine::jit::helpers`
        // functions, with 16-byte aligned `rsp`, passing operands of the IR types
        // their contracts ask for (validated), while no Rust reference to any table
        // is live: `run` holds only `stack`, `budget`, `force` and `ctx`, which
        // the helpers do not touch.
        let exit = unsafe {
            let f: TraceFn = std::mem::transmute::<*const u8, TraceFn>(entry);
            f(&mut ctx, stack_ptr.add(base))
        };
        *budget = ctx.budget;
        exit
    }

    fn attach(&self, exit: u32, side: &dyn CompiledTrace) -> bool {
        let Some(side) = side.as_any().downcast_ref::<NativeTrace>() else { return false };
        if self.force_checks || side.force_checks {
            return false;
        }
        let (Some(slot), Some(addr)) = (self.tc.exit_links.get(exit as usize), side.tc.inner_addr()) else {
            return false;
        };
        let mut links = self.tc.links.borrow_mut();
        if links.len() < self.tc.exit_links.len() {
            links.resize(self.tc.exit_links.len(), None);
        }
        // Keep the target alive first, then publish its address.
        if let Some(l) = links.get_mut(exit as usize) {
            *l = Some(Rc::clone(&side.tc));
            slot.set(addr);
            return true;
        }
        false
    }

    fn detach(&self, exit: u32) {
        if let Some(slot) = self.tc.exit_links.get(exit as usize) {
            slot.set(0);
        }
        if let Some(l) = self.tc.links.borrow_mut().get_mut(exit as usize) {
            *l = None;
        }
    }

    fn code_size(&self) -> usize {
        self.tc.code.len()
    }

    fn listing(&self) -> Option<String> {
        self.listing.clone()
    }

    fn mcode(&self) -> Option<Vec<u8>> {
        self.tc.code.bytes().ok().map(<[u8]>::to_vec)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
