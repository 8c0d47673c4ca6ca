//! Full userdata: an opaque host payload with a metatable and an environment.

use std::any::Any;

use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, Marker, FLAG_FINALIZE};
use crate::object::Table;
use crate::value::{tag, Value};

/// A full userdata.
#[repr(C)]
pub struct Userdata {
    hdr: GcHeader,
    pub meta: Option<GcRef<Table>>,
    pub env: Option<GcRef<Table>>,
    /// Lua values the host attached (kept alive with the userdata).
    pub user_values: Vec<Value>,
    pub data: Option<Box<dyn Any>>,
}

impl Userdata {
    pub fn new(data: Option<Box<dyn Any>>) -> Userdata {
        Userdata { hdr: Heap::new_header::<Userdata>(), meta: None, env: None, user_values: Vec::new(), data }
    }

    /// Marks this userdata for finalization (its metatable has `__gc`).
    pub fn set_finalizer(&self, on: bool) {
        let f = self.hdr.flags.get();
        self.hdr.flags.set(if on { f | FLAG_FINALIZE } else { f & !FLAG_FINALIZE });
    }
}

impl GcObject for Userdata {
    const KIND: Kind = Kind::Userdata;
    const TAG: u64 = tag::UDATA;
    fn trace(&self, m: &mut Marker) {
        if let Some(mt) = self.meta {
            m.mark(mt);
        }
        if let Some(e) = self.env {
            m.mark(e);
        }
        for &v in &self.user_values {
            m.mark_value(v);
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Userdata>() + 16
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
