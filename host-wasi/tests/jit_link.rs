//! The trace-link import (`moonbox.jit_link`) under attack, and the Wasm trace JIT
//! inside the sandbox: a stand-in guest hands the host garbage, huge or
//! out-of-bounds sizes, modules that reach outside their imports, and thousands of
//! modules; it gets 0 (refused), -1 (a cap reached) or its own trap, and the host
//! goes on. Real tenants' traces stop at `--timeout` and `--fuel` like any code.

mod common;

use std::time::Duration;

use common::{run, stdout};
use moonbox_host_wasi::fuzzing::LinkProbe;
use moonbox_host_wasi::{JitCaps, Outcome, Tenant};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, ImportSection, InstructionSink, MemArg, MemorySection, MemoryType, Module, StartSection,
    TypeSection, ValType,
};

fn memory_type() -> MemoryType {
    MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None }
}

/// What a trace module may differ in, for the refused variants.
#[derive(Default)]
struct Shape {
    extra_import: Option<(&'static str, &'static str)>,
    start: bool,
    data: bool,
    own_memory: bool,
    global: bool,
    second_export: bool,
    export_name: Option<&'static str>,
    one_param: bool,
}

/// A module shaped as `jit-wasm` emits them, whose `trace` runs `body`.
fn module(shape: &Shape, body: impl Fn(&mut InstructionSink)) -> Vec<u8> {
    let mut types = TypeSection::new();
    if shape.one_param {
        types.ty().function([ValType::I32], [ValType::I32]);
    } else {
        types.ty().function([ValType::I32, ValType::I32], [ValType::I32]);
    }
    types.ty().function([], []);
    let mut imports = ImportSection::new();
    let mut nfuncs_imported = 0;
    if !shape.own_memory {
        imports.import("env", "memory", EntityType::Memory(memory_type()));
    }
    if let Some((m, n)) = shape.extra_import {
        imports.import(m, n, EntityType::Function(1));
        nfuncs_imported = 1;
    }
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    if shape.start {
        funcs.function(1);
    }
    let mut m = Module::new();
    m.section(&types).section(&imports).section(&funcs);
    if shape.own_memory {
        let mut mems = MemorySection::new();
        mems.memory(memory_type());
        m.section(&mems);
    }
    if shape.global {
        let mut g = GlobalSection::new();
        g.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(0));
        m.section(&g);
    }
    let mut exports = ExportSection::new();
    exports.export(shape.export_name.unwrap_or("trace"), ExportKind::Func, nfuncs_imported);
    if shape.second_export {
        exports.export("other", ExportKind::Func, nfuncs_imported);
    }
    m.section(&exports);
    if shape.start {
        m.section(&StartSection { function_index: nfuncs_imported + 1 });
    }
    let mut code = CodeSection::new();
    let mut f = Function::new([]);
    body(&mut f.instructions());
    f.instructions().end();
    code.function(&f);
    if shape.start {
        let mut s = Function::new([]);
        s.instructions().end();
        code.function(&s);
    }
    m.section(&code);
    if shape.data {
        let mut d = DataSection::new();
        d.active(0, &ConstExpr::i32_const(0), [0xAAu8; 16]);
        m.section(&d);
    }
    m.finish()
}

fn returns(k: i32) -> Vec<u8> {
    module(&Shape::default(), |f| {
        f.i32_const(k);
    })
}

fn probe() -> LinkProbe {
    LinkProbe::new(JitCaps::default(), 100_000_000).expect("the probe starts")
}

#[test]
fn a_well_formed_module_is_linked_and_called_through_the_table() {
    let mut p = probe();
    let i = p.link(&returns(42)).unwrap();
    assert!(i > 0, "linked at {i}");
    assert_eq!(p.call(i, 0, 0).unwrap(), 42);
    // It reads the guest's memory: the same memory, not a copy.
    let reads = module(&Shape::default(), |f| {
        f.local_get(0).i32_load(MemArg { offset: 0, align: 2, memory_index: 0 });
    });
    let j = p.link(&reads).unwrap();
    assert!(j > 0 && j != i);
    // The probe's memory holds the module it last handed over at 4096.
    let first_word = p.call(j, 4096, 0).unwrap();
    assert_eq!(first_word.to_le_bytes(), [0, b'a', b's', b'm']);
    assert_eq!(p.refused(), 0);
}

#[test]
fn garbage_sizes_and_pointers_are_refused() {
    let mut p = probe();
    assert_eq!(p.link(b"").unwrap(), 0);
    assert_eq!(p.link(b"\0asm\x01\0\0\0garbage").unwrap(), 0);
    assert_eq!(p.link(&[0xFF; 5000]).unwrap(), 0);
    assert_eq!(p.link_raw(4096, -1).unwrap(), 0);
    assert_eq!(p.link_raw(4096, i32::MAX).unwrap(), 0);
    assert_eq!(p.link_raw(-100, 64).unwrap(), 0);
    assert_eq!(p.link_raw(i32::MAX - 8, 64).unwrap(), 0);
    // Just over the size cap.
    assert_eq!(p.link_raw(0, (moonbox_host_wasi::MAX_MODULE_BYTES + 1) as i32).unwrap(), 0);
    // Still linking after all that.
    assert!(p.link(&returns(7)).unwrap() > 0);
}

#[test]
fn modules_that_reach_outside_their_shape_are_refused() {
    let mut p = probe();
    let bad = [
        ("imports a host function", Shape { extra_import: Some(("moonbox", "jit_link")), ..Shape::default() }),
        (
            "imports from another module",
            Shape { extra_import: Some(("wasi_snapshot_preview1", "fd_write")), ..Shape::default() },
        ),
        ("has a start function", Shape { start: true, ..Shape::default() }),
        ("has a data segment", Shape { data: true, ..Shape::default() }),
        ("has its own memory", Shape { own_memory: true, ..Shape::default() }),
        ("has a global", Shape { global: true, ..Shape::default() }),
        ("exports two functions", Shape { second_export: true, ..Shape::default() }),
        ("exports another name", Shape { export_name: Some("_start"), ..Shape::default() }),
        ("has another signature", Shape { one_param: true, ..Shape::default() }),
    ];
    for (what, shape) in bad {
        let m = module(&shape, |f| {
            f.i32_const(1);
        });
        assert_eq!(p.link(&m).unwrap(), 0, "a module that {what}");
    }
    assert_eq!(p.refused(), 9);
}

/// Shapes that are valid Wasm but slow to compile (Cranelift merging many locals
/// at deeply nested blocks takes seconds) are refused before compiling: the host's
/// time is not fuel.
#[test]
fn modules_slow_to_compile_are_refused_unread() {
    let mut p = probe();
    let nested = |depth: u32| {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32, ValType::I32], [ValType::I32]);
        let mut imports = ImportSection::new();
        imports.import("env", "memory", EntityType::Memory(memory_type()));
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        let mut exports = ExportSection::new();
        exports.export("trace", ExportKind::Func, 0);
        let mut f = Function::new([(400, ValType::F64)]);
        for _ in 0..depth {
            f.instructions().block(wasm_encoder::BlockType::Empty);
        }
        for i in 0..depth {
            f.instructions().local_get(2 + i % 400).f64_const(0.0.into()).f64_lt().br_if(i);
        }
        for _ in 0..depth {
            f.instructions().end();
        }
        f.instructions().i32_const(1).end();
        let mut code = CodeSection::new();
        code.function(&f);
        let mut m = Module::new();
        m.section(&types).section(&imports).section(&funcs).section(&exports).section(&code);
        m.finish()
    };
    let t0 = std::time::Instant::now();
    assert_eq!(p.link(&nested(400)).unwrap(), 0);
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    // Within the limits (what jit-wasm emits at most) it links.
    assert!(p.link(&nested(130)).unwrap() > 0);
}

#[test]
fn a_trace_that_loops_forever_runs_out_of_fuel_and_the_host_goes_on() {
    let mut p = LinkProbe::new(JitCaps::default(), 5_000_000).unwrap();
    let spin = module(&Shape::default(), |f| {
        f.loop_(wasm_encoder::BlockType::Empty).br(0).end().i32_const(0);
    });
    let i = p.link(&spin).unwrap();
    assert!(i > 0);
    let err = p.call(i, 0, 0).unwrap_err();
    assert_eq!(err.downcast_ref::<wasmtime::Trap>(), Some(&wasmtime::Trap::OutOfFuel), "{err:?}");
}

#[test]
fn released_slots_are_reused_and_other_slots_cannot_be_released() {
    let mut p = probe();
    let a = p.link(&returns(1)).unwrap();
    let b = p.link(&returns(2)).unwrap();
    p.release(a).unwrap();
    // A released slot is empty: calling it is the tenant's own trap.
    assert!(p.call(a, 0, 0).is_err());
    let c = p.link(&returns(3)).unwrap();
    assert_eq!(c, a, "the free slot is reused");
    assert_eq!(p.call(c, 0, 0).unwrap(), 3);
    // Indexes the host did not hand out are ignored.
    for bad in [0, -5, 999_999, b + 1] {
        p.release(bad).unwrap();
    }
    assert_eq!(p.call(b, 0, 0).unwrap(), 2);
}

#[test]
fn thousands_of_modules_stop_at_the_trace_cap() {
    let caps = JitCaps { traces: 64, ..JitCaps::default() };
    let mut p = LinkProbe::new(caps, u64::MAX / 2).unwrap();
    let mut linked = 0;
    let mut full = 0;
    for k in 0..1000 {
        match p.link(&returns(k)).unwrap() {
            i if i > 0 => linked += 1,
            -1 => full += 1,
            other => panic!("module {k}: {other}"),
        }
    }
    assert_eq!((linked, full), (64, 936));
    // The byte cap and the compile-time cap hold the same way.
    let mut p = LinkProbe::new(JitCaps { bytes: 1000, ..JitCaps::default() }, u64::MAX / 2).unwrap();
    let answers: Vec<i32> = (0..40).map(|k| p.link(&returns(k)).unwrap()).collect();
    assert!(answers.iter().filter(|&&a| a > 0).count() < 40 && answers.last() == Some(&-1), "{answers:?}");
    let mut p = LinkProbe::new(JitCaps { compile_time: Duration::ZERO, ..JitCaps::default() }, u64::MAX / 2).unwrap();
    assert_eq!(p.link(&returns(1)).unwrap(), -1);
}

/// A real tenant: its loop is a linked trace, and the results are the
/// interpreter's.
#[test]
fn tenant_loops_run_as_linked_traces() {
    let code = "local s = 0 for i = 1, 100000 do s = s + i % 7 end print(s)";
    let r = run(&Tenant::new(), code);
    assert_eq!(stdout(&r), "300000\n");
    assert!(!r.jit_link_times.is_empty(), "no trace was linked");
    assert_eq!(r.jit_refused, 0);
    let off = run(&Tenant::new().jit(false), code);
    assert_eq!(stdout(&off), "300000\n");
    assert!(off.jit_link_times.is_empty());
    let flags = run(&Tenant::new().jit_flags(&["-joff"]).unwrap(), code);
    assert!(flags.jit_link_times.is_empty());
    // Flags that are not JIT flags never reach the guest.
    assert!(Tenant::new().jit_flags(&["--grant-write"]).is_err());
    assert!(Tenant::new().jit_flags(&["-jv /"]).is_err());
}

/// A traced endless loop is stopped by the deadline and by fuel, as interpreted
/// code is.
#[test]
fn traced_endless_loops_stop_at_the_limits() {
    let code = "local x = 0 while true do x = x + 1 end";
    let r = run(&Tenant::new().timeout(Some(Duration::from_millis(300))), code);
    assert_eq!(r.outcome, Outcome::Timeout);
    assert!(!r.jit_link_times.is_empty(), "the loop was not traced");
    let r = run(&Tenant::new().fuel(Some(50_000_000)), code);
    assert_eq!(r.outcome, Outcome::OutOfFuel);
    assert!(!r.jit_link_times.is_empty());
}
