//! Function prototypes, Lua closures and upvalues.

use std::cell::Cell;

use crate::bytecode::{Ins, LocalVarInfo, UpvalDesc};
use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, LuaString, Marker};
use crate::object::{Table, Thread};
use crate::value::{tag, Value};

/// A loaded function prototype (the heap form of `compiler::FuncProto`).
#[repr(C)]
pub struct Proto {
    hdr: GcHeader,
    /// The bytecode. Interior-mutable because the trace JIT patches loop instructions
    /// in place (`FORL` → `JFORL`, ...) while a dispatch loop may be reading this same
    /// slice (a re-entrant call); everything but the interpreter reads it through
    /// [`Proto::ins`], which undoes such patches.
    pub code: Box<[Cell<Ins>]>,
    /// Per-prototype JIT flags (`jit::PROTO_*`: `jit.off(f)`, ...).
    pub jit_flags: Cell<u8>,
    /// Number constants (as values), indexed by number operands.
    pub kn: Box<[Value]>,
    /// GC constants: strings and table templates, indexed by string and table operands.
    pub kgc: Box<[Value]>,
    pub protos: Box<[GcRef<Proto>]>,
    pub upvals: Box<[UpvalDesc]>,
    pub upval_names: Box<[Box<[u8]>]>,
    pub locals: Box<[LocalVarInfo]>,
    pub lineinfo: Box<[u32]>,
    pub numparams: u8,
    pub is_vararg: bool,
    pub framesize: u8,
    pub linedefined: u32,
    pub lastlinedefined: u32,
    pub chunkname: GcRef<LuaString>,
}

impl Proto {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        code: &[Ins],
        kn: Box<[Value]>,
        kgc: Box<[Value]>,
        protos: Box<[GcRef<Proto>]>,
        upvals: Box<[UpvalDesc]>,
        upval_names: Box<[Box<[u8]>]>,
        locals: Box<[LocalVarInfo]>,
        lineinfo: Box<[u32]>,
        numparams: u8,
        is_vararg: bool,
        framesize: u8,
        linedefined: u32,
        lastlinedefined: u32,
        chunkname: GcRef<LuaString>,
    ) -> Proto {
        Proto {
            hdr: Heap::new_header::<Proto>(),
            code: code.iter().map(|&i| Cell::new(i)).collect(),
            jit_flags: Cell::new(0),
            kn,
            kgc,
            protos,
            upvals,
            upval_names,
            locals,
            lineinfo,
            numparams,
            is_vararg,
            framesize,
            linedefined,
            lastlinedefined,
            chunkname,
        }
    }

    /// Instruction `pc` as the compiler emitted it (JIT patches undone).
    #[inline]
    pub fn ins(&self, pc: usize) -> Option<Ins> {
        self.code.get(pc).map(|c| c.get().original())
    }

    /// Source line of instruction `pc` (0 if unknown).
    pub fn line_at(&self, pc: usize) -> u32 {
        self.lineinfo.get(pc).copied().unwrap_or(0)
    }

    /// The name of the local in register `reg` at instruction `pc`, if any.
    pub fn local_name(&self, reg: usize, pc: usize) -> Option<&[u8]> {
        // The innermost (last declared) active local in that register wins.
        self.locals
            .iter()
            .rev()
            .find(|l| l.reg as usize == reg && (l.startpc as usize) <= pc && pc < l.endpc as usize)
            .map(|l| &*l.name)
    }
}

impl GcObject for Proto {
    const KIND: Kind = Kind::Proto;
    const TAG: u64 = tag::INTERNAL;
    fn trace(&self, m: &mut Marker) {
        for &v in self.kgc.iter() {
            m.mark_value(v);
        }
        for &p in self.protos.iter() {
            m.mark(p);
        }
        m.mark(self.chunkname);
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Proto>() + self.code.len() * 8 + (self.kn.len() + self.kgc.len()) * 8
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

/// Where an upvalue's value lives (a view of an [`UpVal`]'s fields).
#[derive(Clone, Copy)]
pub enum UpState {
    /// Still a live register: slot `slot` of `thread`'s stack.
    Open { thread: GcRef<Thread>, slot: usize },
    /// Closed: the value itself.
    Closed(Value),
}

/// An upvalue, shared by every closure that captured the same variable.
///
/// Open, it names a stack slot of a thread; closed, it holds the value. Plain fields
/// rather than an enum, so generated code can read them at fixed offsets.
#[repr(C)]
pub struct UpVal {
    hdr: GcHeader,
    /// The value, once closed.
    value: Cell<Value>,
    /// While open: the thread whose stack holds the variable. `None` once closed.
    thread: Cell<Option<GcRef<Thread>>>,
    /// While open: the stack slot.
    slot: Cell<usize>,
}

impl UpVal {
    pub fn new(state: UpState) -> UpVal {
        let u = UpVal {
            hdr: Heap::new_header::<UpVal>(),
            value: Cell::new(Value::NIL),
            thread: Cell::new(None),
            slot: Cell::new(0),
        };
        match state {
            UpState::Open { thread, slot } => {
                u.thread.set(Some(thread));
                u.slot.set(slot);
            }
            UpState::Closed(v) => u.value.set(v),
        }
        u
    }

    /// Where the value lives now.
    #[inline(always)]
    pub fn state(&self) -> UpState {
        match self.thread.get() {
            Some(thread) => UpState::Open { thread, slot: self.slot.get() },
            None => UpState::Closed(self.value.get()),
        }
    }

    /// Closes the upvalue over `v`, or stores `v` into a closed one (the caller runs
    /// the write barrier).
    #[inline]
    pub fn set_closed(&self, v: Value) {
        self.value.set(v);
        self.thread.set(None);
    }

    /// Open, on a stack slot at or above `level`?
    #[inline(always)]
    pub fn is_open_from(&self, level: usize) -> bool {
        self.thread.get().is_some() && self.slot.get() >= level
    }
}

impl GcObject for UpVal {
    const KIND: Kind = Kind::UpVal;
    const TAG: u64 = tag::INTERNAL;
    fn trace(&self, m: &mut Marker) {
        match self.state() {
            UpState::Open { thread, .. } => m.mark(thread),
            UpState::Closed(v) => m.mark_value(v),
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<UpVal>()
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

/// A Lua closure.
#[repr(C)]
pub struct LuaFunction {
    hdr: GcHeader,
    pub proto: GcRef<Proto>,
    /// The function environment (`getfenv` / `setfenv`).
    env: Cell<GcRef<Table>>,
    /// The upvalues (`debug.upvaluejoin` may replace one).
    upvals: Box<[Cell<GcRef<UpVal>>]>,
}

/// Field offsets generated code reads (through `vm::layout`).
pub(crate) mod offsets {
    pub const ENV: usize = std::mem::offset_of!(super::LuaFunction, env);
    /// An upvalue's closed value, its thread while open (null once closed) and its
    /// stack slot while open.
    pub const UV_VALUE: usize = std::mem::offset_of!(super::UpVal, value);
    pub const UV_THREAD: usize = std::mem::offset_of!(super::UpVal, thread);
    pub const UV_SLOT: usize = std::mem::offset_of!(super::UpVal, slot);
}

impl LuaFunction {
    pub fn new(proto: GcRef<Proto>, env: GcRef<Table>, upvals: Vec<GcRef<UpVal>>) -> LuaFunction {
        let upvals = upvals.into_iter().map(Cell::new).collect();
        LuaFunction { hdr: Heap::new_header::<LuaFunction>(), proto, env: Cell::new(env), upvals }
    }

    /// The environment.
    #[inline(always)]
    pub fn env(&self) -> GcRef<Table> {
        self.env.get()
    }

    /// Sets the environment (the caller runs the write barrier).
    pub fn set_env(&self, t: GcRef<Table>) {
        self.env.set(t);
    }

    /// Upvalue `i`, if there is one.
    #[inline(always)]
    pub fn upval(&self, i: usize) -> Option<GcRef<UpVal>> {
        self.upvals.get(i).map(Cell::get)
    }

    /// The address of the cell holding upvalue `i`: fixed for the closure's life
    /// (the cells are one allocation that never moves). A trace that keeps the
    /// closure alive reads the current upvalue from there.
    pub fn upval_cell_addr(&self, i: usize) -> Option<usize> {
        self.upvals.get(i).map(|c| c as *const Cell<GcRef<UpVal>> as usize)
    }

    /// Number of upvalues.
    #[inline(always)]
    pub fn nupvals(&self) -> usize {
        self.upvals.len()
    }

    /// Replaces upvalue `i` (`debug.upvaluejoin`; the caller runs the write barrier).
    /// False if there is no such upvalue.
    pub fn set_upval(&self, i: usize, u: GcRef<UpVal>) -> bool {
        match self.upvals.get(i) {
            Some(c) => {
                c.set(u);
                true
            }
            None => false,
        }
    }
}

impl Value {
    /// The Lua closure this value is, if it is one.
    #[inline(always)]
    pub fn as_lua_function(self) -> Option<GcRef<LuaFunction>> {
        self.as_gc::<LuaFunction>()
    }
}

impl GcObject for LuaFunction {
    const KIND: Kind = Kind::LuaFunction;
    const TAG: u64 = tag::FUNC;
    fn trace(&self, m: &mut Marker) {
        m.mark(self.proto);
        m.mark(self.env.get());
        for u in self.upvals.iter() {
            m.mark(u.get());
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<LuaFunction>() + self.upvals.len() * 8
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
