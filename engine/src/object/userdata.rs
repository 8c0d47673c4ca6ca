//! Full userdata: an opaque host payload with a metatable and an environment.

use std::any::Any;
use std::cell::Cell;

use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, Marker, FLAG_FINALIZE};
use crate::object::Table;
use crate::value::{tag, Value};

/// A full userdata.
///
/// The host payload is fixed at creation and only ever shared (`&dyn Any`): a
/// payload that changes keeps its state in a `Cell` or `RefCell` of its own.
#[repr(C)]
pub struct Userdata {
    hdr: GcHeader,
    meta: Cell<Option<GcRef<Table>>>,
    env: Cell<Option<GcRef<Table>>>,
    data: Option<Box<dyn Any>>,
    /// Bytes the payload owns outside the object (a `string.buffer`'s contents), as
    /// its owner last reported them: part of the object's size, so the heap counts
    /// them against the memory limit and forgets them when the object is freed.
    extra: Cell<usize>,
}

impl Userdata {
    pub fn new(data: Option<Box<dyn Any>>) -> Userdata {
        Userdata {
            hdr: Heap::new_header::<Userdata>(),
            meta: Cell::new(None),
            env: Cell::new(None),
            data,
            extra: Cell::new(0),
        }
    }

    /// The metatable.
    #[inline(always)]
    pub fn meta(&self) -> Option<GcRef<Table>> {
        self.meta.get()
    }

    /// Sets the metatable (the caller runs the write barrier).
    pub fn set_meta(&self, mt: Option<GcRef<Table>>) {
        self.meta.set(mt);
    }

    /// The environment table (`getfenv`).
    pub fn env(&self) -> Option<GcRef<Table>> {
        self.env.get()
    }

    /// Sets the environment (the caller runs the write barrier).
    pub fn set_env(&self, t: Option<GcRef<Table>>) {
        self.env.set(t);
    }

    /// The host payload.
    #[inline]
    pub fn data(&self) -> Option<&dyn Any> {
        self.data.as_deref()
    }

    /// Bytes the payload owns outside the object, as last reported.
    pub fn extra_bytes(&self) -> usize {
        self.extra.get()
    }

    /// Records that the payload now owns `bytes` outside the object; returns the old
    /// figure. The caller tells the heap the difference (`Vm::account_resize`).
    pub fn set_extra_bytes(&self, bytes: usize) -> usize {
        self.extra.replace(bytes)
    }

    /// Marks this userdata for finalization (its metatable has `__gc`).
    pub fn set_finalizer(&self, on: bool) {
        let f = self.hdr.flags.get();
        self.hdr.flags.set(if on { f | FLAG_FINALIZE } else { f & !FLAG_FINALIZE });
    }
}

impl Value {
    /// The full userdata this value is, if it is one.
    #[inline(always)]
    pub fn as_userdata(self) -> Option<GcRef<Userdata>> {
        self.as_gc::<Userdata>()
    }
}

impl GcObject for Userdata {
    const KIND: Kind = Kind::Userdata;
    const TAG: u64 = tag::UDATA;
    fn trace(&self, m: &mut Marker) {
        if let Some(mt) = self.meta.get() {
            m.mark(mt);
        }
        if let Some(e) = self.env.get() {
            m.mark(e);
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Userdata>() + 16 + self.extra.get()
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}
