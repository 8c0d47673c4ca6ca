//! The trace recorder: follows the interpreter one bytecode instruction at a time
//! (before the interpreter executes it) and emits IR for what it observes.
//!
//! Rules (ARCHITECTURE.md, "The trace JIT"):
//! - A slot is read from the stack once (`SLOAD`, guarded by the type it holds now);
//!   writes only update the slot map. The trace stores to the stack only at exits and
//!   at the end of each iteration.
//! - Every guard of an instruction comes before its effects, and its snapshot is the
//!   state *before* the instruction, so an exit makes the interpreter re-execute that
//!   instruction: any exit may be taken at any time.
//! - The budget is charged where the interpreter charges it (`FORL` and `LOOP`, a
//!   backward `JMP`), as a `BUDGET` guard with the same snapshot rule.
//! - What is not handled aborts with a reason from [`Abort`].

use std::collections::HashMap;

use crate::bytecode::{opc, Ins, Op};
use crate::gc::GcRef;
use crate::jit::ir::{
    Cond, IrIns, IrOp, IrRef, SnapEntry, SnapFrame, Snapshot, TraceIr, Ty, F_COMM, F_CONST, F_CSEG, F_EFFECT, F_GUARD,
    F_LOAD,
};
use crate::object::func::UpState;
use crate::object::{Proto, Table};
use crate::value::{tag, Value};
use crate::vm::meta::{Arith, MetaEvent};

/// Why recording or compiling a trace stopped (LuaJIT's abort reasons, as far as
/// moonbox has them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A bytecode instruction the recorder does not handle.
    NyiBytecode(Op),
    /// An operation on values the recorder does not handle yet.
    Nyi(&'static str),
    /// A native function the recorder does not compile (by its name).
    NyiBuiltin(&'static str),
    /// The loop was left before it closed.
    LeaveLoop,
    /// An inner loop inside the recorded loop.
    InnerLoop,
    /// The recorded frame changed (a call, a return, an error, a coroutine switch) or a
    /// hook was set.
    FrameChanged,
    TraceTooLong,
    TooManySnapshots,
    /// The backend could not compile the trace.
    Backend(String),
}

impl Abort {
    pub fn message(&self) -> String {
        match self {
            Abort::NyiBytecode(op) => format!("NYI: bytecode {}", op.name()),
            Abort::Nyi(what) => format!("NYI: {what}"),
            Abort::NyiBuiltin(name) => format!("NYI: unsupported builtin {name}"),
            Abort::LeaveLoop => "leaving loop in root trace".into(),
            Abort::InnerLoop => "inner loop in root trace".into(),
            Abort::FrameChanged => "error thrown or hook called during recording".into(),
            Abort::TraceTooLong => "trace too long".into(),
            Abort::TooManySnapshots => "too many snapshots".into(),
            Abort::Backend(m) => m.clone(),
        }
    }

    /// Whether the loop may be tried again soon (no lasting penalty): a loop that
    /// ran out while recording will run again.
    pub fn mild(&self) -> bool {
        matches!(self, Abort::LeaveLoop | Abort::InnerLoop | Abort::FrameChanged)
    }
}

/// What the recorder says after an instruction.
pub enum Step {
    Continue,
    /// The loop closed: the trace is complete.
    Done,
    Abort(Abort),
}

const NO_REF: IrRef = IrRef::MAX;
/// `Table::nomm`'s bit for an absent `__newindex`.
const NO_NEWINDEX: u32 = 1 << (MetaEvent::NewIndex as u32);
/// The slots a trace may touch: a frame's registers plus the `for` loop's three above.
pub const MAX_SLOTS: usize = 256;

/// A recording in progress.
pub struct Recorder {
    pub proto: GcRef<Proto>,
    /// Identity of the recorded frame: its depth, base and thread (by address).
    pub depth: usize,
    pub base: usize,
    pub thread: usize,
    /// The loop body's first instruction, where the trace starts.
    pub start_pc: usize,
    /// The loop instruction (`FORL` or `LOOP`) that closes the loop.
    pub anchor_pc: usize,
    /// The instructions inside the loop (`lo..=hi`): anything else leaves it.
    lo: usize,
    hi: usize,
    ir: TraceIr,
    /// Slot → the IR value it holds now (`NO_REF`: not read or written yet).
    slots: Vec<IrRef>,
    /// Slots written, in first-write order.
    written: Vec<u16>,
    cse: HashMap<(IrOp, Ty, IrRef, IrRef, u64), IrRef>,
    /// The snapshot taken for the instruction being recorded.
    snap_for: Option<(usize, u16)>,
    /// Bytecode instructions recorded.
    count: usize,
    last_pc: usize,
    max_ins: usize,
    max_snaps: usize,
    /// Optimise the loop (`-Oloop`).
    pub loop_opt: bool,
    /// A side trace: where it starts, its parent trace and exit, its root trace.
    side: Option<(usize, (u32, u32), u32)>,
    /// For a side trace: where root traces of this prototype start (loop body
    /// starts), and their numbers.
    links: Vec<(usize, u32)>,
    link_target: u32,
    /// Instructions a side trace has recorded.
    visited: Vec<usize>,
    /// The recorded frame's closure (the engine sets it before each instruction).
    pub func: Value,
    /// Stores since the last one that may alias each: (address, value stored).
    stored: Vec<(IrRef, IrRef)>,
    /// The trace has guarded the running closure's identity.
    closure_guarded: bool,
    /// Natives compiled to one IR op, by function address (`Vm::jit_builtin`;
    /// `KBOX` stands for `type`).
    pub builtins: Vec<(usize, IrOp)>,
    /// The names `type` returns, by `LuaType` (interned strings the state keeps).
    pub type_names: Vec<Value>,
    /// `"__index"` (the state's interned name).
    pub index_name: Value,
    /// The stack top a call with all its results left (for the next instruction,
    /// which takes them all).
    multres: Option<usize>,
    /// The top the snapshots of the instruction being recorded restore.
    snap_top: Option<u16>,
    /// Lua functions called from the trace and not yet returned (inlined).
    frames: Vec<InlineFrame>,
    /// A side trace starting inside inlined calls: the innermost one's function.
    start_in: Option<GcRef<Proto>>,
}

/// An inlined call's frame while recording.
#[derive(Clone, Copy)]
struct InlineFrame {
    proto: GcRef<Proto>,
    /// Where its registers start, relative to the trace's base (its function is
    /// one below).
    off: usize,
    /// The caller's next instruction.
    ret_pc: usize,
    /// Results the caller wants.
    nresults: i32,
    /// Reached by a tail call (tracebacks show it).
    tail: bool,
}

/// Where an upvalue is, for a trace.
enum Up {
    /// Slot `rel` of a traced frame (relative to the trace's base), its value now.
    Slot(usize, Value),
    /// Through address `IrRef` (`UREF`), its value now.
    Mem(IrRef, Value),
}

/// How many calls deep a trace inlines.
pub const MAX_INLINE: usize = 8;

impl Recorder {
    pub fn new(
        proto: GcRef<Proto>,
        (depth, base, thread): (usize, usize, usize),
        start_pc: usize,
        anchor_pc: usize,
        (max_ins, max_snaps): (usize, usize),
    ) -> Recorder {
        let (lo, hi) = loop_range(&proto, start_pc, anchor_pc);
        Recorder {
            lo,
            hi,
            proto,
            depth,
            base,
            thread,
            start_pc,
            anchor_pc,
            ir: TraceIr::default(),
            slots: vec![NO_REF; MAX_SLOTS],
            written: Vec::new(),
            cse: HashMap::new(),
            snap_for: None,
            count: 0,
            last_pc: start_pc,
            max_ins: max_ins.max(16),
            max_snaps: max_snaps.max(2),
            loop_opt: true,
            side: None,
            links: Vec::new(),
            link_target: 0,
            visited: Vec::new(),
            func: Value::NIL,
            stored: Vec::new(),
            closure_guarded: false,
            builtins: Vec::new(),
            type_names: Vec::new(),
            index_name: Value::NIL,
            multres: None,
            snap_top: None,
            frames: Vec::new(),
            start_in: None,
        }
    }

    /// Makes this a side trace, starting at `pc` from exit `parent` = (trace, exit),
    /// ending where the loop closes by going on in trace `root`.
    pub fn side_of(&mut self, pc: usize, parent: (u32, u32), root: u32, links: Vec<(usize, u32)>) {
        self.side = Some((pc, parent, root));
        self.links = links;
        self.last_pc = pc;
        self.loop_opt = false;
    }

    /// The function the trace's first instruction is in (a side trace may start
    /// inside an inlined call).
    pub fn start_proto(&self) -> GcRef<Proto> {
        self.start_in.unwrap_or(self.proto)
    }

    /// For a side trace starting inside inlined calls (its parent's exit snapshot
    /// had frames): those calls, outermost first, with their functions' protos.
    pub fn inside_calls(&mut self, calls: &[(GcRef<Proto>, SnapFrame)]) {
        self.frames = calls
            .iter()
            .map(|&(proto, f)| InlineFrame {
                proto,
                off: usize::from(f.func) + 1,
                ret_pc: f.ret_pc as usize,
                nresults: f.nresults,
                tail: f.tail,
            })
            .collect();
        self.start_in = calls.last().map(|c| c.0);
    }

    /// For a side trace: its start pc, parent (trace, exit) and root trace.
    pub fn side(&self) -> Option<(usize, (u32, u32), u32)> {
        self.side
    }

    /// The last instruction recorded (or being recorded).
    /// The first and last instruction of the root loop's body.
    pub fn body(&self) -> (usize, usize) {
        (self.lo, self.hi)
    }

    /// The IR recorded so far.
    pub fn ir(&self) -> &TraceIr {
        &self.ir
    }

    /// The function of the last instruction recorded (an inlined callee's, inside one).
    pub fn last_proto(&self) -> GcRef<Proto> {
        self.frames.last().map_or(self.proto, |f| f.proto)
    }

    pub fn last_pc(&self) -> usize {
        self.last_pc
    }

    /// The finished trace.
    pub fn finish(self) -> TraceIr {
        self.ir
    }

    // ----- Emitting -----------------------------------------------------------------

    fn emit(&mut self, ins: IrIns) -> Result<IrRef, Abort> {
        let f = ins.op.flags();
        let key = if f & F_COMM != 0 && ins.a > ins.b {
            (ins.op, ins.ty, ins.b, ins.a, ins.k)
        } else {
            (ins.op, ins.ty, ins.a, ins.b, ins.k)
        };
        // CSE: pure ops and constants are shared, and so are the guards whose
        // condition cannot change during a trace (`F_CSEG`) and loads until a store
        // (`F_LOAD`). Other guards are not: each has its own snapshot.
        let shared = f & (F_GUARD | F_EFFECT) == 0 || f & (F_CSEG | F_LOAD) != 0;
        if shared {
            if let Some(&r) = self.cse.get(&key) {
                return Ok(r);
            }
        }
        if ins.op == IrOp::XSTORE {
            self.forget_loads(ins.a);
        }
        // Store-to-load forwarding: a load from the address last stored to, with
        // no store in between that may alias it, is the stored value.
        if ins.op == IrOp::XLOAD {
            if let Some(&(_, v)) = self.stored.iter().find(|s| s.0 == ins.a) {
                if self.ty(v) == ins.ty {
                    return Ok(v);
                }
            }
        }
        if self.ir.ins.len() >= usize::from(NO_REF) - 1 || self.ir.ins.len() >= self.max_ins * 4 {
            return Err(Abort::TraceTooLong);
        }
        let r = self.ir.ins.len() as IrRef;
        self.ir.ins.push(ins);
        if shared {
            self.cse.insert(key, r);
        }
        if ins.op == IrOp::XSTORE {
            self.stored.push((ins.a, ins.b));
        }
        Ok(r)
    }

    /// Whether stores through addresses `x` and `y` may touch the same value: an
    /// array element and a hash node's value never do, nor two hash nodes found by
    /// different keys (in one table a key has one node; in two tables, two nodes).
    fn may_alias(&self, x: IrRef, y: IrRef) -> bool {
        let (a, b) = (self.ins_at(x), self.ins_at(y));
        match (a.op, b.op) {
            (IrOp::AREF, IrOp::AREF) => true,
            (IrOp::HREFK, IrOp::HREFK) => a.b == b.b,
            // Two upvalues may be one (`debug.upvaluejoin`).
            (IrOp::UREF, IrOp::UREF) => true,
            // A key found at run time may be any element or node of any table.
            (IrOp::HREF, IrOp::AREF | IrOp::HREFK | IrOp::HREF) | (IrOp::AREF | IrOp::HREFK, IrOp::HREF) => true,
            _ => x == y,
        }
    }

    /// A store through `at` may change what loads that may alias it read: later
    /// such loads read memory again, and forwarding forgets them.
    fn forget_loads(&mut self, at: IrRef) {
        let stale: Vec<_> = self
            .cse
            .iter()
            .filter(|(k, _)| match k.0 {
                // A length changes with any table store.
                IrOp::ALEN | IrOp::HNIL => matches!(self.ins_at(at).op, IrOp::AREF | IrOp::HREFK | IrOp::HREF),
                op => op.flags() & F_LOAD != 0 && self.may_alias(k.2, at),
            })
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            self.cse.remove(&k);
        }
        let keep: Vec<_> = self.stored.iter().copied().filter(|s| !self.may_alias(s.0, at)).collect();
        self.stored = keep;
    }

    /// A guard shared by CSE (`F_CSEG`, `F_LOAD`): an earlier one on the same
    /// operands answers for it; otherwise it is emitted with the snapshot for `pc`.
    fn shared_guard(&mut self, pc: usize, op: IrOp, ty: Ty, a: IrRef, b: IrRef, k: u64) -> Result<IrRef, Abort> {
        if let Some(&r) = self.cse.get(&(op, ty, a, b, k)) {
            return Ok(r);
        }
        let snap = self.snap(pc)?;
        self.emit(IrIns { op, ty, a, b, k, snap })
    }

    /// The value at address `at`, guarded to have the type of `v` (its value now):
    /// a primitive's value is then a constant.
    fn load(&mut self, pc: usize, at: IrRef, v: Value) -> Result<IrRef, Abort> {
        let ty = Ty::of(v);
        if let Some(&(_, v)) = self.stored.iter().find(|s| s.0 == at).filter(|s| self.ty(s.1) == ty) {
            return Ok(v);
        }
        let r = self.shared_guard(pc, IrOp::XLOAD, ty, at, 0, 0)?;
        if ty.pri_bits().is_some() {
            self.kpri(ty)
        } else {
            Ok(r)
        }
    }

    /// Register `slot`, which holds table `v` now.
    fn table(&mut self, pc: usize, slot: usize, v: Value) -> Result<(IrRef, GcRef<Table>), Abort> {
        let Some(t) = v.as_table() else { return Err(Abort::Nyi("indexing a non-table")) };
        Ok((self.get(pc, slot, v)?, t))
    }

    /// The address of `t[n]` (`tr` its IR value, `key` the IR number `n`) in the
    /// array part, and the value there now. Keys outside the array part abort.
    fn array_ref(
        &mut self,
        pc: usize,
        (tr, t): (IrRef, GcRef<Table>),
        key: IrRef,
        n: f64,
    ) -> Result<(IrRef, Value), Abort> {
        let i = crate::object::table::exact_i32(n).and_then(|i| usize::try_from(i).ok()).and_then(|i| i.checked_sub(1));
        let Some(v) = i.and_then(|i| t.arr_get(i)) else {
            // In the hash part: found at run time.
            return self.key_ref(pc, (tr, t), key, Value::number(n));
        };
        let at = self.shared_guard(pc, IrOp::AREF, Ty::Ptr, tr, key, 0)?;
        Ok((at, v))
    }

    /// The address of `t[key]` for `TGETV`/`TSETV` (`var`: the key's register and
    /// value now) or `TGETB`/`TSETB` (the literal key `lit`), and the value there now.
    fn elem_ref(
        &mut self,
        pc: usize,
        t: (IrRef, GcRef<Table>),
        var: Option<(usize, Value)>,
        lit: usize,
    ) -> Result<(IrRef, Value), Abort> {
        match var {
            Some((c, k)) => {
                let key = self.get(pc, c, k)?;
                match k.as_number() {
                    Some(n) => self.array_ref(pc, t, key, n),
                    None => self.key_ref(pc, t, key, k),
                }
            }
            None => {
                let n = lit as f64;
                let key = self.knum(n)?;
                self.array_ref(pc, t, key, n)
            }
        }
    }

    /// The address of `t[k]` for a key `k` in the table (`key` its IR value) found
    /// at run time, and the value there now. A key not in the table aborts.
    fn key_ref(
        &mut self,
        pc: usize,
        (tr, t): (IrRef, GcRef<Table>),
        key: IrRef,
        k: Value,
    ) -> Result<(IrRef, Value), Abort> {
        if t.slot_addr(k).is_none() {
            return Err(Abort::Nyi("key not in the table"));
        }
        let v = t.get(k);
        let at = self.shared_guard(pc, IrOp::HREF, Ty::Ptr, tr, key, 0)?;
        Ok((at, v))
    }

    /// The address of `t[s]` for a string key present in `t`'s hash part (live or
    /// dead), and the value there now.
    fn hash_ref(&mut self, pc: usize, (tr, t): (IrRef, GcRef<Table>), key: Value) -> Result<(IrRef, Value), Abort> {
        let Some(s) = key.as_string() else { return Err(Abort::Nyi("non-string constant key")) };
        let Some(n) = t.str_node(s) else { return Err(Abort::Nyi("key not in the table")) };
        let Some((_, v)) = t.node_at(n) else { return Err(Abort::Nyi("key not in the table")) };
        let k = self.kvalue(key)?;
        let at = self.shared_guard(pc, IrOp::HREFK, Ty::Ptr, tr, k, n as u64)?;
        Ok((at, v))
    }

    /// `t[key]` for a constant string key, as the interpreter's `TGETS` (`chain`) and
    /// `GGET` fast paths read it: the raw value when it is not nil or the table has
    /// no metatable; for `TGETS`, else along `__index` tables (`index_chain_str`),
    /// each step guarded (the key's absence from the table, its metatable, the
    /// metatable's `__index` table).
    fn index_str(
        &mut self,
        pc: usize,
        (tr, t): (IrRef, GcRef<Table>),
        key: Value,
        chain: bool,
    ) -> Result<IrRef, Abort> {
        let Some(s) = key.as_string() else { return Err(Abort::Nyi("non-string constant key")) };
        let v = t.get_str(s);
        if !v.is_nil() || t.str_node(s).is_some() && t.meta().is_none() {
            let (at, v) = self.hash_ref(pc, (tr, t), key)?;
            return self.index_load(pc, (tr, t), at, v);
        }
        let k = self.kvalue(key)?;
        // Not in the table (or dead): nil without a metatable.
        self.shared_guard(pc, IrOp::HNIL, Ty::Void, tr, k, 0)?;
        if t.meta().is_none() {
            self.shared_guard(pc, IrOp::TMETA, Ty::Void, tr, 0, 0)?;
            return self.kpri(Ty::Nil);
        }
        if !chain {
            return Err(Abort::Nyi("global through __index"));
        }
        let index_name = self.index_name;
        let (mut cur, mut cur_t) = (tr, t);
        for _ in 0..4 {
            let Some(mt) = cur_t.meta() else {
                self.shared_guard(pc, IrOp::TMETA, Ty::Void, cur, 0, 0)?;
                return self.kpri(Ty::Nil);
            };
            let Some(h) = index_name.as_string().map(|n| mt.get_str(n)) else { return Err(Abort::Nyi("__index")) };
            let Some(ht) = h.as_table() else { return Err(Abort::Nyi("__index that is not a table")) };
            let mtr = self.shared_guard(pc, IrOp::TMT, Ty::Boxed(tag::TABLE as u8), cur, 0, 0)?;
            let (hat, hv) = self.hash_ref(pc, (mtr, mt), index_name)?;
            let htr = self.load(pc, hat, hv)?;
            let v = ht.get_str(s);
            if !v.is_nil() {
                let (at, v) = self.hash_ref(pc, (htr, ht), key)?;
                return self.load(pc, at, v);
            }
            self.shared_guard(pc, IrOp::HNIL, Ty::Void, htr, k, 0)?;
            (cur, cur_t) = (htr, ht);
        }
        Err(Abort::Nyi("__index chain too long"))
    }

    /// `t[key]` read at `at` where the value is `v` now: a nil needs a table with no
    /// metatable (no `__index` to consult), as the interpreter's fast paths do.
    fn index_load(&mut self, pc: usize, (tr, t): (IrRef, GcRef<Table>), at: IrRef, v: Value) -> Result<IrRef, Abort> {
        if v.is_nil() {
            if t.meta().is_some() {
                return Err(Abort::Nyi("__index"));
            }
            self.shared_guard(pc, IrOp::TMETA, Ty::Void, tr, 0, 0)?;
        }
        self.load(pc, at, v)
    }

    /// `t[key] = val` at `at` (the value there now is `old`): the interpreter's fast
    /// paths store without `__newindex` when the table has no metatable, over a
    /// non-nil value (arrays), or when the metatable is known to lack `__newindex`
    /// (`nomm`, string keys). Then the write barrier's guard and the store.
    fn index_store(
        &mut self,
        pc: usize,
        (tr, t): (IrRef, GcRef<Table>),
        at: IrRef,
        old: Value,
        val: IrRef,
        nomm_ok: bool,
    ) -> Result<(), Abort> {
        match t.meta() {
            None => {
                self.shared_guard(pc, IrOp::TMETA, Ty::Void, tr, 0, 0)?;
            }
            Some(mt) if nomm_ok && mt.nomm() & NO_NEWINDEX != 0 => {
                self.shared_guard(pc, IrOp::TMETA, Ty::Void, tr, 0, u64::from(NO_NEWINDEX))?;
            }
            Some(_) if !nomm_ok && !old.is_nil() => {
                let snap = self.snap(pc)?;
                self.emit(IrIns { op: IrOp::XNNIL, ty: Ty::Void, a: at, b: 0, k: 0, snap })?;
            }
            Some(_) => return Err(Abort::Nyi("__newindex")),
        }
        if matches!(self.ty(val), Ty::Boxed(_)) {
            self.shared_guard(pc, IrOp::TBAR, Ty::Void, tr, 0, 0)?;
        }
        self.emit(IrIns { op: IrOp::XSTORE, ty: Ty::Void, a: at, b: val, k: 0, snap: 0 })?;
        Ok(())
    }

    /// Upvalue `idx` of the running closure and its value now (`below` and `regs`:
    /// the stack under and from the recorded frame's base). The trace is
    /// specialised to the closure (its identity guarded once: in an inlined callee
    /// by the call). A closed upvalue, or an open one in a lower frame, is read
    /// through the closure's upvalue cell at run time; an open one in a traced
    /// frame is that frame's slot, in the slot map, once a guard has checked that
    /// the upvalue still points there.
    fn upval(&mut self, pc: usize, (below, regs): (&[Value], &[Value]), idx: usize) -> Result<Up, Abort> {
        let Some(f) = self.func.as_lua_function() else { return Err(Abort::Nyi("upvalue without a closure")) };
        let Some(u) = f.upval(idx) else { return Err(Abort::Nyi("upvalue out of range")) };
        let cur = self.base + self.off();
        let at_slot = |slot: usize| match slot.checked_sub(cur) {
            None => below.get(slot).copied(),
            Some(i) => regs.get(i).copied(),
        };
        let k = self.kvalue(self.func)?;
        if !self.closure_guarded && self.frames.is_empty() {
            let fr = self.emit(IrIns { op: IrOp::FUNC, ty: Ty::Boxed(tag::FUNC as u8), a: 0, b: 0, k: 0, snap: 0 })?;
            self.guard(pc, Cond::EqBits, fr, k)?;
            self.closure_guarded = true;
        }
        match u.state() {
            UpState::Open { thread, slot } if thread.addr() == self.thread && slot >= self.base => {
                let rel = slot - self.base;
                if rel >= MAX_SLOTS {
                    return Err(Abort::Nyi("upvalue slot out of range"));
                }
                let v = at_slot(slot).ok_or(Abort::Nyi("upvalue slot"))?;
                self.shared_guard(pc, IrOp::UOPEN, Ty::Void, k, 0, idx as u64 | (rel as u64) << 32)?;
                Ok(Up::Slot(rel, v))
            }
            UpState::Open { thread, slot } if thread.addr() == self.thread => {
                let v = at_slot(slot).ok_or(Abort::Nyi("upvalue slot"))?;
                let at = self.shared_guard(pc, IrOp::UREF, Ty::Ptr, k, 0, idx as u64)?;
                Ok(Up::Mem(at, v))
            }
            UpState::Open { .. } => Err(Abort::Nyi("upvalue of another coroutine")),
            UpState::Closed(v) => {
                let at = self.shared_guard(pc, IrOp::UREF, Ty::Ptr, k, 0, idx as u64)?;
                Ok(Up::Mem(at, v))
            }
        }
    }

    /// `upvalue[idx] = val`: guards, the barrier's guard for a GC value, the store.
    fn upval_store(&mut self, pc: usize, stack: (&[Value], &[Value]), idx: usize, val: IrRef) -> Result<(), Abort> {
        match self.upval(pc, stack, idx)? {
            Up::Slot(rel, _) => self.set_abs(rel, val),
            Up::Mem(at, _) => {
                if matches!(self.ty(val), Ty::Boxed(_)) {
                    let k = self.ins_at(at).a;
                    self.shared_guard(pc, IrOp::UBAR, Ty::Void, k, 0, idx as u64)?;
                }
                self.emit(IrIns { op: IrOp::XSTORE, ty: Ty::Void, a: at, b: val, k: 0, snap: 0 })?;
                Ok(())
            }
        }
    }

    /// The running closure's environment table (`GGET`, `GSET`).
    fn env(&mut self) -> Result<(IrRef, GcRef<Table>), Abort> {
        let Some(f) = self.func.as_lua_function() else { return Err(Abort::Nyi("globals without a closure")) };
        // An inlined callee's closure is a constant (its call guarded it).
        let func = if self.frames.is_empty() {
            self.emit(IrIns { op: IrOp::FUNC, ty: Ty::Boxed(tag::FUNC as u8), a: 0, b: 0, k: 0, snap: 0 })?
        } else {
            self.kvalue(self.func)?
        };
        let env = self.emit(IrIns { op: IrOp::FENV, ty: Ty::Boxed(tag::TABLE as u8), a: func, b: 0, k: 0, snap: 0 })?;
        Ok((env, f.env()))
    }

    fn ins_at(&self, r: IrRef) -> IrIns {
        self.ir.ins[usize::from(r)]
    }

    fn knum(&mut self, n: f64) -> Result<IrRef, Abort> {
        self.emit(IrIns { op: IrOp::KNUM, ty: Ty::Num, a: 0, b: 0, k: n.to_bits(), snap: 0 })
    }

    fn kpri(&mut self, ty: Ty) -> Result<IrRef, Abort> {
        self.emit(IrIns { op: IrOp::KPRI, ty, a: 0, b: 0, k: 0, snap: 0 })
    }

    /// A constant for a live value (a number, a primitive, or a boxed value the
    /// prototype keeps alive).
    fn kvalue(&mut self, v: Value) -> Result<IrRef, Abort> {
        match Ty::of(v) {
            Ty::Num => self.knum(v.num()),
            Ty::Boxed(t) => {
                let k = match self.ir.consts.iter().position(|&c| c == v) {
                    Some(k) => k,
                    None => {
                        self.ir.consts.push(v);
                        self.ir.consts.len() - 1
                    }
                };
                self.emit(IrIns { op: IrOp::KBOX, ty: Ty::Boxed(t), a: 0, b: 0, k: k as u64, snap: 0 })
            }
            ty => self.kpri(ty),
        }
    }

    /// The snapshot for the instruction at `pc`: taken before its first guard.
    fn snap(&mut self, pc: usize) -> Result<u16, Abort> {
        if let Some((p, s)) = self.snap_for {
            if p == pc {
                return Ok(s);
            }
        }
        if self.ir.snaps.len() >= self.max_snaps {
            return Err(Abort::TooManySnapshots);
        }
        let s = self.ir.snaps.len() as u16;
        let entries = self.entries();
        let frames = self.snap_frames();
        self.ir.snaps.push(Snapshot { pc: pc as u32, entries, top: self.snap_top, frames });
        self.snap_for = Some((pc, s));
        Ok(s)
    }

    /// The inlined frames, for a snapshot.
    fn snap_frames(&self) -> Vec<SnapFrame> {
        self.frames
            .iter()
            .map(|f| SnapFrame {
                func: (f.off - 1) as u16,
                ret_pc: f.ret_pc as u32,
                nresults: f.nresults,
                tail: f.tail,
            })
            .collect()
    }

    /// The slots written so far with their current values.
    fn entries(&self) -> Vec<SnapEntry> {
        let mut e: Vec<SnapEntry> =
            self.written.iter().map(|&slot| SnapEntry { slot, r: self.slots[usize::from(slot)] }).collect();
        e.sort_by_key(|e| e.slot);
        e
    }

    fn guard(&mut self, pc: usize, cond: Cond, a: IrRef, b: IrRef) -> Result<(), Abort> {
        // A guard on two constants holds (the recorder saw it hold): nothing to emit.
        let (x, y) = (self.ins_at(a), self.ins_at(b));
        if x.op.flags() & F_CONST != 0 && y.op.flags() & F_CONST != 0 {
            return Ok(());
        }
        let snap = self.snap(pc)?;
        self.emit(IrIns { op: IrOp::GUARD, ty: Ty::Void, a, b, k: cond.to_k(), snap })?;
        Ok(())
    }

    fn budget(&mut self, pc: usize) -> Result<(), Abort> {
        // Its own snapshot (a copy of the instruction's): a budget exit is no branch
        // to record a side trace for, and must not make the other guards' exit hot.
        let shared = self.snap(pc)?;
        if self.ir.snaps.len() >= self.max_snaps {
            return Err(Abort::TooManySnapshots);
        }
        let copy = self.ir.snaps[usize::from(shared)].clone();
        self.ir.snaps.push(copy);
        let snap = (self.ir.snaps.len() - 1) as u16;
        self.emit(IrIns { op: IrOp::BUDGET, ty: Ty::Void, a: 0, b: 0, k: 1, snap })?;
        Ok(())
    }

    /// The IR value of register `slot`, whose live value is `v` (loaded and
    /// type-guarded on first use).
    fn get(&mut self, pc: usize, slot: usize, v: Value) -> Result<IrRef, Abort> {
        self.get_abs(pc, slot + self.off(), v)
    }

    /// Register `slot` of the frame being recorded (an inlined callee's registers
    /// lie above its caller's), set to `r`.
    fn set(&mut self, slot: usize, r: IrRef) -> Result<(), Abort> {
        self.set_abs(slot + self.off(), r)
    }

    /// Where the registers of the frame being recorded start, relative to the
    /// trace's base.
    fn off(&self) -> usize {
        self.frames.last().map_or(0, |f| f.off)
    }

    /// The proto, base and frame depth the next recorded instruction must come from.
    pub fn expect(&self) -> (GcRef<Proto>, usize, usize) {
        match self.frames.last() {
            Some(f) => (f.proto, self.base + f.off, self.depth + self.frames.len()),
            None => (self.proto, self.base, self.depth),
        }
    }

    /// Slot `slot` (relative to the trace's base), whose live value is `v`.
    fn get_abs(&mut self, pc: usize, slot: usize, v: Value) -> Result<IrRef, Abort> {
        let Some(&r) = self.slots.get(slot) else { return Err(Abort::Nyi("slot out of range")) };
        if r != NO_REF {
            return Ok(r);
        }
        let ty = Ty::of(v);
        let snap = self.snap(pc)?;
        let r = self.emit(IrIns { op: IrOp::SLOAD, ty, a: 0, b: 0, k: slot as u64, snap })?;
        self.ir.nslots = self.ir.nslots.max(slot + 1);
        // A primitive's value is its type: after the guard it is a constant.
        let r = if ty.pri_bits().is_some() { self.kpri(ty)? } else { r };
        self.slots[slot] = r;
        Ok(r)
    }

    fn set_abs(&mut self, slot: usize, r: IrRef) -> Result<(), Abort> {
        let Some(s) = self.slots.get_mut(slot) else { return Err(Abort::Nyi("slot out of range")) };
        if *s == NO_REF || !self.written.contains(&(slot as u16)) {
            self.written.push(slot as u16);
        }
        *s = r;
        self.ir.nslots = self.ir.nslots.max(slot + 1);
        Ok(())
    }

    fn ty(&self, r: IrRef) -> Ty {
        self.ins_at(r).ty
    }

    /// A number operand: register `slot` must hold a number now.
    fn num(&mut self, pc: usize, slot: usize, v: Value) -> Result<IrRef, Abort> {
        if !v.is_number() {
            return Err(Abort::Nyi("arithmetic on a non-number"));
        }
        self.get(pc, slot, v)
    }

    fn arith(&mut self, op: Arith, a: IrRef, b: IrRef) -> Result<IrRef, Abort> {
        let (x, y) = (self.ins_at(a), self.ins_at(b));
        // Constant folding, with the interpreter's own arithmetic.
        if x.op == IrOp::KNUM && y.op == IrOp::KNUM {
            let v = op.apply_value(f64::from_bits(x.k), f64::from_bits(y.k));
            return self.knum(v.num());
        }
        let irop = match op {
            Arith::Add => IrOp::ADD,
            Arith::Sub => IrOp::SUB,
            Arith::Mul => IrOp::MUL,
            Arith::Div => IrOp::DIV,
            Arith::Mod => IrOp::MOD,
            Arith::Pow => IrOp::POW,
            Arith::Unm => IrOp::NEG,
        };
        // Exact identities only: x*1, x/1, x-0 (never x+0: -0 + 0 is +0).
        let one = |i: IrIns| i.op == IrOp::KNUM && f64::from_bits(i.k) == 1.0;
        let pzero = |i: IrIns| i.op == IrOp::KNUM && i.k == 0;
        match irop {
            IrOp::MUL | IrOp::DIV if one(y) => return Ok(a),
            IrOp::MUL if one(x) => return Ok(b),
            IrOp::SUB if pzero(y) => return Ok(a),
            IrOp::DIV if y.op == IrOp::KNUM => {
                // x / 2^k is exactly x * 2^-k (both round the same real number).
                if let Some(r) = pow2_reciprocal(f64::from_bits(y.k)) {
                    let k = self.knum(r)?;
                    return self.emit(IrIns { op: IrOp::MUL, ty: Ty::Num, a, b: k, k: 0, snap: 0 });
                }
            }
            _ => {}
        }
        let (a, b) = if irop == IrOp::NEG { (a, 0) } else { (a, b) };
        self.emit(IrIns { op: irop, ty: Ty::Num, a, b, k: 0, snap: 0 })
    }

    // ----- Recording ------------------------------------------------------------------

    /// Records instruction `pc` of the recorded frame, whose registers are `regs`,
    /// before the interpreter executes it.
    pub fn ins(&mut self, below: &[Value], regs: &[Value], pc: usize) -> Step {
        match self.record(below, regs, pc) {
            Ok(s) => s,
            Err(a) => Step::Abort(a),
        }
    }

    fn record(&mut self, below: &[Value], regs: &[Value], pc: usize) -> Result<Step, Abort> {
        self.last_pc = pc;
        let inlined = !self.frames.is_empty();
        if inlined {
            // Inside a callee: its own instructions, wherever they are.
        } else if self.side.is_some() {
            // A side trace ends where a loop's root trace starts (after at least one
            // instruction: it must make progress), and goes on in that trace.
            if self.count > 0 {
                if let Some(&(start, target)) = self.links.iter().find(|l| l.0 == pc) {
                    return self.close_link(start, target);
                }
            }
            // Coming round a third time without reaching a compiled loop: that is a
            // loop of its own (a root trace's job), not a side trace. (Twice is
            // fine: an inner loop's condition comes before its compiled body.)
            if self.visited.iter().filter(|&&v| v == pc).count() >= 2 {
                return Err(Abort::Nyi("side trace loops back"));
            }
            self.visited.push(pc);
        } else if pc < self.lo || pc > self.hi {
            return Err(Abort::LeaveLoop);
        }
        self.count += 1;
        if self.count > self.max_ins {
            return Err(Abort::TraceTooLong);
        }
        let proto = self.frames.last().map_or(self.proto, |f| f.proto);
        let Some(cell) = proto.code.get(pc) else { return Err(Abort::LeaveLoop) };
        let ins = cell.get();
        let reg = |i: usize| regs.get(i).copied().unwrap_or(Value::NIL);
        let kn = |i: usize| proto.kn.get(i).copied().unwrap_or(Value::NIL);
        let kg = |i: usize| proto.kgc.get(i).copied().unwrap_or(Value::NIL);
        let a = ins.a();
        let op_byte = ins.op_byte();
        let multres = self.multres.take();
        self.snap_top = None;
        // The jump after a comparison or test, and where it goes.
        let jump_target = |pc: usize| -> usize {
            let j = proto.code.get(pc + 1).map_or(0, |c| c.get().j());
            (pc as isize + 2 + j) as usize
        };
        match op_byte {
            opc::MOV => {
                let d = ins.rd();
                let r = self.get(pc, d, reg(d))?;
                self.set(a, r)?;
            }
            opc::KSHORT => {
                let r = self.knum(f64::from(ins.sd()))?;
                self.set(a, r)?;
            }
            opc::KNUM => {
                let r = self.kvalue(kn(ins.d()))?;
                self.set(a, r)?;
            }
            opc::KSTR => {
                let r = self.kvalue(kg(ins.d()))?;
                self.set(a, r)?;
            }
            opc::KPRI => {
                let ty = match ins.d() {
                    0 => Ty::Nil,
                    1 => Ty::False,
                    _ => Ty::True,
                };
                let r = self.kpri(ty)?;
                self.set(a, r)?;
            }
            opc::KNIL => {
                let r = self.kpri(Ty::Nil)?;
                for i in a..=ins.d() {
                    self.set(i, r)?;
                }
            }
            opc::NOT => {
                let d = ins.rd();
                let r = self.get(pc, d, reg(d))?;
                let ty = if self.ty(r).truthy() { Ty::False } else { Ty::True };
                let k = self.kpri(ty)?;
                self.set(a, k)?;
            }
            opc::UNM => {
                let d = ins.rd();
                let x = self.num(pc, d, reg(d))?;
                let r = self.arith(Arith::Unm, x, x)?;
                self.set(a, r)?;
            }
            opc::ADDVN..=opc::MODVN | opc::ADDNV..=opc::MODNV | opc::ADDVV..=opc::MODVV | opc::POW => {
                let (arith, kind) = match op_byte {
                    opc::ADDVN => (Arith::Add, 0),
                    opc::SUBVN => (Arith::Sub, 0),
                    opc::MULVN => (Arith::Mul, 0),
                    opc::DIVVN => (Arith::Div, 0),
                    opc::MODVN => (Arith::Mod, 0),
                    opc::ADDNV => (Arith::Add, 1),
                    opc::SUBNV => (Arith::Sub, 1),
                    opc::MULNV => (Arith::Mul, 1),
                    opc::DIVNV => (Arith::Div, 1),
                    opc::MODNV => (Arith::Mod, 1),
                    opc::ADDVV => (Arith::Add, 2),
                    opc::SUBVV => (Arith::Sub, 2),
                    opc::MULVV => (Arith::Mul, 2),
                    opc::DIVVV => (Arith::Div, 2),
                    opc::MODVV => (Arith::Mod, 2),
                    _ => (Arith::Pow, 2),
                };
                let (b, c) = (ins.b(), ins.c());
                let (x, y) = match kind {
                    0 => {
                        let k = kn(c);
                        (self.num(pc, b, reg(b))?, self.knum(k.num())?)
                    }
                    1 => {
                        let k = kn(c);
                        let v = self.num(pc, b, reg(b))?;
                        (self.knum(k.num())?, v)
                    }
                    _ => (self.num(pc, b, reg(b))?, self.num(pc, c, reg(c))?),
                };
                let r = self.arith(arith, x, y)?;
                self.set(a, r)?;
            }
            opc::ISLT | opc::ISGE | opc::ISLE | opc::ISGT => {
                let d = ins.rd();
                let (va, vd) = (reg(a), reg(d));
                if !va.is_number() || !vd.is_number() {
                    return Err(Abort::Nyi("comparison of non-numbers"));
                }
                let (x, y) = (self.get(pc, a, va)?, self.get(pc, d, vd)?);
                let (lt, negated) = match op_byte {
                    opc::ISLT => (true, false),
                    opc::ISGE => (true, true),
                    opc::ISLE => (false, false),
                    _ => (false, true),
                };
                let holds = if lt { va.num() < vd.num() } else { va.num() <= vd.num() };
                // The condition as observed; the jump is taken when it holds != negated.
                let cond = match (lt, holds) {
                    (true, true) => Cond::Lt,
                    (true, false) => Cond::NotLt,
                    (false, true) => Cond::Le,
                    (false, false) => Cond::NotLe,
                };
                self.guard(pc, cond, x, y)?;
                let _ = negated;
            }
            opc::ISEQV | opc::ISNEV | opc::ISEQS | opc::ISNES | opc::ISEQN | opc::ISNEN | opc::ISEQP | opc::ISNEP => {
                let va = reg(a);
                let (vd, from_reg) = match op_byte {
                    opc::ISEQV | opc::ISNEV => (reg(ins.rd()), true),
                    opc::ISEQS | opc::ISNES => (kg(ins.d()), false),
                    opc::ISEQN | opc::ISNEN => (kn(ins.d()), false),
                    _ => (
                        match ins.d() {
                            0 => Value::NIL,
                            1 => Value::FALSE,
                            _ => Value::TRUE,
                        },
                        false,
                    ),
                };
                // Equality runs a metamethod only for two unequal tables or two
                // unequal userdata, or with a cdata: not handled yet.
                let eq = crate::vm::Vm::raw_equal(va, vd);
                let (ta, td) = (Ty::of(va), Ty::of(vd));
                let mm_kind =
                    |t: Ty| matches!(t, Ty::Boxed(t) if u64::from(t) == tag::TABLE || u64::from(t) == tag::UDATA);
                if va.is_cdata() || vd.is_cdata() || (ta == td && mm_kind(ta) && !eq) {
                    return Err(Abort::Nyi("comparison that may call __eq"));
                }
                let x = self.get(pc, a, va)?;
                let y = if from_reg { self.get(pc, ins.rd(), vd)? } else { self.kvalue(vd)? };
                let (tx, ty) = (self.ty(x), self.ty(y));
                if tx != ty {
                    // Types differ (each guarded): never equal, nothing to emit.
                } else if tx == Ty::Num {
                    self.guard(pc, if eq { Cond::Eq } else { Cond::Ne }, x, y)?;
                } else if matches!(tx, Ty::Boxed(_)) {
                    self.guard(pc, if eq { Cond::EqBits } else { Cond::NeBits }, x, y)?;
                }
                // Same primitive type: equal by type alone.
            }
            opc::IST | opc::ISF | opc::ISTC | opc::ISFC => {
                // Truthiness follows from the (guarded) type: no guard needed.
                let d = ins.rd();
                let r = self.get(pc, d, reg(d))?;
                let t = self.ty(r).truthy();
                let jumps = match op_byte {
                    opc::IST | opc::ISTC => t,
                    _ => !t,
                };
                if jumps && matches!(op_byte, opc::ISTC | opc::ISFC) {
                    self.set(a, r)?;
                }
                let _ = jump_target(pc);
            }
            opc::TGETV | opc::TGETB => {
                let b = ins.b();
                let t = self.table(pc, b, reg(b))?;
                let var = (op_byte == opc::TGETV).then(|| (ins.c(), reg(ins.c())));
                let (at, v) = self.elem_ref(pc, t, var, ins.c())?;
                let r = self.index_load(pc, t, at, v)?;
                self.set(a, r)?;
            }
            opc::TGETS | opc::GGET => {
                let (t, key) = if op_byte == opc::TGETS {
                    let b = ins.b();
                    (self.table(pc, b, reg(b))?, kg(ins.c()))
                } else {
                    (self.env()?, kg(ins.d()))
                };
                let r = self.index_str(pc, t, key, op_byte == opc::TGETS)?;
                self.set(a, r)?;
            }
            opc::TSETV | opc::TSETB => {
                let b = ins.b();
                let t = self.table(pc, b, reg(b))?;
                let var = (op_byte == opc::TSETV).then(|| (ins.c(), reg(ins.c())));
                let (at, old) = self.elem_ref(pc, t, var, ins.c())?;
                let val = self.get(pc, a, reg(a))?;
                self.index_store(pc, t, at, old, val, false)?;
            }
            opc::TSETS | opc::GSET => {
                let (t, key, raw_nomm) = if op_byte == opc::TSETS {
                    let b = ins.b();
                    (self.table(pc, b, reg(b))?, kg(ins.c()), true)
                } else {
                    // A global store needs an environment without a metatable.
                    (self.env()?, kg(ins.d()), false)
                };
                // A store of a metamethod's name clears the table's `nomm` cache
                // in the interpreter; the trace leaves such stores to it.
                if key.as_string().is_some_and(|s| s.as_bytes().starts_with(b"__")) {
                    return Err(Abort::Nyi("store of a metamethod name"));
                }
                let (at, old) = self.hash_ref(pc, t, key)?;
                let val = self.get(pc, a, reg(a))?;
                if !raw_nomm && t.1.meta().is_some() {
                    return Err(Abort::Nyi("__newindex"));
                }
                self.index_store(pc, t, at, old, val, raw_nomm)?;
            }
            opc::CALL => {
                let fv = reg(a);
                if let Some(cl) = fv.as_lua_function() {
                    return self.inline_call(pc, a, ins, cl, regs);
                }
                let Some(nf) = fv.as_native_function() else { return Err(Abort::NyiBytecode(Op::CALL)) };
                let Some(&(_, op)) = self.builtins.iter().find(|b| b.0 == nf.f as usize) else {
                    return Err(Abort::NyiBuiltin(nf.name));
                };
                // B = 0: the arguments run to the top the previous call left (an
                // exit before this call restores that top for the interpreter).
                let nargs = match ins.b() {
                    0 => {
                        let top = multres.ok_or(Abort::Nyi("variable arguments"))?;
                        self.snap_top =
                            Some(u16::try_from(top + self.off()).map_err(|_| Abort::Nyi("slot out of range"))?);
                        top.checked_sub(a + 1).ok_or(Abort::Nyi("variable arguments"))?
                    }
                    b => b - 1,
                };
                if nargs == 0 {
                    return Err(Abort::Nyi("builtin without arguments"));
                }
                let args: Vec<Value> = (0..nargs).map(|i| reg(a + 1 + i)).collect();
                // `type` (registered as `KBOX`) takes any value; `string.len` a
                // string, `string.byte` a string and at most an index; the math ones
                // numbers.
                let args_ok = match op {
                    IrOp::KBOX => true,
                    IrOp::ALEN => args.len() == 1 && args[0].as_string().is_some(),
                    IrOp::SBYTE => {
                        args.len() <= 2 && args[0].as_string().is_some() && args.iter().skip(1).all(|v| v.is_number())
                    }
                    _ => args.iter().all(|v| v.is_number()),
                };
                if !args_ok {
                    return Err(Abort::NyiBuiltin(nf.name));
                }
                // The function value is that builtin.
                let f = self.get(pc, a, fv)?;
                let k = self.kvalue(fv)?;
                self.guard(pc, Cond::EqBits, f, k)?;
                let mut xs = Vec::with_capacity(nargs);
                for (i, v) in args.iter().enumerate() {
                    xs.push(self.get(pc, a + 1 + i, *v)?);
                }
                let first = xs.first().copied().ok_or(Abort::Nyi("builtin without arguments"))?;
                // A builtin that may exit (`SBYTE`) does so before the call's effects.
                let guarded = if op == IrOp::SBYTE {
                    // The trace follows what the call does now: one byte.
                    let idx = args.get(1).map_or(1.0, |v| v.num());
                    if crate::jit::helpers::byte_of(args[0], idx) < 0.0 {
                        return Err(Abort::NyiBuiltin(nf.name));
                    }
                    let i = match xs.get(1) {
                        Some(&i) => i,
                        None => self.knum(1.0)?,
                    };
                    let snap = self.snap(pc)?;
                    Some(self.emit(IrIns { op, ty: Ty::Num, a: first, b: i, k: 0, snap })?)
                } else {
                    None
                };
                // The call's budget unit, as the interpreter charges it.
                self.budget(pc)?;
                let r = match op {
                    IrOp::SBYTE => guarded.ok_or(Abort::Nyi("string.byte"))?,
                    // `type(x)`: x's type is guarded, so its name is a constant.
                    IrOp::KBOX => {
                        let v = args.first().copied().unwrap_or(Value::NIL);
                        let name = self.type_names.get(v.lua_type() as usize).copied();
                        self.kvalue(name.ok_or(Abort::Nyi("type name"))?)?
                    }
                    IrOp::ALEN => self.emit(IrIns { op, ty: Ty::Num, a: first, b: 0, k: 0, snap: 0 })?,
                    IrOp::MIN | IrOp::MAX => {
                        let mut r = first;
                        for &x in xs.iter().skip(1) {
                            r = self.emit(IrIns { op, ty: Ty::Num, a: r, b: x, k: 0, snap: 0 })?;
                        }
                        r
                    }
                    _ => self.emit(IrIns { op, ty: Ty::Num, a: first, b: 0, k: 0, snap: 0 })?,
                };
                match ins.c() {
                    // All results (one), for the next instruction to take.
                    0 => {
                        self.set(a, r)?;
                        self.multres = Some(a + 1);
                    }
                    c => {
                        if c >= 2 {
                            self.set(a, r)?;
                        }
                        let nil = self.kpri(Ty::Nil)?;
                        for i in 1..c.saturating_sub(1) {
                            self.set(a + i, nil)?;
                        }
                    }
                }
            }
            opc::CALLT if inlined => {
                // A tail call from an inlined callee: the called function takes its
                // frame (its function and arguments move down to the frame's
                // function slot), returning where the callee would have.
                let fv = reg(a);
                let Some(cl) = fv.as_lua_function() else { return Err(Abort::Nyi("tail call of a non-Lua function")) };
                let p = cl.proto;
                if p.is_vararg || ins.b() == 0 {
                    return Err(Abort::Nyi("tail call of a vararg function or with all arguments"));
                }
                if p == self.proto || self.frames.iter().any(|f| f.proto == p) {
                    return Err(Abort::Nyi("recursive call"));
                }
                let Some(&cur) = self.frames.last() else { return Err(Abort::FrameChanged) };
                if cur.off + usize::from(p.framesize) + 1 >= MAX_SLOTS {
                    return Err(Abort::Nyi("call frame beyond the trace's slots"));
                }
                let nargs = ins.b() - 1;
                let f = self.get(pc, a, fv)?;
                let k = self.kvalue(fv)?;
                self.guard(pc, Cond::EqBits, f, k)?;
                self.budget(pc)?;
                let vals = (0..=nargs).map(|i| self.get(pc, a + i, reg(a + i))).collect::<Result<Vec<_>, _>>()?;
                for (i, &v) in vals.iter().enumerate() {
                    self.set_abs(cur.off - 1 + i, v)?;
                }
                let nil = self.kpri(Ty::Nil)?;
                for i in nargs..usize::from(p.numparams) {
                    self.set_abs(cur.off + i, nil)?;
                }
                if let Some(fr) = self.frames.last_mut() {
                    *fr = InlineFrame { proto: p, tail: true, ..cur };
                }
            }
            opc::RET0 | opc::RET1 | opc::RET if inlined => {
                let n = match op_byte {
                    opc::RET0 => 0,
                    opc::RET1 => 1,
                    _ if ins.d() == 0 => return Err(Abort::Nyi("return of all results")),
                    _ => ins.d() - 1,
                };
                let vals = (0..n).map(|i| self.get(pc, a + i, reg(a + i))).collect::<Result<Vec<_>, _>>()?;
                let Some(f) = self.frames.pop() else { return Err(Abort::FrameChanged) };
                // The results go where the function was; the callee's other slots are
                // dead (the caller writes its temporaries before reading them).
                let dest = f.off - 1;
                let want = usize::try_from(f.nresults).unwrap_or(0);
                let nil = self.kpri(Ty::Nil)?;
                for i in 0..want {
                    self.set_abs(dest + i, vals.get(i).copied().unwrap_or(nil))?;
                }
                let dead = dest + want;
                self.written.retain(|&w| usize::from(w) < dead);
                for s in self.slots.iter_mut().skip(dead) {
                    *s = NO_REF;
                }
            }
            opc::LEN => {
                // Tables (whatever their metatable: Lua 5.1 has no `__len` for
                // them) and strings.
                let d = ins.rd();
                let v = reg(d);
                if v.as_table().is_none() && v.as_string().is_none() {
                    return Err(Abort::Nyi("length of a non-table"));
                }
                let x = self.get(pc, d, v)?;
                let r = self.emit(IrIns { op: IrOp::ALEN, ty: Ty::Num, a: x, b: 0, k: 0, snap: 0 })?;
                self.set(a, r)?;
            }
            opc::UGET => {
                let r = match self.upval(pc, (below, regs), ins.d())? {
                    Up::Slot(rel, v) => self.get_abs(pc, rel, v)?,
                    Up::Mem(at, v) => self.load(pc, at, v)?,
                };
                self.set(a, r)?;
            }
            opc::USETV | opc::USETS | opc::USETN | opc::USETP => {
                let val = match op_byte {
                    opc::USETV => self.get(pc, ins.rd(), reg(ins.rd()))?,
                    opc::USETS => self.kvalue(kg(ins.d()))?,
                    opc::USETN => self.kvalue(kn(ins.d()))?,
                    _ => self.kpri(match ins.d() {
                        0 => Ty::Nil,
                        1 => Ty::False,
                        _ => Ty::True,
                    })?,
                };
                self.upval_store(pc, (below, regs), a, val)?;
            }
            opc::JMP => {
                if ins.j() < 0 {
                    self.budget(pc)?;
                }
            }
            opc::FORL | opc::JFORL | opc::IFORL if !inlined && (pc == self.anchor_pc || self.side.is_some()) => {
                let (vi, vl, vs) = (reg(a), reg(a + 1), reg(a + 2));
                let (i, l, s) = (self.get(pc, a, vi)?, self.get(pc, a + 1, vl)?, self.get(pc, a + 2, vs)?);
                if ![i, l, s].iter().all(|&r| self.ty(r) == Ty::Num) {
                    return Err(Abort::Nyi("non-number for loop"));
                }
                let (idx, lim, step) = (vi.num() + vs.num(), vl.num(), vs.num());
                let up = step >= 0.0;
                let zero = self.knum(0.0)?;
                self.guard(pc, if up { Cond::Le } else { Cond::NotLe }, zero, s)?;
                let next = self.arith(Arith::Add, i, s)?;
                let go = if up { idx <= lim } else { idx >= lim };
                if self.side.is_none() && !go {
                    return Err(Abort::LeaveLoop);
                }
                // The observed direction, guarded: on (idx <= lim going up) or out.
                let (x, y) = if up { (next, l) } else { (l, next) };
                self.guard(pc, if go { Cond::Le } else { Cond::NotLe }, x, y)?;
                if go {
                    self.budget(pc)?;
                    self.set(a, next)?;
                    self.set(a + 3, next)?;
                } else {
                    self.set(a, next)?;
                }
                if self.side.is_none() {
                    return self.close();
                }
            }
            opc::LOOP | opc::JLOOP | opc::ILOOP if !inlined && (pc == self.anchor_pc || self.side.is_some()) => {
                self.budget(pc)?;
                if self.side.is_none() {
                    return self.close();
                }
            }
            opc::FORI if !inlined && self.side.is_some() => {
                // Only numbers (FORI would convert strings, or raise an error).
                let (vi, vl, vs) = (reg(a), reg(a + 1), reg(a + 2));
                if !(vi.is_number() && vl.is_number() && vs.is_number()) {
                    return Err(Abort::Nyi("non-number for loop"));
                }
                let (i, l, s) = (self.get(pc, a, vi)?, self.get(pc, a + 1, vl)?, self.get(pc, a + 2, vs)?);
                let (idx, lim, step) = (vi.num(), vl.num(), vs.num());
                let up = step >= 0.0;
                let zero = self.knum(0.0)?;
                self.guard(pc, if up { Cond::Le } else { Cond::NotLe }, zero, s)?;
                let go = if up { idx <= lim } else { idx >= lim };
                let (x, y) = if up { (i, l) } else { (l, i) };
                self.guard(pc, if go { Cond::Le } else { Cond::NotLe }, x, y)?;
                if go {
                    self.set(a + 3, i)?;
                }
            }
            opc::FORI | opc::FORL | opc::JFORL | opc::IFORL | opc::LOOP | opc::JLOOP | opc::ILOOP => {
                return Err(Abort::InnerLoop);
            }
            _ => {
                let op = Ins(u32::from(op_byte)).op().unwrap_or(Op::JMP);
                return Err(Abort::NyiBytecode(op));
            }
        }
        Ok(Step::Continue)
    }

    /// A call of Lua function `cl` from register `a`, inlined: the callee's
    /// identity is guarded, the call's budget unit charged, missing parameters set
    /// to nil; its instructions follow, in its own frame, until it returns.
    fn inline_call(
        &mut self,
        pc: usize,
        a: usize,
        ins: Ins,
        cl: GcRef<crate::object::LuaFunction>,
        regs: &[Value],
    ) -> Result<Step, Abort> {
        let p = cl.proto;
        if p.is_vararg {
            return Err(Abort::Nyi("call of a vararg function"));
        }
        if ins.b() == 0 || ins.c() == 0 {
            return Err(Abort::Nyi("call with all arguments or all results"));
        }
        if self.frames.len() >= MAX_INLINE {
            return Err(Abort::Nyi("calls nested too deeply"));
        }
        if p == self.proto || self.frames.iter().any(|f| f.proto == p) {
            return Err(Abort::Nyi("recursive call"));
        }
        let off = self.off() + a + 1;
        if off + usize::from(p.framesize) + 1 >= MAX_SLOTS {
            return Err(Abort::Nyi("call frame beyond the trace's slots"));
        }
        let fv = regs.get(a).copied().unwrap_or(Value::NIL);
        let f = self.get(pc, a, fv)?;
        let k = self.kvalue(fv)?;
        self.guard(pc, Cond::EqBits, f, k)?;
        self.budget(pc)?;
        let nargs = ins.b() - 1;
        let nil = self.kpri(Ty::Nil)?;
        for i in nargs..usize::from(p.numparams) {
            self.set(a + 1 + i, nil)?;
        }
        self.frames.push(InlineFrame { proto: p, off, ret_pc: pc + 1, nresults: ins.c() as i32 - 1, tail: false });
        Ok(Step::Continue)
    }

    /// Ends a side trace where trace `target`'s loop body starts (`start`): its last
    /// snapshot (every slot written) resumes there, and the engine runs `target`.
    fn close_link(&mut self, start: usize, target: u32) -> Result<Step, Abort> {
        if self.ir.snaps.len() >= self.max_snaps {
            return Err(Abort::TooManySnapshots);
        }
        let entries = self.entries();
        self.ir.loop_snap = self.ir.snaps.len();
        self.ir.snaps.push(Snapshot { pc: start as u32, entries, top: None, frames: Vec::new() });
        self.ir.link = true;
        self.link_target = target;
        Ok(Step::Done)
    }

    /// The trace a side trace goes on in.
    pub fn link_target(&self) -> u32 {
        self.link_target
    }

    /// Closes the loop: the back edge's snapshot (every slot written), resuming at
    /// the loop body's first instruction.
    fn close(&mut self) -> Result<Step, Abort> {
        if self.ir.snaps.len() >= self.max_snaps {
            return Err(Abort::TooManySnapshots);
        }
        let entries = self.entries();
        self.ir.loop_snap = self.ir.snaps.len();
        self.ir.snaps.push(Snapshot { pc: self.start_pc as u32, entries, top: None, frames: Vec::new() });
        if self.loop_opt {
            // A trace it cannot optimise stays as it is: correct, only slower.
            let saved = (self.ir.clone(), self.cse.clone());
            if self.optimise_loop().is_err() {
                (self.ir, self.cse) = saved;
            }
        }
        Ok(Step::Done)
    }

    /// Loop optimisation by copy-substitution (the idea of LuaJIT's `lj_opt_loop.c`):
    /// the recorded iteration becomes the pre-roll, and the body is emitted again
    /// after a `LOOP` with every slot load replaced by the slot's value at the end of
    /// the previous iteration. Through CSE, whatever does not depend on those values
    /// (invariant loads, arithmetic, guards) stays in the pre-roll; the values that
    /// change become `PHI`s and stay in registers across iterations.
    fn optimise_loop(&mut self) -> Result<(), Abort> {
        let pre_len = self.ir.ins.len();
        let Some(loop_entries) = self.ir.snaps.get(self.ir.loop_snap).map(|s| s.entries.clone()) else {
            return Err(Abort::Nyi("loop"));
        };
        let final_of = |slot: u16| loop_entries.iter().find(|e| e.slot == slot).map(|e| e.r);
        // subst[r]: the body's version of pre-roll value r.
        let mut subst: Vec<IrRef> = (0..pre_len as IrRef).collect();
        for (i, ins) in self.ir.ins.iter().enumerate() {
            if ins.op != IrOp::SLOAD {
                continue;
            }
            if let Some(f) = final_of(ins.k as u16) {
                // A slot whose type changes across the loop cannot be carried.
                if self.ins_at(f).ty != ins.ty {
                    return Err(Abort::Nyi("type-unstable loop"));
                }
                // A primitive's value is a constant of its type: nothing to carry.
                if ins.ty.pri_bits().is_none() {
                    subst[i] = f;
                }
            }
        }
        self.emit(IrIns { op: IrOp::LOOP, ty: Ty::Void, a: 0, b: 0, k: 0, snap: 0 })?;
        let loop_ref = self.ir.ins.len() - 1;
        // The pre-roll's loads read memory before its stores: after a store the
        // body reads again.
        let stores: Vec<IrRef> = self.ir.ins.iter().filter(|i| i.op == IrOp::XSTORE).map(|i| i.a).collect();
        for at in stores {
            self.forget_loads(at);
        }
        // Nor does a body load see the previous iteration's stores forwarded.
        self.stored.clear();
        // Body snapshots, by pre-roll snapshot.
        let mut body_snaps: HashMap<u16, u16> = HashMap::new();
        // Pre-roll values the body reuses (through CSE) in place of its own
        // instruction: they depend on the previous iteration, so they are carried
        // (a PHI updates them at the back edge), not computed once.
        let mut carried: Vec<IrRef> = Vec::new();
        for i in 0..pre_len {
            let ins = self.ir.ins[i];
            let sub = |r: IrRef| subst.get(usize::from(r)).copied().unwrap_or(r);
            match ins.op {
                IrOp::KNUM | IrOp::KPRI | IrOp::KBOX | IrOp::SLOAD | IrOp::LOOP | IrOp::PHI => continue,
                _ => {}
            }
            let (a, b) = (sub(ins.a), sub(ins.b));
            // A shared guard or load the body already has (in the pre-roll when its
            // operands are invariant: hoisted).
            let shared = ins.op.flags() & (F_CSEG | F_LOAD) != 0;
            if let Some(&r) = self.cse.get(&(ins.op, ins.ty, a, b, ins.k)).filter(|_| shared) {
                if usize::from(r) < loop_ref && usize::from(r) != i && self.ins_at(r).op.flags() & F_CONST == 0 {
                    carried.push(r);
                }
                subst[i] = r;
                continue;
            }
            let snap = if ins.is_guard() {
                if ins.op == IrOp::GUARD && a == ins.a && b == ins.b {
                    // A check on invariant values: done once, in the pre-roll.
                    continue;
                }
                match body_snaps.get(&ins.snap) {
                    Some(&s) => s,
                    None => {
                        let s = self.body_snapshot(ins.snap, &loop_entries, &subst)?;
                        body_snaps.insert(ins.snap, s);
                        s
                    }
                }
            } else {
                0
            };
            let r = if ins.op == IrOp::GUARD {
                // A guard on two constants after substitution: it holds in every
                // iteration, or fails in every one after the first (then the loop
                // has no body to optimise: the trace stays unoptimised).
                let (x, y) = (self.ins_at(a), self.ins_at(b));
                if x.op.flags() & F_CONST != 0 && y.op.flags() & F_CONST != 0 {
                    if self.const_guard_holds(ins.cond(), x, y) {
                        continue;
                    }
                    return Err(Abort::Nyi("guard fails in the loop body"));
                }
                self.emit(IrIns { a, b, snap, ..ins })?
            } else if matches!(
                ins.op,
                IrOp::ADD | IrOp::SUB | IrOp::MUL | IrOp::DIV | IrOp::MOD | IrOp::POW | IrOp::NEG
            ) {
                let arith = match ins.op {
                    IrOp::ADD => Arith::Add,
                    IrOp::SUB => Arith::Sub,
                    IrOp::MUL => Arith::Mul,
                    IrOp::DIV => Arith::Div,
                    IrOp::MOD => Arith::Mod,
                    IrOp::POW => Arith::Pow,
                    _ => Arith::Unm,
                };
                self.arith(arith, a, b)?
            } else {
                self.emit(IrIns { a, b, snap, ..ins })?
            };
            if usize::from(r) < loop_ref && usize::from(r) != i && self.ins_at(r).op.flags() & F_CONST == 0 {
                carried.push(r);
            }
            subst[i] = r;
        }
        // The loop-carried values: the slots' and the reused pre-roll values.
        let mut phis: Vec<(IrRef, IrRef)> = Vec::new();
        let lefts = loop_entries.iter().map(|e| e.r).chain(carried.iter().copied()).collect::<Vec<_>>();
        for left in lefts {
            let right = subst.get(usize::from(left)).copied().unwrap_or(left);
            if left == right || phis.contains(&(left, right)) {
                // Invariant, or already carried (a FORL's index is in two slots).
                continue;
            }
            let l = self.ins_at(left);
            if l.op.flags() & F_CONST != 0 || phis.iter().any(|p| p.0 == left) || l.ty != self.ins_at(right).ty {
                return Err(Abort::Nyi("loop-carried value"));
            }
            phis.push((left, right));
            self.emit(IrIns { op: IrOp::PHI, ty: l.ty, a: left, b: right, k: 0, snap: 0 })?;
        }
        self.ir.loop_at = Some(loop_ref);
        Ok(())
    }

    /// Whether a guard on two constants holds.
    fn const_guard_holds(&self, cond: Cond, x: IrIns, y: IrIns) -> bool {
        let bits = |i: IrIns| match i.op {
            IrOp::KNUM => i.k,
            IrOp::KBOX => self.ir.consts.get(i.k as usize).map_or(0, |v| v.to_bits()),
            _ => i.ty.pri_bits().unwrap_or(0),
        };
        let (bx, by) = (bits(x), bits(y));
        match cond {
            Cond::EqBits => bx == by,
            Cond::NeBits => bx != by,
            c => c.holds(f64::from_bits(bx), f64::from_bits(by)),
        }
    }

    /// The snapshot of a body guard whose pre-roll guard had snapshot `s`: every slot
    /// the loop writes, with the value it has at that point of a body iteration.
    fn body_snapshot(&mut self, s: u16, loop_entries: &[SnapEntry], subst: &[IrRef]) -> Result<u16, Abort> {
        let Some(pre) = self.ir.snaps.get(usize::from(s)).cloned() else { return Err(Abort::Nyi("snapshot")) };
        if self.ir.snaps.len() >= self.max_snaps {
            return Err(Abort::TooManySnapshots);
        }
        // Written earlier in this iteration: its body value (also a slot the
        // iteration's end no longer writes: a returned callee's register, which an
        // exit inside that callee still needs).
        let mut entries: Vec<SnapEntry> = pre
            .entries
            .iter()
            .map(|p| SnapEntry { slot: p.slot, r: subst.get(usize::from(p.r)).copied().unwrap_or(p.r) })
            .collect();
        // Not yet: still the value carried from the previous iteration.
        for e in loop_entries {
            if !pre.entries.iter().any(|p| p.slot == e.slot) {
                entries.push(*e);
            }
        }
        entries.sort_by_key(|e| e.slot);
        self.ir.snaps.push(Snapshot { pc: pre.pc, entries, top: pre.top, frames: pre.frames });
        Ok((self.ir.snaps.len() - 1) as u16)
    }
}

/// The instructions of the loop closed at `anchor`: from the body's start through
/// the `FORL`; for a `LOOP` (`while`, `repeat`), from the target of the backward
/// jump that closes it (a `while` loop's condition comes before the `LOOP`) to
/// the instruction before the loop's exit.
fn loop_range(proto: &Proto, start: usize, anchor: usize) -> (usize, usize) {
    let Some(ins) = proto.ins(anchor) else { return (start, anchor) };
    if ins.op() != Some(Op::LOOP) {
        return (start, anchor);
    }
    let exit = (anchor as isize + 1 + ins.j()).max(0) as usize;
    let mut top = anchor;
    for pc in anchor + 1..exit {
        let Some(j) = proto.ins(pc) else { break };
        if j.op() == Some(Op::JMP) && j.j() < 0 {
            let target = (pc as isize + 1 + j.j()).max(0) as usize;
            if target <= anchor {
                top = top.min(target);
            }
        }
    }
    (top, exit.saturating_sub(1).max(anchor))
}

/// `1 / c` when `c` is a power of two whose reciprocal is a normal number too: then
/// `x / c` and `x * (1 / c)` are the same for every `x` (each is the correctly
/// rounded value of the same real number).
pub fn pow2_reciprocal(c: f64) -> Option<f64> {
    if !c.is_normal() {
        return None;
    }
    let bits = c.to_bits();
    if bits & 0x000F_FFFF_FFFF_FFFF != 0 {
        return None;
    }
    let r = 1.0 / c;
    r.is_normal().then_some(r)
}
