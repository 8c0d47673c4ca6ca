//! `jit.util`: LuaJIT's introspection of functions and traces, over moonbox's own
//! bytecode and trace IR (so instruction words, IR encodings and constant indexes are
//! moonbox's, with LuaJIT's shapes: `funcinfo` tables, `traceinfo` fields, nil past
//! the end). Loaded by `require("jit.util")`, as in LuaJIT (it is not a field of `jit`).

use crate::jit::ir::{IrOp, Ty};
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm};

pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("funcinfo", funcinfo),
        ("funcbc", funcbc),
        ("funck", funck),
        ("funcuvname", funcuvname),
        ("traceinfo", traceinfo),
        ("traceir", traceir),
        ("tracek", tracek),
        ("tracesnap", tracesnap),
        ("tracemc", tracemc),
        ("traceexitstub", traceexitstub),
        ("ircalladdr", ircalladdr),
    ];
    let t = vm.new_table(0, funcs.len());
    for &(name, f) in funcs {
        let v = vm.native(f, name);
        vm.set_field(t, name, v);
    }
    if let Some(l) = crate::stdlib::lib(vm).loaded {
        vm.set_field(l, "jit.util", t.to_value());
    }
}

/// `funcinfo(func [, pc])`.
fn funcinfo(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let t = vm.new_table(0, 16);
    if let Some(cl) = f.as_lua_function() {
        let p = cl.proto;
        let pc = vm.arg(base, nargs, 1).as_number().map(|n| n as i64).unwrap_or(-1);
        let line = if pc >= 0 { p.line_at(pc as usize) } else { p.linedefined };
        let num = |n: usize| Value::number(n as f64);
        vm.set_field(t, "linedefined", num(p.linedefined as usize));
        vm.set_field(t, "lastlinedefined", num(p.lastlinedefined as usize));
        vm.set_field(t, "stackslots", num(usize::from(p.framesize)));
        vm.set_field(t, "params", num(usize::from(p.numparams)));
        vm.set_field(t, "bytecodes", num(p.code.len()));
        vm.set_field(t, "gcconsts", num(p.kgc.len()));
        vm.set_field(t, "nconsts", num(p.kn.len()));
        vm.set_field(t, "upvalues", num(p.upvals.len()));
        vm.set_field(t, "currentline", num(line as usize));
        vm.set_field(t, "isvararg", Value::boolean(p.is_vararg));
        vm.set_field(t, "children", Value::boolean(!p.protos.is_empty()));
        let src = p.chunkname;
        vm.set_field(t, "source", src.to_value());
        let short = crate::jit::short_src(&p);
        let loc = vm.str_value(format!("{short}:{line}").as_bytes());
        vm.set_field(t, "loc", loc);
    } else if let Some(nf) = f.as_native_function() {
        vm.set_field(t, "ffid", Value::number(f64::from(nf.id)));
        vm.set_field(t, "upvalues", Value::number(0.0));
    }
    vm.push(t.to_value());
    Ok(1)
}

/// `funcbc(func, pc)`: the instruction word and its opcode number (nil past the end).
fn funcbc(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let pc = vm.check_int(base, nargs, 1)?;
    let ins = f.as_lua_function().and_then(|c| usize::try_from(pc).ok().and_then(|pc| c.proto.ins(pc)));
    match ins {
        Some(i) => {
            vm.push(Value::number(f64::from(i.0)));
            vm.push(Value::number(f64::from(i.op_byte())));
            Ok(2)
        }
        None => Ok(0),
    }
}

/// `funck(func, idx)`: number constant `idx` (from 0), or GC constant `-idx-1`.
fn funck(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let idx = vm.check_int(base, nargs, 1)?;
    let Some(cl) = f.as_lua_function() else { return Ok(0) };
    let v =
        if idx >= 0 { cl.proto.kn.get(idx as usize).copied() } else { cl.proto.kgc.get((-idx - 1) as usize).copied() };
    match v {
        Some(v) => {
            vm.push(v);
            Ok(1)
        }
        None => Ok(0),
    }
}

/// `funcuvname(func, idx)`.
fn funcuvname(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let f = vm.check_function(base, nargs, 0)?;
    let idx = vm.check_int(base, nargs, 1)?;
    let name =
        f.as_lua_function().and_then(|c| usize::try_from(idx).ok().and_then(|i| c.proto.upval_names.get(i).cloned()));
    match name {
        Some(n) => {
            let v = vm.str_value(&n);
            vm.push(v);
            Ok(1)
        }
        None => Ok(0),
    }
}

fn trace_arg(vm: &mut Vm, base: usize, nargs: usize) -> LResult<u32> {
    let n = vm.check_int(base, nargs, 0)?;
    Ok(u32::try_from(n).unwrap_or(0))
}

/// `traceinfo(tr)`: `{nins, nk, link, nexit, linktype}`, nil for no such trace. The
/// trace being recorded (inside a `jit.attach` handler) has link 0, linktype "none".
fn traceinfo(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let n = trace_arg(vm, base, nargs)?;
    let Some(ir) = vm.jit().trace_ir(n) else { return Ok(0) };
    let nk = ir.ins.iter().filter(|i| matches!(i.op, IrOp::KNUM | IrOp::KPRI | IrOp::KBOX)).count();
    let nins = ir.ins.len() - nk;
    let nexit = ir.snaps.len();
    let (link, linktype) = match vm.jit().trace(n) {
        None => (0, "none"),
        Some(t) if t.parent.is_none() => (t.number, "loop"),
        Some(t) => (t.link_to, "root"),
    };
    let tab = vm.new_table(0, 5);
    vm.set_field(tab, "nins", Value::number(nins as f64));
    vm.set_field(tab, "nk", Value::number(nk as f64));
    vm.set_field(tab, "link", Value::number(f64::from(link)));
    vm.set_field(tab, "nexit", Value::number(nexit as f64));
    let lt = vm.str_value(linktype.as_bytes());
    vm.set_field(tab, "linktype", lt);
    vm.push(tab.to_value());
    Ok(1)
}

fn ty_index(ty: Ty) -> f64 {
    match ty {
        Ty::Nil => 0.0,
        Ty::False => 1.0,
        Ty::True => 2.0,
        Ty::Boxed(t) => f64::from(t),
        Ty::Num => 14.0,
        Ty::Void => 19.0,
        Ty::Ptr => 9.0,
    }
}

/// `traceir(tr, ref)`: an instruction's flags, op and type (`op << 8 | type`), its
/// operands and 0 (moonbox's IR has no per-op chains).
fn traceir(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let n = trace_arg(vm, base, nargs)?;
    let r = vm.check_int(base, nargs, 1)?;
    let ins = vm.jit().trace_ir(n).and_then(|ir| usize::try_from(r).ok().and_then(|r| ir.ins.get(r).copied()));
    let Some(ins) = ins else { return Ok(0) };
    vm.push(Value::number(f64::from(ins.op.flags())));
    vm.push(Value::number(f64::from(ins.op as u32) * 256.0 + ty_index(ins.ty)));
    vm.push(Value::number(f64::from(ins.a)));
    vm.push(Value::number(f64::from(ins.b)));
    vm.push(Value::number(0.0));
    Ok(5)
}

/// `tracek(tr, idx)`: constant `-idx` (from -1 to `-nk`): its value and type.
fn tracek(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let n = trace_arg(vm, base, nargs)?;
    let idx = vm.check_int(base, nargs, 1)?;
    let k = vm.jit().trace_ir(n).and_then(|ir| {
        let consts: Vec<_> =
            ir.ins.iter().filter(|i| matches!(i.op, IrOp::KNUM | IrOp::KPRI | IrOp::KBOX)).copied().collect();
        let i = usize::try_from(-idx).ok()?.checked_sub(1)?;
        let ins = *consts.get(i)?;
        let v = match ins.op {
            IrOp::KNUM => Value::number(f64::from_bits(ins.k)),
            IrOp::KBOX => ir.consts.get(ins.k as usize).copied()?,
            _ => match ins.ty {
                Ty::False => Value::FALSE,
                Ty::True => Value::TRUE,
                _ => Value::NIL,
            },
        };
        Some((v, ty_index(ins.ty)))
    });
    let Some((v, ty)) = k else { return Ok(0) };
    vm.push(v);
    vm.push(Value::number(ty));
    Ok(2)
}

/// `tracesnap(tr, sn)`: `{[0] = pc, [1] = number of entries, slot << 24 | ref ...}`.
fn tracesnap(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let n = trace_arg(vm, base, nargs)?;
    let sn = vm.check_int(base, nargs, 1)?;
    let snap = vm.jit().trace_ir(n).and_then(|ir| usize::try_from(sn).ok().and_then(|s| ir.snaps.get(s).cloned()));
    let Some(snap) = snap else { return Ok(0) };
    let tab = vm.new_table(snap.entries.len() + 1, 1);
    vm.raw_set(tab, Value::number(0.0), Value::number(f64::from(snap.pc)))?;
    vm.raw_set(tab, Value::number(1.0), Value::number(snap.entries.len() as f64))?;
    for (i, e) in snap.entries.iter().enumerate() {
        let word = (u32::from(e.slot) << 24) | u32::from(e.r);
        vm.raw_set(tab, Value::number((i + 2) as f64), Value::number(f64::from(word)))?;
    }
    vm.push(tab.to_value());
    Ok(1)
}

/// `tracemc(tr)`: the trace's machine code as a string, its address (0: not shown)
/// and the loop's offset (0); nil for a trace without machine code (`-jeval`).
fn tracemc(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let n = trace_arg(vm, base, nargs)?;
    let Some(code) = vm.jit().trace(n).and_then(|t| t.code.mcode()) else { return Ok(0) };
    let s = vm.str_value(&code);
    vm.push(s);
    vm.push(Value::number(0.0));
    vm.push(Value::number(0.0));
    Ok(3)
}

/// `traceexitstub(tr, exitno)`: exit stub addresses are not shown (nil).
fn traceexitstub(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    trace_arg(vm, base, nargs)?;
    vm.check_int(base, nargs, 1)?;
    Ok(0)
}

/// `ircalladdr(idx)`: helper addresses are not shown (nil).
fn ircalladdr(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    vm.check_int(base, nargs, 0)?;
    Ok(0)
}
