//! Trace IR → one Wasm module.
//!
//! Module shape: imports `env.memory` (the guest's, no maximum) and, when the trace
//! calls helpers, `env.table` (the guest's function table); one function, exported as
//! `trace: (ctx: i32, base: i32) -> i32`; a name section naming it `trace_N`. No
//! start function, no data or element segments, nothing of its own to allocate.
//!
//! Function shape: one local per IR value (`f64` for numbers, `i64` for boxed values,
//! `i32` for addresses; constants and primitive values have none), so the Wasm
//! compiler allocates registers. The code sits inside one block per snapshot,
//! innermost first: a guard is `br_if` to its snapshot's block, and the code after
//! that block's `end` stores the snapshot's slots from the locals, stores the budget
//! back and returns the exit code. The loop is a `loop` (around the body after the
//! IR's `LOOP`, or around the whole trace when there is none), whose back edge
//! assigns the PHIs' locals, or stores the loop snapshot, and branches back.
//!
//! Values: a slot is `i64.load offset=8*slot (base)`; an object's address is the low
//! 32 bits of its boxed value (`i32.wrap_i64`: on wasm32 the payload is the address);
//! boxing is `i64.or` of the tag's prefix and the address. Float-to-int conversions
//! are the non-trapping `i32.trunc_sat_f64_s`. Helper calls are `call_indirect`
//! through the imported table, at the helpers' own table indices.

use std::fmt;

use moonbox_engine::jit::exit_code;
use moonbox_engine::jit::ir::{Cond, IrOp, IrRef, TraceIr, Ty};
use moonbox_engine::jit::record::MAX_SLOTS;
use moonbox_engine::value::{tag, Value};
use moonbox_engine::vm::layout;
use wasm_encoder::{
    BlockType, CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    InstructionSink, MemArg, MemoryType, Module, NameMap, NameSection, RefType, TableType, TypeSection, ValType,
};

use crate::{HelperIndices, WasmCtx};

/// Offsets in [`WasmCtx`].
pub const CTX_BUDGET: u64 = std::mem::offset_of!(WasmCtx, budget) as u64;
pub const CTX_FUNC: u64 = std::mem::offset_of!(WasmCtx, func) as u64;
pub const CTX_FORCE: u64 = std::mem::offset_of!(WasmCtx, force) as u64;
pub const CTX_MARKING: u64 = std::mem::offset_of!(WasmCtx, marking) as u64;
pub const CTX_STACK: u64 = std::mem::offset_of!(WasmCtx, stack) as u64;
pub const CTX_BASE: u64 = std::mem::offset_of!(WasmCtx, base) as u64;
pub const CTX_THREAD: u64 = std::mem::offset_of!(WasmCtx, thread) as u64;

/// The trace function's type and the helpers' (see `moonbox_engine::jit::helpers`).
const TY_TRACE: u32 = 0;
/// `len(bits) -> f64`.
const TY_LEN: u32 = 1;
/// `slot(t, k) -> address`, `rawget(t, k) -> bits`.
const TY_BITS2: u32 = 2;
/// `byte(s, i) -> f64`.
const TY_BYTE: u32 = 3;

/// Fixed locals: the two parameters, the budget, scratch registers.
const L_CTX: u32 = 0;
const L_BASE: u32 = 1;
const L_BUDGET: u32 = 2;
const L_T64: u32 = 3;
const L_T32A: u32 = 4;
const L_T32B: u32 = 5;
const FIXED_LOCALS: u32 = 6;

/// The most snapshots a Wasm trace may have: each is a block the code is nested
/// in, and Cranelift's compile time grows faster than linearly with that depth
/// (the host refuses deeper nesting: `host-wasi/src/jit.rs`). Longer traces run
/// interpreted in the sandbox; the bench suite's longest but one has 34.
pub const MAX_SNAPS: usize = 128;

/// Options for one module.
#[derive(Clone, Copy, Debug)]
pub struct EmitOptions {
    /// The trace's number (exit codes are `number << 16 | snapshot`).
    pub number: u32,
    /// Check the force byte of a guard's snapshot before the guard (test mode).
    pub force_checks: bool,
    /// Where the helpers are in the guest's table.
    pub helpers: HelperIndices,
    /// The address of the trace's exit link table (one `u32` per snapshot: 0, or
    /// the table index of a side trace to go on in after storing that snapshot).
    /// None: no links.
    pub exit_links: Option<u32>,
    /// A side trace's end: the table index of the trace it goes on in (a tail
    /// call, after storing its last snapshot). None: it exits by that snapshot.
    pub link_to: Option<u32>,
}

/// Why a trace could not be emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitError(pub &'static str);

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NYI: {}", self.0)
    }
}

/// Where an IR value lives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Loc {
    /// Not a value (guards), or dead.
    None,
    /// A constant's bits (a number's bits for `Num`; a primitive's boxed bits).
    Bits(u64),
    F64(u32),
    I64(u32),
    /// An address (`Ty::Ptr`).
    I32(u32),
}

/// Whether the trace calls helpers (then the module imports the table).
fn calls_helpers(ir: &TraceIr, live: &[bool]) -> bool {
    ir.ins.iter().zip(live).any(|(i, &l)| l && matches!(i.op, IrOp::HREF | IrOp::HNIL | IrOp::ALEN | IrOp::SBYTE))
}

/// The high bits of a boxed GC value with tag `t` (its payload is the address).
fn boxed_prefix(t: u64) -> i64 {
    ((Value::FIRST_TAGGED - (1 << 47)) | t << 47) as i64
}

/// A guest address as an `i32` immediate (the module runs only on wasm32, where
/// addresses are 32 bits; natively it is only emitted and validated).
fn addr(a: usize) -> i32 {
    a as u32 as i32
}

fn mem(offset: u64, align: u32) -> MemArg {
    MemArg { offset, align, memory_index: 0 }
}

fn off(o: usize) -> u64 {
    o as u64
}

/// Emits the module for `ir`.
pub fn emit(ir: &TraceIr, opts: &EmitOptions) -> Result<Vec<u8>, EmitError> {
    let slot_ok = ir.ins.iter().all(|i| i.op != IrOp::SLOAD || (i.k as usize) < MAX_SLOTS)
        && ir.snaps.iter().all(|s| s.entries.iter().all(|e| usize::from(e.slot) < MAX_SLOTS));
    if !slot_ok || ir.nslots > MAX_SLOTS {
        return Err(EmitError("slot out of range"));
    }
    if ir.snaps.is_empty() || ir.loop_snap >= ir.snaps.len() {
        return Err(EmitError("snapshots"));
    }
    if ir.snaps.len() > MAX_SNAPS {
        return Err(EmitError("too many snapshots for a Wasm trace"));
    }
    ir.check_types().map_err(EmitError)?;
    let live = ir.live();
    // Locals, by the value's type.
    let mut locs = Vec::with_capacity(ir.ins.len());
    let mut decls: Vec<(u32, ValType)> = vec![(1, ValType::I64), (1, ValType::I64), (2, ValType::I32)];
    let mut next = FIXED_LOCALS;
    for (i, ins) in ir.ins.iter().enumerate() {
        let loc = if !live.get(i).copied().unwrap_or(false) {
            Loc::None
        } else {
            match ins.op {
                IrOp::KNUM => Loc::Bits(ins.k),
                IrOp::KBOX => Loc::Bits(ir.consts.get(ins.k as usize).copied().unwrap_or(Value::NIL).to_bits()),
                IrOp::KPRI => Loc::Bits(ins.ty.pri_bits().unwrap_or(Value::NIL.to_bits())),
                _ if ins.ty.pri_bits().is_some() => Loc::Bits(ins.ty.pri_bits().unwrap_or(0)),
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
                | IrOp::XSTORE => Loc::None,
                _ => {
                    let (loc, ty) = match ins.ty {
                        Ty::Num => (Loc::F64(next), ValType::F64),
                        Ty::Ptr => (Loc::I32(next), ValType::I32),
                        Ty::Boxed(_) => (Loc::I64(next), ValType::I64),
                        _ => return Err(EmitError("value without a type")),
                    };
                    decls.push((1, ty));
                    next += 1;
                    loc
                }
            }
        };
        locs.push(loc);
    }
    let mut e = Emitter { ir, opts, locs, depth: 0, func: Function::new(decls) };
    e.body(&live)?;
    let func = e.func;

    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32, ValType::I32], [ValType::I32]);
    types.ty().function([ValType::I64], [ValType::F64]);
    types.ty().function([ValType::I64, ValType::I64], [ValType::I64]);
    types.ty().function([ValType::I64, ValType::F64], [ValType::F64]);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "memory",
        EntityType::Memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        }),
    );
    if calls_helpers(ir, &live) || opts.exit_links.is_some() || opts.link_to.is_some() {
        imports.import(
            "env",
            "table",
            EntityType::Table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: 1,
                maximum: None,
                shared: false,
            }),
        );
    }
    module.section(&imports);
    let mut funcs = FunctionSection::new();
    funcs.function(TY_TRACE);
    module.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("trace", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    code.function(&func);
    module.section(&code);
    let mut names = NameSection::new();
    let mut fnames = NameMap::new();
    fnames.append(0, &format!("trace_{}", opts.number));
    names.functions(&fnames);
    module.section(&names);
    Ok(module.finish())
}

struct Emitter<'a> {
    ir: &'a TraceIr,
    opts: &'a EmitOptions,
    locs: Vec<Loc>,
    /// Labels between the code being emitted and the innermost exit block (the
    /// loop, and any `if` open around it): exit `k` is `br depth + k`.
    depth: u32,
    func: Function,
}

impl Emitter<'_> {
    fn sink(&mut self) -> InstructionSink<'_> {
        self.func.instructions()
    }

    fn loc(&self, r: IrRef) -> Loc {
        self.locs.get(usize::from(r)).copied().unwrap_or(Loc::None)
    }

    /// Branches to snapshot `snap`'s exit if the `i32` on the stack is not zero.
    fn exit_if(&mut self, snap: u16) {
        let d = self.depth + u32::from(snap);
        self.sink().br_if(d);
    }

    /// Pushes the 64 bits of value `r` (boxed, or a number's bits).
    fn push_bits(&mut self, r: IrRef) {
        match self.loc(r) {
            Loc::Bits(b) => {
                self.sink().i64_const(b as i64);
            }
            Loc::F64(l) => {
                self.sink().local_get(l).i64_reinterpret_f64();
            }
            Loc::I64(l) => {
                self.sink().local_get(l);
            }
            Loc::I32(l) => {
                self.sink().local_get(l).i64_extend_i32_u();
            }
            Loc::None => {
                self.sink().i64_const(Value::NIL.to_bits() as i64);
            }
        }
    }

    /// Pushes number `r`.
    fn push_f64(&mut self, r: IrRef) {
        match self.loc(r) {
            Loc::Bits(b) => {
                self.sink().f64_const(f64::from_bits(b).into());
            }
            Loc::F64(l) => {
                self.sink().local_get(l);
            }
            Loc::I64(l) => {
                self.sink().local_get(l).f64_reinterpret_i64();
            }
            Loc::I32(_) | Loc::None => {
                self.sink().f64_const(0.0.into());
            }
        }
    }

    /// Pushes value `r` as its local's type (the PHI moves).
    fn push_val(&mut self, r: IrRef, dst: Loc) {
        match dst {
            Loc::F64(_) => self.push_f64(r),
            Loc::I64(_) => self.push_bits(r),
            Loc::I32(_) => self.push_addr(r),
            _ => {}
        }
    }

    /// Pushes address `r` (a `Ty::Ptr` value).
    fn push_addr(&mut self, r: IrRef) {
        match self.loc(r) {
            Loc::I32(l) => {
                self.sink().local_get(l);
            }
            _ => {
                self.sink().i32_const(0);
            }
        }
    }

    /// Pushes the address of the object boxed in value `r` (its payload).
    fn push_ptr(&mut self, r: IrRef) {
        self.push_bits(r);
        self.sink().i32_wrap_i64();
    }

    /// Sets value `i`'s local from the stack (dropping it if `i` has none).
    fn set(&mut self, i: usize) {
        match self.locs.get(i).copied().unwrap_or(Loc::None) {
            Loc::F64(l) | Loc::I64(l) | Loc::I32(l) => {
                self.sink().local_set(l);
            }
            _ => {
                self.sink().drop();
            }
        }
    }

    /// Checks the boxed value in `L_T64` against `ty`, exiting by `snap` if it
    /// differs.
    fn type_guard(&mut self, ty: Ty, snap: u16) {
        match ty {
            Ty::Num => {
                self.sink().local_get(L_T64).i64_const(Value::FIRST_TAGGED as i64).i64_ge_u();
            }
            Ty::Boxed(t) => {
                let want = ((Value::NIL.to_bits() >> 47) & !0xF) | u64::from(t);
                self.sink().local_get(L_T64).i64_const(47).i64_shr_u().i64_const(want as i64).i64_ne();
            }
            _ => {
                let bits = ty.pri_bits().unwrap_or(0);
                self.sink().local_get(L_T64).i64_const(bits as i64).i64_ne();
            }
        }
        self.exit_if(snap);
    }

    /// The value in `L_T64`, checked to have type `ty`, into value `i`'s local.
    fn typed_value(&mut self, i: usize, ty: Ty, snap: u16) {
        self.type_guard(ty, snap);
        match self.locs.get(i).copied().unwrap_or(Loc::None) {
            Loc::F64(l) => {
                self.sink().local_get(L_T64).f64_reinterpret_i64().local_set(l);
            }
            Loc::I64(l) => {
                self.sink().local_get(L_T64).local_set(l);
            }
            _ => {}
        }
    }

    /// Stores snapshot `s`'s slots.
    fn write_snap(&mut self, s: usize) {
        let Some(snap) = self.ir.snaps.get(s) else { return };
        for e in &snap.entries {
            self.sink().local_get(L_BASE);
            self.push_bits(e.r);
            self.sink().i64_store(mem(u64::from(e.slot) * 8, 3));
        }
    }

    /// Pushes the address of upvalue cell `k`'s `UpVal` of closure constant `r`.
    fn push_upval(&mut self, r: IrRef, k: u64) -> Result<(), EmitError> {
        let cell = self
            .ir
            .closure_const(r)
            .and_then(|f| f.upval_cell_addr((k & 0xFFFF_FFFF) as usize))
            .ok_or(EmitError("upvalue of a non-constant closure"))?;
        self.sink().i32_const(addr(cell)).i32_load(mem(0, 2));
        Ok(())
    }

    fn call_helper(&mut self, index: u32, ty: u32) {
        self.sink().i32_const(index as i32).call_indirect(0, ty);
    }

    fn body(&mut self, live: &[bool]) -> Result<(), EmitError> {
        let ir = self.ir;
        let nsnaps = ir.snaps.len();
        self.sink().local_get(L_CTX).i64_load(mem(CTX_BUDGET, 3)).local_set(L_BUDGET);
        for _ in 0..nsnaps {
            self.sink().block(BlockType::Empty);
        }
        if ir.loop_at.is_none() {
            self.sink().loop_(BlockType::Empty);
            self.depth = 1;
        }
        for (i, ins) in ir.ins.iter().enumerate() {
            if !live.get(i).copied().unwrap_or(false) {
                continue;
            }
            let ins = *ins;
            let snap = ins.snap;
            if ins.is_guard() && self.opts.force_checks {
                self.sink().local_get(L_CTX).i32_load(mem(CTX_FORCE, 2)).i32_load8_u(mem(u64::from(snap), 0));
                self.exit_if(snap);
            }
            match ins.op {
                IrOp::KNUM | IrOp::KPRI | IrOp::KBOX | IrOp::PHI => {}
                IrOp::SLOAD => {
                    self.sink().local_get(L_BASE).i64_load(mem(ins.k * 8, 3)).local_set(L_T64);
                    self.typed_value(i, ins.ty, snap);
                }
                IrOp::GUARD => {
                    match ins.cond() {
                        Cond::EqBits | Cond::NeBits => {
                            self.push_bits(ins.a);
                            self.push_bits(ins.b);
                            if ins.cond() == Cond::EqBits {
                                self.sink().i64_ne();
                            } else {
                                self.sink().i64_eq();
                            }
                        }
                        c => {
                            self.push_f64(ins.a);
                            self.push_f64(ins.b);
                            // The condition, then its negation: exit when it fails.
                            match c {
                                Cond::Lt | Cond::NotLt => self.sink().f64_lt(),
                                Cond::Le | Cond::NotLe => self.sink().f64_le(),
                                Cond::Eq => self.sink().f64_eq(),
                                _ => self.sink().f64_ne(),
                            };
                            if matches!(c, Cond::Lt | Cond::Le | Cond::Eq | Cond::Ne) {
                                self.sink().i32_eqz();
                            }
                        }
                    }
                    self.exit_if(snap);
                }
                IrOp::BUDGET => {
                    let k = ins.k.min(i32::MAX as u64) as i64;
                    self.sink().local_get(L_BUDGET).i64_const(k).i64_lt_s();
                    self.exit_if(snap);
                    self.sink().local_get(L_BUDGET).i64_const(k).i64_sub().local_set(L_BUDGET);
                }
                IrOp::ADD | IrOp::SUB | IrOp::MUL | IrOp::DIV => {
                    self.push_f64(ins.a);
                    self.push_f64(ins.b);
                    match ins.op {
                        IrOp::ADD => self.sink().f64_add(),
                        IrOp::SUB => self.sink().f64_sub(),
                        IrOp::MUL => self.sink().f64_mul(),
                        _ => self.sink().f64_div(),
                    };
                    self.set(i);
                }
                IrOp::MOD => {
                    // a - floor(a / b) * b, in the interpreter's order (number::lua_mod).
                    self.push_f64(ins.a);
                    self.push_f64(ins.a);
                    self.push_f64(ins.b);
                    self.sink().f64_div().f64_floor();
                    self.push_f64(ins.b);
                    self.sink().f64_mul().f64_sub();
                    self.set(i);
                }
                IrOp::POW => return Err(EmitError("cannot emit IR POW")),
                IrOp::NEG | IrOp::SQRT | IrOp::ABS | IrOp::FLOOR | IrOp::CEIL => {
                    self.push_f64(ins.a);
                    match ins.op {
                        IrOp::NEG => self.sink().f64_neg(),
                        IrOp::SQRT => self.sink().f64_sqrt(),
                        IrOp::ABS => self.sink().f64_abs(),
                        IrOp::FLOOR => self.sink().f64_floor(),
                        _ => self.sink().f64_ceil(),
                    };
                    self.set(i);
                }
                IrOp::MIN | IrOp::MAX => {
                    // `a < b ? a : b` (`a > b ? a : b`): the library's fold, NaNs and
                    // signed zeros included (not Wasm's `f64.min`).
                    self.push_f64(ins.a);
                    self.push_f64(ins.b);
                    self.push_f64(ins.a);
                    self.push_f64(ins.b);
                    if ins.op == IrOp::MIN {
                        self.sink().f64_lt();
                    } else {
                        self.sink().f64_gt();
                    }
                    self.sink().select();
                    self.set(i);
                }
                IrOp::SBYTE => {
                    // The byte, or a negative number: exit.
                    self.push_bits(ins.a);
                    self.push_f64(ins.b);
                    self.call_helper(self.opts.helpers.byte, TY_BYTE);
                    let l = match self.locs.get(i) {
                        Some(&Loc::F64(l)) => l,
                        _ => return Err(EmitError("SBYTE without a local")),
                    };
                    self.sink().local_tee(l).f64_const(0.0.into()).f64_lt();
                    self.exit_if(snap);
                }
                IrOp::ALEN => {
                    self.push_bits(ins.a);
                    self.call_helper(self.opts.helpers.len, TY_LEN);
                    self.set(i);
                }
                IrOp::HREF => {
                    // The key's value slot, or 0 (not in the table: exit).
                    self.push_bits(ins.a);
                    self.push_bits(ins.b);
                    self.call_helper(self.opts.helpers.slot, TY_BITS2);
                    self.sink().i32_wrap_i64().local_tee(L_T32A).i32_eqz();
                    self.exit_if(snap);
                    self.sink().local_get(L_T32A);
                    self.set(i);
                }
                IrOp::HNIL => {
                    self.push_bits(ins.a);
                    self.push_bits(ins.b);
                    self.call_helper(self.opts.helpers.rawget, TY_BITS2);
                    self.sink().i64_const(Value::NIL.to_bits() as i64).i64_ne();
                    self.exit_if(snap);
                }
                IrOp::LOOP => {
                    self.sink().loop_(BlockType::Empty);
                    self.depth = 1;
                }
                IrOp::FUNC => {
                    self.sink().local_get(L_CTX).i64_load(mem(CTX_FUNC, 3));
                    self.set(i);
                }
                IrOp::FENV => {
                    self.sink().i64_const(boxed_prefix(tag::TABLE));
                    self.push_ptr(ins.a);
                    self.sink().i32_load(mem(off(layout::FUNC_ENV), 2)).i64_extend_i32_u().i64_or();
                    self.set(i);
                }
                IrOp::TMT => {
                    self.push_ptr(ins.a);
                    self.sink().i32_load(mem(off(layout::TABLE_META), 2)).local_tee(L_T32A).i32_eqz();
                    self.exit_if(snap);
                    self.sink().i64_const(boxed_prefix(tag::TABLE)).local_get(L_T32A).i64_extend_i32_u().i64_or();
                    self.set(i);
                }
                IrOp::TMETA => {
                    self.push_ptr(ins.a);
                    self.sink().i32_load(mem(off(layout::TABLE_META), 2));
                    if ins.k == 0 {
                        self.exit_if(snap);
                    } else {
                        // No metatable, or one whose absent-metamethod bits have all of k.
                        let bits = i32::try_from(ins.k).map_err(|_| EmitError("TMETA bits"))?;
                        self.sink().local_tee(L_T32A).if_(BlockType::Empty);
                        self.depth += 1;
                        self.sink()
                            .local_get(L_T32A)
                            .i32_load(mem(off(layout::TABLE_NOMM), 2))
                            .i32_const(bits)
                            .i32_and()
                            .i32_const(bits)
                            .i32_ne();
                        self.exit_if(snap);
                        self.depth -= 1;
                        self.sink().end();
                    }
                }
                IrOp::TBAR => {
                    self.sink().local_get(L_CTX).i32_load(mem(CTX_MARKING, 2)).if_(BlockType::Empty);
                    self.depth += 1;
                    self.push_ptr(ins.a);
                    self.sink()
                        .i32_load8_u(mem(off(layout::GC_COLOR), 0))
                        .i32_const(i32::from(layout::GC_BLACK))
                        .i32_eq();
                    self.exit_if(snap);
                    self.depth -= 1;
                    self.sink().end();
                }
                IrOp::AREF => {
                    // An integer index from 1 to the array part's length (unsigned
                    // compare of index - 1: 0 and negatives are huge).
                    self.push_f64(ins.b);
                    self.sink().i32_trunc_sat_f64_s().local_tee(L_T32A).f64_convert_i32_s();
                    self.push_f64(ins.b);
                    self.sink().f64_ne();
                    self.exit_if(snap);
                    self.sink().local_get(L_T32A).i32_const(1).i32_sub().local_tee(L_T32A);
                    self.push_ptr(ins.a);
                    self.sink().i32_load(mem(off(layout::TABLE_ARR_LEN), 2)).i32_ge_u();
                    self.exit_if(snap);
                    self.push_ptr(ins.a);
                    self.sink()
                        .i32_load(mem(off(layout::TABLE_ARR_PTR), 2))
                        .local_get(L_T32A)
                        .i32_const(3)
                        .i32_shl()
                        .i32_add();
                    self.set(i);
                }
                IrOp::HREFK => {
                    // Node k exists and holds the key.
                    let node = ins.k.checked_mul(layout::NODE_SIZE as u64).filter(|&o| o <= (i32::MAX as u64) / 2);
                    let (Some(node), Ok(k)) = (node, i32::try_from(ins.k)) else {
                        return Err(EmitError("HREFK node"));
                    };
                    self.push_ptr(ins.a);
                    self.sink().i32_load(mem(off(layout::TABLE_NODE_LEN), 2)).i32_const(k).i32_le_u();
                    self.exit_if(snap);
                    self.push_ptr(ins.a);
                    self.sink().i32_load(mem(off(layout::TABLE_NODE_PTR), 2)).local_tee(L_T32A);
                    self.sink().i64_load(mem(node + off(layout::NODE_KEY), 3));
                    self.push_bits(ins.b);
                    self.sink().i64_ne();
                    self.exit_if(snap);
                    self.sink().local_get(L_T32A).i32_const((node + off(layout::NODE_VAL)) as i32).i32_add();
                    self.set(i);
                }
                IrOp::UREF => {
                    // Closed: the upvalue's value; open in this thread below the
                    // frame: its stack slot.
                    let dst = match self.locs.get(i) {
                        Some(&Loc::I32(l)) => l,
                        _ => return Err(EmitError("UREF without a local")),
                    };
                    self.push_upval(ins.a, ins.k)?;
                    self.sink()
                        .local_tee(L_T32A)
                        .i32_load(mem(off(layout::UV_THREAD), 2))
                        .local_tee(L_T32B)
                        .i32_eqz()
                        .if_(BlockType::Empty);
                    self.depth += 1;
                    self.sink().local_get(L_T32A).i32_const(layout::UV_VALUE as i32).i32_add().local_set(dst).else_();
                    self.sink().local_get(L_T32B).local_get(L_CTX).i32_load(mem(CTX_THREAD, 2)).i32_ne();
                    self.exit_if(snap);
                    self.sink()
                        .local_get(L_T32A)
                        .i32_load(mem(off(layout::UV_SLOT), 2))
                        .local_tee(L_T32B)
                        .local_get(L_CTX)
                        .i32_load(mem(CTX_BASE, 2))
                        .i32_ge_u();
                    self.exit_if(snap);
                    self.sink()
                        .local_get(L_CTX)
                        .i32_load(mem(CTX_STACK, 2))
                        .local_get(L_T32B)
                        .i32_const(3)
                        .i32_shl()
                        .i32_add()
                        .local_set(dst);
                    self.depth -= 1;
                    self.sink().end();
                }
                IrOp::UOPEN => {
                    // Open in this thread, at the frame's slot the trace keeps.
                    let rel = i32::try_from(ins.k >> 32).map_err(|_| EmitError("UOPEN slot"))?;
                    self.push_upval(ins.a, ins.k)?;
                    self.sink()
                        .local_tee(L_T32A)
                        .i32_load(mem(off(layout::UV_THREAD), 2))
                        .local_get(L_CTX)
                        .i32_load(mem(CTX_THREAD, 2))
                        .i32_ne();
                    self.exit_if(snap);
                    self.sink()
                        .local_get(L_T32A)
                        .i32_load(mem(off(layout::UV_SLOT), 2))
                        .local_get(L_CTX)
                        .i32_load(mem(CTX_BASE, 2))
                        .i32_const(rel)
                        .i32_add()
                        .i32_ne();
                    self.exit_if(snap);
                }
                IrOp::UBAR => {
                    // Only a closed upvalue needs the barrier (a stack slot is a root).
                    self.sink().local_get(L_CTX).i32_load(mem(CTX_MARKING, 2)).if_(BlockType::Empty);
                    self.depth += 1;
                    self.push_upval(ins.a, ins.k)?;
                    self.sink()
                        .local_tee(L_T32A)
                        .i32_load(mem(off(layout::UV_THREAD), 2))
                        .i32_eqz()
                        .if_(BlockType::Empty);
                    self.depth += 1;
                    self.sink()
                        .local_get(L_T32A)
                        .i32_load8_u(mem(off(layout::GC_COLOR), 0))
                        .i32_const(i32::from(layout::GC_BLACK))
                        .i32_eq();
                    self.exit_if(snap);
                    self.depth -= 2;
                    self.sink().end().end();
                }
                IrOp::XLOAD => {
                    self.push_addr(ins.a);
                    self.sink().i64_load(mem(0, 3)).local_set(L_T64);
                    self.typed_value(i, ins.ty, snap);
                }
                IrOp::XNNIL => {
                    self.push_addr(ins.a);
                    self.sink().i64_load(mem(0, 3)).i64_const(Value::NIL.to_bits() as i64).i64_eq();
                    self.exit_if(snap);
                }
                IrOp::XSTORE => {
                    self.push_addr(ins.a);
                    self.push_bits(ins.b);
                    self.sink().i64_store(mem(0, 3));
                }
            }
        }
        // The back edge.
        if ir.loop_at.is_some() {
            // Each PHI's left takes its right, all at once: push every right, then
            // set the lefts in reverse.
            let moves: Vec<(Loc, IrRef)> =
                ir.ins.iter().filter(|i| i.op == IrOp::PHI).map(|i| (self.loc(i.a), i.b)).collect();
            // A left without a local is a constant: the right must be the same one.
            if moves.iter().any(|&(d, s)| matches!(d, Loc::Bits(_) | Loc::None) && self.loc(s) != d) {
                return Err(EmitError("PHI of a constant"));
            }
            let moves: Vec<(Loc, IrRef)> =
                moves.into_iter().filter(|(d, _)| matches!(d, Loc::F64(_) | Loc::I64(_) | Loc::I32(_))).collect();
            for &(d, s) in &moves {
                self.push_val(s, d);
            }
            for &(d, _) in moves.iter().rev() {
                if let Loc::F64(l) | Loc::I64(l) | Loc::I32(l) = d {
                    self.sink().local_set(l);
                }
            }
            self.sink().br(0).end();
        } else if ir.link {
            match self.opts.link_to {
                // A side trace's end: the loop snapshot, then on in the next trace.
                Some(index) => {
                    self.write_snap(ir.loop_snap);
                    self.sink()
                        .local_get(L_CTX)
                        .local_get(L_BUDGET)
                        .i64_store(mem(CTX_BUDGET, 3))
                        .local_get(L_CTX)
                        .local_get(L_BASE)
                        .i32_const(index as i32)
                        .return_call_indirect(0, TY_TRACE)
                        .end();
                }
                // ... or out by the loop snapshot (the engine goes on in the trace
                // it links to).
                None => {
                    let d = self.depth + ir.loop_snap as u32;
                    self.sink().br(d).end();
                }
            }
        } else {
            self.write_snap(ir.loop_snap);
            self.sink().br(0).end();
        }
        self.depth = 0;
        self.sink().unreachable();
        // The exit handlers: after block k's end, snapshot k.
        for s in 0..nsnaps {
            self.sink().end();
            self.write_snap(s);
            let code = exit_code(self.opts.number, s as u32);
            self.sink().local_get(L_CTX).local_get(L_BUDGET).i64_store(mem(CTX_BUDGET, 3));
            if let Some(links) = self.opts.exit_links {
                // A side trace attached to this exit: go on in it.
                let at = links.wrapping_add(4 * s as u32) as i32;
                self.sink()
                    .i32_const(at)
                    .i32_load(mem(0, 2))
                    .local_tee(L_T32A)
                    .if_(BlockType::Empty)
                    .local_get(L_CTX)
                    .local_get(L_BASE)
                    .local_get(L_T32A)
                    .return_call_indirect(0, TY_TRACE)
                    .end();
            }
            self.sink().i32_const(code as i32).return_();
        }
        self.sink().end();
        Ok(())
    }
}
