//! C functions an embedder grants to a state that cannot call C itself (the Wasm
//! sandbox's tenants, at the `data` FFI level): `ffi.C.name` resolves to them.
//!
//! A grant is a name, a signature and a Rust function. The tenant still declares
//! the function with `ffi.cdef`, as for any C function; at resolution the declared
//! type must match the granted signature exactly, or `ffi.C.name` is an error that
//! names both. A call converts each argument to its declared C type with LuaJIT's
//! rules (so bad arguments give LuaJIT's messages), hands the values to the grant
//! as [`CValue`]s, and converts the result back as a C call's result would be
//! (32-bit integers and floating-point numbers to Lua numbers, 64-bit integers to
//! `int64_t`/`uint64_t` cdata, `bool` to a boolean). No pointer ever crosses: a
//! `const char *` parameter passes the bytes of a Lua string (or of the
//! NUL-terminated C string a char pointer designates, read through the state's
//! checked memory access) and a `const char *` result arrives as a Lua string.
//!
//! Signatures are written `ret(param,...)` with these type codes: `void`, `bool`,
//! `int8_t` .. `int64_t`, `uint8_t` .. `uint64_t` (or `int`, `unsigned`), `float`,
//! `double`, `string` (`const char *`). Variadic functions cannot be granted.
//! `ffi.C.name` of a granted function is a Lua function, not a cdata.

use std::rc::Rc;

use super::conv::{ccf_arg, ct_tv, mem_error, read, strip_attrs, tv_bytes, Place};
use super::state::{cts, st};
use super::{CTypeId, Kind, NumFlags};
use crate::value::Value;
use crate::vm::{LResult, Vm};

/// A C value crossing between a tenant and the host.
#[derive(Clone, Debug, PartialEq)]
pub enum CValue {
    /// `void` (no result), or a NULL `const char *`.
    Void,
    Bool(bool),
    /// Every integer and floating-point type (64-bit integers beyond 2^53 round).
    Num(f64),
    /// `const char *`: the bytes before the terminating NUL.
    Str(Vec<u8>),
}

/// The Rust side of a granted C function.
pub type GrantFn = Rc<dyn Fn(&mut Vm, &[CValue]) -> Result<CValue, String>>;

/// A parameter or result type of a granted function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    Void,
    Bool,
    Int { bytes: u8, unsigned: bool },
    F32,
    F64,
    Str,
}

impl Code {
    fn parse(s: &str) -> Option<Code> {
        let int = |bytes, unsigned| Some(Code::Int { bytes, unsigned });
        match s.trim() {
            "void" => Some(Code::Void),
            "bool" => Some(Code::Bool),
            "int8_t" => int(1, false),
            "int16_t" => int(2, false),
            "int32_t" | "int" => int(4, false),
            "int64_t" => int(8, false),
            "uint8_t" => int(1, true),
            "uint16_t" => int(2, true),
            "uint32_t" | "unsigned" => int(4, true),
            "uint64_t" => int(8, true),
            "float" => Some(Code::F32),
            "double" => Some(Code::F64),
            "string" => Some(Code::Str),
            _ => None,
        }
    }

    fn name(self) -> String {
        match self {
            Code::Void => "void".into(),
            Code::Bool => "bool".into(),
            Code::Int { bytes, unsigned } => {
                format!("{}int{}_t", if unsigned { "u" } else { "" }, u32::from(bytes) * 8)
            }
            Code::F32 => "float".into(),
            Code::F64 => "double".into(),
            Code::Str => "string".into(),
        }
    }
}

/// A parsed signature: result, then parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Sig {
    ret: Code,
    params: Vec<Code>,
}

impl Sig {
    fn parse(s: &str) -> Option<Sig> {
        let (ret, rest) = s.trim().split_once('(')?;
        let inner = rest.trim_end().strip_suffix(')')?;
        let ret = Code::parse(ret)?;
        let params: Vec<Code> = if inner.trim().is_empty() || inner.trim() == "void" {
            Vec::new()
        } else {
            inner.split(',').map(Code::parse).collect::<Option<_>>()?
        };
        if params.contains(&Code::Void) {
            return None;
        }
        Some(Sig { ret, params })
    }

    fn text(&self) -> String {
        let ps: Vec<String> = self.params.iter().map(|c| c.name()).collect();
        format!("{}({})", self.ret.name(), ps.join(", "))
    }
}

/// A grant as the FFI state keeps it.
#[derive(Clone)]
pub struct Grant {
    sig: Sig,
    f: GrantFn,
}

/// Grants C function `name` with signature `sig` (see the module docs) to the
/// state. Fails on a malformed signature or a name that is not a C identifier.
pub fn grant_c_function(vm: &mut Vm, name: &str, sig: &str, f: GrantFn) -> Result<(), String> {
    let ident = {
        let mut cs = name.chars();
        cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !ident {
        return Err(format!("bad C function name '{name}'"));
    }
    let sig = Sig::parse(sig).ok_or_else(|| format!("bad signature '{sig}' for C function '{name}'"))?;
    st(vm).grants.insert(name.as_bytes().to_vec(), Grant { sig, f });
    Ok(())
}

/// The type code of C type `id` (attributes stripped), if a grant can carry it.
fn code_of(vm: &mut Vm, id: CTypeId) -> Option<Code> {
    let (id, _) = strip_attrs(vm, id);
    let ct = cts(vm).get(id);
    match ct.info.kind {
        Kind::Void => Some(Code::Void),
        Kind::Num { flags } if flags.is_bool() => Some(Code::Bool),
        Kind::Num { flags } if flags.is_fp() => match ct.size {
            4 => Some(Code::F32),
            8 => Some(Code::F64),
            _ => None,
        },
        Kind::Num { flags } => {
            let bytes = u8::try_from(ct.size).ok().filter(|b| matches!(b, 1 | 2 | 4 | 8))?;
            Some(Code::Int { bytes, unsigned: flags.0 & NumFlags::UNSIGNED != 0 })
        }
        Kind::Enum { base } => code_of(vm, base),
        Kind::Ptr { to, reference: false } => {
            let (to, q) = strip_attrs(vm, to);
            let t = cts(vm).get(to);
            let ch = matches!(t.info.kind, Kind::Num { flags } if !flags.is_bool() && !flags.is_fp()) && t.size == 1;
            (ch && (q.is_const() || t.info.qual.is_const())).then_some(Code::Str)
        }
        _ => None,
    }
}

/// The signature of the declared function type `func`; `None` when a type in it
/// cannot be granted or the function is variadic.
fn declared_sig(vm: &mut Vm, func: CTypeId) -> Option<Sig> {
    let Kind::Func { ret, vararg, .. } = cts(vm).get(func).info.kind else { return None };
    if vararg {
        return None;
    }
    let params = cts(vm).params(func);
    let ret = code_of(vm, ret)?;
    let params = params.into_iter().map(|p| code_of(vm, p).filter(|c| *c != Code::Void)).collect::<Option<_>>()?;
    Some(Sig { ret, params })
}

/// `ffi.C.name` for a function the state may not call natively: the granted
/// function as a Lua function if `name` is granted and declared with its
/// signature; `Ok(None)` if it is not granted.
pub fn resolve(vm: &mut Vm, name: &[u8], func: CTypeId) -> LResult<Option<Value>> {
    let Some(grant) = st(vm).grants.get(name).cloned() else { return Ok(None) };
    let nm = String::from_utf8_lossy(name).into_owned();
    match declared_sig(vm, func) {
        Some(sig) if sig == grant.sig => {}
        declared => {
            let d = declared.map_or_else(|| "a type that cannot cross to the host".to_string(), |s| s.text());
            return Err(
                vm.rt_error(&format!("C function '{nm}' is declared as {d}, but granted as {}", grant.sig.text()))
            );
        }
    }
    let name_v = vm.str_value(name);
    let static_name: &'static str = "granted C function";
    Ok(Some(vm.native_closure(call_granted, static_name, vec![Value::number(f64::from(func.0)), name_v])))
}

/// Calls a granted function: upvalue 0 is the declared function type, 1 the name.
fn call_granted(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let func = CTypeId(vm.native_upval(0).num() as u32);
    let name = vm.native_upval(1);
    let Some(name) = name.as_string().map(|s| s.as_bytes().to_vec()) else { return Ok(0) };
    let Some(grant) = st(vm).grants.get(&name).cloned() else {
        return Err(vm.rt_error("granted C function is gone"));
    };
    let Kind::Func { ret, .. } = cts(vm).get(func).info.kind else { return Ok(0) };
    let params = cts(vm).params(func);
    if nargs != params.len() {
        return Err(vm.rt_error("wrong number of arguments for function call"));
    }
    let mut args = Vec::with_capacity(nargs);
    for (i, (&p, &code)) in params.iter().zip(&grant.sig.params).enumerate() {
        let v = vm.arg(base, nargs, i);
        args.push(to_cvalue(vm, p, code, v, i + 1)?);
    }
    let out = (grant.f)(vm, &args).map_err(|m| vm.rt_error(&m))?;
    let r = match (grant.sig.ret, out) {
        (Code::Void, _) => return Ok(0),
        (Code::Str, CValue::Str(s)) => vm.str_value(&s),
        (Code::Str, CValue::Void) => Value::NIL,
        (_, CValue::Num(n)) => from_number(vm, ret, Value::number(n))?,
        (_, CValue::Bool(b)) => from_number(vm, ret, Value::boolean(b))?,
        (code, other) => {
            return Err(vm.rt_error(&format!("granted C function returned {other:?} for a {} result", code.name())))
        }
    };
    vm.push(r);
    Ok(1)
}

/// Argument `n` (1-based) converted to the declared parameter type `p`.
fn to_cvalue(vm: &mut Vm, p: CTypeId, code: Code, v: Value, n: usize) -> LResult<CValue> {
    if code == Code::Str {
        if v.is_nil() {
            return Ok(CValue::Void);
        }
        if let Some(s) = v.as_string() {
            let b = s.as_bytes();
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            return Ok(CValue::Str(b[..end].to_vec()));
        }
        // A char pointer or array: the C string it designates, read with checks.
        let bytes = tv_bytes(vm, CTypeId::P_CCHAR, v, ccf_arg(n))?;
        let mut w = [0u8; 8];
        w[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
        let addr = u64::from_le_bytes(w) as usize;
        if addr == 0 {
            return Ok(CValue::Void);
        }
        let access = st(vm).access;
        let len = super::call::mem::strlen(vm, access, addr).map_err(|e| mem_error(vm, e))?;
        vm.check_mem(len)?;
        let mut buf = vec![0u8; len];
        read(vm, Place::Addr(addr), &mut buf)?;
        return Ok(CValue::Str(buf));
    }
    let (d, _) = strip_attrs(vm, p);
    let b = tv_bytes(vm, d, v, ccf_arg(n))?;
    let mut w = [0u8; 8];
    w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    Ok(match code {
        Code::Bool => CValue::Bool(b.iter().any(|&x| x != 0)),
        Code::F32 => CValue::Num(f64::from(f32::from_le_bytes([w[0], w[1], w[2], w[3]]))),
        Code::F64 => CValue::Num(f64::from_le_bytes(w)),
        Code::Int { bytes, unsigned } => {
            let shift = 64 - u32::from(bytes) * 8;
            let raw = u64::from_le_bytes(w);
            CValue::Num(if unsigned {
                ((raw << shift) >> shift) as f64
            } else {
                (((raw << shift) as i64) >> shift) as f64
            })
        }
        Code::Void | Code::Str => CValue::Void,
    })
}

/// A result converted to the declared result type and back to Lua, as a C call's.
fn from_number(vm: &mut Vm, ret: CTypeId, v: Value) -> LResult<Value> {
    let (d, _) = strip_attrs(vm, ret);
    let bytes = tv_bytes(vm, d, v, 0)?;
    let cd = super::conv::new_cdata_bytes(vm, d, &bytes)?;
    ct_tv(vm, d, ret, Place::Obj(cd, 0))
}
