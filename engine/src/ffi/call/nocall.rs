//! WebAssembly builds have no C calls (the library never asks: it only runs at
//! the `data` level there): stand-ins with the native module's interface.

use crate::vm::Vm;

/// A C type as the calling convention sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum CType {
    Void,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    Ptr,
    Struct(Vec<CType>, usize),
}

/// Never called at the data level.
pub fn call(_vm: &mut Vm, _addr: usize, _ret: &CType, _args: &[(CType, Vec<u8>)], _nfixed: Option<usize>) -> Vec<u8> {
    Vec::new()
}

pub fn errno() -> i32 {
    0
}

pub fn set_errno(_v: i32) {}

/// No C library locale.
pub fn set_c_locale(_cat: &[u8], _name: Option<&[u8]>) -> Option<Vec<u8>> {
    None
}

/// No callbacks.
#[derive(Default)]
pub struct Callbacks;

impl Callbacks {
    pub fn create(&mut self, _ret: CType, _args: Vec<CType>) -> Option<(usize, usize)> {
        None
    }
    pub fn slot_of(&self, _addr: usize) -> Option<usize> {
        None
    }
    pub fn free(&mut self, _slot: usize) {}
}
