//! Functions implemented in Rust.

use std::cell::Cell;

use crate::gc::GcRef;
use crate::gc::{GcHeader, GcObject, Heap, Kind, Marker};
use crate::object::Table;
use crate::value::{tag, Value};
use crate::vm::{LResult, Vm};

/// A native function: reads its `nargs` arguments at `vm.stack[base ..]`, pushes its
/// results with `vm.push` and returns how many it pushed.
pub type NativeFn = fn(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize>;

/// Natives the interpreter treats specially (they manipulate frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    None,
    Pcall,
    Xpcall,
    Yield,
    /// `collectgarbage`: run by the VM itself (`Vm::collectgarbage`).
    Collect,
}

/// A native function object (a closure when it has upvalues).
#[repr(C)]
pub struct NativeFunction {
    hdr: GcHeader,
    pub f: NativeFn,
    pub special: Special,
    env: Cell<Option<GcRef<Table>>>,
    upvals: Box<[Cell<Value>]>,
    /// The name used when it has none from the call site.
    pub name: &'static str,
    /// `tostring` shows natives as `function: builtin#<id>`, as LuaJIT does.
    pub id: u32,
    /// Left out of tracebacks (the FFI's cdata metamethods).
    pub hidden: bool,
}

impl NativeFunction {
    #[allow(clippy::boxed_local)] // callers hand over the list they built
    pub fn new(f: NativeFn, name: &'static str, upvals: Box<[Value]>) -> NativeFunction {
        NativeFunction {
            hdr: Heap::new_header::<NativeFunction>(),
            f,
            special: Special::None,
            env: Cell::new(None),
            upvals: upvals.iter().copied().map(Cell::new).collect(),
            name,
            id: 0,
            hidden: false,
        }
    }
}

impl Value {
    /// The native function this value is, if it is one.
    #[inline(always)]
    pub fn as_native_function(self) -> Option<GcRef<NativeFunction>> {
        self.as_gc::<NativeFunction>()
    }
}

impl NativeFunction {
    /// The environment (`getfenv`), if one was set.
    pub fn env(&self) -> Option<GcRef<Table>> {
        self.env.get()
    }

    /// Sets the environment (the caller runs the write barrier).
    pub fn set_env(&self, t: Option<GcRef<Table>>) {
        self.env.set(t);
    }

    /// Upvalue `i` (nil past the end).
    #[inline]
    pub fn upval(&self, i: usize) -> Value {
        self.upvals.get(i).map_or(Value::NIL, Cell::get)
    }

    /// Number of upvalues.
    pub fn nupvals(&self) -> usize {
        self.upvals.len()
    }

    /// Sets upvalue `i` (the caller runs the write barrier). False if there is none.
    pub fn set_upval(&self, i: usize, v: Value) -> bool {
        match self.upvals.get(i) {
            Some(c) => {
                c.set(v);
                true
            }
            None => false,
        }
    }
}

impl GcObject for NativeFunction {
    const KIND: Kind = Kind::NativeFunction;
    const TAG: u64 = tag::NATIVE;
    fn trace(&self, m: &mut Marker) {
        if let Some(e) = self.env.get() {
            m.mark(e);
        }
        for v in self.upvals.iter() {
            m.mark_value(v.get());
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<NativeFunction>() + self.upvals.len() * 8
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
