//! moonbox-jit-native: the native trace backend's foundation, x86-64 first.
//!
//! Today this crate is standalone (it does not depend on `moonbox-engine` yet): an assembler
//! and W^X executable memory, each tested on its own. The trace backend (register
//! allocation, lowering, exit stubs, the `TraceBackend` impl) is built on top later.
//!
//! # File map
//!
//! | file | what |
//! | --- | --- |
//! | `src/x64/regs.rs` | [`x64::Gpr`], [`x64::Xmm`], [`x64::Cond`]: registers and condition codes by hardware number |
//! | `src/x64/asm.rs` | [`x64::Assembler`]: one method per instruction form, [`x64::Mem`] operands, labels, rel8/rel32 fixups, constant pool; errors as [`x64::AsmError`] values |
//! | `src/code_memory.rs` | [`code_memory::CodeMemory`] → [`code_memory::CodeBuffer`] (RW) → [`code_memory::ExecutableCode`] (RX): `region` areas, the `maxmcode` budget, RX→RW→RX patching |
//! | `src/disasm.rs` | `disassemble(code, base_addr)` listings in `-jdump` style (feature `disasm`, iced-x86) |
//! | `tests/asm_iced.rs` | every assembler form over its operand space, checked by iced-x86's decoder; labels; the golden listing `tests/golden/x64_asm.txt` (`MOONBOX_BLESS=1` re-blesses) |
//!
//! # Features
//!
//! - `disasm` (off by default): `disasm::disassemble` listings through iced-x86's formatter, for
//!   `-jdump`-style machine-code dumps. The tests always build it (a dev-dependency on the
//!   crate itself turns it on), so the golden listing is printed by the dump code.
//!
//! # Unsafe policy
//!
//! `unsafe` is allowed only in `src/code_memory.rs` and (later) `src/entry.rs`, the two places
//! where raw code pointers are unavoidable; every other module starts with
//! `#![forbid(unsafe_code)]`. Every `unsafe` block carries a `// SAFETY:` comment naming the
//! invariant it relies on (enforced by `clippy::undocumented_unsafe_blocks`), and every
//! `unsafe fn` a `# Safety` section. Jumping into generated code is always an `unsafe` call
//! whose caller states why the code is a valid function of that signature.
//!
//! # No panics
//!
//! Nothing in this crate panics on any input: invalid operands are unrepresentable or errors,
//! label misuse and memory exhaustion are error values. Outside tests, clippy denies
//! `unwrap`, `expect`, `panic!`, indexing that can fail, `unreachable!`, `todo!` and
//! `unimplemented!`.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc, unsafe_op_in_unsafe_fn)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod code_memory;
#[cfg(feature = "disasm")]
pub mod disasm;
pub mod x64;

#[cfg(feature = "disasm")]
pub use disasm::disassemble;
