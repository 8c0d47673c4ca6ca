//! The bytecode: one table defines every opcode.
//!
//! Instructions are 32 bits, laid out as LuaJIT's are:
//!
//! ```text
//!  31      24 23      16 15       8 7        0
//! +----------+----------+----------+----------+
//! |    B     |    C     |    A     |    OP    |   ABC form
//! +----------+----------+----------+----------+
//! |          D          |    A     |    OP    |   AD form (D = B << 8 | C)
//! +---------------------+----------+----------+
//! ```
//!
//! `R[x]` is register `x` of the current frame, `U[x]` upvalue `x`. Constants are in
//! two arrays, as in LuaJIT: `K[x]` of a number operand indexes the number constants,
//! of a string or table operand the GC constants, so a function has up to 65536 of
//! each.
//! Jump targets are `pc_of_next_instruction + (D - 0x8000)`.
//!
//! Comparison and test instructions are always followed by a `JMP`: when the condition
//! holds, that jump is taken; otherwise the instruction after the jump runs next.
//!
//! "Multires" operands: a `CALL` or `VARG` with an open result count sets the frame's
//! *top* to one past its last result; an instruction with an open operand count
//! (`CALL` with `B = 0`, `CALLT` with `B = 0`, `RET` with `D = 0`, `TSETM`) consumes
//! values up to that top.
//!
//! The table below is the single source of truth: the `Op` enum, names, operand modes
//! (read by the disassembler and, later, by the trace recorder) all expand from it.

use std::fmt;

/// What an operand field holds; drives the disassembler.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Field unused.
    None,
    /// Register written.
    Dst,
    /// Register read.
    Var,
    /// Base register of a range.
    Base,
    /// Index into the GC constants, holding a string.
    Str,
    /// Index into the number constants.
    Num,
    /// Index into the GC constants, holding a table template.
    Tab,
    /// Index into the GC constants, holding an FFI cdata constant (`1LL`).
    CData,
    /// Primitive: 0 = nil, 1 = false, 2 = true.
    Pri,
    /// Unsigned literal.
    Lit,
    /// Signed 16-bit literal.
    SLit,
    /// Upvalue index.
    Uv,
    /// Child prototype index.
    Func,
    /// Jump offset (biased by 0x8000).
    Jump,
}

macro_rules! define_opcodes {
    ($( $(#[doc = $doc:literal])* $name:ident : $a:ident, $b:ident, $cd:ident ; )*) => {
        /// A bytecode opcode.
        #[repr(u8)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum Op {
            $( $(#[doc = $doc])* $name, )*
        }

        /// Number of opcodes.
        pub const NUM_OPS: usize = [$(Op::$name),*].len();

        #[cfg(test)]
        const OP_TABLE: [Op; NUM_OPS] = [$(Op::$name),*];

        impl Op {
            /// The opcode with number `b` (`None` only for corrupt code). An identity
            /// match, which the compiler turns into one range check.
            #[inline(always)]
            pub fn from_u8(b: u8) -> Option<Op> {
                match b {
                    $( opc::$name => Some(Op::$name), )*
                    _ => None,
                }
            }
        }

        /// The opcodes' numbers as `u8` constants, for matching on an instruction's
        /// opcode byte directly: the dispatch loop does, so that its jump table has
        /// all 256 entries and needs no range check (see `vm::interp`).
        pub mod opc {
            $( pub const $name: u8 = super::Op::$name as u8; )*
        }
        const OP_NAMES: [&str; NUM_OPS] = [$(stringify!($name)),*];
        const OP_MODES: [(Mode, Mode, Mode); NUM_OPS] = [$((Mode::$a, Mode::$b, Mode::$cd)),*];
    };
}

/// Every opcode byte that names no opcode (`NUM_OPS..=255`), written out as a
/// pattern. A match on the opcode byte that lists these explicitly covers all 256
/// values without a `_` arm, so LLVM builds a full jump table with no range check
/// (the dispatch loop relies on it; a test checks the list against `NUM_OPS`).
#[rustfmt::skip]
macro_rules! undefined_opcodes {
    () => {
        77 | 78 | 79 | 80 | 81 | 82 | 83 | 84 | 85 | 86 | 87 | 88 |
        89 | 90 | 91 | 92 | 93 | 94 | 95 | 96 | 97 | 98 | 99 | 100 | 101 | 102 | 103 | 104 |
        105 | 106 | 107 | 108 | 109 | 110 | 111 | 112 | 113 | 114 | 115 | 116 | 117 | 118 |
        119 | 120 | 121 | 122 | 123 | 124 | 125 | 126 | 127 | 128 | 129 | 130 | 131 | 132 |
        133 | 134 | 135 | 136 | 137 | 138 | 139 | 140 | 141 | 142 | 143 | 144 | 145 | 146 |
        147 | 148 | 149 | 150 | 151 | 152 | 153 | 154 | 155 | 156 | 157 | 158 | 159 | 160 |
        161 | 162 | 163 | 164 | 165 | 166 | 167 | 168 | 169 | 170 | 171 | 172 | 173 | 174 |
        175 | 176 | 177 | 178 | 179 | 180 | 181 | 182 | 183 | 184 | 185 | 186 | 187 | 188 |
        189 | 190 | 191 | 192 | 193 | 194 | 195 | 196 | 197 | 198 | 199 | 200 | 201 | 202 |
        203 | 204 | 205 | 206 | 207 | 208 | 209 | 210 | 211 | 212 | 213 | 214 | 215 | 216 |
        217 | 218 | 219 | 220 | 221 | 222 | 223 | 224 | 225 | 226 | 227 | 228 | 229 | 230 |
        231 | 232 | 233 | 234 | 235 | 236 | 237 | 238 | 239 | 240 | 241 | 242 | 243 | 244 |
        245 | 246 | 247 | 248 | 249 | 250 | 251 | 252 | 253 | 254 | 255
    };
}
pub(crate) use undefined_opcodes;

define_opcodes! {
    // --- Comparisons: followed by a JMP taken when the condition holds. -------------
    /// `R[A] < R[D]`
    ISLT: Var, None, Var;
    /// `not (R[A] < R[D])`
    ISGE: Var, None, Var;
    /// `R[A] <= R[D]`
    ISLE: Var, None, Var;
    /// `not (R[A] <= R[D])`
    ISGT: Var, None, Var;
    /// `R[A] == R[D]`
    ISEQV: Var, None, Var;
    /// `R[A] ~= R[D]`
    ISNEV: Var, None, Var;
    /// `R[A] == K[D]` (string)
    ISEQS: Var, None, Str;
    /// `R[A] ~= K[D]` (string)
    ISNES: Var, None, Str;
    /// `R[A] == K[D]` (number)
    ISEQN: Var, None, Num;
    /// `R[A] ~= K[D]` (number)
    ISNEN: Var, None, Num;
    /// `R[A] == pri(D)`
    ISEQP: Var, None, Pri;
    /// `R[A] ~= pri(D)`
    ISNEP: Var, None, Pri;

    // --- Tests: followed by a JMP. ------------------------------------------------
    /// If `R[D]` is truthy: `R[A] = R[D]` and take the JMP.
    ISTC: Dst, None, Var;
    /// If `R[D]` is falsy: `R[A] = R[D]` and take the JMP.
    ISFC: Dst, None, Var;
    /// If `R[D]` is truthy, take the JMP.
    IST: None, None, Var;
    /// If `R[D]` is falsy, take the JMP.
    ISF: None, None, Var;

    // --- Unary. ---------------------------------------------------------------------
    /// `R[A] = R[D]`
    MOV: Dst, None, Var;
    /// `R[A] = not R[D]`
    NOT: Dst, None, Var;
    /// `R[A] = -R[D]`
    UNM: Dst, None, Var;
    /// `R[A] = #R[D]`
    LEN: Dst, None, Var;

    // --- Binary arithmetic. ---------------------------------------------------------
    /// `R[A] = R[B] + K[C]`
    ADDVN: Dst, Var, Num;
    /// `R[A] = R[B] - K[C]`
    SUBVN: Dst, Var, Num;
    /// `R[A] = R[B] * K[C]`
    MULVN: Dst, Var, Num;
    /// `R[A] = R[B] / K[C]`
    DIVVN: Dst, Var, Num;
    /// `R[A] = R[B] % K[C]`
    MODVN: Dst, Var, Num;
    /// `R[A] = K[C] + R[B]`
    ADDNV: Dst, Var, Num;
    /// `R[A] = K[C] - R[B]`
    SUBNV: Dst, Var, Num;
    /// `R[A] = K[C] * R[B]`
    MULNV: Dst, Var, Num;
    /// `R[A] = K[C] / R[B]`
    DIVNV: Dst, Var, Num;
    /// `R[A] = K[C] % R[B]`
    MODNV: Dst, Var, Num;
    /// `R[A] = R[B] + R[C]`
    ADDVV: Dst, Var, Var;
    /// `R[A] = R[B] - R[C]`
    SUBVV: Dst, Var, Var;
    /// `R[A] = R[B] * R[C]`
    MULVV: Dst, Var, Var;
    /// `R[A] = R[B] / R[C]`
    DIVVV: Dst, Var, Var;
    /// `R[A] = R[B] % R[C]`
    MODVV: Dst, Var, Var;
    /// `R[A] = R[B] ^ R[C]`
    POW: Dst, Var, Var;
    /// `R[A] = R[B] .. R[B+1] .. ... .. R[C]` (B < C)
    CAT: Dst, Base, Base;

    // --- Constants. -----------------------------------------------------------------
    /// `R[A] = K[D]` (string)
    KSTR: Dst, None, Str;
    /// `R[A] = D` as a signed 16-bit integer
    KSHORT: Dst, None, SLit;
    /// `R[A] = K[D]` (number)
    KNUM: Dst, None, Num;
    /// `R[A] = pri(D)`
    KPRI: Dst, None, Pri;
    /// `R[A] ..= R[D]` set to nil
    KNIL: Base, None, Base;

    // --- Upvalues and closures. -----------------------------------------------------
    /// `R[A] = U[D]`
    UGET: Dst, None, Uv;
    /// `U[A] = R[D]`
    USETV: Uv, None, Var;
    /// `U[A] = K[D]` (string)
    USETS: Uv, None, Str;
    /// `U[A] = K[D]` (number)
    USETN: Uv, None, Num;
    /// `U[A] = pri(D)`
    USETP: Uv, None, Pri;
    /// Close open upvalues of slots `>= A`, then jump by D.
    UCLO: Base, None, Jump;
    /// `R[A] = closure(child prototype D)`
    FNEW: Dst, None, Func;

    // --- Tables. ---------------------------------------------------------------------
    /// `R[A] = {}` sized by D: array part `D & 0x7ff`, hash part `2^(D >> 11)` when `D >> 11 > 0`.
    TNEW: Dst, None, Lit;
    /// `R[A] = ` a copy of the template table `K[D]` (a constructor's constant items).
    TDUP: Dst, None, Tab;
    /// `R[A] = ENV[K[D]]` (the current function's environment)
    GGET: Dst, None, Str;
    /// `ENV[K[D]] = R[A]`
    GSET: Var, None, Str;
    /// `R[A] = R[B][R[C]]`
    TGETV: Dst, Var, Var;
    /// `R[A] = R[B][K[C]]` (string)
    TGETS: Dst, Var, Str;
    /// `R[A] = R[B][C]` (C an integer literal 0..=255)
    TGETB: Dst, Var, Lit;
    /// `R[B][R[C]] = R[A]`
    TSETV: Var, Var, Var;
    /// `R[B][K[C]] = R[A]` (string)
    TSETS: Var, Var, Str;
    /// `R[B][C] = R[A]` (C an integer literal 0..=255)
    TSETB: Var, Var, Lit;
    /// `R[A-1][K[D] + i] = R[A + i]` for every value from `A` up to the multires top.
    /// `K[D]` is an integral number constant, the first array index.
    TSETM: Base, None, Num;

    // --- Calls and varargs. -----------------------------------------------------------
    /// Call `R[A]` with `B - 1` arguments `R[A+1] ..` (`B = 0`: up to the multires top);
    /// results go to `R[A] ..`, `C - 1` of them (`C = 0`: all, setting the multires top).
    CALL: Base, Lit, Lit;
    /// Tail call `R[A]` with `B - 1` arguments (`B = 0`: up to the multires top).
    CALLT: Base, Lit, None;
    /// Generic `for` call: `R[A], R[A+1], R[A+2] = R[A-3], R[A-2], R[A-1]`, then call
    /// `R[A](R[A+1], R[A+2])`; `C - 1` results go to `R[A] ..` (C is at least 2).
    ITERC: Base, Lit, Lit;
    /// Generic `for` loop: if `R[A] ~= nil` then `R[A-1] = R[A]` and jump by D. A hot loop.
    ITERL: Base, None, Jump;
    /// `R[A] .. R[A+B-2]` = the frame's varargs (`B = 0`: all of them, setting the
    /// multires top).
    VARG: Base, Lit, None;

    // --- Returns. -----------------------------------------------------------------------
    /// Return `R[A] .. R[A+D-2]` (`D = 0`: up to the multires top).
    RET: Base, None, Lit;
    /// Return no values.
    RET0: None, None, None;
    /// Return `R[A]`.
    RET1: Var, None, None;

    // --- Loops and branches. --------------------------------------------------------
    /// Numeric `for` prepare. `R[A]` start, `R[A+1]` limit, `R[A+2]` step (each coerced
    /// to a number, or the error "'for' initial value must be a number" etc.). If the
    /// loop runs zero times, jump by D (past the loop); otherwise `R[A+3] = R[A]`.
    FORI: Base, None, Jump;
    /// Numeric `for` loop: `R[A] += R[A+2]`; if still in range, `R[A+3] = R[A]` and jump
    /// by D (back to the body). A hot loop.
    FORL: Base, None, Jump;
    /// Top of a `while` / `repeat` loop body: counts hotness, otherwise a no-op.
    LOOP: Base, None, Jump;
    /// Jump by D.
    JMP: Base, None, Jump;
    /// `R[A] = K[D]` (an FFI cdata constant: `1LL`, `1ULL`, `1i`). Last in the
    /// table, so that adding it renumbered no other opcode.
    KCDATA: Dst, None, CData;

    // --- Patched loops (the trace JIT; never emitted, loaded or dumped). -------------
    // The compiler emits FORL and LOOP; the JIT patches the opcode byte in place, so
    // every other field stays the original's and `Ins::original` undoes the patch.
    /// A `FORL` whose loop has a compiled trace: the FORL's work, then the trace.
    JFORL: Base, None, Jump;
    /// A `LOOP` whose loop has a compiled trace: the LOOP's work, then the trace.
    JLOOP: Base, None, Jump;
    /// A blacklisted `FORL`: the same without hot counting (it never compiles).
    IFORL: Base, None, Jump;
    /// A blacklisted `LOOP`.
    ILOOP: Base, None, Jump;
}

impl Op {
    /// The opcode's name as the disassembler prints it.
    pub fn name(self) -> &'static str {
        OP_NAMES[self as usize]
    }

    /// Operand modes (A, B, C-or-D). B is `None` for AD-form instructions.
    pub fn modes(self) -> (Mode, Mode, Mode) {
        OP_MODES[self as usize]
    }

    /// True for AD-form instructions (no B operand).
    pub fn is_ad(self) -> bool {
        self.modes().1 == Mode::None
    }
}

/// The jump bias of the D field.
pub const JUMP_BIAS: u32 = 0x8000;
/// Most registers a frame may use (LuaJIT's LJ_MAX_SLOTS).
pub const MAX_SLOTS: usize = 250;
/// Most upvalues a function may have (OpenResty luajit2 allows 120).
pub const MAX_UPVALUES: usize = 120;
/// Most active local variables in a function.
pub const MAX_LOCALS: usize = 200;

/// One 32-bit instruction.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Ins(pub u32);

impl Ins {
    /// ABC form.
    #[inline]
    pub const fn abc(op: Op, a: u8, b: u8, c: u8) -> Ins {
        Ins(op as u32 | (a as u32) << 8 | (c as u32) << 16 | (b as u32) << 24)
    }
    /// AD form.
    #[inline]
    pub const fn ad(op: Op, a: u8, d: u16) -> Ins {
        Ins(op as u32 | (a as u32) << 8 | (d as u32) << 16)
    }
    /// AD form with a jump offset relative to the next instruction.
    #[inline]
    pub const fn aj(op: Op, a: u8, offset: i32) -> Ins {
        Ins::ad(op, a, (offset + JUMP_BIAS as i32) as u16)
    }
    /// The opcode byte.
    #[inline(always)]
    pub const fn op_byte(self) -> u8 {
        self.0 as u8
    }
    /// The opcode (`None` only for corrupt code).
    #[inline(always)]
    pub fn op(self) -> Option<Op> {
        Op::from_u8(self.op_byte())
    }
    #[inline(always)]
    pub const fn a(self) -> usize {
        ((self.0 >> 8) & 0xff) as usize
    }
    #[inline(always)]
    pub const fn b(self) -> usize {
        (self.0 >> 24) as usize
    }
    #[inline(always)]
    pub const fn c(self) -> usize {
        ((self.0 >> 16) & 0xff) as usize
    }
    #[inline(always)]
    pub const fn d(self) -> usize {
        (self.0 >> 16) as usize
    }
    /// The D field naming a register (`MOV`, `ISLT`, `NOT`, ...). Registers are below
    /// the frame size, which is at most 255 (the compiler's limit, and the verifier's
    /// for binary chunks), so this is `d()` in 8 bits: an index the dispatch loop's
    /// register window takes without a bounds check.
    #[inline(always)]
    pub const fn rd(self) -> usize {
        ((self.0 >> 16) & 0xff) as usize
    }
    /// The D field as a signed 16-bit literal (KSHORT).
    #[inline(always)]
    pub const fn sd(self) -> i32 {
        (self.0 >> 16) as u16 as i16 as i32
    }
    /// The D field as a jump offset.
    #[inline(always)]
    pub const fn j(self) -> isize {
        (self.d() as isize) - JUMP_BIAS as isize
    }
    /// Replaces the A field.
    /// The instruction as the compiler emitted it: a JIT-patched loop instruction
    /// (`JFORL`, `IFORL`, `JLOOP`, `ILOOP`) back as its `FORL` or `LOOP`.
    #[inline]
    pub fn original(self) -> Ins {
        let op = match self.op_byte() {
            opc::JFORL | opc::IFORL => opc::FORL,
            opc::JLOOP | opc::ILOOP => opc::LOOP,
            _ => return self,
        };
        Ins((self.0 & !0xff) | op as u32)
    }
    /// The same instruction with opcode `op` (patching a loop).
    #[inline]
    pub fn with_op(self, op: Op) -> Ins {
        Ins((self.0 & !0xff) | op as u32)
    }
    pub fn set_a(&mut self, a: u8) {
        self.0 = (self.0 & !0xff00) | (a as u32) << 8;
    }
    /// Replaces the D field.
    pub fn set_d(&mut self, d: u16) {
        self.0 = (self.0 & 0xffff) | (d as u32) << 16;
    }
    /// Replaces the D field with a jump offset.
    pub fn set_j(&mut self, offset: i32) {
        self.set_d((offset + JUMP_BIAS as i32) as u16);
    }
}

impl fmt::Debug for Ins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op() {
            None => write!(f, "<bad {:#010x}>", self.0),
            Some(op) if op.is_ad() => write!(f, "{:<6} {:>3} {:>5}", op.name(), self.a(), self.d()),
            Some(op) => write!(f, "{:<6} {:>3} {:>3} {:>3}", op.name(), self.a(), self.b(), self.c()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (i, op) in OP_TABLE.iter().enumerate() {
            assert_eq!(*op as usize, i);
            assert_eq!(Op::from_u8(i as u8), Some(*op));
        }
        const { assert!(NUM_OPS < 256) };
        assert_eq!(Op::from_u8(NUM_OPS as u8), None);
    }

    #[test]
    #[allow(clippy::manual_range_patterns)] // the explicit list is the point (see the macro)
    fn undefined_opcodes_are_exactly_the_rest() {
        for b in 0..=255u8 {
            let undefined = matches!(b, undefined_opcodes!());
            assert_eq!(undefined, Op::from_u8(b).is_none(), "byte {b}");
        }
    }

    #[test]
    fn encode_decode() {
        let i = Ins::abc(Op::ADDVV, 1, 2, 3);
        assert_eq!((i.op(), i.a(), i.b(), i.c()), (Some(Op::ADDVV), 1, 2, 3));
        let j = Ins::aj(Op::JMP, 0, -5);
        assert_eq!(j.j(), -5);
        let k = Ins::ad(Op::KSHORT, 7, (-2i16) as u16);
        assert_eq!(k.sd(), -2);
    }

    #[test]
    fn inverted_comparisons_are_adjacent() {
        // The compiler negates a comparison by flipping the low bit.
        assert_eq!(Op::ISLT as u8 ^ 1, Op::ISGE as u8);
        assert_eq!(Op::ISLE as u8 ^ 1, Op::ISGT as u8);
        assert_eq!(Op::ISEQV as u8 ^ 1, Op::ISNEV as u8);
        assert_eq!(Op::ISEQS as u8 ^ 1, Op::ISNES as u8);
        assert_eq!(Op::ISEQN as u8 ^ 1, Op::ISNEN as u8);
        assert_eq!(Op::ISEQP as u8 ^ 1, Op::ISNEP as u8);
        assert_eq!(Op::ISTC as u8 ^ 1, Op::ISFC as u8);
        assert_eq!(Op::IST as u8 ^ 1, Op::ISF as u8);
    }
}

// ----- Per-function metadata shared by the compiler and the heap prototypes -----

/// Where a closure's upvalue comes from when `FNEW` creates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpvalDesc {
    /// True: the enclosing function's register `index`; false: its upvalue `index`.
    pub in_parent_stack: bool,
    pub index: u8,
}

/// Debug information for one local variable: live in register `reg` for
/// instructions `startpc .. endpc`.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalVarInfo {
    pub name: Box<[u8]>,
    pub reg: u8,
    pub startpc: u32,
    pub endpc: u32,
}
