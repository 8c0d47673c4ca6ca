//! Per-function compiler state and the expression descriptor.
//!
//! Contract:
//! - [`FuncState`] holds everything a function being compiled accumulates: code with its
//!   line numbers, the shared string/number constant array (deduplicated), child
//!   prototypes, upvalues, local-variable debug info, the active locals (local `i` lives
//!   in register `i`), the register watermark (`freereg`) and the frame size, the block
//!   stack, and the pending gotos and visible labels.
//! - [`Exp`] is an expression whose code has not been fully emitted yet (a single-pass
//!   compiler's "expression descriptor"): where its value is, plus the jump lists taken
//!   when it is true (`t`) or false (`f`).
//! - Nothing here reports errors; the parser checks limits (see `codegen.rs`).

use std::collections::HashMap;

use super::proto::{Const, FuncProto};
use crate::bytecode::Ins;
use crate::bytecode::{LocalVarInfo, UpvalDesc};

/// A register number placeholder meaning "no register" in test instructions.
pub const NO_REG: u8 = 255;

/// A constant key of an indexed expression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Key {
    /// Key in a register.
    Reg(u8),
    /// String constant index (fits 8 bits).
    Str(u8),
    /// Integer literal 0..=255.
    Byte(u8),
}

/// Where an expression's value is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EK {
    /// No value (empty expression list).
    Void,
    Nil,
    True,
    False,
    /// A numeric constant, not yet in the constant array.
    Num(f64),
    /// A string constant (constant index).
    Str(u32),
    /// An active local variable in its register.
    Local(u8),
    Upval(u8),
    /// A global; the name's constant index.
    Global(u32),
    /// `R[t][key]`.
    Indexed(u8, Key),
    /// An instruction at this pc whose destination (A) is not set yet.
    Reloc(usize),
    /// A value in a fixed register.
    NonReloc(u8),
    /// A `CALL` at this pc (its base is the A field).
    Call(usize),
    /// A `VARG` at this pc.
    Vararg(usize),
    /// A comparison: the `JMP` at this pc is taken when the comparison holds.
    Jmp(usize),
}

/// An expression descriptor.
#[derive(Clone, Debug, PartialEq)]
pub struct Exp {
    pub k: EK,
    /// Jumps taken when the expression is true.
    pub t: Vec<usize>,
    /// Jumps taken when the expression is false.
    pub f: Vec<usize>,
}

impl Exp {
    pub fn new(k: EK) -> Exp {
        Exp { k, t: Vec::new(), f: Vec::new() }
    }
    pub fn has_jumps(&self) -> bool {
        !self.t.is_empty() || !self.f.is_empty()
    }
    /// A numeric constant with no pending jumps.
    pub fn num_const(&self) -> Option<f64> {
        match self.k {
            EK::Num(n) if !self.has_jumps() => Some(n),
            _ => None,
        }
    }
    pub fn is_multi(&self) -> bool {
        matches!(self.k, EK::Call(_) | EK::Vararg(_))
    }
}

/// An active or pending local variable.
#[derive(Clone, Debug)]
pub struct ActVar {
    pub name: Box<[u8]>,
    /// Index into [`FuncState::locals`].
    pub info: usize,
}

/// A lexical block.
#[derive(Clone, Debug)]
pub struct Block {
    /// Active locals when the block was entered (= its first register).
    pub nactvar: usize,
    /// A loop: `break` jumps out of it.
    pub is_loop: bool,
    /// Some local of this block is captured as an upvalue.
    pub has_upval: bool,
    /// First label / pending goto belonging to this block.
    pub first_label: usize,
    pub first_goto: usize,
}

/// A visible label.
#[derive(Clone, Debug)]
pub struct Label {
    pub name: Box<[u8]>,
    pub pc: usize,
    pub nactvar: usize,
}

/// A forward goto (or `break`, named "break") waiting for its label.
#[derive(Clone, Debug)]
pub struct Goto {
    pub name: Box<[u8]>,
    /// The jump instruction (JMP, or UCLO once it must close upvalues).
    pub pc: usize,
    pub line: u32,
    pub nactvar: usize,
    /// Level from which upvalues must be closed when taking the jump.
    pub close: Option<usize>,
}

/// State of one function being compiled.
#[derive(Default)]
pub struct FuncState {
    pub code: Vec<Ins>,
    pub lines: Vec<u32>,
    pub knum: Vec<f64>,
    pub kgc: Vec<Const>,
    /// Distinct strings seen, by id (`EK::Str` holds an id): a string gets a `kgc` slot
    /// only when an instruction needs it, so one that only goes into a table
    /// template takes none.
    pub strs: Vec<Box<[u8]>>,
    /// The `kgc` slot of each string id (`u32::MAX`: none yet).
    pub str_slot: Vec<u32>,
    pub str_map: HashMap<Box<[u8]>, u32>,
    pub num_map: HashMap<u64, u32>,
    pub protos: Vec<FuncProto>,
    pub upvals: Vec<UpvalDesc>,
    pub upval_names: Vec<Box<[u8]>>,
    pub locals: Vec<LocalVarInfo>,
    pub actvars: Vec<ActVar>,
    pub nactvar: usize,
    pub freereg: usize,
    pub framesize: usize,
    pub blocks: Vec<Block>,
    pub labels: Vec<Label>,
    pub gotos: Vec<Goto>,
    pub numparams: u8,
    pub is_vararg: bool,
    pub linedefined: u32,
    /// pc of the latest jump target (KNIL merging must not cross it).
    pub last_target: usize,
}

impl FuncState {
    pub fn new(linedefined: u32) -> FuncState {
        FuncState { linedefined, ..Default::default() }
    }

    /// The register of the innermost active local named `name`.
    pub fn find_local(&self, name: &[u8]) -> Option<u8> {
        let n = self.nactvar.min(self.actvars.len());
        (0..n).rev().find(|&i| &*self.actvars[i].name == name).map(|i| i as u8)
    }

    pub fn find_upval(&self, name: &[u8]) -> Option<u8> {
        self.upval_names.iter().position(|n| &**n == name).map(|i| i as u8)
    }

    /// Marks the block that declared register `reg` as having a captured local.
    pub fn mark_captured(&mut self, reg: u8) {
        for bl in self.blocks.iter_mut().rev() {
            if bl.nactvar <= reg as usize {
                bl.has_upval = true;
                return;
            }
        }
    }

    pub fn pc(&self) -> usize {
        self.code.len()
    }

    /// The instruction at `pc`, if any.
    pub fn ins(&self, pc: usize) -> Option<Ins> {
        self.code.get(pc).copied()
    }

    pub fn set_ins(&mut self, pc: usize, ins: Ins) {
        if let Some(slot) = self.code.get_mut(pc) {
            *slot = ins;
        }
    }

    /// Wording for limit errors: "main function" or "function at line N".
    pub fn what(&self) -> String {
        if self.linedefined == 0 {
            "main function".to_string()
        } else {
            format!("function at line {}", self.linedefined)
        }
    }
}
