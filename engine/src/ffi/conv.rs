//! Conversions between C values, and between C values and Lua values, with
//! LuaJIT's rules (luajit.org "FFI Semantics", and the reference binary where the
//! page is silent): C to C by category (bool, integer, floating-point, complex,
//! vector, pointer, array, struct), Lua to C for stores, initializers and
//! arguments, C to Lua for loads and results.
//!
//! Values live in [`Place`]s: a cdata object's payload (read and written through
//! the object, bounds-checked) or an address behind a pointer (through
//! `call::mem`, checked at the data level). Scalars are converted on byte
//! buffers, little-endian as the targets are.

use super::call::mem;
use super::state::{cts, st};
use super::{Attr, CTypeId, Info, Kind, Qual, SIZE_INVALID};
use crate::gc::{GcRef, LuaString};
use crate::object::{CData, Table};
use crate::stdlib::caps::FfiLevel;
use crate::value::Value;
use crate::vm::{LResult, LuaError, Vm};

/// A cast (`ffi.cast`): allows conversions between pointers and integers.
pub const CCF_CAST: u32 = 1;
/// The source is a Lua value (for messages, and number-to-pointer casts).
pub const CCF_FROMTV: u32 = 2;
/// Pointer compatibility: same qualifiers required.
pub const CCF_SAME: u32 = 4;
/// Pointer compatibility: qualifiers ignored.
pub const CCF_IGNQUAL: u32 = 8;

/// Errors name argument `n` ("bad argument #n to ...").
pub fn ccf_arg(n: usize) -> u32 {
    (n as u32) << 8
}

fn ccf_getarg(f: u32) -> usize {
    (f >> 8) as usize
}

/// Where a C value's bytes are.
#[derive(Clone, Copy, Debug)]
pub enum Place {
    /// At an offset into a cdata object's payload.
    Obj(GcRef<CData>, usize),
    /// At an address (behind a pointer or reference).
    Addr(usize),
}

impl Place {
    /// The place `delta` bytes further.
    pub fn offset(self, delta: isize) -> Place {
        match self {
            Place::Obj(c, o) => Place::Obj(c, o.wrapping_add_signed(delta)),
            Place::Addr(a) => Place::Addr(a.wrapping_add_signed(delta)),
        }
    }

    /// The address, without registering anything (for comparisons and printing).
    pub fn raw_addr(self) -> usize {
        match self {
            Place::Obj(c, o) => c.payload_addr().wrapping_add(o),
            Place::Addr(a) => a,
        }
    }
}

/// The error of a failed memory access.
#[cold]
pub fn mem_error(vm: &mut Vm, e: mem::MemError) -> LuaError {
    vm.rt_error(e.message())
}

/// The address of a place, to hand out as a pointer: at the data level the object
/// is registered first, so that accesses through the pointer pass the check.
pub fn addr_of(vm: &mut Vm, p: Place) -> usize {
    match p {
        Place::Obj(c, o) => {
            if st(vm).level != FfiLevel::Calls {
                vm.register_cdata_range(c);
            }
            c.payload_addr().wrapping_add(o)
        }
        Place::Addr(a) => a,
    }
}

/// Reads `out.len()` bytes at `p`. Past the end of an object (an array indexed
/// out of range) a trusted state (`calls` level) reads zeros where LuaJIT reads
/// whatever memory lies there, which code ported from LuaJIT may do harmlessly;
/// below that level it is an error.
pub fn read(vm: &mut Vm, p: Place, out: &mut [u8]) -> LResult<()> {
    match p {
        Place::Obj(c, o) => {
            if c.read(o, out) {
                Ok(())
            } else if st(vm).level == FfiLevel::Calls {
                out.fill(0);
                Ok(())
            } else {
                Err(mem_error(vm, mem::MemError::OutOfBounds))
            }
        }
        Place::Addr(a) => {
            let access = st(vm).access;
            mem::read(vm, access, a, out).map_err(|e| mem_error(vm, e))
        }
    }
}

/// Writes `src` at `p`.
pub fn write(vm: &mut Vm, p: Place, src: &[u8]) -> LResult<()> {
    match p {
        Place::Obj(c, o) => {
            if c.write(o, src) {
                Ok(())
            } else {
                Err(mem_error(vm, mem::MemError::OutOfBounds))
            }
        }
        Place::Addr(a) => {
            let access = st(vm).access;
            mem::write(vm, access, a, src).map_err(|e| mem_error(vm, e))
        }
    }
}

/// Copies `len` bytes from `src` to `dst` (possibly overlapping).
pub fn copy(vm: &mut Vm, dst: Place, src: Place, len: usize) -> LResult<()> {
    if len <= 4096 {
        let mut buf = vec![0u8; len];
        read(vm, src, &mut buf)?;
        return write(vm, dst, &buf);
    }
    // Large copies: through addresses (both objects stay alive: they are the
    // caller's values).
    let (d, s) = (addr_of(vm, dst), addr_of(vm, src));
    let access = st(vm).access;
    // Objects' own payloads are always reachable: check them by their bounds.
    if let Place::Obj(c, o) = dst {
        if o.checked_add(len).is_none_or(|e| e > c.len()) {
            return Err(mem_error(vm, mem::MemError::OutOfBounds));
        }
    }
    if let Place::Obj(c, o) = src {
        if o.checked_add(len).is_none_or(|e| e > c.len()) {
            return Err(mem_error(vm, mem::MemError::OutOfBounds));
        }
    }
    mem::copy(vm, access, d, s, len).map_err(|e| mem_error(vm, e))
}

/// Sets `len` bytes at `p` to `byte`.
pub fn fill(vm: &mut Vm, p: Place, len: usize, byte: u8) -> LResult<()> {
    if let Place::Obj(c, o) = p {
        if len <= 65536 {
            return if c.write(o, &vec![byte; len]) { Ok(()) } else { Err(mem_error(vm, mem::MemError::OutOfBounds)) };
        }
        if o.checked_add(len).is_none_or(|e| e > c.len()) {
            return Err(mem_error(vm, mem::MemError::OutOfBounds));
        }
    }
    let a = addr_of(vm, p);
    let access = st(vm).access;
    mem::fill(vm, access, a, len, byte).map_err(|e| mem_error(vm, e))
}

/// Reads a pointer-sized value at `p` (a pointer of `size` bytes, 4 or 8).
pub fn read_ptr(vm: &mut Vm, p: Place, size: u32) -> LResult<usize> {
    if size == 4 {
        let mut b = [0u8; 4];
        read(vm, p, &mut b)?;
        Ok(u32::from_le_bytes(b) as usize)
    } else {
        let mut b = [0u8; 8];
        read(vm, p, &mut b)?;
        Ok(u64::from_le_bytes(b) as usize)
    }
}

/// The bytes of a pointer of `size` bytes holding `v`.
pub fn ptr_bytes(v: usize, size: u32) -> Vec<u8> {
    if size == 4 {
        (v as u32).to_le_bytes().to_vec()
    } else {
        (v as u64).to_le_bytes().to_vec()
    }
}

/// The source of a conversion.
#[derive(Clone, Debug)]
pub enum Src {
    /// Bytes at hand (a Lua number, a boolean, a constant).
    Local(Vec<u8>),
    /// A C value in memory.
    At(Place),
    /// A Lua string as `const char[]`.
    Str(GcRef<LuaString>),
}

impl Src {
    /// `n` bytes of the source.
    fn bytes(&self, vm: &mut Vm, n: usize) -> LResult<Vec<u8>> {
        match self {
            Src::Local(b) => {
                let mut v = b.clone();
                v.resize(n, 0);
                Ok(v)
            }
            Src::At(p) => {
                let mut v = vec![0u8; n];
                read(vm, *p, &mut v)?;
                Ok(v)
            }
            Src::Str(s) => {
                let mut v = s.as_bytes().to_vec();
                v.resize(n, 0);
                Ok(v)
            }
        }
    }

    /// The address of the source (arrays and structs decaying to pointers).
    fn addr(&self, vm: &mut Vm) -> usize {
        match self {
            Src::At(p) => addr_of(vm, *p),
            Src::Str(s) => s.padded_bytes()[1..].as_ptr() as usize,
            Src::Local(_) => 0,
        }
    }

    fn offset(&self, d: usize) -> Src {
        match self {
            Src::At(p) => Src::At(p.offset(d as isize)),
            Src::Local(b) => Src::Local(b.get(d..).map(|s| s.to_vec()).unwrap_or_default()),
            Src::Str(s) => Src::Str(*s),
        }
    }
}

/// What a conversion produced.
pub enum Out {
    /// The destination's bytes.
    Bytes(Vec<u8>),
    /// A value copy of `len` bytes from the source (arrays, structs).
    Copy(Src, usize),
}

/// Stores a conversion result at `p`.
pub fn store(vm: &mut Vm, p: Place, out: Out) -> LResult<()> {
    match out {
        Out::Bytes(b) => write(vm, p, &b),
        Out::Copy(Src::At(s), len) => copy(vm, p, s, len),
        Out::Copy(s, len) => {
            let b = s.bytes(vm, len)?;
            write(vm, p, &b)
        }
    }
}

/// Conversion categories (LuaJIT's CCX).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cat {
    B,
    I,
    F,
    C,
    V,
    P,
    A,
    S,
}

fn cat(info: Info) -> Option<Cat> {
    Some(match info.kind {
        Kind::Num { flags } if flags.is_bool() => Cat::B,
        Kind::Num { flags } if flags.is_fp() => Cat::F,
        Kind::Num { .. } => Cat::I,
        Kind::Array { complex: true, .. } => Cat::C,
        Kind::Array { vector: true, .. } => Cat::V,
        Kind::Array { .. } => Cat::A,
        Kind::Ptr { .. } => Cat::P,
        Kind::Struct { .. } => Cat::S,
        _ => return None,
    })
}

/// x86's `cvttsd2si` to 32 bits: truncation, the "integer indefinite" value for
/// NaN and out-of-range inputs.
pub fn cvt32(n: f64) -> i32 {
    let t = n.trunc();
    if (-2147483648.0..2147483648.0).contains(&t) {
        t as i32
    } else {
        i32::MIN
    }
}

/// x86's `cvttsd2si` to 64 bits.
pub fn cvt64(n: f64) -> i64 {
    let t = n.trunc();
    if (-9223372036854775808.0..9223372036854775808.0).contains(&t) {
        t as i64
    } else {
        i64::MIN
    }
}

/// A double to `uint64_t` as the reference LuaJIT on x86-64 converts it.
pub fn num2u64(n: f64) -> u64 {
    let mut i = cvt64(n);
    if i < 0 {
        i = cvt64(n - 18446744073709551616.0);
    }
    i as u64
}

/// A double to `int64_t` (LuaJIT's `lj_num2i64`).
pub fn num2i64(n: f64) -> i64 {
    cvt64(n)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(w)
}

/// An integer of `size` bytes, sign- or zero-extended to 64 bits.
fn int_of(b: &[u8], size: usize, unsigned: bool) -> u64 {
    let v = le_u64(&b[..size.min(b.len()).min(8)]);
    if size >= 8 || unsigned {
        return v;
    }
    let shift = 64 - 8 * size as u32;
    (((v << shift) as i64) >> shift) as u64
}

fn float_of(b: &[u8], size: u32) -> Option<f64> {
    match size {
        8 => Some(f64::from_bits(le_u64(b))),
        4 => Some(f64::from(f32::from_bits(le_u64(b) as u32))),
        _ => None,
    }
}

fn float_bytes(n: f64, size: u32) -> Option<Vec<u8>> {
    match size {
        8 => Some(n.to_le_bytes().to_vec()),
        4 => Some((n as f32).to_le_bytes().to_vec()),
        _ => None,
    }
}

/// A double to an integer of `dsize` bytes (the reference binary's rules).
fn int_from_float(n: f64, dsize: u32, unsigned: bool) -> Option<Vec<u8>> {
    let v: u64 = if dsize < 4 || (dsize == 4 && !unsigned) {
        cvt32(n) as i64 as u64
    } else if dsize == 4 {
        cvt64(n) as u64
    } else if dsize == 8 {
        if unsigned {
            num2u64(n)
        } else {
            cvt64(n) as u64
        }
    } else {
        return None;
    };
    Some(v.to_le_bytes()[..dsize as usize].to_vec())
}

/// An integer (as 64 bits, extended per its source) to a double, as LuaJIT.
fn float_from_int(v: u64, ssize: u32, unsigned: bool) -> f64 {
    if ssize < 4 || (ssize == 4 && !unsigned) {
        v as i64 as i32 as f64
    } else if ssize == 4 {
        v as u32 as f64
    } else if unsigned {
        v as f64
    } else {
        v as i64 as f64
    }
}

/// Strips attributes and enums below `id`'s child, collecting qualifiers
/// (LuaJIT's `cconv_childqual`).
fn child_qual(vm: &mut Vm, id: CTypeId) -> (CTypeId, Qual) {
    let c = cts(vm);
    let mut q = Qual::NONE;
    let mut ct = c.get(id).info.child().unwrap_or(CTypeId::NONE);
    for _ in 0..super::ctype::MAX_TYPES {
        let e = c.get(ct);
        match e.info.kind {
            Kind::Attrib { attr, target } => {
                if attr == Attr::Qual {
                    q = q.union(Qual(e.size as u8));
                }
                ct = target;
            }
            Kind::Enum { base } => ct = base,
            _ => break,
        }
    }
    let q = q.union(c.get(ct).info.qual);
    (ct, q)
}

/// May a pointer to `s`'s target convert to a pointer to `d`'s (both pointer or
/// array types)? More relaxed than C, as LuaJIT.
pub fn compat_ptr(vm: &mut Vm, d: CTypeId, s: CTypeId, flags: u32) -> bool {
    if flags & CCF_CAST != 0 || d == s {
        return true;
    }
    let (d, dq) = child_qual(vm, d);
    let (s, sq) = if cts(vm).get(s).info.is_struct() { (s, Qual::NONE) } else { child_qual(vm, s) };
    let (di, ds) = {
        let e = cts(vm).get(d);
        (e.info, e.size)
    };
    let (si, ss) = {
        let e = cts(vm).get(s);
        (e.info, e.size)
    };
    if flags & CCF_SAME != 0 {
        if dq != sq {
            return false;
        }
    } else if flags & CCF_IGNQUAL == 0 {
        if dq.0 & sq.0 != sq.0 {
            return false;
        }
        if di.is_void() || si.is_void() {
            return true;
        }
    }
    if di.kind.num() != si.kind.num() || ds != ss {
        return false;
    }
    match (di.kind, si.kind) {
        (Kind::Num { flags: a }, Kind::Num { flags: b }) => {
            use super::NumFlags;
            (a.0 ^ b.0) & (NumFlags::BOOL | NumFlags::FP) == 0
        }
        (Kind::Ptr { .. } | Kind::Array { .. }, _) => compat_ptr(vm, d, s, flags | CCF_SAME),
        (Kind::Struct { .. }, _) => d == s,
        _ => true,
    }
}

/// `cannot convert 'src' to 'dst'`, naming the argument when `flags` says.
#[cold]
pub fn conv_error(vm: &mut Vm, d: CTypeId, src: &str, flags: u32) -> LuaError {
    let dst = String::from_utf8_lossy(&cts(vm).repr(d)).into_owned();
    let msg = format!("cannot convert '{src}' to '{dst}'");
    match ccf_getarg(flags) {
        0 => vm.rt_error(&msg),
        n => vm.arg_error(n, &msg),
    }
}

#[cold]
fn conv_error_ct(vm: &mut Vm, d: CTypeId, s: CTypeId, flags: u32) -> LuaError {
    let src = if flags & CCF_FROMTV != 0 {
        let i = cts(vm).get(s).info;
        if i.is_num() {
            "number".to_string()
        } else if i.is_array() {
            "string".to_string()
        } else {
            "nil".to_string()
        }
    } else {
        String::from_utf8_lossy(&cts(vm).repr(s)).into_owned()
    };
    conv_error(vm, d, &src, flags)
}

/// The data level refuses to make pointers from numbers.
#[cold]
fn cap_error(vm: &mut Vm) -> LuaError {
    vm.rt_error("cannot convert a number to a pointer: not allowed in this state (FFI level 'data')")
}

/// Converts the C value `src` of raw type `s` to raw type `d` (attributes
/// stripped, enums resolved), as LuaJIT's `lj_cconv_ct_ct`.
pub fn ct_ct(vm: &mut Vm, d: CTypeId, s: CTypeId, src: &Src, flags: u32) -> LResult<Out> {
    let (dinfo, dsize) = {
        let e = cts(vm).get(d);
        (e.info, e.size)
    };
    let (sinfo, ssize) = {
        let e = cts(vm).get(s);
        (e.info, e.size)
    };
    let (Some(dc), Some(sc)) = (cat(dinfo), cat(sinfo)) else {
        return Err(conv_error_ct(vm, d, s, flags));
    };
    use Cat::*;
    match (dc, sc) {
        (B, B) => {
            let b = src.bytes(vm, 1)?[0];
            Ok(Out::Bytes(bool_bytes(b != 0, dsize)))
        }
        (B, I) => {
            let b = src.bytes(vm, ssize as usize)?;
            Ok(Out::Bytes(bool_bytes(b.iter().any(|&x| x != 0), dsize)))
        }
        (B, F) => {
            let b = src.bytes(vm, ssize as usize)?;
            match float_of(&b, ssize) {
                Some(n) => Ok(Out::Bytes(bool_bytes(n != 0.0, dsize))),
                None => Err(conv_error_ct(vm, d, s, flags)),
            }
        }
        (I, B) | (I, I) => {
            let b = src.bytes(vm, ssize as usize)?;
            let v = int_of(&b, ssize as usize, sinfo.is_unsigned() || sinfo.is_bool());
            Ok(Out::Bytes(v.to_le_bytes()[..(dsize as usize).min(8)].to_vec()))
        }
        (I, F) => {
            let b = src.bytes(vm, ssize as usize)?;
            let n = float_of(&b, ssize);
            match n.and_then(|n| int_from_float(n, dsize, dinfo.is_unsigned())) {
                Some(v) => Ok(Out::Bytes(v)),
                None => Err(conv_error_ct(vm, d, s, flags)),
            }
        }
        (I, C) => {
            let el = cts(vm).raw_child(s);
            ct_ct(vm, d, el, src, flags)
        }
        (I, P) | (I, A) => {
            if flags & CCF_CAST == 0 {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            let v = if sc == P {
                let b = src.bytes(vm, ssize as usize)?;
                int_of(&b, ssize as usize, true)
            } else {
                src.addr(vm) as u64
            };
            Ok(Out::Bytes(v.to_le_bytes()[..(dsize as usize).min(8)].to_vec()))
        }
        (F, B) | (F, I) => {
            let b = src.bytes(vm, ssize as usize)?;
            let v = int_of(&b, ssize as usize, sinfo.is_unsigned() || sinfo.is_bool());
            let n = float_from_int(v, ssize, sinfo.is_unsigned() || sinfo.is_bool());
            match float_bytes(n, dsize) {
                Some(v) => Ok(Out::Bytes(v)),
                None => Err(conv_error_ct(vm, d, s, flags)),
            }
        }
        (F, F) => {
            let b = src.bytes(vm, ssize as usize)?;
            if ssize == dsize {
                return Ok(Out::Bytes(b));
            }
            match float_of(&b, ssize).and_then(|n| float_bytes(n, dsize)) {
                Some(v) => Ok(Out::Bytes(v)),
                None => Err(conv_error_ct(vm, d, s, flags)),
            }
        }
        (F, C) => {
            let el = cts(vm).raw_child(s);
            ct_ct(vm, d, el, src, flags)
        }
        (C, I) | (C, F) => {
            let el = cts(vm).raw_child(d);
            let esz = cts(vm).get(el).size as usize;
            let re = match ct_ct(vm, el, s, src, flags)? {
                Out::Bytes(b) => b,
                Out::Copy(..) => return Err(conv_error_ct(vm, d, s, flags)),
            };
            let mut v = re;
            v.resize(2 * esz, 0);
            Ok(Out::Bytes(v))
        }
        (C, C) => {
            if dsize != ssize {
                let (de, se) = (cts(vm).raw_child(d), cts(vm).raw_child(s));
                let sesz = cts(vm).get(se).size as usize;
                let mut v = match ct_ct(vm, de, se, src, flags)? {
                    Out::Bytes(b) => b,
                    Out::Copy(..) => return Err(conv_error_ct(vm, d, s, flags)),
                };
                let im = match ct_ct(vm, de, se, &src.offset(sesz), flags)? {
                    Out::Bytes(b) => b,
                    Out::Copy(..) => return Err(conv_error_ct(vm, d, s, flags)),
                };
                v.extend_from_slice(&im);
                return Ok(Out::Bytes(v));
            }
            Ok(Out::Bytes(src.bytes(vm, dsize as usize)?))
        }
        (V, I) | (V, F) | (V, C) => {
            let el = cts(vm).raw_child(d);
            let esz = cts(vm).get(el).size as usize;
            let first = match ct_ct(vm, el, s, src, flags)? {
                Out::Bytes(b) => b,
                Out::Copy(..) => return Err(conv_error_ct(vm, d, s, flags)),
            };
            let mut v = Vec::with_capacity(dsize as usize);
            while v.len() + esz <= dsize as usize && esz > 0 {
                v.extend_from_slice(&first[..esz.min(first.len())]);
            }
            v.resize(dsize as usize, 0);
            Ok(Out::Bytes(v))
        }
        (V, V) => {
            if dsize != ssize {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            Ok(Out::Copy(src.clone(), dsize as usize))
        }
        (P, I) => {
            if flags & CCF_CAST == 0 {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            if st(vm).level != FfiLevel::Calls {
                return Err(cap_error(vm));
            }
            let b = src.bytes(vm, ssize as usize)?;
            let v = int_of(&b, ssize as usize, sinfo.is_unsigned() || sinfo.is_bool());
            Ok(Out::Bytes(v.to_le_bytes()[..dsize as usize].to_vec()))
        }
        (P, F) => {
            if flags & CCF_CAST == 0 || flags & CCF_FROMTV == 0 {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            if st(vm).level != FfiLevel::Calls {
                return Err(cap_error(vm));
            }
            let b = src.bytes(vm, ssize as usize)?;
            let n = float_of(&b, ssize).unwrap_or(0.0);
            let v = if dsize == 8 { cvt64(n) as u64 } else { cvt64(n) as u64 & 0xffff_ffff };
            Ok(Out::Bytes(v.to_le_bytes()[..dsize as usize].to_vec()))
        }
        (P, P) => {
            if !compat_ptr(vm, d, s, flags) {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            let b = src.bytes(vm, ssize as usize)?;
            let v = int_of(&b, ssize as usize, true) as usize;
            Ok(Out::Bytes(ptr_bytes(v, dsize)))
        }
        (P, A) | (P, S) => {
            if !compat_ptr(vm, d, s, flags) {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            let a = src.addr(vm);
            Ok(Out::Bytes(ptr_bytes(a, dsize)))
        }
        (A, A) => {
            if flags & CCF_CAST != 0
                || dinfo.is_vlarray()
                || dsize != ssize
                || dsize == SIZE_INVALID
                || !compat_ptr(vm, d, s, flags)
            {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            Ok(Out::Copy(src.clone(), dsize as usize))
        }
        (S, S) => {
            if flags & CCF_CAST != 0 || dinfo.is_vltype() || d != s {
                return Err(conv_error_ct(vm, d, s, flags));
            }
            Ok(Out::Copy(src.clone(), dsize as usize))
        }
        _ => Err(conv_error_ct(vm, d, s, flags)),
    }
}

fn bool_bytes(b: bool, dsize: u32) -> Vec<u8> {
    if dsize == 1 {
        vec![u8::from(b)]
    } else {
        u32::from(b).to_le_bytes().to_vec()
    }
}

/// Skips attributes, collecting qualifiers.
pub fn strip_attrs(vm: &mut Vm, id: CTypeId) -> (CTypeId, Qual) {
    let c = cts(vm);
    let mut q = Qual::NONE;
    let mut id = id;
    for _ in 0..super::ctype::MAX_TYPES {
        let e = c.get(id);
        match e.info.kind {
            Kind::Attrib { attr, target } if target < id => {
                if attr == Attr::Qual {
                    q = q.union(Qual(e.size as u8));
                }
                id = target;
            }
            _ => break,
        }
    }
    (id, q)
}

/// The base integer type of an enum (else `id` itself).
pub fn resolve_enum(vm: &mut Vm, id: CTypeId) -> CTypeId {
    match cts(vm).get(id).info.kind {
        Kind::Enum { base } if base != CTypeId::NONE => cts(vm).raw(base),
        _ => id,
    }
}

/// Interns `T *` (or `T &`) for `id`.
pub fn ptr_type(vm: &mut Vm, id: CTypeId, reference: bool) -> LResult<CTypeId> {
    let c = cts(vm);
    let t = *c.target();
    let info = Info::new(Kind::Ptr { to: id, reference }).with_align(t.ptr_align());
    match c.intern(info, t.ptr_size) {
        Ok(i) => Ok(i),
        Err(m) => Err(vm.rt_error(m)),
    }
}

/// A new cdata of type `id` with `len` zeroed bytes (aligned for the type).
pub fn new_cdata(vm: &mut Vm, id: CTypeId, len: usize, align: usize) -> LResult<GcRef<CData>> {
    vm.check_mem(len)?;
    match CData::try_new(id.0, len, align) {
        Some(c) => Ok(vm.alloc_cdata(c)),
        None => Err(vm.mem_error()),
    }
}

/// A new cdata of type `id` holding `bytes`.
pub fn new_cdata_bytes(vm: &mut Vm, id: CTypeId, bytes: &[u8]) -> LResult<GcRef<CData>> {
    let c = new_cdata(vm, id, bytes.len(), 8)?;
    c.write(0, bytes);
    Ok(c)
}

/// Converts a Lua value to raw C type `d` at `dst` (LuaJIT's `lj_cconv_ct_tv`).
pub fn tv_ct(vm: &mut Vm, d: CTypeId, dst: Place, v: Value, flags: u32) -> LResult<()> {
    match tv_src(vm, d, Some(dst), v, flags)? {
        None => Ok(()),
        Some((s, src, flags)) => {
            let d = resolve_enum(vm, d);
            let out = ct_ct(vm, d, s, &src, flags)?;
            store(vm, dst, out)
        }
    }
}

/// Converts a Lua value to the bytes of scalar raw C type `d` (numbers,
/// pointers, enums): arguments, indexes, casts.
pub fn tv_bytes(vm: &mut Vm, d: CTypeId, v: Value, flags: u32) -> LResult<Vec<u8>> {
    match tv_src(vm, d, None, v, flags)? {
        None => Err(conv_error(vm, d, v.type_name(), flags)),
        Some((s, src, flags)) => {
            let d = resolve_enum(vm, d);
            match ct_ct(vm, d, s, &src, flags)? {
                Out::Bytes(b) => Ok(b),
                Out::Copy(src, len) => src.bytes(vm, len),
            }
        }
    }
}

/// The C source of a Lua value for a conversion to `d`: `None` when the value was
/// stored directly (tables and strings into aggregates, callbacks).
fn tv_src(vm: &mut Vm, d: CTypeId, dst: Option<Place>, v: Value, flags: u32) -> LResult<Option<(CTypeId, Src, u32)>> {
    let mut flags = flags;
    if v.is_number() {
        return Ok(Some((CTypeId::DOUBLE, Src::Local(v.num().to_le_bytes().to_vec()), flags | CCF_FROMTV)));
    }
    if let Some(cd) = v.as_cdata() {
        let mut sid = CTypeId(cd.ctype());
        let mut src = Src::At(Place::Obj(cd, 0));
        if let Kind::Ptr { to, reference: true } = cts(vm).get(sid).info.kind {
            let psz = cts(vm).get(sid).size;
            let a = read_ptr(vm, Place::Obj(cd, 0), psz)?;
            src = Src::At(Place::Addr(a));
            sid = to;
        }
        let s = cts(vm).raw(sid);
        if cts(vm).get(s).info.is_func() {
            // A function: its address, as a pointer to it.
            let p = ptr_type(vm, sid, false)?;
            return Ok(Some((p, src, flags)));
        }
        let s = resolve_enum(vm, s);
        return Ok(Some((s, src, flags)));
    }
    if let Some(s) = v.as_string() {
        let dinfo = cts(vm).get(d).info;
        if dinfo.is_enum() {
            // A string names an enum constant.
            let Some((fid, _, _)) = cts(vm).get_field(d, s.as_bytes()) else {
                return Err(conv_error(vm, d, "string", flags));
            };
            let e = cts(vm).get(fid);
            let Kind::ConstVal { ty } = e.info.kind else {
                return Err(conv_error(vm, d, "string", flags));
            };
            let val = e.size;
            return Ok(Some((cts(vm).raw(ty), Src::Local(val.to_le_bytes().to_vec()), flags)));
        }
        if dinfo.is_refarray() {
            let Some(dst) = dst else { return Err(conv_error(vm, d, "string", flags)) };
            let el = cts(vm).raw_child(d);
            let e = cts(vm).get(el);
            if !e.info.is_integer() || e.size != 1 {
                return Err(conv_error(vm, d, "string", flags));
            }
            let dsize = cts(vm).get(d).size;
            let mut b = s.as_bytes().to_vec();
            b.push(0);
            if dsize != SIZE_INVALID && dsize != 0 && (dsize as usize) < b.len() {
                b.truncate(dsize as usize);
            }
            write(vm, dst, &b)?;
            return Ok(None);
        }
        return Ok(Some((CTypeId::A_CCHAR, Src::Str(s), flags | CCF_FROMTV)));
    }
    if let Some(t) = v.as_table() {
        let Some(dst) = dst else { return Err(conv_error(vm, d, "table", flags)) };
        let info = cts(vm).get(d).info;
        if info.is_array() {
            array_tab(vm, d, dst, t, flags)?;
            return Ok(None);
        }
        if info.is_struct() {
            let size = cts(vm).get(d).size;
            if size != SIZE_INVALID {
                fill(vm, dst, size as usize, 0)?;
            }
            let mut i = 0i64;
            substruct_tab(vm, d, dst, t, &mut i, flags)?;
            return Ok(None);
        }
        return Err(conv_error(vm, d, "table", flags));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Some((CTypeId::BOOL, Src::Local(vec![u8::from(b)]), flags)));
    }
    if v.is_nil() {
        flags |= CCF_FROMTV;
        return Ok(Some((CTypeId::P_VOID, Src::Local(vec![0; 8]), flags)));
    }
    if v.lua_type() == crate::value::LuaType::LightUserdata {
        if st(vm).level != FfiLevel::Calls {
            return Err(cap_error(vm));
        }
        return Ok(Some((CTypeId::P_VOID, Src::Local((v.addr() as u64).to_le_bytes().to_vec()), flags)));
    }
    if v.is_function() && cts(vm).get(d).info.is_ptr() {
        if let Some(p) = super::lib::make_callback(vm, d, v)? {
            let psz = cts(vm).get(d).size;
            match dst {
                Some(dst) => write(vm, dst, &ptr_bytes(p, psz))?,
                None => return Ok(Some((d, Src::Local(ptr_bytes(p, psz)), flags))),
            }
            return Ok(None);
        }
    }
    Err(conv_error(vm, d, v.type_name(), flags))
}

/// A table to an array (1-based or 0-based items, up to the first nil; a single
/// item is replicated, the rest is zero).
fn array_tab(vm: &mut Vm, d: CTypeId, dst: Place, t: GcRef<Table>, flags: u32) -> LResult<()> {
    let el = cts(vm).raw_child(d);
    let size = cts(vm).get(d).size;
    let esize = cts(vm).get(el).size;
    let mut ofs: u32 = 0;
    let mut i: i64 = 0;
    loop {
        let v = t.get_int(i);
        if v.is_nil() {
            if i == 0 {
                i += 1;
                continue;
            }
            break;
        }
        if ofs >= size {
            return Err(init_overflow(vm, d));
        }
        tv_ct(vm, el, dst.offset(ofs as isize), v, flags)?;
        ofs = ofs.saturating_add(esize);
        i += 1;
    }
    if size != SIZE_INVALID {
        if ofs == esize && esize > 0 {
            let mut first = vec![0u8; esize as usize];
            read(vm, dst, &mut first)?;
            let mut o = ofs;
            while o < size {
                write(vm, dst.offset(o as isize), &first)?;
                o += esize;
            }
        } else if ofs < size {
            fill(vm, dst.offset(ofs as isize), (size - ofs) as usize, 0)?;
        }
    }
    Ok(())
}

/// A table to the members of struct `d` (positional items first, then by name).
fn substruct_tab(vm: &mut Vm, d: CTypeId, dst: Place, t: GcRef<Table>, ip: &mut i64, flags: u32) -> LResult<()> {
    let union = cts(vm).get(d).info.is_union();
    type Member = (CTypeId, Info, u32, Option<Box<[u8]>>);
    let members: Vec<Member> = cts(vm).members(d).map(|(id, m)| (id, m.info, m.size, m.name.clone())).collect();
    for (fid, info, ofs, name) in members {
        match info.kind {
            Kind::Field { .. } | Kind::Bitfield { .. } => {
                let Some(name) = name else { continue };
                let v = if *ip >= 0 {
                    let mut i = *ip;
                    let iz = i;
                    let mut v = t.get_int(i);
                    if v.is_nil() && i == 0 {
                        i = 1;
                        v = t.get_int(i);
                    }
                    if v.is_nil() {
                        if iz == 0 {
                            *ip = -1;
                            let k = vm.intern(&name);
                            let v = t.get_str(k);
                            if v.is_nil() {
                                continue;
                            }
                            v
                        } else {
                            break;
                        }
                    } else {
                        *ip = i + 1;
                        v
                    }
                } else {
                    let k = vm.intern(&name);
                    let v = t.get_str(k);
                    if v.is_nil() {
                        continue;
                    }
                    v
                };
                let place = dst.offset(ofs as isize);
                if let Kind::Field { ty } = info.kind {
                    let rt = cts(vm).raw(ty);
                    tv_ct(vm, rt, place, v, flags)?;
                } else {
                    bf_tv(vm, fid, place, v)?;
                }
                if union {
                    break;
                }
            }
            Kind::Attrib { attr: Attr::Subtype, target } => {
                let sub = cts(vm).raw(target);
                substruct_tab(vm, sub, dst.offset(ofs as isize), t, ip, flags)?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cold]
pub fn init_overflow(vm: &mut Vm, d: CTypeId) -> LuaError {
    let r = String::from_utf8_lossy(&cts(vm).repr(d)).into_owned();
    vm.rt_error(&format!("too many initializers for '{r}'"))
}

/// Reads a bitfield (LuaJIT's `lj_cconv_tv_bf`).
pub fn tv_bf(vm: &mut Vm, fid: CTypeId, place: Place) -> LResult<Value> {
    let Kind::Bitfield { unsigned, is_bool, csz, bsz, pos } = cts(vm).get(fid).info.kind else {
        return Ok(Value::NIL);
    };
    let mut b = vec![0u8; csz as usize];
    read(vm, place, &mut b)?;
    let val = le_u64(&b) as u32;
    let (pos, bsz) = (u32::from(pos), u32::from(bsz));
    if pos + bsz > 8 * u32::from(csz) {
        return Err(vm.rt_error("NYI: packed bit fields"));
    }
    if is_bool {
        return Ok(Value::boolean((val >> pos) & 1 != 0));
    }
    let shift = 32 - bsz;
    Ok(if unsigned {
        Value::number(f64::from((val << (shift - pos)) >> shift))
    } else {
        Value::number(f64::from(((val << (shift - pos)) as i32) >> shift))
    })
}

/// Writes a bitfield (LuaJIT's `lj_cconv_bf_tv`).
pub fn bf_tv(vm: &mut Vm, fid: CTypeId, place: Place, v: Value) -> LResult<()> {
    let Kind::Bitfield { unsigned, is_bool, csz, bsz, pos } = cts(vm).get(fid).info.kind else {
        return Ok(());
    };
    let val: u32 = if is_bool {
        let b = tv_bytes(vm, CTypeId::BOOL, v, 0)?;
        u32::from(b[0])
    } else {
        let id = if unsigned { CTypeId::UINT32 } else { CTypeId::INT32 };
        let b = tv_bytes(vm, id, v, 0)?;
        le_u64(&b) as u32
    };
    let (pos, bsz) = (u32::from(pos), u32::from(bsz));
    if pos + bsz > 8 * u32::from(csz) {
        return Err(vm.rt_error("NYI: packed bit fields"));
    }
    let mask = (((1u64 << bsz) - 1) << pos) as u32;
    let val = (val << pos) & mask;
    let mut b = vec![0u8; csz as usize];
    read(vm, place, &mut b)?;
    let old = le_u64(&b) as u32;
    let new = (old & !mask) | val;
    write(vm, place, &new.to_le_bytes()[..csz as usize])
}

/// Converts the C value of raw type `s` (the type `sid` with attributes
/// stripped) at `place` to a Lua value (LuaJIT's `lj_cconv_tv_ct`): numbers
/// up to 32 bits and floating-point numbers become Lua numbers, `bool` a
/// boolean, arrays and structs a reference to `place`, anything else a copy.
pub fn ct_tv(vm: &mut Vm, s: CTypeId, sid: CTypeId, place: Place) -> LResult<Value> {
    let (info, size) = {
        let e = cts(vm).get(s);
        (e.info, e.size)
    };
    if let Kind::Num { flags } = info.kind {
        if flags.is_bool() {
            let mut b = vec![0u8; size as usize];
            read(vm, place, &mut b)?;
            return Ok(Value::boolean(b.iter().any(|&x| x != 0)));
        }
        if !(info.is_integer() && size > 4) {
            let out = ct_ct(vm, CTypeId::DOUBLE, s, &Src::At(place), 0)?;
            let Out::Bytes(b) = out else { return Ok(Value::NIL) };
            return Ok(Value::number(f64::from_bits(le_u64(&b))));
        }
    } else if info.is_refarray() || info.is_struct() {
        let a = addr_of(vm, place);
        let rid = ptr_type(vm, sid, true)?;
        let psz = cts(vm).get(rid).size;
        let c = new_cdata_bytes(vm, rid, &ptr_bytes(a, psz))?;
        return Ok(c.to_value());
    }
    if size == SIZE_INVALID {
        return Err(vm.rt_error("size of C type is unknown or too large"));
    }
    let align = 1usize << info.align.min(12);
    let c = new_cdata(vm, s, size as usize, align)?;
    copy(vm, Place::Obj(c, 0), place, size as usize)?;
    Ok(c.to_value())
}

/// Is `v` a single initializer value for aggregate `d` (LuaJIT's
/// `lj_cconv_multi_init`)?
fn multi_init(vm: &mut Vm, d: CTypeId, v: Value) -> bool {
    let info = cts(vm).get(d).info;
    if !(info.is_refarray() || info.is_struct()) {
        return false;
    }
    if v.is_table() || (v.is_string() && !info.is_struct()) {
        return false;
    }
    if let Some(cd) = v.as_cdata() {
        if cts(vm).raw_ref(CTypeId(cd.ctype())) == d {
            return false;
        }
    }
    true
}

/// Initializes a new cdata of raw type `d` (`size` bytes at `dst`) from the
/// arguments `vals` of `ffi.new` (LuaJIT's `lj_cconv_ct_init`).
pub fn ct_init(vm: &mut Vm, d: CTypeId, size: u32, dst: Place, vals: &[Value]) -> LResult<()> {
    let info = cts(vm).get(d).info;
    if vals.is_empty() {
        return Ok(()); // Already zero.
    }
    if vals.len() == 1 && !multi_init(vm, d, vals[0]) {
        return tv_ct(vm, d, dst, vals[0], 0);
    }
    if info.is_array() {
        let el = cts(vm).raw_child(d);
        let esize = cts(vm).get(el).size;
        if (vals.len() as u64) * u64::from(esize) > u64::from(size) {
            return Err(init_overflow(vm, d));
        }
        let mut ofs = 0u32;
        for &v in vals {
            tv_ct(vm, el, dst.offset(ofs as isize), v, 0)?;
            ofs += esize;
        }
        if ofs == esize && esize > 0 {
            let mut first = vec![0u8; esize as usize];
            read(vm, dst, &mut first)?;
            while ofs < size {
                write(vm, dst.offset(ofs as isize), &first)?;
                ofs += esize;
            }
        }
        return Ok(());
    }
    if info.is_struct() {
        let mut i = 0usize;
        substruct_init(vm, d, dst, vals, &mut i)?;
        if i < vals.len() {
            return Err(init_overflow(vm, d));
        }
        return Ok(());
    }
    Err(init_overflow(vm, d))
}

fn substruct_init(vm: &mut Vm, d: CTypeId, dst: Place, vals: &[Value], ip: &mut usize) -> LResult<()> {
    let union = cts(vm).get(d).info.is_union();
    let members: Vec<(CTypeId, Info, u32, bool)> =
        cts(vm).members(d).map(|(id, m)| (id, m.info, m.size, m.name.is_some())).collect();
    for (fid, info, ofs, named) in members {
        match info.kind {
            Kind::Field { ty } => {
                if !named {
                    continue;
                }
                let Some(&v) = vals.get(*ip) else { break };
                *ip += 1;
                let rt = cts(vm).raw(ty);
                tv_ct(vm, rt, dst.offset(ofs as isize), v, 0)?;
                if union {
                    break;
                }
            }
            Kind::Bitfield { .. } => {
                if !named {
                    continue;
                }
                let Some(&v) = vals.get(*ip) else { break };
                *ip += 1;
                bf_tv(vm, fid, dst.offset(ofs as isize), v)?;
                if union {
                    break;
                }
            }
            Kind::Attrib { attr: Attr::Subtype, target } => {
                let sub = cts(vm).raw(target);
                substruct_init(vm, sub, dst.offset(ofs as isize), vals, ip)?;
                if union {
                    break;
                }
            }
            _ => {}
        }
    }
    Ok(())
}
