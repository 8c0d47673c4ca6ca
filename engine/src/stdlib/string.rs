//! The string library: `string.byte`, `char`, `dump`, `find`, `format`, `gmatch`,
//! `gsub`, `len`, `lower`, `match`, `rep`, `reverse`, `sub`, `upper`, and the string
//! metatable (`("x"):upper()`).
//!
//! The pattern engine is `stdlib::pattern` and the `string.format` core is
//! `stdlib::strformat`; this module checks arguments, converts between Lua values and
//! byte offsets, and hooks the matcher to the instruction budget so that a
//! catastrophic pattern can be stopped like a runaway loop.
//!
//! Behaviour follows LuaJIT 2.1 (Lua 5.1 index rules, `init` past the end clamped to
//! the end, `string.rep` with a separator, `string.byte` limited to 8000 results).
//! Integer arguments are converted as x86-64 LuaJIT's `lj_lib_checkint` does: to a
//! 32-bit integer by truncation, NaN and out-of-range values becoming -2^31 (so
//! `("abc"):sub(1, 2^40)` is `""` and `("x"):rep(2^40)` is `""`, as in the reference).

use crate::gc::{GcRef, LuaString};
use crate::number::fmt_number;
use crate::stdlib::pattern::{self, Capture, Gsub, Match, Matcher, PatternError};
use crate::stdlib::strformat::{self, FormatArgs, FormatError, FormatNumber};
use crate::value::{LuaType, Value};
use crate::vm::{ErrorKind, LResult, LuaError, NativeFn, Vm};

/// LuaJIT's `LJ_MAX_STR`: results of this length or longer raise "not enough
/// memory" before anything is allocated.
pub const MAX_STR: usize = 0x7fff_ff00;

/// Most results `string.byte` returns (LuaJIT's `LUAI_MAXCSTACK`).
const MAX_BYTE_RESULTS: usize = 8000;

/// Matcher steps between budget checks.
const STEP_INTERVAL: u64 = 4096;

const FUNCS: &[(&str, NativeFn)] = &[
    ("byte", byte),
    ("char", char),
    ("dump", dump),
    ("find", find),
    ("format", format),
    ("gmatch", gmatch),
    ("gsub", gsub),
    ("len", len),
    ("lower", lower),
    ("match", match_),
    ("rep", rep),
    ("reverse", reverse),
    ("sub", sub),
    ("upper", upper),
];

/// Opens `string`, installs the string metatable and registers `string.buffer` for
/// `require`.
pub fn open(vm: &mut Vm) {
    let dump = crate::stdlib::lib(vm).caps.string_dump;
    let t = super::register_lib_granted(vm, "string", FUNCS, |n| dump || n != "dump");
    // What the trace recorder compiles inline: `string.byte(s, i)` for one byte,
    // `string.len(s)`.
    vm.jit_builtin(byte, crate::jit::ir::IrOp::SBYTE);
    vm.jit_builtin(len, crate::jit::ir::IrOp::ALEN);
    let mt = vm.new_table(0, 1);
    vm.set_field(mt, "__index", t.to_value());
    vm.type_meta[crate::vm::type_slot(LuaType::String)] = Some(mt);
    super::buffer::register(vm);
}

// ----- Helpers -------------------------------------------------------------------------

/// The size below which a library function's scratch buffer is not checked against
/// the memory limit (see [`reserve`]).
pub(crate) const SMALL_SCRATCH: usize = 64 << 10;

/// The "not enough memory" error (no position, as LuaJIT's `lj_err_mem`).
pub(crate) fn mem_error(vm: &mut Vm) -> LuaError {
    vm.mem_error()
}

/// Reserves room for `extra` more bytes in `out`, failing cleanly (with "not enough
/// memory") past [`MAX_STR`], past the state's memory limit (counting what `out`
/// already holds) or when the allocation fails. Buffers up to [`SMALL_SCRATCH`] are
/// not held against the limit: they live for one call, the hosts' caps leave room for
/// them, and so a script that filled its heap can still `print` the error it caught.
pub(crate) fn reserve(vm: &mut Vm, out: &mut Vec<u8>, extra: usize) -> LResult<()> {
    let want = out.len().saturating_add(extra);
    let limited = want > SMALL_SCRATCH && vm.heap.would_exceed(want);
    if want >= MAX_STR || limited || out.try_reserve(extra).is_err() {
        return Err(mem_error(vm));
    }
    Ok(())
}

/// A runtime error whose message is raw bytes (with the caller's position).
fn rt_error_bytes(vm: &mut Vm, msg: &[u8]) -> LuaError {
    let e = vm.rt_error("");
    let mut text = match e.value().as_string() {
        Some(p) => p.as_bytes().to_vec(),
        None => Vec::new(),
    };
    text.extend_from_slice(msg);
    let v = vm.str_value(&text);
    LuaError::new(ErrorKind::Runtime, v)
}

/// Runs a pattern operation with a matcher whose step hook charges the instruction
/// budget: a match that exhausts it stops with the budget error (not catchable by
/// `pcall`). Pattern errors become Lua errors with LuaJIT's messages.
fn run_pattern<T>(vm: &mut Vm, f: impl FnOnce(&mut Matcher<'_>) -> Result<T, PatternError>) -> LResult<T> {
    let mut stop: Option<LuaError> = None;
    let (r, rest) = {
        let mut hook = |steps: u64| -> bool {
            match vm.charge(steps) {
                Ok(()) => true,
                Err(e) => {
                    stop = Some(e);
                    false
                }
            }
        };
        let mut m = Matcher::with_step_hook(STEP_INTERVAL, &mut hook);
        let r = f(&mut m);
        (r, m.unreported())
    };
    // Charge the steps since the last hook call too.
    let charged = if stop.is_none() { vm.charge(rest) } else { Ok(()) };
    match r {
        Ok(v) => charged.map(|()| v),
        Err(PatternError::Interrupted) => Err(match stop {
            Some(e) => e,
            None => {
                let v = vm.str_value(b"instruction budget exhausted");
                LuaError::new(ErrorKind::Budget, v)
            }
        }),
        Err(e) => Err(vm.rt_error(e.message())),
    }
}

/// A pattern error outside `run_pattern` (capture extraction).
fn pattern_error(vm: &mut Vm, e: PatternError) -> LuaError {
    vm.rt_error(e.message())
}

/// The Lua value of a capture: a substring or a position number.
fn capture_value(vm: &mut Vm, c: Capture, subject: &[u8]) -> Value {
    match c {
        Capture::Str { start, end } => vm.str_value(subject.get(start..end).unwrap_or(&[])),
        Capture::Position(p) => Value::number(p as f64),
    }
}

/// Pushes captures `caps` (or the first error).
fn push_captures(vm: &mut Vm, caps: Result<Vec<Capture>, PatternError>, subject: &[u8]) -> LResult<usize> {
    let caps = caps.map_err(|e| pattern_error(vm, e))?;
    for &c in &caps {
        let v = capture_value(vm, c, subject);
        vm.push(v);
    }
    Ok(caps.len())
}

/// Pushes a new string.
fn push_bytes(vm: &mut Vm, b: &[u8]) {
    let v = vm.str_value(b);
    vm.push(v);
}

/// Pushes a new string made from a buffer built here (no copy of a long one).
fn push_owned(vm: &mut Vm, b: Vec<u8>) {
    let v = vm.str_value_owned(b);
    vm.push(v);
}

/// An integer argument, as `lj_lib_checkint` on x86-64 (see the module docs).
fn check_i32(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<i64> {
    Ok(i64::from(strformat::num2i32(vm.check_number(base, nargs, i)?)))
}

/// An optional integer argument (`def` when nil or absent).
fn opt_i32(vm: &mut Vm, base: usize, nargs: usize, i: usize, def: i64) -> LResult<i64> {
    if vm.arg(base, nargs, i).is_nil() {
        Ok(def)
    } else {
        check_i32(vm, base, nargs, i)
    }
}

// ----- Simple functions ----------------------------------------------------------------

fn len(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if nargs == 0 {
        // LuaJIT's fast path pads the missing argument with nil.
        return Err(vm.arg_error(1, "string expected, got nil"));
    }
    let s = vm.check_str(base, nargs, 0)?;
    vm.push(Value::number(s.len() as f64));
    Ok(1)
}

/// Lua 5.1 `(start, end)` range rules on a string of length `len`: negative
/// indices count from the end, `start` below 1 becomes 1, `end` past the end becomes
/// `len`. Returns a 0-based half-open range, or `None` if empty.
fn str_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX - 1);
    let end = if end < 0 {
        end.saturating_add(len_i + 1)
    } else if end > len_i {
        len_i
    } else {
        end
    };
    let start = if start < 0 { start.saturating_add(len_i + 1) } else { start }.max(1);
    if start > end {
        return None;
    }
    // 1 <= start <= end <= len here.
    Some((usize::try_from(start - 1).ok()?, usize::try_from(end).ok()?))
}

fn sub(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let start = check_i32(vm, base, nargs, 1)?;
    let end = opt_i32(vm, base, nargs, 2, -1)?;
    match str_range(s.len(), start, end) {
        None => push_bytes(vm, b""),
        Some((0, e)) if e == s.len() => vm.push(s.to_value()),
        Some((a, e)) => {
            vm.reserve_mem(e - a)?;
            vm.charge_bytes(e - a)?;
            push_bytes(vm, s.as_bytes().get(a..e).unwrap_or(&[]));
        }
    }
    Ok(1)
}

fn byte(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let start = opt_i32(vm, base, nargs, 1, 1)?;
    let end = opt_i32(vm, base, nargs, 2, start)?;
    let Some((a, e)) = str_range(s.len(), start, end) else { return Ok(0) };
    let n = e - a;
    if n > MAX_BYTE_RESULTS {
        return Err(vm.rt_error("string slice too long"));
    }
    let bytes = s.as_bytes().get(a..e).unwrap_or(&[]);
    for &c in bytes {
        vm.push(Value::number(f64::from(c)));
    }
    Ok(bytes.len())
}

fn char(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.reserve_mem(nargs)?;
    vm.charge(nargs as u64)?;
    let mut buf = Vec::new();
    if buf.try_reserve_exact(nargs).is_err() {
        return Err(mem_error(vm));
    }
    for i in 0..nargs {
        let k = check_i32(vm, base, nargs, i)?;
        match u8::try_from(k) {
            Ok(c) => buf.push(c),
            Err(_) => return Err(vm.arg_error(i + 1, "invalid value")),
        }
    }
    push_bytes(vm, &buf);
    Ok(1)
}

fn map_bytes(vm: &mut Vm, base: usize, nargs: usize, f: fn(&[u8]) -> Vec<u8>) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    vm.reserve_mem(s.len())?;
    vm.charge_bytes(s.len())?;
    let out = f(s.as_bytes());
    push_owned(vm, out);
    Ok(1)
}

fn lower(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    map_bytes(vm, base, nargs, |b| b.to_ascii_lowercase())
}

fn upper(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    map_bytes(vm, base, nargs, |b| b.to_ascii_uppercase())
}

fn reverse(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    map_bytes(vm, base, nargs, |b| b.iter().rev().copied().collect())
}

fn rep(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let n = check_i32(vm, base, nargs, 1)?;
    let sep = vm.opt_str(base, nargs, 2)?;
    let sep: &[u8] = match &sep {
        Some(p) => p.as_bytes(),
        None => &[],
    };
    let sb = s.as_bytes();
    if n <= 0 || (sb.is_empty() && sep.is_empty()) {
        push_bytes(vm, b"");
        return Ok(1);
    }
    if n == 1 {
        vm.push(s.to_value());
        return Ok(1);
    }
    // n >= 2: s, then (sep .. s) n-1 times.
    let n = n as u128;
    let total = sb.len() as u128 * n + sep.len() as u128 * (n - 1);
    if total >= MAX_STR as u128 {
        return Err(mem_error(vm));
    }
    // Build (s .. sep) n times by doubling, then drop the last separator.
    let full = total as usize + sep.len();
    // Nothing is held in Rust locals yet, so a collection here is safe.
    vm.reserve_mem(full)?;
    vm.charge_bytes(full)?;
    let mut out = Vec::new();
    // Two bytes more: the string takes the buffer over with a zero byte on each side.
    if out.try_reserve_exact(full + 2).is_err() {
        return Err(mem_error(vm));
    }
    out.extend_from_slice(sb);
    out.extend_from_slice(sep);
    while out.len() < full {
        let k = out.len().min(full - out.len());
        out.extend_from_within(..k);
    }
    out.truncate(total as usize);
    push_owned(vm, out);
    Ok(1)
}

fn dump(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if !vm.arg(base, nargs, 0).is_function() {
        return Err(vm.type_arg_error(base, nargs, 0, "function"));
    }
    // Natives cannot be dumped (as in LuaJIT). Lua functions dump to moonbox's own
    // binary chunk format (compiler/dump.rs), which `load` verifies before running.
    let strip = vm.arg(base, nargs, 1).truthy();
    match vm.dump_function(vm.arg(base, nargs, 0), strip) {
        Some(bytes) => {
            let s = vm.str_value(&bytes);
            vm.push(s);
            Ok(1)
        }
        None => Err(vm.rt_error("unable to dump given function")),
    }
}

// ----- find, match, gmatch, gsub -------------------------------------------------------

fn str_find_aux(vm: &mut Vm, base: usize, nargs: usize, find: bool) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let p = vm.check_str(base, nargs, 1)?;
    let init = opt_i32(vm, base, nargs, 2, 1)?;
    let (sb, pb) = (s.as_bytes(), p.as_bytes());
    let st = pattern::start_offset(sb.len(), init);
    if find && (vm.arg(base, nargs, 3).truthy() || !pattern::has_pattern_specials(pb)) {
        // Charged as it scans: a needle that almost matches everywhere costs the
        // subject's length times the needle's.
        let mut stop = None;
        let found = pattern::find_plain_charged(sb, pb, st, &mut |bytes| match vm.charge_bytes(bytes) {
            Ok(()) => true,
            Err(e) => {
                stop = Some(e);
                false
            }
        });
        if let Some(e) = stop {
            return Err(e);
        }
        return Ok(match found {
            Some(i) => {
                vm.push(Value::number((i + 1) as f64));
                vm.push(Value::number((i + pb.len()) as f64));
                2
            }
            None => {
                vm.push(Value::NIL);
                1
            }
        });
    }
    let m = run_pattern(vm, |m| m.find(sb, pb, st))?;
    let Some(m) = m else {
        vm.push(Value::NIL);
        return Ok(1);
    };
    if find {
        vm.push(Value::number((m.start + 1) as f64));
        vm.push(Value::number(m.end as f64));
        Ok(2 + push_captures(vm, m.captures(), sb)?)
    } else {
        push_captures(vm, m.values(), sb)
    }
}

fn find(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    str_find_aux(vm, base, nargs, true)
}

fn match_(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    str_find_aux(vm, base, nargs, false)
}

fn gmatch(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let p = vm.check_str(base, nargs, 1)?;
    let f = vm.native_closure(gmatch_aux, "gmatch_aux", vec![s.to_value(), p.to_value(), Value::number(0.0)]);
    vm.push(f);
    Ok(1)
}

/// The `gmatch` iterator. Upvalues: subject, pattern, next start offset. As in Lua
/// 5.1, `^` is not an anchor here.
fn gmatch_aux(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let (sv, pv) = (vm.native_upval(0), vm.native_upval(1));
    let (Some(s), Some(p)) = (sv.as_string(), pv.as_string()) else { return Ok(0) };
    let pos = vm.native_upval(2).as_number().unwrap_or(0.0);
    let (sb, pb) = (s.as_bytes(), p.as_bytes());
    if !(pos >= 0.0 && pos <= sb.len() as f64) {
        return Ok(0);
    }
    let pos = pos as usize;
    let found: Option<Match> = run_pattern(vm, |m| {
        if pb.first() == Some(&b'^') {
            // `find` would treat the `^` as an anchor: try each position instead.
            for src in pos..=sb.len() {
                if let Some(mt) = m.match_at(sb, pb, src)? {
                    return Ok(Some(mt));
                }
            }
            Ok(None)
        } else {
            m.find(sb, pb, pos)
        }
    })?;
    let Some(m) = found else { return Ok(0) };
    let next = if m.end == m.start { m.end + 1 } else { m.end };
    vm.set_native_upval(2, Value::number(next as f64));
    push_captures(vm, m.values(), sb)
}

/// How many bytes `pattern::expand_replacement` appends for match `m`.
fn expansion_len(repl: &[u8], m: &Match) -> Result<usize, PatternError> {
    let mut n = 0usize;
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != b'%' {
            n = n.saturating_add(1);
            continue;
        }
        let d = repl.get(i).copied().unwrap_or(0);
        i += 1;
        let k = if !d.is_ascii_digit() {
            1
        } else if d == b'0' {
            m.end - m.start
        } else {
            match m.value(usize::from(d - b'1'))? {
                Capture::Str { start, end } => end.saturating_sub(start),
                Capture::Position(p) => p.to_string().len(),
            }
        };
        n = n.saturating_add(k);
    }
    Ok(n)
}

enum Repl {
    Str(GcRef<LuaString>),
    Func(Value),
    Table(Value),
}

fn gsub(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let p = vm.check_str(base, nargs, 1)?;
    let max_n = if vm.arg(base, nargs, 3).is_nil() { None } else { Some(check_i32(vm, base, nargs, 3)?) };
    let rv = vm.arg(base, nargs, 2);
    let repl = match rv.lua_type() {
        LuaType::String | LuaType::Number => Repl::Str(vm.check_str(base, nargs, 2)?),
        LuaType::Function => Repl::Func(rv),
        LuaType::Table => Repl::Table(rv),
        _ => return Err(vm.arg_error(3, "string/function/table expected")),
    };
    let (out, count) = match repl {
        Repl::Str(r) => gsub_string(vm, s, p, r, max_n)?,
        Repl::Func(f) => gsub_call(vm, s, p, f, true, max_n)?,
        Repl::Table(t) => gsub_call(vm, s, p, t, false, max_n)?,
    };
    vm.charge_bytes(out.len())?;
    push_owned(vm, out);
    vm.push(Value::number(count as f64));
    Ok(2)
}

/// `gsub` with a replacement string: no Lua code runs, so the whole loop runs on one
/// matcher.
fn gsub_string(
    vm: &mut Vm,
    s: GcRef<LuaString>,
    p: GcRef<LuaString>,
    r: GcRef<LuaString>,
    max_n: Option<i64>,
) -> LResult<(Vec<u8>, usize)> {
    let (sb, pb, rb) = (s.as_bytes(), p.as_bytes(), r.as_bytes());
    let mut out = Vec::new();
    reserve(vm, &mut out, sb.len())?;
    let has_escape = rb.contains(&b'%');
    let room = vm.heap.room().min(MAX_STR);
    // Ok(Err(())) means "result too large".
    let r = run_pattern(vm, |m| {
        let mut g = Gsub::new(pb, max_n);
        while let Some(mt) = g.next(m, sb, pb, &mut out)? {
            let extra = if has_escape { expansion_len(rb, &mt)? } else { rb.len() };
            // Room for the expansion plus every unmatched byte still to be copied.
            let want = extra.saturating_add(sb.len());
            if out.len().saturating_add(extra) >= room || out.try_reserve(want).is_err() {
                return Ok(Err(()));
            }
            if has_escape {
                pattern::expand_replacement(rb, sb, &mt, &mut out)?;
            } else {
                out.extend_from_slice(rb);
            }
        }
        Ok(Ok(g.count()))
    })?;
    match r {
        Ok(n) => Ok((out, n)),
        Err(()) => Err(mem_error(vm)),
    }
}

/// `gsub` with a function (`call`) or table replacement. Subject and pattern are
/// copied out of the heap because Lua code runs between matches.
fn gsub_call(
    vm: &mut Vm,
    s: GcRef<LuaString>,
    p: GcRef<LuaString>,
    repl: Value,
    call: bool,
    max_n: Option<i64>,
) -> LResult<(Vec<u8>, usize)> {
    let sb = s.as_bytes().to_vec();
    let pb = p.as_bytes().to_vec();
    let mut out = Vec::new();
    reserve(vm, &mut out, sb.len())?;
    let mut g = Gsub::new(&pb, max_n);
    loop {
        let next = run_pattern(vm, |m| g.next(m, &sb, &pb, &mut out))?;
        let Some(mt) = next else { break };
        let r = if call {
            let caps = mt.values().map_err(|e| pattern_error(vm, e))?;
            let mut args = Vec::with_capacity(caps.len());
            for &c in &caps {
                args.push(capture_value(vm, c, &sb));
            }
            vm.call_value1(repl, &args)?
        } else {
            let c = mt.value(0).map_err(|e| pattern_error(vm, e))?;
            let k = capture_value(vm, c, &sb);
            vm.index_value(repl, k)?
        };
        let whole = sb.get(mt.start..mt.end).unwrap_or(&[]);
        if r.is_falsy() {
            reserve(vm, &mut out, whole.len().saturating_add(sb.len()))?;
            out.extend_from_slice(whole);
        } else if let Some(rs) = r.as_string() {
            reserve(vm, &mut out, rs.len().saturating_add(sb.len()))?;
            out.extend_from_slice(rs.as_bytes());
        } else if let Some(n) = r.as_number() {
            reserve(vm, &mut out, 32usize.saturating_add(sb.len()))?;
            fmt_number(n, &mut out);
        } else {
            return Err(vm.rt_error(&format!("invalid replacement value (a {})", r.type_name())));
        }
    }
    Ok((out, g.count()))
}

// ----- format ------------------------------------------------------------------------

/// `string.format`'s view of the VM stack.
struct FmtArgs<'a> {
    vm: &'a mut Vm,
    base: usize,
    nargs: usize,
    /// An upper bound of the bytes appended so far, checked against the memory limit
    /// before each argument is formatted.
    produced: usize,
}

impl FmtArgs<'_> {
    /// Accounts `bytes` more output: "not enough memory" past the state's limit or
    /// LuaJIT's longest string, and their work charged.
    fn grow(&mut self, bytes: usize) -> Result<(), LuaError> {
        self.produced = self.produced.saturating_add(bytes);
        if self.produced >= MAX_STR {
            return Err(self.vm.mem_error());
        }
        // The output vector's capacity may reach twice what it holds, and while it
        // reallocates the old buffer is live too; the result string is one more copy.
        // The worst case is checked, so the limit refuses before the allocator can.
        self.vm.check_mem(self.produced.saturating_mul(3))?;
        self.vm.charge_bytes(bytes)
    }
}

impl FormatArgs for FmtArgs<'_> {
    type Error = LuaError;

    fn arg_count(&self) -> usize {
        self.nargs
    }

    fn number(&mut self, arg: usize) -> Option<FormatNumber> {
        let v = self.vm.arg(self.base, self.nargs, arg.wrapping_sub(1));
        if v.is_cdata() {
            // 64-bit integers (and other integer cdata) for `%d %x ...`, as LuaJIT.
            return match crate::ffi::lib::int64_of(self.vm, v, 0) {
                Ok(Some((k, true))) => Some(FormatNumber::UInt64(k)),
                Ok(Some((k, false))) => Some(FormatNumber::Int64(k as i64)),
                _ => None,
            };
        }
        Vm::to_arith_number(v).map(FormatNumber::Num)
    }

    fn reserve(&mut self, bytes: usize) -> Result<(), LuaError> {
        self.grow(bytes)
    }

    fn string(&mut self, arg: usize, quoted: bool, sink: &mut dyn FnMut(&[u8])) -> Result<(), LuaError> {
        // `%q` writes up to four bytes for one; `%s` pads to at most 99.
        let size = |n: usize| if quoted { n.saturating_mul(4).saturating_add(2) } else { n.max(99) };
        let v = self.vm.arg(self.base, self.nargs, arg.wrapping_sub(1));
        if let Some(s) = v.as_string() {
            self.grow(size(s.len()))?;
            sink(s.as_bytes());
            return Ok(());
        }
        let r = self.vm.tostring(v)?;
        if let Some(s) = r.as_string() {
            self.grow(size(s.len()))?;
            sink(s.as_bytes());
        } else {
            // `__tostring` returned a non-string: LuaJIT formats that value plainly.
            let b = self.vm.tostring_basic(r);
            sink(&b);
        }
        Ok(())
    }

    fn pointer(&mut self, arg: usize) -> usize {
        let v = self.vm.arg(self.base, self.nargs, arg.wrapping_sub(1));
        if v.is_gc() || v.lua_type() == LuaType::LightUserdata {
            v.addr()
        } else {
            0
        }
    }
}

fn format(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let mut out = Vec::new();
    format_into(vm, base, nargs, 0, &mut out)?;
    push_owned(vm, out);
    Ok(1)
}

/// `string.format` with the format string at argument `fi` (0-based) and the values
/// after it, appending to `out`; error messages count arguments from the start of
/// the call (so `buf:putf(fmt, ...)` reports the right numbers).
pub(crate) fn format_into(vm: &mut Vm, base: usize, nargs: usize, fi: usize, out: &mut Vec<u8>) -> LResult<()> {
    let f = vm.check_str(base, nargs, fi)?;
    // `%s` may run `__tostring`: then work on a copy of the format string rather than
    // hold a reference into the heap across a call into Lua.
    let may_call = (fi + 1..nargs).any(|i| !(vm.stack[base + i].is_string() || vm.stack[base + i].is_number()));
    let owned;
    let fb: &[u8] = if may_call {
        owned = f.as_bytes().to_vec();
        &owned
    } else {
        f.as_bytes()
    };
    let r = {
        let mut args = FmtArgs { vm: &mut *vm, base: base + fi, nargs: nargs.saturating_sub(fi), produced: out.len() };
        strformat::format(fb, &mut args, out)
    };
    match r {
        Ok(()) => Ok(()),
        Err(FormatError::InvalidOption(spec)) => {
            let mut msg = b"invalid option '".to_vec();
            msg.extend_from_slice(&spec);
            msg.extend_from_slice(b"' to 'format'");
            Err(rt_error_bytes(vm, &msg))
        }
        Err(FormatError::NoValue { arg }) => Err(vm.arg_error(fi + arg, "value expected")),
        Err(FormatError::NotANumber { arg }) => {
            Err(vm.type_arg_error(base, nargs, (fi + arg).saturating_sub(1), "number"))
        }
        Err(FormatError::Arg(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use crate::value::Value;
    use crate::vm::{ErrorKind, LResult, Vm};

    fn run(vm: &mut Vm, src: &str) -> LResult<Vec<Value>> {
        let f = vm.load(src.as_bytes(), b"=test", None)?;
        vm.call_value(f, &[], -1)
    }

    /// `("a"):rep(40)` against `("a*"):rep(30) .. "b"` backtracks for ages: the step
    /// hook must stop it through the instruction budget, and `pcall` must not catch it.
    #[test]
    fn catastrophic_pattern_is_stopped_by_the_budget() {
        let mut vm = crate::stdlib::test_vm();
        vm.budget_hook = Some(Box::new(|| None));
        vm.budget = 1_000_000;
        let r = run(&mut vm, "return pcall(string.find, ('a'):rep(40), ('a*'):rep(30) .. 'b')");
        assert!(matches!(&r, Err(e) if e.kind() == ErrorKind::Budget), "{r:?}");

        let mut vm = crate::stdlib::test_vm();
        vm.budget_hook = Some(Box::new(|| None));
        vm.budget = 1_000_000;
        let r = run(&mut vm, "local n = 0 for _ in ('a'):rep(40):gmatch(('a*'):rep(30) .. 'b') do n = n + 1 end");
        assert!(matches!(&r, Err(e) if e.kind() == ErrorKind::Budget), "{r:?}");

        let mut vm = crate::stdlib::test_vm();
        vm.budget_hook = Some(Box::new(|| None));
        vm.budget = 1_000_000;
        let r = run(&mut vm, "return (('a'):rep(40):gsub(('a*'):rep(30) .. 'b', function() end))");
        assert!(matches!(&r, Err(e) if e.kind() == ErrorKind::Budget), "{r:?}");
    }

    /// Matching charges the budget; a hook that grants more lets it finish.
    #[test]
    fn matching_charges_the_budget() {
        let mut vm = crate::stdlib::test_vm();
        let grants = std::rc::Rc::new(std::cell::Cell::new(0));
        let g = grants.clone();
        vm.budget_hook = Some(Box::new(move || {
            g.set(g.get() + 1);
            Some(10_000)
        }));
        vm.budget = 10_000;
        let r = run(&mut vm, "return (('ab'):rep(50000):find('b%d'))").expect("runs");
        assert!(r.first().is_some_and(|v| v.is_nil()));
        assert!(grants.get() >= 5, "only {} grants", grants.get());
    }
}
