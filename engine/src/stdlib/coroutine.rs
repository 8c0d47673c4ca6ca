//! The coroutine library.

use crate::gc::GcRef;
use crate::object::Thread;
use crate::value::Value;
use crate::vm::{CoStatus, ErrorKind, LResult, LuaError, NativeFunction, Special, Vm};

pub fn open(vm: &mut Vm) {
    let t = super::register_lib(
        vm,
        "coroutine",
        &[
            ("create", create),
            ("resume", resume),
            ("running", running),
            ("status", status),
            ("wrap", wrap),
            ("isyieldable", isyieldable),
        ],
    );
    let mut y = NativeFunction::new(yield_, "yield", Box::new([]));
    y.special = Special::Yield;
    vm.alloc_native(&mut y);
    let yv = vm.heap.alloc(y).to_value();
    vm.set_field(t, "yield", yv);
}

fn check_co(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<GcRef<Thread>> {
    match vm.arg(base, nargs, i).as_thread() {
        Some(t) => Ok(t),
        // LuaJIT names no actual type here.
        None => Err(vm.arg_error(i + 1, "coroutine expected")),
    }
}

fn create(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let co = vm.new_thread(f);
    vm.push(co.to_value());
    Ok(1)
}

fn resume(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let co = check_co(vm, base, nargs, 0)?;
    match vm.resume(co, base + 1, nargs.saturating_sub(1))? {
        Ok(n) => {
            // The results were pushed at the top: `true` goes in the coroutine
            // argument's slot, and they follow it.
            vm.stack[base] = Value::TRUE;
            let top = vm.top;
            vm.stack.copy_within(top - n..top, base + 1);
            vm.top = base + 1 + n;
            Ok(n + 1)
        }
        Err(e) => {
            vm.push(Value::FALSE);
            vm.push(e);
            Ok(2)
        }
    }
}

fn wrap_aux(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let Some(co) = vm.native_upval(0).as_thread() else {
        return Err(vm.rt_error("cannot resume dead coroutine"));
    };
    match vm.resume(co, base, nargs)? {
        Ok(n) => Ok(n),
        Err(e) => {
            // LuaJIT prepends the caller's position to string errors.
            if e.is_string() || e.is_number() {
                let mut b = Vec::new();
                crate::vm::meta::append_str_or_num(&mut b, e);
                let m = String::from_utf8_lossy(&b).into_owned();
                return Err(vm.rt_error(&m));
            }
            Err(LuaError::new(ErrorKind::Runtime, e))
        }
    }
}

fn wrap(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let co = vm.new_thread(f);
    let w = vm.native_closure(wrap_aux, "wrap", vec![co.to_value()]);
    vm.push(w);
    Ok(1)
}

fn running(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    if vm.cur_thread == vm.main_thread {
        vm.push(Value::NIL);
    } else {
        vm.push(vm.cur_thread.to_value());
    }
    Ok(1)
}

fn status(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let co = check_co(vm, base, nargs, 0)?;
    let s = match co.status() {
        CoStatus::Suspended => "suspended",
        CoStatus::Running => "running",
        CoStatus::Normal => "normal",
        CoStatus::Dead => "dead",
    };
    let s = if co == vm.cur_thread { "running" } else { s };
    let v = vm.str_value(s.as_bytes());
    vm.push(v);
    Ok(1)
}

fn isyieldable(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let y = vm.cur_thread != vm.main_thread && vm.ccalls == vm.co_ccalls;
    vm.push(Value::boolean(y));
    Ok(1)
}

/// Never called: the dispatch loop handles `Special::Yield` itself.
fn yield_(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    Err(vm.rt_error("attempt to yield across C-call boundary"))
}
