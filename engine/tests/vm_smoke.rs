//! Runs hand-assembled bytecode, independent of the compiler front end.

use moonbox_engine::bytecode::{Ins, Op};
use moonbox_engine::compiler::FuncProto;

fn run(code: Vec<Ins>, framesize: u8) -> Vec<f64> {
    // SAFETY: the state lives for this function; the results are numbers.
    let mut vm = unsafe { moonbox_engine::stdlib::new_state() };
    let n = code.len();
    let fp = FuncProto {
        code,
        lineinfo: vec![1; n],
        framesize,
        chunkname: std::rc::Rc::from(&b"=test"[..]),
        ..Default::default()
    };
    let p = vm.load_proto(&fp).expect("loads");
    let f = vm.closure_of(p);
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

/// Found by the `run_binary` fuzz target: `TNEW` with 31 hash-size bits (which a
/// binary chunk can hold) preallocated 2^31 nodes, and the failed allocation aborted
/// the process. The size is a hint; it is capped, and the table still works.
#[test]
fn tnew_with_a_huge_hash_hint_allocates_little() {
    let code = vec![
        Ins::ad(Op::TNEW, 0, 31 << 11),
        Ins::ad(Op::KSHORT, 1, 7),
        Ins::ad(Op::KSHORT, 2, 42),
        Ins::abc(Op::TSETV, 2, 0, 1),
        Ins::abc(Op::TGETV, 3, 0, 1),
        Ins::ad(Op::RET1, 3, 2),
    ];
    assert_eq!(run(code, 4), vec![42.0]);
}
