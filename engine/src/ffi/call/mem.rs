//! Memory behind C pointers: the one place where the FFI reads and writes an
//! address it did not get from a live object.
//!
//! How an address is checked depends on the state's FFI level:
//!
//! - **data** (untrusted code): every access must lie inside the payload of a live
//!   cdata object of this state that registered its payload range with the heap
//!   (`Vm::register_cdata_range`: the library registers an object whenever it hands
//!   out an address into it). Nothing else can be reached: not the engine's own
//!   memory, not a freed object, not an address forged from an integer (casts from
//!   numbers to pointers are refused anyway). Reads and writes are then of plain
//!   bytes of a live allocation, which is sound.
//! - **calls** (trusted code): any address, as in LuaJIT. The capability is, by
//!   definition, the state owner's grant that scripts may read and write process
//!   memory through pointers, and a wrong pointer may crash the process, as it does
//!   in LuaJIT. Addresses in the first page (NULL and small offsets from it) are
//!   refused with an error rather than a fault.

use crate::vm::Vm;

/// Addresses below this are never mapped: an access there is an error, not a fault.
const NULL_PAGE: usize = 4096;

/// Why an access was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemError {
    /// A NULL (or near-NULL) pointer.
    Null,
    /// Outside every live cdata object (data level only).
    OutOfBounds,
}

impl MemError {
    pub fn message(self) -> &'static str {
        match self {
            MemError::Null => "attempt to access memory through a NULL pointer",
            MemError::OutOfBounds => "attempt to access memory outside of cdata objects",
        }
    }
}

/// The access rule of a state (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Only registered payloads of live cdata objects.
    Checked,
    /// Any address (the `calls` level).
    Raw,
}

fn check(vm: &Vm, access: Access, addr: usize, len: usize) -> Result<(), MemError> {
    if len == 0 {
        return Ok(());
    }
    if addr < NULL_PAGE {
        return Err(MemError::Null);
    }
    match access {
        Access::Raw => {
            if addr.checked_add(len).is_none() {
                return Err(MemError::OutOfBounds);
            }
            Ok(())
        }
        Access::Checked if vm.cdata_range_ok(addr, len) => Ok(()),
        Access::Checked => Err(MemError::OutOfBounds),
    }
}

/// Copies `out.len()` bytes from `addr`.
pub fn read(vm: &Vm, access: Access, addr: usize, out: &mut [u8]) -> Result<(), MemError> {
    check(vm, access, addr, out.len())?;
    if out.is_empty() {
        return Ok(());
    }
    // SAFETY: `check` passed. Checked access: the range lies inside the payload of
    // a live cdata object (registered ranges are dropped before their object is
    // freed), plain bytes that nothing borrows. Raw access: the `calls` capability
    // is the state owner's grant that scripts may read any address (module docs);
    // a bad one may fault, as in LuaJIT. `out` is a distinct Rust buffer.
    unsafe { std::ptr::copy(addr as *const u8, out.as_mut_ptr(), out.len()) };
    Ok(())
}

/// Copies `src` to `addr`.
pub fn write(vm: &Vm, access: Access, addr: usize, src: &[u8]) -> Result<(), MemError> {
    check(vm, access, addr, src.len())?;
    if src.is_empty() {
        return Ok(());
    }
    // SAFETY: as in `read`, for writing: the bytes written are plain data of a
    // live cdata payload (checked), or wherever the trusted script pointed (raw).
    unsafe { std::ptr::copy(src.as_ptr(), addr as *mut u8, src.len()) };
    Ok(())
}

/// Sets `len` bytes at `addr` to `byte`.
pub fn fill(vm: &Vm, access: Access, addr: usize, len: usize, byte: u8) -> Result<(), MemError> {
    check(vm, access, addr, len)?;
    if len == 0 {
        return Ok(());
    }
    // SAFETY: as in `write`.
    unsafe { std::ptr::write_bytes(addr as *mut u8, byte, len) };
    Ok(())
}

/// Copies `len` bytes from `src` to `dst` (the ranges may overlap, as `memmove`).
pub fn copy(vm: &Vm, access: Access, dst: usize, src: usize, len: usize) -> Result<(), MemError> {
    check(vm, access, dst, len)?;
    check(vm, access, src, len)?;
    if len == 0 {
        return Ok(());
    }
    // SAFETY: as in `read` and `write` for both ranges.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len) };
    Ok(())
}

/// The length of the NUL-terminated string at `addr` (C `strlen`). Checked
/// access stops at the end of the object: a string that runs past it is an
/// error.
pub fn strlen(vm: &Vm, access: Access, addr: usize) -> Result<usize, MemError> {
    if addr < NULL_PAGE {
        return Err(MemError::Null);
    }
    let limit = match access {
        Access::Raw => usize::MAX - addr,
        Access::Checked => match vm.cdata_range_at(addr) {
            Some((_, end)) => end - addr,
            None => return Err(MemError::OutOfBounds),
        },
    };
    let mut n = 0usize;
    while n < limit {
        let mut b = 0u8;
        // SAFETY: byte `addr + n` is inside the checked range (`n < limit`), or, with
        // raw access, part of the C string the trusted script pointed at.
        unsafe { std::ptr::copy(((addr + n) as *const u8).cast::<u8>(), &mut b, 1) };
        if b == 0 {
            return Ok(n);
        }
        n += 1;
    }
    Err(MemError::OutOfBounds)
}
