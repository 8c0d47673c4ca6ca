//! What error messages and tracebacks know about the running code: positions,
//! the names of values (`global 'x'`, `field 'f'`, `method 'm'`, ...), function
//! names from call sites.

use crate::bytecode::{Mode, Op};
use crate::compiler::chunk_id;
use crate::gc::GcRef;
use crate::object::Proto;
use crate::value::Value;
use crate::vm::{ErrorKind, Frame, FrameFn, LuaError, Vm};

/// A stack level: a real frame, or the `pcall` / `xpcall` native below a protected
/// frame (index of that protected frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Frame(usize),
    Pcall(usize),
}

/// Depth limit when following `MOV` chains for names.
const NAME_DEPTH: usize = 8;

/// The kind and name of the value in `slot` just before instruction `pc` runs, as
/// LuaJIT infers it: a named local, or where the last write to the slot came from.
pub fn slot_name(p: &Proto, pc: usize, slot: usize) -> Option<(&'static str, Vec<u8>)> {
    slot_name_depth(p, pc, slot, 0)
}

fn slot_name_depth(p: &Proto, pc: usize, slot: usize, depth: usize) -> Option<(&'static str, Vec<u8>)> {
    if depth > NAME_DEPTH {
        return None;
    }
    if let Some(n) = p.local_name(slot, pc) {
        return Some(("local", n.to_vec()));
    }
    let mut i = pc.min(p.code.len());
    while i > 0 {
        i -= 1;
        let Some(ins) = p.ins(i) else { break };
        let op = ins.op()?;
        let (ma, _, _) = op.modes();
        match ma {
            Mode::Base => {
                let hi = if op == Op::KNIL { ins.d() } else { usize::MAX };
                if slot >= ins.a() && slot <= hi {
                    return None;
                }
            }
            Mode::Dst if ins.a() == slot => {
                return match op {
                    Op::MOV => slot_name_depth(p, i, ins.d(), depth + 1),
                    Op::GGET => const_name(p, ins.d()).map(|n| ("global", n)),
                    Op::TGETS => {
                        let n = const_name(p, ins.c())?;
                        if i > 0 {
                            let Some(prev) = p.ins(i - 1) else { break };
                            if prev.op() == Some(Op::MOV) && prev.a() == slot + 1 && prev.d() == ins.b() {
                                return Some(("method", n));
                            }
                        }
                        Some(("field", n))
                    }
                    Op::UGET => p.upval_names.get(ins.d()).map(|n| ("upvalue", n.to_vec())),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    None
}

fn const_name(p: &Proto, i: usize) -> Option<Vec<u8>> {
    p.kgc.get(i).and_then(|v| v.as_string()).map(|s| s.as_bytes().to_vec())
}

impl Vm {
    /// `chunk:line:` of the Lua code at stack level `level` (1 = the running function,
    /// or for a native function the Lua function that called it), or "" if none.
    pub fn where_prefix(&self, level: usize) -> String {
        match self.frame_at_level(level) {
            Some(f) => match f.fun {
                FrameFn::Lua(c, _) => {
                    let p = c.proto;
                    let line = p.line_at(f.pc.saturating_sub(1));
                    format!("{}:{}: ", chunk_id(p.chunkname.as_bytes()), line)
                }
                FrameFn::Native => String::new(),
            },
            None => String::new(),
        }
    }

    /// What stack level `level` (1 = top) is. A frame called by `pcall`/`xpcall`
    /// has that native function one level below it, as in LuaJIT, although our
    /// dispatch loop keeps no frame for it.
    pub fn level(&self, level: usize) -> Option<Level> {
        if level == 0 {
            return None;
        }
        self.levels().nth(level - 1)
    }

    /// Every stack level from the top (level 1) down, in one pass.
    pub fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        let mut i = self.frames.len();
        let mut hidden = false;
        let mut pending: Option<Level> = None;
        std::iter::from_fn(move || loop {
            if let Some(l) = pending.take() {
                return Some(l);
            }
            if i == 0 {
                return None;
            }
            i -= 1;
            let f = &self.frames[i];
            if f.cont == crate::vm::Cont::Protected {
                pending = Some(Level::Pcall(i));
            }
            // A builtin reached by a tail call runs above the frame that called it,
            // which LuaJIT would already have replaced: that frame is not a level.
            if !std::mem::take(&mut hidden) {
                hidden = f.tail && matches!(f.fun, FrameFn::Native);
                return Some(Level::Frame(i));
            }
        })
    }

    /// The frame at `level` (1 = top); a synthetic native frame for `pcall` levels.
    pub fn frame_at_level(&self, level: usize) -> Option<Frame> {
        match self.level(level)? {
            Level::Frame(i) => Some(self.frames[i]),
            Level::Pcall(i) => {
                let f = self.frames[i];
                Some(Frame { func: f.func - 1, base: f.func, fun: FrameFn::Native, cont: crate::vm::Cont::Call, ..f })
            }
        }
    }

    /// A runtime error with the position of the running Lua code (for errors raised
    /// by a native function: the position of its Lua caller).
    #[cold]
    pub fn rt_error(&mut self, msg: &str) -> LuaError {
        let level = match self.frames.last() {
            Some(f) if matches!(f.fun, FrameFn::Native) => 2,
            _ => 1,
        };
        let text = format!("{}{}", self.where_prefix(level), msg);
        let v = self.str_value(text.as_bytes());
        LuaError::new(ErrorKind::Runtime, v)
    }

    /// A runtime error without position information.
    #[cold]
    pub fn plain_error(&mut self, msg: &str) -> LuaError {
        let v = self.str_value(msg.as_bytes());
        LuaError::new(ErrorKind::Runtime, v)
    }

    /// "attempt to <what> <description of v>", naming register `reg` of the running
    /// Lua frame if it can.
    #[cold]
    pub fn op_error(&mut self, v: Value, reg: Option<usize>, what: &str) -> LuaError {
        let desc = self.describe(v, reg);
        self.rt_error(&format!("attempt to {what} {desc}"))
    }

    /// The same for a non-interpreter caller that has no register to name.
    #[cold]
    pub fn type_error(&mut self, v: Value, what: &str, _reg: Option<usize>) -> LuaError {
        self.rt_error(&format!("attempt to {what} a {} value", v.type_name()))
    }

    /// `global 'x' (a nil value)` or `a nil value`.
    fn describe(&self, v: Value, reg: Option<usize>) -> String {
        if let (Some(reg), Some(f)) = (reg, self.frames.last()) {
            if let FrameFn::Lua(c, _) = f.fun {
                if let Some((kind, name)) = slot_name(&c.proto, f.pc.saturating_sub(1), reg) {
                    return format!("{kind} '{}' (a {} value)", String::from_utf8_lossy(&name), v.type_name());
                }
            }
        }
        format!("a {} value", v.type_name())
    }

    /// "attempt to call ..." for the value at `stack[func]`.
    #[cold]
    pub fn call_error(&mut self, func: usize, v: Value) -> LuaError {
        let reg = match self.frames.last() {
            Some(f) if matches!(f.fun, FrameFn::Lua(..)) && func >= f.base => Some(func - f.base),
            _ => None,
        };
        self.op_error(v, reg, "call")
    }

    /// The name a function was called by, from its caller's call instruction:
    /// (namewhat, name), e.g. ("global", "print").
    pub fn frame_call_name(&self, idx: usize) -> Option<(&'static str, Vec<u8>)> {
        let f = self.frames.get(idx)?;
        if f.tail && matches!(f.fun, FrameFn::Native) && idx > 0 {
            // A builtin tail-called by a metamethod replaces it, as in LuaJIT: it
            // is named after the metamethod (`bad argument #1 to '__index'`).
            let prev = self.frames[idx - 1];
            if !matches!(prev.cont, crate::vm::Cont::Call | crate::vm::Cont::Protected) && !prev.tail {
                return self.frame_call_name(idx - 1);
            }
        }
        if f.tail || f.cont == crate::vm::Cont::Protected {
            // Reached by a tail call, or called by pcall (a C function): no name.
            return None;
        }
        let caller = self.frames.get(idx.checked_sub(1)?)?;
        let FrameFn::Lua(c, _) = caller.fun else { return None };
        let p: GcRef<Proto> = c.proto;
        let pc = caller.pc.checked_sub(1)?;
        let ins = p.ins(pc)?;
        let op = ins.op()?;
        if !matches!(f.cont, crate::vm::Cont::Call | crate::vm::Cont::Protected) || self.finalizer_frame == Some(idx) {
            // A metamethod: named after the event of the instruction that called it.
            let ev = match op {
                Op::TGETV | Op::TGETS | Op::TGETB | Op::GGET => "__index",
                Op::TSETV | Op::TSETS | Op::TSETB | Op::GSET => "__newindex",
                Op::ADDVN | Op::ADDNV | Op::ADDVV => "__add",
                Op::SUBVN | Op::SUBNV | Op::SUBVV => "__sub",
                Op::MULVN | Op::MULNV | Op::MULVV => "__mul",
                Op::DIVVN | Op::DIVNV | Op::DIVVV => "__div",
                Op::MODVN | Op::MODNV | Op::MODVV => "__mod",
                Op::POW => "__pow",
                Op::UNM => "__unm",
                Op::LEN => "__len",
                Op::CAT => "__concat",
                Op::ISLT | Op::ISGE => "__lt",
                Op::ISLE | Op::ISGT => "__le",
                Op::ISEQV | Op::ISNEV => "__eq",
                // A finalizer run by the collector step of an allocating instruction.
                Op::TNEW | Op::TDUP | Op::FNEW => "__gc",
                _ => return None,
            };
            return Some(("metamethod", ev.as_bytes().to_vec()));
        }
        match op {
            Op::CALL | Op::CALLT => slot_name(&p, pc, ins.a()),
            Op::ITERC => Some(("for iterator", b"for iterator".to_vec())),
            _ => None,
        }
    }

    /// The name for "bad argument #n to 'name'" of the running native function.
    pub fn native_name(&self) -> (String, bool) {
        let idx = self.frames.len().wrapping_sub(1);
        match self.frame_call_name(idx) {
            Some((kind, name)) => (String::from_utf8_lossy(&name).into_owned(), kind == "method"),
            // No call site to name it (a tail call, a call from a builtin): LuaJIT
            // says '?'.
            None => {
                let name = "?".to_string();
                (name, false)
            }
        }
    }

    /// "bad argument #i to 'f' (msg)" for argument `i` (1-based) of the running
    /// native function; a method call counts `self` as argument 0.
    #[cold]
    pub fn arg_error(&mut self, i: usize, msg: &str) -> LuaError {
        let (name, method) = self.native_name();
        if method {
            if i == 1 {
                return self.rt_error(&format!("calling '{name}' on bad self ({msg})"));
            }
            return self.rt_error(&format!("bad argument #{} to '{name}' ({msg})", i - 1));
        }
        self.rt_error(&format!("bad argument #{i} to '{name}' ({msg})"))
    }

    /// The error value as text, as the standalone interpreter prints it. A limit
    /// stop (budget, cancellation) while its `__tostring` runs is swallowed: use
    /// [`error_text`](Vm::error_text) where it must reach the host.
    pub fn error_to_string(&mut self, e: &LuaError) -> String {
        match self.error_text(e) {
            Ok(s) => s,
            Err(_) => "(error object is not a string)".to_string(),
        }
    }

    /// The error value as text, as the standalone interpreter prints it; `Err` when
    /// the error object's `__tostring` was stopped by the budget or the host (an
    /// error Lua cannot catch, which must stop the script and be reported as the
    /// limit it is). Any other failure of `__tostring` gives the fixed text
    /// "(error object is not a string)", as in LuaJIT.
    pub fn error_text(&mut self, e: &LuaError) -> crate::vm::LResult<String> {
        let v = e.value();
        if let Some(s) = v.as_string() {
            return Ok(s.to_str_lossy().into_owned());
        }
        if v.is_number() {
            return Ok(String::from_utf8_lossy(&self.tostring_basic(v)).into_owned());
        }
        if !v.is_nil() {
            let h = self.metamethod(v, crate::vm::MetaEvent::Tostring);
            if !h.is_nil() {
                match self.call_value1(h, &[v]) {
                    Ok(s) => {
                        if let Some(s) = s.as_string() {
                            return Ok(s.to_str_lossy().into_owned());
                        }
                    }
                    Err(stop) if !stop.kind().catchable() => return Err(stop),
                    Err(_) => {}
                }
            }
        }
        Ok("(error object is not a string)".to_string())
    }

    /// The traceback of coroutine `co` from `level` (0 = its top frame), as
    /// `debug.traceback(co)` lists it: after `co` died with an error, its frames
    /// still show where.
    pub fn thread_traceback(&mut self, co: GcRef<crate::object::Thread>, level: usize) -> String {
        if co == self.cur_thread {
            let on_main = self.cur_thread == self.main_thread;
            return self.traceback_text(level, on_main);
        }
        co.swap_state(self.thread_state());
        let t = self.traceback_text(level, false);
        co.swap_state(self.thread_state());
        t
    }

    /// `luaL_traceback`'s listing, `stack traceback:` and one line per level from
    /// `level` on (0 = the top frame), with LuaJIT's cut: the first 12 levels, `...`,
    /// the last 10. `host_frame` adds the host's entry frame at the bottom, shown as
    /// LuaJIT shows its C entry frame.
    pub fn traceback_text(&self, level: usize, host_frame: bool) -> String {
        /// Levels shown before and after the "..." of a long traceback.
        const LEVELS1: usize = 12;
        const LEVELS2: usize = 10;
        // Natives marked hidden (the FFI's cdata metamethods, as LuaJIT's, which
        // run as part of the instruction) have no line of their own.
        let all: Vec<Level> =
            self.levels().filter(|l| !matches!(l, Level::Frame(i) if self.hidden_native(*i))).collect();
        let levels = all.len();
        let nframes = levels + usize::from(host_frame && levels > 0);
        let line = |l: usize| -> String {
            match all.get(l).copied() {
                Some(Level::Frame(i)) => self.frame_description(i),
                Some(Level::Pcall(i)) => {
                    let name = if self.frames[i].handler.is_some() { "xpcall" } else { "pcall" };
                    format!("[C]: in function '{name}'")
                }
                None => "[C]: at 0x00000000".to_string(),
            }
        };
        let mut out = String::from("stack traceback:");
        let mut l = level;
        let mut lim = LEVELS1;
        while l < nframes {
            l += 1;
            if l > lim {
                if l + LEVELS2 >= nframes {
                    // Few enough levels left: show them all.
                    l -= 1;
                } else {
                    out.push_str("\n\t...");
                    l = nframes - LEVELS2;
                }
                lim = usize::MAX;
                continue;
            }
            out.push_str("\n\t");
            out.push_str(&line(l - 1));
        }
        out
    }

    /// Is frame `idx` a native function marked hidden from tracebacks?
    fn hidden_native(&self, idx: usize) -> bool {
        let f = self.frames[idx];
        if !matches!(f.fun, FrameFn::Native) {
            return false;
        }
        let v = self.stack.get(f.func).copied().unwrap_or(Value::NIL);
        v.as_native_function().is_some_and(|nf| nf.hidden)
    }

    /// One traceback line for frame `idx`.
    pub fn frame_description(&self, idx: usize) -> String {
        let f = self.frames[idx];
        let name = self.frame_call_name(idx);
        match f.fun {
            FrameFn::Native => match name {
                Some((_, n)) => format!("[C]: in function '{}'", String::from_utf8_lossy(&n)),
                None => {
                    let v = self.stack.get(f.func).copied().unwrap_or(Value::NIL);
                    if v.func_kind() == Some(crate::gc::Kind::NativeFunction) {
                        let nf: GcRef<crate::vm::NativeFunction> = GcRef::from_value_payload(v);
                        format!("[C]: in function '{}'", nf.name)
                    } else {
                        "[C]: ?".to_string()
                    }
                }
            },
            FrameFn::Lua(c, _) => {
                let p = c.proto;
                let src = chunk_id(p.chunkname.as_bytes());
                let line = p.line_at(f.pc.saturating_sub(1));
                let what = match name {
                    Some((_, n)) => format!("in function '{}'", String::from_utf8_lossy(&n)),
                    None if p.linedefined == 0 => "in main chunk".to_string(),
                    None => format!("in function <{}:{}>", src, p.linedefined),
                };
                let mut s = format!("{src}:{line}: {what}");
                if f.tail {
                    s.push_str("\n\t(tail call): ?");
                }
                s
            }
        }
    }
}
