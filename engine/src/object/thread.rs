//! Coroutines (threads) and call frames.
//!
//! The running thread's stack, frames and open upvalues live in the `Vm` itself (fast
//! access, no borrow of a heap object during execution); a suspended or normal thread
//! keeps them in its `Thread` object. `Vm::switch_to` swaps them.

use std::cell::Cell;

use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, Marker};
use crate::object::{LuaFunction, Proto, UpVal};
use crate::value::{tag, Value};

/// What to do with a frame's results when it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cont {
    /// An ordinary call: results go to the callee slot, adjusted to `nresults`.
    Call,
    /// A metamethod whose first result goes to register `.0` of the caller.
    Store(u8),
    /// A comparison metamethod: the caller's next instruction is a JMP, taken when the
    /// truthiness of the first result differs from `negate`.
    Cond { negate: bool },
    /// A metamethod whose results are dropped (`__newindex`).
    Discard,
    /// A `__concat` metamethod inside `CAT A B C`: the result replaces register `at`,
    /// then the CAT resumes over `B ..= at`.
    Concat { at: u8 },
    /// A function called by `pcall`/`xpcall`: results are prefixed with `true` and
    /// go to the pcall's slot (`func - 1`). Errors below this frame stop here.
    Protected,
}

/// The kind of function a frame runs.
#[derive(Clone, Copy, Debug)]
pub enum FrameFn {
    /// A Lua closure and its prototype (`closure.proto`, kept here so that entering
    /// or returning to the frame reaches its code with one pointer fewer to follow).
    Lua(GcRef<LuaFunction>, GcRef<Proto>),
    Native,
}

/// One activation record.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Stack index of the called function value.
    pub func: usize,
    /// Stack index of register 0 (for natives: of the first argument).
    pub base: usize,
    /// Lua frames: the next instruction. Saved whenever the frame calls out.
    pub pc: usize,
    /// Results the caller wants (-1: all of them).
    pub nresults: i32,
    pub cont: Cont,
    pub fun: FrameFn,
    /// For `Cont::Protected` frames of `xpcall`: stack slot of the handler.
    pub handler: Option<usize>,
    /// A frame entered through `Vm::call_at` (a re-entry from native code): its
    /// return ends that `execute` invocation.
    pub boundary: bool,
    /// This frame was reached by a tail call.
    pub tail: bool,
}

impl Frame {
    /// A native function's frame: arguments from `func + 1`, no handler.
    #[inline(always)]
    pub fn native(func: usize, nresults: i32, cont: Cont, tail: bool) -> Frame {
        Frame {
            func,
            base: func + 1,
            pc: 0,
            nresults,
            cont,
            fun: FrameFn::Native,
            handler: None,
            boundary: false,
            tail,
        }
    }

    /// A Lua function's frame about to run its first instruction (`proto` is
    /// `cl.proto`, which the caller has at hand).
    #[inline(always)]
    pub fn lua(
        func: usize,
        base: usize,
        nresults: i32,
        cont: Cont,
        fun: (GcRef<LuaFunction>, GcRef<Proto>),
        tail: bool,
    ) -> Frame {
        let fun = FrameFn::Lua(fun.0, fun.1);
        Frame { func, base, pc: 0, nresults, cont, fun, handler: None, boundary: false, tail }
    }
}

/// Coroutine status, as `coroutine.status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoStatus {
    Suspended,
    Running,
    Normal,
    Dead,
}

/// A coroutine.
///
/// While it is not running it keeps its stack, frames, top and open upvalues here;
/// while it runs, the VM holds them (and these are empty). Each sits in a `Cell`
/// that is only ever moved in or out whole, so no reference into it can exist.
#[repr(C)]
pub struct Thread {
    hdr: GcHeader,
    stack: Cell<Vec<Value>>,
    frames: Cell<Vec<Frame>>,
    /// Multires / native top.
    top: Cell<usize>,
    /// Open upvalues, sorted by slot.
    open_upvals: Cell<Vec<GcRef<UpVal>>>,
    status: Cell<CoStatus>,
    /// The thread's environment (`getfenv(0)`) while it is not running.
    env: Cell<Option<GcRef<crate::object::Table>>>,
    /// Whether its body function has been called (a first resume starts it).
    started: Cell<bool>,
}

/// The execution state a thread hands over when it starts or stops running.
pub struct ThreadState<'a> {
    pub stack: &'a mut Vec<Value>,
    pub frames: &'a mut Vec<Frame>,
    pub top: &'a mut usize,
    pub open_upvals: &'a mut Vec<GcRef<UpVal>>,
}

impl Thread {
    pub fn new() -> Thread {
        Thread {
            hdr: Heap::new_header::<Thread>(),
            stack: Cell::new(Vec::new()),
            frames: Cell::new(Vec::new()),
            top: Cell::new(0),
            open_upvals: Cell::new(Vec::new()),
            status: Cell::new(CoStatus::Suspended),
            env: Cell::new(None),
            started: Cell::new(false),
        }
    }

    /// A new, not yet started coroutine whose body function is `f`.
    pub fn with_body(f: Value) -> Thread {
        let t = Thread::new();
        let mut stack = vec![Value::NIL; 32];
        stack[0] = f;
        t.stack.set(stack);
        t.top.set(1);
        t
    }

    /// Exchanges the saved execution state with `st` (the VM's, when it switches
    /// threads).
    #[inline]
    pub fn swap_state(&self, st: ThreadState<'_>) {
        // SAFETY: `Cell::as_ptr` points at the cell's value, valid for reads and
        // writes for `&self`'s lifetime; the cells' contents are only ever moved in or
        // out whole, or borrowed inside this type's short methods, none of which is
        // running, so no reference into them exists; and the `&mut` in `st` are the
        // VM's own fields, distinct from (so not overlapping) this heap object's.
        // (`swap_nonoverlapping`, which moves the words once: `ptr::swap`, which must
        // allow for overlap, measured twice the instructions on coroutine switches,
        // `Cell::swap` with its overlap check more, `Cell::replace` of a taken value
        // three times.)
        unsafe {
            std::ptr::swap_nonoverlapping(self.stack.as_ptr(), st.stack, 1);
            std::ptr::swap_nonoverlapping(self.frames.as_ptr(), st.frames, 1);
            std::ptr::swap_nonoverlapping(self.open_upvals.as_ptr(), st.open_upvals, 1);
        }
        *st.top = self.top.replace(*st.top);
    }

    /// Runs `f` on the saved stack, moved out for the duration (a nested look at
    /// the same thread from inside `f` sees it empty).
    #[inline]
    pub fn with_stack<R>(&self, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
        let mut s = self.stack.take();
        let r = f(&mut s);
        self.stack.set(s);
        r
    }

    /// Saved stack slot `i` (nil past the end).
    #[inline]
    pub fn stack_get(&self, i: usize) -> Value {
        // SAFETY: the cell's value is only moved whole or accessed inside these
        // short methods, which run no other code while the reference lives.
        unsafe { &*self.stack.as_ptr() }.get(i).copied().unwrap_or(Value::NIL)
    }

    /// Sets saved stack slot `i` (nothing past the end).
    #[inline]
    pub fn stack_set(&self, i: usize, v: Value) {
        // SAFETY: as in `stack_get`.
        if let Some(s) = unsafe { &mut *self.stack.as_ptr() }.get_mut(i) {
            *s = v;
        }
    }

    /// Copies saved stack slots `range` into `dst` (which has the same length).
    /// False, and nothing copied, if the range is not inside the saved stack.
    #[inline]
    pub fn stack_copy_to(&self, range: std::ops::Range<usize>, dst: &mut [Value]) -> bool {
        // SAFETY: as in `stack_get`; `dst` is not this thread's saved stack, which
        // no caller can borrow.
        match unsafe { &*self.stack.as_ptr() }.get(range) {
            Some(src) if src.len() == dst.len() => {
                dst.copy_from_slice(src);
                true
            }
            _ => false,
        }
    }

    /// Runs `f` on the saved frames, moved out for the duration.
    pub fn with_frames<R>(&self, f: impl FnOnce(&mut Vec<Frame>) -> R) -> R {
        let mut s = self.frames.take();
        let r = f(&mut s);
        self.frames.set(s);
        r
    }

    /// The saved top.
    pub fn top(&self) -> usize {
        self.top.get()
    }

    #[inline]
    pub fn status(&self) -> CoStatus {
        self.status.get()
    }

    #[inline]
    pub fn set_status(&self, s: CoStatus) {
        self.status.set(s);
    }

    pub fn env(&self) -> Option<GcRef<crate::object::Table>> {
        self.env.get()
    }

    /// Sets the saved environment (the caller runs the write barrier).
    pub fn set_env(&self, t: Option<GcRef<crate::object::Table>>) {
        self.env.set(t);
    }

    pub fn started(&self) -> bool {
        self.started.get()
    }

    pub fn set_started(&self, on: bool) {
        self.started.set(on);
    }
}

impl Default for Thread {
    fn default() -> Self {
        Thread::new()
    }
}

impl Value {
    /// The coroutine this value is, if it is one.
    #[inline(always)]
    pub fn as_thread(self) -> Option<GcRef<Thread>> {
        self.as_gc::<Thread>()
    }
}

impl GcObject for Thread {
    const KIND: Kind = Kind::Thread;
    const TAG: u64 = tag::THREAD;
    fn trace(&self, m: &mut Marker) {
        self.with_stack(|s| {
            for &v in s.iter() {
                m.mark_value(v);
            }
        });
        self.with_frames(|fs| {
            for f in fs.iter() {
                if let FrameFn::Lua(c, _) = f.fun {
                    m.mark(c);
                }
            }
        });
        let ups = self.open_upvals.take();
        for &u in &ups {
            m.mark(u);
        }
        self.open_upvals.set(ups);
        if let Some(e) = self.env.get() {
            m.mark(e);
        }
    }
    fn size(&self) -> usize {
        let stack = self.with_stack(|s| s.capacity());
        let frames = self.with_frames(|f| f.capacity());
        std::mem::size_of::<Thread>() + stack * std::mem::size_of::<Value>() + frames * std::mem::size_of::<Frame>()
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
