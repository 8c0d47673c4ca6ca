//! Calls, returns, protected calls, re-entry from native code, and coroutines.
//!
//! A Lua-to-Lua call pushes a `Frame` and the dispatch loop carries on with it: no
//! Rust recursion. Native functions run to completion inside `precall`. Native code
//! that must call Lua (`table.sort` comparators, `__tostring`, finalizers) re-enters
//! the dispatch loop through [`Vm::call_at`], bounded by `MAX_CCALLS`; the first frame
//! of such a re-entry is marked `boundary`, and its return ends that `execute`.
//!
//! Errors are `Err` values. `execute` catches them at the nearest `Protected` frame
//! (pushed by `pcall`/`xpcall`) of its own invocation, or stops at its boundary frame
//! and hands the error to its caller.

use crate::gc::GcRef;
use crate::object::{LuaFunction, UpState, UpVal};
use crate::value::Value;
use crate::vm::meta::MetaEvent;
use crate::vm::{
    CoStatus, Cont, ErrorKind, Frame, FrameFn, LResult, LuaError, NativeFunction, Special, Thread, Vm, EXTRA_STACK,
    MAX_CCALLS, MAX_FRAMES, MAX_STACK, WORK_BYTES_PER_UNIT,
};

/// Extra frames an error handler may use beyond the stack limit.
const HANDLER_EXTRA_FRAMES: usize = 250;

/// What `precall` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// A Lua frame was pushed; the dispatch loop must run it.
    Lua,
    /// A native function ran and its results were delivered.
    Done,
    /// `coroutine.yield` was called: the running coroutine must suspend.
    Yield,
}

/// How an `execute` invocation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecEnd {
    Returned,
    Yielded,
}

impl Vm {
    /// Makes sure `stack.len() >= need`. Always inlined: left to LLVM, the
    /// dispatch loop's copy was outlined and the loop lost a register to it
    /// (callgrind: fib 25 162M -> 173M instructions).
    #[inline(always)]
    pub fn ensure_stack(&mut self, need: usize) -> LResult<()> {
        if need > self.stack.len() {
            let limit = MAX_STACK + 2 * EXTRA_STACK + 256 + self.handler_extra * 64;
            if need > limit {
                return Err(self.rt_error("stack overflow"));
            }
            let new_len = (need + need / 2).clamp(64, limit).max(need);
            let grown = (new_len - self.stack.len()) * std::mem::size_of::<Value>();
            self.check_mem(grown)?;
            // Exactly: the 1.5x step above is the amortisation, and `resize` alone
            // would double the capacity on top of it (near `MAX_STACK`, a second
            // 8 MiB the memory limit never saw). Fallibly: without a memory limit an
            // allocator that refuses is "not enough memory", not an abort.
            if self.stack.try_reserve_exact(new_len - self.stack.len()).is_err() {
                return Err(self.mem_error());
            }
            self.heap.account(grown);
            self.stack.resize(new_len, Value::NIL);
        }
        Ok(())
    }

    /// One past the highest slot the running frame may be using: where re-entrant
    /// calls place their function.
    pub fn free_top(&self) -> usize {
        let mut t = self.top;
        if let Some(f) = self.frames.last() {
            if let FrameFn::Lua(c, _) = f.fun {
                t = t.max(f.base + c.proto.framesize as usize);
            }
        }
        t
    }

    /// Sets up a call of the value at `stack[func]` with `nargs` arguments after it.
    pub fn precall(&mut self, func: usize, mut nargs: usize, nresults: i32, cont: Cont) -> LResult<CallOutcome> {
        let mut fv = self.stack[func];
        if !fv.is_function() {
            // `__call` is followed one level only, as in LuaJIT.
            self.tail_pending = false;
            let h = self.metamethod(fv, MetaEvent::Call);
            if !h.is_function() {
                return Err(self.call_error(func, fv));
            }
            self.ensure_stack(func + nargs + 2 + EXTRA_STACK)?;
            self.stack.copy_within(func..func + 1 + nargs, func + 1);
            self.stack[func] = h;
            nargs += 1;
            fv = h;
        }
        self.budget -= 1;
        if self.budget < 0 {
            self.budget_exhausted()?;
        }
        if let Some(cl) = fv.as_lua_function() {
            self.enter_lua(func, cl, nargs, nresults, cont)?;
            if self.hooks.mask & crate::vm::hook::MASK_CALL != 0 {
                self.hook_call()?;
            }
            return Ok(CallOutcome::Lua);
        }
        let nf: GcRef<NativeFunction> = GcRef::from_value_payload(fv);
        match nf.special {
            Special::None => {}
            Special::Pcall if cont == Cont::Call => return self.call_pcall(func, nargs, nresults, false),
            Special::Xpcall if cont == Cont::Call => return self.call_pcall(func, nargs, nresults, true),
            Special::Yield => return self.call_yield(func, nargs, nresults, cont),
            Special::Pcall | Special::Xpcall | Special::Collect => {}
        }
        if self.frames.len() >= MAX_FRAMES + self.handler_extra {
            return Err(self.rt_error("stack overflow"));
        }
        let tail = std::mem::take(&mut self.tail_pending);
        self.frames.push(Frame::native(func, nresults, cont, tail));
        self.top = func + 1 + nargs;
        self.ensure_stack(self.top + EXTRA_STACK)?;
        if self.hooks.mask & crate::vm::hook::MASK_CALL != 0 {
            self.hook_call()?;
        }
        let r = if nf.special == Special::Collect {
            // SAFETY: run here, not through `nf.f`: `Vm::collectgarbage` is the VM's
            // own and holds no GC reference across the collection; this function
            // holds `nf` and `fv`, which are in stack slot `func`.
            unsafe { self.collectgarbage_sweeping(func + 1, nargs) }
        } else {
            (nf.f)(self, func + 1, nargs)
        };
        let nret = match r {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::RetryAfterGc => self.retry_native_after_gc(nf, func, nargs)?,
            Err(e) => return Err(e),
        };
        let first = self.top - nret;
        let fr = match self.frames.pop() {
            Some(f) => f,
            None => return Err(self.rt_error("internal error: frame stack underflow")),
        };
        self.postcall(fr, first, nret)?;
        // SAFETY: the native has returned; this function holds `nf` and `fv`, which
        // sit in stack slot `func` (a root) and are not used again.
        unsafe { self.gc_check() }?;
        Ok(CallOutcome::Done)
    }

    /// A native asked for a collection (`reserve_mem`): collect, then call it again
    /// once, with the same arguments (its frame is still on top). Its results, or
    /// "not enough memory" if it still cannot have the memory.
    #[cold]
    #[inline(never)]
    fn retry_native_after_gc(&mut self, nf: GcRef<NativeFunction>, func: usize, nargs: usize) -> LResult<usize> {
        // SAFETY: the native has returned and its frame's arguments are stack slots;
        // the callers hold only `nf`, which is the value in slot `func`. Rust frames
        // further out are protected by the pin of their `call_at`, if any.
        unsafe { self.emergency_gc_quiet() };
        self.top = func + 1 + nargs;
        self.gc_retried = true;
        let r = (nf.f)(self, func + 1, nargs);
        self.gc_retried = false;
        match r {
            Err(e) if e.kind() == ErrorKind::RetryAfterGc => Err(self.mem_error()),
            r => r,
        }
    }

    /// Calls the plain native function `nf` (not pcall/xpcall/yield), which sits at
    /// `func` with `nargs` arguments above it, for a Lua frame that wants
    /// `nresults`: `precall`'s frame push, call and result placement without its
    /// general cases. False, having done nothing, when `precall` must do it: a
    /// special native, a call hook, the budget or the depth limit.
    #[inline(always)]
    pub(crate) fn call_native_fast(
        &mut self,
        nf: GcRef<NativeFunction>,
        func: usize,
        nargs: usize,
        nresults: i32,
    ) -> LResult<bool> {
        if nf.special != Special::None
            || self.budget <= 0
            || self.hooks.mask & crate::vm::hook::MASK_CALL != 0
            || self.frames.len() >= MAX_FRAMES + self.handler_extra
        {
            return Ok(false);
        }
        self.budget -= 1;
        self.frames.push(Frame::native(func, nresults, Cont::Call, false));
        self.top = func + 1 + nargs;
        self.ensure_stack(self.top + EXTRA_STACK)?;
        // On an error the frame stays, for the traceback and the unwinding.
        let nret = match (nf.f)(self, func + 1, nargs) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::RetryAfterGc => self.retry_native_after_gc(nf, func, nargs)?,
            Err(e) => return Err(e),
        };
        let first = self.top - nret;
        self.frames.pop();
        self.place_results(func, first, nret, nresults);
        if self.heap.should_collect() {
            // SAFETY: the native has returned; `nf` is the value in slot `func` (a
            // root) and is not used again.
            unsafe { self.gc_check() }?;
        }
        Ok(true)
    }

    fn enter_lua(
        &mut self,
        func: usize,
        cl: GcRef<LuaFunction>,
        nargs: usize,
        nresults: i32,
        cont: Cont,
    ) -> LResult<()> {
        let p = cl.proto;
        let np = p.numparams as usize;
        // Room for the frame's register window (`vm::window`), which covers its
        // frame size.
        let room = crate::vm::REG_WINDOW;
        if self.frames.len() >= MAX_FRAMES + self.handler_extra {
            return Err(self.rt_error("stack overflow"));
        }
        let base = if !p.is_vararg {
            let base = func + 1;
            self.ensure_stack(base + room + EXTRA_STACK)?;
            // Missing parameters are nil. Other registers need no clearing: the
            // compiler writes every register before reading it (locals get KNIL).
            for i in nargs..np {
                self.stack[base + i] = Value::NIL;
            }
            base
        } else {
            let base = func + 1 + nargs;
            self.ensure_stack(base + room + EXTRA_STACK)?;
            for i in 0..np {
                self.stack[base + i] = if i < nargs { self.stack[func + 1 + i] } else { Value::NIL };
            }
            base
        };
        let tail = std::mem::take(&mut self.tail_pending);
        self.frames.push(Frame::lua(func, base, nresults, cont, (cl, p), tail));
        self.hot.tick(&p.code, 0);
        Ok(())
    }

    /// Delivers `n` results found at `stack[first ..]` of the frame `fr`, which has just
    /// been popped, according to its continuation.
    #[inline]
    pub fn postcall(&mut self, fr: Frame, first: usize, n: usize) -> LResult<()> {
        if !matches!(fr.cont, Cont::Call | Cont::Protected) {
            // A metamethod call sat above its caller's frame: that space is free
            // again (otherwise every metamethod call would move the top up).
            self.top = fr.func;
        }
        match fr.cont {
            Cont::Call => self.place_results(fr.func, first, n, fr.nresults),
            Cont::Protected => {
                let dest = fr.func - 1;
                self.stack[dest] = Value::TRUE;
                self.place_results(dest + 1, first, n, if fr.nresults < 0 { -1 } else { (fr.nresults - 1).max(0) });
                if fr.nresults < 0 {
                    // top already set past the results by place_results
                } else if fr.nresults == 0 {
                    self.top = dest;
                }
            }
            Cont::Store(r) => {
                let v = if n > 0 { self.stack[first] } else { Value::NIL };
                if let Some(caller) = self.frames.last() {
                    let slot = caller.base + r as usize;
                    self.stack[slot] = v;
                }
            }
            Cont::Discard => {}
            Cont::Cond { negate } => {
                let res = n > 0 && self.stack[first].truthy();
                if let Some(caller) = self.frames.last_mut() {
                    if let FrameFn::Lua(c, _) = caller.fun {
                        let jmp = c.proto.ins(caller.pc);
                        if res != negate {
                            if let Some(j) = jmp {
                                caller.pc = (caller.pc as isize + 1 + j.j()) as usize;
                            }
                        } else {
                            caller.pc += 1;
                        }
                    }
                }
            }
            Cont::Concat { at } => {
                let v = if n > 0 { self.stack[first] } else { Value::NIL };
                let Some(caller) = self.frames.last().copied() else { return Ok(()) };
                self.stack[caller.base + at as usize] = v;
                if let FrameFn::Lua(c, _) = caller.fun {
                    if let Some(ins) = c.proto.ins(caller.pc.wrapping_sub(1)) {
                        self.cat_run(ins.a(), ins.b(), at as usize)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Copies `n` values from `first` to `dest`, adjusted to `want` (-1: all, and
    /// sets `top`).
    #[inline(always)]
    pub(crate) fn place_results(&mut self, dest: usize, first: usize, n: usize, want: i32) {
        if want == 1 {
            // The common case: one result wanted.
            self.stack[dest] = if n > 0 { self.stack[first] } else { Value::NIL };
            self.top = dest + 1;
            return;
        }
        if want < 0 && n <= 4 {
            for i in 0..n {
                self.stack[dest + i] = self.stack[first + i];
            }
            self.top = dest + n;
            return;
        }
        if want < 0 {
            if dest != first {
                self.stack.copy_within(first..first + n, dest);
            }
            self.top = dest + n;
        } else {
            let want = want as usize;
            let m = n.min(want);
            if dest != first && m > 0 {
                self.stack.copy_within(first..first + m, dest);
            }
            if dest + want > self.stack.len() {
                self.stack.resize(dest + want + EXTRA_STACK, Value::NIL);
            }
            for v in &mut self.stack[dest + m..dest + want] {
                *v = Value::NIL;
            }
            self.top = dest + want;
        }
    }

    /// `pcall(f, ...)` / `xpcall(f, handler, ...)` called from Lua: pushes `f` as a
    /// protected frame.
    fn call_pcall(&mut self, func: usize, nargs: usize, nresults: i32, x: bool) -> LResult<CallOutcome> {
        if nargs == 0 {
            let name = if x { "xpcall" } else { "pcall" };
            return Err(self.rt_error(&format!("bad argument #1 to '{name}' (value expected)")));
        }
        let (fslot, fnargs, handler) = if x {
            if nargs < 2 || !self.stack[func + 2].is_function() {
                let got = if nargs < 2 { "no value" } else { self.stack[func + 2].type_name() };
                return Err(self.rt_error(&format!("bad argument #2 to 'xpcall' (function expected, got {got})")));
            }
            // [xpcall f h a...] -> [h f a...]
            let f = self.stack[func + 1];
            let h = self.stack[func + 2];
            self.stack[func] = h;
            self.stack[func + 1] = f;
            self.stack.copy_within(func + 3..func + 1 + nargs, func + 2);
            (func + 1, nargs - 2, Some(func))
        } else {
            (func + 1, nargs - 1, None)
        };
        let depth = self.frames.len();
        let r = self.precall(fslot, fnargs, nresults, Cont::Protected);
        match r {
            Ok(CallOutcome::Lua) => {
                self.frames[depth].handler = handler;
                Ok(CallOutcome::Lua)
            }
            Ok(o) => Ok(o),
            Err(e) if e.kind().catchable() => {
                let mut e = e;
                if let Some(h) = handler {
                    let hv = self.stack[h];
                    e = self.run_handler(hv, e);
                }
                self.frames.truncate(depth);
                self.close_upvals(func);
                let fr = Frame {
                    func: fslot,
                    base: fslot,
                    pc: 0,
                    nresults,
                    cont: Cont::Protected,
                    fun: FrameFn::Native,
                    handler,
                    boundary: false,
                    tail: false,
                };
                self.finish_protected_error(&fr, e.value());
                Ok(CallOutcome::Done)
            }
            Err(e) => Err(e),
        }
    }

    /// Calls an `xpcall` handler with the error value; its first result replaces it.
    fn run_handler(&mut self, h: Value, e: LuaError) -> LuaError {
        let kind = e.kind();
        // The handler may run right at the stack limit (after a stack overflow): give
        // it some headroom, as LuaJIT does.
        self.handler_extra += HANDLER_EXTRA_FRAMES;
        let r = self.call_value1(h, &[e.value()]);
        self.handler_extra -= HANDLER_EXTRA_FRAMES;
        match r {
            Ok(v) => LuaError::new(kind, v),
            Err(e2) if !e2.kind().catchable() => e2,
            Err(_) => {
                let v = self.str_value(b"error in error handling");
                LuaError::new(ErrorKind::ErrorHandler, v)
            }
        }
    }

    /// Places `false, err` as the results of the protected frame `fr`.
    fn finish_protected_error(&mut self, fr: &Frame, err: Value) {
        let dest = fr.func - 1;
        self.stack[dest] = Value::FALSE;
        self.stack[dest + 1] = err;
        if fr.nresults < 0 {
            self.top = dest + 2;
        } else {
            let want = fr.nresults as usize;
            if dest + want + 1 > self.stack.len() {
                self.stack.resize(dest + want + 1 + EXTRA_STACK, Value::NIL);
            }
            for i in 2..want {
                self.stack[dest + i] = Value::NIL;
            }
            self.top = dest + want;
        }
    }

    /// Handles an error raised inside `execute`: finds the protected frame that
    /// catches it (`Ok(true)`: go on running; `Ok(false)`: the invocation is
    /// finished), or unwinds to the boundary and returns the error.
    pub(crate) fn unwind(&mut self, mut e: LuaError) -> LResult<bool> {
        // An error nothing will catch gets its traceback now, while the frames that
        // raised it still exist (the host prints it, as luajit's standalone does).
        if e.traceback().is_none()
            && self.cur_thread == self.main_thread
            && !self.frames.iter().any(|f| f.cont == Cont::Protected)
        {
            let tb = self.traceback_text(0, true);
            e.set_traceback(tb);
        }
        let mut i = self.frames.len();
        while i > 0 {
            i -= 1;
            let fr = self.frames[i];
            if fr.cont == Cont::Protected && e.kind().catchable() {
                if let Some(h) = fr.handler {
                    let hv = self.stack[h];
                    e = self.run_handler(hv, e);
                }
                self.close_upvals(fr.func - 1);
                self.frames.truncate(i);
                self.finish_protected_error(&fr, e.value());
                return Ok(!fr.boundary);
            }
            if fr.boundary {
                self.close_upvals(fr.func);
                // A coroutine that dies keeps its frames, as in LuaJIT, so that
                // `debug.traceback(co)` can show where it failed; it never runs again.
                if !(i == 0 && self.cur_thread != self.main_thread) {
                    self.frames.truncate(i);
                }
                return Err(e);
            }
        }
        self.frames.clear();
        Err(e)
    }

    /// Runs the dispatch loop until the current boundary frame returns or the
    /// coroutine yields, catching errors at protected frames.
    pub fn execute(&mut self) -> LResult<ExecEnd> {
        loop {
            match self.run() {
                Ok(end) => return Ok(end),
                Err(e) => {
                    if !self.unwind(e)? {
                        return Ok(ExecEnd::Returned);
                    }
                }
            }
        }
    }

    /// Calls the function at `stack[func]` with `nargs` arguments from native code.
    /// Results are left at `stack[func ..]`; returns their count.
    ///
    /// Called while a script runs (from a library function, a metamethod slow path,
    /// a hook), it pins the heap for the call: the Lua code it runs may collect, but
    /// frees nothing until the call returns, so whatever the calling Rust code holds
    /// stays valid (the heap's rule 3, `gc` module docs).
    pub fn call_at(&mut self, func: usize, nargs: usize, nresults: i32) -> LResult<usize> {
        let pin = self.ccalls > 0;
        if pin {
            self.heap.pin();
        }
        let r = self.call_at_inner(func, nargs, nresults);
        if pin {
            self.heap.unpin();
        }
        r
    }

    /// [`call_at`](Vm::call_at) without the pin: the collector may free what only
    /// the caller's Rust frames reach.
    ///
    /// # Safety
    /// Every GC reference the caller (and every Rust frame up to the enclosing
    /// `execute`) uses after this call is reachable from the VM's roots, e.g.
    /// anchored in the registry.
    pub unsafe fn call_at_unpinned(&mut self, func: usize, nargs: usize, nresults: i32) -> LResult<usize> {
        self.call_at_inner(func, nargs, nresults)
    }

    fn call_at_inner(&mut self, func: usize, nargs: usize, nresults: i32) -> LResult<usize> {
        if self.ccalls >= MAX_CCALLS || !self.native_enter() {
            return Err(self.rt_error("C stack overflow"));
        }
        let depth = self.frames.len();
        self.ccalls += 1;
        let r = match self.precall(func, nargs, nresults, Cont::Call) {
            Ok(CallOutcome::Lua) => {
                self.frames[depth].boundary = true;
                self.execute().map(|_| ())
            }
            Ok(CallOutcome::Done) => Ok(()),
            Ok(CallOutcome::Yield) => Err(self.rt_error("attempt to yield across C-call boundary")),
            Err(e) => Err(e),
        };
        self.ccalls -= 1;
        self.native_leave();
        match r {
            Ok(()) => Ok(if nresults < 0 { self.top - func } else { nresults as usize }),
            Err(e) => {
                self.frames.truncate(depth);
                self.close_upvals(func);
                Err(e)
            }
        }
    }

    /// Calls `f(args...)` from native code; returns the results.
    pub fn call_value(&mut self, f: Value, args: &[Value], nresults: i32) -> LResult<Vec<Value>> {
        self.call_with(f, args, nresults, |vm, func, n| vm.stack[func..func + n].to_vec())
    }

    /// Calls `f(args...)` from native code; returns the first result.
    pub fn call_value1(&mut self, f: Value, args: &[Value]) -> LResult<Value> {
        self.call_with(f, args, 1, |vm, func, _| vm.stack[func])
    }

    /// Places `f` and `args` above the running frame, calls it, reads the results
    /// with `take(vm, first_result_slot, count)` and restores the top.
    fn call_with<R>(
        &mut self,
        f: Value,
        args: &[Value],
        nresults: i32,
        take: impl FnOnce(&Vm, usize, usize) -> R,
    ) -> LResult<R> {
        let old_top = self.top;
        let func = self.free_top();
        self.ensure_stack(func + args.len() + 1 + EXTRA_STACK)?;
        self.stack[func] = f;
        self.stack[func + 1..func + 1 + args.len()].copy_from_slice(args);
        self.top = func + 1 + args.len();
        let r = self.call_at(func, args.len(), nresults).map(|n| take(self, func, n));
        self.top = old_top;
        r
    }

    // ----- Upvalues -------------------------------------------------------------------

    /// The open upvalue for `slot` of the running thread, created if needed.
    pub fn find_upval(&mut self, slot: usize) -> GcRef<UpVal> {
        let mut i = self.open_upvals.len();
        while i > 0 {
            let u = self.open_upvals[i - 1];
            if let UpState::Open { slot: s, .. } = u.state() {
                if s == slot {
                    return u;
                }
                if s < slot {
                    break;
                }
            }
            i -= 1;
        }
        let u = self.heap.alloc(UpVal::new(UpState::Open { thread: self.cur_thread, slot }));
        self.open_upvals.insert(i, u);
        u
    }

    /// Closes the running thread's open upvalues at `level` and above.
    #[inline]
    pub fn close_upvals(&mut self, level: usize) {
        while let Some(&u) = self.open_upvals.last() {
            match u.state() {
                UpState::Open { slot, .. } if slot >= level => {
                    u.set_closed(self.stack.get(slot).copied().unwrap_or(Value::NIL));
                    self.heap.barrier(u);
                    self.open_upvals.pop();
                }
                _ => break,
            }
        }
    }

    /// Reads an upvalue.
    #[inline]
    pub fn upval_get(&self, u: GcRef<UpVal>) -> Value {
        match u.state() {
            UpState::Closed(v) => v,
            UpState::Open { thread, slot } => {
                if thread == self.cur_thread {
                    self.stack[slot]
                } else {
                    thread.stack_get(slot)
                }
            }
        }
    }

    /// Writes an upvalue.
    #[inline]
    pub fn upval_set(&mut self, u: GcRef<UpVal>, v: Value) {
        match u.state() {
            UpState::Closed(_) => {
                u.set_closed(v);
                self.heap.barrier(u);
            }
            UpState::Open { thread, slot } => {
                if thread == self.cur_thread {
                    self.stack[slot] = v;
                } else {
                    thread.stack_set(slot, v);
                }
            }
        }
    }

    // ----- Coroutines -------------------------------------------------------------------

    fn call_yield(&mut self, func: usize, nargs: usize, nresults: i32, cont: Cont) -> LResult<CallOutcome> {
        if self.cur_thread == self.main_thread {
            return Err(self.rt_error("attempt to yield from outside a coroutine"));
        }
        if self.ccalls != self.co_ccalls {
            return Err(self.rt_error("attempt to yield across C-call boundary"));
        }
        self.frames.push(Frame::native(func, nresults, cont, false));
        self.top = func + 1 + nargs;
        Ok(CallOutcome::Yield)
    }

    /// Moves the running thread's state into its object and another thread's out.
    fn switch_to(&mut self, to: GcRef<Thread>) {
        let from = self.cur_thread;
        // `from` was running, so its saved state is empty: this moves the VM's into
        // it and leaves the VM's empty, which `to`'s then fills.
        from.swap_state(self.thread_state());
        // No write barrier: a thread is never black while the collector marks
        // (it is traced again in the atomic phase).
        from.set_env(Some(self.globals));
        to.swap_state(self.thread_state());
        if let Some(e) = to.env() {
            self.globals = e;
        }
        self.cur_thread = to;
    }

    /// Resumes `co` with the `nargs` values at `stack[args ..]` of the running
    /// thread, and pushes what it yields or returns onto the running thread's
    /// stack. `Ok(Ok(n))`: it yielded or returned `n` values, now pushed;
    /// `Ok(Err(value))`: it died with that error; `Err`: the resume itself failed
    /// in a way Lua cannot catch (budget, cancellation). The values go from stack to
    /// stack, with no allocation.
    pub fn resume(&mut self, co: GcRef<Thread>, args: usize, nargs: usize) -> LResult<Result<usize, Value>> {
        match co.status() {
            CoStatus::Suspended => {}
            CoStatus::Dead => return Ok(Err(self.str_value(b"cannot resume dead coroutine"))),
            CoStatus::Running => return Ok(Err(self.str_value(b"cannot resume running coroutine"))),
            CoStatus::Normal => return Ok(Err(self.str_value(b"cannot resume non-suspended coroutine"))),
        }
        if self.ccalls >= MAX_CCALLS || !self.native_enter() {
            return Err(self.rt_error("C stack overflow"));
        }
        let prev = self.cur_thread;
        prev.set_status(CoStatus::Normal);
        self.resumers_push(prev);
        self.switch_to(co);
        co.set_status(CoStatus::Running);
        let saved_co_ccalls = self.co_ccalls;
        self.ccalls += 1;
        self.co_ccalls = self.ccalls;

        let r = self.resume_inner(co, prev, args, nargs);

        self.ccalls -= 1;
        self.native_leave();
        self.co_ccalls = saved_co_ccalls;
        // Where the values are in the coroutine's stack.
        let out = match r {
            Ok(ExecEnd::Returned) => {
                co.set_status(CoStatus::Dead);
                Ok((0, self.top.min(self.stack.len())))
            }
            Ok(ExecEnd::Yielded) => {
                co.set_status(CoStatus::Suspended);
                let base = self.frames.last().map(|f| f.base).unwrap_or(0);
                Ok((base, self.top))
            }
            Err(e) => {
                co.set_status(CoStatus::Dead);
                if e.kind().catchable() {
                    Err(Ok(e.value()))
                } else {
                    Err(Err(e))
                }
            }
        };
        self.switch_to(prev);
        self.resumers_pop();
        prev.set_status(CoStatus::Running);
        match out {
            Ok((from, to)) => {
                let n = to - from;
                self.ensure_stack(self.top + n + EXTRA_STACK)?;
                let top = self.top;
                co.stack_copy_to(from..to, &mut self.stack[top..top + n]);
                self.top = top + n;
                Ok(Ok(n))
            }
            Err(Ok(v)) => Ok(Err(v)),
            Err(Err(e)) => Err(e),
        }
    }

    /// Runs the coroutine `co`, now the running thread, with the `nargs` values at
    /// `args` of the resuming thread `from`'s stack.
    fn resume_inner(&mut self, co: GcRef<Thread>, from: GcRef<Thread>, args: usize, nargs: usize) -> LResult<ExecEnd> {
        if !co.started() {
            co.set_started(true);
            // stack[0] holds the body function (set by coroutine.create).
            self.ensure_stack(1 + nargs + EXTRA_STACK)?;
            from.stack_copy_to(args..args + nargs, &mut self.stack[1..1 + nargs]);
            self.top = 1 + nargs;
            match self.precall(0, nargs, -1, Cont::Call)? {
                CallOutcome::Lua => {
                    self.frames[0].boundary = true;
                    self.execute()
                }
                CallOutcome::Done => Ok(ExecEnd::Returned),
                CallOutcome::Yield => {
                    self.frames[0].boundary = true;
                    Ok(ExecEnd::Yielded)
                }
            }
        } else {
            // The yield's native frame is on top: return the resume values from it.
            let Some(fr) = self.frames.pop() else {
                return Err(self.rt_error("cannot resume dead coroutine"));
            };
            let first = self.top;
            self.ensure_stack(first + nargs + EXTRA_STACK)?;
            from.stack_copy_to(args..args + nargs, &mut self.stack[first..first + nargs]);
            self.top = first + nargs;
            self.postcall(fr, first, nargs)?;
            if fr.boundary || self.frames.is_empty() {
                return Ok(ExecEnd::Returned);
            }
            self.execute()
        }
    }

    fn resumers_push(&mut self, t: GcRef<Thread>) {
        self.resumers.push(t);
        self.resume_depth += 1;
    }

    fn resumers_pop(&mut self) {
        self.resumers.pop();
        self.resume_depth -= 1;
    }

    /// Called when the instruction budget runs out: the hook grants more in slices
    /// until the budget is back above zero (a charge larger than a slice uses several),
    /// or says stop.
    #[cold]
    pub fn budget_exhausted(&mut self) -> LResult<()> {
        let Some(hook) = self.budget_hook.as_mut() else {
            self.budget = i64::MAX;
            return Ok(());
        };
        while self.budget < 0 {
            match hook() {
                Some(more) => self.budget = self.budget.saturating_add(more.max(1)),
                None => {
                    self.budget = 0;
                    let v = self.str_value(b"instruction budget exhausted");
                    return Err(LuaError::new(ErrorKind::Budget, v));
                }
            }
        }
        Ok(())
    }

    /// Charges `units` of work done by native code (a library function, the compiler,
    /// the collector) to the instruction budget, where a Lua loop iteration or call is
    /// one unit: a budget or host stop is the error. See [`WORK_BYTES_PER_UNIT`] for
    /// the rate. Call it before (or while) doing the work, so that a limit stops a
    /// long operation before it runs or between its chunks.
    #[inline]
    pub fn charge(&mut self, units: u64) -> LResult<()> {
        self.budget = self.budget.saturating_sub(i64::try_from(units).unwrap_or(i64::MAX));
        if self.budget < 0 {
            self.budget_exhausted()?;
        }
        Ok(())
    }

    /// Charges the work of processing `bytes` bytes (copying, scanning, converting):
    /// one unit per [`WORK_BYTES_PER_UNIT`].
    #[inline]
    pub fn charge_bytes(&mut self, bytes: usize) -> LResult<()> {
        self.charge((bytes / WORK_BYTES_PER_UNIT) as u64)
    }
}
