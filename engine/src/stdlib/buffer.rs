//! `string.buffer` (LuaJIT 2.1): string buffers as userdata, loaded with
//! `require("string.buffer")`.
//!
//! Supported: `buffer.new([size] [, options])`, `buffer.encode`, `buffer.decode`, and
//! on a buffer `put`, `putf`, `set`, `get`, `skip`, `reset`, `free`, `tostring`,
//! `encode`, `decode`, `#buf`, `tostring(buf)`, `buf .. x`. Not supported: the
//! FFI-only methods (`reserve`, `commit`, `ref`, `putcdata`) and the `dict` /
//! `metatable` serialization options (`options` is accepted and ignored).
//!
//! Serialization uses LuaJIT's format (see "Serialization Format Specification" in
//! LuaJIT's `ext_buffer.html`), so data encoded by LuaJIT decodes here and the other
//! way round. Numbers are always encoded as doubles (tag 0x07, as x86-64 LuaJIT does);
//! a table's array part is `1..#t`, and the order of the other keys is this engine's
//! traversal order, so encodings of tables with hash keys are not byte-identical to
//! LuaJIT's. FFI tags (int64, uint64, complex) cannot be decoded.
//!
//! Differences from LuaJIT: concatenation goes through a `__concat` metamethod
//! (LuaJIT's VM concatenates buffers natively, so its metatable has none).

use std::cell::RefCell;

use crate::gc::GcRef;
use crate::number::fmt_number;
use crate::object::{Table, Userdata};
use crate::stdlib::string::{format_into, mem_error, reserve};
use crate::value::{LuaType, Value};
use crate::vm::{LResult, LuaError, MetaEvent, NativeFn, Vm};

/// The contents of a buffer: the unread data is `b[r..]`.
#[derive(Default)]
pub struct SBuf {
    b: Vec<u8>,
    r: usize,
}

impl SBuf {
    /// The unread bytes.
    pub fn data(&self) -> &[u8] {
        self.b.get(self.r..).unwrap_or(&[])
    }

    fn len(&self) -> usize {
        self.b.len().saturating_sub(self.r)
    }

    fn consume(&mut self, n: usize) {
        self.r = self.r.saturating_add(n).min(self.b.len());
        if self.r == self.b.len() {
            self.b.clear();
            self.r = 0;
        }
    }

    fn clear(&mut self) {
        self.b.clear();
        self.r = 0;
    }

    /// Makes room for `extra` bytes, dropping consumed data first if that helps. The
    /// contents count against the memory limit (the owner accounts the capacity:
    /// [`sync`]), so growth is checked before it is made: by half the capacity at a
    /// time, or to what the limit leaves near it.
    fn prepare(&mut self, vm: &mut Vm, extra: usize) -> LResult<()> {
        if self.r > 0 && self.b.len().saturating_add(extra) > self.b.capacity() {
            self.b.drain(..self.r);
            self.r = 0;
        }
        let need = self.b.len().saturating_add(extra);
        if need >= crate::stdlib::string::MAX_STR {
            return Err(mem_error(vm));
        }
        let cap = self.b.capacity();
        if need <= cap {
            return Ok(());
        }
        vm.check_mem(need - cap)?;
        let mut target = need.max(cap.saturating_add(cap / 2)).max(64);
        if vm.heap.would_exceed(target - cap) {
            // Near the limit: all that is left, so that the buffer is not copied
            // again for every piece (each copy is a moment with both blocks).
            target = cap.saturating_add(vm.heap.room()).max(need);
        }
        if self.b.try_reserve_exact(target - self.b.len()).is_err() {
            return Err(mem_error(vm));
        }
        Ok(())
    }

    fn append(&mut self, vm: &mut Vm, bytes: &[u8]) -> LResult<()> {
        self.prepare(vm, bytes.len())?;
        vm.charge_bytes(bytes.len())?;
        self.b.extend_from_slice(bytes);
        Ok(())
    }
}

/// Tells the heap what buffer `u`'s contents now take (its capacity).
fn sync(vm: &mut Vm, u: GcRef<Userdata>) {
    if let Some(cap) = with_buf(u, |b| b.b.capacity()) {
        // Growth was checked by `prepare`; accounting it cannot fail then.
        let _ = vm.account_resize(u, cap);
    }
}

const METHODS: &[(&str, NativeFn)] = &[
    ("put", put),
    ("putf", putf),
    ("set", set),
    ("get", get),
    ("skip", skip),
    ("reset", reset),
    ("free", free),
    ("tostring", tostring),
    ("encode", encode_method),
    ("decode", decode_method),
    ("__tostring", tostring),
    ("__len", len),
    ("__concat", concat),
];

/// Builds the module and makes it loadable with `require("string.buffer")`: a loader
/// in `package.preload` when the package library is open, else straight into
/// `package.loaded`.
pub fn register(vm: &mut Vm) {
    let mt = vm.new_table(0, METHODS.len() + 2);
    for &(n, f) in METHODS {
        let fv = vm.native(f, n);
        vm.set_field(mt, n, fv);
    }
    vm.set_field(mt, "__index", mt.to_value());
    let name = vm.str_value(b"buffer");
    vm.set_field(mt, "__metatable", name);
    let module = vm.new_table(0, 3);
    let newf = vm.native_closure(new, "new", vec![mt.to_value()]);
    vm.set_field(module, "new", newf);
    let enc = vm.native(encode, "encode");
    vm.set_field(module, "encode", enc);
    let dec = vm.native(decode, "decode");
    vm.set_field(module, "decode", dec);
    let reg = vm.registry;
    let preload = vm.get_field(reg, "_PRELOAD");
    if let Some(p) = preload.as_table() {
        let loader = vm.native_closure(load_module, "string.buffer", vec![module.to_value()]);
        vm.set_field(p, "string.buffer", loader);
    } else if let Some(l) = crate::stdlib::lib(vm).loaded {
        vm.set_field(l, "string.buffer", module.to_value());
    }
}

fn load_module(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let m = vm.native_upval(0);
    vm.push(m);
    Ok(1)
}

/// The `SBuf` cell of a buffer userdata.
fn buf_cell(u: &Userdata) -> Option<&RefCell<SBuf>> {
    u.data()?.downcast_ref::<RefCell<SBuf>>()
}

/// Short-lived access to the `SBuf` of a buffer userdata (`None` if `u` is not a
/// buffer, or if it is already in use further up: a buffer method never keeps it
/// across a call into Lua).
fn with_buf<R>(u: GcRef<Userdata>, f: impl FnOnce(&mut SBuf) -> R) -> Option<R> {
    let mut sb = buf_cell(&u)?.try_borrow_mut().ok()?;
    Some(f(&mut sb))
}

fn is_buffer(v: Value) -> Option<GcRef<Userdata>> {
    let u = v.as_userdata()?;
    with_buf(u, |_| ())?;
    Some(u)
}

/// Argument `i` (0-based) must be a buffer.
fn check_buf(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<GcRef<Userdata>> {
    match is_buffer(vm.arg(base, nargs, i)) {
        Some(u) => Ok(u),
        None => Err(vm.type_arg_error(base, nargs, i, "buffer")),
    }
}

/// A copy of a buffer's unread data.
fn contents(u: GcRef<Userdata>) -> Vec<u8> {
    with_buf(u, |b| b.data().to_vec()).unwrap_or_default()
}

/// A length/size argument: a number (strings are not converted, as in LuaJIT) in
/// `0..2^31` after truncation, else "number out of range".
fn check_size(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<usize> {
    let v = vm.arg(base, nargs, i);
    let Some(n) = v.as_number() else { return Err(vm.type_arg_error(base, nargs, i, "number")) };
    let n = n.trunc();
    if (0.0..2147483648.0).contains(&n) {
        Ok(n as usize)
    } else {
        Err(vm.arg_error(i + 1, "number out of range"))
    }
}

/// Appends `bytes` to buffer `u`.
fn append(vm: &mut Vm, u: GcRef<Userdata>, bytes: &[u8]) -> LResult<()> {
    let r = match buf_cell(&u).map(RefCell::try_borrow_mut) {
        Some(Ok(mut sb)) => sb.append(vm, bytes),
        Some(Err(_)) => return Err(vm.rt_error("buffer in use")),
        None => return Ok(()),
    };
    sync(vm, u);
    r
}

fn new(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    let size = if a.is_nil() || a.is_table() { 0 } else { check_size(vm, base, nargs, 0)? };
    let mut sb = SBuf::default();
    // The size is only a hint: don't let it reserve a huge block up front.
    let hint = size.min(1 << 20).min(vm.heap.room());
    let _ = sb.b.try_reserve(hint);
    let u = vm.new_userdata(Some(Box::new(RefCell::new(sb))));
    sync(vm, u);
    if let Some(mt) = vm.native_upval(0).as_table() {
        u.set_meta(Some(mt));
    }
    vm.push(u.to_value());
    Ok(1)
}

fn put(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    for i in 1..nargs {
        let v = vm.stack[base + i];
        if let Some(s) = v.as_string() {
            append(vm, u, s.as_bytes())?;
        } else if let Some(n) = v.as_number() {
            let mut tmp = Vec::new();
            fmt_number(n, &mut tmp);
            append(vm, u, &tmp)?;
        } else if let Some(other) = is_buffer(v) {
            if other == u {
                return Err(vm.arg_error(i + 1, "cannot put buffer into itself"));
            }
            let data = contents(other);
            append(vm, u, &data)?;
        } else {
            let h = vm.metamethod(v, MetaEvent::Tostring);
            let r = if h.is_nil() { Value::NIL } else { vm.call_value1(h, &[v])? };
            if let Some(s) = r.as_string() {
                append(vm, u, s.as_bytes())?;
            } else if let Some(n) = r.as_number() {
                let mut tmp = Vec::new();
                fmt_number(n, &mut tmp);
                append(vm, u, &tmp)?;
            } else {
                let t = v.type_name();
                return Err(vm.arg_error(i + 1, &format!("string/number/__tostring expected, got {t}")));
            }
        }
    }
    vm.push(u.to_value());
    Ok(1)
}

fn putf(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let mut out = Vec::new();
    format_into(vm, base, nargs, 1, &mut out)?;
    append(vm, u, &out)?;
    vm.push(u.to_value());
    Ok(1)
}

fn set(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let Some(s) = vm.arg(base, nargs, 1).as_string() else {
        return Err(vm.type_arg_error(base, nargs, 1, "string"));
    };
    with_buf(u, |b| b.clear());
    append(vm, u, s.as_bytes())?;
    vm.push(u.to_value());
    Ok(1)
}

fn get(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let n = nargs.max(2) - 1;
    for i in 1..=n {
        let want = if vm.arg(base, nargs, i).is_nil() { usize::MAX } else { check_size(vm, base, nargs, i)? };
        let k = with_buf(u, |b| want.min(b.len())).unwrap_or(0);
        vm.check_mem(k)?;
        vm.charge_bytes(k)?;
        let s = with_buf(u, |b| {
            let s = vm.str_value(b.data().get(..k).unwrap_or(&[]));
            b.consume(k);
            s
        })
        .unwrap_or(Value::NIL);
        vm.push(s);
    }
    Ok(n)
}

fn skip(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let n = check_size(vm, base, nargs, 1)?;
    with_buf(u, |b| b.consume(n));
    vm.push(u.to_value());
    Ok(1)
}

fn reset(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    with_buf(u, |b| b.clear());
    vm.push(u.to_value());
    Ok(1)
}

fn free(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    with_buf(u, |b| *b = SBuf::default());
    sync(vm, u);
    vm.push(u.to_value());
    Ok(1)
}

fn tostring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let n = with_buf(u, |b| b.len()).unwrap_or(0);
    vm.reserve_mem(n)?;
    vm.charge_bytes(n)?;
    let s = with_buf(u, |b| vm.str_value(b.data())).unwrap_or(Value::NIL);
    vm.push(s);
    Ok(1)
}

fn len(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let n = with_buf(u, |b| b.len()).unwrap_or(0);
    vm.push(Value::number(n as f64));
    Ok(1)
}

/// `a .. b` where either operand is a buffer.
fn concat(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let mut out = Vec::new();
    for i in 0..2 {
        let v = vm.arg(base, nargs, i);
        if let Some(u) = is_buffer(v) {
            let data = contents(u);
            reserve(vm, &mut out, data.len())?;
            out.extend_from_slice(&data);
        } else if let Some(s) = v.as_string() {
            reserve(vm, &mut out, s.len())?;
            out.extend_from_slice(s.as_bytes());
        } else if let Some(n) = v.as_number() {
            fmt_number(n, &mut out);
        } else {
            let t = v.type_name();
            return Err(vm.rt_error(&format!("attempt to concatenate a {t} value")));
        }
    }
    vm.charge_bytes(out.len())?;
    let s = vm.str_value_owned(out);
    vm.push(s);
    Ok(1)
}

// ----- Serialization -------------------------------------------------------------------

/// Nesting limit of encoded and decoded tables (`LJ_SERIALIZE_DEPTH`).
const SER_DEPTH: u32 = 100;

const TAG_NIL: u32 = 0x00;
const TAG_FALSE: u32 = 0x01;
const TAG_TRUE: u32 = 0x02;
const TAG_NULL: u32 = 0x03;
const TAG_LIGHTUD32: u32 = 0x04;
const TAG_LIGHTUD64: u32 = 0x05;
const TAG_INT: u32 = 0x06;
const TAG_NUM: u32 = 0x07;
const TAG_TAB: u32 = 0x08;
const TAG_DICT_MT: u32 = 0x0e;
const TAG_DICT_STR: u32 = 0x0f;
const TAG_STR: u32 = 0x20;

/// Appends `v` in the 1/2/5-byte prefix encoding (`.U` in the specification).
fn put_u124(out: &mut Vec<u8>, v: u32) {
    if v < 0xe0 {
        out.push(v as u8);
    } else if v < 0x1fe0 {
        let d = v - 0xe0;
        out.push(0xe0 | (d >> 8) as u8);
        out.push(d as u8);
    } else {
        out.push(0xff);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Why serialization failed (turned into a Lua error by the caller).
enum SerError {
    Msg(String),
    Memory,
    Lua(LuaError),
}

fn ser_msg(m: impl Into<String>) -> SerError {
    SerError::Msg(m.into())
}

fn ser_error(vm: &mut Vm, e: SerError) -> LuaError {
    match e {
        SerError::Msg(m) => vm.rt_error(&m),
        SerError::Memory => mem_error(vm),
        SerError::Lua(e) => e,
    }
}

/// Appends the encoding of `v` to `out`, which may hold at most `limit` bytes (what
/// the memory limit leaves): a shared subtable is encoded each time it is met, so a
/// small graph can make an exponentially long encoding.
fn serialize(out: &mut Vec<u8>, v: Value, depth: u32, limit: usize) -> Result<(), SerError> {
    if out.len() >= limit.min(crate::stdlib::string::MAX_STR) {
        return Err(SerError::Memory);
    }
    match v.lua_type() {
        LuaType::Nil => out.push(TAG_NIL as u8),
        LuaType::Boolean => out.push(if v.truthy() { TAG_TRUE } else { TAG_FALSE } as u8),
        LuaType::Number => {
            out.push(TAG_NUM as u8);
            out.extend_from_slice(&v.num().to_bits().to_le_bytes());
        }
        LuaType::String => {
            let Some(s) = v.as_string() else { return Err(ser_msg("cannot serialize 'string'")) };
            let len = u32::try_from(s.len()).ok().and_then(|l| l.checked_add(TAG_STR)).ok_or(SerError::Memory)?;
            put_u124(out, len);
            if out.len().saturating_add(s.len()) > limit || out.try_reserve(s.len()).is_err() {
                return Err(SerError::Memory);
            }
            out.extend_from_slice(s.as_bytes());
        }
        LuaType::LightUserdata => {
            let p = v.addr() as u64;
            if p == 0 {
                out.push(TAG_NULL as u8);
            } else if let Ok(p32) = u32::try_from(p) {
                out.push(TAG_LIGHTUD32 as u8);
                out.extend_from_slice(&p32.to_le_bytes());
            } else {
                out.push(TAG_LIGHTUD64 as u8);
                out.extend_from_slice(&p.to_le_bytes());
            }
        }
        LuaType::Table => {
            let Some(t) = v.as_table() else { return Err(ser_msg("cannot serialize 'table'")) };
            if depth == 0 {
                return Err(ser_msg("too deep to serialize"));
            }
            serialize_table(out, t, depth - 1, limit)?;
        }
        other => return Err(ser_msg(format!("cannot serialize '{}'", other.name()))),
    }
    Ok(())
}

fn serialize_table(out: &mut Vec<u8>, t: GcRef<Table>, depth: u32, limit: usize) -> Result<(), SerError> {
    // Array part: 1..#t (holes are encoded as nil), and also t[0] if it is set (a
    // "0-based array", as LuaJIT writes when t[0] sits in its array part);
    // everything else goes in the hash.
    let narr = t.len();
    let zero = narr > 0 && !t.get_int(0).is_nil();
    let lo = if zero { 0.0 } else { 1.0 };
    let in_array = |k: Value| k.as_number().is_some_and(|n| n >= lo && n <= narr as f64 && n.fract() == 0.0);
    let mut hash: Vec<(Value, Value)> = Vec::new();
    let mut k = Value::NIL;
    while let Ok(Some((nk, nv))) = t.next(k) {
        if !in_array(nk) {
            hash.push((nk, nv));
        }
        k = nk;
    }
    let narr32 = u32::try_from(narr).ok().and_then(|n| n.checked_add(1)).ok_or(SerError::Memory)?;
    let nhash = u32::try_from(hash.len()).map_err(|_| SerError::Memory)?;
    let mut tag = TAG_TAB;
    if nhash > 0 {
        tag += 1;
    }
    if narr > 0 {
        tag += if zero { 2 } else { 4 };
    }
    out.push(tag as u8);
    if narr > 0 {
        put_u124(out, narr32);
    }
    if nhash > 0 {
        put_u124(out, nhash);
    }
    for i in (if zero { 0 } else { 1 })..=narr {
        serialize(out, t.get_int(i as i64), depth, limit)?;
    }
    for (k, v) in hash {
        serialize(out, k, depth, limit)?;
        serialize(out, v, depth, limit)?;
    }
    Ok(())
}

/// A decoder over `data[pos..]`.
struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    fn eob() -> SerError {
        ser_msg("unexpected end of buffer")
    }

    fn bytes(&mut self, n: usize) -> Result<&[u8], SerError> {
        let end = self.pos.checked_add(n).ok_or_else(Self::eob)?;
        let b = self.data.get(self.pos..end).ok_or_else(Self::eob)?;
        self.pos = end;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, SerError> {
        Ok(self.bytes(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, SerError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, SerError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn u124(&mut self) -> Result<u32, SerError> {
        let v = u32::from(self.u8()?);
        if v < 0xe0 {
            Ok(v)
        } else if v != 0xff {
            let lo = u32::from(self.u8()?);
            Ok(((v & 0x1f) << 8) + lo + 0xe0)
        } else {
            self.u32()
        }
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn value(&mut self, vm: &mut Vm, depth: u32) -> Result<Value, SerError> {
        let tp = self.u124()?;
        if tp >= TAG_STR {
            let len = (tp - TAG_STR) as usize;
            let b = self.bytes(len)?;
            return Ok(vm.str_value(b));
        }
        Ok(match tp {
            TAG_NIL => Value::NIL,
            TAG_FALSE => Value::FALSE,
            TAG_TRUE => Value::TRUE,
            TAG_NULL => Value::light_userdata(0),
            TAG_LIGHTUD32 => Value::light_userdata(u64::from(self.u32()?)),
            TAG_LIGHTUD64 => Value::light_userdata(self.u64()?),
            TAG_INT => Value::number(f64::from(self.u32()? as i32)),
            TAG_NUM => Value::number(f64::from_bits(self.u64()?)),
            TAG_DICT_MT | TAG_DICT_STR => {
                let idx = self.u124()?;
                return Err(ser_msg(format!("cannot deserialize dictionary index {}", u64::from(idx) + 1)));
            }
            t if (TAG_TAB..TAG_DICT_MT).contains(&t) => {
                if depth == 0 {
                    return Err(ser_msg("too deep to serialize"));
                }
                self.table(vm, t, depth - 1)?
            }
            t => return Err(ser_msg(format!("cannot deserialize tag 0x{t:02x}"))),
        })
    }

    fn table(&mut self, vm: &mut Vm, tp: u32, depth: u32) -> Result<Value, SerError> {
        let narr = if tp >= TAG_TAB + 2 { self.u124()? as usize } else { 0 };
        let nhash = if tp & 1 != 0 { self.u124()? as usize } else { 0 };
        // Every entry takes at least one byte: don't preallocate more than the input.
        let room = self.remaining();
        let t = vm.try_new_table(narr.min(room), nhash.min(room)).map_err(SerError::Lua)?;
        let first = if tp >= TAG_TAB + 4 { 1 } else { 0 };
        for i in first..narr {
            let v = self.value(vm, depth)?;
            vm.raw_set_int(t, i as i64, v).map_err(SerError::Lua)?;
        }
        for _ in 0..nhash {
            let k = self.value(vm, depth)?;
            if k.is_nil() {
                return Err(ser_msg("table index is nil"));
            }
            if k.as_number().is_some_and(f64::is_nan) {
                return Err(ser_msg("table index is NaN"));
            }
            if !t.get(k).is_nil() {
                return Err(ser_msg("duplicate table key"));
            }
            let v = self.value(vm, depth)?;
            vm.raw_set(t, k, v).map_err(SerError::Lua)?;
        }
        Ok(t.to_value())
    }
}

fn encode(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.arg(base, nargs, 0);
    let mut out = Vec::new();
    serialize(&mut out, v, SER_DEPTH, vm.heap.room()).map_err(|e| ser_error(vm, e))?;
    vm.charge_bytes(out.len())?;
    let s = vm.str_value_owned(out);
    vm.push(s);
    Ok(1)
}

fn decode(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let Some(s) = vm.arg(base, nargs, 0).as_string() else {
        return Err(vm.type_arg_error(base, nargs, 0, "string"));
    };
    let mut d = Decoder { data: s.as_bytes(), pos: 0 };
    let v = d.value(vm, SER_DEPTH).map_err(|e| ser_error(vm, e))?;
    if d.remaining() > 0 {
        return Err(vm.rt_error("left-over data in buffer"));
    }
    vm.push(v);
    Ok(1)
}

fn encode_method(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    let v = vm.arg(base, nargs, 1);
    let mut out = Vec::new();
    serialize(&mut out, v, SER_DEPTH, vm.heap.room()).map_err(|e| ser_error(vm, e))?;
    append(vm, u, &out)?;
    vm.push(u.to_value());
    Ok(1)
}

fn decode_method(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = check_buf(vm, base, nargs, 0)?;
    // Decoding allocates strings and tables but runs no Lua code, so the buffer's
    // bytes can be read in place (borrowed: a nested use of this buffer fails).
    let Some(cell) = buf_cell(&u) else { return Err(vm.rt_error("buffer in use")) };
    let Ok(sb) = cell.try_borrow() else { return Err(vm.rt_error("buffer in use")) };
    let mut d = Decoder { data: sb.data(), pos: 0 };
    let r = d.value(vm, SER_DEPTH);
    let used = d.pos;
    drop(sb);
    let v = r.map_err(|e| ser_error(vm, e))?;
    with_buf(u, |b| b.consume(used));
    vm.push(v);
    Ok(1)
}
