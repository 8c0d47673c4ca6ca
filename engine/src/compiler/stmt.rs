//! Statements.
//!
//! Contract:
//! - A block is a statement list ending at `else`, `elseif`, `end`, `until` or the end of
//!   input; `return` and `break` must be last in their block (Lua 5.1, as LuaJIT), each
//!   optionally followed by one `;`. Empty statements (`;;`) are errors, as in LuaJIT.
//! - After each statement the register watermark returns to the number of active locals.
//! - Loops: `while` = cond, `LOOP`, body, `JMP` back; `repeat` = `LOOP`, body, cond (which
//!   sees the body's locals; with captured locals each exit path closes them with UCLO);
//!   numeric `for` = `FORI`, body, `FORL` with R[A..A+3] (index, limit, step, variable);
//!   generic `for` = `JMP` to `ITERC`, body, `ITERC`, `ITERL` back to the body, the three
//!   hidden values in R[A-3..A-1] and the variables from R[A].
//! - Multiple assignment follows Lua 5.1: all right-hand sides are evaluated first, the
//!   stores happen right to left, and a local that an earlier target uses as table or key
//!   is copied before it is assigned.

use super::func::{Exp, Key, EK};
use super::lexer::Tok;
use super::parser::Parser;
use super::SyntaxError;
use crate::bytecode::{Ins, Op};

type R<T> = Result<T, SyntaxError>;

impl<'a> Parser<'a> {
    fn block_follow(&self, with_until: bool) -> bool {
        match self.lex.tok {
            Tok::Else | Tok::Elseif | Tok::End | Tok::Eof => true,
            Tok::Until => with_until,
            _ => false,
        }
    }

    /// A statement list (counts one syntax level).
    pub(super) fn statlist(&mut self) -> R<()> {
        self.enter_level()?;
        while !self.block_follow(true) {
            let last = self.statement()?;
            self.test_next(&Tok::Char(b';'))?;
            self.fs.freereg = self.fs.nactvar;
            if last {
                break;
            }
        }
        self.leave_level();
        Ok(())
    }

    /// A block in its own scope.
    fn block(&mut self) -> R<()> {
        self.enter_block(false);
        self.statlist()?;
        self.leave_block(true)
    }

    /// Parses one statement; true if it must be the last of its block.
    fn statement(&mut self) -> R<bool> {
        let line = self.lex.line;
        match &self.lex.tok {
            Tok::If => self.if_stat(line)?,
            Tok::While => self.while_stat(line)?,
            Tok::Do => {
                self.next()?;
                self.block()?;
                self.check_match(&Tok::End, &Tok::Do, line)?;
            }
            Tok::For => self.for_stat(line)?,
            Tok::Repeat => self.repeat_stat(line)?,
            Tok::Function => self.func_stat(line)?,
            Tok::Local => {
                self.next()?;
                if self.test_next(&Tok::Function)? {
                    self.local_func()?;
                } else {
                    self.local_stat()?;
                }
            }
            Tok::DbColon => self.label_stat()?,
            Tok::Return => {
                self.next()?;
                self.ret_stat()?;
                return Ok(true);
            }
            Tok::Break => {
                self.next()?;
                self.break_stat(line)?;
                return Ok(true);
            }
            Tok::Name(n) if &**n == b"goto" => {
                if matches!(self.lex.lookahead()?, Tok::Name(_)) {
                    self.next()?;
                    self.goto_stat(line)?;
                } else {
                    self.expr_stat()?;
                }
            }
            _ => self.expr_stat()?,
        }
        Ok(false)
    }

    fn if_stat(&mut self, line: u32) -> R<()> {
        let mut escapes = Vec::new();
        let mut flist = self.test_then_block()?;
        while self.is(&Tok::Elseif) {
            escapes.push(self.jump());
            self.patch_here(&flist)?;
            flist = self.test_then_block()?;
        }
        if self.is(&Tok::Else) {
            escapes.push(self.jump());
            self.patch_here(&flist)?;
            self.next()?;
            self.block()?;
        } else {
            escapes.extend(flist);
        }
        self.check_match(&Tok::End, &Tok::If, line)?;
        self.patch_here(&escapes)
    }

    /// `if`/`elseif` cond `then` block; returns the jumps taken when cond is false.
    fn test_then_block(&mut self) -> R<Vec<usize>> {
        self.next()?;
        let mut cond = self.expr()?;
        self.check_next(&Tok::Then)?;
        self.go_if_true(&mut cond)?;
        self.block()?;
        Ok(cond.f)
    }

    fn while_stat(&mut self, line: u32) -> R<()> {
        self.next()?;
        let start = self.label_here();
        let mut cond = self.expr()?;
        self.go_if_true(&mut cond)?;
        self.check_next(&Tok::Do)?;
        self.enter_block(true);
        let lp = self.emit(Ins::aj(Op::LOOP, self.fs.nactvar as u8, 0));
        self.block()?;
        let back = self.jump();
        self.patch_jump(back, start)?;
        self.check_match(&Tok::End, &Tok::While, line)?;
        self.leave_block(true)?;
        let exit = self.label_here();
        self.patch_list(&cond.f, exit)?;
        self.patch_jump(lp, exit)
    }

    fn repeat_stat(&mut self, line: u32) -> R<()> {
        self.next()?;
        let start = self.label_here();
        self.enter_block(true);
        let lp = self.emit(Ins::aj(Op::LOOP, self.fs.nactvar as u8, 0));
        self.enter_block(false);
        self.statlist()?;
        self.check_match(&Tok::Until, &Tok::Repeat, line)?;
        let mut cond = self.expr()?;
        let (has_upval, level) = self.fs.blocks.last().map(|b| (b.has_upval, b.nactvar)).unwrap_or((false, 0));
        let mut exit_jump = None;
        self.go_if_true(&mut cond)?;
        if !has_upval {
            self.patch_list(&cond.f, start)?;
            self.leave_block(true)?;
        } else {
            exit_jump = Some(self.emit(Ins::aj(Op::UCLO, level as u8, 0)));
            self.patch_here(&cond.f)?;
            let back = self.emit(Ins::aj(Op::UCLO, level as u8, 0));
            self.patch_jump(back, start)?;
            self.leave_block(false)?;
        }
        self.leave_block(true)?;
        let exit = self.label_here();
        if let Some(j) = exit_jump {
            self.patch_jump(j, exit)?;
        }
        self.patch_jump(lp, exit)
    }

    fn for_stat(&mut self, line: u32) -> R<()> {
        self.next()?;
        self.enter_block(true);
        let name = self.check_name()?;
        match &self.lex.tok {
            Tok::Char(b'=') => self.for_num(&name, line)?,
            Tok::Char(b',') | Tok::In => self.for_list(name, line)?,
            _ => return Err(self.lex.error_near_tok("'=' or 'in' expected")),
        }
        self.check_match(&Tok::End, &Tok::For, line)?;
        self.leave_block(true)
    }

    fn exp1(&mut self) -> R<()> {
        let mut e = self.expr()?;
        self.exp_to_nextreg(&mut e)
    }

    fn set_line(&mut self, pc: usize, line: u32) {
        if let Some(l) = self.fs.lines.get_mut(pc) {
            *l = line;
        }
    }

    /// Body of a `for` loop with `nvars` fresh variables.
    fn for_body(&mut self, nvars: usize) -> R<()> {
        self.enter_block(false);
        self.adjust_locals(nvars);
        self.reserve(nvars)?;
        self.statlist()?;
        self.leave_block(true)
    }

    fn for_num(&mut self, name: &[u8], line: u32) -> R<()> {
        let base = self.fs.freereg;
        self.new_localvar(b"(for index)")?;
        self.new_localvar(b"(for limit)")?;
        self.new_localvar(b"(for step)")?;
        self.new_localvar(name)?;
        self.next()?; // '='
        self.exp1()?;
        self.check_next(&Tok::Char(b','))?;
        self.exp1()?;
        if self.test_next(&Tok::Char(b','))? {
            self.exp1()?;
        } else {
            self.emit_ad(Op::KSHORT, self.fs.freereg, 1);
            self.reserve(1)?;
        }
        self.adjust_locals(3);
        self.check_next(&Tok::Do)?;
        let fori = self.emit(Ins::aj(Op::FORI, base as u8, 0));
        self.set_line(fori, line);
        self.label_here();
        self.for_body(1)?;
        let forl = self.emit(Ins::aj(Op::FORL, base as u8, 0));
        self.set_line(forl, line);
        self.patch_jump(forl, fori + 1)?;
        let exit = self.label_here();
        self.patch_jump(fori, exit)
    }

    fn for_list(&mut self, first: Box<[u8]>, line: u32) -> R<()> {
        let base = self.fs.freereg;
        self.new_localvar(b"(for generator)")?;
        self.new_localvar(b"(for state)")?;
        self.new_localvar(b"(for control)")?;
        self.new_localvar(&first)?;
        let mut nvars = 1;
        while self.test_next(&Tok::Char(b','))? {
            let n = self.check_name()?;
            self.new_localvar(&n)?;
            nvars += 1;
        }
        self.check_next(&Tok::In)?;
        let (n, e) = self.explist()?;
        // LuaJIT reports a bad iterator at the line where the expression list ends.
        let iter_line = self.lex.lastline;
        self.adjust_assign(3, n, e)?;
        self.bump_frame(base + 6)?;
        self.adjust_locals(3);
        self.check_next(&Tok::Do)?;
        let j = self.jump();
        let body = self.label_here();
        self.for_body(nvars)?;
        self.patch_here(&[j])?;
        let a = base + 3;
        let iterc = self.emit_abc(Op::ITERC, a, 3, nvars + 1);
        self.set_line(iterc, iter_line);
        let iterl = self.emit(Ins::aj(Op::ITERL, a as u8, 0));
        self.set_line(iterl, line);
        self.patch_jump(iterl, body)
    }

    fn func_stat(&mut self, line: u32) -> R<()> {
        self.next()?;
        let name = self.check_name()?;
        let mut v = self.singlevar(&name)?;
        let mut is_method = false;
        while self.is_char(b'.') {
            self.field(&mut v)?;
        }
        if self.is_char(b':') {
            is_method = true;
            self.field(&mut v)?;
        }
        let mut b = self.body(is_method, line)?;
        self.store(&v, &mut b)?;
        let last = self.fs.pc().saturating_sub(1);
        self.set_line(last, line);
        Ok(())
    }

    fn local_func(&mut self) -> R<()> {
        let name = self.check_name()?;
        let reg = self.fs.freereg as u8;
        self.new_localvar(&name)?;
        self.reserve(1)?;
        self.adjust_locals(1);
        let line = self.lex.line;
        let mut b = self.body(false, line)?;
        self.store(&Exp::new(EK::Local(reg)), &mut b)
    }

    fn local_stat(&mut self) -> R<()> {
        let mut nvars = 0;
        loop {
            let name = self.check_name()?;
            self.new_localvar(&name)?;
            nvars += 1;
            if !self.test_next(&Tok::Char(b','))? {
                break;
            }
        }
        let (nexps, e) = if self.test_next(&Tok::Char(b'='))? { self.explist()? } else { (0, Exp::new(EK::Void)) };
        self.adjust_assign(nvars, nexps, e)?;
        self.adjust_locals(nvars);
        Ok(())
    }

    /// Adjusts `nexps` values (the last one `e`, still open) to `nvars` registers.
    pub(super) fn adjust_assign(&mut self, nvars: usize, nexps: usize, mut e: Exp) -> R<()> {
        let extra = nvars as i64 - nexps as i64;
        if e.is_multi() {
            let ex = (extra + 1).max(0) as usize;
            self.set_returns(&mut e, Some(ex))?;
            if ex > 1 {
                self.reserve(ex - 1)?;
            }
        } else {
            if e.k != EK::Void {
                self.exp_to_nextreg(&mut e)?;
            }
            if extra > 0 {
                let reg = self.fs.freereg;
                self.reserve(extra as usize)?;
                self.emit_nil(reg, extra as usize);
            }
        }
        if nexps > nvars {
            self.fs.freereg = self.fs.freereg.saturating_sub(nexps - nvars);
        }
        Ok(())
    }

    fn ret_stat(&mut self) -> R<()> {
        if self.block_follow(true) || self.is_char(b';') {
            self.emit_ad(Op::RET0, 0, 1);
            return Ok(());
        }
        let base = self.fs.freereg;
        let (n, mut e) = self.explist()?;
        if n == 1 {
            match e.k {
                EK::Call(pc) if !e.has_jumps() => {
                    if let Some(ins) = self.fs.ins(pc) {
                        self.fs.set_ins(pc, Ins::abc(Op::CALLT, ins.a() as u8, ins.b() as u8, 0));
                    }
                }
                EK::Vararg(_) if !e.has_jumps() => {
                    self.set_returns(&mut e, None)?;
                    self.emit_ad(Op::RET, base, 0);
                }
                _ => {
                    let r = self.exp_to_anyreg(&mut e)?;
                    self.emit_ad(Op::RET1, r as usize, 2);
                }
            }
        } else if e.is_multi() {
            self.set_returns(&mut e, None)?;
            self.emit_ad(Op::RET, base, 0);
        } else {
            self.exp_to_nextreg(&mut e)?;
            self.emit_ad(Op::RET, base, n + 1);
        }
        Ok(())
    }

    fn is_assignable(e: &Exp) -> bool {
        matches!(e.k, EK::Local(_) | EK::Upval(_) | EK::Global(_) | EK::Indexed(..))
    }

    fn expr_stat(&mut self) -> R<()> {
        let v = self.suffixedexp()?;
        if let EK::Call(pc) = v.k {
            if let Some(ins) = self.fs.ins(pc) {
                self.fs.set_ins(pc, Ins::abc(Op::CALL, ins.a() as u8, ins.b() as u8, 1));
            }
            return Ok(());
        }
        let mut targets = vec![v];
        loop {
            if let Some(last) = targets.last() {
                if !Self::is_assignable(last) {
                    return Err(self.lex.error_near_tok("syntax error"));
                }
            }
            if !self.test_next(&Tok::Char(b','))? {
                break;
            }
            let nv = self.suffixedexp()?;
            if !Self::is_assignable(&nv) {
                return Err(self.lex.error_near_tok("syntax error"));
            }
            self.check_conflict(&mut targets, &nv)?;
            targets.push(nv);
        }
        self.check_next(&Tok::Char(b'='))?;
        let (nexps, mut e) = self.explist()?;
        let nvars = targets.len();
        let mut rest = nvars;
        if nexps == nvars {
            if e.is_multi() {
                self.discharge(&mut e)?;
            }
            if let Some(last) = targets.last() {
                let last = last.clone();
                self.store(&last, &mut e)?;
            }
            rest -= 1;
        } else {
            self.adjust_assign(nvars, nexps, e)?;
        }
        for i in (0..rest).rev() {
            let reg = self.fs.freereg.saturating_sub(1) as u8;
            let mut val = Exp::new(EK::NonReloc(reg));
            let target = targets[i].clone();
            self.store(&target, &mut val)?;
        }
        Ok(())
    }

    /// Copies a local that a previous target uses as table or key before `v` assigns it.
    fn check_conflict(&mut self, targets: &mut [Exp], v: &Exp) -> R<()> {
        let EK::Local(r) = v.k else { return Ok(()) };
        let extra = self.fs.freereg as u8;
        let mut conflict = false;
        for t in targets.iter_mut() {
            if let EK::Indexed(tr, key) = t.k {
                let mut ntr = tr;
                let mut nkey = key;
                if tr == r {
                    conflict = true;
                    ntr = extra;
                }
                if key == Key::Reg(r) {
                    conflict = true;
                    nkey = Key::Reg(extra);
                }
                t.k = EK::Indexed(ntr, nkey);
            }
        }
        if conflict {
            self.emit_ad(Op::MOV, extra as usize, r as usize);
            self.reserve(1)?;
        }
        Ok(())
    }
}
