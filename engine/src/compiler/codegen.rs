//! Code generation for expressions: emitting instructions, registers, constants, jump
//! lists, and turning an [`Exp`] into a value in a register.
//!
//! Contract:
//! - Registers are a stack: `freereg` is the first free one; temporaries are freed in
//!   reverse order of allocation. Locals occupy `0 .. nactvar`.
//! - `framesize` covers every register any instruction touches; reaching
//!   `MAX_SLOTS` is the error "function or expression too complex".
//! - Each instruction records the line of the last consumed token (LuaJIT's rule); calls
//!   are re-lined to their `(` by the parser.
//! - Jump lists hold pcs of `JMP`s. A `JMP` right after `ISTC`/`ISFC` carries a value (the
//!   tested register); when it is patched to a place that needs no value, the test is
//!   turned into `IST`/`ISF`. Other jumps in a list need a `true`/`false` loaded.
//! - Limits (constants, jump range) become LuaJIT's messages.

use super::func::{Exp, Key, EK, NO_REG};
use super::parser::Parser;
use super::proto::Const;
use super::SyntaxError;
use crate::bytecode::{Ins, Op, MAX_SLOTS};

type R<T> = Result<T, SyntaxError>;

/// Most constants of each kind (numbers, GC objects) in one prototype: D is 16 bits.
pub(super) const MAX_CONSTS: usize = 65536;

impl<'a> Parser<'a> {
    pub(super) fn emit(&mut self, ins: Ins) -> usize {
        // The instruction and its line, with the vectors' growth slack.
        self.held(16);
        self.fs.code.push(ins);
        self.fs.lines.push(self.lex.lastline);
        self.fs.code.len() - 1
    }

    pub(super) fn emit_ad(&mut self, op: Op, a: usize, d: usize) -> usize {
        self.emit(Ins::ad(op, a as u8, d as u16))
    }

    pub(super) fn emit_abc(&mut self, op: Op, a: usize, b: usize, c: usize) -> usize {
        self.emit(Ins::abc(op, a as u8, b as u8, c as u8))
    }

    // ---- Registers ----------------------------------------------------------------

    pub(super) fn too_complex(&self) -> SyntaxError {
        self.lex.error_near_tok("function or expression too complex")
    }

    /// Makes sure registers `.. n` exist in the frame.
    pub(super) fn bump_frame(&mut self, n: usize) -> R<()> {
        if n > self.fs.framesize {
            if n >= MAX_SLOTS {
                return Err(self.too_complex());
            }
            self.fs.framesize = n;
        }
        Ok(())
    }

    pub(super) fn reserve(&mut self, n: usize) -> R<()> {
        let sz = self.fs.freereg + n;
        self.bump_frame(sz)?;
        self.fs.freereg = sz;
        Ok(())
    }

    pub(super) fn free_reg(&mut self, r: u8) {
        let r = r as usize;
        if r >= self.fs.nactvar && r < self.fs.freereg {
            debug_assert_eq!(r + 1, self.fs.freereg, "register freed out of order");
            self.fs.freereg -= 1;
        }
    }

    pub(super) fn free_exp(&mut self, e: &Exp) {
        if let EK::NonReloc(r) = e.k {
            self.free_reg(r);
        }
    }

    /// Frees two registers, the higher first.
    pub(super) fn free_two(&mut self, a: Option<u8>, b: Option<u8>) {
        match (a, b) {
            (Some(x), Some(y)) => {
                let (hi, lo) = if x > y { (x, y) } else { (y, x) };
                self.free_reg(hi);
                self.free_reg(lo);
            }
            (Some(x), None) | (None, Some(x)) => self.free_reg(x),
            (None, None) => {}
        }
    }

    // ---- Constants ----------------------------------------------------------------

    // Like LuaJIT, the limits are checked when the function is finished
    // (`close_func`): a slot past 65535 is truncated in the instruction until then.

    /// The id of string `s` (for `EK::Str`); no constant slot yet.
    pub(super) fn k_str(&mut self, s: &[u8]) -> R<u32> {
        if let Some(&i) = self.fs.str_map.get(s) {
            return Ok(i);
        }
        let i = self.fs.strs.len() as u32;
        // Kept three times (by id, as a map key, as a constant), with the entries.
        self.held(3 * s.len() + 96);
        self.fs.strs.push(s.into());
        self.fs.str_slot.push(u32::MAX);
        self.fs.str_map.insert(s.into(), i);
        Ok(i)
    }

    /// The `kgc` slot of string id `id`, given one on first use.
    pub(super) fn kstr_slot(&mut self, id: u32) -> u32 {
        let i = id as usize;
        match self.fs.str_slot.get(i) {
            Some(&slot) if slot != u32::MAX => slot,
            Some(_) => {
                let slot = self.fs.kgc.len() as u32;
                let s = self.fs.strs[i].clone();
                self.fs.kgc.push(Const::Str(s));
                self.fs.str_slot[i] = slot;
                slot
            }
            None => 0,
        }
    }

    /// The `kgc` slot of string `s`.
    pub(super) fn kstr_of(&mut self, s: &[u8]) -> R<u32> {
        let id = self.k_str(s)?;
        Ok(self.kstr_slot(id))
    }

    /// A new `kgc` slot holding a table template.
    pub(super) fn k_table(&mut self, t: super::proto::TableTemplate) -> u32 {
        // The template, its vectors' first allocations and the constant slot.
        self.held(192);
        self.fs.kgc.push(Const::Table(t));
        (self.fs.kgc.len() - 1) as u32
    }

    pub(super) fn k_num(&mut self, n: f64) -> R<u32> {
        let bits = n.to_bits();
        if let Some(&i) = self.fs.num_map.get(&bits) {
            return Ok(i);
        }
        let i = self.fs.knum.len() as u32;
        self.held(64);
        self.fs.knum.push(n);
        self.fs.num_map.insert(bits, i);
        Ok(i)
    }

    // ---- Jumps --------------------------------------------------------------------

    pub(super) fn jump(&mut self) -> usize {
        self.emit(Ins::aj(Op::JMP, self.fs.freereg as u8, 0))
    }

    /// The pc where the next instruction goes, marked as a jump target.
    pub(super) fn label_here(&mut self) -> usize {
        self.fs.last_target = self.fs.pc();
        self.fs.pc()
    }

    pub(super) fn patch_jump(&mut self, pc: usize, target: usize) -> R<()> {
        let off = target as i64 - (pc as i64 + 1);
        if !(-32768..=32767).contains(&off) {
            return Err(self.lex.error_near_tok("control structure too long"));
        }
        if let Some(ins) = self.fs.code.get_mut(pc) {
            ins.set_j(off as i32);
        }
        if target >= self.fs.last_target {
            self.fs.last_target = target;
        }
        Ok(())
    }

    /// The test instruction controlling the jump at `pc`, if it is ISTC/ISFC.
    fn test_set(&self, pc: usize) -> Option<Ins> {
        let prev = self.fs.ins(pc.checked_sub(1)?)?;
        match prev.op() {
            Some(Op::ISTC) | Some(Op::ISFC) => Some(prev),
            _ => None,
        }
    }

    /// Turns the test before jump `pc` into a copy into `reg`, or into a plain test if
    /// `reg` is NO_REG or the tested register itself. False if the jump has no ISTC/ISFC.
    fn patch_test_reg(&mut self, pc: usize, reg: u8) -> bool {
        let Some(ins) = self.test_set(pc) else { return false };
        let src = ins.d();
        let new = if reg != NO_REG && reg as usize != src {
            let mut i = ins;
            i.set_a(reg);
            i
        } else {
            let op = if ins.op() == Some(Op::ISTC) { Op::IST } else { Op::ISF };
            Ins::ad(op, 0, src as u16)
        };
        self.fs.set_ins(pc - 1, new);
        true
    }

    /// Patches each jump: value-carrying ones to `vtarget` (copying into `reg`), the
    /// others to `dtarget`.
    fn patch_values(&mut self, list: &[usize], vtarget: usize, reg: u8, dtarget: usize) -> R<()> {
        for &pc in list {
            if self.patch_test_reg(pc, reg) {
                self.patch_jump(pc, vtarget)?;
            } else {
                self.patch_jump(pc, dtarget)?;
            }
        }
        Ok(())
    }

    /// Patches control-flow jumps (no value wanted) to `target`.
    pub(super) fn patch_list(&mut self, list: &[usize], target: usize) -> R<()> {
        self.patch_values(list, target, NO_REG, target)
    }

    pub(super) fn patch_here(&mut self, list: &[usize]) -> R<()> {
        let here = self.label_here();
        self.patch_list(list, here)
    }

    // ---- Discharging ----------------------------------------------------------------

    /// Loads nil into `n` registers from `from`.
    pub(super) fn emit_nil(&mut self, from: usize, n: usize) {
        if n == 0 {
            return;
        }
        // Merge with a directly preceding nil load when nothing jumps in between.
        let pc = self.fs.pc();
        if pc > self.fs.last_target && pc > 0 {
            if let Some(prev) = self.fs.ins(pc - 1) {
                let (pfrom, pto) = match prev.op() {
                    Some(Op::KPRI) if prev.d() == 0 => (prev.a(), prev.a()),
                    Some(Op::KNIL) => (prev.a(), prev.d()),
                    _ => (usize::MAX, 0),
                };
                if pfrom != usize::MAX && pfrom <= from && from <= pto + 1 {
                    let to = (from + n - 1).max(pto);
                    self.fs.set_ins(pc - 1, Ins::ad(Op::KNIL, pfrom as u8, to as u16));
                    return;
                }
            }
        }
        if n == 1 {
            self.emit_ad(Op::KPRI, from, 0);
        } else {
            self.emit_ad(Op::KNIL, from, from + n - 1);
        }
    }

    fn load_num(&mut self, reg: u8, n: f64) -> R<()> {
        let i = n as i16;
        if i as f64 == n && !(n == 0.0 && n.is_sign_negative()) {
            self.emit_ad(Op::KSHORT, reg as usize, i as u16 as usize);
        } else {
            let k = self.k_num(n)?;
            self.emit_ad(Op::KNUM, reg as usize, k as usize);
        }
        Ok(())
    }

    /// Turns variables and open calls into values (Reloc or NonReloc).
    pub(super) fn discharge(&mut self, e: &mut Exp) -> R<()> {
        match e.k {
            EK::Local(r) => e.k = EK::NonReloc(r),
            EK::Upval(u) => e.k = EK::Reloc(self.emit_ad(Op::UGET, 0, u as usize)),
            EK::Global(k) => e.k = EK::Reloc(self.emit_ad(Op::GGET, 0, k as usize)),
            EK::Indexed(t, key) => {
                let pc = match key {
                    Key::Reg(r) => {
                        self.free_two(Some(t), Some(r));
                        self.emit_abc(Op::TGETV, 0, t as usize, r as usize)
                    }
                    Key::Str(k) => {
                        self.free_reg(t);
                        self.emit_abc(Op::TGETS, 0, t as usize, k as usize)
                    }
                    Key::Byte(b) => {
                        self.free_reg(t);
                        self.emit_abc(Op::TGETB, 0, t as usize, b as usize)
                    }
                };
                e.k = EK::Reloc(pc);
            }
            EK::Call(pc) => {
                if let Some(ins) = self.fs.ins(pc) {
                    self.fs.set_ins(pc, Ins::abc(Op::CALL, ins.a() as u8, ins.b() as u8, 2));
                    e.k = EK::NonReloc(ins.a() as u8);
                }
            }
            EK::Vararg(pc) => {
                if let Some(ins) = self.fs.ins(pc) {
                    self.fs.set_ins(pc, Ins::abc(Op::VARG, ins.a() as u8, 2, 0));
                }
                e.k = EK::Reloc(pc);
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn discharge_to_reg(&mut self, e: &mut Exp, reg: u8) -> R<()> {
        self.discharge(e)?;
        let r = reg as usize;
        match e.k {
            EK::Nil => self.emit_nil(r, 1),
            EK::False => {
                self.emit_ad(Op::KPRI, r, 1);
            }
            EK::True => {
                self.emit_ad(Op::KPRI, r, 2);
            }
            EK::Num(n) => self.load_num(reg, n)?,
            EK::Str(id) => {
                let k = self.kstr_slot(id);
                self.emit_ad(Op::KSTR, r, k as usize);
            }
            EK::Reloc(pc) => {
                if let Some(mut ins) = self.fs.ins(pc) {
                    ins.set_a(reg);
                    self.fs.set_ins(pc, ins);
                }
            }
            EK::NonReloc(src) => {
                if src != reg {
                    self.emit_ad(Op::MOV, r, src as usize);
                }
            }
            _ => return Ok(()), // Void or Jmp: nothing to load
        }
        e.k = EK::NonReloc(reg);
        Ok(())
    }

    /// Puts the value (including pending jumps) into `reg`.
    pub(super) fn exp_to_reg(&mut self, e: &mut Exp, reg: u8) -> R<()> {
        self.discharge_to_reg(e, reg)?;
        if let EK::Jmp(pc) = e.k {
            e.t.push(pc);
        }
        if e.has_jumps() {
            let t = std::mem::take(&mut e.t);
            let f = std::mem::take(&mut e.f);
            let needs = t.iter().chain(f.iter()).any(|&pc| self.test_set(pc).is_none());
            let (mut load_false, mut load_true) = (0, 0);
            if needs {
                let skip = if matches!(e.k, EK::Jmp(_)) { None } else { Some(self.jump()) };
                load_false = self.label_here();
                self.emit_ad(Op::KPRI, reg as usize, 1);
                let j = self.jump();
                self.patch_jump(j, j + 2)?;
                load_true = self.label_here();
                self.emit_ad(Op::KPRI, reg as usize, 2);
                if let Some(s) = skip {
                    self.patch_here(&[s])?;
                }
            }
            let end = self.label_here();
            self.patch_values(&f, end, reg, load_false)?;
            self.patch_values(&t, end, reg, load_true)?;
        }
        e.k = EK::NonReloc(reg);
        Ok(())
    }

    pub(super) fn exp_to_nextreg(&mut self, e: &mut Exp) -> R<()> {
        self.discharge(e)?;
        self.free_exp(e);
        self.reserve(1)?;
        let r = (self.fs.freereg - 1) as u8;
        self.exp_to_reg(e, r)
    }

    pub(super) fn exp_to_anyreg(&mut self, e: &mut Exp) -> R<u8> {
        self.discharge(e)?;
        if let EK::NonReloc(r) = e.k {
            if !e.has_jumps() {
                return Ok(r);
            }
            if r as usize >= self.fs.nactvar {
                self.exp_to_reg(e, r)?;
                return Ok(r);
            }
        }
        self.exp_to_nextreg(e)?;
        match e.k {
            EK::NonReloc(r) => Ok(r),
            _ => Ok(0),
        }
    }

    /// Discharges to a value; materialises jumps into a register if there are any.
    pub(super) fn exp_to_val(&mut self, e: &mut Exp) -> R<()> {
        if e.has_jumps() {
            self.exp_to_anyreg(e)?;
            Ok(())
        } else {
            self.discharge(e)
        }
    }

    /// Sets the result count of an open call or vararg (`None`: all results).
    pub(super) fn set_returns(&mut self, e: &mut Exp, n: Option<usize>) -> R<()> {
        let c = n.map(|n| n + 1).unwrap_or(0);
        match e.k {
            EK::Call(pc) => {
                if let Some(ins) = self.fs.ins(pc) {
                    self.fs.set_ins(pc, Ins::abc(Op::CALL, ins.a() as u8, ins.b() as u8, c as u8));
                }
            }
            EK::Vararg(pc) => {
                let base = self.fs.freereg;
                self.fs.set_ins(pc, Ins::abc(Op::VARG, base as u8, c as u8, 0));
                self.reserve(1)?;
            }
            _ => {}
        }
        Ok(())
    }

    // ---- Conditions ---------------------------------------------------------------

    /// Emits a test of `e` and a jump taken when `e` is truthy (`when == true`) or falsy.
    fn jump_on(&mut self, e: &mut Exp, when: bool) -> R<usize> {
        if let EK::Reloc(pc) = e.k {
            if let Some(ins) = self.fs.ins(pc) {
                if ins.op() == Some(Op::NOT) && pc + 1 == self.fs.pc() {
                    // `not x`: test x directly with the opposite sense.
                    self.fs.code.pop();
                    self.fs.lines.pop();
                    let op = if when { Op::ISF } else { Op::IST };
                    self.emit_ad(op, 0, ins.d());
                    return Ok(self.jump());
                }
            }
        }
        // The pending jumps stay in the lists: only the fall-through value is tested.
        self.discharge(e)?;
        let r = match e.k {
            EK::NonReloc(r) => r,
            _ => {
                self.reserve(1)?;
                let r = (self.fs.freereg - 1) as u8;
                self.discharge_to_reg(e, r)?;
                r
            }
        };
        self.free_exp(e);
        let op = if when { Op::ISTC } else { Op::ISFC };
        self.emit_ad(op, NO_REG as usize, r as usize);
        Ok(self.jump())
    }

    /// Falls through when `e` is true; its false jumps are collected in `e.f`.
    pub(super) fn go_if_true(&mut self, e: &mut Exp) -> R<()> {
        self.discharge(e)?;
        let j = match e.k {
            EK::Str(_) | EK::Num(_) | EK::True => None,
            EK::False => Some(self.jump()),
            EK::Jmp(pc) => {
                self.invert_cond(pc);
                Some(pc)
            }
            _ => Some(self.jump_on(e, false)?),
        };
        if let Some(j) = j {
            e.f.push(j);
        }
        let t = std::mem::take(&mut e.t);
        self.patch_here(&t)?;
        Ok(())
    }

    /// Falls through when `e` is false; its true jumps are collected in `e.t`.
    pub(super) fn go_if_false(&mut self, e: &mut Exp) -> R<()> {
        self.discharge(e)?;
        let j = match e.k {
            EK::Nil | EK::False => None,
            EK::True => Some(self.jump()),
            EK::Jmp(pc) => Some(pc),
            _ => Some(self.jump_on(e, true)?),
        };
        if let Some(j) = j {
            e.t.push(j);
        }
        let f = std::mem::take(&mut e.f);
        self.patch_here(&f)?;
        Ok(())
    }

    /// Negates the comparison controlling the jump at `pc`.
    pub(super) fn invert_cond(&mut self, pc: usize) {
        if let Some(prev) = pc.checked_sub(1).and_then(|p| self.fs.ins(p)) {
            let flipped = Ins(prev.0 ^ 1);
            self.fs.set_ins(pc - 1, flipped);
        }
    }

    /// Drops the values carried by test jumps (they become plain tests).
    pub(super) fn remove_values(&mut self, list: &[usize]) {
        for &pc in list {
            self.patch_test_reg(pc, NO_REG);
        }
    }

    // ---- Tables -------------------------------------------------------------------

    /// Turns `e` (already holding the table in a register) into `t[key]`.
    pub(super) fn index(&mut self, t: &mut Exp, key: &mut Exp) -> R<()> {
        let treg = match t.k {
            EK::NonReloc(r) if !t.has_jumps() => r,
            _ => self.exp_to_anyreg(t)?,
        };
        let k = match key.k {
            EK::Str(id) if !key.has_jumps() && self.kstr_slot(id) <= 255 => Key::Str(self.kstr_slot(id) as u8),
            EK::Num(n) if !key.has_jumps() && (0.0..=255.0).contains(&n) && n.fract() == 0.0 => Key::Byte(n as u8),
            _ => Key::Reg(self.exp_to_anyreg(key)?),
        };
        t.k = EK::Indexed(treg, k);
        Ok(())
    }

    /// Stores `e` into the variable `var`.
    pub(super) fn store(&mut self, var: &Exp, e: &mut Exp) -> R<()> {
        match var.k {
            EK::Local(r) => {
                self.free_exp(e);
                self.exp_to_reg(e, r)?;
            }
            EK::Upval(u) => {
                self.exp_to_val(e)?;
                let u = u as usize;
                match e.k {
                    EK::Nil => self.emit_ad(Op::USETP, u, 0),
                    EK::False => self.emit_ad(Op::USETP, u, 1),
                    EK::True => self.emit_ad(Op::USETP, u, 2),
                    EK::Str(id) => {
                        let k = self.kstr_slot(id);
                        self.emit_ad(Op::USETS, u, k as usize)
                    }
                    EK::Num(n) => {
                        let k = self.k_num(n)?;
                        self.emit_ad(Op::USETN, u, k as usize)
                    }
                    _ => {
                        let r = self.exp_to_anyreg(e)?;
                        self.emit_ad(Op::USETV, u, r as usize)
                    }
                };
            }
            EK::Global(k) => {
                let r = self.exp_to_anyreg(e)?;
                self.emit_ad(Op::GSET, r as usize, k as usize);
            }
            EK::Indexed(t, key) => {
                let r = self.exp_to_anyreg(e)? as usize;
                self.emit_tset(r, t, key);
            }
            _ => {}
        }
        self.free_exp(e);
        Ok(())
    }

    /// `R[t][key] = R[r]`.
    pub(super) fn emit_tset(&mut self, r: usize, t: u8, key: Key) {
        match key {
            Key::Reg(kr) => self.emit_abc(Op::TSETV, r, t as usize, kr as usize),
            Key::Str(k) => self.emit_abc(Op::TSETS, r, t as usize, k as usize),
            Key::Byte(b) => self.emit_abc(Op::TSETB, r, t as usize, b as usize),
        };
    }

    /// `obj:name` — sets up `R[A] = obj.name, R[A+1] = obj` for a method call.
    pub(super) fn method(&mut self, e: &mut Exp, name: &[u8]) -> R<()> {
        let obj = self.exp_to_anyreg(e)?;
        self.free_exp(e);
        let base = self.fs.freereg;
        self.reserve(2)?;
        self.emit_ad(Op::MOV, base + 1, obj as usize);
        let k = self.kstr_of(name)?;
        if k <= 255 {
            self.emit_abc(Op::TGETS, base, obj as usize, k as usize);
        } else {
            self.reserve(1)?;
            self.emit_ad(Op::KSTR, base + 2, k as usize);
            self.emit_abc(Op::TGETV, base, obj as usize, base + 2);
            self.fs.freereg -= 1;
        }
        e.k = EK::NonReloc(base as u8);
        Ok(())
    }
}
