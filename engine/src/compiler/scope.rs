//! Scopes: local variables, upvalues, blocks, labels and gotos, and function bodies.
//!
//! Contract:
//! - A name resolves to the innermost active local, else an upvalue (created along the
//!   chain of enclosing functions, marking the declaring block as captured), else a
//!   global.
//! - Leaving a block whose locals were captured emits `UCLO base, +0` (except the
//!   function's outermost block: the VM closes everything on return). Pending gotos and
//!   `break`s leaving such a block become `UCLO base => target`.
//! - `break` is a goto to the hidden label "break" that each loop block defines at its
//!   exit. A backward goto that leaves locals always closes from the label's level.
//! - Goto rules as LuaJIT 2.1: labels are visible in their block and nested blocks of the
//!   same function; duplicate labels in one block are an error; a forward goto may not
//!   enter a local's scope, except for labels at the very end of a block (followed only by
//!   other labels; `until` does not count as an end).

use super::func::{ActVar, Block, Exp, FuncState, Goto, Label, EK};
use super::lexer::Tok;
use super::parser::Parser;
use super::proto::FuncProto;
use super::SyntaxError;
use crate::bytecode::{Ins, Op, MAX_LOCALS, MAX_UPVALUES};
use crate::bytecode::{LocalVarInfo, UpvalDesc};

type R<T> = Result<T, SyntaxError>;

const BREAK: &[u8] = b"break";

impl<'a> Parser<'a> {
    // ---- Variables ----------------------------------------------------------------

    /// Declares a local that becomes active with [`Parser::adjust_locals`].
    pub(super) fn new_localvar(&mut self, name: &[u8]) -> R<()> {
        if self.fs.actvars.len() >= MAX_LOCALS {
            return Err(self.lex.error_plain(&format!(
                "{} has more than {} local variables",
                self.fs.what(),
                MAX_LOCALS
            )));
        }
        let reg = self.fs.actvars.len() as u8;
        self.held(2 * name.len() + 96);
        self.fs.locals.push(LocalVarInfo { name: name.into(), reg, startpc: 0, endpc: 0 });
        let info = self.fs.locals.len() - 1;
        self.fs.actvars.push(ActVar { name: name.into(), info });
        Ok(())
    }

    /// Activates the next `n` declared locals.
    pub(super) fn adjust_locals(&mut self, n: usize) {
        let pc = self.fs.pc() as u32;
        for i in self.fs.nactvar..(self.fs.nactvar + n).min(self.fs.actvars.len()) {
            let info = self.fs.actvars[i].info;
            if let Some(l) = self.fs.locals.get_mut(info) {
                l.startpc = pc;
            }
        }
        self.fs.nactvar = (self.fs.nactvar + n).min(self.fs.actvars.len());
    }

    fn remove_vars(&mut self, level: usize) {
        let pc = self.fs.pc() as u32;
        while self.fs.actvars.len() > level {
            if let Some(v) = self.fs.actvars.pop() {
                if let Some(l) = self.fs.locals.get_mut(v.info) {
                    l.endpc = pc;
                }
            }
        }
        self.fs.nactvar = self.fs.nactvar.min(level);
    }

    /// Resolves a name to a local, an upvalue or a global.
    pub(super) fn singlevar(&mut self, name: &[u8]) -> R<Exp> {
        if let Some(r) = self.fs.find_local(name) {
            return Ok(Exp::new(EK::Local(r)));
        }
        if let Some(u) = self.fs.find_upval(name) {
            return Ok(Exp::new(EK::Upval(u)));
        }
        // Search the enclosing functions, innermost first.
        let mut found: Option<(usize, UpvalDesc)> = None;
        for lvl in (0..self.parents.len()).rev() {
            let f = &mut self.parents[lvl];
            if let Some(r) = f.find_local(name) {
                f.mark_captured(r);
                found = Some((lvl, UpvalDesc { in_parent_stack: true, index: r }));
                break;
            }
            if let Some(u) = f.find_upval(name) {
                found = Some((lvl, UpvalDesc { in_parent_stack: false, index: u }));
                break;
            }
        }
        let Some((lvl, mut desc)) = found else {
            let k = self.kstr_of(name)?;
            return Ok(Exp::new(EK::Global(k)));
        };
        for l in lvl + 1..self.parents.len() {
            let idx = self.add_upval_in(Some(l), name, desc)?;
            desc = UpvalDesc { in_parent_stack: false, index: idx };
        }
        let idx = self.add_upval_in(None, name, desc)?;
        Ok(Exp::new(EK::Upval(idx)))
    }

    fn add_upval_in(&mut self, lvl: Option<usize>, name: &[u8], desc: UpvalDesc) -> R<u8> {
        let f: &mut FuncState = match lvl {
            Some(l) => &mut self.parents[l],
            None => &mut self.fs,
        };
        if f.upvals.len() >= MAX_UPVALUES {
            let msg = format!("{} has more than {} upvalues", f.what(), MAX_UPVALUES);
            return Err(self.lex.error_plain(&msg));
        }
        f.upvals.push(desc);
        f.upval_names.push(name.into());
        Ok((f.upvals.len() - 1) as u8)
    }

    // ---- Blocks -------------------------------------------------------------------

    pub(super) fn enter_block(&mut self, is_loop: bool) {
        let fs = &mut self.fs;
        fs.blocks.push(Block {
            nactvar: fs.nactvar,
            is_loop,
            has_upval: false,
            first_label: fs.labels.len(),
            first_goto: fs.gotos.len(),
        });
    }

    /// Leaves the innermost block; `close` false suppresses its closing UCLO.
    pub(super) fn leave_block(&mut self, close: bool) -> R<()> {
        let Some(bl) = self.fs.blocks.pop() else { return Ok(()) };
        let outermost = self.fs.blocks.is_empty();
        let first = bl.first_goto.min(self.fs.gotos.len());
        for g in &mut self.fs.gotos[first..] {
            if g.nactvar > bl.nactvar {
                g.nactvar = bl.nactvar;
                if bl.has_upval {
                    g.close = Some(bl.nactvar);
                }
            }
        }
        if bl.has_upval && close && !outermost {
            self.emit(Ins::aj(Op::UCLO, bl.nactvar as u8, 0));
        }
        if bl.is_loop {
            let here = self.label_here();
            self.resolve_gotos(first, BREAK, here, bl.nactvar)?;
        }
        self.fs.labels.truncate(bl.first_label);
        // Pending gotos now belong to the enclosing block: resolve those whose label
        // that block has already defined (backward jumps).
        if let Some(parent) = self.fs.blocks.last() {
            let plabels: Vec<Label> = self.fs.labels.get(parent.first_label..).unwrap_or(&[]).to_vec();
            let mut i = first;
            while i < self.fs.gotos.len() {
                self.scanned(plabels.len() + 1)?;
                let found = plabels.iter().rev().find(|l| l.name == self.fs.gotos[i].name).cloned();
                match found {
                    Some(lb) => {
                        let g = self.fs.gotos.remove(i);
                        if g.close.is_some() || g.nactvar > lb.nactvar {
                            self.fs.set_ins(g.pc, Ins::aj(Op::UCLO, lb.nactvar as u8, 0));
                        }
                        self.patch_jump(g.pc, lb.pc)?;
                    }
                    None => i += 1,
                }
            }
        }
        self.remove_vars(bl.nactvar);
        self.fs.freereg = self.fs.nactvar;
        Ok(())
    }

    /// Patches pending gotos (from index `first`) named `name` to `target`.
    fn resolve_gotos(&mut self, first: usize, name: &[u8], target: usize, nactvar: usize) -> R<()> {
        let mut i = first;
        self.scanned(self.fs.gotos.len().saturating_sub(first))?;
        while i < self.fs.gotos.len() {
            if &*self.fs.gotos[i].name != name {
                i += 1;
                continue;
            }
            self.scanned(self.fs.gotos.len() - i)?;
            let g = self.fs.gotos.remove(i);
            if g.nactvar < nactvar {
                let var = self.fs.actvars.get(g.nactvar).map(|v| v.name.clone()).unwrap_or_default();
                let msg = format!(
                    "<goto {}> jumps into the scope of local '{}'",
                    String::from_utf8_lossy(&g.name),
                    String::from_utf8_lossy(&var)
                );
                return Err(self.lex.error_at(g.line, &msg));
            }
            if let Some(level) = g.close {
                self.fs.set_ins(g.pc, Ins::aj(Op::UCLO, level as u8, 0));
            }
            self.patch_jump(g.pc, target)?;
        }
        Ok(())
    }

    /// `goto name` (the `goto` name has been consumed).
    pub(super) fn goto_stat(&mut self, line: u32) -> R<()> {
        let name = self.check_name()?;
        let nactvar = self.fs.nactvar;
        // Only a label already defined in this very block is resolved now: a label of
        // an enclosing block may be shadowed by one this block defines later.
        let first_label = self.fs.blocks.last().map(|b| b.first_label).unwrap_or(0);
        self.scanned(self.fs.labels.len().saturating_sub(first_label))?;
        self.held(name.len() + 64);
        let visible = self.fs.labels.get(first_label..).unwrap_or(&[]);
        if let Some(lb) = visible.iter().rev().find(|l| l.name == name).cloned() {
            let pc = if nactvar > lb.nactvar { self.emit(Ins::aj(Op::UCLO, lb.nactvar as u8, 0)) } else { self.jump() };
            return self.patch_jump(pc, lb.pc);
        }
        let pc = self.jump();
        self.fs.gotos.push(Goto { name, pc, line, nactvar, close: None });
        Ok(())
    }

    pub(super) fn break_stat(&mut self, line: u32) -> R<()> {
        let pc = self.jump();
        let nactvar = self.fs.nactvar;
        self.fs.gotos.push(Goto { name: BREAK.into(), pc, line, nactvar, close: None });
        Ok(())
    }

    /// `::name::` and any labels directly following it.
    pub(super) fn label_stat(&mut self) -> R<()> {
        let mut names = Vec::new();
        while self.is(&Tok::DbColon) {
            self.next()?;
            let name = self.check_name()?;
            let first = self.fs.blocks.last().map(|b| b.first_label).unwrap_or(0);
            self.scanned(self.fs.labels.len().saturating_sub(first) + names.len())?;
            self.held(2 * name.len() + 64);
            let dup =
                self.fs.labels.get(first..).unwrap_or(&[]).iter().any(|l| l.name == name) || names.contains(&name);
            if dup {
                let msg = format!("duplicate label '{}'", String::from_utf8_lossy(&name));
                return Err(self.lex.error_plain(&msg));
            }
            self.check_next(&Tok::DbColon)?;
            names.push(name);
        }
        let at_end = matches!(self.lex.tok, Tok::Else | Tok::Elseif | Tok::End | Tok::Eof);
        let nactvar = if at_end { self.fs.blocks.last().map(|b| b.nactvar).unwrap_or(0) } else { self.fs.nactvar };
        let pc = self.label_here();
        let first_goto = self.fs.blocks.last().map(|b| b.first_goto).unwrap_or(0);
        for name in names {
            self.resolve_gotos(first_goto, &name, pc, nactvar)?;
            self.fs.labels.push(Label { name, pc, nactvar });
        }
        Ok(())
    }

    // ---- Functions ----------------------------------------------------------------

    pub(super) fn open_func(&mut self, line: u32) {
        let parent = std::mem::replace(&mut self.fs, FuncState::new(line));
        self.parents.push(parent);
        self.enter_block(false);
    }

    /// Finishes the current function; `lastline` is its last line.
    pub(super) fn close_func(&mut self, lastline: u32) -> R<FuncProto> {
        let pc = self.fs.pc();
        let ends_in_return = pc > 0
            && self.fs.last_target < pc
            && matches!(self.fs.ins(pc - 1).and_then(|i| i.op()), Some(Op::RET | Op::RET0 | Op::RET1 | Op::CALLT));
        if !ends_in_return {
            self.emit_ad(Op::RET0, 0, 1);
            if let Some(l) = self.fs.lines.last_mut() {
                *l = lastline;
            }
        }
        while !self.fs.blocks.is_empty() {
            self.leave_block(false)?;
        }
        if let Some(g) = self.fs.gotos.first() {
            let msg = if &*g.name == BREAK {
                "no loop to break".to_string()
            } else {
                format!("undefined label '{}'", String::from_utf8_lossy(&g.name))
            };
            return Err(self.lex.error_at(g.line, &msg));
        }
        if self.fs.knum.len() > super::codegen::MAX_CONSTS || self.fs.kgc.len() > super::codegen::MAX_CONSTS {
            // LuaJIT checks when the function is finished, at the line of its `end`.
            let msg = format!("{} has more than {} constants", self.fs.what(), super::codegen::MAX_CONSTS);
            return Err(self.lex.error_at(lastline, &msg));
        }
        let fs = match self.parents.pop() {
            Some(p) => std::mem::replace(&mut self.fs, p),
            None => std::mem::take(&mut self.fs),
        };
        Ok(FuncProto {
            code: fs.code,
            lineinfo: fs.lines,
            knum: fs.knum,
            kgc: fs.kgc,
            protos: fs.protos,
            upvals: fs.upvals,
            upval_names: fs.upval_names,
            locals: fs.locals,
            numparams: fs.numparams,
            is_vararg: fs.is_vararg,
            framesize: fs.framesize.min(255) as u8,
            linedefined: fs.linedefined,
            lastlinedefined: lastline,
            chunkname: self.chunkname.clone(),
        })
    }

    /// Function body after `function` (and its name): parameters, block, `end`.
    /// Leaves an `FNEW` in the enclosing function.
    pub(super) fn body(&mut self, is_method: bool, line: u32) -> R<Exp> {
        self.open_func(line);
        if is_method {
            self.new_localvar(b"self")?;
            self.adjust_locals(1);
        }
        self.check_next(&Tok::Char(b'('))?;
        if !self.is_char(b')') {
            loop {
                match &self.lex.tok {
                    Tok::Name(n) => {
                        let n = n.clone();
                        self.next()?;
                        self.new_localvar(&n)?;
                        self.adjust_locals(1);
                    }
                    Tok::Dots => {
                        self.next()?;
                        self.fs.is_vararg = true;
                        break;
                    }
                    _ => return Err(self.lex.error_near_tok("<name> or '...' expected")),
                }
                if !self.test_next(&Tok::Char(b','))? {
                    break;
                }
            }
        }
        self.fs.numparams = self.fs.nactvar as u8;
        let n = self.fs.nactvar;
        self.reserve(n)?;
        self.check_next(&Tok::Char(b')'))?;
        self.statlist()?;
        let lastline = self.lex.line;
        self.check_match(&Tok::End, &Tok::Function, line)?;
        let proto = self.close_func(lastline)?;
        self.fs.protos.push(proto);
        let idx = self.fs.protos.len() - 1;
        let pc = self.emit_ad(Op::FNEW, 0, idx);
        Ok(Exp::new(EK::Reloc(pc)))
    }
}
