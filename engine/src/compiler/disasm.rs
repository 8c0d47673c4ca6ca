//! Bytecode listings in the shape of OpenResty's `luajit -bl` and `-bL`.
//!
//! Contract: [`disassemble_with`] appends, for each function, children first, a header
//! `-- BYTECODE -- chunk:linedefined-lastlinedefined`, then (when [`Listing::constants`]
//! is set) the constant tables as `KGC    i    "str"` / `table` / `chunk:line` (child
//! functions, under their `FNEW` index) and `KN    i    number`, then one line per
//! instruction: index, `[line]` when [`Listing::lineinfo`] is set, `=>` if it is a jump
//! target, op name, operands, and for constants a
//! comment (`; "string"` or `; number`, the upvalue name, or the child's location); jumps
//! print `=> target`. A blank line ends each function. Corrupt instructions print as
//! `???` rather than panicking.

use std::fmt::Write;

use super::proto::{Const, FuncProto};
use crate::bytecode::Mode;

/// Formats a number as Lua's `tostring` does (`%.14g`).
pub fn fmt_num(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{:.13e}", n);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let mant = strip_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, exp.abs())
    } else {
        let prec = (13 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", prec, n)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Quotes a string constant as `jit.bc` does: control characters escaped, long strings
/// cut to 40 bytes and marked with `~`.
fn quote(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for &c in s.iter().take(40) {
        match c {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c < 0x20 || c == 0x7f => {
                let _ = write!(out, "\\{:03}", c);
            }
            c => out.push_str(&String::from_utf8_lossy(&[c])),
        }
    }
    out.push('"');
    if s.len() > 40 {
        out.push('~');
    }
    out
}

fn location(p: &FuncProto) -> String {
    format!("{}:{}", super::chunk_id(&p.chunkname), p.linedefined)
}

/// What a listing shows besides the instructions.
#[derive(Clone, Copy, Debug)]
pub struct Listing {
    /// `[line]` before each instruction (`-bL`).
    pub lineinfo: bool,
    /// The `KGC`/`KN` constant lines after the header (OpenResty's `-bl`/`-bL`).
    pub constants: bool,
}

/// Appends the listing of `p` and all its children to `out`: line numbers, no constant
/// lines (the form the compiler's goldens and `-jdump` use).
pub fn disassemble(p: &FuncProto, out: &mut String) {
    disassemble_with(p, out, Listing { lineinfo: true, constants: false });
}

/// Appends the listing of `p` and all its children to `out` in the form `how` asks for.
pub fn disassemble_with(p: &FuncProto, out: &mut String, how: Listing) {
    for child in &p.protos {
        disassemble_with(child, out, how);
    }
    let _ = writeln!(out, "-- BYTECODE -- {}-{}", location(p), p.lastlinedefined);
    if how.constants {
        constants(p, out);
    }
    let mut targets = vec![false; p.code.len() + 1];
    for (pc, ins) in p.code.iter().enumerate() {
        if let Some(op) = ins.op() {
            if op.modes().2 == Mode::Jump {
                let t = pc as isize + 1 + ins.j();
                if t >= 0 && (t as usize) < targets.len() {
                    targets[t as usize] = true;
                }
            }
        }
    }
    for (pc, ins) in p.code.iter().enumerate() {
        let line = p.lineinfo.get(pc).copied().unwrap_or(0);
        let mark = if targets[pc] { "=>" } else { "  " };
        let _ = write!(out, "{:04} ", pc + 1);
        if how.lineinfo {
            let _ = write!(out, "{:>7} ", format!("[{}]", line));
        }
        let Some(op) = ins.op() else {
            let _ = writeln!(out, "{} ???", mark);
            continue;
        };
        let (ma, mb, mc) = op.modes();
        let a = if ma == Mode::None { String::new() } else { ins.a().to_string() };
        let _ = write!(out, "{} {:<6} {:>3} ", mark, op.name(), a);
        if mc == Mode::Jump {
            let t = pc as isize + 2 + ins.j();
            let _ = writeln!(out, "=> {:04}", t);
            continue;
        }
        let d = if mb != Mode::None { ins.c() } else { ins.d() };
        let kc = operand_comment(p, mc, d);
        let kc = if ma == Mode::Uv {
            let ka = upval_name(p, ins.a());
            Some(match kc {
                Some(k) => format!("{} ; {}", ka, k),
                None => ka,
            })
        } else {
            kc
        };
        if mb != Mode::None {
            match kc {
                Some(k) => writeln!(out, "{:>3} {:>3}  ; {}", ins.b(), d, k),
                None => writeln!(out, "{:>3} {:>3}", ins.b(), d),
            }
        } else if mc == Mode::None {
            // Trim the padding of an operand-less instruction.
            let trimmed = out.trim_end_matches(' ').len();
            out.truncate(trimmed);
            writeln!(out)
        } else {
            match kc {
                Some(k) => writeln!(out, "{:>3}      ; {}", d, k),
                None if mc == Mode::SLit => writeln!(out, "{:>3}", ins.sd()),
                None => writeln!(out, "{:>3}", d),
            }
        }
        .unwrap_or(());
    }
    out.push('\n');
}

/// The `KGC` and `KN` lines: string, table and function constants by the index their
/// instructions use (cdata literals are not listed, as in LuaJIT), then numbers.
fn constants(p: &FuncProto, out: &mut String) {
    for (i, k) in p.kgc.iter().enumerate() {
        match k {
            Const::Str(s) => writeln!(out, "KGC    {}    {}", i, quote(s)),
            Const::Table(_) => writeln!(out, "KGC    {}    table", i),
            Const::CData(_) => Ok(()),
        }
        .unwrap_or(());
    }
    for (i, child) in p.protos.iter().enumerate() {
        let _ = writeln!(out, "KGC    {}    {}", i, location(child));
    }
    for (i, n) in p.knum.iter().enumerate() {
        let _ = writeln!(out, "KN    {}    {}", i, fmt_num(*n));
    }
}

fn upval_name(p: &FuncProto, i: usize) -> String {
    p.upval_names.get(i).map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default()
}

fn operand_comment(p: &FuncProto, mode: Mode, d: usize) -> Option<String> {
    match mode {
        Mode::Str => match p.kgc.get(d) {
            Some(Const::Str(s)) => Some(quote(s)),
            _ => Some("???".into()),
        },
        Mode::Num => match p.knum.get(d) {
            Some(n) => Some(fmt_num(*n)),
            None => Some("???".into()),
        },
        Mode::Tab => match p.kgc.get(d) {
            Some(Const::Table(t)) => Some(format!("{{{} array, {} hash}}", t.array.len(), t.hash.len())),
            _ => Some("???".into()),
        },
        Mode::CData => match p.kgc.get(d) {
            Some(Const::CData(c)) => Some(match c {
                crate::compiler::CConst::Int64(i) => format!("{i}LL"),
                crate::compiler::CConst::UInt64(u) => format!("{u}ULL"),
                crate::compiler::CConst::Complex(re, im) => format!("{}{:+}i", fmt_num(*re), im),
            }),
            _ => Some("???".into()),
        },
        Mode::Func => p.protos.get(d).map(location),
        Mode::Uv => Some(upval_name(p, d)),
        _ => None,
    }
}

/// The listing as a string (convenience for tests and the CLI).
pub fn listing(p: &FuncProto) -> String {
    let mut s = String::new();
    disassemble(p, &mut s);
    s
}
