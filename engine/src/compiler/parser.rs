//! The parser's core and expression grammar (single pass: parsing emits code directly).
//!
//! Contract:
//! - [`Parser`] owns the lexer, the function being compiled (`fs`) and its enclosing
//!   functions (`parents`, innermost last).
//! - Every recursive path goes through [`Parser::subexpr`] or a block (`stmt.rs`), both of
//!   which count syntax levels: more than LuaJIT's 200 is the error "chunk has too many
//!   syntax levels", so the Rust stack depth is bounded for any input.
//! - Error texts are LuaJIT's: "'x' expected near 'y'", "'x' expected (to close 'y' at
//!   line N) near 'z'", "unexpected symbol near 'y'", …

use std::rc::Rc;

use super::func::{Exp, FuncState, EK};
use super::lexer::{Lexer, Tok};
use super::ops::{ArithOp, BinOp, UNARY_PRIORITY};
use super::proto::{KVal, TableTemplate};
use super::SyntaxError;
use crate::bytecode::{Ins, Op};

type R<T> = Result<T, SyntaxError>;

/// LuaJIT's LJ_MAX_XLEVEL.
const MAX_LEVEL: u32 = 200;

/// Stack bytes the parser may use below `compile`'s frame when its host gives no floor
/// (see [`super::Host::stack_floor`]). Optimised builds need about 300 KiB for 200
/// levels; unoptimised ones more, so there this guard may stop nesting a little before
/// LuaJIT's limit, with the same message, instead of overflowing.
const STACK_BUDGET: usize = 1 << 20;

use crate::native_stack::stack_pos;

pub(super) struct Parser<'a> {
    pub lex: Lexer<'a>,
    pub fs: FuncState,
    pub parents: Vec<FuncState>,
    pub level: u32,
    pub chunkname: Rc<[u8]>,
    /// The lowest stack address a syntax level may start at.
    stack_floor: usize,
    /// Work not yet reported to the host (budget units), besides the source bytes.
    work: u64,
    /// Source offset up to which work was reported.
    off_reported: usize,
    /// Bytes the compiler's output and tables are estimated to hold, and how much of
    /// that was reported.
    mem: usize,
    mem_reported: usize,
}

/// Bytes a template value holds outside its slot.
fn kval_bytes(v: &KVal) -> usize {
    match v {
        KVal::Str(s) => s.len(),
        _ => 0,
    }
}

/// Work (units) or memory growth (bytes) past which the parser reports to its host.
const REPORT_WORK: u64 = 4096;
const REPORT_MEM: usize = 256 << 10;
/// Source bytes per unit of work.
const SOURCE_BYTES_PER_UNIT: usize = 16;

impl<'a> Parser<'a> {
    pub fn new(src: &'a [u8], chunkname: &[u8]) -> Parser<'a> {
        Parser::with_lexer(Lexer::new(src, super::chunk_id(chunkname)), chunkname)
    }

    /// A parser reading from `lex`, whose chunk name is `chunkname`.
    pub fn with_lexer(lex: Lexer<'a>, chunkname: &[u8]) -> Parser<'a> {
        let stack_floor = match lex.stack_floor() {
            0 => stack_pos().saturating_sub(STACK_BUDGET),
            f => f,
        };
        Parser {
            lex,
            fs: FuncState::new(0),
            parents: Vec::new(),
            level: 0,
            chunkname: Rc::from(chunkname),
            stack_floor,
            work: 0,
            off_reported: 0,
            mem: 0,
            mem_reported: 0,
        }
    }

    // ---- Token helpers ------------------------------------------------------------

    pub(super) fn next(&mut self) -> R<()> {
        self.lex.next_token()?;
        self.work += 1;
        if self.work >= REPORT_WORK || self.mem - self.mem_reported >= REPORT_MEM {
            self.report()?;
        }
        Ok(())
    }

    /// `n` entries scanned (labels, gotos): work that grows with the program's shape,
    /// not its length, so it is counted on its own.
    pub(super) fn scanned(&mut self, n: usize) -> R<()> {
        self.work = self.work.saturating_add(n as u64 / 4);
        if self.work >= REPORT_WORK {
            self.report()?;
        }
        Ok(())
    }

    /// About `bytes` more held by the compiler (checked at the next token).
    #[inline]
    pub(super) fn held(&mut self, bytes: usize) {
        self.mem = self.mem.saturating_add(bytes);
    }

    /// Reports the work and memory since the last report to the host; an error when it
    /// says stop (the host keeps the real reason).
    fn report(&mut self) -> R<()> {
        let off = self.lex.offset();
        let units = self.work + (off.saturating_sub(self.off_reported) / SOURCE_BYTES_PER_UNIT) as u64;
        let grew = self.mem - self.mem_reported;
        self.work = 0;
        self.off_reported = off;
        self.mem_reported = self.mem;
        if self.lex.host_allows(units, grew) {
            Ok(())
        } else {
            Err(self.lex.error_plain("compilation stopped by a limit"))
        }
    }

    pub(super) fn is(&self, t: &Tok) -> bool {
        &self.lex.tok == t
    }

    pub(super) fn is_char(&self, c: u8) -> bool {
        self.lex.tok == Tok::Char(c)
    }

    pub(super) fn test_next(&mut self, t: &Tok) -> R<bool> {
        if self.is(t) {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(super) fn err_expected(&self, t: &Tok) -> SyntaxError {
        self.lex.error_near_tok(&format!("'{}' expected", t.describe()))
    }

    pub(super) fn check(&self, t: &Tok) -> R<()> {
        if self.is(t) {
            Ok(())
        } else {
            Err(self.err_expected(t))
        }
    }

    pub(super) fn check_next(&mut self, t: &Tok) -> R<()> {
        self.check(t)?;
        self.next()
    }

    /// Expects `what` closing `who` opened at `line`.
    pub(super) fn check_match(&mut self, what: &Tok, who: &Tok, line: u32) -> R<()> {
        if self.is(what) {
            return self.next();
        }
        if line == self.lex.line {
            Err(self.err_expected(what))
        } else {
            Err(self.lex.error_near_tok(&format!(
                "'{}' expected (to close '{}' at line {})",
                what.describe(),
                who.describe(),
                line
            )))
        }
    }

    pub(super) fn check_name(&mut self) -> R<Box<[u8]>> {
        if let Tok::Name(n) = &self.lex.tok {
            let n = n.clone();
            self.next()?;
            Ok(n)
        } else {
            Err(self.err_expected(&Tok::Name(Box::default())))
        }
    }

    pub(super) fn enter_level(&mut self) -> R<()> {
        self.level += 1;
        if self.level >= MAX_LEVEL || stack_pos() < self.stack_floor {
            return Err(self.lex.error_plain("chunk has too many syntax levels"));
        }
        Ok(())
    }

    pub(super) fn leave_level(&mut self) {
        self.level = self.level.saturating_sub(1);
    }

    // ---- Expressions --------------------------------------------------------------

    pub(super) fn expr(&mut self) -> R<Exp> {
        self.subexpr(0)
    }

    fn unop_tok(&self) -> Option<Op> {
        match self.lex.tok {
            Tok::Not => Some(Op::NOT),
            Tok::Char(b'-') => Some(Op::UNM),
            Tok::Char(b'#') => Some(Op::LEN),
            _ => None,
        }
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.lex.tok {
            Tok::Char(b'+') => BinOp::Arith(ArithOp::Add),
            Tok::Char(b'-') => BinOp::Arith(ArithOp::Sub),
            Tok::Char(b'*') => BinOp::Arith(ArithOp::Mul),
            Tok::Char(b'/') => BinOp::Arith(ArithOp::Div),
            Tok::Char(b'%') => BinOp::Arith(ArithOp::Mod),
            Tok::Char(b'^') => BinOp::Arith(ArithOp::Pow),
            Tok::Concat => BinOp::Concat,
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Char(b'<') => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Char(b'>') => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::And => BinOp::And,
            Tok::Or => BinOp::Or,
            _ => return None,
        })
    }

    /// Parses operators binding tighter than `limit`.
    fn subexpr(&mut self, limit: u8) -> R<Exp> {
        self.enter_level()?;
        let mut e = if let Some(op) = self.unop_tok() {
            self.next()?;
            let mut e = self.subexpr(UNARY_PRIORITY)?;
            if op == Op::NOT {
                self.unop_not(&mut e)?;
            } else {
                self.unop(op, &mut e)?;
            }
            e
        } else {
            self.simpleexp()?
        };
        while let Some(op) = self.binop() {
            let (left, right) = op.priority();
            if left <= limit {
                break;
            }
            self.next()?;
            self.infix(op, &mut e)?;
            let e2 = self.subexpr(right)?;
            self.postfix(op, &mut e, e2)?;
        }
        self.leave_level();
        Ok(e)
    }

    fn simpleexp(&mut self) -> R<Exp> {
        let e = match &self.lex.tok {
            Tok::Num(n) => Exp::new(EK::Num(*n)),
            Tok::CData(c) => {
                // Loaded into a register by `KCDATA` (no constant folding).
                let c = *c;
                self.fs.kgc.push(crate::compiler::Const::CData(c));
                let k = self.fs.kgc.len() - 1;
                let pc = self.emit_ad(Op::KCDATA, 0, k);
                Exp::new(EK::Reloc(pc))
            }
            Tok::Str(s) => {
                let s = s.clone();
                Exp::new(EK::Str(self.k_str(&s)?))
            }
            Tok::Nil => Exp::new(EK::Nil),
            Tok::True => Exp::new(EK::True),
            Tok::False => Exp::new(EK::False),
            Tok::Dots => {
                if !self.fs.is_vararg {
                    return Err(self.lex.error_near_tok("cannot use '...' outside a vararg function"));
                }
                let pc = self.emit_abc(Op::VARG, 0, 0, 0);
                Exp::new(EK::Vararg(pc))
            }
            Tok::Char(b'{') => return self.constructor(),
            Tok::Function => {
                let line = self.lex.line;
                self.next()?;
                return self.body(false, line);
            }
            _ => return self.suffixedexp(),
        };
        self.next()?;
        Ok(e)
    }

    fn primaryexp(&mut self) -> R<Exp> {
        match &self.lex.tok {
            Tok::Name(n) => {
                let n = n.clone();
                self.next()?;
                self.singlevar(&n)
            }
            Tok::Char(b'(') => {
                let line = self.lex.line;
                self.next()?;
                let mut e = self.expr()?;
                self.check_match(&Tok::Char(b')'), &Tok::Char(b'('), line)?;
                self.discharge(&mut e)?;
                Ok(e)
            }
            _ => Err(self.lex.error_near_tok("unexpected symbol")),
        }
    }

    /// primaryexp { '.' name | '[' exp ']' | ':' name args | args }
    pub(super) fn suffixedexp(&mut self) -> R<Exp> {
        let mut e = self.primaryexp()?;
        loop {
            match &self.lex.tok {
                Tok::Char(b'.') => self.field(&mut e)?,
                Tok::Char(b'[') => {
                    self.exp_to_anyreg(&mut e)?;
                    self.next()?;
                    let mut key = self.expr()?;
                    self.exp_to_val(&mut key)?;
                    self.check_next(&Tok::Char(b']'))?;
                    self.index(&mut e, &mut key)?;
                }
                Tok::Char(b':') => {
                    self.next()?;
                    let name = self.check_name()?;
                    self.method(&mut e, &name)?;
                    self.funcargs(&mut e)?;
                }
                Tok::Char(b'(') | Tok::Str(_) | Tok::Char(b'{') => {
                    self.exp_to_nextreg(&mut e)?;
                    self.funcargs(&mut e)?;
                }
                _ => return Ok(e),
            }
        }
    }

    /// `.name` applied to `e`.
    pub(super) fn field(&mut self, e: &mut Exp) -> R<()> {
        self.exp_to_anyreg(e)?;
        self.next()?;
        let name = self.check_name()?;
        let mut key = Exp::new(EK::Str(self.k_str(&name)?));
        self.index(e, &mut key)
    }

    /// Call arguments; `e` holds the function in the call's base register.
    fn funcargs(&mut self, e: &mut Exp) -> R<()> {
        let line = self.lex.line;
        let base = match e.k {
            EK::NonReloc(r) => r as usize,
            _ => 0,
        };
        let mut multi = false;
        match &self.lex.tok {
            Tok::Char(b'(') => {
                if self.lex.tok_line != self.lex.lastline {
                    return Err(self.lex.error_near_tok("ambiguous syntax (function call x new statement)"));
                }
                self.next()?;
                if !self.is_char(b')') {
                    let (_, mut last) = self.explist()?;
                    if last.is_multi() {
                        self.set_returns(&mut last, None)?;
                        multi = true;
                    } else {
                        self.exp_to_nextreg(&mut last)?;
                    }
                }
                self.check_match(&Tok::Char(b')'), &Tok::Char(b'('), line)?;
            }
            Tok::Str(s) => {
                let s = s.clone();
                let k = self.k_str(&s)?;
                let mut a = Exp::new(EK::Str(k));
                self.next()?;
                self.exp_to_nextreg(&mut a)?;
            }
            Tok::Char(b'{') => {
                let mut a = self.constructor()?;
                self.exp_to_nextreg(&mut a)?;
            }
            _ => return Err(self.lex.error_near_tok("function arguments expected")),
        }
        let b = if multi { 0 } else { self.fs.freereg - base };
        let pc = self.emit_abc(Op::CALL, base, b, 2);
        if let Some(l) = self.fs.lines.get_mut(pc) {
            *l = line;
        }
        self.fs.freereg = base + 1;
        e.k = EK::Call(pc);
        e.t.clear();
        e.f.clear();
        Ok(())
    }

    /// exp { ',' exp }: all but the last are put in consecutive registers.
    pub(super) fn explist(&mut self) -> R<(usize, Exp)> {
        let mut n = 1;
        let mut e = self.expr()?;
        while self.test_next(&Tok::Char(b','))? {
            self.exp_to_nextreg(&mut e)?;
            e = self.expr()?;
            n += 1;
        }
        Ok((n, e))
    }

    /// The constant an expression is, for a table template (no NaN or nil keys).
    fn template_val(&self, e: &Exp) -> Option<KVal> {
        if e.has_jumps() {
            return None;
        }
        match e.k {
            EK::True => Some(KVal::True),
            EK::False => Some(KVal::False),
            EK::Num(n) if !n.is_nan() => Some(KVal::Num(n)),
            EK::Str(id) => self.fs.strs.get(id as usize).map(|s| KVal::Str(s.clone())),
            _ => None,
        }
    }

    /// Table constructor. As in LuaJIT, constant items (a constant key, or a position,
    /// with a constant value) go into a template table that `TDUP` copies, and code
    /// stores only the others; a string key with a computed value gets an empty slot
    /// in the template, so the copy has room for it. (So, as in LuaJIT, a computed
    /// item is stored after every constant one, whatever their order in the source.)
    fn constructor(&mut self) -> R<Exp> {
        let line = self.lex.line;
        let tpc = self.emit_ad(Op::TNEW, self.fs.freereg, 0);
        let treg = self.fs.freereg;
        self.reserve(1)?;
        self.next()?; // '{'
        let mut narr: usize = 0;
        let mut nhash: usize = 0;
        let mut pending: Option<Exp> = None;
        let mut templ: Option<TableTemplate> = None;
        let mut tindex = std::collections::HashMap::new();
        loop {
            if self.is_char(b'}') {
                break;
            }
            if let Some(mut v) = pending.take() {
                self.store_item(treg, narr, &mut v)?;
            }
            let is_hash = match &self.lex.tok {
                Tok::Char(b'[') => true,
                Tok::Name(_) => self.lex.lookahead()? == &Tok::Char(b'='),
                _ => false,
            };
            if is_hash {
                let mut key = if self.is_char(b'[') {
                    self.next()?;
                    let mut k = self.expr()?;
                    self.exp_to_val(&mut k)?;
                    self.check_next(&Tok::Char(b']'))?;
                    k
                } else {
                    let name = self.check_name()?;
                    Exp::new(EK::Str(self.k_str(&name)?))
                };
                self.check_next(&Tok::Char(b'='))?;
                nhash += 1;
                let kconst = self.template_val(&key);
                if kconst.is_none() {
                    let mut tab = Exp::new(EK::NonReloc(treg as u8));
                    self.index(&mut tab, &mut key)?;
                    let mut v = self.expr()?;
                    self.store(&tab, &mut v)?;
                } else if let Some(k) = kconst {
                    let mut v = self.expr()?;
                    let vconst = self.template_val(&v);
                    let computed = vconst.is_none();
                    if !computed || matches!(k, KVal::Str(_)) {
                        self.held(96 + kval_bytes(&k) + vconst.as_ref().map_or(0, kval_bytes));
                        templ.get_or_insert_with(TableTemplate::default).set(k, vconst, &mut tindex);
                    }
                    if computed {
                        // The value first (its jumps resolved), then the key, as LuaJIT.
                        let r = self.exp_to_anyreg(&mut v)?;
                        let mut tab = Exp::new(EK::NonReloc(treg as u8));
                        self.index(&mut tab, &mut key)?;
                        if let EK::Indexed(t, k) = tab.k {
                            self.emit_tset(r as usize, t, k);
                        }
                    }
                }
                self.fs.freereg = treg + 1;
            } else {
                let v = self.expr()?;
                narr += 1;
                match self.template_val(&v) {
                    Some(val) => {
                        self.held(48 + kval_bytes(&val));
                        templ.get_or_insert_with(TableTemplate::default).set_item(narr, val)
                    }
                    None if matches!(v.k, EK::Nil) && !v.has_jumps() => {}
                    None => pending = Some(v),
                }
            }
            if !self.test_next(&Tok::Char(b','))? && !self.test_next(&Tok::Char(b';'))? {
                break;
            }
        }
        self.check_match(&Tok::Char(b'}'), &Tok::Char(b'{'), line)?;
        // The array-size hint counts a trailing call's first result too, as LuaJIT's
        // does: `{ f(), g() }` gets room for two items, not one and a regrowth.
        let hint_arr = narr;
        if let Some(mut v) = pending.take() {
            if v.is_multi() {
                self.set_returns(&mut v, None)?;
                let k = self.k_num(narr as f64)?;
                self.emit_ad(Op::TSETM, treg + 1, k as usize);
                narr -= 1;
            } else {
                self.store_item(treg, narr, &mut v)?;
            }
            self.fs.freereg = treg + 1;
        }
        if let Some(mut t) = templ {
            // Room for every positional item, constant or not.
            if t.array.len() < narr {
                self.held((narr - t.array.len()) * 24);
                t.array.resize(narr, None);
            }
            let k = self.k_table(t);
            self.fs.set_ins(tpc, Ins::ad(Op::TDUP, treg as u8, k as u16));
            return Ok(Exp::new(EK::NonReloc(treg as u8)));
        }
        // LuaJIT gives a constructor with positional items at least three slots
        // (t[0] included): `{...}` starts with room for two.
        let asize = if hint_arr > 0 { hint_arr.max(2) } else { 0 }.min(0x7ff);
        let hbits = if nhash == 0 { 0 } else { (usize::BITS - (nhash - 1).leading_zeros()).clamp(1, 31) as usize };
        self.fs.set_ins(tpc, Ins::ad(Op::TNEW, treg as u8, (asize | hbits << 11) as u16));
        Ok(Exp::new(EK::NonReloc(treg as u8)))
    }

    /// Stores positional item number `idx` of a constructor.
    fn store_item(&mut self, treg: usize, idx: usize, v: &mut Exp) -> R<()> {
        // The value is materialised first, then (past 255) the key; both registers
        // are released together by resetting `freereg`, never one by one.
        let r = self.exp_to_anyreg(v)? as usize;
        if idx <= 255 {
            self.emit_abc(Op::TSETB, r, treg, idx);
        } else {
            let k = self.k_num(idx as f64)?;
            let kr = self.fs.freereg;
            self.reserve(1)?;
            self.emit_ad(Op::KNUM, kr, k as usize);
            self.emit_abc(Op::TSETV, r, treg, kr);
        }
        self.fs.freereg = treg + 1;
        Ok(())
    }
}
