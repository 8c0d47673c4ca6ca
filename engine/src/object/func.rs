//! Function prototypes, Lua closures and upvalues.

use crate::bytecode::Ins;
use crate::compiler::{LocalVarInfo, UpvalDesc};
use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, LuaString, Marker};
use crate::object::{Table, Thread};
use crate::value::{tag, Value};

/// A loaded function prototype (the heap form of `compiler::FuncProto`).
#[repr(C)]
pub struct Proto {
    hdr: GcHeader,
    pub code: Box<[Ins]>,
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
        code: Box<[Ins]>,
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
            code,
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

/// Where an upvalue's value lives.
#[derive(Clone, Copy)]
pub enum UpState {
    /// Still a live register: slot `slot` of `thread`'s stack.
    Open { thread: GcRef<Thread>, slot: usize },
    /// Closed: the value itself.
    Closed(Value),
}

/// An upvalue, shared by every closure that captured the same variable.
#[repr(C)]
pub struct UpVal {
    hdr: GcHeader,
    pub state: UpState,
}

impl UpVal {
    pub fn new(state: UpState) -> UpVal {
        UpVal { hdr: Heap::new_header::<UpVal>(), state }
    }

    /// Open, on a stack slot at or above `level`?
    #[inline(always)]
    pub fn is_open_from(&self, level: usize) -> bool {
        matches!(self.state, UpState::Open { slot, .. } if slot >= level)
    }
}

impl GcObject for UpVal {
    const KIND: Kind = Kind::UpVal;
    const TAG: u64 = tag::INTERNAL;
    fn trace(&self, m: &mut Marker) {
        match self.state {
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
    pub env: GcRef<Table>,
    pub upvals: Box<[GcRef<UpVal>]>,
}

impl LuaFunction {
    pub fn new(proto: GcRef<Proto>, env: GcRef<Table>, upvals: Box<[GcRef<UpVal>]>) -> LuaFunction {
        LuaFunction { hdr: Heap::new_header::<LuaFunction>(), proto, env, upvals }
    }
}

impl GcObject for LuaFunction {
    const KIND: Kind = Kind::LuaFunction;
    const TAG: u64 = tag::FUNC;
    fn trace(&self, m: &mut Marker) {
        m.mark(self.proto);
        m.mark(self.env);
        for &u in self.upvals.iter() {
            m.mark(u);
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<LuaFunction>() + self.upvals.len() * 8
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
