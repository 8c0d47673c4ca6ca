//! Functions implemented in Rust.

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
}

/// A native function object (a closure when it has upvalues).
#[repr(C)]
pub struct NativeFunction {
    hdr: GcHeader,
    pub f: NativeFn,
    pub special: Special,
    pub env: Option<GcRef<Table>>,
    pub upvals: Box<[Value]>,
    /// The name used when it has none from the call site.
    pub name: &'static str,
    /// `tostring` shows natives as `function: builtin#<id>`, as LuaJIT does.
    pub id: u32,
}

impl NativeFunction {
    pub fn new(f: NativeFn, name: &'static str, upvals: Box<[Value]>) -> NativeFunction {
        NativeFunction {
            hdr: Heap::new_header::<NativeFunction>(),
            f,
            special: Special::None,
            env: None,
            upvals,
            name,
            id: 0,
        }
    }
}

impl GcObject for NativeFunction {
    const KIND: Kind = Kind::NativeFunction;
    const TAG: u64 = tag::NATIVE;
    fn trace(&self, m: &mut Marker) {
        if let Some(e) = self.env {
            m.mark(e);
        }
        for &v in self.upvals.iter() {
            m.mark_value(v);
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<NativeFunction>() + self.upvals.len() * 8
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
