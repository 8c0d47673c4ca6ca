//! Runs hand-assembled bytecode, independent of the compiler front end.

use moonbox_engine::bytecode::{Ins, Op};
use moonbox_engine::compiler::FuncProto;
use moonbox_engine::object::LuaFunction;
use moonbox_engine::Vm;

fn run(code: Vec<Ins>, framesize: u8) -> Vec<f64> {
    let mut vm = Vm::new();
    let n = code.len();
    let fp = FuncProto {
        code,
        lineinfo: vec![1; n],
        framesize,
        chunkname: std::rc::Rc::from(&b"=test"[..]),
        ..Default::default()
    };
    let p = vm.load_proto(&fp);
    let g = vm.globals;
    let f = vm.heap.alloc(LuaFunction::new(p, g, Box::new([]))).to_value();
    let r = vm.call_value(f, &[], -1).expect("runs");
    r.iter().map(|v| v.num()).collect()
}

#[test]
fn numeric_for_sums() {
    let code = vec![
        Ins::ad(Op::KSHORT, 0, 0),
        Ins::ad(Op::KSHORT, 1, 1),
        Ins::ad(Op::KSHORT, 2, 100),
        Ins::ad(Op::KSHORT, 3, 1),
        Ins::aj(Op::FORI, 1, 2),
        Ins::abc(Op::ADDVV, 0, 0, 4),
        Ins::aj(Op::FORL, 1, -2),
        Ins::ad(Op::RET1, 0, 2),
    ];
    assert_eq!(run(code, 6), vec![5050.0]);
}
