//! The `ffi` library as Lua sees it: the module functions (`ffi.new`, `cast`,
//! `typeof`, ...), the metamethods shared by every cdata (indexing, arithmetic,
//! comparison, calls, `tostring`), C library namespaces (`ffi.C`, `ffi.load`)
//! and callbacks.
//!
//! The VM knows cdata only as values with a metatable (`Vm::cdata_meta`), which
//! [`install`] fills with the functions here; so every cdata operation runs in the
//! interpreter's existing slow paths. Metatype handlers (`ffi.metatype`) written in
//! Lua are called from these natives, re-entrantly (so a coroutine cannot yield
//! inside them, as in LuaJIT's own C handlers).

use super::call::{self, mem};
use super::conv::{
    addr_of, ccf_arg, compat_ptr, conv_error, ct_ct, ct_init, ct_tv, cvt64, mem_error, new_cdata, new_cdata_bytes,
    ptr_bytes, ptr_type, read, read_ptr, resolve_enum, strip_attrs, tv_bf, tv_bytes, tv_ct, Out, Place, Src, CCF_CAST,
    CCF_IGNQUAL,
};
use super::state::{cts, level, st, Clib};
use super::{CParseError, CTypeId, Kind, Param, Qual, SizeOf, NS_DEFAULT, SIZE_INVALID};
use crate::gc::{GcRef, LuaString};
use crate::object::CData;
use crate::stdlib::caps::FfiLevel;
use crate::value::Value;
use crate::vm::{LResult, LuaError, MetaEvent, NativeFn, Vm};
#[allow(unused_imports)]
use conv_error as _;

// ----- Opening --------------------------------------------------------------------

/// Opens the FFI for a state whose capabilities grant it: `require("ffi")` (a
/// `package.preload` loader, so the module is built on first use, as LuaJIT's is)
/// and the cdata metatable (installed when the first cdata appears).
pub fn open(vm: &mut Vm) {
    if level(vm) == FfiLevel::Off {
        return;
    }
    vm.set_cdata_init(Some(install));
    let reg = vm.registry();
    let preload = vm.get_field(reg, "_PRELOAD");
    if let Some(p) = preload.as_table() {
        let f = vm.native(luaopen_ffi, "ffi");
        vm.set_field(p, "ffi", f);
    }
}

const META: &[(&str, NativeFn)] = &[
    ("__index", mm_index),
    ("__newindex", mm_newindex),
    ("__eq", mm_eq),
    ("__len", mm_len),
    ("__lt", mm_lt),
    ("__le", mm_le),
    ("__concat", mm_concat),
    ("__call", mm_call),
    ("__add", mm_add),
    ("__sub", mm_sub),
    ("__mul", mm_mul),
    ("__div", mm_div),
    ("__mod", mm_mod),
    ("__pow", mm_pow),
    ("__unm", mm_unm),
    ("__tostring", mm_tostring),
    ("__pairs", mm_pairs),
    ("__ipairs", mm_ipairs),
];

const FUNCS: &[(&str, NativeFn)] = &[
    ("cdef", ffi_cdef),
    ("new", ffi_new),
    ("cast", ffi_cast),
    ("typeof", ffi_typeof),
    ("istype", ffi_istype),
    ("sizeof", ffi_sizeof),
    ("alignof", ffi_alignof),
    ("offsetof", ffi_offsetof),
    ("errno", ffi_errno),
    ("string", ffi_string),
    ("copy", ffi_copy),
    ("fill", ffi_fill),
    ("abi", ffi_abi),
    ("metatype", ffi_metatype),
    ("gc", ffi_gc),
    ("load", ffi_load),
    ("typeinfo", ffi_typeinfo),
];

/// Installs the cdata metatable (and the FFI state). Idempotent.
pub fn install(vm: &mut Vm) {
    if vm.cdata_meta().is_some() || level(vm) == FfiLevel::Off {
        return;
    }
    st(vm);
    let mt = vm.new_table(0, META.len() + 1);
    for &(n, f) in META {
        let fv = vm.native_hidden(f, n);
        vm.set_field(mt, n, fv);
    }
    let ffi_s = vm.str_value(b"ffi");
    vm.set_field(mt, "__metatable", ffi_s);
    vm.set_cdata_meta(Some(mt));

    let cb = vm.new_table(0, 3);
    let f = vm.native(cb_free, "free");
    vm.set_field(cb, "free", f);
    let f = vm.native(cb_set, "set");
    vm.set_field(cb, "set", f);
    vm.set_field(cb, "__index", cb.to_value());
    st(vm).callback_mt = Some(cb);

    let cl = vm.new_table(0, 2);
    let f = vm.native(clib_index, "__index");
    vm.set_field(cl, "__index", f);
    let f = vm.native(clib_newindex, "__newindex");
    vm.set_field(cl, "__newindex", f);
    st(vm).clib_mt = Some(cl);
}

/// `require("ffi")`.
fn luaopen_ffi(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    install(vm);
    if let Some(m) = st(vm).module {
        vm.push(m.to_value());
        return Ok(1);
    }
    let m = vm.new_table(0, FUNCS.len() + 4);
    let calls = st(vm).level == FfiLevel::Calls;
    for &(n, f) in FUNCS {
        let fv = vm.native(f, n);
        vm.set_field(m, n, fv);
    }
    let c = new_clib(vm, None);
    vm.set_field(m, "C", c);
    let _ = calls;
    let os = vm.str_value(os_name().as_bytes());
    vm.set_field(m, "os", os);
    let arch = vm.str_value(arch_name().as_bytes());
    vm.set_field(m, "arch", arch);
    st(vm).module = Some(m);
    vm.push(m.to_value());
    Ok(1)
}

fn os_name() -> &'static str {
    if cfg!(target_os = "linux") {
        "Linux"
    } else if cfg!(target_os = "windows") {
        "Windows"
    } else if cfg!(target_os = "macos") {
        "OSX"
    } else if cfg!(any(target_os = "freebsd", target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly")) {
        "BSD"
    } else if cfg!(unix) {
        "POSIX"
    } else {
        "Other"
    }
}

fn arch_name() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "x64"
    } else if cfg!(target_arch = "aarch64") {
        "arm64"
    } else if cfg!(target_arch = "wasm32") {
        "wasm32"
    } else {
        "other"
    }
}

// ----- Argument helpers -----------------------------------------------------------

fn repr(vm: &mut Vm, id: CTypeId) -> String {
    String::from_utf8_lossy(&cts(vm).repr(id)).into_owned()
}

fn parse_error(vm: &mut Vm, e: CParseError, base: usize, nargs: usize, first_param: usize) -> LuaError {
    match e {
        CParseError::Msg(m) => vm.rt_error(&String::from_utf8_lossy(&m)),
        CParseError::BadParam(i) => {
            let arg = first_param + i;
            vm.type_arg_error(base, nargs, arg, "type parameter")
        }
    }
}

fn param_of(vm: &mut Vm, v: Value) -> Param {
    if let Some(cd) = v.as_cdata() {
        return Param::Type(ctype_of(vm, cd));
    }
    if v.is_number() {
        return Param::Int(super::conv::cvt32(v.num()));
    }
    if let Some(s) = v.as_string() {
        return Param::Name(s.as_bytes().to_vec());
    }
    Param::Bad
}

/// The C type a cdata stands for: a ctype object's type, else its own.
fn ctype_of(_vm: &mut Vm, cd: GcRef<CData>) -> CTypeId {
    if cd.ctype() == CTypeId::CTYPEID.0 {
        CTypeId(cd.word() as u32)
    } else {
        CTypeId(cd.ctype())
    }
}

/// Argument 1 as a C type: a type string (with `$` parameters from the following
/// arguments when `params`), a ctype or a cdata.
fn check_ctype(vm: &mut Vm, base: usize, nargs: usize, params: bool) -> LResult<CTypeId> {
    let v = vm.arg(base, nargs, 0);
    if let Some(s) = v.as_string() {
        let ps: Vec<Param> =
            if params { (1..nargs).map(|i| vm.arg(base, nargs, i)).collect::<Vec<_>>() } else { vec![] }
                .into_iter()
                .map(|v| param_of(vm, v))
                .collect();
        let src = s.as_bytes().to_vec();
        return match cts(vm).parse_type(&src, &ps) {
            Ok(id) => Ok(id),
            Err(e) => Err(parse_error(vm, e, base, nargs, 1)),
        };
    }
    if let Some(cd) = v.as_cdata() {
        if params && nargs > 1 {
            return Err(vm.arg_error(1, "wrong number of type parameters"));
        }
        return Ok(ctype_of(vm, cd));
    }
    Err(vm.type_arg_error(base, nargs, 0, "C type"))
}

fn check_cdata(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<GcRef<CData>> {
    match vm.arg(base, nargs, i).as_cdata() {
        Some(c) => Ok(c),
        None => Err(vm.type_arg_error(base, nargs, i, "cdata")),
    }
}

/// Argument `i` converted to `int32_t` (LuaJIT's `ffi_checkint`).
fn check_int(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<i32> {
    if i >= nargs {
        return Err(vm.arg_error(i + 1, "value expected"));
    }
    let v = vm.arg(base, nargs, i);
    let b = tv_bytes(vm, CTypeId::INT32, v, ccf_arg(i + 1))?;
    Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Argument `i` converted to the pointer type `id` (LuaJIT's `ffi_checkptr`).
fn check_ptr(vm: &mut Vm, base: usize, nargs: usize, i: usize, id: CTypeId) -> LResult<usize> {
    if i >= nargs {
        return Err(vm.arg_error(i + 1, "value expected"));
    }
    let v = vm.arg(base, nargs, i);
    let b = tv_bytes(vm, id, v, ccf_arg(i + 1))?;
    let mut w = [0u8; 8];
    w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    Ok(u64::from_le_bytes(w) as usize)
}

fn type_info(vm: &mut Vm, id: CTypeId) -> (super::Info, u32) {
    cts(vm).type_info(id)
}

// ----- Metatypes ------------------------------------------------------------------

/// The metatype handler `e` for type `id` (LuaJIT's `lj_ctype_meta`): attributes
/// and references are looked through; function pointers have the callback methods.
fn ctype_meta(vm: &mut Vm, id: CTypeId, e: MetaEvent) -> Value {
    let mut id = id;
    for _ in 0..super::ctype::MAX_TYPES {
        match cts(vm).get(id).info.kind {
            Kind::Attrib { target, .. } | Kind::Ptr { to: target, reference: true } if target < id => id = target,
            _ => break,
        }
    }
    let info = cts(vm).get(id).info;
    let tab = match info.kind {
        Kind::Ptr { to, .. } if cts(vm).get(to).info.is_func() => st(vm).callback_mt,
        _ => st(vm).metatypes.get(&id).copied(),
    };
    match tab {
        Some(t) => {
            let k = vm.intern(e.name().as_bytes());
            t.get_str(k)
        }
        None => Value::NIL,
    }
}

/// Calls a metatype handler re-entrantly and pushes its results (`nres` < 0: all).
fn call_handler(vm: &mut Vm, h: Value, args: &[Value], nres: i32) -> LResult<usize> {
    let r = vm.call_value(h, args, nres)?;
    let n = r.len();
    for v in r {
        vm.push(v);
    }
    Ok(n)
}

// ----- Indexing -------------------------------------------------------------------

/// What `cdata[key]` designates (LuaJIT's `lj_cdata_index`).
struct Indexed {
    /// The element: a pointer/array type (an element of it), a field, a
    /// bitfield or a constant; on failure the resolved type.
    ct: CTypeId,
    place: Place,
    qual: Qual,
    failed: bool,
}

fn ptr_size(vm: &mut Vm, id: CTypeId) -> u32 {
    cts(vm).get(id).size
}

fn index_of_key(vm: &mut Vm, key: Value) -> LResult<Option<i64>> {
    if key.is_number() {
        return Ok(Some(cvt64(key.num())));
    }
    if let Some(kc) = key.as_cdata() {
        let kid = cts(vm).raw(CTypeId(kc.ctype()));
        let kid = resolve_enum(vm, kid);
        if cts(vm).get(kid).info.is_integer() {
            let out = ct_ct(vm, CTypeId::INT64, kid, &Src::At(Place::Obj(kc, 0)), 0)?;
            if let Out::Bytes(b) = out {
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[..8]);
                return Ok(Some(i64::from_le_bytes(w)));
            }
        }
    }
    Ok(None)
}

fn cdata_index(vm: &mut Vm, cd: GcRef<CData>, key: Value) -> LResult<Indexed> {
    let mut p = Place::Obj(cd, 0);
    let mut ct = CTypeId(cd.ctype());
    let mut qual = Qual::NONE;
    if let Kind::Ptr { to, reference: true } = cts(vm).get(ct).info.kind {
        let sz = ptr_size(vm, ct);
        p = Place::Addr(read_ptr(vm, p, sz)?);
        ct = to;
    }
    let idx = index_of_key(vm, key)?;
    for _ in 0..64 {
        let (c, q) = strip_attrs(vm, ct);
        ct = c;
        qual = qual.union(q);
        let info = cts(vm).get(ct).info;
        if let Some(idx) = idx {
            if info.is_pointer() {
                let child = info.child().unwrap_or(CTypeId::NONE);
                let Some(sz) = cts(vm).size_of(child) else {
                    return Err(vm.rt_error("size of C type is unknown or too large"));
                };
                let mut idx = idx;
                if info.is_ptr() {
                    let psz = ptr_size(vm, ct);
                    p = Place::Addr(read_ptr(vm, p, psz)?);
                } else if info.is_vector() || info.is_complex() {
                    if info.is_complex() {
                        idx &= 1;
                    }
                    qual = qual.union(Qual::CONST);
                }
                let delta = idx.wrapping_mul(i64::from(sz as i32)) as isize;
                return Ok(Indexed { ct, place: p.offset(delta), qual, failed: false });
            }
        } else if let Some(name) = key.as_string() {
            if info.is_struct() {
                if let Some((fid, ofs, q)) = cts(vm).get_field(ct, name.as_bytes()) {
                    return Ok(Indexed { ct: fid, place: p.offset(ofs as isize), qual: qual.union(q), failed: false });
                }
            } else if info.is_complex() {
                let half = cts(vm).get(ct).size / 2;
                match name.as_bytes() {
                    b"re" => return Ok(Indexed { ct, place: p, qual: qual.union(Qual::CONST), failed: false }),
                    b"im" => {
                        return Ok(Indexed {
                            ct,
                            place: p.offset(half as isize),
                            qual: qual.union(Qual::CONST),
                            failed: false,
                        })
                    }
                    _ => {}
                }
            } else if cd.ctype() == CTypeId::CTYPEID.0 {
                // A (pointer to) struct constructor: its constants.
                let mut sct = cts(vm).raw(CTypeId(cd.word() as u32));
                if cts(vm).get(sct).info.is_ptr() {
                    sct = cts(vm).raw_child(sct);
                }
                if cts(vm).get(sct).info.is_struct() {
                    if let Some((fid, _, _)) = cts(vm).get_field(sct, name.as_bytes()) {
                        if cts(vm).get(fid).info.is_constval() {
                            return Ok(Indexed { ct: fid, place: p, qual, failed: false });
                        }
                    }
                }
                ct = sct;
            }
        }
        let info = cts(vm).get(ct).info;
        if info.is_ptr() {
            let child = cts(vm).raw_child(ct);
            if cts(vm).get(child).info.is_struct() {
                let psz = ptr_size(vm, ct);
                p = Place::Addr(read_ptr(vm, p, psz)?);
                ct = info.child().unwrap_or(CTypeId::NONE);
                continue;
            }
        }
        break;
    }
    Ok(Indexed { ct, place: p, qual, failed: true })
}

/// A constant's value as a Lua number.
fn const_value(vm: &mut Vm, fid: CTypeId) -> Value {
    let e = cts(vm).get(fid);
    let val = e.size;
    let ty = match e.info.kind {
        Kind::ConstVal { ty } => ty,
        _ => CTypeId::INT32,
    };
    let rty = cts(vm).raw(ty);
    let unsigned = cts(vm).get(rty).info.is_unsigned();
    if unsigned && (val as i32) < 0 {
        Value::number(f64::from(val))
    } else {
        Value::number(f64::from(val as i32))
    }
}

/// Loads the element an [`Indexed`] designates (LuaJIT's `lj_cdata_get`).
fn cdata_get(vm: &mut Vm, ct: CTypeId, place: Place) -> LResult<Value> {
    let info = cts(vm).get(ct).info;
    match info.kind {
        Kind::ConstVal { .. } => Ok(const_value(vm, ct)),
        Kind::Bitfield { .. } => tv_bf(vm, ct, place),
        _ => {
            let mut sid = info.child().unwrap_or(CTypeId::NONE);
            let mut place = place;
            if let Kind::Ptr { to, reference: true } = cts(vm).get(sid).info.kind {
                let psz = ptr_size(vm, sid);
                place = Place::Addr(read_ptr(vm, place, psz)?);
                sid = to;
            }
            let (s, _) = strip_attrs(vm, sid);
            ct_tv(vm, s, sid, place)
        }
    }
}

#[cold]
fn const_error(vm: &mut Vm) -> LuaError {
    vm.rt_error("attempt to write to constant location")
}

/// Stores into the element an [`Indexed`] designates (LuaJIT's `lj_cdata_set`).
fn cdata_set(vm: &mut Vm, ct: CTypeId, place: Place, v: Value, qual: Qual) -> LResult<()> {
    let info = cts(vm).get(ct).info;
    match info.kind {
        Kind::ConstVal { .. } => Err(const_error(vm)),
        Kind::Bitfield { .. } => {
            if info.qual.union(qual).is_const() {
                return Err(const_error(vm));
            }
            super::conv::bf_tv(vm, ct, place, v)
        }
        _ => {
            let mut d = info.child().unwrap_or(CTypeId::NONE);
            let mut place = place;
            if let Kind::Ptr { to, reference: true } = cts(vm).get(d).info.kind {
                let psz = ptr_size(vm, d);
                place = Place::Addr(read_ptr(vm, place, psz)?);
                d = to;
            }
            let (d, q) = strip_attrs(vm, d);
            let dinfo = cts(vm).get(d).info;
            if dinfo.qual.union(qual).union(q).is_const() {
                return Err(const_error(vm));
            }
            if !dinfo.has_size() || cts(vm).get(d).size == SIZE_INVALID && !dinfo.is_array() {
                return Err(const_error(vm));
            }
            tv_ct(vm, d, place, v, 0)
        }
    }
}

/// A failed lookup: the metatype's `__index`/`__newindex`, else the error.
fn index_meta(vm: &mut Vm, ct: CTypeId, e: MetaEvent, obj: Value, key: Value, val: Value) -> LResult<usize> {
    let h = ctype_meta(vm, ct, e);
    let err = |vm: &mut Vm| -> LuaError {
        let s = repr(vm, ct);
        if let Some(k) = key.as_string() {
            let k = k.to_str_lossy().into_owned();
            vm.rt_error(&format!("'{s}' has no member named '{k}'"))
        } else {
            let k = match key.as_cdata() {
                Some(c) => repr(vm, CTypeId(c.ctype())),
                None => key.type_name().to_string(),
            };
            vm.rt_error(&format!("'{s}' cannot be indexed with '{k}'"))
        }
    };
    if h.is_nil() {
        return Err(err(vm));
    }
    if !h.is_function() {
        if e == MetaEvent::Index {
            let r = vm.index_value(h, key)?;
            if r.is_nil() {
                return Err(err(vm));
            }
            vm.push(r);
            return Ok(1);
        }
        vm.set_value(h, key, val)?;
        return Ok(0);
    }
    if e == MetaEvent::Index {
        call_handler(vm, h, &[obj, key], 1)
    } else {
        vm.call_value(h, &[obj, key, val], 0)?;
        Ok(0)
    }
}

fn mm_index(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let o = vm.arg(base, nargs, 0);
    let Some(cd) = o.as_cdata().filter(|_| nargs >= 2) else {
        return Err(vm.type_arg_error(base, nargs, 0, "cdata"));
    };
    let key = vm.arg(base, nargs, 1);
    let ix = cdata_index(vm, cd, key)?;
    if ix.failed {
        return index_meta(vm, ix.ct, MetaEvent::Index, o, key, Value::NIL);
    }
    let v = cdata_get(vm, ix.ct, ix.place)?;
    vm.push(v);
    Ok(1)
}

fn mm_newindex(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let o = vm.arg(base, nargs, 0);
    let Some(cd) = o.as_cdata().filter(|_| nargs >= 3) else {
        return Err(vm.type_arg_error(base, nargs, 0, "cdata"));
    };
    let key = vm.arg(base, nargs, 1);
    let val = vm.arg(base, nargs, 2);
    let ix = cdata_index(vm, cd, key)?;
    if ix.failed {
        if ix.qual.is_const() {
            return Err(const_error(vm));
        }
        return index_meta(vm, ix.ct, MetaEvent::NewIndex, o, key, val);
    }
    cdata_set(vm, ix.ct, ix.place, val, ix.qual)?;
    Ok(0)
}

// ----- Arithmetic and comparison --------------------------------------------------

/// An operand of a cdata operator (LuaJIT's `carith_checkarg`).
struct Opnd {
    /// Its C type (raw, enums resolved); `None` for values that do not convert.
    ct: Option<CTypeId>,
    src: Src,
    /// The pointer it stands for (pointer value, address of the data), used for
    /// pointer arithmetic and for the identity comparison of `==`.
    p: usize,
    /// A pointer value to hand out (arrays: their registered address).
    decay: Option<Place>,
}

fn operands(vm: &mut Vm, a: Value, b: Value) -> LResult<(bool, [Opnd; 2])> {
    let mut ok = true;
    let mut ops: [Opnd; 2] = [
        Opnd { ct: None, src: Src::Local(vec![]), p: 1, decay: None },
        Opnd { ct: None, src: Src::Local(vec![]), p: 1, decay: None },
    ];
    let vals = [a, b];
    let mut i = 0;
    while i < 2 {
        let o = vals[i];
        if let Some(cd) = o.as_cdata() {
            let id = CTypeId(cd.ctype());
            let mut ct = cts(vm).raw(id);
            let place = Place::Obj(cd, 0);
            let info = cts(vm).get(ct).info;
            let mut src = Src::At(place);
            let mut p = place.raw_addr();
            let mut decay = Some(place);
            if info.is_ptr() {
                let psz = cts(vm).get(ct).size;
                let pv = read_ptr(vm, place, psz)?;
                p = pv;
                decay = None;
                if info.is_ref() {
                    ct = cts(vm).raw_child(ct);
                    src = Src::At(Place::Addr(pv));
                    decay = Some(Place::Addr(pv));
                }
            } else if info.is_func() {
                let pv = read_ptr(vm, place, 8)?;
                p = pv;
                ct = ptr_type(vm, id, false)?;
                src = Src::Local(ptr_bytes(pv, 8));
                decay = None;
            }
            ct = resolve_enum(vm, ct);
            ops[i] = Opnd { ct: Some(ct), src, p, decay };
        } else if o.is_number() {
            ops[i] = Opnd {
                ct: Some(CTypeId::DOUBLE),
                src: Src::Local(o.num().to_le_bytes().to_vec()),
                p: 2 + i,
                decay: None,
            };
        } else if o.is_nil() {
            ops[i] = Opnd { ct: Some(CTypeId::P_VOID), src: Src::Local(vec![0; 8]), p: 0, decay: None };
        } else if let Some(s) = o.as_string() {
            ok = false;
            ops[i] = Opnd { ct: None, src: Src::Str(s), p: s.padded_bytes()[1..].as_ptr() as usize, decay: None };
            if let Some(ocd) = vals[1 - i].as_cdata() {
                let oct = cts(vm).raw(CTypeId(ocd.ctype()));
                if cts(vm).get(oct).info.is_enum() {
                    let f = cts(vm).get_field(oct, s.as_bytes());
                    match f {
                        Some((fid, _, _)) if cts(vm).get(fid).info.is_constval() => {
                            let e = cts(vm).get(fid);
                            let val = e.size;
                            let ty = e.info.child().unwrap_or(CTypeId::INT32);
                            let ty = cts(vm).raw(ty);
                            ops[i] =
                                Opnd { ct: Some(ty), src: Src::Local(val.to_le_bytes().to_vec()), p: 3, decay: None };
                            ok = true;
                        }
                        _ => {
                            // Use the enum for a better message.
                            ops[1 - i] = Opnd { ct: Some(oct), src: Src::Local(vec![]), p: 0, decay: None };
                            break;
                        }
                    }
                }
            }
        } else {
            ok = false;
        }
        i += 1;
    }
    Ok((ok, ops))
}

fn to_u64(vm: &mut Vm, id: CTypeId, op: &Opnd) -> LResult<u64> {
    let ct = op.ct.unwrap_or(CTypeId::INT32);
    match ct_ct(vm, id, ct, &op.src, 0)? {
        Out::Bytes(b) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[..8]);
            Ok(u64::from_le_bytes(w))
        }
        Out::Copy(..) => Ok(0),
    }
}

fn int64_arith(vm: &mut Vm, e: MetaEvent, ops: &[Opnd; 2]) -> LResult<Option<Value>> {
    let (Some(c0), Some(c1)) = (ops[0].ct, ops[1].ct) else { return Ok(None) };
    let (i0, s0) = (cts(vm).get(c0).info, cts(vm).get(c0).size);
    let (i1, s1) = (cts(vm).get(c1).info, cts(vm).get(c1).size);
    if !(i0.is_num() && s0 <= 8 && i1.is_num() && s1 <= 8) {
        return Ok(None);
    }
    let unsigned = (i0.is_unsigned() && s0 == 8) || (i1.is_unsigned() && s1 == 8);
    let id = if unsigned { CTypeId::UINT64 } else { CTypeId::INT64 };
    let u0 = to_u64(vm, id, &ops[0])?;
    let u1 = if e == MetaEvent::Unm { 0 } else { to_u64(vm, id, &ops[1])? };
    let r = match e {
        MetaEvent::Eq => return Ok(Some(Value::boolean(u0 == u1))),
        MetaEvent::Lt => {
            return Ok(Some(Value::boolean(if unsigned { u0 < u1 } else { (u0 as i64) < (u1 as i64) })));
        }
        MetaEvent::Le => {
            return Ok(Some(Value::boolean(if unsigned { u0 <= u1 } else { (u0 as i64) <= (u1 as i64) })));
        }
        MetaEvent::Add => u0.wrapping_add(u1),
        MetaEvent::Sub => u0.wrapping_sub(u1),
        MetaEvent::Mul => u0.wrapping_mul(u1),
        MetaEvent::Div => {
            if unsigned {
                divu64(u0, u1)
            } else {
                divi64(u0 as i64, u1 as i64) as u64
            }
        }
        MetaEvent::Mod => {
            if unsigned {
                modu64(u0, u1)
            } else {
                modi64(u0 as i64, u1 as i64) as u64
            }
        }
        MetaEvent::Pow => {
            if unsigned {
                powu64(u0, u1)
            } else {
                powi64(u0 as i64, u1 as i64) as u64
            }
        }
        MetaEvent::Unm => (!u0).wrapping_add(1),
        _ => return Ok(None),
    };
    let c = new_cdata_bytes(vm, id, &r.to_le_bytes())?;
    Ok(Some(c.to_value()))
}

/// 64-bit division, as LuaJIT: by zero gives the minimum value, as does the
/// overflowing `INT64_MIN / -1`.
pub fn divi64(a: i64, b: i64) -> i64 {
    if b == 0 || (a == i64::MIN && b == -1) {
        return i64::MIN;
    }
    a / b
}

pub fn divu64(a: u64, b: u64) -> u64 {
    if b == 0 {
        return 1 << 63;
    }
    a / b
}

/// 64-bit modulo (C's: the sign of the dividend), by zero the minimum value.
pub fn modi64(a: i64, b: i64) -> i64 {
    if b == 0 {
        return i64::MIN;
    }
    if a == i64::MIN && b == -1 {
        return 0;
    }
    a % b
}

pub fn modu64(a: u64, b: u64) -> u64 {
    if b == 0 {
        return 1 << 63;
    }
    a % b
}

pub fn powu64(x: u64, k: u64) -> u64 {
    let (mut x, mut k) = (x, k);
    if k == 0 {
        return 1;
    }
    while k & 1 == 0 {
        x = x.wrapping_mul(x);
        k >>= 1;
    }
    let mut y = x;
    k >>= 1;
    if k != 0 {
        loop {
            x = x.wrapping_mul(x);
            if k == 1 {
                break;
            }
            if k & 1 != 0 {
                y = y.wrapping_mul(x);
            }
            k >>= 1;
        }
        y = y.wrapping_mul(x);
    }
    y
}

pub fn powi64(x: i64, k: i64) -> i64 {
    if k == 0 {
        return 1;
    }
    if k < 0 {
        return match x {
            0 => i64::MAX,
            1 => 1,
            -1 => {
                if k & 1 != 0 {
                    -1
                } else {
                    1
                }
            }
            _ => 0,
        };
    }
    powu64(x as u64, k as u64) as i64
}

fn ptr_value(vm: &mut Vm, op: &Opnd) -> usize {
    match op.decay {
        Some(p) => addr_of(vm, p),
        None => op.p,
    }
}

fn ptr_arith(vm: &mut Vm, e: MetaEvent, ops: &[Opnd; 2]) -> LResult<Option<Value>> {
    let (Some(c0), Some(c1)) = (ops[0].ct, ops[1].ct) else { return Ok(None) };
    let i0 = cts(vm).get(c0).info;
    let i1 = cts(vm).get(c1).info;
    let is_ptrlike = |i: &super::Info| i.is_ptr() || i.is_refarray();
    let (ctp, pp, idx): (CTypeId, usize, i64);
    if is_ptrlike(&i0) {
        if matches!(e, MetaEvent::Sub | MetaEvent::Eq | MetaEvent::Lt | MetaEvent::Le) && is_ptrlike(&i1) {
            let (p0, p1) = (ops[0].p, ops[1].p);
            let (p0, p1) = (
                if ops[0].decay.is_some() { ops[0].decay.map_or(p0, Place::raw_addr) } else { p0 },
                if ops[1].decay.is_some() { ops[1].decay.map_or(p1, Place::raw_addr) } else { p1 },
            );
            if e == MetaEvent::Eq {
                return Ok(Some(Value::boolean(p0 == p1)));
            }
            if !compat_ptr(vm, c0, c1, CCF_IGNQUAL) {
                return Ok(None);
            }
            return Ok(Some(match e {
                MetaEvent::Sub => {
                    let child = i0.child().unwrap_or(CTypeId::NONE);
                    let sz = match cts(vm).size_of(child) {
                        Some(s) if s != 0 => s,
                        _ => return Ok(None),
                    };
                    let diff = (p0 as isize).wrapping_sub(p1 as isize) / (sz as i32 as isize);
                    Value::number(diff as f64)
                }
                MetaEvent::Lt => Value::boolean(p0 < p1),
                _ => Value::boolean(p0 <= p1),
            }));
        }
        if !(matches!(e, MetaEvent::Add | MetaEvent::Sub) && i1.is_num()) {
            return Ok(None);
        }
        let mut i = to_u64(vm, CTypeId::INT64, &ops[1])? as i64;
        if e == MetaEvent::Sub {
            i = i.wrapping_neg();
        }
        ctp = c0;
        pp = ptr_value(vm, &ops[0]);
        idx = i;
    } else if e == MetaEvent::Add && i0.is_num() && is_ptrlike(&i1) {
        ctp = c1;
        pp = ptr_value(vm, &ops[1]);
        idx = to_u64(vm, CTypeId::INT64, &ops[0])? as i64;
    } else {
        return Ok(None);
    }
    let child = cts(vm).get(ctp).info.child().unwrap_or(CTypeId::NONE);
    let Some(sz) = cts(vm).size_of(child) else { return Ok(None) };
    let np = pp.wrapping_add(idx.wrapping_mul(i64::from(sz as i32)) as usize);
    let pid = ptr_type(vm, child, false)?;
    let psz = cts(vm).get(pid).size;
    let c = new_cdata_bytes(vm, pid, &ptr_bytes(np, psz))?;
    Ok(Some(c.to_value()))
}

/// The operators on cdata (LuaJIT's `lj_carith_op`).
fn arith(vm: &mut Vm, base: usize, nargs: usize, e: MetaEvent) -> LResult<usize> {
    if nargs < 2 {
        return Err(vm.type_arg_error(base, nargs, 0, "cdata"));
    }
    let (a, b) = (vm.arg(base, nargs, 0), vm.arg(base, nargs, 1));
    let (ok, ops) = operands(vm, a, b)?;
    if ok && e != MetaEvent::Len && e != MetaEvent::Concat {
        let r = match int64_arith(vm, e, &ops)? {
            Some(r) => Some(r),
            None => ptr_arith(vm, e, &ops)?,
        };
        if let Some(r) = r {
            vm.push(r);
            return Ok(1);
        }
    }
    // Metatype handlers, of the first cdata operand, else the second.
    let mut h = Value::NIL;
    for v in [a, b] {
        if let Some(cd) = v.as_cdata() {
            let mut id = CTypeId(cd.ctype());
            let raw = cts(vm).raw(id);
            if let Kind::Ptr { to, .. } = cts(vm).get(raw).info.kind {
                id = to;
            }
            h = ctype_meta(vm, id, e);
            if !h.is_nil() {
                break;
            }
        }
    }
    if !h.is_nil() {
        return call_handler(vm, h, &[a, b], 1);
    }
    if e == MetaEvent::Eq {
        let eq = ops[0].p == ops[1].p;
        vm.push(Value::boolean(eq));
        return Ok(1);
    }
    let mut names = [String::new(), String::new()];
    let (mut isenum, mut isstr) = (-1i32, -1i32);
    for (i, v) in [a, b].into_iter().enumerate() {
        match ops[i].ct {
            Some(ct) if v.is_cdata() => {
                if cts(vm).get(ct).info.is_enum() {
                    isenum = i as i32;
                }
                names[i] = repr(vm, ct);
            }
            _ => {
                if v.is_string() {
                    isstr = i as i32;
                }
                names[i] = v.type_name().to_string();
            }
        }
    }
    if (isenum ^ isstr) == 1 {
        let (s, en) = (&names[isstr as usize], &names[isenum as usize]);
        let msg = format!("cannot convert '{s}' to '{en}'");
        return Err(vm.rt_error(&msg));
    }
    let msg = match e {
        MetaEvent::Len => format!("attempt to get length of '{}'", names[0]),
        MetaEvent::Concat => format!("attempt to concatenate '{}' and '{}'", names[0], names[1]),
        MetaEvent::Eq | MetaEvent::Lt | MetaEvent::Le => {
            format!("attempt to compare '{}' with '{}'", names[0], names[1])
        }
        _ => format!("attempt to perform arithmetic on '{}' and '{}'", names[0], names[1]),
    };
    Err(vm.rt_error(&msg))
}

macro_rules! arith_mm {
    ($($name:ident => $e:ident),*) => {
        $(fn $name(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
            arith(vm, base, nargs, MetaEvent::$e)
        })*
    };
}
arith_mm!(mm_eq => Eq, mm_len => Len, mm_lt => Lt, mm_le => Le, mm_concat => Concat, mm_add => Add,
    mm_sub => Sub, mm_mul => Mul, mm_div => Div, mm_mod => Mod, mm_pow => Pow, mm_unm => Unm);

fn pairs_mm(vm: &mut Vm, base: usize, nargs: usize, e: MetaEvent) -> LResult<usize> {
    let cd = check_cdata(vm, base, nargs, 0)?;
    let mut id = CTypeId(cd.ctype());
    let raw = cts(vm).raw(id);
    if let Kind::Ptr { to, .. } = cts(vm).get(raw).info.kind {
        id = to;
    }
    let h = ctype_meta(vm, id, e);
    if h.is_nil() {
        let r = repr(vm, id);
        return Err(vm.rt_error(&format!("'{r}' has no '{}' metamethod", e.name())));
    }
    let args: Vec<Value> = (0..nargs).map(|i| vm.arg(base, nargs, i)).collect();
    call_handler(vm, h, &args, -1)
}

fn mm_pairs(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    pairs_mm(vm, base, nargs, MetaEvent::Pairs)
}

fn mm_ipairs(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    pairs_mm(vm, base, nargs, MetaEvent::Ipairs)
}

// ----- tostring / tonumber --------------------------------------------------------

/// `tostring` of a 64-bit integer cdata: `1LL`, `18446744073709551615ULL`.
pub fn int64_repr(v: u64, unsigned: bool) -> String {
    if unsigned {
        format!("{v}ULL")
    } else {
        format!("{}LL", v as i64)
    }
}

/// `tostring` of a complex number: `1+2i`, `0-1.5i`.
pub fn complex_repr(re: f64, im: f64) -> Vec<u8> {
    let mut out = Vec::new();
    crate::number::fmt_number(re, &mut out);
    if !im.is_sign_negative() || im.is_nan() {
        out.push(b'+');
    }
    crate::number::fmt_number(im, &mut out);
    let last = out.last().copied().unwrap_or(b'0');
    out.push(if last >= b'a' { b'I' } else { b'i' });
    out
}

fn fmt_ptr(p: usize) -> String {
    if p == 0 {
        "NULL".to_string()
    } else {
        format!("{p:#x}")
    }
}

fn mm_tostring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let cd = check_cdata(vm, base, nargs, 0)?;
    let id = CTypeId(cd.ctype());
    if id == CTypeId::CTYPEID {
        let r = repr(vm, CTypeId(cd.word() as u32));
        let s = vm.str_value(format!("ctype<{r}>").as_bytes());
        vm.push(s);
        return Ok(1);
    }
    let mut ct = cts(vm).raw(id);
    let mut p = cd.payload_addr();
    let mut place = Place::Obj(cd, 0);
    if cts(vm).get(ct).info.is_ref() {
        let psz = ptr_size(vm, ct);
        p = read_ptr(vm, place, psz)?;
        place = Place::Addr(p);
        ct = cts(vm).raw_child(ct);
    }
    let info = cts(vm).get(ct).info;
    let size = cts(vm).get(ct).size;
    let text: Vec<u8> = if info.is_complex() {
        let mut b = vec![0u8; size as usize];
        read(vm, place, &mut b)?;
        let (re, im) = if size == 16 {
            (
                f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
                f64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8])),
            )
        } else {
            (
                f64::from(f32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4]))),
                f64::from(f32::from_le_bytes(b[4..8].try_into().unwrap_or([0; 4]))),
            )
        };
        complex_repr(re, im)
    } else if size == 8 && info.is_integer() {
        let mut b = [0u8; 8];
        read(vm, place, &mut b)?;
        int64_repr(u64::from_le_bytes(b), info.is_unsigned()).into_bytes()
    } else if info.is_enum() {
        let mut b = [0u8; 4];
        read(vm, place, &mut b)?;
        let r = repr(vm, id);
        format!("cdata<{r}>: {}", i32::from_le_bytes(b)).into_bytes()
    } else {
        if info.is_func() {
            p = read_ptr(vm, Place::Obj(cd, 0), 8)?;
        } else {
            let mut ct2 = ct;
            if info.is_ptr() {
                let psz = ptr_size(vm, ct);
                p = read_ptr(vm, place, psz)?;
                ct2 = cts(vm).raw_child(ct);
            }
            let i2 = cts(vm).get(ct2).info;
            if i2.is_struct() || i2.is_vector() {
                let h = ctype_meta(vm, ct2, MetaEvent::Tostring);
                if !h.is_nil() {
                    return call_handler(vm, h, &[cd.to_value()], 1);
                }
            }
        }
        let r = repr(vm, id);
        format!("cdata<{r}>: {}", fmt_ptr(p)).into_bytes()
    };
    let s = vm.str_value(&text);
    vm.push(s);
    Ok(1)
}

/// `tonumber(cdata)`: numbers (and enums, and complex numbers' real parts) as a
/// Lua number; `None` for other cdata.
pub fn tonumber(vm: &mut Vm, v: Value) -> LResult<Option<f64>> {
    let Some(cd) = v.as_cdata() else { return Ok(None) };
    if st_level_off(vm) {
        return Ok(None);
    }
    let mut place = Place::Obj(cd, 0);
    let id = CTypeId(cd.ctype());
    let rid = cts(vm).raw(id);
    let mut ct = rid;
    if let Kind::Ptr { to, reference: true } = cts(vm).get(rid).info.kind {
        let psz = ptr_size(vm, rid);
        place = Place::Addr(read_ptr(vm, place, psz)?);
        ct = cts(vm).raw(to);
    }
    let ct = resolve_enum(vm, ct);
    let info = cts(vm).get(ct).info;
    if info.is_num() || info.is_complex() {
        if let Out::Bytes(b) = ct_ct(vm, CTypeId::DOUBLE, ct, &Src::At(place), 0)? {
            return Ok(Some(f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]))));
        }
    }
    Ok(None)
}

fn st_level_off(vm: &Vm) -> bool {
    level(vm) == FfiLevel::Off
}

/// A cdata integer as a 64-bit value for `bit.*` and `string.format`: `Some((bits,
/// unsigned))` for cdata numbers (converted to `int64_t`, or `uint64_t` for
/// unsigned 64-bit ones), `None` for anything else.
pub fn int64_of(vm: &mut Vm, v: Value, arg: usize) -> LResult<Option<(u64, bool)>> {
    let Some(cd) = v.as_cdata() else { return Ok(None) };
    if st_level_off(vm) {
        return Ok(None);
    }
    let mut place = Place::Obj(cd, 0);
    let rid = cts(vm).raw(CTypeId(cd.ctype()));
    let mut ct = rid;
    if let Kind::Ptr { to, reference: true } = cts(vm).get(rid).info.kind {
        let psz = ptr_size(vm, rid);
        place = Place::Addr(read_ptr(vm, place, psz)?);
        ct = cts(vm).raw(to);
    }
    let ct = resolve_enum(vm, ct);
    let (info, size) = (cts(vm).get(ct).info, cts(vm).get(ct).size);
    let unsigned = info.is_integer() && info.is_unsigned() && size == 8;
    let id = if unsigned { CTypeId::UINT64 } else { CTypeId::INT64 };
    let flags = if arg > 0 { ccf_arg(arg) } else { 0 };
    match ct_ct(vm, id, ct, &Src::At(place), flags)? {
        Out::Bytes(b) => Ok(Some((u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])), unsigned))),
        Out::Copy(..) => Ok(None),
    }
}

/// A new `int64_t` (or `uint64_t`) cdata.
pub fn new_int64(vm: &mut Vm, v: u64, unsigned: bool) -> LResult<Value> {
    let id = if unsigned { CTypeId::UINT64 } else { CTypeId::INT64 };
    Ok(new_cdata_bytes(vm, id, &v.to_le_bytes())?.to_value())
}

// ----- Calls and constructors -----------------------------------------------------

fn mm_call(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let cd = check_cdata(vm, base, nargs, 0)?;
    let mut id = CTypeId(cd.ctype());
    let mut e = MetaEvent::Call;
    if id == CTypeId::CTYPEID {
        id = CTypeId(cd.word() as u32);
        e = MetaEvent::Index; // stands for __new below
    } else if let Some(n) = ccall(vm, cd, base, nargs)? {
        return Ok(n);
    }
    let raw = cts(vm).raw(id);
    if let Kind::Ptr { to, .. } = cts(vm).get(raw).info.kind {
        id = to;
    }
    let h = if e == MetaEvent::Call { ctype_meta(vm, id, MetaEvent::Call) } else { ctype_meta_named(vm, id, "__new") };
    if !h.is_nil() {
        let args: Vec<Value> = (0..nargs).map(|i| vm.arg(base, nargs, i)).collect();
        return call_handler(vm, h, &args, -1);
    }
    if e == MetaEvent::Call {
        let r = repr(vm, id);
        return Err(vm.rt_error(&format!("'{r}' is not callable")));
    }
    let vals: Vec<Value> = (1..nargs).map(|i| vm.arg(base, nargs, i)).collect();
    let ctv = CTypeId(cd.word() as u32);
    let c = new_of(vm, ctv, &vals, Some(base + 1))?;
    vm.push(c.to_value());
    Ok(1)
}

/// A metatype handler looked up by name (for `__new`, which is no VM event).
fn ctype_meta_named(vm: &mut Vm, id: CTypeId, name: &str) -> Value {
    let id = cts(vm).raw_ref(id);
    match st(vm).metatypes.get(&id).copied() {
        Some(t) => {
            let k = vm.intern(name.as_bytes());
            t.get_str(k)
        }
        None => Value::NIL,
    }
}

/// `ffi.new(id, vals...)`. `vla_arg`: where the element count of a variable-length
/// type is, for its error message (the first value otherwise).
fn new_of(vm: &mut Vm, id: CTypeId, vals: &[Value], _vla_arg: Option<usize>) -> LResult<GcRef<CData>> {
    let ct = cts(vm).raw(id);
    let (info, mut sz) = type_info(vm, id);
    let mut vals = vals;
    if info.is_vltype() {
        let Some(&n) = vals.first() else {
            return Err(vm.arg_error(2, "value expected"));
        };
        let b = tv_bytes(vm, CTypeId::INT32, n, ccf_arg(2))?;
        let n = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        vals = &vals[1..];
        sz = cts(vm).vl_size(ct, n as u32).unwrap_or(SIZE_INVALID);
    }
    if sz == SIZE_INVALID {
        return Err(vm.arg_error(1, "size of C type is unknown or too large"));
    }
    let align = 1usize << info.align.min(12);
    let cd = new_cdata(vm, id, sz as usize, align)?;
    ct_init(vm, ct, sz, Place::Obj(cd, 0), vals)?;
    if cts(vm).get(ct).info.is_struct() {
        let h = ctype_meta(vm, ct, MetaEvent::Gc);
        if !h.is_nil() {
            cd.set_finalizer(h);
            vm.track_finalizer(cd);
        }
    }
    Ok(cd)
}

// ----- The module functions --------------------------------------------------------

fn ffi_cdef(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let ps: Vec<Param> =
        (1..nargs).map(|i| vm.arg(base, nargs, i)).collect::<Vec<_>>().into_iter().map(|v| param_of(vm, v)).collect();
    let src = s.as_bytes().to_vec();
    match cts(vm).cdef(&src, &ps) {
        Ok(()) => Ok(0),
        Err(e) => Err(parse_error(vm, e, base, nargs, 1)),
    }
}

fn ffi_new(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, false)?;
    let vals: Vec<Value> = (1..nargs).map(|i| vm.arg(base, nargs, i)).collect();
    let cd = new_of(vm, id, &vals, Some(1))?;
    vm.push(cd.to_value());
    Ok(1)
}

fn ffi_cast(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, false)?;
    let d = cts(vm).raw(id);
    let v = vm.check_any(base, nargs, 1)?;
    let info = cts(vm).get(d).info;
    if !(info.is_num() || info.is_ptr() || info.is_enum()) {
        return Err(vm.arg_error(1, "invalid C type"));
    }
    if v.as_cdata().is_some_and(|c| c.ctype() == id.0) {
        vm.push(v);
        return Ok(1);
    }
    let size = cts(vm).get(d).size;
    let align = 1usize << info.align.min(12);
    let cd = new_cdata(vm, id, size as usize, align)?;
    tv_ct(vm, d, Place::Obj(cd, 0), v, CCF_CAST)?;
    vm.push(cd.to_value());
    Ok(1)
}

fn new_ctype(vm: &mut Vm, id: CTypeId) -> LResult<Value> {
    Ok(new_cdata_bytes(vm, CTypeId::CTYPEID, &id.0.to_le_bytes())?.to_value())
}

fn ffi_typeof(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, true)?;
    let c = new_ctype(vm, id)?;
    vm.push(c);
    Ok(1)
}

/// `ffi.typeinfo(id)`: entry `id` of the type table as `{info, size, sib, name}`
/// (`info` packed as LuaJIT packs it, see `CTState::packed_info`; `size` absent when
/// invalid, `sib` when 0, `name` when anonymous), or nothing for an id out of range.
fn ffi_typeinfo(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_int(vm, base, nargs, 0)?;
    let Ok(id) = u32::try_from(id) else { return Ok(0) };
    if id == 0 || id as usize >= cts(vm).len() {
        return Ok(0);
    }
    let id = CTypeId(id);
    let info = cts(vm).packed_info(id);
    let ct = cts(vm).get(id);
    let (size, sib, name) = (ct.size, ct.sib, ct.name.clone());
    let t = vm.new_table(0, 4);
    vm.set_field(t, "info", Value::number(f64::from(info as i32)));
    if size != super::ctype::SIZE_INVALID {
        vm.set_field(t, "size", Value::number(f64::from(size as i32)));
    }
    if sib != CTypeId::NONE {
        vm.set_field(t, "sib", Value::number(f64::from(sib.0)));
    }
    if let Some(n) = name {
        let s = vm.str_value(&n);
        vm.set_field(t, "name", s);
    }
    vm.push(t.to_value());
    Ok(1)
}

fn ffi_istype(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id1 = check_ctype(vm, base, nargs, false)?;
    let o = vm.check_any(base, nargs, 1)?;
    let mut b = false;
    if let Some(cd) = o.as_cdata() {
        let id2 = ctype_of(vm, cd);
        let c1 = cts(vm).raw_ref(id1);
        let c2 = cts(vm).raw_ref(id2);
        let (i1, s1) = (cts(vm).get(c1).info, cts(vm).get(c1).size);
        let (i2, s2) = (cts(vm).get(c2).info, cts(vm).get(c2).size);
        if c1 == c2 {
            b = true;
        } else if i1.kind.num() == i2.kind.num() && s1 == s2 {
            if i1.is_pointer() {
                b = compat_ptr(vm, c1, c2, CCF_IGNQUAL);
            } else if let (Kind::Num { flags: f1 }, Kind::Num { flags: f2 }) = (i1.kind, i2.kind) {
                use super::NumFlags;
                b = (f1.0 ^ f2.0) & !NumFlags::LONG == 0;
            } else if i1.is_void() {
                b = true;
            }
        } else if i1.is_struct() && i2.is_ptr() && c1 == cts(vm).raw_child(c2) {
            b = true;
        }
    }
    vm.push(Value::boolean(b));
    Ok(1)
}

fn ffi_sizeof(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, false)?;
    let first = vm.arg(base, nargs, 0);
    let ct = cts(vm).raw_ref(id);
    let info = cts(vm).get(ct).info;
    if let Some(cd) = first.as_cdata() {
        if cd.ctype() != CTypeId::CTYPEID.0 && info.is_vltype() {
            vm.push(Value::number(cd.len() as f64));
            return Ok(1);
        }
    }
    let sz = if info.is_vltype() {
        let n = check_int(vm, base, nargs, 1)?;
        cts(vm).vl_size(ct, n as u32)
    } else {
        match cts(vm).sizeof(ct, None) {
            SizeOf::Size(s) => Some(s),
            _ => None,
        }
    };
    match sz {
        Some(s) => vm.push(Value::number(f64::from(s))),
        None => vm.push(Value::NIL),
    }
    Ok(1)
}

fn ffi_alignof(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, false)?;
    let a = cts(vm).align_of(id);
    vm.push(Value::number(f64::from(a)));
    Ok(1)
}

fn ffi_offsetof(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, false)?;
    let name = vm.check_str(base, nargs, 1)?;
    let name = name.as_bytes().to_vec();
    match cts(vm).offset_of(id, &name) {
        Some((ofs, None)) => {
            vm.push(Value::number(f64::from(ofs)));
            Ok(1)
        }
        Some((ofs, Some((pos, bsz)))) => {
            vm.push(Value::number(f64::from(ofs)));
            vm.push(Value::number(f64::from(pos)));
            vm.push(Value::number(f64::from(bsz)));
            Ok(3)
        }
        None => Ok(0),
    }
}

fn ffi_errno(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let calls = st(vm).level == FfiLevel::Calls;
    let old = st(vm).errno;
    if nargs > 0 {
        let n = check_int(vm, base, nargs, 0)?;
        st(vm).errno = n;
        if calls {
            call::set_errno(n);
        }
    }
    vm.push(Value::number(f64::from(old)));
    Ok(1)
}

fn ffi_string(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let o = vm.check_any(base, nargs, 0)?;
    let lenv = vm.arg(base, nargs, 1);
    // Arrays and strings are read through their objects, where the bounds are known.
    let (p, len) = if !lenv.is_nil() {
        let len = check_int(vm, base, nargs, 1)?;
        if let Some(s) = o.as_string() {
            let n = (len.max(0) as usize).min(s.len());
            let bytes = s.as_bytes()[..n].to_vec();
            let r = vm.str_value(&bytes);
            vm.push(r);
            return Ok(1);
        }
        let p = check_ptr(vm, base, nargs, 0, CTypeId::P_CVOID)?;
        (p, len.max(0) as usize)
    } else {
        if let Some(s) = o.as_string() {
            let n = s.as_bytes().iter().position(|&b| b == 0).unwrap_or(s.len());
            let bytes = s.as_bytes()[..n].to_vec();
            let r = vm.str_value(&bytes);
            vm.push(r);
            return Ok(1);
        }
        let p = check_ptr(vm, base, nargs, 0, CTypeId::P_CCHAR)?;
        let access = st(vm).access;
        let n = mem::strlen(vm, access, p).map_err(|e| mem_error(vm, e))?;
        (p, n)
    };
    if len > crate::vm::MAX_STR_LEN {
        return Err(vm.rt_error("string length overflow"));
    }
    vm.check_mem(len)?;
    let mut buf = Vec::new();
    if buf.try_reserve_exact(len).is_err() {
        return Err(vm.mem_error());
    }
    buf.resize(len, 0);
    read(vm, Place::Addr(p), &mut buf)?;
    let r = vm.str_value(&buf);
    vm.push(r);
    Ok(1)
}

fn ffi_copy(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let dp = check_ptr(vm, base, nargs, 0, CTypeId::P_VOID)?;
    let src = vm.arg(base, nargs, 1);
    if let Some(s) = src.as_string() {
        let len = if nargs < 3 { s.len() + 1 } else { check_int(vm, base, nargs, 2)?.max(0) as usize };
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        if len > b.len() {
            // Reading past the Lua string: through its address, as LuaJIT does.
            if st(vm).level != FfiLevel::Calls {
                return Err(mem_error(vm, mem::MemError::OutOfBounds));
            }
            let sp = s.padded_bytes()[1..].as_ptr() as usize;
            let access = st(vm).access;
            return mem::copy(vm, access, dp, sp, len).map(|_| 0).map_err(|e| mem_error(vm, e));
        }
        b.truncate(len);
        super::conv::write(vm, Place::Addr(dp), &b)?;
        return Ok(0);
    }
    let sp = check_ptr(vm, base, nargs, 1, CTypeId::P_CVOID)?;
    let len = check_int(vm, base, nargs, 2)?.max(0) as usize;
    let access = st(vm).access;
    mem::copy(vm, access, dp, sp, len).map_err(|e| mem_error(vm, e))?;
    Ok(0)
}

fn ffi_fill(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let dp = check_ptr(vm, base, nargs, 0, CTypeId::P_VOID)?;
    let len = check_int(vm, base, nargs, 1)?.max(0) as usize;
    let c = if vm.arg(base, nargs, 2).is_nil() { 0 } else { check_int(vm, base, nargs, 2)? };
    let access = st(vm).access;
    mem::fill(vm, access, dp, len, c as u8).map_err(|e| mem_error(vm, e))?;
    Ok(0)
}

fn ffi_abi(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let wide = cfg!(target_pointer_width = "64");
    let b = matches!(
        (s.as_bytes(), wide),
        (b"64bit", true) | (b"32bit", false) | (b"fpu", _) | (b"hardfp", _) | (b"le", _) | (b"gc64", true)
    );
    vm.push(Value::boolean(b));
    Ok(1)
}

fn ffi_metatype(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let id = check_ctype(vm, base, nargs, false)?;
    let mt = vm.check_table(base, nargs, 1)?;
    let ct = cts(vm).raw(id);
    let info = cts(vm).get(ct).info;
    if !(info.is_struct() || info.is_complex() || info.is_vector()) {
        return Err(vm.arg_error(1, "invalid C type"));
    }
    if st(vm).metatypes.contains_key(&ct) {
        return Err(vm.rt_error("cannot change a protected metatable"));
    }
    st(vm).metatypes.insert(ct, mt);
    let c = new_ctype(vm, id)?;
    vm.push(c);
    Ok(1)
}

fn ffi_gc(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let cd = check_cdata(vm, base, nargs, 0)?;
    let fin = vm.check_any(base, nargs, 1)?;
    let ct = cts(vm).raw(CTypeId(cd.ctype()));
    let info = cts(vm).get(ct).info;
    if !(info.is_ptr() || info.is_struct() || info.is_refarray()) {
        return Err(vm.arg_error(1, "invalid C type"));
    }
    cd.set_finalizer(fin);
    if !fin.is_nil() {
        vm.track_finalizer(cd);
    }
    vm.push(cd.to_value());
    Ok(1)
}

// ----- C library namespaces -------------------------------------------------------

/// The payload of a C library namespace userdata: its index in `FfiState::clibs`.
struct ClibId(usize);

fn new_clib(vm: &mut Vm, handle: Option<call::dl::Library>) -> Value {
    let cache = vm.new_table(0, 8);
    let idx = {
        let s = st(vm);
        s.clibs.push(Clib { cache, handle });
        s.clibs.len() - 1
    };
    let ud = vm.new_userdata(Some(Box::new(ClibId(idx))));
    ud.set_meta(st(vm).clib_mt);
    vm.barrier(ud);
    ud.to_value()
}

fn clib_arg(vm: &mut Vm, base: usize, nargs: usize) -> LResult<(usize, GcRef<LuaString>)> {
    let o = vm.arg(base, nargs, 0);
    let idx = o.as_userdata().and_then(|u| u.data().and_then(|d| d.downcast_ref::<ClibId>().map(|c| c.0)));
    let Some(idx) = idx else {
        return Err(vm.type_arg_error(base, nargs, 0, "userdata"));
    };
    let name = match vm.arg(base, nargs, 1).as_string() {
        Some(s) => s,
        None => return Err(vm.type_arg_error(base, nargs, 1, "string")),
    };
    Ok((idx, name))
}

/// Resolves `name` in library `idx`: a cached value, a constant, or a cdata for a
/// function or `extern` variable at its symbol's address.
fn clib_resolve(vm: &mut Vm, idx: usize, name: GcRef<LuaString>) -> LResult<Value> {
    let cache = st(vm).clibs[idx].cache;
    let v = cache.get_str(name);
    if !v.is_nil() {
        return Ok(v);
    }
    let n = name.as_bytes().to_vec();
    let nm = String::from_utf8_lossy(&n).into_owned();
    let Some(id) = cts(vm).get_name(&n, NS_DEFAULT) else {
        return Err(vm.rt_error(&format!("missing declaration for symbol '{nm}'")));
    };
    let info = cts(vm).get(id).info;
    let v = match info.kind {
        Kind::ConstVal { .. } => const_value(vm, id),
        Kind::Func { .. } | Kind::Extern { .. } => {
            if st(vm).level != FfiLevel::Calls {
                if idx == 0 && matches!(info.kind, Kind::Func { .. }) {
                    if let Some(f) = super::grants::resolve(vm, &n, id)? {
                        vm.raw_set(cache, name.to_value(), f)?;
                        return Ok(f);
                    }
                }
                return Err(vm.rt_error(&format!(
                    "C symbol '{nm}' is not available: not granted to this state (FFI level 'data')"
                )));
            }
            let sym = cts(vm).redirect(id).map(|r| r.to_vec()).unwrap_or_else(|| n.clone());
            let addr = match &st(vm).clibs[idx].handle {
                Some(lib) => lib.symbol(&sym),
                None => call::dl::process_symbol(&sym),
            };
            let Some(addr) = addr else {
                return Err(vm.rt_error(&format!("undefined symbol: {nm}")));
            };
            new_cdata_bytes(vm, id, &(addr as u64).to_le_bytes())?.to_value()
        }
        _ => return Err(vm.rt_error(&format!("missing declaration for symbol '{nm}'"))),
    };
    vm.raw_set(cache, name.to_value(), v)?;
    Ok(v)
}

fn clib_index(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (idx, name) = clib_arg(vm, base, nargs)?;
    let v = clib_resolve(vm, idx, name)?;
    if let Some(cd) = v.as_cdata() {
        if let Kind::Extern { ty } = cts(vm).get(CTypeId(cd.ctype())).info.kind {
            let addr = cd.word() as usize;
            let (s, _) = strip_attrs(vm, ty);
            let r = ct_tv(vm, s, ty, Place::Addr(addr))?;
            vm.push(r);
            return Ok(1);
        }
    }
    vm.push(v);
    Ok(1)
}

fn clib_newindex(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let (idx, name) = clib_arg(vm, base, nargs)?;
    let v = clib_resolve(vm, idx, name)?;
    let val = vm.arg(base, nargs, 2);
    if let Some(cd) = v.as_cdata() {
        if let Kind::Extern { ty } = cts(vm).get(CTypeId(cd.ctype())).info.kind {
            let (d, q) = strip_attrs(vm, ty);
            if !(q.is_const() || cts(vm).get(d).info.qual.is_const()) {
                let addr = cd.word() as usize;
                tv_ct(vm, d, Place::Addr(addr), val, 0)?;
                return Ok(0);
            }
        }
    }
    Err(const_error(vm))
}

fn ffi_load(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?;
    if st(vm).level != FfiLevel::Calls {
        return Err(vm.rt_error("ffi.load: loading C libraries is not allowed in this state (FFI level 'data')"));
    }
    let global = vm.arg(base, nargs, 1).truthy();
    let n = name.to_str_lossy().into_owned();
    match call::dl::Library::open(&n, global) {
        Ok(lib) => {
            let c = new_clib(vm, Some(lib));
            vm.push(c);
            Ok(1)
        }
        Err(e) => Err(vm.rt_error(&e)),
    }
}

// ----- C calls ----------------------------------------------------------------------

/// The calling convention's view of C type `id` (as an argument or result).
fn abi_type(vm: &mut Vm, id: CTypeId, top: bool) -> LResult<call::ArgType> {
    use call::ArgType as A;
    let id = cts(vm).raw(id);
    let id = resolve_enum(vm, id);
    let (info, size) = (cts(vm).get(id).info, cts(vm).get(id).size);
    Ok(match info.kind {
        Kind::Void => A::Void,
        Kind::Num { flags } => {
            if flags.is_fp() {
                match size {
                    4 => A::F32,
                    8 => A::F64,
                    _ => return Err(vm.rt_error("NYI: cannot call this C function (long double)")),
                }
            } else {
                let u = flags.is_unsigned() || flags.is_bool();
                match (size, u) {
                    (1, true) => A::U8,
                    (1, false) => A::I8,
                    (2, true) => A::U16,
                    (2, false) => A::I16,
                    (4, true) => A::U32,
                    (4, false) => A::I32,
                    (8, true) => A::U64,
                    _ => A::I64,
                }
            }
        }
        Kind::Ptr { .. } => A::Ptr,
        Kind::Array { complex: true, elem, .. } => {
            let e = abi_type(vm, elem, false)?;
            A::Struct(vec![e.clone(), e], size as usize)
        }
        Kind::Array { vector: false, elem, .. } if top => {
            let _ = elem;
            A::Ptr
        }
        Kind::Array { vector: false, elem, .. } => {
            let esz = cts(vm).size_of(elem).unwrap_or(0);
            let e = abi_type(vm, elem, false)?;
            let n = if esz == 0 || size == SIZE_INVALID { 0 } else { size / esz };
            let mut v = Vec::new();
            for _ in 0..n {
                match &e {
                    A::Struct(f, _) => v.extend(f.iter().cloned()),
                    x => v.push(x.clone()),
                }
            }
            A::Struct(v, size as usize)
        }
        Kind::Struct { union, .. } if size != SIZE_INVALID && size > 0 => {
            let align = 1u32 << info.align.min(3);
            let mut fields = Vec::new();
            if union {
                let all_fp = union_all_fp(vm, id);
                let n = size / align;
                for _ in 0..n {
                    fields.push(match (all_fp, align) {
                        (true, 8) => A::F64,
                        (true, 4) => A::F32,
                        (_, 8) => A::I64,
                        (_, 4) => A::I32,
                        (_, 2) => A::I16,
                        _ => A::I8,
                    });
                }
            } else {
                let members: Vec<(super::Info, u32)> = cts(vm).members(id).map(|(_, m)| (m.info, m.size)).collect();
                let mut last_container: Option<u32> = None;
                for (mi, ofs) in members {
                    match mi.kind {
                        Kind::Field { ty } => match abi_type(vm, ty, false)? {
                            A::Struct(f, _) => fields.extend(f),
                            x => fields.push(x),
                        },
                        Kind::Bitfield { csz, .. } if last_container != Some(ofs) => {
                            last_container = Some(ofs);
                            fields.push(match csz {
                                1 => A::U8,
                                2 => A::U16,
                                4 => A::U32,
                                _ => A::U64,
                            });
                        }
                        Kind::Attrib { attr: super::Attr::Subtype, target } => match abi_type(vm, target, false)? {
                            A::Struct(f, _) => fields.extend(f),
                            x => fields.push(x),
                        },
                        _ => {}
                    }
                }
            }
            // libffi lays the members out by natural alignment: it must agree.
            if natural_size(&fields) != size as usize {
                return Err(vm.rt_error("NYI: cannot pass this struct by value (packed or unusual layout)"));
            }
            A::Struct(fields, size as usize)
        }
        _ => {
            let r = repr(vm, id);
            return Err(vm.rt_error(&format!("NYI: cannot pass or return '{r}' in a C call")));
        }
    })
}

fn union_all_fp(vm: &mut Vm, id: CTypeId) -> bool {
    let members: Vec<super::Info> = cts(vm).members(id).map(|(_, m)| m.info).collect();
    members.iter().all(|m| match m.kind {
        Kind::Field { ty } => {
            let r = cts(vm).raw(ty);
            cts(vm).get(r).info.is_fp()
        }
        _ => false,
    })
}

fn natural_size(fields: &[call::ArgType]) -> usize {
    use call::ArgType as A;
    fn sa(t: &A) -> (usize, usize) {
        match t {
            A::Void => (0, 1),
            A::I8 | A::U8 => (1, 1),
            A::I16 | A::U16 => (2, 2),
            A::I32 | A::U32 | A::F32 => (4, 4),
            A::I64 | A::U64 | A::F64 | A::Ptr => (8, 8),
            A::Struct(f, _) => {
                let n = natural_size(f);
                (n, f.iter().map(|x| sa(x).1).max().unwrap_or(1))
            }
        }
    }
    let mut ofs = 0usize;
    let mut al = 1usize;
    for f in fields {
        let (s, a) = sa(f);
        ofs = ofs.div_ceil(a) * a + s;
        al = al.max(a);
    }
    ofs.div_ceil(al) * al
}

/// Calls a C function cdata (`None` if `cd` is not one). Arguments at
/// `base+1 ..`, converted per the declaration; varargs by their Lua types.
fn ccall(vm: &mut Vm, cd: GcRef<CData>, base: usize, nargs: usize) -> LResult<Option<usize>> {
    let mut id = cts(vm).raw(CTypeId(cd.ctype()));
    let info = cts(vm).get(id).info;
    let addr;
    if info.is_ptr() {
        let psz = ptr_size(vm, id);
        addr = read_ptr(vm, Place::Obj(cd, 0), psz)?;
        id = cts(vm).raw_child(id);
    } else {
        addr = cd.word() as usize;
    }
    let Kind::Func { ret, vararg, .. } = cts(vm).get(id).info.kind else { return Ok(None) };
    if st(vm).level != FfiLevel::Calls {
        return Err(vm.rt_error("calling C functions is not allowed in this state (FFI level 'data')"));
    }
    if addr == 0 {
        return Err(vm.rt_error("attempt to call a NULL function pointer"));
    }
    let nfixed = cts(vm).get(id).size as usize;
    let params = cts(vm).params(id);
    let given = nargs.saturating_sub(1);
    if given < nfixed || (!vararg && given > nfixed) {
        return Err(vm.rt_error("wrong number of arguments for function call"));
    }
    let mut args = Vec::with_capacity(given);
    for i in 0..given {
        let v = vm.arg(base, nargs, i + 1);
        let (d, t) = if i < nfixed {
            let d = params.get(i).copied().unwrap_or(CTypeId::INT32);
            let (d, _) = strip_attrs(vm, d);
            // Array parameters are pointers.
            let d = if cts(vm).get(d).info.is_refarray() {
                let el = cts(vm).get(d).info.child().unwrap_or(CTypeId::VOID);
                ptr_type(vm, el, false)?
            } else {
                d
            };
            let t = abi_type(vm, d, true)?;
            (d, t)
        } else {
            vararg_type(vm, v)?
        };
        let bytes = arg_bytes(vm, d, v, i + 2)?;
        let (t, bytes) = promote_vararg(t, bytes, i >= nfixed);
        args.push((t, bytes));
    }
    let rt = abi_type(vm, ret, true)?;
    let out = call::call(vm, addr, &rt, &args, vararg.then_some(nfixed));
    st(vm).errno = call::errno();
    if let Some(e) = st(vm).pending_error.take() {
        return Err(e);
    }
    // The result.
    let (r, _) = strip_attrs(vm, ret);
    let r = resolve_enum(vm, r);
    let rinfo = cts(vm).get(r).info;
    if rinfo.is_void() {
        return Ok(Some(0));
    }
    let tmp = new_cdata_bytes(vm, r, &out)?;
    let v = if rinfo.is_struct() || rinfo.is_complex() { tmp.to_value() } else { ct_tv(vm, r, r, Place::Obj(tmp, 0))? };
    vm.push(v);
    Ok(Some(1))
}

fn arg_bytes(vm: &mut Vm, d: CTypeId, v: Value, argn: usize) -> LResult<Vec<u8>> {
    let info = cts(vm).get(d).info;
    if info.is_struct() || info.is_complex() {
        let size = cts(vm).get(d).size as usize;
        let tmp = new_cdata(vm, d, size, 16)?;
        tv_ct(vm, d, Place::Obj(tmp, 0), v, ccf_arg(argn))?;
        return Ok(tmp.bytes());
    }
    tv_bytes(vm, d, v, ccf_arg(argn))
}

/// The C type a vararg gets from its Lua value (LuaJIT's `ccall_ctid_vararg`).
fn vararg_type(vm: &mut Vm, v: Value) -> LResult<(CTypeId, call::ArgType)> {
    let id = if v.is_number() {
        CTypeId::DOUBLE
    } else if let Some(cd) = v.as_cdata() {
        let id = CTypeId(cd.ctype());
        let info = cts(vm).get(id).info;
        if info.is_refarray() {
            let el = info.child().unwrap_or(CTypeId::VOID);
            ptr_type(vm, el, false)?
        } else if info.is_struct() {
            ptr_type(vm, id, true)?
        } else if info.is_fp() && cts(vm).get(id).size == 4 {
            CTypeId::DOUBLE
        } else {
            id
        }
    } else if v.is_string() {
        CTypeId::P_CCHAR
    } else if v.as_bool().is_some() {
        CTypeId::BOOL
    } else {
        CTypeId::P_VOID
    };
    let id = cts(vm).raw(id);
    let t = abi_type(vm, id, true)?;
    Ok((id, t))
}

/// C's default promotions for a vararg: small integers become `int`.
fn promote_vararg(t: call::ArgType, b: Vec<u8>, vararg: bool) -> (call::ArgType, Vec<u8>) {
    use call::ArgType as A;
    if !vararg {
        return (t, b);
    }
    let get = |n: usize| {
        let mut w = [0u8; 8];
        w[..n.min(b.len())].copy_from_slice(&b[..n.min(b.len())]);
        u64::from_le_bytes(w)
    };
    match t {
        A::I8 => (A::I32, (get(1) as u8 as i8 as i32).to_le_bytes().to_vec()),
        A::U8 => (A::I32, (get(1) as u8 as i32).to_le_bytes().to_vec()),
        A::I16 => (A::I32, (get(2) as u16 as i16 as i32).to_le_bytes().to_vec()),
        A::U16 => (A::I32, (get(2) as u16 as i32).to_le_bytes().to_vec()),
        t => (t, b),
    }
}

// ----- Callbacks ----------------------------------------------------------------------

/// A C function pointer calling Lua function `f`, for a conversion to pointer
/// type `d` (`None` when `d` is no function pointer or the state may not call C).
pub fn make_callback(vm: &mut Vm, d: CTypeId, f: Value) -> LResult<Option<usize>> {
    if st(vm).level != FfiLevel::Calls {
        return Ok(None);
    }
    let (pd, _) = strip_attrs(vm, d);
    let fid = match cts(vm).get(pd).info.kind {
        Kind::Ptr { to, .. } => cts(vm).raw(to),
        _ => return Ok(None),
    };
    let Kind::Func { ret, vararg, .. } = cts(vm).get(fid).info.kind else { return Ok(None) };
    if vararg {
        return Err(vm.rt_error("NYI: vararg callbacks"));
    }
    let params = cts(vm).params(fid);
    let mut targs = Vec::new();
    for &p in &params {
        targs.push(abi_type(vm, p, true)?);
    }
    let tret = abi_type(vm, ret, true)?;
    let Some((slot, code)) = st(vm).callbacks.create(tret, targs) else {
        return Err(vm.rt_error("too many callbacks"));
    };
    let s = st(vm);
    if s.callback_fns.len() <= slot {
        s.callback_fns.resize(slot + 1, Value::NIL);
        s.callback_sigs.resize(slot + 1, (CTypeId::VOID, Vec::new()));
    }
    s.callback_fns[slot] = f;
    s.callback_sigs[slot] = (ret, params);
    Ok(Some(code))
}

/// Runs the Lua function of callback `slot` with the C arguments' bytes and
/// returns the result's bytes. Errors are kept and raised when the C call that
/// led here returns (they cannot unwind through C frames).
pub fn run_callback(vm: &mut Vm, slot: usize, args: &[Vec<u8>]) -> Vec<u8> {
    match run_callback_inner(vm, slot, args) {
        Ok(b) => b,
        Err(e) => {
            let s = st(vm);
            if s.pending_error.is_none() {
                s.pending_error = Some(e);
            }
            vec![0u8; 16]
        }
    }
}

fn run_callback_inner(vm: &mut Vm, slot: usize, args: &[Vec<u8>]) -> LResult<Vec<u8>> {
    let Some(f) = st(vm).callback_fns.get(slot).copied().filter(|f| !f.is_nil()) else {
        return Err(vm.rt_error("bad callback"));
    };
    let (ret, params) = st(vm).callback_sigs[slot].clone();
    let mut lua_args = Vec::with_capacity(args.len());
    for (i, b) in args.iter().enumerate() {
        let p = params.get(i).copied().unwrap_or(CTypeId::INT32);
        let (s, _) = strip_attrs(vm, p);
        let s = resolve_enum(vm, s);
        let tmp = new_cdata_bytes(vm, s, b)?;
        let v = if cts(vm).get(s).info.is_struct() { tmp.to_value() } else { ct_tv(vm, s, p, Place::Obj(tmp, 0))? };
        lua_args.push(v);
    }
    let r = vm.call_value(f, &lua_args, 1)?;
    let (rt, _) = strip_attrs(vm, ret);
    if cts(vm).get(rt).info.is_void() {
        return Ok(Vec::new());
    }
    let v = r.first().copied().unwrap_or(Value::NIL);
    match arg_bytes(vm, rt, v, 0) {
        Ok(b) => Ok(b),
        Err(e) => {
            // LuaJIT converts the result as the Lua function returns: the error
            // points at the function's last line.
            let Some(lf) = f.as_lua_function() else { return Err(e) };
            let pre = vm.where_prefix(2);
            let msg = vm.error_to_string(&e);
            let msg = msg.strip_prefix(pre.as_str()).unwrap_or(&msg).to_string();
            let p = lf.proto;
            let src = crate::compiler::chunk_id(p.chunkname.as_bytes());
            let text = format!("{src}:{}: {msg}", p.lastlinedefined);
            let v = vm.str_value(text.as_bytes());
            Err(LuaError::new(crate::vm::ErrorKind::Runtime, v))
        }
    }
}

fn cb_slot(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let cd = check_cdata(vm, base, nargs, 0)?;
    let ct = cts(vm).raw(CTypeId(cd.ctype()));
    if cts(vm).get(ct).info.is_ptr() {
        let psz = ptr_size(vm, ct);
        let p = read_ptr(vm, Place::Obj(cd, 0), psz)?;
        if let Some(slot) = st(vm).callbacks.slot_of(p) {
            if st(vm).callback_fns.get(slot).is_some_and(|f| !f.is_nil()) {
                return Ok(slot);
            }
        }
    }
    Err(vm.rt_error("bad callback"))
}

fn cb_free(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let slot = cb_slot(vm, base, nargs)?;
    let s = st(vm);
    s.callbacks.free(slot);
    s.callback_fns[slot] = Value::NIL;
    Ok(0)
}

fn cb_set(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 1)?;
    let slot = cb_slot(vm, base, nargs)?;
    st(vm).callback_fns[slot] = f;
    Ok(0)
}
