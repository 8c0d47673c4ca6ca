//! The x86-64 backend: registers, assembler and the lowering of trace IR.
#![forbid(unsafe_code)]

pub mod asm;
pub mod lower;
pub mod regs;

pub use asm::{AsmError, Assembler, Label, Mem, RoundMode, Scale, Size};
pub use regs::{Cond, Gpr, Xmm};
