//! Binary chunks: `string.dump` output and its loader.
//!
//! The format is moonbox's own (not LuaJIT's: the instruction sets differ), marked
//! by the header `ESC "LJ" 0x82` (LuaJIT's signature with a version byte LuaJIT never
//! uses):
//!
//! ```text
//! chunk := "\x1bLJ" version:u8 chunkname:bytes func
//! func  := numparams:u8 flags:u8 framesize:u8 linedefined:uv lastlinedefined:uv
//!          ncode:uv code:u32le* lines:uv*            (lines only without STRIP)
//!          nknum:uv f64le* nkgc:uv (1 bytes | 2 template)*
//!          nupval:uv (in_parent:u8 index:u8 [name:bytes])*
//!          nlocal:uv (name:bytes reg:u8 startpc:uv endpc:uv)*
//!          nproto:uv func*
//! template := narray:uv kval?* nhash:uv (kval kval?)*
//! kval? := 0 (none) | kval       kval := 1 (false) | 2 (true) | 3 f64le | 4 bytes
//! bytes := len:uv byte*          uv := unsigned LEB128
//! ```
//!
//! Loading never trusts the input: every length is bounded by the remaining bytes,
//! nesting is limited, and [`verify`] checks every operand of every instruction
//! against the prototype before the VM may run it (register and constant indices,
//! jump targets, upvalue and child indices), so a hand-crafted chunk cannot make the
//! interpreter index out of range.

use std::rc::Rc;

use crate::bytecode::{Ins, Mode, Op, JUMP_BIAS, MAX_SLOTS};
use crate::compiler::proto::{KVal, TableTemplate};
use crate::compiler::{Const, FuncProto, LocalVarInfo, UpvalDesc};

/// LuaJIT's signature, so tools that sniff `\x1bLJ` recognise a dump; the version
/// byte (LuaJIT uses 1 and 2) marks moonbox's own instruction set.
const MAGIC: &[u8] = b"\x1bLJ";
const VERSION: u8 = 0x82;
const FLAG_VARARG: u8 = 1;
const FLAG_STRIP: u8 = 2;
/// Deepest function nesting a binary chunk may have.
const MAX_NESTING: usize = 200;

/// Serialises a prototype tree; `strip` drops debug information.
pub fn dump(p: &FuncProto, strip: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    // A stripped chunk has no name of its own: it takes the name it is loaded under.
    put_bytes(&mut out, if strip { b"" } else { &p.chunkname });
    dump_func(&mut out, p, strip);
    out
}

fn put_uv(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_kval(out: &mut Vec<u8>, v: Option<&KVal>) {
    match v {
        None => out.push(0),
        Some(KVal::False) => out.push(1),
        Some(KVal::True) => out.push(2),
        Some(KVal::Num(n)) => {
            out.push(3);
            out.extend_from_slice(&n.to_bits().to_le_bytes());
        }
        Some(KVal::Str(s)) => {
            out.push(4);
            put_bytes(out, s);
        }
    }
}

fn kval(r: &mut Reader<'_>) -> R<Option<KVal>> {
    Ok(match r.u8()? {
        0 => None,
        1 => Some(KVal::False),
        2 => Some(KVal::True),
        3 => Some(KVal::Num(f64::from_bits(r.u64()?))),
        4 => Some(KVal::Str(r.bytes()?)),
        _ => return Err("bad constant"),
    })
}

fn template(r: &mut Reader<'_>) -> R<TableTemplate> {
    let na = r.count(1)?;
    let mut array = Vec::with_capacity(na);
    for _ in 0..na {
        array.push(kval(r)?);
    }
    let nh = r.count(2)?;
    let mut hash = Vec::with_capacity(nh);
    for _ in 0..nh {
        let k = match kval(r)? {
            Some(KVal::Num(n)) if n.is_nan() => return Err("bad constant"),
            Some(k) => k,
            None => return Err("bad constant"),
        };
        hash.push((k, kval(r)?));
    }
    Ok(TableTemplate { array, hash })
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uv(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn dump_func(out: &mut Vec<u8>, p: &FuncProto, strip: bool) {
    out.push(p.numparams);
    out.push(if p.is_vararg { FLAG_VARARG } else { 0 } | if strip { FLAG_STRIP } else { 0 });
    out.push(p.framesize);
    put_uv(out, p.linedefined as u64);
    put_uv(out, p.lastlinedefined as u64);
    put_uv(out, p.code.len() as u64);
    for i in &p.code {
        out.extend_from_slice(&i.0.to_le_bytes());
    }
    if !strip {
        for i in 0..p.code.len() {
            put_uv(out, p.lineinfo.get(i).copied().unwrap_or(0) as u64);
        }
    }
    put_uv(out, p.knum.len() as u64);
    for n in &p.knum {
        out.extend_from_slice(&n.to_bits().to_le_bytes());
    }
    put_uv(out, p.kgc.len() as u64);
    for c in &p.kgc {
        match c {
            Const::Str(s) => {
                out.push(1);
                put_bytes(out, s);
            }
            Const::CData(c) => {
                out.push(3);
                let (kind, a, b) = match *c {
                    crate::compiler::CConst::Int64(i) => (0u8, i as u64, 0u64),
                    crate::compiler::CConst::UInt64(u) => (1, u, 0),
                    crate::compiler::CConst::Complex(re, im) => (2, re.to_bits(), im.to_bits()),
                };
                out.push(kind);
                out.extend_from_slice(&a.to_le_bytes());
                out.extend_from_slice(&b.to_le_bytes());
            }
            Const::Table(t) => {
                out.push(2);
                put_uv(out, t.array.len() as u64);
                for v in &t.array {
                    put_kval(out, v.as_ref());
                }
                put_uv(out, t.hash.len() as u64);
                for (k, v) in &t.hash {
                    put_kval(out, Some(k));
                    put_kval(out, v.as_ref());
                }
            }
        }
    }
    put_uv(out, p.upvals.len() as u64);
    for (i, u) in p.upvals.iter().enumerate() {
        out.push(u.in_parent_stack as u8);
        out.push(u.index);
        if !strip {
            put_bytes(out, p.upval_names.get(i).map(|n| &n[..]).unwrap_or(b""));
        }
    }
    let locals: &[LocalVarInfo] = if strip { &[] } else { &p.locals };
    put_uv(out, locals.len() as u64);
    for l in locals {
        put_bytes(out, &l.name);
        out.push(l.reg);
        put_uv(out, l.startpc as u64);
        put_uv(out, l.endpc as u64);
    }
    put_uv(out, p.protos.len() as u64);
    for c in &p.protos {
        dump_func(out, c, strip);
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, &'static str>;

impl Reader<'_> {
    fn u8(&mut self) -> R<u8> {
        let v = *self.b.get(self.pos).ok_or("truncated")?;
        self.pos += 1;
        Ok(v)
    }
    fn uv(&mut self) -> R<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("bad varint")
    }
    /// A count of items that each take at least `min` bytes.
    fn count(&mut self, min: usize) -> R<usize> {
        let n = self.uv()?;
        let left = (self.b.len() - self.pos) as u64;
        if n.saturating_mul(min as u64) > left {
            return Err("truncated");
        }
        Ok(n as usize)
    }
    fn u32(&mut self) -> R<u32> {
        let s = self.b.get(self.pos..self.pos + 4).ok_or("truncated")?;
        self.pos += 4;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> R<u64> {
        let s = self.b.get(self.pos..self.pos + 8).ok_or("truncated")?;
        self.pos += 8;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn bytes(&mut self) -> R<Box<[u8]>> {
        let n = self.count(1)?;
        let s = self.b.get(self.pos..self.pos + n).ok_or("truncated")?;
        self.pos += n;
        Ok(s.into())
    }
    fn u32v(&mut self) -> R<u32> {
        u32::try_from(self.uv()?).map_err(|_| "bad number")
    }
}

/// True if `b` starts like a binary chunk (of any kind).
pub fn is_binary(b: &[u8]) -> bool {
    b.first() == Some(&0x1b)
}

/// False once `prefix`, the start of a binary chunk, already has a bad header, so a
/// reader need not be drained to find out.
pub fn header_may_match(prefix: &[u8]) -> bool {
    let n = prefix.len().min(MAGIC.len());
    prefix[..n] == MAGIC[..n] && prefix.get(MAGIC.len()).is_none_or(|&v| v == VERSION)
}

/// Loads and verifies a binary chunk. Errors are short reasons; the caller words
/// the Lua message. A stripped chunk's functions are named `=?`.
pub fn undump(b: &[u8]) -> R<FuncProto> {
    undump_named(b, b"=?")
}

/// [`undump`], naming a stripped chunk's functions `chunkname` (the name the chunk is
/// loaded under, as LuaJIT does).
pub fn undump_named(b: &[u8], chunkname: &[u8]) -> R<FuncProto> {
    if !b.starts_with(MAGIC) {
        return Err("bad header");
    }
    let mut r = Reader { b, pos: MAGIC.len() };
    if r.u8()? != VERSION {
        return Err("bad version");
    }
    let stored = r.bytes()?;
    let name: Rc<[u8]> = Rc::from(if stored.is_empty() { chunkname } else { &*stored });
    let f = undump_func(&mut r, &name, 0)?;
    if r.pos != b.len() {
        return Err("trailing garbage");
    }
    verify(&f)?;
    Ok(f)
}

fn undump_func(r: &mut Reader<'_>, name: &Rc<[u8]>, depth: usize) -> R<FuncProto> {
    if depth > MAX_NESTING {
        return Err("nesting too deep");
    }
    let numparams = r.u8()?;
    let flags = r.u8()?;
    let framesize = r.u8()?;
    let linedefined = r.u32v()?;
    let lastlinedefined = r.u32v()?;
    let ncode = r.count(4)?;
    let mut code = Vec::with_capacity(ncode);
    for _ in 0..ncode {
        code.push(crate::bytecode::Ins(r.u32()?));
    }
    let lineinfo = if flags & FLAG_STRIP == 0 {
        let mut l = Vec::with_capacity(ncode);
        for _ in 0..ncode {
            l.push(r.u32v()?);
        }
        l
    } else {
        vec![0; ncode]
    };
    let nn = r.count(8)?;
    let mut knum = Vec::with_capacity(nn);
    for _ in 0..nn {
        knum.push(f64::from_bits(r.u64()?));
    }
    let nk = r.count(2)?;
    let mut kgc = Vec::with_capacity(nk);
    for _ in 0..nk {
        kgc.push(match r.u8()? {
            1 => Const::Str(r.bytes()?),
            2 => Const::Table(template(r)?),
            3 => {
                let kind = r.u8()?;
                let (a, b) = (r.u64()?, r.u64()?);
                Const::CData(match kind {
                    0 => crate::compiler::CConst::Int64(a as i64),
                    1 => crate::compiler::CConst::UInt64(a),
                    2 => crate::compiler::CConst::Complex(f64::from_bits(a), f64::from_bits(b)),
                    _ => return Err("bad constant"),
                })
            }
            _ => return Err("bad constant"),
        });
    }
    let nu = r.count(2)?;
    let mut upvals = Vec::with_capacity(nu);
    let mut upval_names = Vec::with_capacity(nu);
    for _ in 0..nu {
        let in_parent_stack = r.u8()? != 0;
        let index = r.u8()?;
        upvals.push(UpvalDesc { in_parent_stack, index });
        upval_names.push(if flags & FLAG_STRIP == 0 { r.bytes()? } else { Box::from(&b""[..]) });
    }
    let nl = r.count(4)?;
    let mut locals = Vec::with_capacity(nl);
    for _ in 0..nl {
        let name = r.bytes()?;
        let reg = r.u8()?;
        let startpc = r.u32v()?;
        let endpc = r.u32v()?;
        locals.push(LocalVarInfo { name, reg, startpc, endpc });
    }
    let np = r.count(6)?;
    let mut protos = Vec::with_capacity(np);
    for _ in 0..np {
        protos.push(undump_func(r, name, depth + 1)?);
    }
    Ok(FuncProto {
        code,
        lineinfo,
        knum,
        kgc,
        protos,
        upvals,
        upval_names,
        locals,
        numparams,
        is_vararg: flags & FLAG_VARARG != 0,
        framesize,
        linedefined,
        lastlinedefined,
        chunkname: name.clone(),
    })
}

/// Checks that every instruction of `p` (and its children) only refers to
/// registers, constants, upvalues, children and jump targets that exist, so the
/// interpreter can run it without an out-of-range access.
pub fn verify(p: &FuncProto) -> R<()> {
    verify_func(p, 0, None)
}

// One arm per opcode with its own range check reads better than guards folded in.
#[allow(clippy::collapsible_match)]
fn verify_func(p: &FuncProto, depth: usize, parent: Option<(&FuncProto, usize)>) -> R<()> {
    if depth > MAX_NESTING {
        return Err("nesting too deep");
    }
    let fs = p.framesize as usize;
    if fs > MAX_SLOTS || (p.numparams as usize) > fs || p.code.is_empty() {
        return Err("bad frame size");
    }
    if p.lineinfo.len() != p.code.len() || p.upval_names.len() != p.upvals.len() {
        return Err("bad debug info");
    }
    if let Some((pp, _)) = parent {
        for u in &p.upvals {
            let ok = if u.in_parent_stack {
                (u.index as usize) < pp.framesize as usize
            } else {
                (u.index as usize) < pp.upvals.len()
            };
            if !ok {
                return Err("bad upvalue");
            }
        }
    }
    // A dumped function keeps its upvalue descriptions; loaded as a main chunk, it
    // gets fresh upvalues holding nil, as in LuaJIT.
    if p.upvals.len() > crate::bytecode::MAX_UPVALUES {
        return Err("bad upvalue");
    }
    let n = p.code.len();
    // The dispatch loop fetches without a bounds check on the pc (it clamps it), so
    // execution must never run off the end: the last instruction cannot fall through.
    match p.code.last().and_then(|i| i.op()) {
        Some(Op::RET | Op::RET0 | Op::RET1 | Op::CALLT | Op::JMP) => {}
        _ => return Err("code falls off its end"),
    }
    let reg = |r: usize| if r < fs { Ok(()) } else { Err("bad register") };
    let kstr = |i: usize| match p.kgc.get(i) {
        Some(Const::Str(_)) => Ok(()),
        _ => Err("bad string constant"),
    };
    let knum = |i: usize| if i < p.knum.len() { Ok(()) } else { Err("bad number constant") };
    let ktab = |i: usize| match p.kgc.get(i) {
        Some(Const::Table(_)) => Ok(()),
        _ => Err("bad table constant"),
    };
    for (pc, ins) in p.code.iter().enumerate() {
        let op = ins.op().ok_or("bad opcode")?;
        // Patched loops exist only in running code (the JIT's); a chunk never has them.
        if matches!(op, Op::JFORL | Op::JLOOP | Op::IFORL | Op::ILOOP) {
            return Err("bad opcode");
        }
        let (ma, mb, mcd) = op.modes();
        let (a, b, c, d) = (ins.a(), ins.b(), ins.c(), ins.d());
        let cd = if op.is_ad() { d } else { c };
        for (mode, v) in [(ma, a), (mb, b), (mcd, cd)] {
            match mode {
                // Loop markers and UCLO name a level, which may be the frame's end.
                Mode::Base if matches!(op, Op::LOOP | Op::JMP | Op::UCLO) => {
                    if v > fs {
                        return Err("bad level");
                    }
                }
                Mode::Dst | Mode::Var | Mode::Base => reg(v)?,
                Mode::Str => kstr(v)?,
                Mode::Num => knum(v)?,
                Mode::Tab => ktab(v)?,
                Mode::CData => {
                    if !matches!(p.kgc.get(v), Some(Const::CData(_))) {
                        return Err("bad cdata constant");
                    }
                }
                Mode::Uv => {
                    if v >= p.upvals.len() {
                        return Err("bad upvalue index");
                    }
                }
                Mode::Func => {
                    if v >= p.protos.len() {
                        return Err("bad prototype index");
                    }
                }
                Mode::Jump => {
                    let t = pc as i64 + 1 + d as i64 - JUMP_BIAS as i64;
                    if t < 0 || t as usize >= n {
                        return Err("bad jump");
                    }
                }
                Mode::None | Mode::Pri | Mode::Lit | Mode::SLit => {}
            }
        }
        // Instruction-specific ranges.
        match op {
            Op::KNIL => {
                if d < a {
                    return Err("bad range");
                }
            }
            Op::CAT => {
                if b > c {
                    return Err("bad range");
                }
            }
            Op::CALL | Op::CALLT => {
                if b > 0 && a + b > fs {
                    return Err("bad call");
                }
            }
            Op::ITERC => {
                if a < 3 || a + 2 >= fs || c < 1 {
                    return Err("bad iterator");
                }
            }
            Op::ITERL => {
                if a < 1 {
                    return Err("bad iterator");
                }
            }
            Op::TSETM => {
                if a < 1 {
                    return Err("bad table store");
                }
            }
            Op::FORI | Op::FORL => {
                if a + 3 >= fs {
                    return Err("bad for loop");
                }
            }
            Op::VARG => {
                if b > 0 && a + b - 1 > fs {
                    return Err("bad vararg");
                }
            }
            Op::RET => {
                if d > 0 && a + d - 1 > fs {
                    return Err("bad return");
                }
            }
            Op::ISLT
            | Op::ISGE
            | Op::ISLE
            | Op::ISGT
            | Op::ISEQV
            | Op::ISNEV
            | Op::ISEQS
            | Op::ISNES
            | Op::ISEQN
            | Op::ISNEN
            | Op::ISEQP
            | Op::ISNEP
            | Op::ISTC
            | Op::ISFC
            | Op::IST
            | Op::ISF => {
                // Must be followed by a JMP.
                match p.code.get(pc + 1).and_then(|i| i.op()) {
                    Some(Op::JMP) => {}
                    _ => return Err("test without jump"),
                }
            }
            _ => {}
        }
    }
    verify_multres(p)?;
    for c in &p.protos {
        verify_func(c, depth + 1, Some((p, 0)))?;
    }
    Ok(())
}

/// The first slot a multires consumer reads (`None`: not a consumer).
fn multres_consumer(ins: Ins) -> Option<usize> {
    match ins.op()? {
        Op::CALL | Op::CALLT if ins.b() == 0 => Some(ins.a() + 1),
        Op::RET if ins.d() == 0 => Some(ins.a()),
        Op::TSETM => Some(ins.a()),
        _ => None,
    }
}

/// The first slot a multires producer writes (`None`: not a producer).
fn multres_producer(ins: Ins) -> Option<usize> {
    match ins.op()? {
        Op::CALL if ins.c() == 0 => Some(ins.a()),
        Op::VARG if ins.b() == 0 => Some(ins.a()),
        _ => None,
    }
}

/// A multires consumer reads up to the frame's top, which only the instruction right
/// before it may have set: that must be a producer whose values start at or above the
/// consumer's first slot, and no jump may land on the consumer (it would arrive with a
/// stale top). The compiler always emits the pair this way.
fn verify_multres(p: &FuncProto) -> R<()> {
    let mut target = vec![false; p.code.len()];
    for (pc, ins) in p.code.iter().enumerate() {
        let Some(op) = ins.op() else { continue };
        let (_, _, mcd) = op.modes();
        if matches!(mcd, Mode::Jump) {
            let t = pc as i64 + 1 + ins.d() as i64 - JUMP_BIAS as i64;
            if let Some(slot) = usize::try_from(t).ok().and_then(|t| target.get_mut(t)) {
                *slot = true;
            }
        }
    }
    for (pc, ins) in p.code.iter().enumerate() {
        let Some(first) = multres_consumer(*ins) else { continue };
        let produced = pc.checked_sub(1).and_then(|prev| multres_producer(p.code[prev]));
        match produced {
            Some(start) if start >= first && !target[pc] => {}
            _ => return Err("bad multiple results"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::compile;

    #[test]
    fn round_trip() {
        let src = b"local a, b = 1, 'x'\nlocal function f(...) return a, b, {1, 'two', true, x = 0.5, y = a, [false] = 3}, ... end\nreturn f(2, 3)";
        let p = compile(src, b"=t").expect("compiles");
        for strip in [false, true] {
            let bin = dump(&p, strip);
            let q = undump(&bin).expect("loads");
            assert_eq!(q.code, p.code);
            assert_eq!((&q.knum, &q.kgc), (&p.knum, &p.kgc));
            assert_eq!(q.protos.len(), 1);
            assert_eq!(q.protos[0].code, p.protos[0].code);
            assert_eq!(q.protos[0].kgc, p.protos[0].kgc);
            assert!(q.protos[0].kgc.iter().any(|k| matches!(k, Const::Table(_))), "a template");
        }
    }

    /// Every multires pair the compiler emits passes the verifier.
    #[test]
    fn compiled_multiple_results_verify() {
        for src in [
            "local f, g = ... return f(g())",
            "local f, g, a = ... f(a, g())",
            "return ...",
            "local f = ... return f(...)",
            "local g = ... local t = {g()}",
            "local t = {1, 2, ...}",
            "local o, g = ... return o:m(g())",
            "local g = ... local a, b = g() return select('#', g()), {...}",
            "local g = ... for k, v in pairs({g()}) do end return g(g(g()))",
            "local function h(...) return ... end return h(h(...))",
        ] {
            let p = compile(src.as_bytes(), b"=t").expect("compiles");
            if let Err(e) = verify(&p) {
                panic!("{src}: {e}");
            }
        }
    }

    /// Code must end in an instruction that does not fall through (the interpreter
    /// clamps its pc rather than checking it).
    #[test]
    fn code_must_not_fall_off_its_end() {
        for src in
            ["", "return", "local f = ... return f()", "while true do end", "local x = ... if x then return 1 end"]
        {
            let p = compile(src.as_bytes(), b"=t").expect("compiles");
            verify(&p).expect(src);
        }
        let mut p = compile(b"local x = ... return x + 1", b"=t").expect("compiles");
        let last = p.code.len() - 1;
        p.code[last] = Ins::abc(Op::ADDVV, 0, 0, 0);
        assert_eq!(verify(&p), Err("code falls off its end"));
        p.code[last] = Ins::aj(Op::FORL, 0, -1);
        assert_eq!(verify(&p), Err("code falls off its end"));
    }

    /// Found by the `run_binary` fuzz target: a `CALL` with `B = 0` whose previous
    /// instruction set no top read a stale top (an overflow panic in debug builds, a
    /// huge argument count in release builds). A multires consumer needs its producer
    /// right before it, with values at or above its first slot, and no jump onto it.
    #[test]
    fn multiple_results_need_their_producer() {
        let p = compile(b"local f = ... return f(f())", b"=t").expect("compiles");
        let consumer = p.code.iter().position(|i| multres_consumer(*i).is_some()).expect("a consumer");
        assert!(multres_producer(p.code[consumer - 1]).is_some());
        verify(&p).expect("as compiled");
        let consumer_a = p.code[consumer].a() as u8;

        // The producer replaced by an instruction that sets no top.
        let mut q = p.clone();
        q.code[consumer - 1] = Ins::ad(Op::KNIL, consumer_a, consumer_a as u16);
        assert_eq!(verify(&q), Err("bad multiple results"));
        // The producer's values below the consumer's first slot.
        let mut q = p.clone();
        q.code[consumer - 1].set_a(0);
        if consumer_a > 0 {
            assert_eq!(verify(&q), Err("bad multiple results"));
        }
        // A jump onto the consumer.
        let mut q = p.clone();
        q.code.insert(0, Ins::aj(Op::JMP, 0, consumer as i32));
        q.lineinfo.insert(0, 1);
        assert_eq!(q.code[consumer + 1].op(), p.code[consumer].op());
        assert_eq!(verify(&q), Err("bad multiple results"));

        // Loaded as a binary chunk, the broken function is refused, not run.
        let mut q = p.clone();
        q.code[consumer - 1] = Ins::ad(Op::KNIL, consumer_a, consumer_a as u16);
        let bin = dump(&q, false);
        assert!(undump(&bin).is_err() || verify(&undump(&bin).unwrap()).is_err());
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let src = b"local t = {1, 'a', k = 2.5, [true] = false} for i = 1, 10 do t[i] = i end return t";
        let p = compile(src, b"=t").expect("compiles");
        let bin = dump(&p, false);
        // Every truncation and every single-byte corruption either loads a verified
        // prototype or fails cleanly.
        for cut in 0..bin.len() {
            let _ = undump(&bin[..cut]);
        }
        for i in 0..bin.len() {
            for x in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = bin.clone();
                b[i] = x;
                let _ = undump(&b);
            }
        }
    }
}
