//! The x86-64 assembler: one method per instruction form, writing into a `Vec<u8>`.
//!
//! Contract:
//! - Every public method encodes exactly one instruction form (the helpers `load_imm`,
//!   `call_abs`, `jmp_abs`, `nop` and `align` are named as such). There is no generic
//!   "emit any instruction" entry point; a form the JIT needs gets its own method here and
//!   its own sweep in `tests/asm_iced.rs`, where iced-x86 decodes it and checks every operand.
//! - Nothing panics. Operand combinations the hardware cannot encode are unrepresentable
//!   ([`Gpr`], [`Xmm`], [`Scale`], [`Cond`], [`RoundMode`] are closed enums) or rejected when
//!   built ([`Mem::indexed`] refuses `rsp` as an index). Label misuse (a label from another
//!   assembler, bound twice, never bound, a short jump that does not reach) is recorded as the
//!   first [`AsmError`] and returned by [`Assembler::finish`]; the instruction is still
//!   emitted with a zero displacement, so offsets stay consistent.
//! - Labels: forward references leave a rel8/rel32 fixup that [`Assembler::bind`] resolves;
//!   backward references are encoded directly. `jmp`/`jcc` pick rel8 when the target is
//!   already bound and close, the `_near` variants always use rel32 (patchable later), the
//!   `_short` variants always rel8 (an error if the target turns out to be too far).
//! - RIP-relative operands ([`Mem::rip`]) address a label, typically a constant from the
//!   pool that [`Assembler::finish`] appends after the code (16-byte aligned, deduplicated).
//!
//! Encoding facts used (Intel SDM vol. 2, ch. 2): prefixes `66/F2/F3` come before REX, REX
//! (`0100WRXB`) immediately before the opcode; ModRM `mod=11` is a register, `rm=100` means a
//! SIB byte follows (so rsp/r12 as base need one), `mod=00 rm=101` is RIP+disp32 (so rbp/r13 as
//! base need an explicit disp8 of 0), SIB `index=100` without REX.X means "no index" (so rsp
//! cannot be an index, r12 can). A byte register operand 4–7 means ah/ch/dh/bh without a REX
//! prefix and spl/bpl/sil/dil with one, so those always get a REX.
#![forbid(unsafe_code)]

use std::fmt;

pub use super::regs::{Cond, Gpr, Xmm};

/// Operand size of an integer instruction form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// 32-bit operands; writing a register zero-extends into its upper half.
    S32,
    /// 64-bit operands (REX.W).
    S64,
}

impl Size {
    fn w(self) -> bool {
        matches!(self, Size::S64)
    }
}

/// A position in the code, bound once with [`Assembler::bind`]. Only meaningful for the
/// assembler that made it: a label number that assembler never handed out is reported as
/// [`AsmError::ForeignLabel`]; one that happens to be in range is not detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(usize);

impl Label {
    /// The label's number in its assembler (for dumps).
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}", self.0)
    }
}

/// The scale of an index register in a memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    X1,
    X2,
    X4,
    X8,
}

impl Scale {
    /// All four scales.
    pub const ALL: [Scale; 4] = [Scale::X1, Scale::X2, Scale::X4, Scale::X8];

    /// The SIB `ss` bits.
    fn bits(self) -> u8 {
        match self {
            Scale::X1 => 0,
            Scale::X2 => 1,
            Scale::X4 => 2,
            Scale::X8 => 3,
        }
    }

    /// The multiplier, 1, 2, 4 or 8.
    pub fn factor(self) -> u32 {
        1 << self.bits()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Addr {
    Base { base: Gpr, index: Option<(Gpr, Scale)> },
    Rip(Label),
}

/// A memory operand: `[base + index*scale + disp]`, or `[rip + label + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mem {
    addr: Addr,
    disp: i32,
}

impl Mem {
    /// `[base + disp]`. Every base is encodable (rsp/r12 get a SIB byte, rbp/r13 a disp8).
    pub fn base(base: Gpr, disp: i32) -> Mem {
        Mem { addr: Addr::Base { base, index: None }, disp }
    }

    /// `[base + index*scale + disp]`; `rsp` cannot be an index (its SIB code means "none").
    pub fn indexed(base: Gpr, index: Gpr, scale: Scale, disp: i32) -> Result<Mem, AsmError> {
        if index == Gpr::Rsp {
            return Err(AsmError::RspIndex);
        }
        Ok(Mem { addr: Addr::Base { base, index: Some((index, scale)) }, disp })
    }

    /// `[rip + label]`: the address of a label, e.g. a pool constant.
    pub fn rip(label: Label) -> Mem {
        Mem { addr: Addr::Rip(label), disp: 0 }
    }

    /// `[rip + label + disp]`, e.g. the upper half of a 16-byte constant.
    pub fn rip_offset(label: Label, disp: i32) -> Mem {
        Mem { addr: Addr::Rip(label), disp }
    }

    /// The displacement.
    pub fn disp(&self) -> i32 {
        self.disp
    }

    /// The base register (`None` for RIP-relative).
    pub fn base_reg(&self) -> Option<Gpr> {
        match self.addr {
            Addr::Base { base, .. } => Some(base),
            Addr::Rip(_) => None,
        }
    }

    /// The index register and scale, if any.
    pub fn index_reg(&self) -> Option<(Gpr, Scale)> {
        match self.addr {
            Addr::Base { index, .. } => index,
            Addr::Rip(_) => None,
        }
    }

    /// The label of a RIP-relative operand.
    pub fn label(&self) -> Option<Label> {
        match self.addr {
            Addr::Rip(label) => Some(label),
            Addr::Base { .. } => None,
        }
    }

    /// REX.X and REX.B bits for this operand.
    fn rex_xb(&self) -> u8 {
        match self.addr {
            Addr::Base { base, index } => {
                let x = index.map_or(0, |(i, _)| hi(i.num()));
                (x << 1) | hi(base.num())
            }
            Addr::Rip(_) => 0,
        }
    }
}

/// `roundsd`'s rounding mode. The encoded imm8 also sets bit 3 (suppress the precision
/// exception), as `floor`/`ceil` want.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundMode {
    /// Round to nearest even.
    Nearest,
    /// Toward −∞ (`math.floor`).
    Floor,
    /// Toward +∞ (`math.ceil`).
    Ceil,
    /// Toward zero.
    Trunc,
}

impl RoundMode {
    /// All four modes.
    pub const ALL: [RoundMode; 4] = [RoundMode::Nearest, RoundMode::Floor, RoundMode::Ceil, RoundMode::Trunc];

    /// The imm8 operand of `roundsd`.
    pub fn imm8(self) -> u8 {
        let mode = match self {
            RoundMode::Nearest => 0,
            RoundMode::Floor => 1,
            RoundMode::Ceil => 2,
            RoundMode::Trunc => 3,
        };
        0x08 | mode
    }
}

/// What can go wrong while assembling. All of these are caller bugs or limits, reported as
/// values: the JIT turns them into a trace abort.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsmError {
    /// `rsp` was given as an index register.
    RspIndex,
    /// A label that this assembler did not create.
    ForeignLabel(Label),
    /// `bind` was called twice for one label.
    LabelBoundTwice(Label),
    /// A label was referenced but never bound.
    UnboundLabel(Label),
    /// A rel8 jump whose target is farther than -128..=127 bytes.
    ShortJumpOutOfRange { label: Label, distance: i64 },
    /// A rel32 displacement that does not fit (code larger than 2 GiB).
    NearJumpOutOfRange { label: Label, distance: i64 },
    /// `align` with an alignment that is not a power of two.
    BadAlignment(usize),
    /// A fixup pointed outside the buffer (an assembler bug, reported rather than panicking).
    Internal(&'static str),
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsmError::RspIndex => f.write_str("rsp cannot be an index register"),
            AsmError::ForeignLabel(l) => write!(f, "label {l} does not belong to this assembler"),
            AsmError::LabelBoundTwice(l) => write!(f, "label {l} bound twice"),
            AsmError::UnboundLabel(l) => write!(f, "label {l} used but never bound"),
            AsmError::ShortJumpOutOfRange { label, distance } => {
                write!(f, "short jump to {label} spans {distance} bytes, outside rel8")
            }
            AsmError::NearJumpOutOfRange { label, distance } => {
                write!(f, "reference to {label} spans {distance} bytes, outside rel32")
            }
            AsmError::BadAlignment(a) => write!(f, "alignment {a} is not a power of two"),
            AsmError::Internal(what) => write!(f, "assembler bug: {what}"),
        }
    }
}

impl std::error::Error for AsmError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RelKind {
    Rel8,
    Rel32,
}

/// A displacement field waiting for its label: `at` is the field's offset, `end` the offset
/// the CPU measures from (the end of the instruction, after any immediate).
#[derive(Clone, Copy, Debug)]
struct Fixup {
    label: Label,
    kind: RelKind,
    at: usize,
    end: usize,
    addend: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoolData {
    Q(u64),
    X(u64, u64),
}

/// The r/m operand of a ModRM-encoded instruction: a register number or memory.
#[derive(Clone, Copy)]
enum Rm {
    Reg(u8),
    Mem(Mem),
}

/// Which ModRM field of an instruction names an 8-bit register.
#[derive(Clone, Copy, PartialEq, Eq)]
enum B8 {
    No,
    Rm,
    Reg,
}

/// Legacy prefix of an SSE form.
const P66: Option<u8> = Some(0x66);
const PF2: Option<u8> = Some(0xF2);
const PF3: Option<u8> = Some(0xF3);

fn hi(n: u8) -> u8 {
    (n >> 3) & 1
}

fn modrm(md: u8, reg: u8, rm: u8) -> u8 {
    (md << 6) | ((reg & 7) << 3) | (rm & 7)
}

fn fits_i8(v: i32) -> bool {
    i8::try_from(v).is_ok()
}

/// Writes a resolved displacement into `buf`.
fn patch(buf: &mut [u8], fixup: &Fixup, target: usize) -> Result<(), AsmError> {
    let (Ok(target), Ok(end)) = (i64::try_from(target), i64::try_from(fixup.end)) else {
        return Err(AsmError::Internal("offset beyond i64"));
    };
    let distance = target + i64::from(fixup.addend) - end;
    match fixup.kind {
        RelKind::Rel8 => {
            let v =
                i8::try_from(distance).map_err(|_| AsmError::ShortJumpOutOfRange { label: fixup.label, distance })?;
            let slot = buf.get_mut(fixup.at).ok_or(AsmError::Internal("rel8 fixup outside the buffer"))?;
            *slot = v.to_le_bytes()[0];
        }
        RelKind::Rel32 => {
            let v =
                i32::try_from(distance).map_err(|_| AsmError::NearJumpOutOfRange { label: fixup.label, distance })?;
            let slot =
                buf.get_mut(fixup.at..fixup.at + 4).ok_or(AsmError::Internal("rel32 fixup outside the buffer"))?;
            slot.copy_from_slice(&v.to_le_bytes());
        }
    }
    Ok(())
}

/// Multi-byte NOPs (SDM vol. 2B, NOP: "recommended multi-byte sequence"), by length 1..=9.
const NOPS: [&[u8]; 9] = [
    &[0x90],
    &[0x66, 0x90],
    &[0x0F, 0x1F, 0x00],
    &[0x0F, 0x1F, 0x40, 0x00],
    &[0x0F, 0x1F, 0x44, 0x00, 0x00],
    &[0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00],
    &[0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00],
    &[0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    &[0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/// How a jump to a label is encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// rel8 if the label is bound and close enough, else rel32.
    Auto,
    /// Always rel8.
    Short,
    /// Always rel32.
    Near,
}

/// The assembler. See the module documentation for the contract.
#[derive(Debug, Default)]
pub struct Assembler {
    buf: Vec<u8>,
    /// Bound offset per label.
    labels: Vec<Option<usize>>,
    /// Unresolved forward references.
    fixups: Vec<Fixup>,
    /// Constants to append after the code, with their labels.
    pool: Vec<(Label, PoolData)>,
    /// The first error; later ones are dropped.
    error: Option<AsmError>,
}

// ---------------------------------------------------------------------------------------------
// Tables: instruction families whose forms differ only in an opcode or a ModRM /digit.
// ---------------------------------------------------------------------------------------------

/// The eight classic ALU operations: `op r/m, r` is opcode `8*n + 1`, `op r, r/m` is `8*n + 3`,
/// `op r/m, imm` is `81 /n id` or `83 /n ib`.
macro_rules! alu_ops {
    ($($n:literal $name:ident $rr:ident $ri:ident $rm:ident $mr:ident $mi:ident;)*) => {
        impl Assembler {
            $(
                #[doc = concat!("`", stringify!($name), " dst, src` (register, register).")]
                pub fn $rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
                    self.op(None, size.w(), &[$n * 8 + 1], src.num(), Rm::Reg(dst.num()), 0, B8::No);
                }

                #[doc = concat!("`", stringify!($name), " dst, imm` (imm8 form when it fits, else imm32; sign-extended).")]
                pub fn $ri(&mut self, size: Size, dst: Gpr, imm: i32) {
                    self.alu_imm(size, $n, Rm::Reg(dst.num()), imm);
                }

                #[doc = concat!("`", stringify!($name), " dst, [mem]`.")]
                pub fn $rm(&mut self, size: Size, dst: Gpr, src: Mem) {
                    self.op(None, size.w(), &[$n * 8 + 3], dst.num(), Rm::Mem(src), 0, B8::No);
                }

                #[doc = concat!("`", stringify!($name), " [mem], src`.")]
                pub fn $mr(&mut self, size: Size, dst: Mem, src: Gpr) {
                    self.op(None, size.w(), &[$n * 8 + 1], src.num(), Rm::Mem(dst), 0, B8::No);
                }

                #[doc = concat!("`", stringify!($name), " [mem], imm` (imm8 form when it fits, else imm32; sign-extended).")]
                pub fn $mi(&mut self, size: Size, dst: Mem, imm: i32) {
                    self.alu_imm(size, $n, Rm::Mem(dst), imm);
                }
            )*
        }
    };
}

alu_ops! {
    0 add add_rr add_ri add_rm add_mr add_mi;
    1 or  or_rr  or_ri  or_rm  or_mr  or_mi;
    2 adc adc_rr adc_ri adc_rm adc_mr adc_mi;
    3 sbb sbb_rr sbb_ri sbb_rm sbb_mr sbb_mi;
    4 and and_rr and_ri and_rm and_mr and_mi;
    5 sub sub_rr sub_ri sub_rm sub_mr sub_mi;
    6 xor xor_rr xor_ri xor_rm xor_mr xor_mi;
    7 cmp cmp_rr cmp_ri cmp_rm cmp_mr cmp_mi;
}

/// One-operand register forms `opcode /digit`.
macro_rules! unary_ops {
    ($($name:ident $opcode:literal $digit:literal $doc:literal;)*) => {
        impl Assembler {
            $(
                #[doc = $doc]
                pub fn $name(&mut self, size: Size, reg: Gpr) {
                    self.op(None, size.w(), &[$opcode], $digit, Rm::Reg(reg.num()), 0, B8::No);
                }
            )*
        }
    };
}

unary_ops! {
    neg  0xF7 3 "`neg reg`: two's complement negation.";
    not  0xF7 2 "`not reg`: one's complement.";
    inc  0xFF 0 "`inc reg` (leaves CF alone).";
    dec  0xFF 1 "`dec reg` (leaves CF alone).";
    idiv 0xF7 7 "`idiv reg`: signed divide rdx:rax (edx:eax) by `reg`; quotient in rax, remainder in rdx.";
}

/// Shifts and rotates: `C1 /n ib` by an immediate, `D3 /n` by `cl`.
macro_rules! shift_ops {
    ($($digit:literal $ri:ident $rcl:ident $name:literal;)*) => {
        impl Assembler {
            $(
                #[doc = concat!("`", $name, " reg, imm8` (the CPU masks the count to 5 or 6 bits).")]
                pub fn $ri(&mut self, size: Size, reg: Gpr, count: u8) {
                    self.op(None, size.w(), &[0xC1], $digit, Rm::Reg(reg.num()), 1, B8::No);
                    self.buf.push(count);
                }

                #[doc = concat!("`", $name, " reg, cl`.")]
                pub fn $rcl(&mut self, size: Size, reg: Gpr) {
                    self.op(None, size.w(), &[0xD3], $digit, Rm::Reg(reg.num()), 0, B8::No);
                }
            )*
        }
    };
}

shift_ops! {
    0 rol_ri rol_rcl "rol";
    1 ror_ri ror_rcl "ror";
    4 shl_ri shl_rcl "shl";
    5 shr_ri shr_rcl "shr";
    7 sar_ri sar_rcl "sar";
}

/// Scalar/packed double SSE2 operations `prefix 0F op /r`, xmm destination, xmm or memory source.
macro_rules! sse_ops {
    ($($prefix:ident $opcode:literal $xx:ident $xm:ident $name:literal $note:literal;)*) => {
        impl Assembler {
            $(
                #[doc = concat!("`", $name, " dst, src`", $note)]
                pub fn $xx(&mut self, dst: Xmm, src: Xmm) {
                    self.op($prefix, false, &[0x0F, $opcode], dst.num(), Rm::Reg(src.num()), 0, B8::No);
                }

                #[doc = concat!("`", $name, " dst, [mem]`", $note)]
                pub fn $xm(&mut self, dst: Xmm, src: Mem) {
                    self.op($prefix, false, &[0x0F, $opcode], dst.num(), Rm::Mem(src), 0, B8::No);
                }
            )*
        }
    };
}

sse_ops! {
    PF2 0x58 addsd_xx   addsd_xm   "addsd"   ".";
    PF2 0x59 mulsd_xx   mulsd_xm   "mulsd"   ".";
    PF2 0x5C subsd_xx   subsd_xm   "subsd"   ".";
    PF2 0x5E divsd_xx   divsd_xm   "divsd"   ".";
    PF2 0x51 sqrtsd_xx  sqrtsd_xm  "sqrtsd"  ".";
    PF2 0x5D minsd_xx   minsd_xm   "minsd"   " (returns the source operand if either is NaN or both are zero).";
    PF2 0x5F maxsd_xx   maxsd_xm   "maxsd"   " (returns the source operand if either is NaN or both are zero).";
    P66 0x2E ucomisd_xx ucomisd_xm "ucomisd" ": unordered compare into ZF/PF/CF (PF=1 for NaN).";
    P66 0x57 xorpd_xx   xorpd_xm   "xorpd"   " (a memory operand is 16 bytes and must be 16-byte aligned: use `const_xmm`).";
    P66 0x54 andpd_xx   andpd_xm   "andpd"   " (a memory operand is 16 bytes and must be 16-byte aligned: use `const_xmm`).";
    P66 0x55 andnpd_xx  andnpd_xm  "andnpd"  " (dst = !dst & src; a memory operand must be 16-byte aligned).";
    P66 0x56 orpd_xx    orpd_xm    "orpd"    " (a memory operand is 16 bytes and must be 16-byte aligned: use `const_xmm`).";
}

// ---------------------------------------------------------------------------------------------
// Core: buffer, labels, fixups, encoding helpers.
// ---------------------------------------------------------------------------------------------

impl Assembler {
    /// An empty assembler.
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// An empty assembler with room for `bytes` of code before it reallocates.
    pub fn with_capacity(bytes: usize) -> Assembler {
        Assembler { buf: Vec::with_capacity(bytes), ..Assembler::default() }
    }

    /// The current offset: where the next instruction starts.
    pub fn offset(&self) -> usize {
        self.buf.len()
    }

    /// The bytes emitted so far (forward references not yet patched read as zero).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The first error recorded so far, if any ([`Assembler::finish`] returns it).
    pub fn error(&self) -> Option<&AsmError> {
        self.error.as_ref()
    }

    fn fail(&mut self, e: AsmError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// A new, unbound label.
    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Where `label` was bound, if it was.
    pub fn label_offset(&self, label: Label) -> Option<usize> {
        self.labels.get(label.0).copied().flatten()
    }

    /// Binds `label` to the current offset and resolves the forward references to it.
    pub fn bind(&mut self, label: Label) {
        let here = self.buf.len();
        match self.labels.get_mut(label.0) {
            None => return self.fail(AsmError::ForeignLabel(label)),
            Some(Some(_)) => return self.fail(AsmError::LabelBoundTwice(label)),
            Some(slot @ None) => *slot = Some(here),
        }
        let mut first_error = None;
        let buf = &mut self.buf;
        self.fixups.retain(|f| {
            if f.label != label {
                return true;
            }
            if let Err(e) = patch(buf, f, here) {
                first_error.get_or_insert(e);
            }
            false
        });
        if let Some(e) = first_error {
            self.fail(e);
        }
    }

    /// Records a reference to `label` from the displacement field at `at` (already emitted
    /// as zeros), measured from `end`: patched now if bound, else left as a fixup.
    fn reference(&mut self, label: Label, kind: RelKind, at: usize, end: usize, addend: i32) {
        let fixup = Fixup { label, kind, at, end, addend };
        match self.labels.get(label.0) {
            None => self.fail(AsmError::ForeignLabel(label)),
            Some(Some(target)) => {
                let target = *target;
                if let Err(e) = patch(&mut self.buf, &fixup, target) {
                    self.fail(e);
                }
            }
            Some(None) => self.fixups.push(fixup),
        }
    }

    /// Emits `prefix? REX? opcode ModRM [SIB] [disp]` for a `/r` or `/digit` form. `reg` is
    /// the ModRM.reg register number or digit; `imm_len` is the size of the immediate the
    /// caller emits next (RIP-relative displacements are measured from after it);
    /// `byte` says which field holds an 8-bit register: 4–7 there need a REX to mean
    /// spl/bpl/sil/dil rather than ah/ch/dh/bh.
    #[allow(clippy::too_many_arguments)]
    fn op(&mut self, prefix: Option<u8>, w: bool, opcode: &[u8], reg: u8, rm: Rm, imm_len: u8, byte: B8) {
        if let Some(p) = prefix {
            self.buf.push(p);
        }
        let xb = match rm {
            Rm::Reg(n) => hi(n),
            Rm::Mem(m) => m.rex_xb(),
        };
        let rex = 0x40 | (u8::from(w) << 3) | (hi(reg) << 2) | xb;
        let needs_rex_for_byte = match byte {
            B8::No => false,
            B8::Rm => matches!(rm, Rm::Reg(4..=7)),
            B8::Reg => (4..=7).contains(&reg),
        };
        if rex != 0x40 || needs_rex_for_byte {
            self.buf.push(rex);
        }
        self.buf.extend_from_slice(opcode);
        match rm {
            Rm::Reg(n) => self.buf.push(modrm(3, reg, n)),
            Rm::Mem(m) => self.mem_operand(reg, m, imm_len),
        }
    }

    /// ModRM (+SIB, +displacement) for a memory operand.
    fn mem_operand(&mut self, reg: u8, mem: Mem, imm_len: u8) {
        let (base, index) = match mem.addr {
            Addr::Rip(label) => {
                self.buf.push(modrm(0, reg, 0b101));
                let at = self.buf.len();
                self.buf.extend_from_slice(&[0; 4]);
                let end = at + 4 + usize::from(imm_len);
                self.reference(label, RelKind::Rel32, at, end, mem.disp);
                return;
            }
            Addr::Base { base, index } => (base, index),
        };
        let b = base.num() & 7;
        // rbp/r13 as base with mod=00 would mean RIP-relative (no SIB) or no-base (SIB):
        // they always carry a displacement.
        let md = if mem.disp == 0 && b != 0b101 {
            0
        } else if fits_i8(mem.disp) {
            1
        } else {
            2
        };
        match index {
            None if b != 0b100 => self.buf.push(modrm(md, reg, b)),
            // rsp/r12 as base: rm=100 selects a SIB; index=100 (without REX.X) is "none".
            None => {
                self.buf.push(modrm(md, reg, 0b100));
                self.buf.push((0b100 << 3) | b);
            }
            Some((idx, scale)) => {
                self.buf.push(modrm(md, reg, 0b100));
                self.buf.push((scale.bits() << 6) | ((idx.num() & 7) << 3) | b);
            }
        }
        match md {
            0 => {}
            1 => self.buf.extend_from_slice(&(mem.disp as i8).to_le_bytes()),
            _ => self.buf.extend_from_slice(&mem.disp.to_le_bytes()),
        }
    }

    /// `REX? opcode+reg` for the forms that put a register in the opcode's low bits.
    fn op_plus_reg(&mut self, w: bool, opcode: &[u8], low_opcode: u8, reg: u8) {
        let rex = 0x40 | (u8::from(w) << 3) | hi(reg);
        if rex != 0x40 {
            self.buf.push(rex);
        }
        self.buf.extend_from_slice(opcode);
        self.buf.push(low_opcode | (reg & 7));
    }

    /// `op r/m, imm` of the ALU group: `83 /n ib` when the immediate fits a byte, else `81 /n id`.
    fn alu_imm(&mut self, size: Size, digit: u8, rm: Rm, imm: i32) {
        if fits_i8(imm) {
            self.op(None, size.w(), &[0x83], digit, rm, 1, B8::No);
            self.buf.extend_from_slice(&(imm as i8).to_le_bytes());
        } else {
            self.op(None, size.w(), &[0x81], digit, rm, 4, B8::No);
            self.buf.extend_from_slice(&imm.to_le_bytes());
        }
    }

    /// A jump-like instruction to a label: `short` takes a rel8, `near` a rel32.
    fn jump_to(&mut self, short: &[u8], near: &[u8], label: Label, reach: Reach) {
        let use_short = match reach {
            Reach::Short => true,
            Reach::Near => false,
            Reach::Auto => match self.label_offset(label) {
                Some(target) => {
                    let end = self.buf.len() + short.len() + 1;
                    match (i64::try_from(target), i64::try_from(end)) {
                        (Ok(t), Ok(e)) => i8::try_from(t - e).is_ok(),
                        _ => false,
                    }
                }
                None => false,
            },
        };
        if use_short {
            self.buf.extend_from_slice(short);
            let at = self.buf.len();
            self.buf.push(0);
            self.reference(label, RelKind::Rel8, at, at + 1, 0);
        } else {
            self.buf.extend_from_slice(near);
            let at = self.buf.len();
            self.buf.extend_from_slice(&[0; 4]);
            self.reference(label, RelKind::Rel32, at, at + 4, 0);
        }
    }

    /// Appends the constant pool, binds its labels and checks that every label used was
    /// bound. Returns the code, or the first error.
    pub fn finish(mut self) -> Result<Vec<u8>, AsmError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.pool.is_empty() {
            self.pad_to(16, 0xCC);
            let pool = std::mem::take(&mut self.pool);
            // 16-byte entries first so that every one stays 16-byte aligned.
            for (label, data) in &pool {
                if let PoolData::X(lo, hi) = *data {
                    self.bind(*label);
                    self.buf.extend_from_slice(&lo.to_le_bytes());
                    self.buf.extend_from_slice(&hi.to_le_bytes());
                }
            }
            for (label, data) in &pool {
                if let PoolData::Q(q) = *data {
                    self.bind(*label);
                    self.buf.extend_from_slice(&q.to_le_bytes());
                }
            }
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(f) = self.fixups.first() {
            return Err(AsmError::UnboundLabel(f.label));
        }
        Ok(self.buf)
    }

    /// Pads with `byte` to a multiple of `align`, a power of two.
    fn pad_to(&mut self, align: usize, byte: u8) {
        while self.buf.len() & (align - 1) != 0 {
            self.buf.push(byte);
        }
    }

    fn pool_label(&mut self, data: PoolData) -> Label {
        if let Some((label, _)) = self.pool.iter().find(|(_, d)| *d == data) {
            return *label;
        }
        let label = self.new_label();
        self.pool.push((label, data));
        label
    }

    /// A label for the 8-byte constant `bits` in the pool after the code (deduplicated).
    pub fn const_u64(&mut self, bits: u64) -> Label {
        self.pool_label(PoolData::Q(bits))
    }

    /// A label for the double `value` in the pool (by bit pattern: `-0.0` and NaNs are kept).
    pub fn const_f64(&mut self, value: f64) -> Label {
        self.const_u64(value.to_bits())
    }

    /// A label for a 16-byte, 16-byte-aligned constant (`lo` first), as `andpd`/`xorpd` with a
    /// memory operand need: e.g. `const_xmm(1 << 63, 0)` is the sign mask for negation.
    pub fn const_xmm(&mut self, lo: u64, hi: u64) -> Label {
        self.pool_label(PoolData::X(lo, hi))
    }
}

// ---------------------------------------------------------------------------------------------
// Data movement.
// ---------------------------------------------------------------------------------------------

impl Assembler {
    /// `mov dst, src` (`89 /r`).
    pub fn mov_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x89], src.num(), Rm::Reg(dst.num()), 0, B8::No);
    }

    /// `mov dst, imm32`: for `S64` the immediate is sign-extended (`REX.W C7 /0 id`); for
    /// `S32` it is `B8+r id`, which zero-extends into the upper half.
    pub fn mov_ri(&mut self, size: Size, dst: Gpr, imm: i32) {
        match size {
            Size::S64 => {
                self.op(None, true, &[0xC7], 0, Rm::Reg(dst.num()), 4, B8::No);
                self.buf.extend_from_slice(&imm.to_le_bytes());
            }
            Size::S32 => {
                self.op_plus_reg(false, &[], 0xB8, dst.num());
                self.buf.extend_from_slice(&imm.to_le_bytes());
            }
        }
    }

    /// `mov dst, imm64` (`REX.W B8+r io`, "movabs").
    pub fn mov_ri64(&mut self, dst: Gpr, imm: u64) {
        self.op_plus_reg(true, &[], 0xB8, dst.num());
        self.buf.extend_from_slice(&imm.to_le_bytes());
    }

    /// Helper: loads the 64-bit constant `imm` with the shortest `mov` form (5, 7 or 10
    /// bytes; flags are untouched, unlike `xor r, r`).
    pub fn load_imm(&mut self, dst: Gpr, imm: u64) {
        if let Ok(v) = u32::try_from(imm) {
            self.mov_ri(Size::S32, dst, i32::from_le_bytes(v.to_le_bytes()));
        } else if let Ok(v) = i32::try_from(imm as i64) {
            self.mov_ri(Size::S64, dst, v);
        } else {
            self.mov_ri64(dst, imm);
        }
    }

    /// `mov dst, [mem]` (`8B /r`).
    pub fn mov_rm(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x8B], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `mov [mem], src` (`89 /r`).
    pub fn mov_mr(&mut self, size: Size, dst: Mem, src: Gpr) {
        self.op(None, size.w(), &[0x89], src.num(), Rm::Mem(dst), 0, B8::No);
    }

    /// `mov [mem], imm32` (`C7 /0 id`; sign-extended for `S64`).
    pub fn mov_mi(&mut self, size: Size, dst: Mem, imm: i32) {
        self.op(None, size.w(), &[0xC7], 0, Rm::Mem(dst), 4, B8::No);
        self.buf.extend_from_slice(&imm.to_le_bytes());
    }

    /// `mov byte [mem], src8` (`88 /r`): stores the low byte of `src`.
    pub fn mov_m8r(&mut self, dst: Mem, src: Gpr) {
        self.op(None, false, &[0x88], src.num(), Rm::Mem(dst), 0, B8::Reg);
    }

    /// `mov byte [mem], imm8` (`C6 /0 ib`).
    pub fn mov_m8i(&mut self, dst: Mem, imm: u8) {
        self.op(None, false, &[0xC6], 0, Rm::Mem(dst), 1, B8::No);
        self.buf.push(imm);
    }

    /// `cmp byte [mem], imm8` (`80 /7 ib`), e.g. polling a flag byte.
    pub fn cmp_m8i(&mut self, mem: Mem, imm: u8) {
        self.op(None, false, &[0x80], 7, Rm::Mem(mem), 1, B8::No);
        self.buf.push(imm);
    }

    /// `movzx dst, src8` (`0F B6 /r`): the low byte of `src`, zero-extended.
    pub fn movzx_rr8(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x0F, 0xB6], dst.num(), Rm::Reg(src.num()), 0, B8::Rm);
    }

    /// `movzx dst, src16` (`0F B7 /r`).
    pub fn movzx_rr16(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x0F, 0xB7], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movzx dst, byte [mem]` (`0F B6 /r`).
    pub fn movzx_rm8(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x0F, 0xB6], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movzx dst, word [mem]` (`0F B7 /r`).
    pub fn movzx_rm16(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x0F, 0xB7], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movsx dst, src8` (`0F BE /r`).
    pub fn movsx_rr8(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x0F, 0xBE], dst.num(), Rm::Reg(src.num()), 0, B8::Rm);
    }

    /// `movsx dst, src16` (`0F BF /r`).
    pub fn movsx_rr16(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x0F, 0xBF], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movsx dst, byte [mem]` (`0F BE /r`).
    pub fn movsx_rm8(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x0F, 0xBE], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movsx dst, word [mem]` (`0F BF /r`).
    pub fn movsx_rm16(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x0F, 0xBF], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movsxd dst64, src32` (`REX.W 63 /r`).
    pub fn movsxd_rr(&mut self, dst: Gpr, src: Gpr) {
        self.op(None, true, &[0x63], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movsxd dst64, dword [mem]`.
    pub fn movsxd_rm(&mut self, dst: Gpr, src: Mem) {
        self.op(None, true, &[0x63], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `lea dst, [mem]` (`8D /r`); with [`Mem::rip`] it takes a label's address.
    pub fn lea(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x8D], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `cmovcc dst, src` (`0F 40+cc /r`).
    pub fn cmov_rr(&mut self, cond: Cond, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x0F, 0x40 | cond.code()], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `cmovcc dst, [mem]` (the load happens whether or not the condition holds).
    pub fn cmov_rm(&mut self, cond: Cond, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x0F, 0x40 | cond.code()], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `setcc dst8` (`0F 90+cc /0`): the low byte of `dst` becomes 0 or 1, the rest is kept.
    pub fn setcc(&mut self, cond: Cond, dst: Gpr) {
        self.op(None, false, &[0x0F, 0x90 | cond.code()], 0, Rm::Reg(dst.num()), 0, B8::Rm);
    }

    /// `push reg` (`50+r`).
    pub fn push(&mut self, reg: Gpr) {
        self.op_plus_reg(false, &[], 0x50, reg.num());
    }

    /// `pop reg` (`58+r`).
    pub fn pop(&mut self, reg: Gpr) {
        self.op_plus_reg(false, &[], 0x58, reg.num());
    }

    /// `bswap reg` (`0F C8+r`).
    pub fn bswap(&mut self, size: Size, reg: Gpr) {
        self.op_plus_reg(size.w(), &[0x0F], 0xC8, reg.num());
    }
}

// ---------------------------------------------------------------------------------------------
// Integer arithmetic beyond the ALU table.
// ---------------------------------------------------------------------------------------------

impl Assembler {
    /// `test a, b` (`85 /r`).
    pub fn test_rr(&mut self, size: Size, a: Gpr, b: Gpr) {
        self.op(None, size.w(), &[0x85], b.num(), Rm::Reg(a.num()), 0, B8::No);
    }

    /// `test reg, imm32` (`F7 /0 id`; there is no imm8 form).
    pub fn test_ri(&mut self, size: Size, reg: Gpr, imm: i32) {
        self.op(None, size.w(), &[0xF7], 0, Rm::Reg(reg.num()), 4, B8::No);
        self.buf.extend_from_slice(&imm.to_le_bytes());
    }

    /// `test [mem], reg` (`85 /r`; `test reg, [mem]` is the same instruction).
    pub fn test_mr(&mut self, size: Size, mem: Mem, reg: Gpr) {
        self.op(None, size.w(), &[0x85], reg.num(), Rm::Mem(mem), 0, B8::No);
    }

    /// `test [mem], imm32` (`F7 /0 id`).
    pub fn test_mi(&mut self, size: Size, mem: Mem, imm: i32) {
        self.op(None, size.w(), &[0xF7], 0, Rm::Mem(mem), 4, B8::No);
        self.buf.extend_from_slice(&imm.to_le_bytes());
    }

    /// `imul dst, src` (`0F AF /r`): truncated signed multiply.
    pub fn imul_rr(&mut self, size: Size, dst: Gpr, src: Gpr) {
        self.op(None, size.w(), &[0x0F, 0xAF], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `imul dst, [mem]`.
    pub fn imul_rm(&mut self, size: Size, dst: Gpr, src: Mem) {
        self.op(None, size.w(), &[0x0F, 0xAF], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `imul dst, src, imm` (`6B /r ib` when the immediate fits a byte, else `69 /r id`).
    pub fn imul_rri(&mut self, size: Size, dst: Gpr, src: Gpr, imm: i32) {
        if fits_i8(imm) {
            self.op(None, size.w(), &[0x6B], dst.num(), Rm::Reg(src.num()), 1, B8::No);
            self.buf.extend_from_slice(&(imm as i8).to_le_bytes());
        } else {
            self.op(None, size.w(), &[0x69], dst.num(), Rm::Reg(src.num()), 4, B8::No);
            self.buf.extend_from_slice(&imm.to_le_bytes());
        }
    }

    /// `bt reg, bit` (`0F A3 /r`): CF = bit `bit mod size` of `reg`.
    pub fn bt_rr(&mut self, size: Size, reg: Gpr, bit: Gpr) {
        self.op(None, size.w(), &[0x0F, 0xA3], bit.num(), Rm::Reg(reg.num()), 0, B8::No);
    }

    /// `bt reg, imm8` (`0F BA /4 ib`).
    pub fn bt_ri(&mut self, size: Size, reg: Gpr, bit: u8) {
        self.op(None, size.w(), &[0x0F, 0xBA], 4, Rm::Reg(reg.num()), 1, B8::No);
        self.buf.push(bit);
    }

    /// `cqo` (`REX.W 99`): sign-extend rax into rdx:rax before a 64-bit `idiv`.
    pub fn cqo(&mut self) {
        self.buf.extend_from_slice(&[0x48, 0x99]);
    }

    /// `cdq` (`99`): sign-extend eax into edx:eax before a 32-bit `idiv`.
    pub fn cdq(&mut self) {
        self.buf.push(0x99);
    }
}

// ---------------------------------------------------------------------------------------------
// Control flow.
// ---------------------------------------------------------------------------------------------

impl Assembler {
    /// `jmp label`: rel8 (`EB`) when the label is bound and within reach, else rel32 (`E9`).
    pub fn jmp(&mut self, label: Label) {
        self.jump_to(&[0xEB], &[0xE9], label, Reach::Auto);
    }

    /// `jmp label` always as rel8 (an error at `bind` if the label ends up too far).
    pub fn jmp_short(&mut self, label: Label) {
        self.jump_to(&[0xEB], &[0xE9], label, Reach::Short);
    }

    /// `jmp label` always as rel32 (5 bytes, so it can be patched to another target later).
    pub fn jmp_near(&mut self, label: Label) {
        self.jump_to(&[0xEB], &[0xE9], label, Reach::Near);
    }

    /// `jcc label`: rel8 (`70+cc`) when the label is bound and within reach, else rel32 (`0F 80+cc`).
    pub fn jcc(&mut self, cond: Cond, label: Label) {
        self.jump_to(&[0x70 | cond.code()], &[0x0F, 0x80 | cond.code()], label, Reach::Auto);
    }

    /// `jcc label` always as rel8.
    pub fn jcc_short(&mut self, cond: Cond, label: Label) {
        self.jump_to(&[0x70 | cond.code()], &[0x0F, 0x80 | cond.code()], label, Reach::Short);
    }

    /// `jcc label` always as rel32 (6 bytes, patchable).
    pub fn jcc_near(&mut self, cond: Cond, label: Label) {
        self.jump_to(&[0x70 | cond.code()], &[0x0F, 0x80 | cond.code()], label, Reach::Near);
    }

    /// `jmp reg` (`FF /4`).
    pub fn jmp_r(&mut self, target: Gpr) {
        self.op(None, false, &[0xFF], 4, Rm::Reg(target.num()), 0, B8::No);
    }

    /// `jmp qword [mem]` (`FF /4`).
    pub fn jmp_m(&mut self, target: Mem) {
        self.op(None, false, &[0xFF], 4, Rm::Mem(target), 0, B8::No);
    }

    /// Helper: `mov r11, imm64; jmp r11`, a jump to an absolute address anywhere (between
    /// code areas). Clobbers r11.
    pub fn jmp_abs(&mut self, addr: u64) {
        self.mov_ri64(Gpr::R11, addr);
        self.jmp_r(Gpr::R11);
    }

    /// `call label` (`E8 rel32`).
    pub fn call(&mut self, label: Label) {
        self.jump_to(&[0xE8], &[0xE8], label, Reach::Near);
    }

    /// `call reg` (`FF /2`).
    pub fn call_r(&mut self, target: Gpr) {
        self.op(None, false, &[0xFF], 2, Rm::Reg(target.num()), 0, B8::No);
    }

    /// `call qword [mem]` (`FF /2`).
    pub fn call_m(&mut self, target: Mem) {
        self.op(None, false, &[0xFF], 2, Rm::Mem(target), 0, B8::No);
    }

    /// Helper: `mov r11, imm64; call r11`, a call to a Rust helper at an absolute address.
    /// Clobbers r11.
    pub fn call_abs(&mut self, addr: u64) {
        self.mov_ri64(Gpr::R11, addr);
        self.call_r(Gpr::R11);
    }

    /// `ret` (`C3`).
    pub fn ret(&mut self) {
        self.buf.push(0xC3);
    }

    /// `int3` (`CC`): a breakpoint.
    pub fn int3(&mut self) {
        self.buf.push(0xCC);
    }

    /// `ud2` (`0F 0B`): a guaranteed invalid-opcode trap.
    pub fn ud2(&mut self) {
        self.buf.extend_from_slice(&[0x0F, 0x0B]);
    }

    /// Helper: `len` bytes of padding as the fewest recommended multi-byte NOPs.
    pub fn nop(&mut self, len: usize) {
        let mut left = len;
        while left > 0 {
            let n = left.min(NOPS.len());
            if let Some(seq) = NOPS.get(n - 1) {
                self.buf.extend_from_slice(seq);
            }
            left -= n;
        }
    }

    /// Helper: NOP padding up to the next multiple of `align` (a power of two), e.g. a loop
    /// head at 16.
    pub fn align(&mut self, align: usize) {
        if !align.is_power_of_two() {
            return self.fail(AsmError::BadAlignment(align));
        }
        let rem = self.buf.len() & (align - 1);
        if rem != 0 {
            self.nop(align - rem);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SSE2 / SSE4.1 beyond the table.
// ---------------------------------------------------------------------------------------------

impl Assembler {
    /// `movsd dst, src` (`F2 0F 10 /r`): the low double, upper half of `dst` kept.
    pub fn movsd_xx(&mut self, dst: Xmm, src: Xmm) {
        self.op(PF2, false, &[0x0F, 0x10], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movsd dst, qword [mem]`: loads the double, clears the upper half.
    pub fn movsd_xm(&mut self, dst: Xmm, src: Mem) {
        self.op(PF2, false, &[0x0F, 0x10], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movsd qword [mem], src` (`F2 0F 11 /r`).
    pub fn movsd_mx(&mut self, dst: Mem, src: Xmm) {
        self.op(PF2, false, &[0x0F, 0x11], src.num(), Rm::Mem(dst), 0, B8::No);
    }

    /// `movapd dst, src` (`66 0F 28 /r`): whole-register copy, the usual xmm-to-xmm move.
    pub fn movapd_xx(&mut self, dst: Xmm, src: Xmm) {
        self.op(P66, false, &[0x0F, 0x28], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movq dst, src64` (`66 REX.W 0F 6E /r`): bits of a GPR into an xmm.
    pub fn movq_xr(&mut self, dst: Xmm, src: Gpr) {
        self.op(P66, true, &[0x0F, 0x6E], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movq dst64, src` (`66 REX.W 0F 7E /r`): bits of an xmm into a GPR.
    pub fn movq_rx(&mut self, dst: Gpr, src: Xmm) {
        self.op(P66, true, &[0x0F, 0x7E], src.num(), Rm::Reg(dst.num()), 0, B8::No);
    }

    /// `movq dst, qword [mem]` (`F3 0F 7E /r`).
    pub fn movq_xm(&mut self, dst: Xmm, src: Mem) {
        self.op(PF3, false, &[0x0F, 0x7E], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movq qword [mem], src` (`66 0F D6 /r`).
    pub fn movq_mx(&mut self, dst: Mem, src: Xmm) {
        self.op(P66, false, &[0x0F, 0xD6], src.num(), Rm::Mem(dst), 0, B8::No);
    }

    /// `movd dst, src32` (`66 0F 6E /r`).
    pub fn movd_xr(&mut self, dst: Xmm, src: Gpr) {
        self.op(P66, false, &[0x0F, 0x6E], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `movd dst32, src` (`66 0F 7E /r`).
    pub fn movd_rx(&mut self, dst: Gpr, src: Xmm) {
        self.op(P66, false, &[0x0F, 0x7E], src.num(), Rm::Reg(dst.num()), 0, B8::No);
    }

    /// `movd dst, dword [mem]` (`66 0F 6E /r`).
    pub fn movd_xm(&mut self, dst: Xmm, src: Mem) {
        self.op(P66, false, &[0x0F, 0x6E], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `movd dword [mem], src` (`66 0F 7E /r`).
    pub fn movd_mx(&mut self, dst: Mem, src: Xmm) {
        self.op(P66, false, &[0x0F, 0x7E], src.num(), Rm::Mem(dst), 0, B8::No);
    }

    /// `cvttsd2si dst, src` (`F2 0F 2C /r`): truncating double → int32/int64; out of range or
    /// NaN gives the "integer indefinite" value (`0x80000000` / `0x8000000000000000`).
    pub fn cvttsd2si_rx(&mut self, size: Size, dst: Gpr, src: Xmm) {
        self.op(PF2, size.w(), &[0x0F, 0x2C], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `cvtsd2si dst, src` (`F2 0F 2D /r`): double → int by the MXCSR rounding mode.
    pub fn cvtsd2si_rx(&mut self, size: Size, dst: Gpr, src: Xmm) {
        self.op(PF2, size.w(), &[0x0F, 0x2D], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `cvtsi2sd dst, src` (`F2 0F 2A /r`): int32/int64 → double (upper half of `dst` kept).
    pub fn cvtsi2sd_xr(&mut self, size: Size, dst: Xmm, src: Gpr) {
        self.op(PF2, size.w(), &[0x0F, 0x2A], dst.num(), Rm::Reg(src.num()), 0, B8::No);
    }

    /// `cvtsi2sd dst, dword/qword [mem]`; `size` is the integer's size in memory.
    pub fn cvtsi2sd_xm(&mut self, size: Size, dst: Xmm, src: Mem) {
        self.op(PF2, size.w(), &[0x0F, 0x2A], dst.num(), Rm::Mem(src), 0, B8::No);
    }

    /// `roundsd dst, src, mode` (SSE4.1, `66 0F 3A 0B /r ib`). The caller must have checked
    /// the CPU feature (`is_x86_feature_detected!("sse4.1")`); otherwise this traps with #UD.
    pub fn roundsd_xx(&mut self, dst: Xmm, src: Xmm, mode: RoundMode) {
        self.op(P66, false, &[0x0F, 0x3A, 0x0B], dst.num(), Rm::Reg(src.num()), 1, B8::No);
        self.buf.push(mode.imm8());
    }

    /// `roundsd dst, qword [mem], mode` (SSE4.1; see [`Assembler::roundsd_xx`]).
    pub fn roundsd_xm(&mut self, dst: Xmm, src: Mem, mode: RoundMode) {
        self.op(P66, false, &[0x0F, 0x3A, 0x0B], dst.num(), Rm::Mem(src), 1, B8::No);
        self.buf.push(mode.imm8());
    }
}

#[cfg(test)]
mod tests {
    //! Hand-checked byte triples for the edge cases; `tests/asm_iced.rs` sweeps every form
    //! through an independent decoder.
    use super::*;

    fn enc(f: impl FnOnce(&mut Assembler)) -> Vec<u8> {
        let mut a = Assembler::new();
        f(&mut a);
        a.finish().unwrap()
    }

    #[test]
    fn modrm_edge_cases() {
        // mov rax, [rsp]: SIB with no index.
        assert_eq!(enc(|a| a.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rsp, 0))), [0x48, 0x8B, 0x04, 0x24]);
        // mov rax, [r12]: same, REX.B.
        assert_eq!(enc(|a| a.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::R12, 0))), [0x49, 0x8B, 0x04, 0x24]);
        // mov rax, [rbp]: disp8 0.
        assert_eq!(enc(|a| a.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::Rbp, 0))), [0x48, 0x8B, 0x45, 0x00]);
        // mov rax, [r13]: disp8 0, REX.B.
        assert_eq!(enc(|a| a.mov_rm(Size::S64, Gpr::Rax, Mem::base(Gpr::R13, 0))), [0x49, 0x8B, 0x45, 0x00]);
        // mov eax, [rcx+127] / [rcx+128] / [rcx-128] / [rcx-129].
        assert_eq!(enc(|a| a.mov_rm(Size::S32, Gpr::Rax, Mem::base(Gpr::Rcx, 127))), [0x8B, 0x41, 0x7F]);
        assert_eq!(
            enc(|a| a.mov_rm(Size::S32, Gpr::Rax, Mem::base(Gpr::Rcx, 128))),
            [0x8B, 0x81, 0x80, 0x00, 0x00, 0x00]
        );
        assert_eq!(enc(|a| a.mov_rm(Size::S32, Gpr::Rax, Mem::base(Gpr::Rcx, -128))), [0x8B, 0x41, 0x80]);
        assert_eq!(
            enc(|a| a.mov_rm(Size::S32, Gpr::Rax, Mem::base(Gpr::Rcx, -129))),
            [0x8B, 0x81, 0x7F, 0xFF, 0xFF, 0xFF]
        );
        // mov rax, [r13 + r12*8]: SIB, REX.X and REX.B, disp8 0.
        let m = Mem::indexed(Gpr::R13, Gpr::R12, Scale::X8, 0).unwrap();
        assert_eq!(enc(|a| a.mov_rm(Size::S64, Gpr::Rax, m)), [0x4B, 0x8B, 0x44, 0xE5, 0x00]);
        assert_eq!(Mem::indexed(Gpr::Rax, Gpr::Rsp, Scale::X1, 0), Err(AsmError::RspIndex));
    }

    #[test]
    fn byte_registers_get_rex() {
        assert_eq!(enc(|a| a.setcc(Cond::E, Gpr::Rax)), [0x0F, 0x94, 0xC0]);
        assert_eq!(enc(|a| a.setcc(Cond::E, Gpr::Rsp)), [0x40, 0x0F, 0x94, 0xC4]);
        assert_eq!(enc(|a| a.setcc(Cond::Ne, Gpr::Rdi)), [0x40, 0x0F, 0x95, 0xC7]);
        assert_eq!(enc(|a| a.movzx_rr8(Size::S32, Gpr::Rax, Gpr::Rsi)), [0x40, 0x0F, 0xB6, 0xC6]);
        assert_eq!(enc(|a| a.movzx_rr8(Size::S32, Gpr::Rax, Gpr::Rbx)), [0x0F, 0xB6, 0xC3]);
        // A byte register in ModRM.reg: `mov [rax], sil` needs the REX, `mov [rax], bl` not.
        assert_eq!(enc(|a| a.mov_m8r(Mem::base(Gpr::Rax, 0), Gpr::Rsi)), [0x40, 0x88, 0x30]);
        assert_eq!(enc(|a| a.mov_m8r(Mem::base(Gpr::Rax, 0), Gpr::Rbx)), [0x88, 0x18]);
        // ... but a 32-bit register 4-7 in ModRM.reg does not: `movzx esp, al`.
        assert_eq!(enc(|a| a.movzx_rr8(Size::S32, Gpr::Rsp, Gpr::Rax)), [0x0F, 0xB6, 0xE0]);
    }

    #[test]
    fn immediates_pick_the_short_form() {
        assert_eq!(enc(|a| a.add_ri(Size::S64, Gpr::Rax, 127)), [0x48, 0x83, 0xC0, 0x7F]);
        assert_eq!(enc(|a| a.add_ri(Size::S64, Gpr::Rax, 128)), [0x48, 0x81, 0xC0, 0x80, 0, 0, 0]);
        assert_eq!(enc(|a| a.sub_ri(Size::S32, Gpr::R9, -128)), [0x41, 0x83, 0xE9, 0x80]);
        assert_eq!(enc(|a| a.load_imm(Gpr::Rax, 5)), [0xB8, 5, 0, 0, 0]);
        assert_eq!(enc(|a| a.load_imm(Gpr::Rax, u64::MAX)), [0x48, 0xC7, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(enc(|a| a.load_imm(Gpr::R8, 1 << 40)), [0x49, 0xB8, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn label_errors_are_values() {
        let mut a = Assembler::new();
        let l = a.new_label();
        a.jmp(l);
        assert_eq!(a.finish(), Err(AsmError::UnboundLabel(l)));

        let mut a = Assembler::new();
        let l = a.new_label();
        a.bind(l);
        a.bind(l);
        assert_eq!(a.finish(), Err(AsmError::LabelBoundTwice(l)));

        let mut other = Assembler::new();
        let _ = other.new_label();
        let foreign = other.new_label();
        let mut a = Assembler::new();
        a.jmp(foreign);
        assert_eq!(a.finish(), Err(AsmError::ForeignLabel(foreign)));

        let mut a = Assembler::new();
        let l = a.new_label();
        a.jmp_short(l);
        a.nop(128);
        a.bind(l);
        assert_eq!(a.finish(), Err(AsmError::ShortJumpOutOfRange { label: l, distance: 128 }));

        let mut a = Assembler::new();
        a.align(3);
        assert_eq!(a.finish(), Err(AsmError::BadAlignment(3)));
    }

    #[test]
    fn nop_and_align() {
        for n in 0..40 {
            assert_eq!(enc(|a| a.nop(n)).len(), n);
        }
        let code = enc(|a| {
            a.ret();
            a.align(16);
        });
        assert_eq!(code.len(), 16);
    }

    #[test]
    fn pool_is_aligned_and_deduplicated() {
        let mut a = Assembler::new();
        let one = a.const_f64(1.0);
        let again = a.const_f64(1.0);
        let mask = a.const_xmm(1 << 63, 0);
        assert_eq!(one, again);
        a.movsd_xm(Xmm::Xmm0, Mem::rip(one));
        a.xorpd_xm(Xmm::Xmm0, Mem::rip(mask));
        a.ret();
        let code = a.finish().unwrap();
        // 8 + 8 + 1 bytes of code, padded to 32, then the 16-byte mask and the double.
        assert_eq!(code.len(), 32 + 16 + 8);
        assert_eq!(code[32..40], (1u64 << 63).to_le_bytes());
        assert_eq!(code[48..56], 1.0f64.to_bits().to_le_bytes());
        // movsd xmm0, [rip+disp]: disp measured from the end of the 8-byte instruction.
        assert_eq!(i32::from_le_bytes(code[4..8].try_into().unwrap()), 48 - 8);
    }
}
