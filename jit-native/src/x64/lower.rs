//! Lowering a trace's IR to x86-64 machine code.
//!
//! The trace function is `extern "sysv64" fn(ctx: *mut TraceCtx, base: *mut Value) ->
//! u32`. Frame: the callee-saved registers are pushed and a fixed spill area is
//! reserved; `r15` holds `ctx`, `r14` the base of the frame's registers, `r13` the
//! first non-number bit pattern (a number check is one `cmp`). `rax`, `rcx`, `xmm13`,
//! `xmm14` and `xmm15` are scratch.
//!
//! Code shape: the loop body (one iteration of the recorded loop, loading its slots
//! from the stack), then the back edge's snapshot stores and `jmp` to the top; after
//! the loop one stub per snapshot stores that snapshot's slots and returns its number.
//!
//! Register allocation: forward linear scan over the trace. A `Num` value lives in an
//! xmm register (`xmm0`-`xmm12`) from its definition to its last use (snapshot uses
//! count), or in a spill slot when none is free; a boxed value always lives in a
//! spill slot; constants live nowhere (immediates, RIP-relative constants). Each value
//! has one home for its whole life, so an exit stub finds every value where it is.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use moonbox_engine::jit::ir::{Cond as IrCond, IrOp, IrRef, TraceIr, Ty};
use moonbox_engine::jit::record::pow2_reciprocal;
use moonbox_engine::value::{tag, Value};
use moonbox_engine::vm::layout;

use super::asm::{Assembler, Label, Mem, RoundMode, Size};
use super::regs::{Cond, Gpr, Xmm};

/// Offsets in [`crate::TraceCtx`].
pub const CTX_BUDGET: i32 = std::mem::offset_of!(crate::TraceCtx, budget) as i32;
pub const CTX_FORCE: i32 = std::mem::offset_of!(crate::TraceCtx, force) as i32;
pub const CTX_FUNC: i32 = std::mem::offset_of!(crate::TraceCtx, func) as i32;
pub const CTX_MARKING: i32 = std::mem::offset_of!(crate::TraceCtx, marking) as i32;
pub const CTX_STACK: i32 = std::mem::offset_of!(crate::TraceCtx, stack) as i32;
pub const CTX_BASE: i32 = std::mem::offset_of!(crate::TraceCtx, base) as i32;
pub const CTX_THREAD: i32 = std::mem::offset_of!(crate::TraceCtx, thread) as i32;

/// Spill slots in the fixed frame.
pub const MAX_SPILLS: usize = 64;
/// Where a helper call saves the live xmm registers: one slot per pool register,
/// above the spill area.
const XMM_SAVE: i32 = (MAX_SPILLS as i32) * 8;
/// Bytes reserved below the pushed registers: the spill area and the xmm save
/// area, `rsp` 16-byte aligned (return address + 6 pushes = 56 bytes; the total
/// must be a multiple of 16, so this is 8 more than one).
const FRAME: i32 = XMM_SAVE + (POOL_LEN as i32) * 8;
const _: () = assert!((FRAME + 56) % 16 == 0);

const CTX: Gpr = Gpr::R15;
const BASE: Gpr = Gpr::R14;
const TAGGED: Gpr = Gpr::R13;
/// The instruction budget (`TraceCtx::budget`) while traces run: loaded at the
/// entry, kept across linked traces, stored back at the common epilogue.
const BUDGET: Gpr = Gpr::Rbx;
const S0: Xmm = Xmm::Xmm14;
const S1: Xmm = Xmm::Xmm15;
const S2: Xmm = Xmm::Xmm13;
/// The allocatable xmm registers: xmm0-xmm12 (13-15 are the scratch ones above).
const POOL_LEN: usize = 13;
fn pool() -> &'static [Xmm] {
    Xmm::ALL.get(..POOL_LEN).unwrap_or(&[])
}
const SAVED: [Gpr; 6] = [Gpr::Rbx, Gpr::Rbp, Gpr::R12, Gpr::R13, Gpr::R14, Gpr::R15];

/// Where a value lives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Home {
    /// Not computed (dead) or not a value (guards).
    None,
    Reg(Xmm),
    /// Spill slot `n`: `[rsp + 8n]`.
    Spill(u32),
    /// A constant's boxed bits (a number's bits for `Num`).
    Const(u64),
}

/// Options for one compilation.
#[derive(Clone, Copy, Debug, Default)]
pub struct LowerOptions {
    /// Check `ctx.force[snapshot]` at every guard (the forced-exit test mode).
    pub force_checks: bool,
    /// The CPU has SSE4.1 (`roundsd`, for `%`).
    pub sse41: bool,
    /// The trace's number (exit codes are `number << 16 | snapshot`).
    pub number: u32,
    /// The address of the trace's exit link table (one `u64` per snapshot: zero, or
    /// the address to jump to after storing that snapshot). None: no links.
    pub exit_links: Option<u64>,
    /// A side trace's end: the address to jump to after its last snapshot (another
    /// trace's inner entry). None: it returns that snapshot's exit code instead.
    pub link_to: Option<u64>,
}

/// Machine code and where its inner entry is (after the prologue: linked traces
/// jump there with the frame already set up).
pub struct Lowered {
    pub bytes: Vec<u8>,
    pub inner_entry: usize,
}

/// Why a trace could not be lowered.
#[derive(Debug)]
pub enum LowerError {
    /// An IR op this backend does not lower yet.
    Nyi(&'static str),
    /// More simultaneously live values than spill slots.
    SpillOverflow,
    Asm(String),
}

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LowerError::Nyi(op) => write!(f, "NYI: cannot lower IR {op}"),
            LowerError::SpillOverflow => f.write_str("too many spill slots"),
            LowerError::Asm(m) => write!(f, "assembler: {m}"),
        }
    }
}

struct Lower<'a> {
    ir: &'a TraceIr,
    opts: LowerOptions,
    asm: Assembler,
    homes: Vec<Home>,
    consts: HashMap<u64, Label>,
    exits: Vec<Label>,
    sign_mask: Option<Label>,
    inner: Option<Label>,
    /// Each value's last use (`n`: live to the loop's end).
    last: Vec<usize>,
}

/// A layout offset as a displacement.
fn disp(offset: usize) -> Result<i32, LowerError> {
    i32::try_from(offset).map_err(|_| LowerError::Nyi("layout offset"))
}

/// The high bits of a boxed GC value with tag `t` (its payload is the address).
fn boxed_prefix(t: u64) -> u64 {
    (Value::FIRST_TAGGED - (1 << 47)) | t << 47
}

fn slot_mem(slot: u16) -> Mem {
    Mem::base(BASE, i32::from(slot) * 8)
}

fn spill_mem(n: u32) -> Mem {
    Mem::base(Gpr::Rsp, (n as i32) * 8)
}

/// Lowers `ir` to machine code (position-independent: constants are RIP-relative).
pub fn lower(ir: &TraceIr, opts: LowerOptions) -> Result<Lowered, LowerError> {
    // Every slot must be inside the window the entry checks (`MAX_SLOTS`).
    let max_slot = moonbox_engine::jit::record::MAX_SLOTS;
    let slot_ok = ir.ins.iter().all(|i| i.op != IrOp::SLOAD || (i.k as usize) < max_slot)
        && ir.snaps.iter().all(|s| s.entries.iter().all(|e| usize::from(e.slot) < max_slot));
    if !slot_ok || ir.nslots > max_slot {
        return Err(LowerError::Nyi("slot out of range"));
    }
    ir.check_types().map_err(LowerError::Nyi)?;
    let n = ir.ins.len();
    let live = ir.live();
    // Last use of each value, counting guards' snapshots (their stubs read it).
    let mut last = vec![0usize; n];
    for (i, ins) in ir.ins.iter().enumerate() {
        if !live.get(i).copied().unwrap_or(false) {
            continue;
        }
        for o in ins.operands() {
            if let Some(l) = last.get_mut(usize::from(o)) {
                *l = (*l).max(i);
            }
        }
        if ins.is_guard() {
            if let Some(s) = ir.snaps.get(usize::from(ins.snap)) {
                for e in &s.entries {
                    if let Some(l) = last.get_mut(usize::from(e.r)) {
                        *l = (*l).max(i);
                    }
                }
            }
        }
    }
    match ir.loop_at {
        Some(lp) => {
            // Values from before the LOOP that the body reads live through every
            // iteration: to the end. So do both sides of each PHI.
            for (i, ins) in ir.ins.iter().enumerate().skip(lp) {
                if !live.get(i).copied().unwrap_or(false) {
                    continue;
                }
                let mut uses: Vec<IrRef> = ins.operands().collect();
                if ins.is_guard() {
                    if let Some(s) = ir.snaps.get(usize::from(ins.snap)) {
                        uses.extend(s.entries.iter().map(|e| e.r));
                    }
                }
                for u in uses {
                    if usize::from(u) < lp || ins.op == IrOp::PHI {
                        if let Some(l) = last.get_mut(usize::from(u)) {
                            *l = n;
                        }
                    }
                }
            }
        }
        None => {
            if let Some(s) = ir.snaps.get(ir.loop_snap) {
                for e in &s.entries {
                    if let Some(l) = last.get_mut(usize::from(e.r)) {
                        *l = n;
                    }
                }
            }
        }
    }
    // Homes, by a forward scan.
    let mut homes = vec![Home::None; n];
    let mut free: Vec<Xmm> = pool().iter().rev().copied().collect();
    let mut free_spills: Vec<u32> = (0..MAX_SPILLS as u32).rev().collect();
    let mut active: Vec<(usize, usize)> = Vec::new(); // (last use, ref)
    for (i, ins) in ir.ins.iter().enumerate() {
        // Values whose last use came before this instruction give their home back.
        active.retain(|&(end, r)| {
            if end < i {
                match homes.get(r) {
                    Some(&Home::Reg(x)) => free.push(x),
                    Some(&Home::Spill(s)) => free_spills.push(s),
                    _ => {}
                }
                false
            } else {
                true
            }
        });
        if !live.get(i).copied().unwrap_or(false) {
            continue;
        }
        let home = match ins.op {
            IrOp::KNUM | IrOp::KBOX => Home::Const(match ins.op {
                IrOp::KNUM => ins.k,
                _ => ir.consts.get(ins.k as usize).copied().unwrap_or(Value::NIL).to_bits(),
            }),
            IrOp::KPRI => Home::Const(ins.ty.pri_bits().unwrap_or(Value::NIL.to_bits())),
            IrOp::GUARD
            | IrOp::BUDGET
            | IrOp::LOOP
            | IrOp::PHI
            | IrOp::TMETA
            | IrOp::TBAR
            | IrOp::XNNIL
            | IrOp::UBAR
            | IrOp::UOPEN
            | IrOp::HNIL
            | IrOp::XSTORE => Home::None,
            IrOp::SLOAD | IrOp::XLOAD if ins.ty.pri_bits().is_some() => Home::Const(ins.ty.pri_bits().unwrap_or(0)),
            _ if ins.ty == Ty::Num => {
                // An operand that dies here may hand its register over.
                let reuse = ins.operands().find_map(|o| {
                    let o = usize::from(o);
                    match homes.get(o) {
                        Some(&Home::Reg(x)) if last.get(o).copied() == Some(i) => Some((o, x)),
                        _ => None,
                    }
                });
                if let Some((o, x)) = reuse {
                    active.retain(|&(_, r)| r != o);
                    Home::Reg(x)
                } else if let Some(x) = free.pop() {
                    Home::Reg(x)
                } else {
                    Home::Spill(free_spills.pop().ok_or(LowerError::SpillOverflow)?)
                }
            }
            _ => Home::Spill(free_spills.pop().ok_or(LowerError::SpillOverflow)?),
        };
        if let Some(h) = homes.get_mut(i) {
            *h = home;
        }
        if matches!(home, Home::Reg(_) | Home::Spill(_)) {
            active.push((last.get(i).copied().unwrap_or(i).max(i), i));
        }
    }
    let mut l = Lower {
        ir,
        opts,
        asm: Assembler::with_capacity(1024),
        homes,
        consts: HashMap::new(),
        exits: Vec::new(),
        sign_mask: None,
        inner: None,
        last,
    };
    l.exits = (0..ir.snaps.len()).map(|_| l.asm.new_label()).collect();
    l.body(&live)?;
    let inner = l.inner.and_then(|t| l.asm.label_offset(t)).ok_or(LowerError::Asm("no inner entry".into()))?;
    let bytes = l.asm.finish().map_err(|e| LowerError::Asm(format!("{e:?}")))?;
    Ok(Lowered { bytes, inner_entry: inner })
}

impl Lower<'_> {
    fn body(&mut self, live: &[bool]) -> Result<(), LowerError> {
        let a = &mut self.asm;
        for r in SAVED {
            a.push(r);
        }
        a.sub_ri(Size::S64, Gpr::Rsp, FRAME);
        a.mov_rr(Size::S64, CTX, Gpr::Rdi);
        a.mov_rr(Size::S64, BASE, Gpr::Rsi);
        a.mov_ri64(TAGGED, Value::FIRST_TAGGED);
        a.mov_rm(Size::S64, BUDGET, Mem::base(CTX, CTX_BUDGET));
        let top = a.new_label();
        let body_top = a.new_label();
        a.align(16);
        a.bind(top);
        self.inner = Some(top);
        for (i, ins) in self.ir.ins.iter().enumerate() {
            if !live.get(i).copied().unwrap_or(false) {
                continue;
            }
            let ins = *ins;
            if ins.is_guard() && self.opts.force_checks {
                let exit = self.exit_label(ins.snap);
                self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(CTX, CTX_FORCE));
                self.asm.cmp_m8i(Mem::base(Gpr::Rax, i32::from(ins.snap)), 0);
                self.asm.jcc(Cond::Ne, exit);
            }
            match ins.op {
                IrOp::KNUM | IrOp::KPRI | IrOp::KBOX => {}
                IrOp::SLOAD => self.sload(i, ins.k as u16, ins.ty, ins.snap),
                IrOp::GUARD => self.guard(ins.cond(), ins.a, ins.b, ins.snap),
                IrOp::BUDGET => {
                    // In a register: a memory counter would chain every iteration
                    // through a store and a reload.
                    let exit = self.exit_label(ins.snap);
                    let k = ins.k.min(i32::MAX as u64) as i32;
                    self.asm.cmp_ri(Size::S64, BUDGET, k);
                    self.asm.jcc(Cond::L, exit);
                    self.asm.sub_ri(Size::S64, BUDGET, k);
                }
                IrOp::ADD => self.arith(i, ins.a, ins.b, |a, d, s| a.addsd_xx(d, s)),
                IrOp::MUL => self.arith(i, ins.a, ins.b, |a, d, s| a.mulsd_xx(d, s)),
                IrOp::SUB => self.arith(i, ins.a, ins.b, |a, d, s| a.subsd_xx(d, s)),
                IrOp::DIV => self.arith(i, ins.a, ins.b, |a, d, s| a.divsd_xx(d, s)),
                IrOp::NEG => {
                    let x = self.load_num(ins.a, S0);
                    let mask = match self.sign_mask {
                        Some(l) => l,
                        None => {
                            let l = self.asm.const_xmm(0x8000_0000_0000_0000, 0);
                            self.sign_mask = Some(l);
                            l
                        }
                    };
                    let d = self.dst(i);
                    if d != x {
                        self.asm.movapd_xx(d, x);
                    }
                    self.asm.xorpd_xm(d, Mem::rip(mask));
                    self.store_dst(i, d);
                }
                IrOp::MOD => {
                    if !self.opts.sse41 {
                        return Err(LowerError::Nyi("MOD"));
                    }
                    // a - floor(a / b) * b, in the interpreter's order (number::lua_mod).
                    let y = self.load_num(ins.b, S1);
                    let x = self.load_num(ins.a, S0);
                    self.asm.movapd_xx(S2, x);
                    // By a power of two: times its reciprocal, the same quotient
                    // without a division's latency.
                    let recip = match self.home(ins.b) {
                        Home::Const(bits) => pow2_reciprocal(f64::from_bits(bits)),
                        _ => None,
                    };
                    match recip {
                        Some(r) => {
                            let l = self.const_label(r.to_bits());
                            self.asm.mulsd_xm(S2, Mem::rip(l));
                        }
                        None => self.asm.divsd_xx(S2, y),
                    }
                    self.asm.roundsd_xx(S2, S2, RoundMode::Floor);
                    self.asm.mulsd_xx(S2, y);
                    self.binop(i, x, S2, |a, d, s| a.subsd_xx(d, s));
                }
                IrOp::POW => return Err(LowerError::Nyi("POW")),
                IrOp::HREF => {
                    // The key's value slot, or 0 (not in the table: exit).
                    let exit = self.exit_label(ins.snap);
                    let f: unsafe extern "sysv64" fn(u64, u64) -> u64 = moonbox_engine::jit::helpers::slot;
                    self.call_raw(i, f as usize as u64, &[ins.a, ins.b]);
                    self.restore_live(i);
                    self.asm.test_rr(Size::S64, Gpr::Rax, Gpr::Rax);
                    self.asm.jcc(Cond::E, exit);
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::HNIL => {
                    let exit = self.exit_label(ins.snap);
                    let f: unsafe extern "sysv64" fn(u64, u64) -> u64 = moonbox_engine::jit::helpers::rawget;
                    self.call_raw(i, f as usize as u64, &[ins.a, ins.b]);
                    self.restore_live(i);
                    self.asm.load_imm(Gpr::Rcx, Value::NIL.to_bits());
                    self.asm.cmp_rr(Size::S64, Gpr::Rax, Gpr::Rcx);
                    self.asm.jcc(Cond::Ne, exit);
                }
                IrOp::TMT => {
                    let exit = self.exit_label(ins.snap);
                    self.load_ptr(ins.a, Gpr::Rax);
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, disp(layout::TABLE_META)?));
                    self.asm.test_rr(Size::S64, Gpr::Rax, Gpr::Rax);
                    self.asm.jcc(Cond::E, exit);
                    self.asm.load_imm(Gpr::Rcx, boxed_prefix(tag::TABLE));
                    self.asm.or_rr(Size::S64, Gpr::Rax, Gpr::Rcx);
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::SBYTE => {
                    // The byte, or a negative number: exit.
                    let exit = self.exit_label(ins.snap);
                    let f: unsafe extern "sysv64" fn(u64, f64) -> f64 = moonbox_engine::jit::helpers::byte;
                    self.call_byte(i, f as usize as u64, ins.a, ins.b, exit);
                }
                IrOp::ALEN => {
                    let f: unsafe extern "sysv64" fn(u64) -> f64 = moonbox_engine::jit::helpers::len;
                    self.call_helper(i, f as usize as u64, &[ins.a]);
                }
                IrOp::SQRT => {
                    let x = self.load_num(ins.a, S0);
                    let d = self.dst(i);
                    self.asm.sqrtsd_xx(d, x);
                    self.store_dst(i, d);
                }
                IrOp::ABS => {
                    let x = self.load_num(ins.a, S0);
                    let mask = self.asm.const_xmm(0x7FFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF);
                    let d = self.dst(i);
                    if d != x {
                        self.asm.movapd_xx(d, x);
                    }
                    self.asm.andpd_xm(d, Mem::rip(mask));
                    self.store_dst(i, d);
                }
                IrOp::FLOOR | IrOp::CEIL => {
                    if !self.opts.sse41 {
                        return Err(LowerError::Nyi("FLOOR"));
                    }
                    let x = self.load_num(ins.a, S0);
                    let d = self.dst(i);
                    let mode = if ins.op == IrOp::FLOOR { RoundMode::Floor } else { RoundMode::Ceil };
                    self.asm.roundsd_xx(d, x, mode);
                    self.store_dst(i, d);
                }
                // `minsd d, s` is `d < s ? d : s`: with `a` in d, the library's fold.
                IrOp::MIN => self.arith(i, ins.a, ins.b, |a, d, s| a.minsd_xx(d, s)),
                IrOp::MAX => self.arith(i, ins.a, ins.b, |a, d, s| a.maxsd_xx(d, s)),
                IrOp::LOOP => {
                    self.asm.align(16);
                    self.asm.bind(body_top);
                }
                IrOp::PHI => {}
                IrOp::FUNC => {
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(CTX, CTX_FUNC));
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::FENV => {
                    self.load_ptr(ins.a, Gpr::Rax);
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, disp(layout::FUNC_ENV)?));
                    self.asm.load_imm(Gpr::Rcx, boxed_prefix(tag::TABLE));
                    self.asm.or_rr(Size::S64, Gpr::Rax, Gpr::Rcx);
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::TMETA => {
                    let exit = self.exit_label(ins.snap);
                    self.load_ptr(ins.a, Gpr::Rax);
                    self.asm.mov_rm(Size::S64, Gpr::Rcx, Mem::base(Gpr::Rax, disp(layout::TABLE_META)?));
                    self.asm.test_rr(Size::S64, Gpr::Rcx, Gpr::Rcx);
                    if ins.k == 0 {
                        self.asm.jcc(Cond::Ne, exit);
                    } else {
                        // No metatable, or one whose absent-metamethod bits have all of k.
                        let bits = i32::try_from(ins.k).map_err(|_| LowerError::Nyi("TMETA"))?;
                        let ok = self.asm.new_label();
                        self.asm.jcc(Cond::E, ok);
                        self.asm.mov_rm(Size::S32, Gpr::Rcx, Mem::base(Gpr::Rcx, disp(layout::TABLE_NOMM)?));
                        self.asm.and_ri(Size::S32, Gpr::Rcx, bits);
                        self.asm.cmp_ri(Size::S32, Gpr::Rcx, bits);
                        self.asm.jcc(Cond::Ne, exit);
                        self.asm.bind(ok);
                    }
                }
                IrOp::TBAR => {
                    let exit = self.exit_label(ins.snap);
                    let ok = self.asm.new_label();
                    self.asm.cmp_m8i(Mem::base(CTX, CTX_MARKING), 0);
                    self.asm.jcc(Cond::E, ok);
                    self.load_ptr(ins.a, Gpr::Rax);
                    self.asm.cmp_m8i(Mem::base(Gpr::Rax, disp(layout::GC_COLOR)?), layout::GC_BLACK);
                    self.asm.jcc(Cond::E, exit);
                    self.asm.bind(ok);
                }
                IrOp::AREF => {
                    // An integer index from 1 to the array part's length (unsigned
                    // compare of index - 1: 0 and negatives are huge).
                    let exit = self.exit_label(ins.snap);
                    let x = self.load_num(ins.b, S0);
                    self.asm.cvttsd2si_rx(Size::S64, Gpr::Rax, x);
                    self.asm.cvtsi2sd_xr(Size::S64, S1, Gpr::Rax);
                    self.asm.ucomisd_xx(S1, x);
                    self.asm.jcc(Cond::Ne, exit);
                    self.asm.jcc(Cond::P, exit);
                    self.asm.sub_ri(Size::S64, Gpr::Rax, 1);
                    self.load_ptr(ins.a, Gpr::Rcx);
                    self.asm.mov_rm(Size::S32, Gpr::Rdx, Mem::base(Gpr::Rcx, disp(layout::TABLE_ARR_LEN)?));
                    self.asm.cmp_rr(Size::S64, Gpr::Rax, Gpr::Rdx);
                    self.asm.jcc(Cond::Ae, exit);
                    self.asm.mov_rm(Size::S64, Gpr::Rcx, Mem::base(Gpr::Rcx, disp(layout::TABLE_ARR_PTR)?));
                    let m = Mem::indexed(Gpr::Rcx, Gpr::Rax, super::asm::Scale::X8, 0)
                        .map_err(|e| LowerError::Asm(format!("{e:?}")))?;
                    self.asm.lea(Size::S64, Gpr::Rax, m);
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::HREFK => {
                    // Node k exists and holds the key.
                    let exit = self.exit_label(ins.snap);
                    let node = ins.k.checked_mul(layout::NODE_SIZE as u64).filter(|&o| o <= (i32::MAX as u64) / 2);
                    let (Some(node), Ok(k)) = (node, i32::try_from(ins.k)) else {
                        return Err(LowerError::Nyi("HREFK"));
                    };
                    self.load_ptr(ins.a, Gpr::Rcx);
                    self.asm.mov_rm(Size::S32, Gpr::Rdx, Mem::base(Gpr::Rcx, disp(layout::TABLE_NODE_LEN)?));
                    self.asm.cmp_ri(Size::S64, Gpr::Rdx, k);
                    self.asm.jcc(Cond::Be, exit);
                    self.asm.mov_rm(Size::S64, Gpr::Rcx, Mem::base(Gpr::Rcx, disp(layout::TABLE_NODE_PTR)?));
                    self.load_bits(ins.b, Gpr::Rax);
                    let key = node as i32 + disp(layout::NODE_KEY)?;
                    self.asm.cmp_mr(Size::S64, Mem::base(Gpr::Rcx, key), Gpr::Rax);
                    self.asm.jcc(Cond::Ne, exit);
                    self.asm.lea(Size::S64, Gpr::Rax, Mem::base(Gpr::Rcx, node as i32 + disp(layout::NODE_VAL)?));
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::UREF => {
                    // The closure's upvalue cell holds the upvalue: closed, its value;
                    // open in this thread below the frame, its stack slot.
                    let exit = self.exit_label(ins.snap);
                    let cell = self.upval_cell(ins.a, ins.k)?;
                    let (open, done) = (self.asm.new_label(), self.asm.new_label());
                    self.asm.load_imm(Gpr::Rax, cell);
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, 0));
                    self.asm.mov_rm(Size::S64, Gpr::Rcx, Mem::base(Gpr::Rax, disp(layout::UV_THREAD)?));
                    self.asm.test_rr(Size::S64, Gpr::Rcx, Gpr::Rcx);
                    self.asm.jcc(Cond::Ne, open);
                    self.asm.lea(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, disp(layout::UV_VALUE)?));
                    self.asm.jmp(done);
                    self.asm.bind(open);
                    self.asm.cmp_rm(Size::S64, Gpr::Rcx, Mem::base(CTX, CTX_THREAD));
                    self.asm.jcc(Cond::Ne, exit);
                    self.asm.mov_rm(Size::S64, Gpr::Rcx, Mem::base(Gpr::Rax, disp(layout::UV_SLOT)?));
                    self.asm.cmp_rm(Size::S64, Gpr::Rcx, Mem::base(CTX, CTX_BASE));
                    self.asm.jcc(Cond::Ae, exit);
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(CTX, CTX_STACK));
                    let m = Mem::indexed(Gpr::Rax, Gpr::Rcx, super::asm::Scale::X8, 0)
                        .map_err(|e| LowerError::Asm(format!("{e:?}")))?;
                    self.asm.lea(Size::S64, Gpr::Rax, m);
                    self.asm.bind(done);
                    self.store_gpr(i, Gpr::Rax);
                }
                IrOp::UOPEN => {
                    // Open in this thread, at the frame's slot the trace keeps.
                    let exit = self.exit_label(ins.snap);
                    let cell = self.upval_cell(ins.a, ins.k & 0xFFFF_FFFF)?;
                    let rel = i32::try_from(ins.k >> 32).map_err(|_| LowerError::Nyi("UOPEN"))?;
                    self.asm.load_imm(Gpr::Rax, cell);
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, 0));
                    self.asm.mov_rm(Size::S64, Gpr::Rcx, Mem::base(Gpr::Rax, disp(layout::UV_THREAD)?));
                    self.asm.cmp_rm(Size::S64, Gpr::Rcx, Mem::base(CTX, CTX_THREAD));
                    self.asm.jcc(Cond::Ne, exit);
                    self.asm.mov_rm(Size::S64, Gpr::Rdx, Mem::base(CTX, CTX_BASE));
                    self.asm.add_ri(Size::S64, Gpr::Rdx, rel);
                    self.asm.cmp_rm(Size::S64, Gpr::Rdx, Mem::base(Gpr::Rax, disp(layout::UV_SLOT)?));
                    self.asm.jcc(Cond::Ne, exit);
                }
                IrOp::UBAR => {
                    // Only a closed upvalue needs the barrier (a stack slot is a root).
                    let exit = self.exit_label(ins.snap);
                    let cell = self.upval_cell(ins.a, ins.k)?;
                    let ok = self.asm.new_label();
                    self.asm.cmp_m8i(Mem::base(CTX, CTX_MARKING), 0);
                    self.asm.jcc(Cond::E, ok);
                    self.asm.load_imm(Gpr::Rax, cell);
                    self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, 0));
                    self.asm.cmp_mi(Size::S64, Mem::base(Gpr::Rax, disp(layout::UV_THREAD)?), 0);
                    self.asm.jcc(Cond::Ne, ok);
                    self.asm.cmp_m8i(Mem::base(Gpr::Rax, disp(layout::GC_COLOR)?), layout::GC_BLACK);
                    self.asm.jcc(Cond::E, exit);
                    self.asm.bind(ok);
                }
                IrOp::XLOAD => {
                    self.load_bits(ins.a, Gpr::Rax);
                    self.typed_load(i, Mem::base(Gpr::Rax, 0), ins.ty, ins.snap);
                }
                IrOp::XNNIL => {
                    let exit = self.exit_label(ins.snap);
                    self.load_bits(ins.a, Gpr::Rax);
                    self.asm.load_imm(Gpr::Rcx, Value::NIL.to_bits());
                    self.asm.cmp_mr(Size::S64, Mem::base(Gpr::Rax, 0), Gpr::Rcx);
                    self.asm.jcc(Cond::E, exit);
                }
                IrOp::XSTORE => {
                    self.load_bits(ins.a, Gpr::Rdx);
                    match self.home(ins.b) {
                        Home::Reg(x) => self.asm.movsd_mx(Mem::base(Gpr::Rdx, 0), x),
                        _ => {
                            self.load_bits(ins.b, Gpr::Rax);
                            self.asm.mov_mr(Size::S64, Mem::base(Gpr::Rdx, 0), Gpr::Rax);
                        }
                    }
                }
            }
        }
        if self.ir.loop_at.is_some() {
            // The back edge: each PHI's left takes its right, as one parallel move.
            let moves: Vec<(Home, Home)> = self
                .ir
                .ins
                .iter()
                .filter(|i| i.op == IrOp::PHI)
                .map(|i| (self.home(i.a), self.home(i.b)))
                .filter(|(d, s)| d != s)
                .collect();
            self.parallel_move(moves)?;
            self.asm.jmp(body_top);
        } else if self.ir.link {
            match self.opts.link_to {
                // A side trace's end: the loop snapshot, then on in the next trace.
                Some(addr) => {
                    self.write_snap(self.ir.loop_snap);
                    self.asm.jmp_abs(addr);
                }
                // ... or out by the snapshot's number (the engine goes on).
                None => {
                    let s = self.ir.loop_snap;
                    let exit = self.exit_label(s as u16);
                    self.asm.jmp(exit);
                }
            }
        } else {
            // The back edge: store the loop snapshot, then the next iteration.
            self.write_snap(self.ir.loop_snap);
            self.asm.jmp(top);
        }
        // Exit stubs.
        let epilogue = self.asm.new_label();
        for s in 0..self.ir.snaps.len() {
            if s == self.ir.loop_snap && !self.ir.link {
                continue;
            }
            let Some(&label) = self.exits.get(s) else { continue };
            self.asm.bind(label);
            self.write_snap(s);
            if let Some(table) = self.opts.exit_links {
                // A side trace attached to this exit: jump to it.
                let out = self.asm.new_label();
                self.asm.load_imm(Gpr::Rax, table.wrapping_add(8 * s as u64));
                self.asm.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, 0));
                self.asm.test_rr(Size::S64, Gpr::Rax, Gpr::Rax);
                self.asm.jcc(Cond::E, out);
                self.asm.jmp_r(Gpr::Rax);
                self.asm.bind(out);
            }
            let code = moonbox_engine::jit::exit_code(self.opts.number, s as u32);
            self.asm.mov_ri(Size::S32, Gpr::Rax, code as i32);
            self.asm.jmp(epilogue);
        }
        self.asm.bind(epilogue);
        self.asm.mov_mr(Size::S64, Mem::base(CTX, CTX_BUDGET), BUDGET);
        self.asm.add_ri(Size::S64, Gpr::Rsp, FRAME);
        for r in SAVED.iter().rev() {
            self.asm.pop(*r);
        }
        self.asm.ret();
        Ok(())
    }

    /// Moves every `(dst, src)` at once: no source is overwritten before it is read
    /// (a cycle goes through xmm14).
    fn parallel_move(&mut self, mut moves: Vec<(Home, Home)>) -> Result<(), LowerError> {
        while !moves.is_empty() {
            let ready = moves.iter().position(|&(d, _)| !moves.iter().any(|&(_, s)| s == d));
            match ready {
                Some(i) => {
                    let (d, s) = moves.remove(i);
                    self.move_home(d, s)?;
                }
                None => {
                    // Every destination is still a source: a cycle. Save one
                    // destination's value and read it from there instead.
                    let Some(&(d, _)) = moves.first() else { break };
                    let tmp = Home::Reg(S0);
                    self.move_home(tmp, d)?;
                    for m in moves.iter_mut() {
                        if m.1 == d {
                            m.1 = tmp;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn move_home(&mut self, d: Home, s: Home) -> Result<(), LowerError> {
        match (d, s) {
            (Home::Reg(x), Home::Reg(y)) => self.asm.movapd_xx(x, y),
            (Home::Reg(x), Home::Spill(n)) => self.asm.movsd_xm(x, spill_mem(n)),
            (Home::Reg(x), Home::Const(bits)) => {
                let l = self.const_label(bits);
                self.asm.movsd_xm(x, Mem::rip(l));
            }
            (Home::Spill(n), Home::Reg(y)) => self.asm.movsd_mx(spill_mem(n), y),
            (Home::Spill(n), Home::Spill(m)) => {
                self.asm.mov_rm(Size::S64, Gpr::Rax, spill_mem(m));
                self.asm.mov_mr(Size::S64, spill_mem(n), Gpr::Rax);
            }
            (Home::Spill(n), Home::Const(bits)) => {
                self.asm.load_imm(Gpr::Rax, bits);
                self.asm.mov_mr(Size::S64, spill_mem(n), Gpr::Rax);
            }
            _ => return Err(LowerError::Nyi("PHI")),
        }
        Ok(())
    }

    fn exit_label(&mut self, snap: u16) -> Label {
        match self.exits.get(usize::from(snap)) {
            Some(&l) => l,
            None => {
                // Not reachable for a well-formed trace; an extra label that exits
                // through the loop snapshot would be wrong, so bind a stub lazily.
                let l = self.asm.new_label();
                self.exits.push(l);
                l
            }
        }
    }

    fn home(&self, r: IrRef) -> Home {
        self.homes.get(usize::from(r)).copied().unwrap_or(Home::None)
    }

    fn const_label(&mut self, bits: u64) -> Label {
        if let Some(&l) = self.consts.get(&bits) {
            return l;
        }
        let l = self.asm.const_u64(bits);
        self.consts.insert(bits, l);
        l
    }

    /// The xmm register holding number `r`: its home, or `scratch` loaded from its
    /// spill slot or constant.
    fn load_num(&mut self, r: IrRef, scratch: Xmm) -> Xmm {
        match self.home(r) {
            Home::Reg(x) => x,
            Home::Spill(s) => {
                self.asm.movsd_xm(scratch, spill_mem(s));
                scratch
            }
            Home::Const(bits) => {
                let l = self.const_label(bits);
                self.asm.movsd_xm(scratch, Mem::rip(l));
                scratch
            }
            Home::None => scratch,
        }
    }

    /// The register to compute value `i` into: its home, or xmm15 if it is spilled
    /// (then [`Self::store_dst`] stores it).
    fn dst(&self, i: usize) -> Xmm {
        match self.homes.get(i) {
            Some(&Home::Reg(x)) => x,
            _ => S1,
        }
    }

    fn store_dst(&mut self, i: usize, x: Xmm) {
        if let Some(&Home::Spill(s)) = self.homes.get(i) {
            self.asm.movsd_mx(spill_mem(s), x);
        }
    }

    /// The 64 bits of value `r` (boxed, or a number's bits) into `gpr`.
    fn load_bits(&mut self, r: IrRef, gpr: Gpr) {
        match self.home(r) {
            Home::Reg(x) => self.asm.movq_rx(gpr, x),
            Home::Spill(s) => self.asm.mov_rm(Size::S64, gpr, spill_mem(s)),
            Home::Const(bits) => self.asm.load_imm(gpr, bits),
            Home::None => self.asm.load_imm(gpr, Value::NIL.to_bits()),
        }
    }

    fn write_snap(&mut self, s: usize) {
        let Some(snap) = self.ir.snaps.get(s) else { return };
        for e in &snap.entries {
            match self.home(e.r) {
                Home::Reg(x) => self.asm.movsd_mx(slot_mem(e.slot), x),
                _ => {
                    self.load_bits(e.r, Gpr::Rax);
                    self.asm.mov_mr(Size::S64, slot_mem(e.slot), Gpr::Rax);
                }
            }
        }
    }

    /// Calls the helper at `addr` with the bits of `args` (in rdi, rsi) and makes its
    /// `f64` result value `i`. The xmm registers of values live past the call are
    /// saved around it (the ABI lets the helper change them all); the pinned GPRs
    /// are callee-saved.
    fn call_helper(&mut self, i: usize, addr: u64, args: &[IrRef]) {
        self.call_raw(i, addr, args);
        self.asm.movapd_xx(S1, Xmm::Xmm0);
        self.restore_live(i);
        let d = self.dst(i);
        if d != S1 {
            self.asm.movapd_xx(d, S1);
        }
        self.store_dst(i, d);
    }

    /// `helpers::byte(s, i)`: `s`'s bits in rdi, the number `i` in xmm0; a negative
    /// result exits.
    fn call_byte(&mut self, i: usize, addr: u64, s: IrRef, idx: IrRef, exit: Label) {
        self.save_live(i);
        self.load_bits(s, Gpr::Rdi);
        // The index from its home (a saved register still holds it).
        let x = self.load_num(idx, S0);
        self.asm.movapd_xx(Xmm::Xmm0, x);
        self.asm.load_imm(Gpr::Rax, addr);
        self.asm.call_r(Gpr::Rax);
        self.asm.movapd_xx(S1, Xmm::Xmm0);
        self.restore_live(i);
        let zero = self.const_label(0);
        self.asm.ucomisd_xm(S1, Mem::rip(zero));
        self.asm.jcc(Cond::B, exit);
        let d = self.dst(i);
        if d != S1 {
            self.asm.movapd_xx(d, S1);
        }
        self.store_dst(i, d);
    }

    /// The registers [`Self::call_raw`] saved for a call at instruction `i`.
    fn live_xmm(&self, i: usize) -> Vec<Xmm> {
        self.homes
            .iter()
            .enumerate()
            .filter(|&(r, _)| r < i && self.last.get(r).is_some_and(|&l| l > i))
            .filter_map(|(_, h)| match h {
                Home::Reg(x) => Some(*x),
                _ => None,
            })
            .collect()
    }

    fn save_live(&mut self, i: usize) {
        for x in self.live_xmm(i) {
            self.asm.movsd_mx(Mem::base(Gpr::Rsp, XMM_SAVE + 8 * i32::from(x.num())), x);
        }
    }

    fn restore_live(&mut self, i: usize) {
        for x in self.live_xmm(i) {
            self.asm.movsd_xm(x, Mem::base(Gpr::Rsp, XMM_SAVE + 8 * i32::from(x.num())));
        }
    }

    /// Saves the live xmm registers and calls `addr` with `args` in rdi, rsi; the
    /// result is in rax or xmm0, the live registers still to restore.
    fn call_raw(&mut self, i: usize, addr: u64, args: &[IrRef]) {
        self.save_live(i);
        for (&a, reg) in args.iter().zip([Gpr::Rdi, Gpr::Rsi]) {
            self.load_bits(a, reg);
        }
        self.asm.load_imm(Gpr::Rax, addr);
        self.asm.call_r(Gpr::Rax);
    }

    /// The address of upvalue cell `k` of the closure constant `r` (`validate` has
    /// checked that it is a Lua function with that upvalue; the trace keeps it alive).
    fn upval_cell(&self, r: IrRef, k: u64) -> Result<u64, LowerError> {
        self.ir
            .closure_const(r)
            .and_then(|f| f.upval_cell_addr(k as usize))
            .map(|a| a as u64)
            .ok_or(LowerError::Nyi("upvalue of a non-constant closure"))
    }

    /// Value `i` (a GC object's address, or any 64 bits) from `gpr` into its home.
    fn store_gpr(&mut self, i: usize, gpr: Gpr) {
        if let Some(Home::Spill(s)) = self.homes.get(i).copied() {
            self.asm.mov_mr(Size::S64, spill_mem(s), gpr);
        }
    }

    /// The address of the object boxed in value `r` into `gpr` (its payload).
    fn load_ptr(&mut self, r: IrRef, gpr: Gpr) {
        self.load_bits(r, gpr);
        let high = 64 - layout::PAYLOAD_BITS as u8;
        self.asm.shl_ri(Size::S64, gpr, high);
        self.asm.shr_ri(Size::S64, gpr, high);
    }

    fn sload(&mut self, i: usize, slot: u16, ty: Ty, snap: u16) {
        self.typed_load(i, slot_mem(slot), ty, snap);
    }

    /// Value `i` from `m` (which may be based on rax, not on rcx), exiting by
    /// `snap` unless it has type `ty`.
    fn typed_load(&mut self, i: usize, m: Mem, ty: Ty, snap: u16) {
        let exit = self.exit_label(snap);
        match ty {
            Ty::Num => {
                self.asm.cmp_mr(Size::S64, m, TAGGED);
                self.asm.jcc(Cond::Ae, exit);
                match self.homes.get(i).copied() {
                    Some(Home::Reg(x)) => self.asm.movsd_xm(x, m),
                    Some(Home::Spill(s)) => {
                        self.asm.mov_rm(Size::S64, Gpr::Rax, m);
                        self.asm.mov_mr(Size::S64, spill_mem(s), Gpr::Rax);
                    }
                    _ => {}
                }
            }
            Ty::Boxed(tag) => {
                self.asm.mov_rm(Size::S64, Gpr::Rax, m);
                self.asm.mov_rr(Size::S64, Gpr::Rcx, Gpr::Rax);
                self.asm.shr_ri(Size::S64, Gpr::Rcx, 47);
                let want = ((Value::NIL.to_bits() >> 47) & !0xF) | u64::from(tag);
                self.asm.cmp_ri(Size::S32, Gpr::Rcx, want as i32);
                self.asm.jcc(Cond::Ne, exit);
                if let Some(Home::Spill(s)) = self.homes.get(i).copied() {
                    self.asm.mov_mr(Size::S64, spill_mem(s), Gpr::Rax);
                }
            }
            _ => {
                let bits = ty.pri_bits().unwrap_or(0);
                self.asm.load_imm(Gpr::Rcx, bits);
                self.asm.cmp_mr(Size::S64, m, Gpr::Rcx);
                self.asm.jcc(Cond::Ne, exit);
            }
        }
    }

    fn guard(&mut self, cond: IrCond, a: IrRef, b: IrRef, snap: u16) {
        let exit = self.exit_label(snap);
        match cond {
            IrCond::EqBits | IrCond::NeBits => {
                self.load_bits(a, Gpr::Rax);
                self.load_bits(b, Gpr::Rcx);
                self.asm.cmp_rr(Size::S64, Gpr::Rax, Gpr::Rcx);
                self.asm.jcc(if cond == IrCond::EqBits { Cond::Ne } else { Cond::E }, exit);
            }
            IrCond::Eq | IrCond::Ne => {
                let x = self.load_num(a, S0);
                let y = self.load_num(b, S1);
                self.asm.ucomisd_xx(x, y);
                if cond == IrCond::Eq {
                    // Exit unless equal and ordered.
                    self.asm.jcc(Cond::Ne, exit);
                    self.asm.jcc(Cond::P, exit);
                } else {
                    // Exit if equal and ordered.
                    let go = self.asm.new_label();
                    self.asm.jcc(Cond::P, go);
                    self.asm.jcc(Cond::E, exit);
                    self.asm.bind(go);
                }
            }
            _ => {
                // a < b is b > a: `ucomisd b, a` then "above" (false when unordered).
                let x = self.load_num(a, S0);
                let y = self.load_num(b, S1);
                self.asm.ucomisd_xx(y, x);
                let exit_if = match cond {
                    IrCond::Lt => Cond::Be,
                    IrCond::NotLt => Cond::A,
                    IrCond::Le => Cond::B,
                    _ => Cond::Ae,
                };
                self.asm.jcc(exit_if, exit);
            }
        }
    }

    fn arith(&mut self, i: usize, a: IrRef, b: IrRef, op: impl Fn(&mut Assembler, Xmm, Xmm)) {
        let y = self.load_num(b, S1);
        let x = self.load_num(a, S0);
        self.binop(i, x, y, op);
    }

    /// Value `i` = `x op y`, with `x` as the instruction's first operand (never
    /// commuted: with two NaNs the first one's sign wins, as in the interpreter).
    fn binop(&mut self, i: usize, x: Xmm, y: Xmm, op: impl Fn(&mut Assembler, Xmm, Xmm)) {
        let d = self.dst(i);
        if d == x {
            op(&mut self.asm, d, y);
        } else if d == y {
            // d holds the second operand: compute in xmm14 (x may already be there).
            if x != S0 {
                self.asm.movapd_xx(S0, x);
            }
            op(&mut self.asm, S0, y);
            self.asm.movapd_xx(d, S0);
        } else {
            self.asm.movapd_xx(d, x);
            op(&mut self.asm, d, y);
        }
        self.store_dst(i, d);
    }
}
