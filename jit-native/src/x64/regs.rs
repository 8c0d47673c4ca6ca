//! x86-64 register and condition-code names: the operand vocabulary of [`super::asm`].
//!
//! Each enum's discriminant is the hardware number (the 4-bit register number split into
//! ModRM/SIB low bits and REX.R/X/B, or the `cc` nibble of `Jcc`/`SETcc`/`CMOVcc`), so the
//! encoder reads it with `as u8` and nothing can be out of range.
#![forbid(unsafe_code)]

use std::fmt;

/// A general-purpose register. The operand size (64/32/16/8 bits) is chosen by the
/// instruction form, not by the register value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Gpr {
    Rax = 0,
    Rcx = 1,
    Rdx = 2,
    Rbx = 3,
    Rsp = 4,
    Rbp = 5,
    Rsi = 6,
    Rdi = 7,
    R8 = 8,
    R9 = 9,
    R10 = 10,
    R11 = 11,
    R12 = 12,
    R13 = 13,
    R14 = 14,
    R15 = 15,
}

const GPR_NAMES_64: [&str; 16] =
    ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
const GPR_NAMES_32: [&str; 16] = [
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d",
    "r15d",
];
const GPR_NAMES_8: [&str; 16] =
    ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"];

impl Gpr {
    /// All sixteen, in hardware-number order.
    pub const ALL: [Gpr; 16] = [
        Gpr::Rax,
        Gpr::Rcx,
        Gpr::Rdx,
        Gpr::Rbx,
        Gpr::Rsp,
        Gpr::Rbp,
        Gpr::Rsi,
        Gpr::Rdi,
        Gpr::R8,
        Gpr::R9,
        Gpr::R10,
        Gpr::R11,
        Gpr::R12,
        Gpr::R13,
        Gpr::R14,
        Gpr::R15,
    ];

    /// The 4-bit hardware register number.
    pub const fn num(self) -> u8 {
        self as u8
    }

    /// The register with hardware number `n`, if `n < 16`.
    pub fn from_num(n: u8) -> Option<Gpr> {
        Gpr::ALL.get(usize::from(n)).copied()
    }

    /// The 64-bit name (`rax`, `r8`).
    pub fn name64(self) -> &'static str {
        GPR_NAMES_64.get(usize::from(self.num())).copied().unwrap_or("?")
    }

    /// The 32-bit name (`eax`, `r8d`).
    pub fn name32(self) -> &'static str {
        GPR_NAMES_32.get(usize::from(self.num())).copied().unwrap_or("?")
    }

    /// The low-byte name (`al`, `spl`, `r8b`); `spl/bpl/sil/dil` need a REX prefix.
    pub fn name8(self) -> &'static str {
        GPR_NAMES_8.get(usize::from(self.num())).copied().unwrap_or("?")
    }
}

impl fmt::Display for Gpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name64())
    }
}

/// An SSE register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Xmm {
    Xmm0 = 0,
    Xmm1 = 1,
    Xmm2 = 2,
    Xmm3 = 3,
    Xmm4 = 4,
    Xmm5 = 5,
    Xmm6 = 6,
    Xmm7 = 7,
    Xmm8 = 8,
    Xmm9 = 9,
    Xmm10 = 10,
    Xmm11 = 11,
    Xmm12 = 12,
    Xmm13 = 13,
    Xmm14 = 14,
    Xmm15 = 15,
}

impl Xmm {
    /// All sixteen, in hardware-number order.
    pub const ALL: [Xmm; 16] = [
        Xmm::Xmm0,
        Xmm::Xmm1,
        Xmm::Xmm2,
        Xmm::Xmm3,
        Xmm::Xmm4,
        Xmm::Xmm5,
        Xmm::Xmm6,
        Xmm::Xmm7,
        Xmm::Xmm8,
        Xmm::Xmm9,
        Xmm::Xmm10,
        Xmm::Xmm11,
        Xmm::Xmm12,
        Xmm::Xmm13,
        Xmm::Xmm14,
        Xmm::Xmm15,
    ];

    /// The 4-bit hardware register number.
    pub const fn num(self) -> u8 {
        self as u8
    }

    /// The register with hardware number `n`, if `n < 16`.
    pub fn from_num(n: u8) -> Option<Xmm> {
        Xmm::ALL.get(usize::from(n)).copied()
    }
}

impl fmt::Display for Xmm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "xmm{}", self.num())
    }
}

/// A condition code: the `cc` nibble of `Jcc`, `SETcc` and `CMOVcc`. Pairs differ in bit 0,
/// so [`Cond::negate`] flips it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Cond {
    /// Overflow (OF=1).
    O = 0x0,
    /// No overflow (OF=0).
    No = 0x1,
    /// Below, unsigned `<` (CF=1); also "carry".
    B = 0x2,
    /// Above or equal, unsigned `>=` (CF=0); also "no carry".
    Ae = 0x3,
    /// Equal / zero (ZF=1).
    E = 0x4,
    /// Not equal / not zero (ZF=0).
    Ne = 0x5,
    /// Below or equal, unsigned `<=` (CF=1 or ZF=1).
    Be = 0x6,
    /// Above, unsigned `>` (CF=0 and ZF=0).
    A = 0x7,
    /// Sign (SF=1).
    S = 0x8,
    /// No sign (SF=0).
    Ns = 0x9,
    /// Parity even (PF=1): after `ucomisd`, "unordered".
    P = 0xa,
    /// Parity odd (PF=0): after `ucomisd`, "ordered".
    Np = 0xb,
    /// Less, signed `<` (SF≠OF).
    L = 0xc,
    /// Greater or equal, signed `>=` (SF=OF).
    Ge = 0xd,
    /// Less or equal, signed `<=` (ZF=1 or SF≠OF).
    Le = 0xe,
    /// Greater, signed `>` (ZF=0 and SF=OF).
    G = 0xf,
}

impl Cond {
    /// Zero (same encoding as [`Cond::E`]).
    pub const Z: Cond = Cond::E;
    /// Not zero (same encoding as [`Cond::Ne`]).
    pub const NZ: Cond = Cond::Ne;
    /// Carry (same encoding as [`Cond::B`]).
    pub const C: Cond = Cond::B;
    /// No carry (same encoding as [`Cond::Ae`]).
    pub const NC: Cond = Cond::Ae;

    /// All sixteen, in encoding order.
    pub const ALL: [Cond; 16] = [
        Cond::O,
        Cond::No,
        Cond::B,
        Cond::Ae,
        Cond::E,
        Cond::Ne,
        Cond::Be,
        Cond::A,
        Cond::S,
        Cond::Ns,
        Cond::P,
        Cond::Np,
        Cond::L,
        Cond::Ge,
        Cond::Le,
        Cond::G,
    ];

    /// The `cc` nibble.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The condition that holds exactly when `self` does not.
    pub const fn negate(self) -> Cond {
        match self {
            Cond::O => Cond::No,
            Cond::No => Cond::O,
            Cond::B => Cond::Ae,
            Cond::Ae => Cond::B,
            Cond::E => Cond::Ne,
            Cond::Ne => Cond::E,
            Cond::Be => Cond::A,
            Cond::A => Cond::Be,
            Cond::S => Cond::Ns,
            Cond::Ns => Cond::S,
            Cond::P => Cond::Np,
            Cond::Np => Cond::P,
            Cond::L => Cond::Ge,
            Cond::Ge => Cond::L,
            Cond::Le => Cond::G,
            Cond::G => Cond::Le,
        }
    }

    /// The mnemonic suffix (`e`, `ne`, `ae`, …) as in `jne`.
    pub fn suffix(self) -> &'static str {
        match self {
            Cond::O => "o",
            Cond::No => "no",
            Cond::B => "b",
            Cond::Ae => "ae",
            Cond::E => "e",
            Cond::Ne => "ne",
            Cond::Be => "be",
            Cond::A => "a",
            Cond::S => "s",
            Cond::Ns => "ns",
            Cond::P => "p",
            Cond::Np => "np",
            Cond::L => "l",
            Cond::Ge => "ge",
            Cond::Le => "le",
            Cond::G => "g",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negate_flips_bit_zero_and_is_an_involution() {
        for c in Cond::ALL {
            assert_eq!(c.negate().code(), c.code() ^ 1);
            assert_eq!(c.negate().negate(), c);
        }
    }

    #[test]
    fn all_is_in_hardware_order() {
        for (i, g) in Gpr::ALL.iter().enumerate() {
            assert_eq!(usize::from(g.num()), i);
            assert_eq!(Gpr::from_num(g.num()), Some(*g));
        }
        for (i, x) in Xmm::ALL.iter().enumerate() {
            assert_eq!(usize::from(x.num()), i);
        }
        for (i, c) in Cond::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.code()), i);
        }
        assert_eq!(Gpr::from_num(16), None);
    }
}
