//! The x86-64 backend: registers, assembler (later: lowering, ABI, exit stubs).
#![forbid(unsafe_code)]

pub mod asm;
pub mod regs;

pub use asm::{AsmError, Assembler, Label, Mem, RoundMode, Scale, Size};
pub use regs::{Cond, Gpr, Xmm};
