//! The assembler checked by an independent decoder (iced-x86): every form is encoded over
//! its operand space, one instruction at a time, and the decoded instruction must consume
//! exactly the encoded bytes, have the expected `Code`, and carry the same operands
//! (registers, memory base/index/scale/displacement and size, immediates); jumps are
//! checked for their branch targets in the label tests.
//!
//! Memory operands sweep every base (rsp/rbp/r12/r13 included), no index or every legal index
//! with every scale, displacements at the disp8/disp32 boundaries, and RIP-relative forms.
//! Register positions rotate through all sixteen against that list, so every register meets
//! every base without a full cross product.
//!
//! Also here: label and jump-distance tests and the golden listing
//! (`tests/golden/x64_asm.txt`, re-blessed with `MOONBOX_BLESS=1`).

use iced_x86::{Code, Decoder, DecoderOptions, Instruction, OpKind, Register};
use moonbox_jit_native::disasm;
use moonbox_jit_native::x64::{AsmError, Assembler, Cond, Gpr, Label, Mem, RoundMode, Scale, Size, Xmm};

// ---------------------------------------------------------------------------------------------
// Our operands → iced's names.
// ---------------------------------------------------------------------------------------------

const R64: [Register; 16] = [
    Register::RAX,
    Register::RCX,
    Register::RDX,
    Register::RBX,
    Register::RSP,
    Register::RBP,
    Register::RSI,
    Register::RDI,
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
    Register::R12,
    Register::R13,
    Register::R14,
    Register::R15,
];
const R32: [Register; 16] = [
    Register::EAX,
    Register::ECX,
    Register::EDX,
    Register::EBX,
    Register::ESP,
    Register::EBP,
    Register::ESI,
    Register::EDI,
    Register::R8D,
    Register::R9D,
    Register::R10D,
    Register::R11D,
    Register::R12D,
    Register::R13D,
    Register::R14D,
    Register::R15D,
];
const R16: [Register; 16] = [
    Register::AX,
    Register::CX,
    Register::DX,
    Register::BX,
    Register::SP,
    Register::BP,
    Register::SI,
    Register::DI,
    Register::R8W,
    Register::R9W,
    Register::R10W,
    Register::R11W,
    Register::R12W,
    Register::R13W,
    Register::R14W,
    Register::R15W,
];
const R8: [Register; 16] = [
    Register::AL,
    Register::CL,
    Register::DL,
    Register::BL,
    Register::SPL,
    Register::BPL,
    Register::SIL,
    Register::DIL,
    Register::R8L,
    Register::R9L,
    Register::R10L,
    Register::R11L,
    Register::R12L,
    Register::R13L,
    Register::R14L,
    Register::R15L,
];
const XMM: [Register; 16] = [
    Register::XMM0,
    Register::XMM1,
    Register::XMM2,
    Register::XMM3,
    Register::XMM4,
    Register::XMM5,
    Register::XMM6,
    Register::XMM7,
    Register::XMM8,
    Register::XMM9,
    Register::XMM10,
    Register::XMM11,
    Register::XMM12,
    Register::XMM13,
    Register::XMM14,
    Register::XMM15,
];

const SIZES: [Size; 2] = [Size::S32, Size::S64];

fn si(size: Size) -> usize {
    match size {
        Size::S32 => 0,
        Size::S64 => 1,
    }
}

fn bytes_of(size: Size) -> usize {
    match size {
        Size::S32 => 4,
        Size::S64 => 8,
    }
}

fn g64(g: Gpr) -> Register {
    R64[usize::from(g.num())]
}

fn gs(size: Size, g: Gpr) -> Register {
    match size {
        Size::S32 => R32[usize::from(g.num())],
        Size::S64 => R64[usize::from(g.num())],
    }
}

fn x(r: Xmm) -> Register {
    XMM[usize::from(r.num())]
}

/// An expected operand.
#[derive(Clone, Copy, Debug)]
enum Op {
    R(Register),
    /// Memory operand and its size in bytes (0: do not check, as for `lea`).
    M(Mem, usize),
    /// Immediate, compared at the width the decoder reports.
    I(i64),
}

fn reg(size: Size, g: Gpr) -> Op {
    Op::R(gs(size, g))
}

fn xr(r: Xmm) -> Op {
    Op::R(x(r))
}

// ---------------------------------------------------------------------------------------------
// Operand spaces.
// ---------------------------------------------------------------------------------------------

const DISPS: [i32; 10] = [0, 1, -1, 127, 128, -128, -129, 0x1234_5678, i32::MIN, i32::MAX];
const IMMS: [i32; 12] = [0, 1, -1, 127, 128, -128, -129, 255, 0x7fff, 0x1234_5678, i32::MIN, i32::MAX];

/// The label every sweep assembler binds at offset 0 before its instruction, so RIP-relative
/// operands have a known target (`disp`) whatever the instruction's length and immediate.
fn label0() -> Label {
    Assembler::new().new_label()
}

/// Every base, with no index or every legal index at every scale, at every displacement;
/// then RIP-relative at a few displacements.
fn mems() -> Vec<Mem> {
    let mut out = Vec::new();
    for base in Gpr::ALL {
        for disp in DISPS {
            out.push(Mem::base(base, disp));
        }
        for index in Gpr::ALL {
            for scale in Scale::ALL {
                for disp in DISPS {
                    match Mem::indexed(base, index, scale, disp) {
                        Ok(m) => out.push(m),
                        Err(e) => {
                            assert_eq!(index, Gpr::Rsp);
                            assert_eq!(e, AsmError::RspIndex);
                        }
                    }
                }
            }
        }
    }
    for disp in [0, 1, -1, 127, 128, 0x1000, 0x1234_5678] {
        out.push(Mem::rip_offset(label0(), disp));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The oracle.
// ---------------------------------------------------------------------------------------------

fn assemble(f: impl FnOnce(&mut Assembler)) -> Vec<u8> {
    let mut a = Assembler::new();
    let l = a.new_label();
    a.bind(l);
    f(&mut a);
    match a.finish() {
        Ok(code) => code,
        Err(e) => panic!("assembler error: {e}"),
    }
}

fn decode_one(bytes: &[u8]) -> Instruction {
    Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE).decode()
}

fn decode_all(bytes: &[u8]) -> Vec<Instruction> {
    let mut d = Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE);
    let mut out = Vec::new();
    while d.can_decode() {
        let ins = d.decode();
        assert!(!ins.is_invalid(), "invalid instruction at {} in {bytes:02x?}", ins.ip());
        out.push(ins);
    }
    out
}

fn text(bytes: &[u8]) -> String {
    disasm::lines(bytes, 0).into_iter().map(|l| l.text).collect::<Vec<_>>().join("; ")
}

fn imm_matches(kind: OpKind, got: u64, want: i64) -> bool {
    match kind {
        OpKind::Immediate8 => got as u8 == want as u8,
        OpKind::Immediate8to16 | OpKind::Immediate16 => got as u16 == want as u16,
        OpKind::Immediate8to32 | OpKind::Immediate32 => got as u32 == want as u32,
        OpKind::Immediate8to64 | OpKind::Immediate32to64 | OpKind::Immediate64 => got == want as u64,
        _ => false,
    }
}

#[derive(Default)]
struct Oracle {
    count: usize,
}

impl Oracle {
    /// Encodes one instruction with `f` and checks it against the decoder.
    fn check(&mut self, what: &str, code: Code, ops: &[Op], f: impl FnOnce(&mut Assembler)) {
        let bytes = assemble(f);
        self.check_bytes(what, &bytes, code, ops);
    }

    fn check_bytes(&mut self, what: &str, bytes: &[u8], code: Code, ops: &[Op]) {
        let ins = decode_one(bytes);
        let ctx = || {
            format!(
                "{what}: bytes {bytes:02x?} decode as `{}` ({:?}), expected {code:?} {ops:?}",
                text(bytes),
                ins.code()
            )
        };
        assert!(!ins.is_invalid(), "{}", ctx());
        assert_eq!(ins.len(), bytes.len(), "length: {}", ctx());
        assert_eq!(ins.code(), code, "code: {}", ctx());
        assert_eq!(ins.op_count() as usize, ops.len(), "operand count: {}", ctx());
        for (i, op) in ops.iter().enumerate() {
            let i = i as u32;
            let kind = ins.op_kind(i);
            match *op {
                Op::R(r) => {
                    assert_eq!(kind, OpKind::Register, "operand {i} kind: {}", ctx());
                    assert_eq!(ins.op_register(i), r, "operand {i} register: {}", ctx());
                }
                Op::M(m, size) => {
                    assert_eq!(kind, OpKind::Memory, "operand {i} kind: {}", ctx());
                    let (base, index, scale, disp) = match m.label() {
                        Some(_) => (Register::RIP, Register::None, 1, i64::from(m.disp()) as u64),
                        None => {
                            let base = m.base_reg().map_or(Register::None, g64);
                            let (index, scale) =
                                m.index_reg().map_or((Register::None, 1), |(g, s)| (g64(g), s.factor()));
                            (base, index, scale, i64::from(m.disp()) as u64)
                        }
                    };
                    assert_eq!(ins.memory_base(), base, "base: {}", ctx());
                    assert_eq!(ins.memory_index(), index, "index: {}", ctx());
                    assert_eq!(ins.memory_index_scale(), scale, "scale: {}", ctx());
                    assert_eq!(ins.memory_displacement64(), disp, "displacement: {}", ctx());
                    if size != 0 {
                        assert_eq!(ins.memory_size().size(), size, "memory size: {}", ctx());
                    }
                }
                Op::I(v) => {
                    let got = ins.immediate(i);
                    assert!(imm_matches(kind, got, v), "immediate {kind:?} {got:#x} != {v:#x}: {}", ctx());
                }
            }
        }
        self.count += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Sweeps, one per family.
// ---------------------------------------------------------------------------------------------

type Rr = fn(&mut Assembler, Size, Gpr, Gpr);
type Ri = fn(&mut Assembler, Size, Gpr, i32);
type RmF = fn(&mut Assembler, Size, Gpr, Mem);
type MrF = fn(&mut Assembler, Size, Mem, Gpr);
type Mi = fn(&mut Assembler, Size, Mem, i32);

struct Alu {
    name: &'static str,
    rr: Rr,
    ri: Ri,
    rm: RmF,
    mr: MrF,
    mi: Mi,
    /// `op r/m, r` by size (also the code of `mr`).
    c_rm_r: [Code; 2],
    /// `op r, r/m` by size.
    c_r_rm: [Code; 2],
    c_imm8: [Code; 2],
    c_imm32: [Code; 2],
}

macro_rules! alu {
    ($name:ident $rr:ident $ri:ident $rm:ident $mr:ident $mi:ident
     $a32:ident $a64:ident $b32:ident $b64:ident $c32:ident $c64:ident $d32:ident $d64:ident) => {
        Alu {
            name: stringify!($name),
            rr: Assembler::$rr,
            ri: Assembler::$ri,
            rm: Assembler::$rm,
            mr: Assembler::$mr,
            mi: Assembler::$mi,
            c_rm_r: [Code::$a32, Code::$a64],
            c_r_rm: [Code::$b32, Code::$b64],
            c_imm8: [Code::$c32, Code::$c64],
            c_imm32: [Code::$d32, Code::$d64],
        }
    };
}

fn alu_table() -> Vec<Alu> {
    vec![
        alu!(add add_rr add_ri add_rm add_mr add_mi Add_rm32_r32 Add_rm64_r64 Add_r32_rm32 Add_r64_rm64 Add_rm32_imm8 Add_rm64_imm8 Add_rm32_imm32 Add_rm64_imm32),
        alu!(or or_rr or_ri or_rm or_mr or_mi Or_rm32_r32 Or_rm64_r64 Or_r32_rm32 Or_r64_rm64 Or_rm32_imm8 Or_rm64_imm8 Or_rm32_imm32 Or_rm64_imm32),
        alu!(adc adc_rr adc_ri adc_rm adc_mr adc_mi Adc_rm32_r32 Adc_rm64_r64 Adc_r32_rm32 Adc_r64_rm64 Adc_rm32_imm8 Adc_rm64_imm8 Adc_rm32_imm32 Adc_rm64_imm32),
        alu!(sbb sbb_rr sbb_ri sbb_rm sbb_mr sbb_mi Sbb_rm32_r32 Sbb_rm64_r64 Sbb_r32_rm32 Sbb_r64_rm64 Sbb_rm32_imm8 Sbb_rm64_imm8 Sbb_rm32_imm32 Sbb_rm64_imm32),
        alu!(and and_rr and_ri and_rm and_mr and_mi And_rm32_r32 And_rm64_r64 And_r32_rm32 And_r64_rm64 And_rm32_imm8 And_rm64_imm8 And_rm32_imm32 And_rm64_imm32),
        alu!(sub sub_rr sub_ri sub_rm sub_mr sub_mi Sub_rm32_r32 Sub_rm64_r64 Sub_r32_rm32 Sub_r64_rm64 Sub_rm32_imm8 Sub_rm64_imm8 Sub_rm32_imm32 Sub_rm64_imm32),
        alu!(xor xor_rr xor_ri xor_rm xor_mr xor_mi Xor_rm32_r32 Xor_rm64_r64 Xor_r32_rm32 Xor_r64_rm64 Xor_rm32_imm8 Xor_rm64_imm8 Xor_rm32_imm32 Xor_rm64_imm32),
        alu!(cmp cmp_rr cmp_ri cmp_rm cmp_mr cmp_mi Cmp_rm32_r32 Cmp_rm64_r64 Cmp_r32_rm32 Cmp_r64_rm64 Cmp_rm32_imm8 Cmp_rm64_imm8 Cmp_rm32_imm32 Cmp_rm64_imm32),
    ]
}

fn fits8(v: i32) -> bool {
    i8::try_from(v).is_ok()
}

fn sweep_alu(o: &mut Oracle, mems: &[Mem]) {
    for op in alu_table() {
        let n = op.name;
        for size in SIZES {
            let s = si(size);
            for d in Gpr::ALL {
                for src in Gpr::ALL {
                    o.check(n, op.c_rm_r[s], &[reg(size, d), reg(size, src)], |a| (op.rr)(a, size, d, src));
                }
                for imm in IMMS {
                    let code = if fits8(imm) { op.c_imm8[s] } else { op.c_imm32[s] };
                    o.check(n, code, &[reg(size, d), Op::I(i64::from(imm))], |a| (op.ri)(a, size, d, imm));
                }
            }
            let ms = bytes_of(size);
            for (i, &m) in mems.iter().enumerate() {
                let r = Gpr::ALL[i % 16];
                o.check(n, op.c_r_rm[s], &[reg(size, r), Op::M(m, ms)], |a| (op.rm)(a, size, r, m));
                o.check(n, op.c_rm_r[s], &[Op::M(m, ms), reg(size, r)], |a| (op.mr)(a, size, m, r));
                let imm = IMMS[i % IMMS.len()];
                let code = if fits8(imm) { op.c_imm8[s] } else { op.c_imm32[s] };
                o.check(n, code, &[Op::M(m, ms), Op::I(i64::from(imm))], |a| (op.mi)(a, size, m, imm));
            }
        }
    }
}

const IMM64S: [u64; 8] = [0, 1, u64::MAX, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x8000_0000_0000_0000];

fn sweep_mov(o: &mut Oracle, mems: &[Mem]) {
    for size in SIZES {
        let s = si(size);
        let ms = bytes_of(size);
        for d in Gpr::ALL {
            for src in Gpr::ALL {
                let code = [Code::Mov_rm32_r32, Code::Mov_rm64_r64][s];
                o.check("mov_rr", code, &[reg(size, d), reg(size, src)], |a| a.mov_rr(size, d, src));
                let code = [Code::Movzx_r32_rm8, Code::Movzx_r64_rm8][s];
                o.check("movzx_rr8", code, &[reg(size, d), Op::R(R8[usize::from(src.num())])], |a| {
                    a.movzx_rr8(size, d, src)
                });
                let code = [Code::Movzx_r32_rm16, Code::Movzx_r64_rm16][s];
                o.check("movzx_rr16", code, &[reg(size, d), Op::R(R16[usize::from(src.num())])], |a| {
                    a.movzx_rr16(size, d, src)
                });
                let code = [Code::Movsx_r32_rm8, Code::Movsx_r64_rm8][s];
                o.check("movsx_rr8", code, &[reg(size, d), Op::R(R8[usize::from(src.num())])], |a| {
                    a.movsx_rr8(size, d, src)
                });
                let code = [Code::Movsx_r32_rm16, Code::Movsx_r64_rm16][s];
                o.check("movsx_rr16", code, &[reg(size, d), Op::R(R16[usize::from(src.num())])], |a| {
                    a.movsx_rr16(size, d, src)
                });
            }
            for imm in IMMS {
                let code = [Code::Mov_r32_imm32, Code::Mov_rm64_imm32][s];
                o.check("mov_ri", code, &[reg(size, d), Op::I(i64::from(imm))], |a| a.mov_ri(size, d, imm));
            }
        }
        for (i, &m) in mems.iter().enumerate() {
            let r = Gpr::ALL[i % 16];
            let imm = IMMS[i % IMMS.len()];
            let (c_rm, c_mr, c_mi) = match size {
                Size::S32 => (Code::Mov_r32_rm32, Code::Mov_rm32_r32, Code::Mov_rm32_imm32),
                Size::S64 => (Code::Mov_r64_rm64, Code::Mov_rm64_r64, Code::Mov_rm64_imm32),
            };
            o.check("mov_rm", c_rm, &[reg(size, r), Op::M(m, ms)], |a| a.mov_rm(size, r, m));
            o.check("mov_mr", c_mr, &[Op::M(m, ms), reg(size, r)], |a| a.mov_mr(size, m, r));
            o.check("mov_mi", c_mi, &[Op::M(m, ms), Op::I(i64::from(imm))], |a| a.mov_mi(size, m, imm));
            let code = [Code::Movzx_r32_rm8, Code::Movzx_r64_rm8][s];
            o.check("movzx_rm8", code, &[reg(size, r), Op::M(m, 1)], |a| a.movzx_rm8(size, r, m));
            let code = [Code::Movzx_r32_rm16, Code::Movzx_r64_rm16][s];
            o.check("movzx_rm16", code, &[reg(size, r), Op::M(m, 2)], |a| a.movzx_rm16(size, r, m));
            let code = [Code::Movsx_r32_rm8, Code::Movsx_r64_rm8][s];
            o.check("movsx_rm8", code, &[reg(size, r), Op::M(m, 1)], |a| a.movsx_rm8(size, r, m));
            let code = [Code::Movsx_r32_rm16, Code::Movsx_r64_rm16][s];
            o.check("movsx_rm16", code, &[reg(size, r), Op::M(m, 2)], |a| a.movsx_rm16(size, r, m));
            if size == Size::S32 {
                let imm8 = imm as u8;
                o.check("mov_m8r", Code::Mov_rm8_r8, &[Op::M(m, 1), Op::R(R8[usize::from(r.num())])], |a| {
                    a.mov_m8r(m, r)
                });
                o.check("mov_m8i", Code::Mov_rm8_imm8, &[Op::M(m, 1), Op::I(i64::from(imm8))], |a| a.mov_m8i(m, imm8));
                o.check("cmp_m8i", Code::Cmp_rm8_imm8, &[Op::M(m, 1), Op::I(i64::from(imm8))], |a| a.cmp_m8i(m, imm8));
            }
            let code = [Code::Lea_r32_m, Code::Lea_r64_m][s];
            o.check("lea", code, &[reg(size, r), Op::M(m, 0)], |a| a.lea(size, r, m));
        }
    }
    for d in Gpr::ALL {
        for imm in IMM64S {
            o.check("mov_ri64", Code::Mov_r64_imm64, &[Op::R(g64(d)), Op::I(imm as i64)], |a| a.mov_ri64(d, imm));
            // load_imm picks the shortest form that yields the same 64-bit value.
            let (code, want) = if imm <= u64::from(u32::MAX) {
                (Code::Mov_r32_imm32, Op::R(R32[usize::from(d.num())]))
            } else if i32::try_from(imm as i64).is_ok() {
                (Code::Mov_rm64_imm32, Op::R(g64(d)))
            } else {
                (Code::Mov_r64_imm64, Op::R(g64(d)))
            };
            o.check("load_imm", code, &[want, Op::I(imm as i64)], |a| a.load_imm(d, imm));
        }
        for src in Gpr::ALL {
            o.check("movsxd_rr", Code::Movsxd_r64_rm32, &[Op::R(g64(d)), Op::R(R32[usize::from(src.num())])], |a| {
                a.movsxd_rr(d, src)
            });
        }
    }
    for (i, &m) in mems.iter().enumerate() {
        let r = Gpr::ALL[i % 16];
        o.check("movsxd_rm", Code::Movsxd_r64_rm32, &[Op::R(g64(r)), Op::M(m, 4)], |a| a.movsxd_rm(r, m));
    }
}

fn sweep_int(o: &mut Oracle, mems: &[Mem]) {
    for size in SIZES {
        let s = si(size);
        let ms = bytes_of(size);
        for d in Gpr::ALL {
            for src in Gpr::ALL {
                let code = [Code::Test_rm32_r32, Code::Test_rm64_r64][s];
                o.check("test_rr", code, &[reg(size, d), reg(size, src)], |a| a.test_rr(size, d, src));
                let code = [Code::Imul_r32_rm32, Code::Imul_r64_rm64][s];
                o.check("imul_rr", code, &[reg(size, d), reg(size, src)], |a| a.imul_rr(size, d, src));
                let code = [Code::Bt_rm32_r32, Code::Bt_rm64_r64][s];
                o.check("bt_rr", code, &[reg(size, d), reg(size, src)], |a| a.bt_rr(size, d, src));
                for imm in [0, 1, -1, 127, 128, -128, -129, i32::MAX] {
                    let code = match (fits8(imm), size) {
                        (true, Size::S32) => Code::Imul_r32_rm32_imm8,
                        (true, Size::S64) => Code::Imul_r64_rm64_imm8,
                        (false, Size::S32) => Code::Imul_r32_rm32_imm32,
                        (false, Size::S64) => Code::Imul_r64_rm64_imm32,
                    };
                    o.check("imul_rri", code, &[reg(size, d), reg(size, src), Op::I(i64::from(imm))], |a| {
                        a.imul_rri(size, d, src, imm)
                    });
                }
            }
            for imm in IMMS {
                let code = [Code::Test_rm32_imm32, Code::Test_rm64_imm32][s];
                o.check("test_ri", code, &[reg(size, d), Op::I(i64::from(imm))], |a| a.test_ri(size, d, imm));
            }
            let unary: [Unary; 5] = [
                ("neg", Assembler::neg, [Code::Neg_rm32, Code::Neg_rm64]),
                ("not", Assembler::not, [Code::Not_rm32, Code::Not_rm64]),
                ("inc", Assembler::inc, [Code::Inc_rm32, Code::Inc_rm64]),
                ("dec", Assembler::dec, [Code::Dec_rm32, Code::Dec_rm64]),
                ("idiv", Assembler::idiv, [Code::Idiv_rm32, Code::Idiv_rm64]),
            ];
            for (name, f, codes) in unary {
                o.check(name, codes[s], &[reg(size, d)], |a| f(a, size, d));
            }
            type Shift = (&'static str, fn(&mut Assembler, Size, Gpr, u8), fn(&mut Assembler, Size, Gpr), [Code; 4]);
            let shifts: [Shift; 5] = [
                (
                    "rol",
                    Assembler::rol_ri,
                    Assembler::rol_rcl,
                    [Code::Rol_rm32_imm8, Code::Rol_rm64_imm8, Code::Rol_rm32_CL, Code::Rol_rm64_CL],
                ),
                (
                    "ror",
                    Assembler::ror_ri,
                    Assembler::ror_rcl,
                    [Code::Ror_rm32_imm8, Code::Ror_rm64_imm8, Code::Ror_rm32_CL, Code::Ror_rm64_CL],
                ),
                (
                    "shl",
                    Assembler::shl_ri,
                    Assembler::shl_rcl,
                    [Code::Shl_rm32_imm8, Code::Shl_rm64_imm8, Code::Shl_rm32_CL, Code::Shl_rm64_CL],
                ),
                (
                    "shr",
                    Assembler::shr_ri,
                    Assembler::shr_rcl,
                    [Code::Shr_rm32_imm8, Code::Shr_rm64_imm8, Code::Shr_rm32_CL, Code::Shr_rm64_CL],
                ),
                (
                    "sar",
                    Assembler::sar_ri,
                    Assembler::sar_rcl,
                    [Code::Sar_rm32_imm8, Code::Sar_rm64_imm8, Code::Sar_rm32_CL, Code::Sar_rm64_CL],
                ),
            ];
            for (name, ri, rcl, codes) in shifts {
                for count in [0u8, 1, 5, 17, 31, 47, 63, 255] {
                    o.check(name, codes[s], &[reg(size, d), Op::I(i64::from(count))], |a| ri(a, size, d, count));
                }
                o.check(name, codes[2 + s], &[reg(size, d), Op::R(Register::CL)], |a| rcl(a, size, d));
            }
            for bit in [0u8, 1, 31, 63, 127, 255] {
                let code = [Code::Bt_rm32_imm8, Code::Bt_rm64_imm8][s];
                o.check("bt_ri", code, &[reg(size, d), Op::I(i64::from(bit))], |a| a.bt_ri(size, d, bit));
            }
            let code = [Code::Bswap_r32, Code::Bswap_r64][s];
            o.check("bswap", code, &[reg(size, d)], |a| a.bswap(size, d));
        }
        for (i, &m) in mems.iter().enumerate() {
            let r = Gpr::ALL[i % 16];
            let imm = IMMS[i % IMMS.len()];
            let code = [Code::Test_rm32_r32, Code::Test_rm64_r64][s];
            o.check("test_mr", code, &[Op::M(m, ms), reg(size, r)], |a| a.test_mr(size, m, r));
            let code = [Code::Test_rm32_imm32, Code::Test_rm64_imm32][s];
            o.check("test_mi", code, &[Op::M(m, ms), Op::I(i64::from(imm))], |a| a.test_mi(size, m, imm));
            let code = [Code::Imul_r32_rm32, Code::Imul_r64_rm64][s];
            o.check("imul_rm", code, &[reg(size, r), Op::M(m, ms)], |a| a.imul_rm(size, r, m));
        }
    }
    o.check("cqo", Code::Cqo, &[], |a| a.cqo());
    o.check("cdq", Code::Cdq, &[], |a| a.cdq());
}

const JCC8: [Code; 16] = [
    Code::Jo_rel8_64,
    Code::Jno_rel8_64,
    Code::Jb_rel8_64,
    Code::Jae_rel8_64,
    Code::Je_rel8_64,
    Code::Jne_rel8_64,
    Code::Jbe_rel8_64,
    Code::Ja_rel8_64,
    Code::Js_rel8_64,
    Code::Jns_rel8_64,
    Code::Jp_rel8_64,
    Code::Jnp_rel8_64,
    Code::Jl_rel8_64,
    Code::Jge_rel8_64,
    Code::Jle_rel8_64,
    Code::Jg_rel8_64,
];
const JCC32: [Code; 16] = [
    Code::Jo_rel32_64,
    Code::Jno_rel32_64,
    Code::Jb_rel32_64,
    Code::Jae_rel32_64,
    Code::Je_rel32_64,
    Code::Jne_rel32_64,
    Code::Jbe_rel32_64,
    Code::Ja_rel32_64,
    Code::Js_rel32_64,
    Code::Jns_rel32_64,
    Code::Jp_rel32_64,
    Code::Jnp_rel32_64,
    Code::Jl_rel32_64,
    Code::Jge_rel32_64,
    Code::Jle_rel32_64,
    Code::Jg_rel32_64,
];
const SETCC: [Code; 16] = [
    Code::Seto_rm8,
    Code::Setno_rm8,
    Code::Setb_rm8,
    Code::Setae_rm8,
    Code::Sete_rm8,
    Code::Setne_rm8,
    Code::Setbe_rm8,
    Code::Seta_rm8,
    Code::Sets_rm8,
    Code::Setns_rm8,
    Code::Setp_rm8,
    Code::Setnp_rm8,
    Code::Setl_rm8,
    Code::Setge_rm8,
    Code::Setle_rm8,
    Code::Setg_rm8,
];
const CMOV32: [Code; 16] = [
    Code::Cmovo_r32_rm32,
    Code::Cmovno_r32_rm32,
    Code::Cmovb_r32_rm32,
    Code::Cmovae_r32_rm32,
    Code::Cmove_r32_rm32,
    Code::Cmovne_r32_rm32,
    Code::Cmovbe_r32_rm32,
    Code::Cmova_r32_rm32,
    Code::Cmovs_r32_rm32,
    Code::Cmovns_r32_rm32,
    Code::Cmovp_r32_rm32,
    Code::Cmovnp_r32_rm32,
    Code::Cmovl_r32_rm32,
    Code::Cmovge_r32_rm32,
    Code::Cmovle_r32_rm32,
    Code::Cmovg_r32_rm32,
];
const CMOV64: [Code; 16] = [
    Code::Cmovo_r64_rm64,
    Code::Cmovno_r64_rm64,
    Code::Cmovb_r64_rm64,
    Code::Cmovae_r64_rm64,
    Code::Cmove_r64_rm64,
    Code::Cmovne_r64_rm64,
    Code::Cmovbe_r64_rm64,
    Code::Cmova_r64_rm64,
    Code::Cmovs_r64_rm64,
    Code::Cmovns_r64_rm64,
    Code::Cmovp_r64_rm64,
    Code::Cmovnp_r64_rm64,
    Code::Cmovl_r64_rm64,
    Code::Cmovge_r64_rm64,
    Code::Cmovle_r64_rm64,
    Code::Cmovg_r64_rm64,
];

fn cc(c: Cond) -> usize {
    usize::from(c.code())
}

fn sweep_control(o: &mut Oracle, mems: &[Mem]) {
    for c in Cond::ALL {
        for d in Gpr::ALL {
            o.check("setcc", SETCC[cc(c)], &[Op::R(R8[usize::from(d.num())])], |a| a.setcc(c, d));
            for size in SIZES {
                let code = [CMOV32[cc(c)], CMOV64[cc(c)]][si(size)];
                for src in Gpr::ALL {
                    o.check("cmov_rr", code, &[reg(size, d), reg(size, src)], |a| a.cmov_rr(c, size, d, src));
                }
            }
        }
    }
    for (i, &m) in mems.iter().enumerate() {
        let r = Gpr::ALL[i % 16];
        let c = Cond::ALL[(i / 16) % 16];
        for size in SIZES {
            let code = [CMOV32[cc(c)], CMOV64[cc(c)]][si(size)];
            o.check("cmov_rm", code, &[reg(size, r), Op::M(m, bytes_of(size))], |a| a.cmov_rm(c, size, r, m));
        }
        o.check("call_m", Code::Call_rm64, &[Op::M(m, 8)], |a| a.call_m(m));
        o.check("jmp_m", Code::Jmp_rm64, &[Op::M(m, 8)], |a| a.jmp_m(m));
    }
    for r in Gpr::ALL {
        o.check("push", Code::Push_r64, &[Op::R(g64(r))], |a| a.push(r));
        o.check("pop", Code::Pop_r64, &[Op::R(g64(r))], |a| a.pop(r));
        o.check("call_r", Code::Call_rm64, &[Op::R(g64(r))], |a| a.call_r(r));
        o.check("jmp_r", Code::Jmp_rm64, &[Op::R(g64(r))], |a| a.jmp_r(r));
    }
    o.check("ret", Code::Retnq, &[], |a| a.ret());
    o.check("int3", Code::Int3, &[], |a| a.int3());
    o.check("ud2", Code::Ud2, &[], |a| a.ud2());
    // Each multi-byte NOP is one instruction of the requested length.
    let nop_codes = [
        Code::Nopd,
        Code::Nopw,
        Code::Nop_rm32,
        Code::Nop_rm32,
        Code::Nop_rm32,
        Code::Nop_rm16,
        Code::Nop_rm32,
        Code::Nop_rm32,
        Code::Nop_rm16,
    ];
    for (i, code) in nop_codes.into_iter().enumerate() {
        let bytes = assemble(|a| a.nop(i + 1));
        let ins = decode_one(&bytes);
        assert_eq!((ins.code(), ins.len()), (code, i + 1), "nop({}) = {bytes:02x?}", i + 1);
        o.count += 1;
    }
    for n in 0..64 {
        let bytes = assemble(|a| a.nop(n));
        let all = decode_all(&bytes);
        assert_eq!(all.iter().map(|i| i.len()).sum::<usize>(), n);
        assert!(all.iter().all(|i| matches!(i.code(), Code::Nopd | Code::Nopw | Code::Nop_rm16 | Code::Nop_rm32)));
        assert_eq!(all.len(), n.div_ceil(9), "nop({n}) uses the fewest instructions");
    }
}

type Unary = (&'static str, fn(&mut Assembler, Size, Gpr), [Code; 2]);
type SseOp = (&'static str, fn(&mut Assembler, Xmm, Xmm), fn(&mut Assembler, Xmm, Mem), Code, usize);

fn sweep_sse(o: &mut Oracle, mems: &[Mem]) {
    let table: [SseOp; 14] = [
        ("movsd", Assembler::movsd_xx, Assembler::movsd_xm, Code::Movsd_xmm_xmmm64, 8),
        ("addsd", Assembler::addsd_xx, Assembler::addsd_xm, Code::Addsd_xmm_xmmm64, 8),
        ("subsd", Assembler::subsd_xx, Assembler::subsd_xm, Code::Subsd_xmm_xmmm64, 8),
        ("mulsd", Assembler::mulsd_xx, Assembler::mulsd_xm, Code::Mulsd_xmm_xmmm64, 8),
        ("divsd", Assembler::divsd_xx, Assembler::divsd_xm, Code::Divsd_xmm_xmmm64, 8),
        ("sqrtsd", Assembler::sqrtsd_xx, Assembler::sqrtsd_xm, Code::Sqrtsd_xmm_xmmm64, 8),
        ("minsd", Assembler::minsd_xx, Assembler::minsd_xm, Code::Minsd_xmm_xmmm64, 8),
        ("maxsd", Assembler::maxsd_xx, Assembler::maxsd_xm, Code::Maxsd_xmm_xmmm64, 8),
        ("ucomisd", Assembler::ucomisd_xx, Assembler::ucomisd_xm, Code::Ucomisd_xmm_xmmm64, 8),
        ("xorpd", Assembler::xorpd_xx, Assembler::xorpd_xm, Code::Xorpd_xmm_xmmm128, 16),
        ("andpd", Assembler::andpd_xx, Assembler::andpd_xm, Code::Andpd_xmm_xmmm128, 16),
        ("andnpd", Assembler::andnpd_xx, Assembler::andnpd_xm, Code::Andnpd_xmm_xmmm128, 16),
        ("orpd", Assembler::orpd_xx, Assembler::orpd_xm, Code::Orpd_xmm_xmmm128, 16),
        // movapd has no memory form here; its table slot checks xx only (xm is skipped below).
        ("movapd", Assembler::movapd_xx, Assembler::movsd_xm, Code::Movapd_xmm_xmmm128, 0),
    ];
    for (name, xx, xm, code, msize) in table {
        for d in Xmm::ALL {
            for s in Xmm::ALL {
                o.check(name, code, &[xr(d), xr(s)], |a| xx(a, d, s));
            }
        }
        if msize == 0 {
            continue;
        }
        for (i, &m) in mems.iter().enumerate() {
            let r = Xmm::ALL[i % 16];
            o.check(name, code, &[xr(r), Op::M(m, msize)], |a| xm(a, r, m));
        }
    }
    for d in Xmm::ALL {
        for s in Xmm::ALL {
            for mode in RoundMode::ALL {
                o.check(
                    "roundsd_xx",
                    Code::Roundsd_xmm_xmmm64_imm8,
                    &[xr(d), xr(s), Op::I(i64::from(mode.imm8()))],
                    |a| a.roundsd_xx(d, s, mode),
                );
            }
        }
        for g in Gpr::ALL {
            o.check("movq_xr", Code::Movq_xmm_rm64, &[xr(d), Op::R(g64(g))], |a| a.movq_xr(d, g));
            o.check("movq_rx", Code::Movq_rm64_xmm, &[Op::R(g64(g)), xr(d)], |a| a.movq_rx(g, d));
            let g32 = Op::R(R32[usize::from(g.num())]);
            o.check("movd_xr", Code::Movd_xmm_rm32, &[xr(d), g32], |a| a.movd_xr(d, g));
            o.check("movd_rx", Code::Movd_rm32_xmm, &[g32, xr(d)], |a| a.movd_rx(g, d));
            for size in SIZES {
                let s = si(size);
                let code = [Code::Cvttsd2si_r32_xmmm64, Code::Cvttsd2si_r64_xmmm64][s];
                o.check("cvttsd2si_rx", code, &[reg(size, g), xr(d)], |a| a.cvttsd2si_rx(size, g, d));
                let code = [Code::Cvtsd2si_r32_xmmm64, Code::Cvtsd2si_r64_xmmm64][s];
                o.check("cvtsd2si_rx", code, &[reg(size, g), xr(d)], |a| a.cvtsd2si_rx(size, g, d));
                let code = [Code::Cvtsi2sd_xmm_rm32, Code::Cvtsi2sd_xmm_rm64][s];
                o.check("cvtsi2sd_xr", code, &[xr(d), reg(size, g)], |a| a.cvtsi2sd_xr(size, d, g));
            }
        }
    }
    for (i, &m) in mems.iter().enumerate() {
        let r = Xmm::ALL[i % 16];
        let mode = RoundMode::ALL[i % 4];
        o.check("movsd_mx", Code::Movsd_xmmm64_xmm, &[Op::M(m, 8), xr(r)], |a| a.movsd_mx(m, r));
        o.check("movq_xm", Code::Movq_xmm_xmmm64, &[xr(r), Op::M(m, 8)], |a| a.movq_xm(r, m));
        o.check("movq_mx", Code::Movq_xmmm64_xmm, &[Op::M(m, 8), xr(r)], |a| a.movq_mx(m, r));
        o.check("movd_xm", Code::Movd_xmm_rm32, &[xr(r), Op::M(m, 4)], |a| a.movd_xm(r, m));
        o.check("movd_mx", Code::Movd_rm32_xmm, &[Op::M(m, 4), xr(r)], |a| a.movd_mx(m, r));
        o.check(
            "roundsd_xm",
            Code::Roundsd_xmm_xmmm64_imm8,
            &[xr(r), Op::M(m, 8), Op::I(i64::from(mode.imm8()))],
            |a| a.roundsd_xm(r, m, mode),
        );
        for size in SIZES {
            let code = [Code::Cvtsi2sd_xmm_rm32, Code::Cvtsi2sd_xmm_rm64][si(size)];
            o.check("cvtsi2sd_xm", code, &[xr(r), Op::M(m, bytes_of(size))], |a| a.cvtsi2sd_xm(size, r, m));
        }
    }
}

#[test]
fn every_form_decodes_as_encoded() {
    let mems = mems();
    let mut o = Oracle::default();
    let mut last = 0;
    let mut report = |o: &Oracle, family: &str| {
        println!("{family:>8}: {:>8} instructions", o.count - last);
        last = o.count;
    };
    sweep_alu(&mut o, &mems);
    report(&o, "alu");
    sweep_mov(&mut o, &mems);
    report(&o, "mov");
    sweep_int(&mut o, &mems);
    report(&o, "int");
    sweep_control(&mut o, &mems);
    report(&o, "control");
    sweep_sse(&mut o, &mems);
    report(&o, "sse");
    println!("checked {} encoded instructions against iced-x86 ({} memory operands)", o.count, mems.len());
}

// ---------------------------------------------------------------------------------------------
// Labels, jumps, RIP-relative constants.
// ---------------------------------------------------------------------------------------------

fn finish(a: Assembler) -> Vec<u8> {
    match a.finish() {
        Ok(code) => code,
        Err(e) => panic!("assembler error: {e}"),
    }
}

#[test]
fn backward_jumps_pick_rel8_up_to_the_boundary() {
    for gap in 0..=140usize {
        for c in Cond::ALL {
            // jcc: rel8 is 2 bytes, so the short form reaches back over at most 126 bytes.
            let mut a = Assembler::new();
            let top = a.new_label();
            a.bind(top);
            a.nop(gap);
            a.jcc(c, top);
            let code = finish(a);
            let jump = &code[gap..];
            let want = if gap <= 126 { JCC8[cc(c)] } else { JCC32[cc(c)] };
            let ins = Decoder::with_ip(64, jump, gap as u64, DecoderOptions::NONE).decode();
            assert_eq!((ins.code(), ins.len(), ins.near_branch_target()), (want, jump.len(), 0), "gap {gap}");
        }
        let mut a = Assembler::new();
        let top = a.new_label();
        a.bind(top);
        a.nop(gap);
        a.jmp(top);
        let code = finish(a);
        let jump = &code[gap..];
        let want = if gap <= 126 { Code::Jmp_rel8_64 } else { Code::Jmp_rel32_64 };
        let ins = Decoder::with_ip(64, jump, gap as u64, DecoderOptions::NONE).decode();
        assert_eq!((ins.code(), ins.len(), ins.near_branch_target()), (want, jump.len(), 0), "gap {gap}");
    }
}

#[test]
fn forward_jumps_of_every_kind_resolve_at_bind() {
    for gap in [0usize, 1, 125, 126, 127, 128, 129, 1000, 70_000] {
        let mut a = Assembler::new();
        let end = a.new_label();
        let mut starts = Vec::new();
        for c in Cond::ALL {
            starts.push(a.offset());
            a.jcc(c, end);
            starts.push(a.offset());
            a.jcc_near(c, end);
        }
        starts.push(a.offset());
        a.jmp(end);
        starts.push(a.offset());
        a.jmp_near(end);
        starts.push(a.offset());
        a.call(end);
        a.nop(gap);
        a.bind(end);
        a.ret();
        let code = finish(a);
        let target = (code.len() - 1) as u64;
        let all = decode_all(&code);
        for (ins, start) in all.iter().zip(&starts) {
            assert_eq!(ins.ip(), *start as u64);
            assert_eq!(ins.near_branch_target(), target, "{:?} at {start}", ins.code());
            // Forward references are always rel32 unless asked for rel8.
            assert!(ins.len() >= 5, "{:?}", ins.code());
        }
    }
}

#[test]
fn short_forward_jumps_reach_exactly_127_bytes() {
    for gap in 0..=130usize {
        for c in [None, Some(Cond::E), Some(Cond::G)] {
            let mut a = Assembler::new();
            let end = a.new_label();
            match c {
                None => a.jmp_short(end),
                Some(c) => a.jcc_short(c, end),
            }
            a.nop(gap);
            a.bind(end);
            if gap <= 127 {
                let code = finish(a);
                let ins = decode_one(&code);
                assert_eq!(ins.len(), 2);
                assert_eq!(ins.near_branch_target(), code.len() as u64);
            } else {
                assert!(
                    matches!(a.finish(), Err(AsmError::ShortJumpOutOfRange { distance, .. }) if distance == gap as i64)
                );
            }
        }
    }
    // A backward short jump that cannot reach is an error too, not a silent rel32.
    let mut a = Assembler::new();
    let top = a.new_label();
    a.bind(top);
    a.nop(127);
    a.jmp_short(top);
    assert!(matches!(a.finish(), Err(AsmError::ShortJumpOutOfRange { distance: -129, .. })));
}

#[test]
fn calls_and_absolute_targets() {
    let mut a = Assembler::new();
    let f = a.new_label();
    let back = a.new_label();
    a.bind(back);
    a.call(f);
    a.call(back);
    a.call_abs(0x1234_5678_9abc_def0);
    a.jmp_abs(0x7fff_0000_1000);
    a.bind(f);
    a.ret();
    let code = finish(a);
    let all = decode_all(&code);
    let codes: Vec<Code> = all.iter().map(|i| i.code()).collect();
    assert_eq!(
        codes,
        [
            Code::Call_rel32_64,
            Code::Call_rel32_64,
            Code::Mov_r64_imm64,
            Code::Call_rm64,
            Code::Mov_r64_imm64,
            Code::Jmp_rm64,
            Code::Retnq
        ]
    );
    let ret_at = all[6].ip();
    assert_eq!(all[0].near_branch_target(), ret_at);
    assert_eq!(all[1].near_branch_target(), 0);
    assert_eq!((all[2].op_register(0), all[2].immediate64()), (Register::R11, 0x1234_5678_9abc_def0));
    assert_eq!(all[3].op_register(0), Register::R11);
    assert_eq!((all[4].op_register(0), all[4].immediate64()), (Register::R11, 0x7fff_0000_1000));
    assert_eq!(all[5].op_register(0), Register::R11);
}

#[test]
fn rip_relative_constants_after_the_code() {
    let mut a = Assembler::new();
    let two = a.const_f64(2.0);
    let sign = a.const_xmm(1 << 63, 0);
    let big = a.const_u64(0x0123_4567_89ab_cdef);
    let table = a.new_label();
    a.movsd_xm(Xmm::Xmm3, Mem::rip(two));
    a.mulsd_xm(Xmm::Xmm12, Mem::rip(two));
    a.xorpd_xm(Xmm::Xmm15, Mem::rip(sign));
    a.mov_rm(Size::S64, Gpr::R9, Mem::rip(big));
    // Immediates after the displacement: the CPU measures from the end of the instruction.
    a.cmp_mi(Size::S64, Mem::rip(big), 1000);
    a.cmp_mi(Size::S32, Mem::rip_offset(big, 4), -1);
    a.roundsd_xm(Xmm::Xmm1, Mem::rip(two), RoundMode::Floor);
    a.lea(Size::S64, Gpr::Rax, Mem::rip(table));
    a.ret();
    a.bind(table);
    a.int3();
    let code = finish(a);

    let pool_at = code.len() - 32;
    let all = decode_all(&code[..pool_at]);
    let (sign_at, two_at, big_at) = (pool_at as u64, pool_at as u64 + 16, pool_at as u64 + 24);
    assert_eq!(sign_at % 16, 0);
    assert_eq!(code[pool_at..pool_at + 8], (1u64 << 63).to_le_bytes());
    assert_eq!(code[pool_at + 16..pool_at + 24], 2.0f64.to_bits().to_le_bytes());
    assert_eq!(code[pool_at + 24..], 0x0123_4567_89ab_cdefu64.to_le_bytes());
    let targets: Vec<u64> =
        all.iter().filter(|i| i.memory_base() == Register::RIP).map(|i| i.memory_displacement64()).collect();
    let table_at = all.iter().find(|i| i.code() == Code::Retnq).map(|i| i.ip() + 1).unwrap();
    assert_eq!(targets, [two_at, two_at, sign_at, big_at, big_at, big_at + 4, two_at, table_at]);
    assert_eq!(all[4].immediate(1) as i64, 1000);
    assert_eq!(all[5].immediate(1) as u32, u32::MAX);
    assert_eq!(all[6].immediate(2), 9);
}

// ---------------------------------------------------------------------------------------------
// Golden listing: (call, bytes, text) triples, re-blessed with MOONBOX_BLESS=1.
// ---------------------------------------------------------------------------------------------

struct Golden {
    out: String,
}

impl Golden {
    fn emit(&mut self, call: String, f: impl FnOnce(&mut Assembler)) {
        let code = assemble(f);
        let lines = disasm::lines(&code, 0);
        for (i, line) in lines.iter().enumerate() {
            let hex: Vec<String> =
                code[line.offset..line.offset + line.len].iter().map(|b| format!("{b:02x}")).collect();
            let call = if i == 0 { call.as_str() } else { "" };
            self.out.push_str(format!("{call:<44} {:<32} {}", hex.join(" "), line.text).trim_end());
            self.out.push('\n');
        }
    }
}

fn golden_mems() -> Vec<(String, Mem)> {
    let mut v = Vec::new();
    for (b, d) in [(Gpr::Rax, 0), (Gpr::Rsp, 0), (Gpr::Rbp, 0), (Gpr::R12, 8), (Gpr::R13, -128), (Gpr::R15, 128)] {
        v.push((format!("[{b}{d:+}]"), Mem::base(b, d)));
    }
    for (b, i, s, d) in [
        (Gpr::Rax, Gpr::Rcx, Scale::X8, -129),
        (Gpr::Rsp, Gpr::R12, Scale::X1, 127),
        (Gpr::R13, Gpr::Rbp, Scale::X4, 0),
        (Gpr::Rbp, Gpr::R15, Scale::X2, 0x1000),
    ] {
        v.push((format!("[{b}+{i}*{}{d:+}]", s.factor()), Mem::indexed(b, i, s, d).unwrap()));
    }
    v.push(("[rip+L0+16]".to_string(), Mem::rip_offset(label0(), 16)));
    v
}

fn golden_listing() -> String {
    let mut g = Golden { out: String::new() };
    let regs = [Gpr::Rax, Gpr::Rcx, Gpr::Rsp, Gpr::Rbp, Gpr::Rsi, Gpr::R8, Gpr::R12, Gpr::R13, Gpr::R15];
    let xmms = [Xmm::Xmm0, Xmm::Xmm7, Xmm::Xmm8, Xmm::Xmm15];
    let mems = golden_mems();
    for op in alu_table() {
        for size in SIZES {
            for (d, s) in [(Gpr::Rax, Gpr::Rcx), (Gpr::R8, Gpr::Rsp), (Gpr::Rbp, Gpr::R15)] {
                g.emit(format!("{}_rr({size:?}, {d}, {s})", op.name), |a| (op.rr)(a, size, d, s));
            }
            for imm in [1, -128, 128, -129, i32::MAX] {
                g.emit(format!("{}_ri({size:?}, r13, {imm})", op.name), |a| (op.ri)(a, size, Gpr::R13, imm));
            }
        }
        for (name, m) in &mems[..3] {
            g.emit(format!("{}_rm(S64, r9, {name})", op.name), |a| (op.rm)(a, Size::S64, Gpr::R9, *m));
            g.emit(format!("{}_mr(S32, {name}, rdi)", op.name), |a| (op.mr)(a, Size::S32, *m, Gpr::Rdi));
            g.emit(format!("{}_mi(S64, {name}, 1000)", op.name), |a| (op.mi)(a, Size::S64, *m, 1000));
        }
    }
    for (name, m) in &mems {
        for size in SIZES {
            g.emit(format!("mov_rm({size:?}, r11, {name})"), |a| a.mov_rm(size, Gpr::R11, *m));
        }
        g.emit(format!("mov_mr(S64, {name}, rbx)"), |a| a.mov_mr(Size::S64, *m, Gpr::Rbx));
        g.emit(format!("mov_mi(S32, {name}, -1)"), |a| a.mov_mi(Size::S32, *m, -1));
        g.emit(format!("lea(S64, rsi, {name})"), |a| a.lea(Size::S64, Gpr::Rsi, *m));
        g.emit(format!("movzx_rm8(S32, r8, {name})"), |a| a.movzx_rm8(Size::S32, Gpr::R8, *m));
        g.emit(format!("movsx_rm16(S64, rax, {name})"), |a| a.movsx_rm16(Size::S64, Gpr::Rax, *m));
        g.emit(format!("movsxd_rm(rdx, {name})"), |a| a.movsxd_rm(Gpr::Rdx, *m));
        g.emit(format!("movsd_xm(xmm9, {name})"), |a| a.movsd_xm(Xmm::Xmm9, *m));
        g.emit(format!("movsd_mx({name}, xmm1)"), |a| a.movsd_mx(*m, Xmm::Xmm1));
        g.emit(format!("addsd_xm(xmm2, {name})"), |a| a.addsd_xm(Xmm::Xmm2, *m));
        g.emit(format!("andpd_xm(xmm14, {name})"), |a| a.andpd_xm(Xmm::Xmm14, *m));
        g.emit(format!("cvtsi2sd_xm(S64, xmm3, {name})"), |a| a.cvtsi2sd_xm(Size::S64, Xmm::Xmm3, *m));
        g.emit(format!("roundsd_xm(xmm4, {name}, Floor)"), |a| a.roundsd_xm(Xmm::Xmm4, *m, RoundMode::Floor));
        g.emit(format!("call_m({name})"), |a| a.call_m(*m));
        g.emit(format!("test_mi(S64, {name}, 255)"), |a| a.test_mi(Size::S64, *m, 255));
        g.emit(format!("cmp_m8i({name}, 0)"), |a| a.cmp_m8i(*m, 0));
        g.emit(format!("mov_m8i({name}, 255)"), |a| a.mov_m8i(*m, 255));
    }
    for r in regs {
        g.emit(format!("mov_ri(S32, {r}, -1)"), |a| a.mov_ri(Size::S32, r, -1));
        g.emit(format!("mov_ri(S64, {r}, -1)"), |a| a.mov_ri(Size::S64, r, -1));
        g.emit(format!("mov_ri64({r}, 0x123456789abcdef0)"), |a| a.mov_ri64(r, 0x1234_5678_9abc_def0));
        g.emit(format!("movzx_rr8(S32, rax, {r})"), |a| a.movzx_rr8(Size::S32, Gpr::Rax, r));
        g.emit(format!("mov_m8r([rsp+8], {r})"), |a| a.mov_m8r(Mem::base(Gpr::Rsp, 8), r));
        g.emit(format!("movsx_rr16(S64, {r}, r9)"), |a| a.movsx_rr16(Size::S64, r, Gpr::R9));
        g.emit(format!("setcc(Ne, {r})"), |a| a.setcc(Cond::Ne, r));
        g.emit(format!("cmov_rr(L, S64, {r}, rdx)"), |a| a.cmov_rr(Cond::L, Size::S64, r, Gpr::Rdx));
        g.emit(format!("imul_rri(S32, {r}, r10, 100)"), |a| a.imul_rri(Size::S32, r, Gpr::R10, 100));
        g.emit(format!("shl_ri(S64, {r}, 17)"), |a| a.shl_ri(Size::S64, r, 17));
        g.emit(format!("sar_rcl(S32, {r})"), |a| a.sar_rcl(Size::S32, r));
        g.emit(format!("bt_ri(S64, {r}, 47)"), |a| a.bt_ri(Size::S64, r, 47));
        g.emit(format!("bswap(S64, {r})"), |a| a.bswap(Size::S64, r));
        g.emit(format!("neg(S64, {r})"), |a| a.neg(Size::S64, r));
        g.emit(format!("idiv(S32, {r})"), |a| a.idiv(Size::S32, r));
        g.emit(format!("push({r})"), |a| a.push(r));
        g.emit(format!("pop({r})"), |a| a.pop(r));
        g.emit(format!("call_r({r})"), |a| a.call_r(r));
        g.emit(format!("jmp_r({r})"), |a| a.jmp_r(r));
        g.emit(format!("movq_xr(xmm8, {r})"), |a| a.movq_xr(Xmm::Xmm8, r));
        g.emit(format!("movq_rx({r}, xmm1)"), |a| a.movq_rx(r, Xmm::Xmm1));
        g.emit(format!("cvttsd2si_rx(S64, {r}, xmm13)"), |a| a.cvttsd2si_rx(Size::S64, r, Xmm::Xmm13));
        g.emit(format!("cvtsi2sd_xr(S32, xmm2, {r})"), |a| a.cvtsi2sd_xr(Size::S32, Xmm::Xmm2, r));
    }
    for d in xmms {
        for s in xmms {
            g.emit(format!("movsd_xx({d}, {s})"), |a| a.movsd_xx(d, s));
            g.emit(format!("ucomisd_xx({d}, {s})"), |a| a.ucomisd_xx(d, s));
            g.emit(format!("xorpd_xx({d}, {s})"), |a| a.xorpd_xx(d, s));
        }
        for mode in RoundMode::ALL {
            g.emit(format!("roundsd_xx({d}, xmm3, {mode:?})"), |a| a.roundsd_xx(d, Xmm::Xmm3, mode));
        }
    }
    for n in 1..=9 {
        g.emit(format!("nop({n})"), |a| a.nop(n));
    }
    g.emit("cqo()".to_string(), |a| a.cqo());
    g.emit("cdq()".to_string(), |a| a.cdq());
    g.emit("ret()".to_string(), |a| a.ret());
    g.emit("int3()".to_string(), |a| a.int3());
    g.emit("ud2()".to_string(), |a| a.ud2());
    g.emit("call_abs(0x7fff12345678)".to_string(), |a| a.call_abs(0x7fff_1234_5678));
    g.emit("jmp_abs(0x7fff12345678)".to_string(), |a| a.jmp_abs(0x7fff_1234_5678));
    for c in Cond::ALL {
        g.emit(format!("jcc({c:?}, L0) backward"), |a| a.jcc(c, label0()));
        g.emit(format!("jcc_near({c:?}, L0) backward"), |a| a.jcc_near(c, label0()));
    }
    g.out
}

#[test]
fn golden_listing_matches() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/x64_asm.txt");
    let got = golden_listing();
    if std::env::var_os("MOONBOX_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with MOONBOX_BLESS=1 to create it)", path.display()));
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "{}:{}: listing differs (MOONBOX_BLESS=1 re-blesses)", path.display(), i + 1);
    }
    assert_eq!(got.lines().count(), want.lines().count(), "{}: line count differs", path.display());
}
