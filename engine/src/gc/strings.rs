//! Interned strings and the intern table.
//!
//! Every Lua string is interned: equal contents give the same object, so string
//! equality and table lookup by string key are pointer comparisons. The hash is keyed
//! by a per-state random seed so that an attacker who controls keys cannot force
//! collisions (hash flooding). Strings live in the intern table's chains rather than
//! in the heap's object list; the table sweeps them.

use std::cell::Cell;
use std::ptr::NonNull;

use super::{GcHeader, GcObject, GcRef, Heap, Kind, Marker, WHITES};
use crate::value::tag;

/// An immutable, interned byte string.
#[repr(C)]
pub struct LuaString {
    hdr: GcHeader,
    hash: u32,
    /// Next string in the same intern chain.
    hnext: Cell<Option<NonNull<LuaString>>>,
    data: StrData,
}

/// Strings up to this long keep their bytes inside the object.
const INLINE_MAX: usize = 20;

/// A string's bytes: inside the object when short (names, keys and most values a
/// program makes, which then cost one allocation rather than two), else boxed.
///
/// Either way the bytes have a zero byte right before and right after them, as
/// LuaJIT's strings do: C functions that the FFI hands a string to see a
/// NUL-terminated C string, and code that peeks at the byte before a string's data
/// (as some FFI code written against LuaJIT's layout does) reads 0.
enum StrData {
    /// `buf` is `[0, bytes.., 0, ..]`: everything but the `len` bytes from index 1
    /// stays 0.
    Inline { len: u8, buf: [u8; INLINE_MAX + 2] },
    /// `[0, bytes.., 0]`.
    Boxed(Box<[u8]>),
}

impl StrData {
    fn new(bytes: &[u8]) -> StrData {
        if bytes.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX + 2];
            buf[1..1 + bytes.len()].copy_from_slice(bytes);
            StrData::Inline { len: bytes.len() as u8, buf }
        } else {
            let mut v = Vec::with_capacity(bytes.len() + 2);
            v.push(0);
            v.extend_from_slice(bytes);
            v.push(0);
            StrData::Boxed(v.into_boxed_slice())
        }
    }

    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        let p = self.padded();
        p.get(1..p.len().saturating_sub(1)).unwrap_or(&[])
    }

    /// The bytes with the zero byte before and after them.
    #[inline(always)]
    fn padded(&self) -> &[u8] {
        match self {
            StrData::Inline { len, buf } => &buf[..(*len as usize).min(INLINE_MAX) + 2],
            StrData::Boxed(b) => b,
        }
    }

    /// Bytes allocated outside the object.
    fn heap_size(&self) -> usize {
        match self {
            StrData::Inline { .. } => 0,
            StrData::Boxed(b) => b.len(),
        }
    }
}

impl LuaString {
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        self.data.bytes()
    }

    /// The bytes with a zero byte before and after them (`[0, bytes.., 0]`): a
    /// pointer one past its start is a NUL-terminated C string of the bytes (the FFI
    /// hands strings to C so).
    #[inline]
    pub fn padded_bytes(&self) -> &[u8] {
        self.data.padded()
    }
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The seeded hash.
    #[inline(always)]
    pub fn hash(&self) -> u32 {
        self.hash
    }
    /// Lossy UTF-8 view, for messages.
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl GcObject for LuaString {
    const KIND: Kind = Kind::String;
    const TAG: u64 = tag::STR;
    fn trace(&self, _m: &mut Marker) {}
    fn size(&self) -> usize {
        std::mem::size_of::<LuaString>() + self.data.heap_size()
    }
    fn header(&self) -> &GcHeader {
        &self.hdr
    }
}

impl crate::value::Value {
    /// The string this value is, if it is one.
    #[inline(always)]
    pub fn as_string(self) -> Option<GcRef<LuaString>> {
        self.as_gc::<LuaString>()
    }
}

/// The intern table: a chained hash set of every live string.
pub struct StringTable {
    buckets: Vec<Option<NonNull<LuaString>>>,
    count: usize,
    seed: u64,
}

/// A seeded hash over the whole string, 8 bytes at a time.
pub fn hash_bytes(seed: u64, b: &[u8]) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = seed ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = 0u64;
        for (i, &x) in rest.iter().enumerate() {
            w |= (x as u64) << (8 * i);
        }
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^= h >> 32;
    h as u32
}

impl StringTable {
    pub(super) fn new(seed: u64) -> StringTable {
        StringTable { buckets: vec![None; 256], count: 0, seed }
    }

    /// The seeded hash of `b`.
    pub fn hash(&self, b: &[u8]) -> u32 {
        hash_bytes(self.seed, b)
    }

    /// Returns the interned string for `bytes`, creating it if needed, the bytes
    /// newly allocated (0 if it existed), and whether the bucket array was rebuilt
    /// (a string sweep in progress must then start over: see `Heap::intern`).
    /// `white` is the heap's current white: a found string that is dead but not yet
    /// swept is revived with it; a new one gets it.
    pub(super) fn intern(&mut self, bytes: &[u8], white: u8) -> (GcRef<LuaString>, usize, bool) {
        let h = self.hash(bytes);
        if let Some(s) = self.find(h, bytes, white) {
            return (s, 0, false);
        }
        self.insert(h, StrData::new(bytes), white)
    }

    /// [`intern`](StringTable::intern) of bytes the caller built: a long new string
    /// takes over the buffer when it has room for the two zero bytes around the data
    /// (so no second copy of a big result exists even for a moment: producers of big
    /// strings reserve them), else the bytes are copied into a padded buffer.
    pub(super) fn intern_owned(&mut self, bytes: Vec<u8>, white: u8) -> (GcRef<LuaString>, usize, bool) {
        let h = self.hash(&bytes);
        if let Some(s) = self.find(h, &bytes, white) {
            return (s, 0, false);
        }
        let data = if bytes.len() <= INLINE_MAX || bytes.capacity() - bytes.len() < 2 {
            StrData::new(&bytes)
        } else {
            let mut v = bytes;
            v.insert(0, 0);
            v.push(0);
            StrData::Boxed(v.into_boxed_slice())
        };
        self.insert(h, data, white)
    }

    /// The interned string with hash `h` and these bytes, revived if dead but not
    /// yet swept.
    fn find(&self, h: u32, bytes: &[u8], white: u8) -> Option<GcRef<LuaString>> {
        let mask = self.buckets.len() - 1;
        let mut cur = self.buckets[h as usize & mask];
        while let Some(p) = cur {
            // SAFETY: chains only hold live strings owned by this table.
            let s = unsafe { p.as_ref() };
            if s.hash == h && s.as_bytes() == bytes {
                // Dead (the other white) but not swept yet: it is reachable again.
                if s.hdr.color.get() & WHITES & !white != 0 {
                    s.hdr.color.set(white);
                }
                return Some(GcRef { ptr: p, _p: std::marker::PhantomData });
            }
            cur = s.hnext.get();
        }
        None
    }

    /// Adds a new string (known to be absent) with hash `h`.
    fn insert(&mut self, h: u32, data: StrData, white: u8) -> (GcRef<LuaString>, usize, bool) {
        let grew = self.count >= self.buckets.len();
        if grew {
            self.grow();
        }
        let s = LuaString { hdr: Heap::new_header::<LuaString>(), hash: h, hnext: Cell::new(None), data };
        let size = s.size();
        s.hdr.color.set(white);
        let p = NonNull::from(Box::leak(Box::new(s)));
        let mask = self.buckets.len() - 1;
        let slot = &mut self.buckets[h as usize & mask];
        // SAFETY: `p` was just allocated and is uniquely owned here.
        unsafe { p.as_ref() }.hnext.set(*slot);
        *slot = Some(p);
        self.count += 1;
        (GcRef { ptr: p, _p: std::marker::PhantomData }, size, grew)
    }

    fn grow(&mut self) {
        let new_len = self.buckets.len() * 2;
        let mut nb: Vec<Option<NonNull<LuaString>>> = vec![None; new_len];
        for b in std::mem::take(&mut self.buckets) {
            let mut cur = b;
            while let Some(p) = cur {
                // SAFETY: chains hold live strings.
                let s = unsafe { p.as_ref() };
                cur = s.hnext.get();
                let slot = &mut nb[s.hash as usize & (new_len - 1)];
                s.hnext.set(*slot);
                *slot = Some(p);
            }
        }
        self.buckets = nb;
    }

    /// Sweeps up to `count` buckets from `start`: frees dead strings (the white
    /// that is not `white`), gives survivors `white`. Returns the bytes freed, the
    /// next bucket and whether the table is done.
    pub(super) fn sweep_buckets(&mut self, start: usize, count: usize, white: u8) -> (usize, usize, bool) {
        let dead = WHITES & !white;
        let mut freed = 0;
        let end = start.saturating_add(count).min(self.buckets.len());
        for i in start..end {
            let mut prev: Option<NonNull<LuaString>> = None;
            let mut cur = self.buckets[i];
            while let Some(p) = cur {
                // SAFETY: chains hold live strings.
                let s = unsafe { p.as_ref() };
                let next = s.hnext.get();
                if s.hdr.color.get() & dead == 0 {
                    s.hdr.color.set(white);
                    prev = Some(p);
                } else {
                    match prev {
                        // SAFETY: `q` is a live string earlier in this chain.
                        Some(q) => unsafe { q.as_ref() }.hnext.set(next),
                        None => self.buckets[i] = next,
                    }
                    self.count -= 1;
                    freed += s.size();
                    // SAFETY: unreachable, unlinked, allocated by `Box` in `intern`, and
                    // freed exactly once.
                    drop(unsafe { Box::from_raw(p.as_ptr()) });
                }
                cur = next;
            }
        }
        (freed, end, end >= self.buckets.len())
    }

    pub(super) fn free_all(&mut self) {
        for b in std::mem::take(&mut self.buckets) {
            let mut cur = b;
            while let Some(p) = cur {
                // SAFETY: chains hold live strings, each freed exactly once here.
                let s = unsafe { Box::from_raw(p.as_ptr()) };
                cur = s.hnext.get();
            }
        }
        self.count = 0;
    }

    /// Number of live strings.
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn interning_and_sweep() {
        // SAFETY: the handles below are used only while `heap` lives, and `keep`
        // is the root of the collection.
        let mut heap = unsafe { Heap::new(42) };
        let a = heap.intern(b"hello");
        let b = heap.intern(b"hello");
        assert_eq!(a, b);
        let c = heap.intern(b"world");
        assert_ne!(a, c);
        for i in 0..1000 {
            heap.intern(format!("s{i}").as_bytes());
        }
        let keep = a.to_value();
        // SAFETY: only `a` (== `keep`) is used afterwards.
        unsafe { heap.collect(Value::NIL, |m| m.mark_value(keep), |_| false) };
        assert_eq!(heap.strings.len(), 1);
        assert_eq!(heap.intern(b"hello"), a);
    }

    #[test]
    fn inline_and_boxed_strings() {
        // SAFETY: no collection; the handles die with the heap.
        let mut heap = unsafe { Heap::new(7) };
        for len in [0, 1, INLINE_MAX - 1, INLINE_MAX, INLINE_MAX + 1, 200] {
            let bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let a = heap.intern(&bytes);
            assert_eq!(a.as_bytes(), &bytes[..]);
            assert_eq!(a.len(), len);
            assert_eq!(heap.intern(&bytes), a, "length {len} interns to one object");
            let boxed = if len > INLINE_MAX { len + 2 } else { 0 };
            assert_eq!(a.size(), std::mem::size_of::<LuaString>() + boxed);
            // A zero byte before and after the bytes (C strings, LuaJIT's layout).
            let p = a.padded_bytes();
            assert_eq!((p[0], &p[1..=len], p[len + 1], p.len()), (0, &bytes[..], 0, len + 2), "length {len}");
        }
        assert_eq!(std::mem::size_of::<StrData>(), 24);
        // Same prefix, different lengths: different strings.
        assert_ne!(heap.intern(b"abc"), heap.intern(b"abc\0"));
    }

    /// Built buffers become strings with the same bytes whether or not they have the
    /// room to be taken over, short or long.
    #[test]
    fn owned_buffers_keep_their_bytes() {
        // SAFETY: no collection; the handles die with the heap.
        let mut heap = unsafe { Heap::new(7) };
        for len in [0, 5, INLINE_MAX, INLINE_MAX + 1, 100, 5000] {
            let bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let tight = bytes.clone().into_boxed_slice().into_vec();
            let mut roomy = Vec::with_capacity(len + 2);
            roomy.extend_from_slice(&bytes);
            for v in [tight, roomy] {
                let s = heap.intern_owned(v);
                assert_eq!(s.as_bytes(), &bytes[..], "length {len}");
                let p = s.padded_bytes();
                assert_eq!((p[0], &p[1..=len], p[len + 1], p.len()), (0, &bytes[..], 0, len + 2), "length {len}");
            }
        }
    }

    #[test]
    fn seeded_hash_differs() {
        assert_ne!(hash_bytes(1, b"abc"), hash_bytes(2, b"abc"));
        assert_eq!(hash_bytes(1, b"abc"), hash_bytes(1, b"abc"));
    }
}
