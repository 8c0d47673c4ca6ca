//! The reference evaluator: runs a trace's IR directly, with the exact exit
//! protocol a backend implements. It is a test oracle (`-jeval`, the JIT-forced test
//! modes), never a fallback tier: the embedding API does not install it.

use crate::gc::GcRef;
use crate::jit::ir::{Cond, IrOp, TraceIr, Ty};
use crate::jit::{CompiledTrace, TraceBackend, TraceEnv};
use crate::object::func::{UpState, UpVal};
use crate::object::Table;
use crate::value::Value;
use crate::vm::meta::lua_mod;
use crate::vm::meta::pow;

/// The evaluator as a backend.
#[derive(Default)]
pub struct Evaluator;

impl TraceBackend for Evaluator {
    fn name(&self) -> &'static str {
        "eval"
    }
    fn compile(
        &mut self,
        ir: &TraceIr,
        opts: &crate::jit::CompileOptions,
        _link_to: Option<&dyn CompiledTrace>,
    ) -> Result<Box<dyn CompiledTrace>, String> {
        Ok(Box::new(EvalTrace { live: ir.live(), ir: ir.clone(), number: opts.number }))
    }
}

/// Where an address points: array slot `i` (`t[i + 1]`) or hash node `n`.
#[derive(Clone, Copy)]
enum Place {
    Arr(usize),
    Node(usize),
    /// A closed upvalue's value.
    Upval(GcRef<UpVal>),
    /// An open upvalue's stack slot (below the frame).
    Stack(usize),
    /// The slot of a key in the table (array part or node).
    Key(Value),
}

struct EvalTrace {
    ir: TraceIr,
    live: Vec<bool>,
    number: u32,
}

impl CompiledTrace for EvalTrace {
    fn run(&self, budget: &mut i64, stack: &mut [Value], base: usize, force: &[u8], env: TraceEnv) -> u32 {
        if env.func.as_lua_function().is_none() || stack.len() < base {
            return u32::MAX;
        }
        // The lower frames (open upvalues) and this frame's registers.
        let (lower, slots) = stack.split_at_mut(base);
        let ir = &self.ir;
        let mut vals = vec![Value::NIL; ir.ins.len()];
        // The addresses (`Ty::Ptr` values), as a table and a place in it.
        let mut refs: Vec<Option<(GcRef<Table>, Place)>> = vec![None; ir.ins.len()];
        let mut urefs: Vec<Option<Place>> = vec![None; ir.ins.len()];
        let table = |v: Value| v.as_table();
        let val = |vals: &[Value], r: u16| vals.get(usize::from(r)).copied().unwrap_or(Value::NIL);
        // With a LOOP, the body after it repeats; without, the whole trace does.
        let mut from = 0;
        loop {
            for (i, ins) in ir.ins.iter().enumerate().skip(from) {
                if !self.live.get(i).copied().unwrap_or(true) {
                    continue;
                }
                let snap = u32::from(ins.snap);
                if ins.is_guard() && force.get(usize::from(ins.snap)).is_some_and(|&f| f != 0) {
                    return self.exit(snap, &vals, slots);
                }
                let (x, y) = (val(&vals, ins.a), val(&vals, ins.b));
                let (a, b) = (x.num(), y.num());
                let v: Value = match ins.op {
                    IrOp::KNUM => Value::number(f64::from_bits(ins.k)),
                    IrOp::KBOX => ir.consts.get(ins.k as usize).copied().unwrap_or(Value::NIL),
                    IrOp::KPRI => match ins.ty {
                        Ty::False => Value::FALSE,
                        Ty::True => Value::TRUE,
                        _ => Value::NIL,
                    },
                    IrOp::SLOAD => {
                        let v = slots.get(ins.k as usize).copied().unwrap_or(Value::NIL);
                        if Ty::of(v) != ins.ty {
                            return self.exit(snap, &vals, slots);
                        }
                        v
                    }
                    IrOp::GUARD => {
                        let ok = match ins.cond() {
                            Cond::EqBits => x == y,
                            Cond::NeBits => x != y,
                            c => c.holds(a, b),
                        };
                        if !ok {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::NIL
                    }
                    IrOp::BUDGET => {
                        if *budget < ins.k as i64 {
                            return self.exit(snap, &vals, slots);
                        }
                        *budget -= ins.k as i64;
                        Value::NIL
                    }
                    IrOp::ADD => Value::number(a + b),
                    IrOp::SUB => Value::number(a - b),
                    IrOp::MUL => Value::number(a * b),
                    IrOp::DIV => Value::number(a / b),
                    IrOp::MOD => Value::number(lua_mod(a, b)),
                    IrOp::POW => Value::number(pow(a, b)),
                    IrOp::NEG => Value::number(-a),
                    IrOp::ALEN => Value::number(crate::jit::helpers::len_of(x)),
                    IrOp::SBYTE => {
                        let c = crate::jit::helpers::byte_of(x, b);
                        if c < 0.0 {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::number(c)
                    }
                    IrOp::SQRT => Value::number(a.sqrt()),
                    IrOp::ABS => Value::number(a.abs()),
                    IrOp::FLOOR => Value::number(a.floor()),
                    IrOp::CEIL => Value::number(a.ceil()),
                    IrOp::MIN => Value::number(if a < b { a } else { b }),
                    IrOp::MAX => Value::number(if a > b { a } else { b }),
                    IrOp::LOOP | IrOp::PHI => Value::NIL,
                    IrOp::FUNC => env.func,
                    IrOp::FENV => match x.as_lua_function() {
                        Some(f) => f.env().to_value(),
                        None => return self.exit(snap, &vals, slots),
                    },
                    IrOp::TMETA => {
                        let ok = table(x).is_some_and(|t| match t.meta() {
                            None => true,
                            Some(mt) => ins.k != 0 && u64::from(mt.nomm()) & ins.k == ins.k,
                        });
                        if !ok {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::NIL
                    }
                    IrOp::TBAR => {
                        if table(x).is_none_or(|t| env.marking && t.is_black()) {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::NIL
                    }
                    IrOp::AREF => {
                        let at = table(x).and_then(|t| {
                            let i = crate::object::table::exact_i32(b)?;
                            let i = usize::try_from(i).ok()?.checked_sub(1)?;
                            t.arr_get(i).map(|_| (t, Place::Arr(i)))
                        });
                        let Some(at) = at else { return self.exit(snap, &vals, slots) };
                        if let Some(r) = refs.get_mut(i) {
                            *r = Some(at);
                        }
                        Value::NIL
                    }
                    IrOp::HREFK => {
                        let at = table(x).and_then(|t| {
                            let n = ins.k as usize;
                            let (key, _) = t.node_at(n)?;
                            (key == y).then_some((t, Place::Node(n)))
                        });
                        let Some(at) = at else { return self.exit(snap, &vals, slots) };
                        if let Some(r) = refs.get_mut(i) {
                            *r = Some(at);
                        }
                        Value::NIL
                    }
                    IrOp::UREF => {
                        let u = x.as_lua_function().and_then(|f| f.upval(ins.k as usize));
                        let at = match u.map(|u| (u, u.state())) {
                            Some((u, UpState::Closed(_))) => Some(Place::Upval(u)),
                            Some((_, UpState::Open { thread, slot })) if thread.addr() == env.thread && slot < base => {
                                Some(Place::Stack(slot))
                            }
                            _ => None,
                        };
                        let Some(at) = at else { return self.exit(snap, &vals, slots) };
                        if let Some(r) = urefs.get_mut(i) {
                            *r = Some(at);
                        }
                        Value::NIL
                    }
                    IrOp::UOPEN => {
                        let u = x.as_lua_function().and_then(|f| f.upval((ins.k & 0xFFFF_FFFF) as usize));
                        let want = base + (ins.k >> 32) as usize;
                        let ok = u.is_some_and(|u| {
                            matches!(u.state(), UpState::Open { thread, slot } if thread.addr() == env.thread && slot == want)
                        });
                        if !ok {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::NIL
                    }
                    IrOp::UBAR => {
                        let u = x.as_lua_function().and_then(|f| f.upval(ins.k as usize));
                        let needs =
                            u.is_none_or(|u| matches!(u.state(), UpState::Closed(_)) && env.marking && u.is_black());
                        if needs {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::NIL
                    }
                    IrOp::HNIL => {
                        if !crate::jit::helpers::rawget_of(x, y).is_nil() {
                            return self.exit(snap, &vals, slots);
                        }
                        Value::NIL
                    }
                    IrOp::TMT => match table(x).and_then(|t| t.meta()) {
                        Some(mt) => mt.to_value(),
                        None => return self.exit(snap, &vals, slots),
                    },
                    IrOp::HREF => {
                        let at = table(x).filter(|t| t.slot_addr(y).is_some()).map(|t| (t, Place::Key(y)));
                        let Some(at) = at else { return self.exit(snap, &vals, slots) };
                        if let Some(r) = refs.get_mut(i) {
                            *r = Some(at);
                        }
                        Value::NIL
                    }
                    IrOp::XLOAD | IrOp::XNNIL => {
                        let v = match (
                            refs.get(usize::from(ins.a)).copied().flatten(),
                            urefs.get(usize::from(ins.a)).copied().flatten(),
                        ) {
                            (Some((t, Place::Arr(i))), _) => t.arr_get(i),
                            (Some((t, Place::Node(n))), _) => t.node_at(n).map(|(_, v)| v),
                            (Some((t, Place::Key(k))), _) => Some(t.get(k)),
                            (_, Some(Place::Upval(u))) => match u.state() {
                                UpState::Closed(v) => Some(v),
                                UpState::Open { .. } => None,
                            },
                            (_, Some(Place::Stack(s))) => lower.get(s).copied(),
                            _ => None,
                        };
                        let ok = match ins.op {
                            IrOp::XLOAD => v.is_some_and(|v| Ty::of(v) == ins.ty),
                            _ => v.is_some_and(|v| !v.is_nil()),
                        };
                        if !ok {
                            return self.exit(snap, &vals, slots);
                        }
                        v.unwrap_or(Value::NIL)
                    }
                    IrOp::XSTORE => {
                        match (
                            refs.get(usize::from(ins.a)).copied().flatten(),
                            urefs.get(usize::from(ins.a)).copied().flatten(),
                        ) {
                            (Some((t, Place::Arr(i))), _) => {
                                t.arr_set(i, y);
                            }
                            (Some((t, Place::Node(n))), _) => {
                                t.set_node_val(n, y);
                            }
                            (Some((t, Place::Key(k))), _) => {
                                t.set_existing(k, y);
                            }
                            (_, Some(Place::Upval(u))) => u.set_closed(y),
                            (_, Some(Place::Stack(s))) => {
                                if let Some(d) = lower.get_mut(s) {
                                    *d = y;
                                }
                            }
                            _ => {}
                        }
                        Value::NIL
                    }
                };
                if let Some(slot) = vals.get_mut(i) {
                    *slot = v;
                }
            }
            match ir.loop_at {
                // The back edge: every PHI's left takes its right, all at once.
                Some(l) => {
                    let moves: Vec<(usize, Value)> = ir
                        .ins
                        .iter()
                        .filter(|i| i.op == IrOp::PHI)
                        .map(|i| (usize::from(i.a), val(&vals, i.b)))
                        .collect();
                    for (d, v) in moves {
                        if let Some(x) = vals.get_mut(d) {
                            *x = v;
                        }
                    }
                    from = l + 1;
                }
                // A side trace's end: out by the loop snapshot.
                None if ir.link => return self.exit(ir.loop_snap as u32, &vals, slots),
                // The back edge: the loop snapshot's slots, then the next iteration.
                None => self.write(ir.loop_snap, &vals, slots),
            }
        }
    }

    fn code_size(&self) -> usize {
        0
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl EvalTrace {
    fn write(&self, s: usize, vals: &[Value], slots: &mut [Value]) {
        let Some(snap) = self.ir.snaps.get(s) else { return };
        for e in &snap.entries {
            let v = vals.get(usize::from(e.r)).copied().unwrap_or(Value::NIL);
            if let Some(slot) = slots.get_mut(usize::from(e.slot)) {
                *slot = v;
            }
        }
    }

    fn exit(&self, s: u32, vals: &[Value], slots: &mut [Value]) -> u32 {
        self.write(s as usize, vals, slots);
        crate::jit::exit_code(self.number, s)
    }
}
