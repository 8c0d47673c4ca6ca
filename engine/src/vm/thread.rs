//! Coroutines (threads) and call frames.
//!
//! The running thread's stack, frames and open upvalues live in the `Vm` itself (fast
//! access, no borrow of a heap object during execution); a suspended or normal thread
//! keeps them in its `Thread` object. `Vm::switch_to` swaps them.

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
#[repr(C)]
pub struct Thread {
    hdr: GcHeader,
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    pub top: usize,
    /// Open upvalues, sorted by slot.
    pub open_upvals: Vec<GcRef<UpVal>>,
    pub status: CoStatus,
    /// The thread's environment (`getfenv(0)`) while it is not running.
    pub env: Option<GcRef<crate::object::Table>>,
    /// For a suspended coroutine that yielded: where the resume values go
    /// (the yield call's frame is still on `frames`).
    pub started: bool,
}

impl Thread {
    pub fn new() -> Thread {
        Thread {
            hdr: Heap::new_header::<Thread>(),
            stack: Vec::new(),
            frames: Vec::new(),
            top: 0,
            open_upvals: Vec::new(),
            status: CoStatus::Suspended,
            env: None,
            started: false,
        }
    }
}

impl Default for Thread {
    fn default() -> Self {
        Thread::new()
    }
}

impl GcObject for Thread {
    const KIND: Kind = Kind::Thread;
    const TAG: u64 = tag::THREAD;
    fn trace(&self, m: &mut Marker) {
        for &v in &self.stack {
            m.mark_value(v);
        }
        for f in &self.frames {
            if let FrameFn::Lua(c, _) = f.fun {
                m.mark(c);
            }
        }
        for &u in &self.open_upvals {
            m.mark(u);
        }
        if let Some(e) = self.env {
            m.mark(e);
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Thread>() + self.stack.capacity() * 8 + self.frames.capacity() * 64
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
