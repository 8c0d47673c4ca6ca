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

/// What a thread that is not running keeps of its execution.
#[derive(Default)]
pub struct ThreadState {
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    /// Multires / native top.
    pub top: usize,
    /// Open upvalues, sorted by slot.
    pub open_upvals: Vec<GcRef<UpVal>>,
}

/// A coroutine.
#[repr(C)]
pub struct Thread {
    hdr: GcHeader,
    /// Empty while the thread runs (the VM holds it then).
    state: Cell<ThreadState>,
    status: Cell<CoStatus>,
    /// The thread's environment (`getfenv(0)`) while it is not running.
    env: Cell<Option<GcRef<crate::object::Table>>>,
    /// Whether its body function has been called (a first resume starts it).
    started: Cell<bool>,
}

impl Thread {
    pub fn new() -> Thread {
        Thread {
            hdr: Heap::new_header::<Thread>(),
            state: Cell::new(ThreadState::default()),
            status: Cell::new(CoStatus::Suspended),
            env: Cell::new(None),
            started: Cell::new(false),
        }
    }

    /// Runs `f` on the saved execution state. The state is moved out for the
    /// duration (a nested look at the same thread from inside `f` sees it empty).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut ThreadState) -> R) -> R {
        let mut st = self.state.take();
        let r = f(&mut st);
        self.state.set(st);
        r
    }

    /// Exchanges the saved state with `st` (the VM's, when switching threads).
    pub fn swap_state(&self, st: &mut ThreadState) {
        let mine = self.state.replace(std::mem::take(st));
        *st = mine;
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
        self.with_state(|st| {
            for &v in &st.stack {
                m.mark_value(v);
            }
            for f in &st.frames {
                if let FrameFn::Lua(c, _) = f.fun {
                    m.mark(c);
                }
            }
            for &u in &st.open_upvals {
                m.mark(u);
            }
        });
        if let Some(e) = self.env.get() {
            m.mark(e);
        }
    }
    fn size(&self) -> usize {
        self.with_state(|st| {
            std::mem::size_of::<Thread>()
                + st.stack.capacity() * std::mem::size_of::<Value>()
                + st.frames.capacity() * std::mem::size_of::<Frame>()
        })
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
