//! The compiler's output: a function prototype tree, independent of the heap.

use crate::bytecode::{Ins, LocalVarInfo, UpvalDesc};

/// A GC constant of a prototype (`KG[x]` in the opcode docs). Numbers live in their
/// own array (`KN[x]`), as in LuaJIT, so each kind has 65536 slots.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Str(Box<[u8]>),
    /// The template of a table constructor (`TDUP` copies it).
    Table(TableTemplate),
    /// An FFI cdata literal (`KCDATA` loads it).
    CData(CConst),
}

/// The value of an FFI cdata literal, as LuaJIT's lexer makes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CConst {
    /// `1LL`: an `int64_t`.
    Int64(i64),
    /// `1ULL`: a `uint64_t`.
    UInt64(u64),
    /// `2i`: a `complex` (double) with this real and imaginary part.
    Complex(f64, f64),
}

/// A constant key or value of a table template.
#[derive(Clone, Debug, PartialEq)]
pub enum KVal {
    False,
    True,
    Num(f64),
    Str(Box<[u8]>),
}

/// The constant part of a table constructor, as LuaJIT's template tables: positional
/// items `1..=array.len()` (`None` for a hole a later instruction fills) and keyed
/// items. A key whose value is computed at run time has `None`, so the table is
/// sized for it. The table is built from `hash` first, then `array`: a positional item
/// replaces an earlier `[i] = v`, and a later `[i] = v` is put into `array`, so the
/// result is that of storing the items in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableTemplate {
    pub array: Vec<Option<KVal>>,
    pub hash: Vec<(KVal, Option<KVal>)>,
}

impl TableTemplate {
    /// Positional item `i` (1-based).
    pub fn set_item(&mut self, i: usize, v: KVal) {
        if self.array.len() < i {
            self.array.resize(i, None);
        }
        self.array[i - 1] = Some(v);
    }

    /// `[k] = v` (`None`: a slot for a computed value): as a table store, a later item
    /// with the same key replaces an earlier one. `index` maps keys (see
    /// [`KVal::key_bytes`]) to their `hash` entry.
    pub fn set(&mut self, k: KVal, v: Option<KVal>, index: &mut std::collections::HashMap<Vec<u8>, usize>) {
        if let KVal::Num(n) = k {
            if n >= 1.0 && n <= self.array.len() as f64 && n.fract() == 0.0 {
                self.array[n as usize - 1] = v;
                return;
            }
        }
        match index.entry(k.key_bytes()) {
            std::collections::hash_map::Entry::Occupied(e) => self.hash[*e.get()].1 = v,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(self.hash.len());
                self.hash.push((k, v));
            }
        }
    }
}

impl KVal {
    /// The value as a byte string that is equal exactly for equal keys.
    pub fn key_bytes(&self) -> Vec<u8> {
        match self {
            KVal::False => vec![0],
            KVal::True => vec![1],
            KVal::Num(n) => {
                let mut v = vec![2];
                v.extend_from_slice(&n.to_bits().to_le_bytes());
                v
            }
            KVal::Str(s) => {
                let mut v = vec![3];
                v.extend_from_slice(s);
                v
            }
        }
    }
}

/// One compiled function.
#[derive(Clone, Debug, Default)]
pub struct FuncProto {
    /// The bytecode.
    pub code: Vec<Ins>,
    /// Source line of each instruction (same length as `code`).
    pub lineinfo: Vec<u32>,
    /// Number constants.
    pub knum: Vec<f64>,
    /// GC constants: strings and table templates.
    pub kgc: Vec<Const>,
    /// Child prototypes, indexed by `FNEW`'s D operand.
    pub protos: Vec<FuncProto>,
    /// Upvalue descriptors, one per upvalue.
    pub upvals: Vec<UpvalDesc>,
    /// Upvalue names (same length as `upvals`), for error messages and `debug`.
    pub upval_names: Vec<Box<[u8]>>,
    /// Local variable debug info.
    pub locals: Vec<LocalVarInfo>,
    /// Number of fixed parameters (they arrive in registers `0 .. numparams`).
    pub numparams: u8,
    /// True if the function takes `...`.
    pub is_vararg: bool,
    /// Registers the frame needs (at most `bytecode::MAX_SLOTS`).
    pub framesize: u8,
    /// Line of the `function` keyword (0 for a main chunk).
    pub linedefined: u32,
    /// Line of the closing `end` (0 for a main chunk).
    pub lastlinedefined: u32,
    /// The chunk name, e.g. `@file.lua` or `=stdin` or the source text itself.
    pub chunkname: std::rc::Rc<[u8]>,
}
