//! The trace IR: one linear SSA list per trace, its constants, and its snapshots.
//!
//! An instruction is `{op, ty, a, b, k}`: `a` and `b` are operand references (indexes
//! into the list; constants are instructions too), `k` a 64-bit literal (a constant's
//! bits, a slot number, a condition). Values are unboxed by type: `Num` values are
//! `f64`s, the primitive types (`Nil`, `False`, `True`) are known by their type alone,
//! and every other type (`Boxed`) is carried as its 64-bit boxed value, whose tag a
//! guard has checked.
//!
//! Every op is one row of [`ir_ops!`]; backends match on [`IrOp`] exhaustively, so an
//! op added here is a compile error in each backend until it is lowered there (or
//! turned into an `NYIIR` abort on purpose).

use std::fmt::{self, Write as _};

use crate::gc::GcRef;
use crate::object::LuaFunction;
use crate::value::{tag, Value};

/// A reference to an instruction of the trace.
pub type IrRef = u16;

/// A value's type inside a trace.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Ty {
    /// An `f64`.
    Num,
    Nil,
    False,
    True,
    /// Any other value, carried boxed; the byte is its tag (`value::tag`).
    Boxed(u8),
    /// No value (guards, `BUDGET`).
    Void,
    /// An address inside a heap object or the stack (`AREF`, `HREFK`, `UREF`):
    /// never in a snapshot.
    Ptr,
}

impl Ty {
    /// The type of a live value.
    pub fn of(v: Value) -> Ty {
        if v.is_number() {
            Ty::Num
        } else if v.is_nil() {
            Ty::Nil
        } else if v == Value::FALSE {
            Ty::False
        } else if v == Value::TRUE {
            Ty::True
        } else {
            Ty::Boxed(v.tag() as u8)
        }
    }

    /// Whether values of this type are true in a condition.
    pub fn truthy(self) -> bool {
        !matches!(self, Ty::Nil | Ty::False)
    }

    /// The boxed bits of a primitive type's only value.
    pub fn pri_bits(self) -> Option<u64> {
        match self {
            Ty::Nil => Some(Value::NIL.to_bits()),
            Ty::False => Some(Value::FALSE.to_bits()),
            Ty::True => Some(Value::TRUE.to_bits()),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Num => "num",
            Ty::Nil => "nil",
            Ty::False => "fal",
            Ty::True => "tru",
            Ty::Boxed(t) if u64::from(t) == crate::value::tag::STR => "str",
            Ty::Boxed(t) if u64::from(t) == crate::value::tag::TABLE => "tab",
            Ty::Boxed(t) if u64::from(t) == crate::value::tag::FUNC => "fun",
            Ty::Boxed(_) => "gco",
            Ty::Void => "   ",
            Ty::Ptr => "p64",
        }
    }
}

/// A guard's condition on its two operands: the trace continues while it holds.
/// The ordered conditions are false when an operand is NaN; their `Not` forms are
/// their exact negations (true on NaN), as `not (a < b)` is in Lua.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Cond {
    Lt,
    NotLt,
    Le,
    NotLe,
    /// Float equality (`0 == -0`, NaN unequal).
    Eq,
    Ne,
    /// Equality of the boxed bits (interned strings, identity).
    EqBits,
    NeBits,
}

impl Cond {
    /// Evaluates the condition on two numbers.
    pub fn holds(self, x: f64, y: f64) -> bool {
        match self {
            Cond::Lt => x < y,
            Cond::NotLt => x.partial_cmp(&y) != Some(std::cmp::Ordering::Less),
            Cond::Le => x <= y,
            Cond::NotLe => !matches!(x.partial_cmp(&y), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)),
            Cond::Eq => x == y,
            Cond::Ne => x != y,
            Cond::EqBits => x.to_bits() == y.to_bits(),
            Cond::NeBits => x.to_bits() != y.to_bits(),
        }
    }

    fn from_k(k: u64) -> Cond {
        match k {
            0 => Cond::Lt,
            1 => Cond::NotLt,
            2 => Cond::Le,
            3 => Cond::NotLe,
            4 => Cond::Eq,
            5 => Cond::Ne,
            6 => Cond::EqBits,
            _ => Cond::NeBits,
        }
    }

    pub fn to_k(self) -> u64 {
        self as u64
    }

    fn name(self) -> &'static str {
        match self {
            Cond::Lt => "LT",
            Cond::NotLt => "UGE",
            Cond::Le => "LE",
            Cond::NotLe => "UGT",
            Cond::Eq => "EQ",
            Cond::Ne => "NE",
            Cond::EqBits => "EQ",
            Cond::NeBits => "NE",
        }
    }
}

macro_rules! ir_ops {
    ($( $(#[doc = $doc:literal])* $name:ident, $flags:expr ; )*) => {
        /// An IR opcode.
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum IrOp {
            $( $(#[doc = $doc])* $name, )*
        }
        impl IrOp {
            pub fn name(self) -> &'static str {
                match self { $( IrOp::$name => stringify!($name), )* }
            }
            /// The op's `F_*` flags.
            pub fn flags(self) -> u8 {
                match self { $( IrOp::$name => $flags, )* }
            }
        }
    };
}

/// A constant.
pub const F_CONST: u8 = 1;
/// A guard: exits to its snapshot when its condition fails.
pub const F_GUARD: u8 = 2;
/// A side effect: never removed, never merged.
pub const F_EFFECT: u8 = 4;
/// Commutative.
pub const F_COMM: u8 = 8;
/// A guard whose condition cannot change while a trace runs (a trace neither runs
/// the collector nor calls out): shared by CSE like a pure op, so the loop
/// optimisation hoists it when its operands are invariant.
pub const F_CSEG: u8 = 16;
/// A load from a heap object's value slot: shared by CSE until a store (`XSTORE`).
pub const F_LOAD: u8 = 32;

ir_ops! {
    /// A number constant: `k` holds its bits.
    KNUM, F_CONST;
    /// A primitive constant: `nil`, `false` or `true` by its type.
    KPRI, F_CONST;
    /// A boxed constant (a string, a function): `k` indexes [`TraceIr::consts`].
    KBOX, F_CONST;
    /// Stack slot `k` (relative to the trace's base), type-checked against `ty`.
    SLOAD, F_GUARD;
    /// Guard `cond(a, b)`, `k` = the condition.
    GUARD, F_GUARD;
    /// The instruction budget: exits if fewer than 1 unit is left, else takes 1.
    BUDGET, F_GUARD | F_EFFECT;
    ADD, F_COMM;
    SUB, 0;
    MUL, F_COMM;
    DIV, 0;
    /// `a - floor(a / b) * b`, as the interpreter computes `%`.
    MOD, 0;
    /// `a ^ b` through the interpreter's function.
    POW, 0;
    NEG, 0;
    /// `math.sqrt`, `math.abs`, `math.floor`, `math.ceil` of `a`.
    SQRT, 0;
    ABS, 0;
    FLOOR, 0;
    CEIL, 0;
    /// `math.min(a, b)`: `a < b ? a : b`; `math.max(a, b)`: `a > b ? a : b` (so a
    /// NaN or an equal `b` is the result, as the library's fold computes it).
    MIN, 0;
    MAX, 0;
    /// `string.byte(a, b)` for one byte (`helpers::byte`, called); guard that there
    /// is one (the helper's result is not negative).
    SBYTE, F_GUARD;
    /// `#a` for a table or a string (`helpers::len`, called): a load, shared until
    /// a table store.
    ALEN, F_LOAD;
    /// The loop's head: instructions before it run once (the pre-roll, the recorded
    /// iteration), those after it every further iteration (the body).
    LOOP, F_EFFECT;
    /// The running closure (`Boxed(FUNC)`), from the trace's context.
    FUNC, 0;
    /// The environment table of closure `a` (`Boxed(TABLE)`).
    FENV, 0;
    /// Guard: table `a` has no metatable, or (when `k` is not 0) its metatable's
    /// absent-metamethod bits (`Table::nomm`) include all of `k`.
    TMETA, F_GUARD | F_CSEG;
    /// Guard: storing a GC value into table `a` needs no write barrier (exits when
    /// the table is black and the collector is marking).
    TBAR, F_GUARD | F_CSEG;
    /// The address of element `b` (a number) of table `a`'s array part; guard that
    /// `b` is an integer from 1 to the array part's length.
    AREF, F_GUARD | F_CSEG;
    /// The address of the value of hash node `k` of table `a`; guard that the node
    /// exists and its key is `b` (a constant string).
    HREFK, F_GUARD | F_CSEG;
    /// The address of upvalue `k` of closure `a` (a constant): the upvalue's value
    /// when closed, its stack slot when open in the running thread below the
    /// trace's frame; exits otherwise.
    UREF, F_GUARD | F_CSEG;
    /// Guard: upvalue `k & 0xFFFF_FFFF` of closure `a` (a constant) is open in the
    /// running thread at slot `k >> 32` of the trace's frames (relative to its base),
    /// which the trace keeps in its slot map.
    UOPEN, F_GUARD | F_CSEG;
    /// Guard: storing a GC value into upvalue `k` of closure `a` (a constant) needs no
    /// write barrier (exits when it is closed, black, and the collector is marking).
    UBAR, F_GUARD | F_CSEG;
    /// The address of the value of key `b` (any value) in table `a` (array part or
    /// hash node, found by `helpers::slot`); guard that the key is there.
    HREF, F_GUARD | F_CSEG;
    /// Guard: key `b` of table `a` is absent or holds nil (`helpers::rawget`): a
    /// load, shared until a table store.
    HNIL, F_GUARD | F_LOAD;
    /// The metatable of table `a` (`Boxed(TABLE)`); guard that it has one.
    TMT, F_GUARD | F_CSEG;
    /// The value at address `a`, guarded to have type `ty`.
    XLOAD, F_GUARD | F_LOAD;
    /// Guard: the value at address `a` is not nil.
    XNNIL, F_GUARD;
    /// Stores `b` at address `a`.
    XSTORE, F_EFFECT;
    /// A loop-carried value: at the back edge `a` (a pre-roll value, which the body
    /// reads as the value at the start of the iteration) takes `b` (its value at the
    /// end of the body). PHIs come last.
    PHI, F_EFFECT;
}

/// One IR instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct IrIns {
    pub op: IrOp,
    pub ty: Ty,
    pub a: IrRef,
    pub b: IrRef,
    /// The literal (constant bits, slot, condition).
    pub k: u64,
    /// The snapshot a guard exits to.
    pub snap: u16,
}

impl IrIns {
    pub fn cond(&self) -> Cond {
        Cond::from_k(self.k)
    }
    pub fn is_guard(&self) -> bool {
        self.op.flags() & F_GUARD != 0
    }
    /// The operands this instruction reads.
    pub fn operands(&self) -> impl Iterator<Item = IrRef> {
        let n = match self.op {
            IrOp::KNUM | IrOp::KPRI | IrOp::KBOX | IrOp::SLOAD | IrOp::BUDGET | IrOp::LOOP | IrOp::FUNC => 0,
            IrOp::NEG | IrOp::FENV | IrOp::TMETA | IrOp::TBAR | IrOp::XLOAD | IrOp::XNNIL | IrOp::UREF | IrOp::UBAR => {
                1
            }
            _ => 2,
        };
        [self.a, self.b].into_iter().take(n)
    }
}

/// A stack slot the interpreter gets back at an exit: `slot` (relative to the base)
/// holds the value of `r`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SnapEntry {
    pub slot: u16,
    pub r: IrRef,
}

/// The interpreter's state at a guard, before its bytecode instruction: the
/// instruction to resume at and the slots the trace changed so far.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The bytecode instruction the interpreter re-executes.
    pub pc: u32,
    pub entries: Vec<SnapEntry>,
    /// For an instruction that takes a variable number of values (`CALL` with
    /// B = 0), the stack top the previous call left (relative to the base).
    pub top: Option<u16>,
    /// The calls inlined at this point, outermost first: an exit makes their
    /// frames, and `pc` is in the innermost.
    pub frames: Vec<SnapFrame>,
}

/// An inlined call's frame at an exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapFrame {
    /// The called function's slot (relative to the trace's base; the frame's
    /// registers start one above).
    pub func: u16,
    /// The caller's next instruction.
    pub ret_pc: u32,
    /// Results the caller wants.
    pub nresults: i32,
    /// Reached by a tail call.
    pub tail: bool,
}

/// A recorded trace's IR: a loop of one iteration from the loop body's first
/// instruction back to it.
#[derive(Clone, Debug, Default)]
pub struct TraceIr {
    pub ins: Vec<IrIns>,
    /// Exits, by number; the last one is the loop's own back edge (see `loop_snap`).
    pub snaps: Vec<Snapshot>,
    /// The snapshot written at the end of each iteration, before jumping back to the
    /// start (its `pc` is the loop body's first instruction).
    pub loop_snap: usize,
    /// One past the highest slot the trace reads or writes.
    pub nslots: usize,
    /// The boxed constants (`KBOX`), kept alive by the trace (GC roots).
    pub consts: Vec<Value>,
    /// The `LOOP` instruction, when loop optimisation turned the trace into a pre-roll
    /// and a body whose loop-carried values stay in registers (`PHI`s). Without it the
    /// back edge stores `loop_snap` and the next iteration loads from the stack again.
    pub loop_at: Option<usize>,
    /// A side trace: instead of looping, its back edge writes `loop_snap` and exits
    /// by that snapshot, and the engine goes on in the root trace.
    pub link: bool,
}

impl TraceIr {
    /// The Lua function that constant `r` is, if it is one.
    pub fn closure_const(&self, r: IrRef) -> Option<GcRef<LuaFunction>> {
        let k = self.ins.get(usize::from(r)).filter(|i| i.op == IrOp::KBOX)?;
        self.consts.get(k.k as usize)?.as_lua_function()
    }

    /// Checks what the memory safety of generated code rests on, whatever IR it is
    /// given (the IR types are public: anyone may build a `TraceIr`): every value of
    /// a GC type or an address (`Ty::Ptr`) comes from an op that guarantees it (a
    /// type guard, a checked constant, a checked address), and every op that
    /// dereferences an operand gets one of the type it reads. Every backend runs it
    /// before lowering.
    pub fn check_types(&self) -> Result<(), &'static str> {
        let table = Ty::Boxed(tag::TABLE as u8);
        let func = Ty::Boxed(tag::FUNC as u8);
        let ty = |r: IrRef| self.ins.get(usize::from(r)).map(|i| i.ty);
        for (i, ins) in self.ins.iter().enumerate() {
            if ins.operands().any(|o| usize::from(o) >= i) {
                return Err("IR operand after its use");
            }
            let (a, b) = (ty(ins.a), ty(ins.b));
            let result_ok = match ins.ty {
                Ty::Ptr => matches!(ins.op, IrOp::AREF | IrOp::HREFK | IrOp::HREF | IrOp::UREF | IrOp::PHI),
                Ty::Boxed(_) => {
                    matches!(
                        ins.op,
                        IrOp::SLOAD | IrOp::XLOAD | IrOp::KBOX | IrOp::FUNC | IrOp::FENV | IrOp::TMT | IrOp::PHI
                    )
                }
                _ => true,
            };
            let ok = match ins.op {
                IrOp::KBOX => self.consts.get(ins.k as usize).is_some_and(|v| Ty::of(*v) == ins.ty),
                IrOp::FUNC => ins.ty == func,
                IrOp::FENV => ins.ty == table && a == Some(func),
                IrOp::TMETA | IrOp::TBAR => a == Some(table),
                IrOp::AREF => a == Some(table) && b == Some(Ty::Num),
                IrOp::HREFK => a == Some(table),
                IrOp::HREF | IrOp::HNIL => a == Some(table) && !matches!(b, Some(Ty::Ptr | Ty::Void) | None),
                IrOp::TMT => a == Some(table) && ins.ty == table,
                IrOp::UREF | IrOp::UBAR | IrOp::UOPEN => self
                    .closure_const(ins.a)
                    .is_some_and(|f| f.upval_cell_addr((ins.k & 0xFFFF_FFFF) as usize).is_some()),
                IrOp::XLOAD => a == Some(Ty::Ptr) && !matches!(ins.ty, Ty::Ptr | Ty::Void),
                IrOp::XNNIL => a == Some(Ty::Ptr),
                IrOp::ALEN => ins.ty == Ty::Num && matches!(a, Some(t) if t == table || t == Ty::Boxed(tag::STR as u8)),
                IrOp::SBYTE => ins.ty == Ty::Num && a == Some(Ty::Boxed(tag::STR as u8)) && b == Some(Ty::Num),
                IrOp::XSTORE => a == Some(Ty::Ptr) && !matches!(b, Some(Ty::Ptr | Ty::Void) | None),
                IrOp::SLOAD => !matches!(ins.ty, Ty::Ptr | Ty::Void),
                IrOp::PHI => a == Some(ins.ty) && b == Some(ins.ty),
                _ => true,
            };
            if !(ok && result_ok) {
                return Err("ill-typed IR");
            }
        }
        Ok(())
    }

    /// Whether instruction `r` is still needed: a guard or effect, or used by one,
    /// or by a snapshot (dead-code elimination, computed backwards).
    pub fn live(&self) -> Vec<bool> {
        let mut live = vec![false; self.ins.len()];
        for s in &self.snaps {
            for e in &s.entries {
                if let Some(l) = live.get_mut(usize::from(e.r)) {
                    *l = true;
                }
            }
        }
        for i in (0..self.ins.len()).rev() {
            let ins = self.ins[i];
            if ins.op.flags() & (F_GUARD | F_EFFECT) != 0 {
                live[i] = true;
            }
            if live[i] {
                for o in ins.operands() {
                    if let Some(l) = live.get_mut(usize::from(o)) {
                        *l = true;
                    }
                }
            }
        }
        live
    }

    /// The IR and snapshots as text (`-jdump`).
    pub fn dump(&self, out: &mut String) {
        let live = self.live();
        let mut snap_shown = vec![false; self.snaps.len()];
        for (i, ins) in self.ins.iter().enumerate() {
            if ins.is_guard() {
                let s = usize::from(ins.snap);
                if let Some(shown @ false) = snap_shown.get_mut(s) {
                    *shown = true;
                    self.dump_snap(s, out);
                }
            }
            if ins.op == IrOp::LOOP {
                let _ = writeln!(out, "{i:04} ------------ LOOP ------------");
                continue;
            }
            let flag = if ins.is_guard() { '>' } else { ' ' };
            let dead = if live[i] { ' ' } else { '!' };
            let _ = write!(out, "{i:04} {dead}{flag} {} {:<6} ", ins.ty.name(), ins.op.name());
            match ins.op {
                IrOp::KNUM => {
                    let mut b = Vec::new();
                    crate::number::fmt_number(f64::from_bits(ins.k), &mut b);
                    out.push_str(&String::from_utf8_lossy(&b));
                }
                IrOp::KPRI => {}
                IrOp::KBOX => {
                    let v = self.consts.get(ins.k as usize).copied().unwrap_or(Value::NIL);
                    match v.as_string() {
                        Some(s) => {
                            let _ = write!(out, "{:?}", String::from_utf8_lossy(s.as_bytes()));
                        }
                        None => {
                            let _ = write!(out, "{:#x}", v.to_bits());
                        }
                    }
                }
                IrOp::SLOAD => {
                    let _ = write!(out, "#{}", ins.k);
                }
                IrOp::GUARD => {
                    let _ = write!(out, "{} {:04} {:04}", ins.cond().name(), ins.a, ins.b);
                }
                IrOp::BUDGET => {
                    let _ = write!(out, "1");
                }
                IrOp::TMETA if ins.k != 0 => {
                    let _ = write!(out, "{:04} {:#x}", ins.a, ins.k);
                }
                _ => {
                    let ops: Vec<String> = ins.operands().map(|o| format!("{o:04}")).collect();
                    out.push_str(&ops.join(" "));
                }
            }
            out.push('\n');
        }
        if self.loop_at.is_none() {
            let _ = write!(out, "---- LOOP ");
            self.dump_snap(self.loop_snap, out);
        }
    }

    fn dump_snap(&self, s: usize, out: &mut String) {
        let Some(snap) = self.snaps.get(s) else { return };
        // Bytecode positions from 1, as `-bl` and the bytecode lines show them.
        let _ = write!(out, "....        SNAP   #{s:<3} [ pc {:04} ", snap.pc + 1);
        if let Some(t) = snap.top {
            let _ = write!(out, "top={t} ");
        }
        for f in &snap.frames {
            let _ = write!(out, "frame={} ", f.func);
        }
        for e in &snap.entries {
            let _ = write!(out, "{}={:04} ", e.slot, e.r);
        }
        out.push_str("]\n");
    }
}

impl fmt::Display for TraceIr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.dump(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(op: IrOp, ty: Ty, a: IrRef, b: IrRef, k: u64) -> IrIns {
        IrIns { op, ty, a, b, k, snap: 0 }
    }

    fn ir_of(ins: Vec<IrIns>, consts: Vec<Value>) -> TraceIr {
        TraceIr { ins, consts, ..TraceIr::default() }
    }

    /// IR whose types would make generated code dereference something that is not
    /// what its op reads is refused (IR is public: anyone may build it).
    #[test]
    fn ill_typed_ir_is_refused() {
        let table = Ty::Boxed(tag::TABLE as u8);
        let num = |n: f64| ins(IrOp::KNUM, Ty::Num, 0, 0, n.to_bits());
        // A load through a number (its bits as an address).
        let bad = ir_of(vec![num(4096.0), ins(IrOp::XLOAD, Ty::Num, 0, 0, 0)], vec![]);
        assert_eq!(bad.check_types(), Err("ill-typed IR"));
        // An array reference into a number.
        let bad = ir_of(vec![num(1.0), ins(IrOp::AREF, Ty::Ptr, 0, 0, 0)], vec![]);
        assert_eq!(bad.check_types(), Err("ill-typed IR"));
        // A constant claiming to be a table.
        let bad =
            ir_of(vec![ins(IrOp::KBOX, table, 0, 0, 0), ins(IrOp::TMETA, Ty::Void, 0, 0, 0)], vec![Value::number(1.0)]);
        assert_eq!(bad.check_types(), Err("ill-typed IR"));
        // An address made by arithmetic.
        let bad = ir_of(vec![num(1.0), ins(IrOp::ADD, Ty::Ptr, 0, 0, 0), ins(IrOp::XNNIL, Ty::Void, 1, 0, 0)], vec![]);
        assert_eq!(bad.check_types(), Err("ill-typed IR"));
        // An upvalue of something that is not a closure constant.
        let bad = ir_of(vec![num(1.0), ins(IrOp::UREF, Ty::Ptr, 0, 0, 0)], vec![]);
        assert_eq!(bad.check_types(), Err("ill-typed IR"));
        // An operand defined after its use.
        let bad = ir_of(vec![ins(IrOp::AREF, Ty::Ptr, 1, 2, 0), ins(IrOp::SLOAD, table, 0, 0, 0), num(1.0)], vec![]);
        assert_eq!(bad.check_types(), Err("IR operand after its use"));
        // What the recorder emits for `t[1]`: a guarded table, a checked element.
        let good = ir_of(
            vec![
                ins(IrOp::SLOAD, table, 0, 0, 0),
                num(1.0),
                ins(IrOp::AREF, Ty::Ptr, 0, 1, 0),
                ins(IrOp::XLOAD, Ty::Num, 2, 0, 0),
            ],
            vec![],
        );
        assert_eq!(good.check_types(), Ok(()));
    }
}
