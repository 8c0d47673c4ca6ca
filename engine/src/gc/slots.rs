//! `Slots<T>`: the growable arrays inside heap objects (a table's array and hash
//! parts), with a layout generated code can address and growth that fails instead
//! of aborting.
//!
//! A `Vec` would do the same job, but its field order is unspecified (the JIT must
//! read a table's array pointer and length at known offsets) and its infallible
//! growth aborts the process when memory runs out, where the engine must raise "not
//! enough memory" and go on. So: `#[repr(C)] { ptr, len: u32, cap: u32 }`, growth
//! only through `try_*` methods, and the element type restricted to `Copy` data
//! without drop glue (values and hash nodes), so freeing is a plain deallocation.
//!
//! The unsafe code here is the allocation, the raw-parts slices and the copies; the
//! invariant everything rests on is stated on the struct.

use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The most elements a `Slots` holds (lengths are `u32`).
pub const MAX_SLOTS: usize = u32::MAX as usize;

/// More than [`MAX_SLOTS`] elements? (Never on wasm32, where `usize` is `u32`.)
#[inline(always)]
#[allow(clippy::absurd_extreme_comparisons)]
pub fn too_many(n: usize) -> bool {
    n > MAX_SLOTS
}

/// Growth failed: past [`MAX_SLOTS`], a size overflow, or the allocator refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrowError;

/// A growable array of `Copy` elements.
///
/// Invariant: `ptr` is dangling (aligned, never dereferenced) when `cap == 0`, else it
/// points at an allocation of exactly `Layout::array::<T>(cap)` from the global
/// allocator, owned by this value; elements `0..len` are initialised; `len <= cap`.
#[repr(C)]
pub struct Slots<T: Copy> {
    ptr: NonNull<T>,
    len: u32,
    cap: u32,
    _owns: PhantomData<T>,
}

impl<T: Copy> Slots<T> {
    /// An empty array (no allocation).
    pub const fn new() -> Slots<T> {
        Slots { ptr: NonNull::dangling(), len: 0, cap: 0, _owns: PhantomData }
    }

    /// `n` copies of `fill`, or an error when the allocation fails.
    #[inline]
    pub fn try_filled(n: usize, fill: T) -> Result<Slots<T>, GrowError> {
        if n == 0 {
            return Ok(Slots::new());
        }
        if too_many(n) {
            return Err(GrowError);
        }
        let layout = Layout::array::<T>(n).map_err(|_| GrowError)?;
        if layout.size() == 0 {
            return Ok(Slots { ptr: NonNull::dangling(), len: n as u32, cap: n as u32, _owns: PhantomData });
        }
        // SAFETY: the layout has a non-zero size (checked above).
        let p = unsafe { alloc::alloc(layout) }.cast::<T>();
        let Some(ptr) = NonNull::new(p) else { return Err(GrowError) };
        for i in 0..n {
            // SAFETY: `i < n`, inside the allocation just made for `n` elements.
            unsafe { ptr.as_ptr().add(i).write(fill) };
        }
        Ok(Slots { ptr, len: n as u32, cap: n as u32, _owns: PhantomData })
    }

    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Allocated elements.
    #[inline(always)]
    pub fn capacity(&self) -> usize {
        self.cap as usize
    }

    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: by the struct invariant `ptr` is valid for `len` initialised
        // elements (or dangling and aligned with `len == 0`), and `&self` keeps the
        // allocation alive and unchanged for the slice's lifetime.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len as usize) }
    }

    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`; `&mut self` makes the slice the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len as usize) }
    }

    /// Makes room for at least `extra` more elements without reallocating, growing
    /// to exactly `len + extra` (the caller chooses the growth policy).
    pub fn try_reserve_exact(&mut self, extra: usize) -> Result<(), GrowError> {
        let need = self.len().checked_add(extra).ok_or(GrowError)?;
        if need <= self.capacity() {
            return Ok(());
        }
        self.realloc(need)
    }

    /// Appends `v`, growing by doubling (at least 4 elements).
    #[inline]
    pub fn try_push(&mut self, v: T) -> Result<(), GrowError> {
        if self.len == self.cap {
            let want = self.capacity().saturating_mul(2).clamp(4, MAX_SLOTS);
            if want <= self.capacity() {
                return Err(GrowError);
            }
            self.realloc(want)?;
        }
        // SAFETY: `len < cap` now, so slot `len` lies inside the allocation.
        unsafe { self.ptr.as_ptr().add(self.len as usize).write(v) };
        self.len += 1;
        Ok(())
    }

    /// Sets the length to `n`: truncates, or appends copies of `fill` (allocating
    /// exactly what is missing).
    pub fn try_resize(&mut self, n: usize, fill: T) -> Result<(), GrowError> {
        if n <= self.len() {
            self.len = n as u32;
            return Ok(());
        }
        self.try_reserve_exact(n - self.len())?;
        for i in self.len()..n {
            // SAFETY: `i < n <= cap` after the reservation.
            unsafe { self.ptr.as_ptr().add(i).write(fill) };
        }
        self.len = n as u32;
        Ok(())
    }

    /// A copy with the same length (capacity trimmed to it).
    pub fn try_clone(&self) -> Result<Slots<T>, GrowError> {
        let mut s = Slots::new();
        s.try_reserve_exact(self.len())?;
        // SAFETY: `s` has room for `self.len` elements and the two allocations are
        // distinct; the source elements are initialised.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), s.ptr.as_ptr(), self.len()) };
        s.len = self.len;
        Ok(s)
    }

    fn realloc(&mut self, new_cap: usize) -> Result<(), GrowError> {
        if too_many(new_cap) {
            return Err(GrowError);
        }
        let new_layout = Layout::array::<T>(new_cap).map_err(|_| GrowError)?;
        if new_layout.size() == 0 {
            // Zero-sized elements never need memory.
            self.cap = new_cap as u32;
            return Ok(());
        }
        let new_ptr = if self.cap == 0 {
            // SAFETY: the layout has a non-zero size (checked above).
            unsafe { alloc::alloc(new_layout) }
        } else {
            let old_layout = Layout::array::<T>(self.capacity()).map_err(|_| GrowError)?;
            // SAFETY: `ptr` was allocated with `old_layout` (struct invariant), the new
            // size is non-zero and, being a valid `Layout`, does not overflow isize.
            unsafe { alloc::realloc(self.ptr.as_ptr().cast::<u8>(), old_layout, new_layout.size()) }
        };
        let Some(p) = NonNull::new(new_ptr.cast::<T>()) else { return Err(GrowError) };
        self.ptr = p;
        self.cap = new_cap as u32;
        Ok(())
    }

    /// Frees the allocation and empties the array.
    pub fn free(&mut self) {
        if self.cap != 0 && std::mem::size_of::<T>() != 0 {
            if let Ok(layout) = Layout::array::<T>(self.capacity()) {
                // SAFETY: `ptr` was allocated with exactly this layout (invariant) and
                // is forgotten right after.
                unsafe { alloc::dealloc(self.ptr.as_ptr().cast::<u8>(), layout) };
            }
        }
        // Field by field: assigning a whole `Slots` would drop (free) this one again.
        self.ptr = NonNull::dangling();
        self.len = 0;
        self.cap = 0;
    }

    /// Offsets of the fields, for `vm::layout`.
    pub const PTR_OFFSET: usize = std::mem::offset_of!(Slots<T>, ptr);
    pub const LEN_OFFSET: usize = std::mem::offset_of!(Slots<T>, len);
}

impl<T: Copy> Default for Slots<T> {
    fn default() -> Self {
        Slots::new()
    }
}

impl<T: Copy> Drop for Slots<T> {
    fn drop(&mut self) {
        self.free();
    }
}

impl<T: Copy> std::ops::Deref for Slots<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Copy> std::ops::DerefMut for Slots<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_resize_clone_and_free() {
        let mut s: Slots<u64> = Slots::new();
        assert!(s.is_empty());
        for i in 0..100 {
            s.try_push(i).unwrap();
        }
        assert_eq!(s.len(), 100);
        assert!(s.capacity() >= 100);
        assert_eq!(s.iter().sum::<u64>(), 4950);
        s.try_resize(150, 7).unwrap();
        assert_eq!(s[149], 7);
        assert_eq!(s[99], 99);
        s.try_resize(10, 0).unwrap();
        assert_eq!(s.len(), 10);
        let c = s.try_clone().unwrap();
        assert_eq!(&*c, &*s);
        assert_eq!(c.capacity(), 10);
        s[0] = 42;
        assert_eq!(c[0], 0);
        s.free();
        assert_eq!(s.len(), 0);
        assert_eq!(s.capacity(), 0);
        s.try_push(1).unwrap();
        assert_eq!(&*s, &[1]);
    }

    #[test]
    fn exact_reservation() {
        let mut s: Slots<u64> = Slots::try_filled(3, 1).unwrap();
        assert_eq!(s.capacity(), 3);
        s.try_reserve_exact(5).unwrap();
        assert_eq!(s.capacity(), 8);
        s.try_reserve_exact(2).unwrap();
        assert_eq!(s.capacity(), 8);
    }

    #[test]
    fn impossible_sizes_fail_instead_of_aborting() {
        let mut s: Slots<[u64; 2]> = Slots::new();
        assert_eq!(s.try_resize(MAX_SLOTS + 1, [0; 2]), Err(GrowError));
        assert_eq!(s.try_reserve_exact(usize::MAX), Err(GrowError));
        assert!(s.is_empty());
    }
}
