//! FFI C data (`type(x) == "cdata"`): a C type id and the bytes of one value of
//! that type.
//!
//! The object knows nothing of C types: the id means something only to the `ffi`
//! library's type table (`ffi::CTState`), except for the few fixed ids the VM
//! needs for constants (`1LL`, `1ULL`, `1i`), listed below and checked against the
//! type table by the `ffi` tests.
//!
//! The payload never moves: scalars of up to 16 bytes live inside the object,
//! anything larger in an allocation of its own, so a pointer to the payload stays
//! valid for as long as the object lives. The bytes are plain data: every bit
//! pattern is valid, and they are only ever copied in and out (never borrowed), so
//! C code or another cdata's pointer writing them while the object is shared is
//! not an aliasing violation. That makes the two accessors ([`CData::read`],
//! [`CData::write`]) and the allocation the only unsafe code here.

use std::alloc::Layout;
use std::cell::{Cell, UnsafeCell};
use std::ptr::NonNull;

use crate::gc::{GcHeader, GcObject, GcRef, Heap, Kind, Marker, FLAG_FINALIZE};
use crate::value::{tag, Value};

/// The C type id of `int64_t` (the type of `1LL`).
pub const CTID_INT64: u32 = 11;
/// The C type id of `uint64_t` (the type of `1ULL`).
pub const CTID_UINT64: u32 = 12;
/// The C type id of `complex` (the type of `1i`).
pub const CTID_COMPLEX_DOUBLE: u32 = 16;

/// Payloads up to this size (and alignment 8) are kept inside the object.
const INLINE_BYTES: usize = 16;

enum Store {
    /// Small payloads, inside the object.
    Inline(UnsafeCell<[u64; 2]>),
    /// Larger (or over-aligned) payloads: an allocation of exactly `layout`.
    Heap { ptr: NonNull<u8>, layout: Layout },
}

/// A cdata object.
#[repr(C)]
pub struct CData {
    hdr: GcHeader,
    ctype: u32,
    len: u32,
    /// The finalizer set by `ffi.gc` (nil: none).
    fin: Cell<Value>,
    store: Store,
}

impl CData {
    /// A zero-filled payload of `len` bytes aligned to `align` (a power of two)
    /// for a value of C type `ctype`; `None` if the allocation fails or the sizes
    /// are absurd.
    pub fn try_new(ctype: u32, len: usize, align: usize) -> Option<CData> {
        let align = align.clamp(1, 4096).next_power_of_two();
        let len32 = u32::try_from(len).ok()?;
        let store = if len <= INLINE_BYTES && align <= 8 {
            Store::Inline(UnsafeCell::new([0; 2]))
        } else {
            // At least one byte, so the allocation is never zero-sized.
            let layout = Layout::from_size_align(len.max(1), align.max(8)).ok()?;
            // SAFETY: `layout` has a non-zero size (made so just above).
            let p = unsafe { std::alloc::alloc_zeroed(layout) };
            Store::Heap { ptr: NonNull::new(p)?, layout }
        };
        Some(CData { hdr: Heap::new_header::<CData>(), ctype, len: len32, fin: Cell::new(Value::NIL), store })
    }

    /// A cdata holding `bytes` (at most 16; for constants and small results).
    pub fn with_bytes(ctype: u32, bytes: &[u8]) -> CData {
        let mut words = [0u64; 2];
        let n = bytes.len().min(INLINE_BYTES);
        let mut buf = [0u8; INLINE_BYTES];
        buf[..n].copy_from_slice(&bytes[..n]);
        words[0] = u64::from_ne_bytes(buf[..8].try_into().unwrap_or([0; 8]));
        words[1] = u64::from_ne_bytes(buf[8..].try_into().unwrap_or([0; 8]));
        CData {
            hdr: Heap::new_header::<CData>(),
            ctype,
            len: n as u32,
            fin: Cell::new(Value::NIL),
            store: Store::Inline(UnsafeCell::new(words)),
        }
    }

    /// The C type id.
    #[inline]
    pub fn ctype(&self) -> u32 {
        self.ctype
    }

    /// Payload bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The payload's address (what a pointer to this value holds).
    #[inline]
    pub fn payload_addr(&self) -> usize {
        self.base() as usize
    }

    fn base(&self) -> *mut u8 {
        match &self.store {
            Store::Inline(c) => c.get().cast::<u8>(),
            Store::Heap { ptr, .. } => ptr.as_ptr(),
        }
    }

    /// Copies payload bytes `off .. off + out.len()` into `out`; false (nothing
    /// copied) if that range is not inside the payload.
    pub fn read(&self, off: usize, out: &mut [u8]) -> bool {
        if off.checked_add(out.len()).is_none_or(|end| end > self.len()) {
            return false;
        }
        // SAFETY: the range is inside the payload (checked above), which is a live
        // allocation (or the inline words) of at least `len` bytes owned by this
        // object; its bytes are plain data that nothing borrows (module docs), and
        // `out` is a distinct Rust buffer.
        unsafe { std::ptr::copy_nonoverlapping(self.base().add(off), out.as_mut_ptr(), out.len()) };
        true
    }

    /// Copies `src` into payload bytes `off .. off + src.len()`; false (nothing
    /// written) if that range is not inside the payload.
    pub fn write(&self, off: usize, src: &[u8]) -> bool {
        if off.checked_add(src.len()).is_none_or(|end| end > self.len()) {
            return false;
        }
        // SAFETY: as in `read`; the payload is interior-mutable (an `UnsafeCell`
        // or a raw allocation), and no reference to its bytes exists.
        unsafe { std::ptr::copy(src.as_ptr(), self.base().add(off), src.len()) };
        true
    }

    /// The whole payload, copied (at most 16 bytes are expected here: scalars).
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len()];
        self.read(0, &mut v);
        v
    }

    /// The first 8 payload bytes as a `u64` (zero-extended if shorter).
    pub fn word(&self) -> u64 {
        let mut b = [0u8; 8];
        let n = self.len().min(8);
        self.read(0, &mut b[..n]);
        u64::from_ne_bytes(b)
    }

    /// The `ffi.gc` finalizer (nil if none).
    pub fn finalizer(&self) -> Value {
        self.fin.get()
    }

    /// Sets (or with nil, removes) the finalizer. The caller runs the write barrier
    /// and registers the object with the heap's finalizer list
    /// (`Heap::track_finalizer`).
    pub fn set_finalizer(&self, f: Value) {
        self.fin.set(f);
        let flags = self.hdr.flags.get();
        self.hdr.flags.set(if f.is_nil() { flags & !FLAG_FINALIZE } else { flags | FLAG_FINALIZE });
    }
}

impl Drop for CData {
    fn drop(&mut self) {
        if let Store::Heap { ptr, layout } = self.store {
            // SAFETY: `ptr` was allocated with exactly `layout` in `try_new` and is
            // freed only here, once, when the object itself goes.
            unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }
}

impl Value {
    /// The cdata this value is, if it is one.
    #[inline(always)]
    pub fn as_cdata(self) -> Option<GcRef<CData>> {
        self.as_gc::<CData>()
    }
}

impl GcObject for CData {
    const KIND: Kind = Kind::CData;
    const TAG: u64 = tag::CDATA;
    fn trace(&self, m: &mut Marker) {
        m.mark_value(self.fin.get());
    }
    fn size(&self) -> usize {
        std::mem::size_of::<CData>()
            + match &self.store {
                Store::Inline(_) => 0,
                Store::Heap { layout, .. } => layout.size(),
            }
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_bounds_and_alignment() {
        let c = CData::try_new(11, 8, 8).unwrap();
        assert_eq!(c.word(), 0);
        assert!(c.write(0, &42u64.to_ne_bytes()));
        assert_eq!(c.word(), 42);
        assert!(!c.write(1, &[0; 8]));
        assert!(!c.read(usize::MAX, &mut [0; 1]));
        let big = CData::try_new(99, 1000, 16).unwrap();
        assert_eq!(big.payload_addr() % 16, 0);
        assert!(big.write(992, &[7; 8]));
        let mut b = [0u8; 8];
        assert!(big.read(992, &mut b));
        assert_eq!(b, [7; 8]);
        let empty = CData::try_new(99, 0, 32).unwrap();
        assert!(empty.is_empty() && empty.payload_addr().is_multiple_of(32));
        assert!(CData::try_new(1, usize::MAX, 8).is_none());
    }
}
