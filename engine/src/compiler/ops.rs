//! Code generation for operators: unary `not`, `-`, `#`; binary arithmetic (with constant
//! folding and the VN/NV forms), concatenation chains, comparisons and `and`/`or`.
//!
//! Contract:
//! - Arithmetic on two numeric literals folds unless the result is NaN or -0 (LuaJIT's
//!   rule); unary minus folds on non-zero literals. A constant operand whose index fits
//!   8 bits uses the VN/NV forms; `^` always uses registers (POW).
//! - `a .. b .. c` compiles to one CAT over consecutive registers.
//! - Comparisons leave an `EK::Jmp` (jump taken when true): `a > b` is `ISLT b a`,
//!   `a >= b` is `ISLE b a`; equality with a constant uses ISEQS/ISEQN/ISEQP.
//! - `and`/`or` chain jump lists (ISFC/ISTC carry the value).

use super::func::{Exp, EK};
use super::parser::Parser;
use super::SyntaxError;
use crate::bytecode::{Ins, Op};

type R<T> = Result<T, SyntaxError>;

impl<'a> Parser<'a> {
    pub(super) fn unop_not(&mut self, e: &mut Exp) -> R<()> {
        self.discharge(e)?;
        match e.k {
            EK::Nil | EK::False => e.k = EK::True,
            EK::True | EK::Num(_) | EK::Str(_) => e.k = EK::False,
            EK::Jmp(pc) => self.invert_cond(pc),
            _ => {
                let r = self.exp_to_anyreg(e)?;
                self.free_exp(e);
                e.k = EK::Reloc(self.emit_ad(Op::NOT, 0, r as usize));
            }
        }
        std::mem::swap(&mut e.t, &mut e.f);
        let (t, f) = (e.t.clone(), e.f.clone());
        self.remove_values(&t);
        self.remove_values(&f);
        Ok(())
    }

    pub(super) fn unop(&mut self, op: Op, e: &mut Exp) -> R<()> {
        if op == Op::UNM {
            if let Some(n) = e.num_const() {
                if n != 0.0 {
                    e.k = EK::Num(-n);
                    return Ok(());
                }
            }
            // A cdata literal is negated in place, as LuaJIT folds it (`-1LL`;
            // for a complex literal only the imaginary part's sign flips).
            if let EK::Reloc(pc) = e.k {
                let ins = self.fs.code[pc];
                if !e.has_jumps() && ins.op() == Some(Op::KCDATA) {
                    if let Some(crate::compiler::Const::CData(c)) = self.fs.kgc.get_mut(ins.d()) {
                        use crate::compiler::CConst;
                        *c = match *c {
                            CConst::Int64(i) => CConst::Int64(i.wrapping_neg()),
                            CConst::UInt64(u) => CConst::UInt64(u.wrapping_neg()),
                            CConst::Complex(re, im) => CConst::Complex(re, -im),
                        };
                        return Ok(());
                    }
                }
            }
        }
        let r = self.exp_to_anyreg(e)?;
        self.free_exp(e);
        e.k = EK::Reloc(self.emit_ad(op, 0, r as usize));
        Ok(())
    }

    /// Prepares the left operand of a binary operator before the right one is parsed.
    pub(super) fn infix(&mut self, op: BinOp, e: &mut Exp) -> R<()> {
        match op {
            BinOp::And => self.go_if_true(e)?,
            BinOp::Or => self.go_if_false(e)?,
            BinOp::Concat => self.exp_to_nextreg(e)?,
            BinOp::Eq | BinOp::Ne => {
                let is_const =
                    !e.has_jumps() && matches!(e.k, EK::Nil | EK::True | EK::False | EK::Num(_) | EK::Str(_));
                if !is_const {
                    self.exp_to_anyreg(e)?;
                }
            }
            BinOp::Arith(_) => {
                if e.num_const().is_none() {
                    self.exp_to_anyreg(e)?;
                }
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.exp_to_anyreg(e)?;
            }
        }
        Ok(())
    }

    /// Combines both operands of a binary operator into `e1`.
    pub(super) fn postfix(&mut self, op: BinOp, e1: &mut Exp, mut e2: Exp) -> R<()> {
        match op {
            BinOp::And => {
                self.discharge(&mut e2)?;
                let mut f = std::mem::take(&mut e1.f);
                f.append(&mut e2.f);
                e2.f = f;
                *e1 = e2;
            }
            BinOp::Or => {
                self.discharge(&mut e2)?;
                let mut t = std::mem::take(&mut e1.t);
                t.append(&mut e2.t);
                e2.t = t;
                *e1 = e2;
            }
            BinOp::Concat => {
                self.exp_to_val(&mut e2)?;
                let base = match e1.k {
                    EK::NonReloc(r) => r,
                    _ => 0,
                };
                if let EK::Reloc(pc) = e2.k {
                    if let Some(ins) = self.fs.ins(pc) {
                        if ins.op() == Some(Op::CAT) && ins.b() == base as usize + 1 {
                            self.free_exp(e1);
                            self.fs.set_ins(pc, Ins::abc(Op::CAT, 0, base, ins.c() as u8));
                            e1.k = EK::Reloc(pc);
                            return Ok(());
                        }
                    }
                }
                self.exp_to_nextreg(&mut e2)?;
                let top = match e2.k {
                    EK::NonReloc(r) => r,
                    _ => 0,
                };
                self.free_exp(&e2);
                self.free_exp(e1);
                e1.k = EK::Reloc(self.emit_abc(Op::CAT, 0, base as usize, top as usize));
            }
            BinOp::Arith(aop) => self.arith(aop, e1, e2)?,
            BinOp::Eq | BinOp::Ne => self.equality(op == BinOp::Eq, e1, e2)?,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let r1 = self.exp_to_anyreg(e1)?;
                let r2 = self.exp_to_anyreg(&mut e2)?;
                self.free_two(Some(r1).filter(|_| matches!(e1.k, EK::NonReloc(_))), Some(r2));
                let (opc, a, d) = match op {
                    BinOp::Lt => (Op::ISLT, r1, r2),
                    BinOp::Le => (Op::ISLE, r1, r2),
                    BinOp::Gt => (Op::ISLT, r2, r1),
                    _ => (Op::ISLE, r2, r1),
                };
                self.emit_ad(opc, a as usize, d as usize);
                e1.k = EK::Jmp(self.jump());
            }
        }
        Ok(())
    }

    fn equality(&mut self, eq: bool, e1: &mut Exp, mut e2: Exp) -> R<()> {
        let is_const =
            |e: &Exp| !e.has_jumps() && matches!(e.k, EK::Nil | EK::True | EK::False | EK::Num(_) | EK::Str(_));
        if is_const(e1) {
            // Constant on the left: evaluate the right side into a register and swap.
            if is_const(&e2) {
                self.exp_to_anyreg(e1)?;
            } else {
                self.exp_to_anyreg(&mut e2)?;
                std::mem::swap(e1, &mut e2);
            }
        }
        let r1 = self.exp_to_anyreg(e1)?;
        self.exp_to_val(&mut e2)?;
        let (op, d) = match e2.k {
            EK::Nil => (Op::ISEQP, 0),
            EK::False => (Op::ISEQP, 1),
            EK::True => (Op::ISEQP, 2),
            EK::Str(id) => (Op::ISEQS, self.kstr_slot(id)),
            EK::Num(n) => (Op::ISEQN, self.k_num(n)?),
            _ => {
                let r2 = self.exp_to_anyreg(&mut e2)?;
                self.free_two(Some(r1), Some(r2));
                (Op::ISEQV, r2 as u32)
            }
        };
        if op != Op::ISEQV {
            self.free_reg(r1);
        }
        let op = if eq { op } else { Op::from_u8(op as u8 ^ 1).unwrap_or(op) };
        self.emit_ad(op, r1 as usize, d as usize);
        e1.k = EK::Jmp(self.jump());
        e1.t.clear();
        e1.f.clear();
        Ok(())
    }

    fn arith(&mut self, op: ArithOp, e1: &mut Exp, mut e2: Exp) -> R<()> {
        if let (Some(a), Some(b)) = (e1.num_const(), e2.num_const()) {
            let v = op.fold(a, b);
            if !(v.is_nan() || v == 0.0 && v.is_sign_negative()) {
                e1.k = EK::Num(v);
                return Ok(());
            }
        }
        if op == ArithOp::Pow {
            let r2 = self.exp_to_anyreg(&mut e2)?;
            let r1 = self.exp_to_anyreg(e1)?;
            self.free_two(Some(r1), Some(r2));
            e1.k = EK::Reloc(self.emit_abc(Op::POW, 0, r1 as usize, r2 as usize));
            return Ok(());
        }
        let base = op.base_op() as u8;
        // VN form: constant on the right.
        if let Some(n) = e2.num_const() {
            let k = self.k_num(n)?;
            if k <= 255 {
                let r1 = self.exp_to_anyreg(e1)?;
                self.free_exp(e1);
                let opc = Op::from_u8(base).unwrap_or(Op::ADDVN);
                e1.k = EK::Reloc(self.emit_abc(opc, 0, r1 as usize, k as usize));
                return Ok(());
            }
        }
        // NV form: constant on the left.
        if let Some(n) = e1.num_const() {
            let k = self.k_num(n)?;
            if k <= 255 {
                let r2 = self.exp_to_anyreg(&mut e2)?;
                self.free_exp(&e2);
                let opc = Op::from_u8(base + 5).unwrap_or(Op::ADDNV);
                e1.k = EK::Reloc(self.emit_abc(opc, 0, r2 as usize, k as usize));
                return Ok(());
            }
        }
        let r2 = self.exp_to_anyreg(&mut e2)?;
        let r1 = self.exp_to_anyreg(e1)?;
        self.free_two(Some(r1), Some(r2));
        let opc = Op::from_u8(base + 10).unwrap_or(Op::ADDVV);
        e1.k = EK::Reloc(self.emit_abc(opc, 0, r1 as usize, r2 as usize));
        Ok(())
    }
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl ArithOp {
    /// The VN opcode of the operator (NV is +5, VV is +10 in the opcode table).
    fn base_op(self) -> Op {
        match self {
            ArithOp::Add => Op::ADDVN,
            ArithOp::Sub => Op::SUBVN,
            ArithOp::Mul => Op::MULVN,
            ArithOp::Div => Op::DIVVN,
            ArithOp::Mod => Op::MODVN,
            ArithOp::Pow => Op::POW,
        }
    }

    /// Lua's arithmetic on doubles.
    pub fn fold(self, a: f64, b: f64) -> f64 {
        match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div => a / b,
            ArithOp::Mod => crate::number::lua_mod(a, b),
            ArithOp::Pow => a.powf(b),
        }
    }
}

/// Binary operators with their priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Arith(ArithOp),
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    /// (left, right) priority.
    pub fn priority(self) -> (u8, u8) {
        match self {
            BinOp::Or => (1, 1),
            BinOp::And => (2, 2),
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (3, 3),
            BinOp::Concat => (5, 4),
            BinOp::Arith(ArithOp::Add) | BinOp::Arith(ArithOp::Sub) => (6, 6),
            BinOp::Arith(ArithOp::Pow) => (10, 9),
            BinOp::Arith(_) => (7, 7),
        }
    }
}

/// Priority of unary operators.
pub const UNARY_PRIORITY: u8 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_table_order_matches_arith_forms() {
        for (vn, nv, vv) in [
            (Op::ADDVN, Op::ADDNV, Op::ADDVV),
            (Op::SUBVN, Op::SUBNV, Op::SUBVV),
            (Op::MULVN, Op::MULNV, Op::MULVV),
            (Op::DIVVN, Op::DIVNV, Op::DIVVV),
            (Op::MODVN, Op::MODNV, Op::MODVV),
        ] {
            assert_eq!(vn as u8 + 5, nv as u8);
            assert_eq!(vn as u8 + 10, vv as u8);
        }
    }
}
