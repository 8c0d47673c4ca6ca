//! The dispatch loop.
//!
//! `run` executes Lua frames until the invocation's boundary frame returns or the
//! coroutine yields. The running frame's base, pc, constants and code are kept in
//! locals; whenever the frame changes (call, return, metamethod continuation) the
//! loop reloads them from the top frame (`continue 'frame`). Every slow path saves the
//! pc into the frame first, so errors, tracebacks and continuations see where the
//! frame is.

use std::cell::Cell;

use crate::bytecode::{opc, undefined_opcodes, Ins};
use crate::gc::{GcRef, LuaString};
use crate::object::table::SetError;
use crate::object::{LuaFunction, Proto, Table, UpState, UpVal};
use crate::value::Value;
use crate::vm::call::{CallOutcome, ExecEnd};
use crate::vm::hook::{MASK_CALL, MASK_INS, MASK_REC, MASK_RET, MASK_SLOW};
use crate::vm::meta::{Arith, ArithFail, IndexStep, MetaEvent, SetStep};
use crate::vm::{window, Cont, Frame, FrameFn, LResult, Vm, EXTRA_STACK, MAX_FRAMES, REG_WINDOW};

/// Hot counter start value (LuaJIT's default hotloop is 56).
pub const HOT_LOOP: u16 = 56;

impl Vm {
    /// Executes until the boundary frame returns or the coroutine yields.
    ///
    /// The dispatch loop exists twice: without count/line hooks (`run_loop::<false>`,
    /// which never looks at them per instruction) and with them. Either copy returns
    /// `None` when it finds the hook mask changed, with the top frame's pc saved, and
    /// the other one takes over from there. Hooks change only in native code (a
    /// `debug.sethook`, or a hook function's), after which a loop always looks.
    pub(crate) fn run(&mut self) -> LResult<ExecEnd> {
        loop {
            let end =
                if self.hooks.mask & MASK_SLOW != 0 { self.run_loop::<true>()? } else { self.run_loop::<false>()? };
            if let Some(end) = end {
                return Ok(end);
            }
        }
    }

    // The opcode match lists the undefined bytes one by one (see `undefined_opcodes`);
    // `r!(i)` is a register access, not a plain index.
    #[allow(clippy::manual_range_patterns, clippy::needless_range_loop)]
    fn run_loop<const HOOKED: bool>(&mut self) -> LResult<Option<ExecEnd>> {
        // The hook mask is checked where the frame changes and after native calls.
        macro_rules! check_hooks {
            () => {
                if (self.hooks.mask & MASK_SLOW != 0) != HOOKED {
                    return Ok(None);
                }
            };
        }
        // The frame a fast call or return switches to, handed over in registers:
        // read back from the frame record just written, it would put a chain of
        // store-to-load forwards (the frame count, then the record) in front of the
        // new frame's first instruction.
        let mut next: Option<(usize, usize, GcRef<LuaFunction>, GcRef<Proto>)> = None;
        'frame: loop {
            let (base, mut pc, cl, proto) = match next.take() {
                Some(n) => n,
                None => {
                    check_hooks!();
                    let Some(fr) = self.frames.last() else {
                        return Ok(Some(ExecEnd::Returned));
                    };
                    let FrameFn::Lua(cl, proto) = fr.fun else {
                        // Only a pending `coroutine.yield` leaves a native frame on top.
                        return Ok(Some(ExecEnd::Yielded));
                    };
                    (fr.base, fr.pc, cl, proto)
                }
            };
            let code: &[Cell<Ins>] = &proto.code;
            // Number constants and GC constants (strings, templates) are two arrays,
            // read through `proto` at each use rather than hoisted: two more live
            // slices cost the dispatch loop registers (measured: fib 25% slower).
            macro_rules! kn {
                ($i:expr) => {
                    proto.kn[$i]
                };
            }
            macro_rules! kg {
                ($i:expr) => {
                    proto.kgc[$i]
                };
            }

            // The running frame is always the top one.
            macro_rules! save_at {
                ($pc:expr) => {
                    if let Some(f) = self.frames.last_mut() {
                        f.pc = $pc;
                    }
                };
            }
            macro_rules! save {
                () => {
                    save_at!(pc)
                };
            }
            // The frame's registers as a fixed-size window of the stack held in a
            // local (`vm::window`): an 8-bit register operand (plus the three slots
            // above it that the `for` loops use) is always inside it, so register
            // accesses compile without bounds checks and without reloading the
            // stack's pointer from the state. Anything that may move the stack (a
            // call, a metamethod, a library helper) needs `&mut self`, so the borrow
            // checker makes every such path re-take the window with `refresh!()`
            // before the registers are used again.
            let mut regs: &mut [Value; REG_WINDOW] = window(&mut self.stack, base);
            macro_rules! r {
                ($x:expr) => {
                    regs[$x]
                };
            }
            macro_rules! refresh {
                () => {
                    regs = window(&mut self.stack, base)
                };
            }
            // The interpreter's collection point (the heap's rule 3, `gc` module
            // docs): a collector step if one is due, finalizers, the memory limit.
            // Between instructions the loop holds nothing but the running frame's
            // closure, prototype and code (the frame stack roots them) and register
            // values (stack slots).
            // Stores into upvalue `i` of the running closure.
            macro_rules! upval_set {
                ($i:expr, $v:expr) => {{
                    let v = $v;
                    match cl.upval($i) {
                        Some(u) => self.upval_set(u, v),
                        None => {
                            save!();
                            return Err(self.upvalue_range_error());
                        }
                    }
                }};
            }
            macro_rules! gc_check {
                () => {{
                    save!();
                    // SAFETY: as said above: only frame data is held across it.
                    unsafe { self.gc_check() }?;
                    refresh!();
                }};
            }
            macro_rules! jump_if {
                ($cond:expr) => {{
                    let c = $cond;
                    let j = code[pc].get();
                    if c {
                        pc = (pc as isize + 1 + j.j()) as usize;
                    } else {
                        pc += 1;
                    }
                }};
            }
            // Calls a metamethod with a continuation, then reloads the frame.
            macro_rules! meta_call {
                ($h:expr, [$($arg:expr),*], $cont:expr) => {{
                    std::hint::cold_path();
                    save!();
                    self.meta_call($h, &[$($arg),*], $cont)?;
                    continue 'frame;
                }};
            }
            // The table arms' slow paths: `obj[key]` into register A, and
            // `obj[key] = v`, through the out-of-line fallbacks (which may push a
            // metamethod frame, run next).
            macro_rules! index_slow {
                ($a:expr, $obj:expr, $key:expr, $b:expr) => {{
                    save!();
                    match self.index_fallback($obj, $key, $a, $b)? {
                        Some(v) => {
                            refresh!();
                            r!($a) = v;
                        }
                        None => continue 'frame,
                    }
                }};
            }
            macro_rules! newindex_slow {
                ($obj:expr, $key:expr, $v:expr, $b:expr) => {{
                    save!();
                    if self.newindex_fallback($obj, $key, $v, $b)? {
                        continue 'frame;
                    }
                    refresh!();
                }};
            }
            macro_rules! arith {
                ($op:expr, $a:expr, $x:expr, $y:expr, $rb:expr, $rc:expr) => {{
                    let (x, y): (Value, Value) = ($x, $y);
                    if x.is_number() && y.is_number() {
                        r!($a) = $op.apply_value(x.num(), y.num());
                    } else {
                        save!();
                        match self.arith_fallback($op, $a, x, y, $rb, $rc)? {
                            Some(v) => {
                                refresh!();
                                r!($a) = v;
                            }
                            None => continue 'frame,
                        }
                    }
                }};
            }

            // `x == k` for a constant `k`: raw equality, except that a cdata
            // compares through the FFI's `__eq` (`p == nil`, `x == 0`), which only
            // an unequal cdata reaches, out of line.
            macro_rules! eq_const {
                ($x:expr, $k:expr, $neg:expr) => {{
                    let (x, k): (Value, Value) = ($x, $k);
                    let eq = Vm::raw_equal(x, k);
                    if !eq && x.is_cdata() {
                        std::hint::cold_path();
                        save!();
                        self.eq_cdata_fallback(x, k, $neg)?;
                        continue 'frame;
                    }
                    jump_if!(eq != $neg);
                }};
            }

            // One unit of the instruction budget, charged at every loop back edge and
            // call (the trace recorder charges at the same instructions).
            macro_rules! budget_tick {
                () => {{
                    self.budget -= 1;
                    if self.budget < 0 {
                        save!();
                        self.budget_exhausted()?;
                        refresh!();
                    }
                }};
            }
            // FORL's work: step the index; if the loop goes on, jump back to the body,
            // charge the budget and run `$then` with `$anchor` the FORL's own pc.
            macro_rules! forl {
                ($a:expr, $ins:expr, $anchor:ident => $then:block) => {{
                    let (a, ins): (usize, Ins) = ($a, $ins);
                    let $anchor = pc - 1;
                    let step = r!(a + 2).num();
                    let idx = r!(a).num() + step;
                    let lim = r!(a + 1).num();
                    r!(a) = Value::number(idx);
                    let go = if step >= 0.0 { idx <= lim } else { idx >= lim };
                    if go {
                        r!(a + 3) = Value::number(idx);
                        pc = (pc as isize + ins.j()) as usize;
                        budget_tick!();
                        $then
                    }
                }};
            }

            loop {
                // The fetch keeps its bounds test: a predicted branch, where a
                // branchless select put a compare on every dispatch's path from pc
                // to instruction (measured slower on wall clock). The match below
                // lists all 256 opcode bytes, so the jump table needs no range test.
                // Verified code never runs off its end (`dump::verify` requires a
                // last instruction that does not fall through).
                let Some(ins) = code.get(pc).map(Cell::get) else {
                    std::hint::cold_path();
                    return Err(self.rt_error("internal error: pc out of range"));
                };
                if HOOKED {
                    // The trace recorder (jit module) sees the instruction first.
                    if self.hooks.mask & MASK_REC != 0 {
                        // Handlers of `jit.attach` may run: the frame is at this instruction.
                        save_at!(pc + 1);
                        self.jit_record(proto, pc, base)?;
                        refresh!();
                    }
                    // Count / line hooks (hook.rs): the frame reports this instruction.
                    if self.hooks.mask & MASK_INS != 0 {
                        save_at!(pc + 1);
                        self.hook_ins(proto, pc)?;
                        refresh!();
                    }
                    if self.hooks.mask & MASK_SLOW == 0 {
                        // The hook function turned them off, or recording ended: the
                        // other loop runs this instruction.
                        save!();
                        return Ok(None);
                    }
                }
                pc += 1;
                let a = ins.a();
                let op = ins.op_byte();
                match op {
                    // ----- Comparisons -------------------------------------------------
                    opc::ISLT | opc::ISGE => {
                        let (x, y) = (r!(a), r!(ins.rd()));
                        let neg = op == opc::ISGE;
                        if x.is_number() && y.is_number() {
                            jump_if!((x.num() < y.num()) != neg);
                        } else if let Some(c) = Vm::compare_basic(x, y, false) {
                            jump_if!(c != neg);
                        } else {
                            std::hint::cold_path();
                            save!();
                            let h = self.compare_handler(x, y, MetaEvent::Lt);
                            if h.is_nil() {
                                return Err(self.compare_error(x, y));
                            }
                            meta_call!(h, [x, y], Cont::Cond { negate: neg });
                        }
                    }
                    opc::ISLE | opc::ISGT => {
                        let (x, y) = (r!(a), r!(ins.rd()));
                        let neg = op == opc::ISGT;
                        if x.is_number() && y.is_number() {
                            jump_if!((x.num() <= y.num()) != neg);
                        } else if let Some(c) = Vm::compare_basic(x, y, true) {
                            jump_if!(c != neg);
                        } else {
                            std::hint::cold_path();
                            save!();
                            let h = self.compare_handler(x, y, MetaEvent::Le);
                            if !h.is_nil() {
                                meta_call!(h, [x, y], Cont::Cond { negate: neg });
                            }
                            // a <= b  ==  not (b < a)
                            let h = self.compare_handler(y, x, MetaEvent::Lt);
                            if h.is_nil() {
                                return Err(self.compare_error(x, y));
                            }
                            meta_call!(h, [y, x], Cont::Cond { negate: !neg });
                        }
                    }
                    opc::ISEQV | opc::ISNEV => {
                        let (x, y) = (r!(a), r!(ins.rd()));
                        let neg = op == opc::ISNEV;
                        if Vm::raw_equal(x, y) {
                            jump_if!(!neg);
                        } else {
                            let h = self.eq_handler(x, y);
                            refresh!();
                            if h.is_nil() {
                                jump_if!(neg);
                            } else {
                                meta_call!(h, [x, y], Cont::Cond { negate: neg });
                            }
                        }
                    }
                    opc::ISEQS => eq_const!(r!(a), kg!(ins.d()), false),
                    opc::ISNES => eq_const!(r!(a), kg!(ins.d()), true),
                    opc::ISEQN => eq_const!(r!(a), kn!(ins.d()), false),
                    opc::ISNEN => eq_const!(r!(a), kn!(ins.d()), true),
                    opc::ISEQP => eq_const!(r!(a), pri(ins.d()), false),
                    opc::ISNEP => eq_const!(r!(a), pri(ins.d()), true),
                    opc::ISTC => {
                        let v = r!(ins.rd());
                        if v.truthy() {
                            r!(a) = v;
                            jump_if!(true);
                        } else {
                            pc += 1;
                        }
                    }
                    opc::ISFC => {
                        let v = r!(ins.rd());
                        if v.is_falsy() {
                            r!(a) = v;
                            jump_if!(true);
                        } else {
                            pc += 1;
                        }
                    }
                    opc::IST => jump_if!(r!(ins.rd()).truthy()),
                    opc::ISF => jump_if!(r!(ins.rd()).is_falsy()),

                    // ----- Unary ----------------------------------------------------------
                    opc::MOV => r!(a) = r!(ins.rd()),
                    opc::NOT => r!(a) = Value::boolean(r!(ins.rd()).is_falsy()),
                    opc::UNM => {
                        let d = ins.rd();
                        arith!(Arith::Unm, a, r!(d), r!(d), Some(d), Some(d))
                    }
                    opc::LEN => {
                        let v = r!(ins.rd());
                        if let Some(n) = Vm::len_basic(v) {
                            r!(a) = Value::number(n);
                        } else {
                            save!();
                            let h = self.metamethod(v, MetaEvent::Len);
                            if h.is_nil() {
                                return Err(self.op_error(v, Some(ins.rd()), "get length of"));
                            }
                            meta_call!(h, [v, Value::NIL], Cont::Store(a as u8));
                        }
                    }

                    // ----- Arithmetic -------------------------------------------------------
                    opc::ADDVN => arith!(Arith::Add, a, r!(ins.b()), kn!(ins.c()), Some(ins.b()), None),
                    opc::SUBVN => arith!(Arith::Sub, a, r!(ins.b()), kn!(ins.c()), Some(ins.b()), None),
                    opc::MULVN => arith!(Arith::Mul, a, r!(ins.b()), kn!(ins.c()), Some(ins.b()), None),
                    opc::DIVVN => arith!(Arith::Div, a, r!(ins.b()), kn!(ins.c()), Some(ins.b()), None),
                    opc::MODVN => arith!(Arith::Mod, a, r!(ins.b()), kn!(ins.c()), Some(ins.b()), None),
                    opc::ADDNV => arith!(Arith::Add, a, kn!(ins.c()), r!(ins.b()), None, Some(ins.b())),
                    opc::SUBNV => arith!(Arith::Sub, a, kn!(ins.c()), r!(ins.b()), None, Some(ins.b())),
                    opc::MULNV => arith!(Arith::Mul, a, kn!(ins.c()), r!(ins.b()), None, Some(ins.b())),
                    opc::DIVNV => arith!(Arith::Div, a, kn!(ins.c()), r!(ins.b()), None, Some(ins.b())),
                    opc::MODNV => arith!(Arith::Mod, a, kn!(ins.c()), r!(ins.b()), None, Some(ins.b())),
                    opc::ADDVV => arith!(Arith::Add, a, r!(ins.b()), r!(ins.c()), Some(ins.b()), Some(ins.c())),
                    opc::SUBVV => arith!(Arith::Sub, a, r!(ins.b()), r!(ins.c()), Some(ins.b()), Some(ins.c())),
                    opc::MULVV => arith!(Arith::Mul, a, r!(ins.b()), r!(ins.c()), Some(ins.b()), Some(ins.c())),
                    opc::DIVVV => arith!(Arith::Div, a, r!(ins.b()), r!(ins.c()), Some(ins.b()), Some(ins.c())),
                    opc::MODVV => arith!(Arith::Mod, a, r!(ins.b()), r!(ins.c()), Some(ins.b()), Some(ins.c())),
                    opc::POW => arith!(Arith::Pow, a, r!(ins.b()), r!(ins.c()), Some(ins.b()), Some(ins.c())),
                    opc::CAT => {
                        save!();
                        let depth = self.frames.len();
                        if self.cat_run(a, ins.b(), ins.c())? {
                            continue 'frame;
                        }
                        // A native `__concat` may have resumed the frame elsewhere.
                        if self.frames.len() != depth {
                            continue 'frame;
                        }
                        gc_check!();
                    }

                    // ----- Constants ------------------------------------------------------
                    opc::KSTR | opc::KCDATA => r!(a) = kg!(ins.d()),
                    opc::KNUM => r!(a) = kn!(ins.d()),
                    opc::KSHORT => r!(a) = Value::number(ins.sd() as f64),
                    opc::KPRI => r!(a) = pri(ins.d()),
                    opc::KNIL => {
                        for i in a..=ins.d() {
                            r!(i) = Value::NIL;
                        }
                    }

                    // ----- Upvalues and closures --------------------------------------------
                    opc::UGET => {
                        let Some(u) = cl.upval(ins.d()) else {
                            save!();
                            return Err(self.upvalue_range_error());
                        };
                        let v = match u.state() {
                            UpState::Closed(v) => v,
                            UpState::Open { thread, slot } if thread == self.cur_thread => {
                                let v = self.stack[slot];
                                refresh!();
                                v
                            }
                            UpState::Open { .. } => {
                                let v = self.upval_get(u);
                                refresh!();
                                v
                            }
                        };
                        r!(a) = v;
                    }
                    opc::USETV => {
                        let v = r!(ins.rd());
                        upval_set!(a, v);
                        refresh!();
                    }
                    opc::USETS => {
                        upval_set!(a, kg!(ins.d()));
                        refresh!();
                    }
                    opc::USETN => {
                        upval_set!(a, kn!(ins.d()));
                        refresh!();
                    }
                    opc::USETP => {
                        upval_set!(a, pri(ins.d()));
                        refresh!();
                    }
                    opc::UCLO => {
                        self.close_upvals(base + a);
                        refresh!();
                        pc = (pc as isize + ins.j()) as usize;
                    }
                    opc::FNEW => {
                        let child = proto.protos[ins.d()];
                        let f = self.new_closure(child, cl, base);
                        refresh!();
                        r!(a) = f;
                        if self.heap.should_collect() {
                            gc_check!();
                        }
                    }

                    // ----- Tables ----------------------------------------------------------
                    opc::TNEW => {
                        let d = ins.d();
                        let narr = d & 0x7ff;
                        let nh = if d >> 11 > 0 { 1usize << (d >> 11) } else { 0 };
                        // SAFETY: between instructions: only frame data is held.
                        let t = unsafe { self.op_tnew(narr, nh, pc) }?;
                        refresh!();
                        r!(a) = t;
                        if self.heap.should_collect() {
                            gc_check!();
                        }
                    }
                    opc::TDUP => {
                        let template = kg!(ins.d()).as_table();
                        // SAFETY: between instructions: only frame data is held (the
                        // template is a constant of the running prototype).
                        let t = unsafe { self.op_tdup(template, pc) }?;
                        refresh!();
                        r!(a) = t;
                        if self.heap.should_collect() {
                            gc_check!();
                        }
                    }
                    opc::GGET => {
                        let key = kg!(ins.d());
                        let env = cl.env();
                        let v = match key.as_string() {
                            Some(s) => env.get_str(s),
                            None => env.get(key),
                        };
                        if !v.is_nil() || env.meta().is_none() {
                            r!(a) = v;
                        } else {
                            save!();
                            let st = self.index_step(env.to_value(), key)?;
                            refresh!();
                            match st {
                                IndexStep::Value(v) => r!(a) = v,
                                IndexStep::Call(h, obj) => meta_call!(h, [obj, key], Cont::Store(a as u8)),
                            }
                        }
                    }
                    opc::GSET => {
                        let key = kg!(ins.d());
                        let v = r!(a);
                        let env = cl.env();
                        if env.meta().is_none() {
                            let r = env.set(key, v, self.heap.room());
                            self.heap.barrier(env);
                            match r {
                                Ok(0) => {}
                                r => {
                                    save!();
                                    // SAFETY: between instructions, after `save!`.
                                    unsafe { self.loop_store_failed(env, key, v, r) }?;
                                    refresh!();
                                }
                            }
                        } else {
                            save!();
                            let mut target = env.to_value();
                            let st = self.set_step(env.to_value(), key, v, &mut target)?;
                            refresh!();
                            match st {
                                SetStep::Done => {}
                                SetStep::Call(h) => meta_call!(h, [target, key, v], Cont::Discard),
                            }
                        }
                    }
                    // Table reads and writes: one arm per key kind, each with its
                    // inline fast path (the array part for number keys, the hash part
                    // for constant strings, `__index` tables for method lookups), and
                    // one out-of-line fallback for everything else.
                    opc::TGETV => {
                        let obj = r!(ins.b());
                        let key = r!(ins.c());
                        if let Some(t) = obj.as_table() {
                            if let Some(v) = array_pos(key).and_then(|i| t.arr_get(i)) {
                                if !v.is_nil() || t.meta().is_none() {
                                    r!(a) = v;
                                    continue;
                                }
                            }
                        }
                        index_slow!(a, obj, key, ins.b());
                    }
                    opc::TGETB => {
                        let obj = r!(ins.b());
                        if let Some(t) = obj.as_table() {
                            match t.arr_get(ins.c().wrapping_sub(1)) {
                                Some(v) if !v.is_nil() || t.meta().is_none() => {
                                    r!(a) = v;
                                    continue;
                                }
                                // Past the array part of a table with no hash part and
                                // no metatable (`{}`): nil.
                                None if t.meta().is_none() && t.hash_is_empty() => {
                                    r!(a) = Value::NIL;
                                    continue;
                                }
                                _ => {}
                            }
                        }
                        index_slow!(a, obj, Value::number(ins.c() as f64), ins.b());
                    }
                    opc::TGETS => {
                        let obj = r!(ins.b());
                        let key = kg!(ins.c());
                        if let (Some(t), Some(s)) = (obj.as_table(), key.as_string()) {
                            let v = t.get_str(s);
                            if !v.is_nil() || t.meta().is_none() {
                                r!(a) = v;
                                continue;
                            }
                            // Method lookups: `__index` tables (not functions).
                            if let Some(v) = index_chain_str(t, s, self.mm_names[MetaEvent::Index as usize]) {
                                r!(a) = v;
                                continue;
                            }
                        }
                        index_slow!(a, obj, key, ins.b());
                    }
                    opc::TSETV => {
                        let obj = r!(ins.b());
                        let key = r!(ins.c());
                        let v = r!(a);
                        if let Some(t) = obj.as_table() {
                            // An integer key inside the array part, over a non-nil value
                            // (so no `__newindex` applies).
                            if array_pos(key).is_some_and(|i| t.arr_store_raw(i, v)) {
                                self.heap.barrier(t);
                                continue;
                            }
                        }
                        newindex_slow!(obj, key, v, ins.b());
                    }
                    opc::TSETB => {
                        let obj = r!(ins.b());
                        let v = r!(a);
                        if let Some(t) = obj.as_table() {
                            if t.arr_store_raw(ins.c().wrapping_sub(1), v) {
                                self.heap.barrier(t);
                                continue;
                            }
                        }
                        newindex_slow!(obj, Value::number(ins.c() as f64), v, ins.b());
                    }
                    opc::TSETS => {
                        let obj = r!(ins.b());
                        let key = kg!(ins.c());
                        let v = r!(a);
                        if let (Some(t), Some(s)) = (obj.as_table(), key.as_string()) {
                            // An existing key, with no `__newindex` that could apply: no
                            // metatable, or one known (cached) to have none.
                            let raw = match t.meta() {
                                None => true,
                                Some(mt) => mt.nomm() & NO_NEWINDEX != 0,
                            };
                            if raw && t.replace_str(s, v) {
                                self.heap.barrier(t);
                                continue;
                            }
                        }
                        newindex_slow!(obj, key, v, ins.b());
                    }
                    opc::TSETM => {
                        let t = r!(a - 1);
                        let start = kn!(ins.d()).num() as i64;
                        if let Some(t) = t.as_table() {
                            let n = self.top.saturating_sub(base + a);
                            save!();
                            // As LuaJIT: values past the array part resize it to
                            // hold them plus one more (nil) slot, which decides
                            // where `#` finds a border when they contain nils.
                            let need = (start + n as i64).max(0) as usize;
                            if n > 0 && need > t.arr_len() + 1 {
                                self.tsetm_grow(t, need)?;
                            }
                            for i in 0..n {
                                let v = self.stack[base + a + i];
                                let r = t.set_int(start + i as i64, v, self.heap.room());
                                self.heap.barrier(t);
                                if r != Ok(0) {
                                    let k = Value::number((start + i as i64) as f64);
                                    // SAFETY: between instructions, after `save!`.
                                    unsafe { self.loop_store_failed(t, k, v, r) }?;
                                }
                            }
                            refresh!();
                        }
                    }

                    // ----- Calls ------------------------------------------------------------
                    opc::CALL => {
                        let func = base + a;
                        let nargs = if ins.b() == 0 { self.top - func - 1 } else { ins.b() - 1 };
                        save!();
                        let fv = r!(a);
                        // Fast path: a Lua function with fixed parameters, room on the
                        // stack, budget left and no call hook (else `precall`).
                        if let Some(callee) = fv.as_lua_function().filter(|_| self.budget > 0) {
                            let p = callee.proto;
                            let nbase = func + 1;
                            if !p.is_vararg
                                && self.hooks.mask & MASK_CALL == 0
                                && nbase + REG_WINDOW + EXTRA_STACK <= self.stack.len()
                                && self.frames.len() < MAX_FRAMES + self.handler_extra
                            {
                                for i in nargs..p.numparams as usize {
                                    self.stack[nbase + i] = Value::NIL;
                                }
                                self.budget -= 1;
                                self.frames.push(Frame::lua(
                                    func,
                                    nbase,
                                    ins.c() as i32 - 1,
                                    Cont::Call,
                                    (callee, p),
                                    false,
                                ));
                                self.hot.tick(&p.code, 0);
                                next = Some((nbase, 0, callee, p));
                                continue 'frame;
                            }
                        }
                        // Fast path: a plain native function.
                        if let Some(nf) = fv.as_native_function() {
                            if self.call_native_fast(nf, func, nargs, ins.c() as i32 - 1)? {
                                check_hooks!();
                                refresh!();
                                continue;
                            }
                        }
                        match self.precall(func, nargs, ins.c() as i32 - 1, Cont::Call)? {
                            CallOutcome::Lua => continue 'frame,
                            CallOutcome::Done => {
                                check_hooks!();
                                refresh!();
                            }
                            CallOutcome::Yield => return Ok(Some(ExecEnd::Yielded)),
                        }
                    }
                    opc::CALLT => {
                        let func = base + a;
                        let nargs = if ins.b() == 0 { self.top - func - 1 } else { ins.b() - 1 };
                        save!();
                        let callee = self.stack[func];
                        let target =
                            if callee.is_function() { callee } else { self.metamethod(callee, MetaEvent::Call) };
                        if !target.is_function() {
                            // Report while the calling frame is still in place.
                            return Err(self.call_error(func, callee));
                        }
                        // Fast path: a Lua function with fixed parameters, room on the
                        // stack, budget left and no call hook replaces this frame in
                        // place (else `precall` below).
                        if let Some(f) = callee.as_lua_function().filter(|_| self.budget > 0) {
                            let p = f.proto;
                            let dst = self.frames.last().map_or(0, |f| f.func);
                            let nbase = dst + 1;
                            if !p.is_vararg
                                && self.hooks.mask & MASK_CALL == 0
                                && nbase + REG_WINDOW + EXTRA_STACK <= self.stack.len()
                            {
                                if self.open_upvals.last().is_some_and(|u| u.is_open_from(base)) {
                                    self.close_upvals(base);
                                }
                                self.stack.copy_within(func..func + 1 + nargs, dst);
                                for i in nargs..p.numparams as usize {
                                    self.stack[nbase + i] = Value::NIL;
                                }
                                self.budget -= 1;
                                if let Some(fr) = self.frames.last_mut() {
                                    fr.base = nbase;
                                    fr.pc = 0;
                                    fr.fun = FrameFn::Lua(f, p);
                                    fr.tail = true;
                                }
                                self.hot.tick(&p.code, 0);
                                continue 'frame;
                            }
                        }
                        if is_plain_native(target) {
                            // A builtin runs to completion: call it with this frame in
                            // place (so its errors unwind through this frame), then
                            // return its results.
                            self.tail_pending = true;
                            if self.precall(func, nargs, -1, Cont::Call)? != CallOutcome::Done {
                                continue 'frame;
                            }
                            let n = self.top - func;
                            if self.return_from_frame(base, func, n)? {
                                return Ok(Some(ExecEnd::Returned));
                            }
                            continue 'frame;
                        }
                        self.close_upvals(base);
                        self.tail_pending = true;
                        let Some(fr) = self.frames.pop() else {
                            return Err(self.rt_error("internal error: frame stack underflow"));
                        };
                        self.stack.copy_within(func..func + 1 + nargs, fr.func);
                        let depth = self.frames.len();
                        let out = match self.precall(fr.func, nargs, fr.nresults, fr.cont) {
                            Ok(o) => o,
                            Err(e) => {
                                // Keep a frame for the error position and unwinding.
                                if self.frames.len() == depth {
                                    self.frames.push(fr);
                                }
                                return Err(e);
                            }
                        };
                        match out {
                            CallOutcome::Lua => {
                                let nf = &mut self.frames[depth];
                                nf.boundary = fr.boundary;
                                if fr.cont == Cont::Protected {
                                    // The replaced frame's protection carries over; a
                                    // tail-called xpcall keeps its own handler.
                                    nf.handler = fr.handler;
                                }
                                nf.tail = true;
                                continue 'frame;
                            }
                            CallOutcome::Done => {
                                if fr.boundary {
                                    return Ok(Some(ExecEnd::Returned));
                                }
                                continue 'frame;
                            }
                            CallOutcome::Yield => {
                                if let Some(f) = self.frames.last_mut() {
                                    f.boundary = fr.boundary;
                                }
                                return Ok(Some(ExecEnd::Yielded));
                            }
                        }
                    }
                    opc::ITERC => {
                        let func = base + a;
                        r!(a) = r!(a - 3);
                        r!(a + 1) = r!(a - 2);
                        r!(a + 2) = r!(a - 1);
                        save!();
                        // `next` and other native iterators: the native call fast path.
                        if let Some(nf) = r!(a).as_native_function() {
                            if self.call_native_fast(nf, func, 2, ins.c() as i32 - 1)? {
                                check_hooks!();
                                refresh!();
                                continue;
                            }
                        }
                        match self.precall(func, 2, ins.c() as i32 - 1, Cont::Call)? {
                            CallOutcome::Lua => continue 'frame,
                            CallOutcome::Done => {
                                check_hooks!();
                                refresh!();
                            }
                            CallOutcome::Yield => return Ok(Some(ExecEnd::Yielded)),
                        }
                    }
                    opc::ITERL => {
                        let v = r!(a);
                        if !v.is_nil() {
                            r!(a - 1) = v;
                            pc = (pc as isize + ins.j()) as usize;
                            // Counted, but generic-for loops do not compile yet.
                            let _ = self.hot.tick(code, pc);
                            budget_tick!();
                        }
                    }
                    opc::VARG => {
                        let np = proto.numparams as usize;
                        let ffunc = self.frames.last().map_or(0, |f| f.func);
                        let nvar = (base - ffunc - 1).saturating_sub(np);
                        let src = ffunc + 1 + np;
                        let dst = base + a;
                        if ins.b() == 0 {
                            save!();
                            self.ensure_stack(dst + nvar + EXTRA_STACK)?;
                            self.stack.copy_within(src..src + nvar, dst);
                            refresh!();
                            self.top = dst + nvar;
                        } else {
                            let want = ins.b() - 1;
                            for i in 0..want {
                                self.stack[dst + i] = if i < nvar { self.stack[src + i] } else { Value::NIL };
                            }
                            refresh!();
                        }
                    }

                    // ----- Returns ------------------------------------------------------------
                    // The common return: one value to a Lua caller that called
                    // plainly, as the fast path of the arm below, specialised (fib
                    // -3%). The pc need not be saved: nothing here can fail or look
                    // at it. Upvalues need closing only if the function has closures
                    // inside.
                    opc::RET1 if self.hooks.mask & MASK_RET == 0 => {
                        let v = r!(a);
                        // A caller below, and this frame called plainly.
                        let plain = match self.frames.as_slice() {
                            [.., caller, fr] if fr.cont == Cont::Call && !fr.boundary => match caller.fun {
                                FrameFn::Lua(c, p) => Some((fr.func, fr.nresults, (caller.base, caller.pc, c, p))),
                                FrameFn::Native => None,
                            },
                            _ => None,
                        };
                        if let Some((func, want, resume)) = plain {
                            if !proto.protos.is_empty() && self.open_upvals.last().is_some_and(|u| u.is_open_from(base))
                            {
                                self.close_upvals(base);
                            }
                            self.frames.pop();
                            if want == 1 {
                                self.stack[func] = v;
                                self.top = func + 1;
                            } else {
                                self.place_results(func, base + a, 1, want);
                            }
                            next = Some(resume);
                            continue 'frame;
                        }
                        save!();
                        if self.return_from_frame(base, base + a, 1)? {
                            return Ok(Some(ExecEnd::Returned));
                        }
                        continue 'frame;
                    }
                    opc::RET | opc::RET0 | opc::RET1 => {
                        let (first, n) = match op {
                            opc::RET0 => (base, 0),
                            opc::RET1 => (base + a, 1),
                            _ => {
                                let d = ins.d();
                                let n = if d == 0 { self.top - (base + a) } else { d - 1 };
                                (base + a, n)
                            }
                        };
                        let ret_hook = self.hooks.mask & MASK_RET != 0;
                        if ret_hook {
                            save!();
                            self.hook_return()?;
                        }
                        // Fast path: back into a Lua caller that called plainly. (The
                        // pc need not be saved: nothing here can fail or look at it.)
                        // After a return hook, the slow path: the hook function may
                        // have changed the hooks, which `'frame` looks at.
                        let plain = match self.frames.as_slice() {
                            [.., _, fr] if fr.cont == Cont::Call && !fr.boundary && !ret_hook => {
                                Some((fr.func, fr.nresults))
                            }
                            _ => None,
                        };
                        if let Some((func, want)) = plain {
                            if self.open_upvals.last().is_some_and(|u| u.is_open_from(base)) {
                                self.close_upvals(base);
                            }
                            self.frames.pop();
                            self.place_results(func, first, n, want);
                            continue 'frame;
                        }
                        save!();
                        if self.return_from_frame(base, first, n)? {
                            return Ok(Some(ExecEnd::Returned));
                        }
                        continue 'frame;
                    }

                    // ----- Loops --------------------------------------------------------------
                    opc::FORI => {
                        save!();
                        let idx = self.for_number(base + a, "initial value")?;
                        let lim = self.for_number(base + a + 1, "limit")?;
                        let step = self.for_number(base + a + 2, "step")?;
                        refresh!();
                        let go = if step >= 0.0 { idx <= lim } else { idx >= lim };
                        if go {
                            r!(a + 3) = Value::number(idx);
                        } else {
                            pc = (pc as isize + ins.j()) as usize;
                        }
                    }
                    opc::FORL => {
                        forl!(a, ins, anchor => {
                            if self.hot.tick(code, pc) {
                                if self.jit_hot(proto, anchor, pc, base) {
                                    save!();
                                    return Ok(None);
                                }
                                refresh!();
                            }
                        });
                    }
                    opc::JFORL => {
                        forl!(a, ins, anchor => {
                            if !HOOKED {
                                save!();
                                self.jit_enter(proto, anchor, base)?;
                                continue 'frame;
                            }
                        });
                    }
                    opc::IFORL => forl!(a, ins, _anchor => {}),
                    opc::LOOP => {
                        budget_tick!();
                        if self.hot.tick(code, pc) {
                            if self.jit_hot(proto, pc - 1, pc, base) {
                                save!();
                                return Ok(None);
                            }
                            refresh!();
                        }
                    }
                    opc::JLOOP => {
                        budget_tick!();
                        if !HOOKED {
                            save!();
                            self.jit_enter(proto, pc - 1, base)?;
                            continue 'frame;
                        }
                    }
                    opc::ILOOP => budget_tick!(),
                    opc::JMP => {
                        let j = ins.j();
                        pc = (pc as isize + j) as usize;
                        if j < 0 {
                            budget_tick!();
                        }
                    }
                    // Loaded code is verified, so only a bug gets here. Listed rather
                    // than `_`, so the jump table needs no range check.
                    undefined_opcodes!() => {
                        std::hint::cold_path();
                        save!();
                        return Err(self.rt_error("internal error: bad opcode"));
                    }
                }
            }
        }
    }

    /// Pops the running Lua frame (registers from `base`) and delivers its `n` results
    /// found at `first`; true when that frame was the invocation's boundary.
    #[inline]
    fn return_from_frame(&mut self, base: usize, first: usize, n: usize) -> LResult<bool> {
        if !self.open_upvals.is_empty() {
            self.close_upvals(base);
        }
        let Some(fr) = self.frames.pop() else { return Ok(true) };
        self.postcall(fr, first, n)?;
        Ok(fr.boundary)
    }

    /// Coerces a numeric `for` control slot to a number in place.
    fn for_number(&mut self, slot: usize, what: &str) -> LResult<f64> {
        let v = self.stack[slot];
        if v.is_number() {
            return Ok(v.num());
        }
        match Vm::to_arith_number(v) {
            Some(n) => {
                self.stack[slot] = Value::number(n);
                Ok(n)
            }
            None => Err(self.rt_error(&format!("'for' {what} must be a number"))),
        }
    }

    /// Creates a closure of `child` inside the running closure `parent`.
    fn new_closure(&mut self, child: GcRef<crate::object::Proto>, parent: GcRef<LuaFunction>, base: usize) -> Value {
        let mut ups: Vec<GcRef<UpVal>> = Vec::with_capacity(child.upvals.len());
        for d in child.upvals.iter() {
            if d.in_parent_stack {
                ups.push(self.find_upval(base + d.index as usize));
            } else {
                // The compiler only names upvalues the parent has; a binary chunk
                // that lies gets a fresh closed one.
                let u = parent.upval(d.index as usize);
                ups.push(u.unwrap_or_else(|| self.heap.alloc(UpVal::new(UpState::Closed(Value::NIL)))));
            }
        }
        let f = LuaFunction::new(child, parent.env(), ups);
        self.heap.alloc(f).to_value()
    }

    /// Arithmetic on anything but two numbers, out of line so the dispatch loop's
    /// arithmetic stays small: string coercion (`Some(result)` for register `a`), a
    /// metamethod frame pushed (`None`: the loop reloads the frame), or the error
    /// naming register `rb` or `rc`.
    #[cold]
    #[inline(never)]
    fn arith_fallback(
        &mut self,
        op: Arith,
        a: usize,
        x: Value,
        y: Value,
        rb: Option<usize>,
        rc: Option<usize>,
    ) -> LResult<Option<Value>> {
        match self.arith_slow(op, x, y) {
            Ok(v) => Ok(Some(v)),
            Err(ArithFail::Call(h)) => {
                self.meta_call(h, &[x, y], Cont::Store(a as u8))?;
                Ok(None)
            }
            Err(ArithFail::NoHandler { bad_is_b }) => {
                let (bad, reg) = if bad_is_b { (y, rc) } else { (x, rb) };
                Err(self.op_error(bad, reg, "perform arithmetic on"))
            }
        }
    }

    /// `TSETM` past the array part: grows it to `need` slots first, as LuaJIT.
    #[cold]
    #[inline(never)]
    fn tsetm_grow(&mut self, t: GcRef<Table>, need: usize) -> LResult<()> {
        let r = t.grow_array(need, self.heap.room());
        self.table_stored(r)
    }

    /// `x == k` (negated if `neg`) for an unequal cdata `x` and a constant `k`:
    /// the FFI's `__eq`, whose result decides the branch after the comparison
    /// (`Cont::Cond`); without the FFI, not equal. The loop reloads the frame.
    #[cold]
    #[inline(never)]
    fn eq_cdata_fallback(&mut self, x: Value, k: Value, neg: bool) -> LResult<()> {
        let h = self.cdata_handler(MetaEvent::Eq);
        if !h.is_nil() {
            self.meta_call(h, &[x, k], Cont::Cond { negate: neg })?;
            return Ok(());
        }
        // No handler: not equal. Take the branch the comparison takes then.
        if let Some(f) = self.frames.last_mut() {
            if let FrameFn::Lua(_, p) = f.fun {
                let j = p.ins(f.pc);
                f.pc += 1;
                if neg {
                    if let Some(j) = j {
                        f.pc = (f.pc as isize + j.j()) as usize;
                    }
                }
            }
        }
        Ok(())
    }

    /// `obj[key]` for register `a` after the dispatch loop's fast paths missed:
    /// the hash part, `__index` (`None`: a metamethod frame was pushed, which the
    /// loop runs next), or the error naming register `b`. Out of line, so that the
    /// loop's table arms stay small.
    #[cold]
    #[inline(never)]
    fn index_fallback(&mut self, obj: Value, key: Value, a: usize, b: usize) -> LResult<Option<Value>> {
        let step = if let Some(t) = obj.as_table() {
            let v = t.get(key);
            let Some(mt) = t.meta().filter(|_| v.is_nil()) else {
                return Ok(Some(v));
            };
            // The chain's first link, without repeating the raw lookup.
            let h = self.mt_get(mt, MetaEvent::Index);
            if h.is_nil() {
                return Ok(Some(Value::NIL));
            }
            if h.is_function() {
                self.meta_call(h, &[obj, key], Cont::Store(a as u8))?;
                return Ok(None);
            }
            self.index_chain(h, key, 1)?
        } else if self.metamethod(obj, MetaEvent::Index).is_nil() {
            return Err(self.op_error(obj, Some(b), "index"));
        } else {
            self.index_step(obj, key)?
        };
        match step {
            IndexStep::Value(v) => Ok(Some(v)),
            IndexStep::Call(h, o) => {
                self.meta_call(h, &[o, key], Cont::Store(a as u8))?;
                Ok(None)
            }
        }
    }

    /// `obj[key] = v` after the dispatch loop's fast paths missed: a raw store
    /// when no `__newindex` applies, else `__newindex` (true: a metamethod frame
    /// was pushed), or the error naming register `b`. Out of line, as above.
    #[cold]
    #[inline(never)]
    fn newindex_fallback(&mut self, obj: Value, key: Value, v: Value, b: usize) -> LResult<bool> {
        if let Some(t) = obj.as_table() {
            let raw = match t.meta() {
                None => true,
                Some(mt) if mt.nomm() & NO_NEWINDEX != 0 => true,
                Some(mt) => no_newindex(mt, self.mm_names[MetaEvent::NewIndex as usize]),
            };
            if raw {
                let r = t.set(key, v, self.heap.room());
                self.heap.barrier(t);
                if r != Ok(0) {
                    // SAFETY: called by `newindex_slow!` after `save!`, between
                    // instructions; `t`, `key` and `v` are registers or constants.
                    unsafe { self.loop_store_failed(t, key, v, r) }?;
                }
                return Ok(false);
            }
        } else if self.metamethod(obj, MetaEvent::NewIndex).is_nil() {
            return Err(self.op_error(obj, Some(b), "index"));
        }
        let mut target = obj;
        match self.set_step(obj, key, v, &mut target)? {
            SetStep::Done => Ok(false),
            SetStep::Call(h) => {
                self.meta_call(h, &[target, key, v], Cont::Discard)?;
                Ok(true)
            }
        }
    }

    /// `TNEW`: a table with room for `narr` array and `nh` hash entries.
    ///
    /// # Safety
    /// As [`Vm::gc_check`].
    #[inline(never)]
    unsafe fn op_tnew(&mut self, narr: usize, nh: usize, pc: usize) -> LResult<Value> {
        let seed = self.heap.table_seed();
        if let Ok(t) = Table::try_new(narr, nh, self.heap.room(), seed) {
            return Ok(self.heap.alloc(t).to_value());
        }
        self.save_pc(pc);
        // SAFETY: the caller's contract.
        let t = unsafe { self.with_memory_retry(|vm| Table::try_new(narr, nh, vm.heap.room(), seed)) }?;
        Ok(self.heap.alloc(t).to_value())
    }

    /// Saves the running frame's pc (the interpreter's `save!`, for its out-of-line
    /// slow paths).
    #[inline]
    fn save_pc(&mut self, pc: usize) {
        if let Some(f) = self.frames.last_mut() {
            f.pc = pc;
        }
    }

    /// `TDUP`: a copy of a table constructor's template.
    ///
    /// # Safety
    /// As [`Vm::gc_check`]; `template` is a constant of the running prototype.
    #[inline(never)]
    unsafe fn op_tdup(&mut self, template: Option<GcRef<Table>>, pc: usize) -> LResult<Value> {
        if let Some(Ok(t)) = template.map(|t| t.try_clone_contents(self.heap.room())) {
            return Ok(self.heap.alloc(t).to_value());
        }
        self.save_pc(pc);
        // SAFETY: the caller's contract.
        let copy = unsafe {
            self.with_memory_retry(|vm| match template {
                Some(t) => t.try_clone_contents(vm.heap.room()),
                None => Ok(Table::new(0, 0, vm.heap.table_seed())),
            })
        }?;
        Ok(self.heap.alloc(copy).to_value())
    }

    /// In the interpreter, between instructions: makes an object that may need more
    /// memory than the limit leaves. If that fails for lack of memory and a
    /// collection could help, collects and tries once more.
    ///
    /// # Safety
    /// As [`Vm::gc_check`]: the caller holds nothing but frame data (and what
    /// `make` captures is reachable from the running frame).
    unsafe fn with_memory_retry<T>(&mut self, make: impl Fn(&mut Vm) -> Result<T, SetError>) -> LResult<T> {
        match make(self) {
            Err(SetError::NoMemory) if self.heap.collection_may_help() => {
                // SAFETY: the caller's contract.
                unsafe { self.emergency_gc_quiet() };
                match make(self) {
                    Ok(x) => Ok(x),
                    Err(e) => Err(self.set_error(e)),
                }
            }
            Ok(x) => Ok(x),
            Err(e) => Err(self.set_error(e)),
        }
    }

    /// After a raw table store from the interpreter that did not simply succeed
    /// (`r`): accounts its growth, or, when it failed for lack of memory and a
    /// collection could help, collects and stores again; else the error.
    ///
    /// # Safety
    /// As [`Vm::gc_check`]; `t`, `k` and `v` are reachable from the running frame.
    #[cold]
    #[inline(never)]
    unsafe fn loop_store_failed(
        &mut self,
        t: GcRef<Table>,
        k: Value,
        v: Value,
        r: Result<usize, SetError>,
    ) -> LResult<()> {
        let r = match r {
            Err(SetError::NoMemory) if self.heap.collection_may_help() => {
                // SAFETY: the caller's contract.
                unsafe { self.emergency_gc_quiet() };
                let r = t.set(k, v, self.heap.room());
                self.heap.barrier(t);
                r
            }
            r => r,
        };
        self.table_stored(r)
    }

    /// An upvalue operand past the closure's upvalues (only a lying binary chunk).
    #[cold]
    #[inline(never)]
    fn upvalue_range_error(&mut self) -> crate::vm::LuaError {
        self.rt_error("internal error: upvalue out of range")
    }

    /// The error of a failed table operation.
    #[cold]
    pub(crate) fn set_error(&mut self, e: SetError) -> crate::vm::LuaError {
        match e {
            SetError::NoMemory => self.mem_error(),
            e => self.rt_error(e.message()),
        }
    }

    /// Pushes a metamethod call above the running Lua frame with continuation `cont`.
    pub(crate) fn meta_call(&mut self, h: Value, args: &[Value], cont: Cont) -> LResult<CallOutcome> {
        let slot = self.free_top();
        self.ensure_stack(slot + args.len() + 1 + EXTRA_STACK)?;
        self.stack[slot] = h;
        self.stack[slot + 1..slot + 1 + args.len()].copy_from_slice(args);
        self.top = slot + 1 + args.len();
        self.precall(slot, args.len(), 1, cont)
    }

    /// Runs (or resumes) `CAT a b top` on the running frame. Returns true if a
    /// `__concat` frame was pushed and must run first.
    pub(crate) fn cat_run(&mut self, a: usize, b: usize, mut top: usize) -> LResult<bool> {
        let Some(fr) = self.frames.last().copied() else { return Ok(false) };
        let base = fr.base;
        let strnum = |v: Value| v.is_string() || v.is_number();
        loop {
            if top <= b {
                self.stack[base + a] = self.stack[base + b];
                return Ok(false);
            }
            let x = self.stack[base + top - 1];
            let y = self.stack[base + top];
            if strnum(x) && strnum(y) {
                let mut lo = top - 1;
                while lo > b && strnum(self.stack[base + lo - 1]) {
                    lo -= 1;
                }
                // Size the result first (a number takes at most 32 bytes), so that an
                // oversized concatenation fails before anything is allocated.
                let mut want = 0usize;
                for i in lo..=top {
                    let v = self.stack[base + i];
                    want = want.saturating_add(v.as_string().map_or(32, |s| s.len()));
                }
                if want > crate::vm::MAX_STR_LEN {
                    return Err(self.rt_error("string length overflow"));
                }
                self.check_mem(want)?;
                self.charge_bytes(want)?;
                let mut buf = Vec::new();
                if buf.try_reserve_exact(want).is_err() {
                    return Err(self.mem_error());
                }
                for i in lo..=top {
                    crate::vm::meta::append_str_or_num(&mut buf, self.stack[base + i]);
                }
                let s = self.str_value_owned(buf);
                self.stack[base + lo] = s;
                top = lo;
            } else {
                let mut h = self.metamethod(x, MetaEvent::Concat);
                if h.is_nil() {
                    h = self.metamethod(y, MetaEvent::Concat);
                }
                if h.is_nil() {
                    let (bad, reg) = if strnum(x) { (y, top) } else { (x, top - 1) };
                    return Err(self.op_error(bad, Some(reg), "concatenate"));
                }
                let depth = self.frames.len();
                self.meta_call(h, &[x, y], Cont::Concat { at: (top - 1) as u8 })?;
                // A native handler already ran and resumed the concatenation; a Lua one
                // (or a yield) left a frame to run.
                return Ok(self.frames.len() > depth);
            }
        }
    }
}

/// The `nomm` bit of a metatable known to have no `__index`.
const NO_INDEX: u32 = 1 << (MetaEvent::Index as u32);
/// The `nomm` bit of a metatable known to have no `__newindex`.
const NO_NEWINDEX: u32 = 1 << (MetaEvent::NewIndex as u32);

/// `t[s]` after a raw miss in `t`, following `__index` *tables* up to four levels
/// (`Vm::mt_get` inlined, with the interned `"__index"` passed in, since the
/// dispatch loop holds a borrow of the stack). `None`: a function handler or a
/// longer chain, for `index_step`. Out of line, to keep the dispatch loop small.
#[inline(never)]
fn index_chain_str(t: GcRef<Table>, s: GcRef<LuaString>, index_name: GcRef<LuaString>) -> Option<Value> {
    let mut cur = t;
    for _ in 0..4 {
        let Some(mt) = cur.meta() else { return Some(Value::NIL) };
        let h = if mt.nomm() & NO_INDEX != 0 {
            Value::NIL
        } else {
            let h = mt.get_str(index_name);
            if h.is_nil() {
                mt.add_nomm(NO_INDEX);
            }
            h
        };
        let Some(ht) = h.as_table() else {
            return if h.is_nil() { Some(Value::NIL) } else { None };
        };
        let v = ht.get_str(s);
        if !v.is_nil() {
            return Some(v);
        }
        cur = ht;
    }
    None
}

/// Does metatable `mt` lack `__newindex`? Fills its absence cache (`Vm::mt_get`,
/// with the interned name passed in). Out of line: after the first store the
/// cached bit answers.
#[inline(never)]
fn no_newindex(mt: GcRef<Table>, newindex_name: GcRef<LuaString>) -> bool {
    let h = mt.get_str(newindex_name);
    if h.is_nil() {
        mt.add_nomm(NO_NEWINDEX);
    }
    h.is_nil()
}

/// The 0-based array-part position a number key may name: `k - 1` for an integer
/// key in i32 range. Keys below 1 give positions of 2^31 and up (or `usize::MAX`),
/// which the caller's bounds test rejects, as no array part is that long: one test
/// fewer than `Table`'s `array_index`, on every `t[k]`.
#[inline(always)]
fn array_pos(k: Value) -> Option<usize> {
    if !k.is_number() {
        return None;
    }
    crate::object::table::exact_i32(k.num()).map(|i| (i as u32 as usize).wrapping_sub(1))
}

/// A native function without special frame handling (not pcall/xpcall/yield).
fn is_plain_native(f: Value) -> bool {
    f.func_kind() == Some(crate::gc::Kind::NativeFunction)
        && GcRef::<crate::vm::NativeFunction>::from_value_payload(f).special == crate::vm::Special::None
}

/// The primitive value of a KPRI / ISEQP operand.
#[inline(always)]
fn pri(d: usize) -> Value {
    match d {
        0 => Value::NIL,
        1 => Value::FALSE,
        _ => Value::TRUE,
    }
}
