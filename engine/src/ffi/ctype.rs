//! The C type table: an arena of [`CType`] entries addressed by [`CTypeId`].
//!
//! One entry describes a type (number, struct, pointer, array, void, enum,
//! function), or an element hanging off one (a struct field or bitfield, a
//! function parameter, an enum constant, an attribute), or a name (typedef,
//! `extern` declaration, keyword). Types are built bottom-up, so a type's child
//! always has a smaller id than the type itself.
//!
//! Anonymous types (numbers, pointers, arrays, `void`, attributes) are *interned*:
//! asking for the same shape twice gives the same id. Structs, unions, enums and
//! functions are unique. Ids are allocated in the same order as LuaJIT allocates
//! them, so an anonymous struct prints as the same `struct 97` as in LuaJIT.

use std::collections::HashMap;

use super::layout::Target;

/// An index into the type table. Id 0 is never a valid type (LuaJIT's `CTID_NONE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CTypeId(pub u32);

impl CTypeId {
    pub const NONE: CTypeId = CTypeId(0);
    pub const VOID: CTypeId = CTypeId(1);
    pub const CVOID: CTypeId = CTypeId(2);
    pub const BOOL: CTypeId = CTypeId(3);
    pub const CCHAR: CTypeId = CTypeId(4);
    pub const INT8: CTypeId = CTypeId(5);
    pub const UINT8: CTypeId = CTypeId(6);
    pub const INT16: CTypeId = CTypeId(7);
    pub const UINT16: CTypeId = CTypeId(8);
    pub const INT32: CTypeId = CTypeId(9);
    pub const UINT32: CTypeId = CTypeId(10);
    pub const INT64: CTypeId = CTypeId(11);
    pub const UINT64: CTypeId = CTypeId(12);
    pub const FLOAT: CTypeId = CTypeId(13);
    pub const DOUBLE: CTypeId = CTypeId(14);
    pub const COMPLEX_FLOAT: CTypeId = CTypeId(15);
    pub const COMPLEX_DOUBLE: CTypeId = CTypeId(16);
    pub const P_VOID: CTypeId = CTypeId(17);
    pub const P_CVOID: CTypeId = CTypeId(18);
    pub const P_CCHAR: CTypeId = CTypeId(19);
    pub const P_UINT8: CTypeId = CTypeId(20);
    /// `const char[]`: the type of a string literal in a constant expression.
    pub const A_CCHAR: CTypeId = CTypeId(21);
    /// The type of `ffi.typeof` results (a ctype object is cdata of this type).
    pub const CTYPEID: CTypeId = CTypeId(22);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// "No size": incomplete structs, `void`, functions, `a[]` and `a[?]`.
pub const SIZE_INVALID: u32 = u32::MAX;
/// LuaJIT's limit on the number of type table entries ("table overflow").
pub const MAX_TYPES: usize = 65536;

/// `const` / `volatile` qualifiers (bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Qual(pub u8);

impl Qual {
    pub const NONE: Qual = Qual(0);
    pub const CONST: Qual = Qual(1);
    pub const VOLATILE: Qual = Qual(2);
    pub fn is_const(self) -> bool {
        self.0 & 1 != 0
    }
    pub fn is_volatile(self) -> bool {
        self.0 & 2 != 0
    }
    pub fn union(self, o: Qual) -> Qual {
        Qual(self.0 | o.0)
    }
    pub fn without(self, o: Qual) -> Qual {
        Qual(self.0 & !o.0)
    }
}

/// Flags of a number type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NumFlags(pub u8);

impl NumFlags {
    pub const BOOL: u8 = 1;
    pub const FP: u8 = 2;
    pub const UNSIGNED: u8 = 4;
    /// Spelled `long` (LuaJIT keeps `long` apart from `long long` where both are 8 bytes).
    pub const LONG: u8 = 8;
    pub fn is_bool(self) -> bool {
        self.0 & Self::BOOL != 0
    }
    pub fn is_fp(self) -> bool {
        self.0 & Self::FP != 0
    }
    pub fn is_unsigned(self) -> bool {
        self.0 & Self::UNSIGNED != 0
    }
    pub fn is_long(self) -> bool {
        self.0 & Self::LONG != 0
    }
}

/// Calling convention attribute of a function type (only meaningful on 32-bit x86;
/// recorded for every target, as written in the declaration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CallConv {
    #[default]
    Cdecl,
    Thiscall,
    Fastcall,
    Stdcall,
}

/// Kinds of attribute entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attr {
    /// Qualifiers that could not be merged into the child (e.g. `const struct foo`):
    /// the entry's `size` holds the [`Qual`] bits.
    Qual,
    /// Alignment override (`__attribute__((aligned(n)))` on a typedef): `size` holds log2.
    Align,
    /// An anonymous struct/union/enum member of a struct: after layout `size` holds
    /// its byte offset.
    Subtype,
    /// Symbol redirect (`__asm__("name")`): the entry's name is the symbol.
    Redir,
    /// Entry 0.
    Bad,
}

/// Keywords recognised by the C lexer. The first twenty are declaration specifiers
/// (their order gives the specifier bits, as in LuaJIT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kw {
    Void = 0,
    Bool,
    Char,
    Int,
    Fp,
    Long,
    /// Not a keyword: the specifier bit set by a second `long`.
    LongLong,
    Short,
    Complex,
    Signed,
    Unsigned,
    Const,
    Volatile,
    Restrict,
    Inline,
    Typedef,
    Extern,
    Static,
    Auto,
    Register,
    Extension,
    Asm,
    Attribute,
    Declspec,
    CCDecl,
    PtrSz,
    Struct,
    Union,
    Enum,
    Sizeof,
    Alignof,
}

impl Kw {
    /// A declaration specifier keyword with a specifier bit (`void` .. `register`).
    pub fn is_spec_flag(self) -> bool {
        (self as u8) <= Kw::Register as u8
    }
    /// May start a type declaration (`void` .. `enum`).
    pub fn is_typedecl(self) -> bool {
        (self as u8) <= Kw::Enum as u8
    }
    /// A storage class (`typedef` .. `register`).
    pub fn is_storage_class(self) -> bool {
        (self as u8) >= Kw::Typedef as u8 && (self as u8) <= Kw::Register as u8
    }
    pub fn bit(self) -> u32 {
        1u32 << (self as u8)
    }
}

/// What an entry is, with the data specific to its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Integer, floating-point or boolean number; `size` is its byte size.
    Num { flags: NumFlags },
    /// Struct or union; `size` is its size (or [`SIZE_INVALID`] while incomplete),
    /// `sib` the first member. `vla`: the last member is a `[?]` array.
    Struct { union: bool, vla: bool },
    /// Pointer (or C++ reference); `size` is the pointer size.
    Ptr { to: CTypeId, reference: bool },
    /// Array, complex number (`complex`: two elements) or vector; `size` is the total
    /// size or [`SIZE_INVALID`] for `a[]` and `a[?]` (`vla`).
    Array { elem: CTypeId, vla: bool, vector: bool, complex: bool },
    /// `void`; `size` is [`SIZE_INVALID`].
    Void,
    /// Enum; `base` is its integer type (`uint32_t` or `int32_t`, `void` while
    /// incomplete); `sib` the first constant.
    Enum { base: CTypeId },
    /// Function; `size` is the number of fixed parameters, `sib` the first parameter.
    Func { ret: CTypeId, vararg: bool, cconv: CallConv, sseregparm: bool, regparm: u8 },
    /// A typedef name (named entry) or, on the parser's declaration stack, a
    /// reference to a struct/enum.
    Typedef { target: CTypeId },
    /// An attribute on `target`; `size` holds the attribute's value.
    Attrib { attr: Attr, target: CTypeId },
    /// A struct member or function parameter of type `ty`; `size` is the member's
    /// byte offset (a parameter's: its index).
    Field { ty: CTypeId },
    /// A bitfield member; `size` is the byte offset of its container.
    Bitfield { unsigned: bool, is_bool: bool, csz: u8, bsz: u8, pos: u8 },
    /// A named constant of integer type `ty`; `size` holds its value (as `u32`).
    ConstVal { ty: CTypeId },
    /// An `extern` variable of type `ty`.
    Extern { ty: CTypeId },
    /// A keyword (named entry); `size` holds its size/argument as in LuaJIT.
    Keyword { kw: Kw },
}

/// An entry's kind number, as LuaJIT orders them (used for namespace masks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum KindNum {
    Num = 0,
    Struct,
    Ptr,
    Array,
    Void,
    Enum,
    Func,
    Typedef,
    Attrib,
    Field,
    Bitfield,
    ConstVal,
    Extern,
    Keyword,
}

impl Kind {
    pub fn num(&self) -> KindNum {
        match self {
            Kind::Num { .. } => KindNum::Num,
            Kind::Struct { .. } => KindNum::Struct,
            Kind::Ptr { .. } => KindNum::Ptr,
            Kind::Array { .. } => KindNum::Array,
            Kind::Void => KindNum::Void,
            Kind::Enum { .. } => KindNum::Enum,
            Kind::Func { .. } => KindNum::Func,
            Kind::Typedef { .. } => KindNum::Typedef,
            Kind::Attrib { .. } => KindNum::Attrib,
            Kind::Field { .. } => KindNum::Field,
            Kind::Bitfield { .. } => KindNum::Bitfield,
            Kind::ConstVal { .. } => KindNum::ConstVal,
            Kind::Extern { .. } => KindNum::Extern,
            Kind::Keyword { .. } => KindNum::Keyword,
        }
    }

    /// The child type this entry refers to, if any.
    pub fn child(&self) -> Option<CTypeId> {
        match *self {
            Kind::Ptr { to, .. } => Some(to),
            Kind::Array { elem, .. } => Some(elem),
            Kind::Enum { base } => Some(base),
            Kind::Func { ret, .. } => Some(ret),
            Kind::Typedef { target } => Some(target),
            Kind::Attrib { target, .. } => Some(target),
            Kind::Field { ty } | Kind::ConstVal { ty } | Kind::Extern { ty } => Some(ty),
            _ => None,
        }
    }

    fn with_child(self, c: CTypeId) -> Kind {
        match self {
            Kind::Ptr { reference, .. } => Kind::Ptr { to: c, reference },
            Kind::Array { vla, vector, complex, .. } => Kind::Array { elem: c, vla, vector, complex },
            Kind::Enum { .. } => Kind::Enum { base: c },
            Kind::Func { vararg, cconv, sseregparm, regparm, .. } => {
                Kind::Func { ret: c, vararg, cconv, sseregparm, regparm }
            }
            Kind::Typedef { .. } => Kind::Typedef { target: c },
            Kind::Attrib { attr, .. } => Kind::Attrib { attr, target: c },
            Kind::Field { .. } => Kind::Field { ty: c },
            Kind::ConstVal { .. } => Kind::ConstVal { ty: c },
            Kind::Extern { .. } => Kind::Extern { ty: c },
            k => k,
        }
    }
}

/// An entry's kind plus the qualifiers and alignment (log2) that apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Info {
    pub kind: Kind,
    pub qual: Qual,
    /// log2 of the alignment in bytes.
    pub align: u8,
}

impl Info {
    pub fn new(kind: Kind) -> Info {
        Info { kind, qual: Qual::NONE, align: 0 }
    }
    pub fn with_align(self, align: u8) -> Info {
        Info { align, ..self }
    }
    pub fn with_qual(self, qual: Qual) -> Info {
        Info { qual, ..self }
    }
    pub fn with_child(self, c: CTypeId) -> Info {
        Info { kind: self.kind.with_child(c), ..self }
    }
    pub fn child(&self) -> Option<CTypeId> {
        self.kind.child()
    }
    pub fn is_num(&self) -> bool {
        matches!(self.kind, Kind::Num { .. })
    }
    /// An integer (not bool, not floating-point).
    pub fn is_integer(&self) -> bool {
        matches!(self.kind, Kind::Num { flags } if flags.0 & (NumFlags::BOOL | NumFlags::FP) == 0)
    }
    pub fn is_integer_or_bool(&self) -> bool {
        matches!(self.kind, Kind::Num { flags } if !flags.is_fp())
    }
    pub fn is_bool(&self) -> bool {
        matches!(self.kind, Kind::Num { flags } if flags.is_bool())
    }
    pub fn is_fp(&self) -> bool {
        matches!(self.kind, Kind::Num { flags } if flags.is_fp())
    }
    pub fn is_unsigned(&self) -> bool {
        matches!(self.kind, Kind::Num { flags } if flags.is_unsigned())
    }
    pub fn is_struct(&self) -> bool {
        matches!(self.kind, Kind::Struct { .. })
    }
    pub fn is_union(&self) -> bool {
        matches!(self.kind, Kind::Struct { union: true, .. })
    }
    pub fn is_ptr(&self) -> bool {
        matches!(self.kind, Kind::Ptr { .. })
    }
    pub fn is_ref(&self) -> bool {
        matches!(self.kind, Kind::Ptr { reference: true, .. })
    }
    pub fn is_array(&self) -> bool {
        matches!(self.kind, Kind::Array { .. })
    }
    /// A plain array (not a complex number, not a vector).
    pub fn is_refarray(&self) -> bool {
        matches!(self.kind, Kind::Array { vector: false, complex: false, .. })
    }
    pub fn is_complex(&self) -> bool {
        matches!(self.kind, Kind::Array { complex: true, .. })
    }
    pub fn is_vector(&self) -> bool {
        matches!(self.kind, Kind::Array { vector: true, .. })
    }
    /// Pointer or array.
    pub fn is_pointer(&self) -> bool {
        matches!(self.kind, Kind::Ptr { .. } | Kind::Array { .. })
    }
    pub fn is_void(&self) -> bool {
        matches!(self.kind, Kind::Void)
    }
    pub fn is_enum(&self) -> bool {
        matches!(self.kind, Kind::Enum { .. })
    }
    pub fn is_func(&self) -> bool {
        matches!(self.kind, Kind::Func { .. })
    }
    pub fn is_typedef(&self) -> bool {
        matches!(self.kind, Kind::Typedef { .. })
    }
    pub fn is_attrib(&self) -> bool {
        matches!(self.kind, Kind::Attrib { .. })
    }
    pub fn is_attr(&self, a: Attr) -> bool {
        matches!(self.kind, Kind::Attrib { attr, .. } if attr == a)
    }
    pub fn is_field(&self) -> bool {
        matches!(self.kind, Kind::Field { .. })
    }
    pub fn is_bitfield(&self) -> bool {
        matches!(self.kind, Kind::Bitfield { .. })
    }
    pub fn is_constval(&self) -> bool {
        matches!(self.kind, Kind::ConstVal { .. })
    }
    pub fn is_extern(&self) -> bool {
        matches!(self.kind, Kind::Extern { .. })
    }
    /// A variable-length array `[?]` or a struct ending in one.
    pub fn is_vltype(&self) -> bool {
        matches!(self.kind, Kind::Struct { vla: true, .. } | Kind::Array { vla: true, .. })
    }
    pub fn is_vlarray(&self) -> bool {
        matches!(self.kind, Kind::Array { vla: true, .. })
    }
    /// Kinds whose `size` field is the actual size (number .. enum).
    pub fn has_size(&self) -> bool {
        (self.kind.num() as u8) <= KindNum::Enum as u8
    }
}

/// Result of [`CTState::sizeof`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeOf {
    Size(u32),
    /// Incomplete, `void`, a function, `a[]`, or a VLA size over 2^31: `nil` in Lua.
    Unknown,
    /// A variable-length type asked without an element count (a Lua error).
    NeedsCount,
}

/// One entry of the type table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CType {
    pub info: Info,
    /// Size, offset, value or count: see [`Kind`].
    pub size: u32,
    /// Next element of a chain (struct members, enum constants, parameters,
    /// attributes of a declaration); `CTypeId::NONE` ends it.
    pub sib: CTypeId,
    pub name: Option<Box<[u8]>>,
}

impl CType {
    fn new(info: Info, size: u32) -> CType {
        CType { info, size, sib: CTypeId::NONE, name: None }
    }
}

/// Namespace masks for [`CTState::get_name`]: one bit per [`KindNum`].
pub const NS_DEFAULT: u32 = (1 << KindNum::Keyword as u32)
    | (1 << KindNum::Typedef as u32)
    | (1 << KindNum::Func as u32)
    | (1 << KindNum::Extern as u32)
    | (1 << KindNum::ConstVal as u32);
/// Struct, union and enum tags (and keywords).
pub const NS_STRUCT: u32 = (1 << KindNum::Keyword as u32) | (1 << KindNum::Struct as u32) | (1 << KindNum::Enum as u32);

/// The C type state of one Lua state: the type table, the interning map and the
/// name map, for one target.
#[derive(Clone, Debug)]
pub struct CTState {
    pub(crate) tab: Vec<CType>,
    intern: HashMap<(Info, u32), CTypeId>,
    /// Name → ids carrying that name, oldest first (the newest match wins).
    names: HashMap<Box<[u8]>, Vec<CTypeId>>,
    target: Target,
}

/// A saved position of the type table; [`CTState::restore`] drops everything
/// created since (as LuaJIT does when a declaration fails).
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    top: usize,
    /// Older entries whose `sib` was pointed at a new entry since the mark.
    pub(crate) touched: Vec<CTypeId>,
}

struct PredefType {
    info: Info,
    size: u32,
}

impl CTState {
    /// A fresh state with LuaJIT's predefined types, typedefs and keywords.
    pub fn new(target: Target) -> CTState {
        let mut cts = CTState { tab: Vec::with_capacity(256), intern: HashMap::new(), names: HashMap::new(), target };
        for (i, p) in predefined_types(&target).into_iter().enumerate() {
            let id = CTypeId(i as u32);
            cts.tab.push(CType::new(p.info, p.size));
            if !p.info.is_enum() && id != CTypeId::NONE {
                cts.intern.insert((p.info, p.size), id);
            }
        }
        let psz_int = if target.ptr_size == 8 { CTypeId::INT64 } else { CTypeId::INT32 };
        let psz_uint = if target.ptr_size == 8 { CTypeId::UINT64 } else { CTypeId::UINT32 };
        let wchar = if target.wchar_unsigned16 { CTypeId::UINT16 } else { CTypeId::INT32 };
        let typedefs: [(&str, CTypeId); 17] = [
            ("va_list", CTypeId::P_VOID),
            ("__builtin_va_list", CTypeId::P_VOID),
            ("__gnuc_va_list", CTypeId::P_VOID),
            ("ptrdiff_t", psz_int),
            ("size_t", psz_uint),
            ("wchar_t", wchar),
            ("int8_t", CTypeId::INT8),
            ("int16_t", CTypeId::INT16),
            ("int32_t", CTypeId::INT32),
            ("int64_t", CTypeId::INT64),
            ("uint8_t", CTypeId::UINT8),
            ("uint16_t", CTypeId::UINT16),
            ("uint32_t", CTypeId::UINT32),
            ("uint64_t", CTypeId::UINT64),
            ("intptr_t", psz_int),
            ("uintptr_t", psz_uint),
            ("ssize_t", psz_int),
        ];
        for (name, target_id) in typedefs {
            cts.push_named(Info::new(Kind::Typedef { target: target_id }), 0, name.as_bytes());
        }
        for &(name, size, kw) in KEYWORDS {
            cts.push_named(Info::new(Kind::Keyword { kw }), size, name.as_bytes());
        }
        cts
    }

    fn push_named(&mut self, info: Info, size: u32, name: &[u8]) {
        let id = CTypeId(self.tab.len() as u32);
        let mut ct = CType::new(info, size);
        ct.name = Some(name.into());
        self.tab.push(ct);
        self.names.entry(name.into()).or_default().push(id);
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Number of entries (the next id to be allocated).
    pub fn len(&self) -> usize {
        self.tab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tab.is_empty()
    }

    /// The entry for `id`; id 0 (or an out-of-range id) gives entry 0.
    pub fn get(&self, id: CTypeId) -> &CType {
        match self.tab.get(id.index()) {
            Some(ct) => ct,
            None => &self.tab[0],
        }
    }

    pub(crate) fn get_mut(&mut self, id: CTypeId) -> Option<&mut CType> {
        if id == CTypeId::NONE {
            return None;
        }
        self.tab.get_mut(id.index())
    }

    pub fn info(&self, id: CTypeId) -> Info {
        self.get(id).info
    }

    /// Entry `id` in LuaJIT's packed `CTInfo` form (what `ffi.typeinfo` reports): the
    /// kind in the top 4 bits, then the kind's flags, the log2 alignment (or attribute
    /// code, calling convention, bitfield container size) from bit 16, and the child id
    /// in the low 16 bits. Keywords carry their C lexer token instead of a child.
    pub fn packed_info(&self, id: CTypeId) -> u32 {
        const CONST: u32 = 0x0200_0000;
        const VOLATILE: u32 = 0x0100_0000;
        let info = self.get(id).info;
        let mut w = (info.kind.num() as u32) << 28;
        if info.qual.is_const() {
            w |= CONST;
        }
        if info.qual.is_volatile() {
            w |= VOLATILE;
        }
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        let align = u32::from(info.align & 15) << 16;
        let cid = info.child().map_or(0, |c| c.0 & 0xffff);
        w | cid
            | match info.kind {
                Kind::Num { flags } => {
                    align
                        | flag(flags.is_bool(), 0x0800_0000)
                        | flag(flags.is_fp(), 0x0400_0000)
                        | flag(flags.is_unsigned(), 0x0080_0000)
                        | flag(flags.is_long(), 0x0040_0000)
                }
                Kind::Struct { union, vla } => align | flag(union, 0x0080_0000) | flag(vla, 0x0010_0000),
                Kind::Ptr { reference, .. } => align | flag(reference, 0x0080_0000),
                Kind::Array { vla, vector, complex, .. } => {
                    align | flag(vector, 0x0800_0000) | flag(complex, 0x0400_0000) | flag(vla, 0x0010_0000)
                }
                Kind::Enum { .. } => align,
                Kind::Void | Kind::Typedef { .. } | Kind::Extern { .. } => 0,
                Kind::Func { vararg, cconv, sseregparm, regparm, .. } => {
                    // The calling convention only exists on 32-bit x86; LuaJIT drops it elsewhere.
                    let cc = if self.target.ptr_size == 4 { cconv as u32 } else { 0 };
                    flag(vararg, 0x0080_0000)
                        | flag(sseregparm, 0x0040_0000)
                        | (cc << 16)
                        | (u32::from(regparm & 3) << 18)
                }
                Kind::Attrib { attr, .. } => {
                    let code = match attr {
                        Attr::Qual => 1,
                        Attr::Align => 2,
                        Attr::Subtype => 3,
                        Attr::Redir => 4,
                        Attr::Bad => 5,
                    };
                    code << 16
                }
                // LuaJIT leaves its "plain field" marker (127) in the member's bitfield
                // size bits; function parameters never had it.
                Kind::Field { .. } => flag(self.is_member(id), 0x7f << 16),
                Kind::Bitfield { unsigned, is_bool, csz, bsz, pos } => {
                    flag(is_bool, 0x0800_0000)
                        | flag(unsigned, 0x0080_0000)
                        | (u32::from(csz) << 16)
                        | (u32::from(bsz) << 8)
                        | u32::from(pos)
                }
                Kind::ConstVal { .. } => CONST,
                Kind::Keyword { kw } => 0x10d + kw as u32,
            }
    }

    /// Whether `id` is on a struct's or union's member chain.
    fn is_member(&self, id: CTypeId) -> bool {
        self.tab.iter().filter(|ct| matches!(ct.info.kind, Kind::Struct { .. })).any(|ct| {
            let mut m = ct.sib;
            let mut steps = 0;
            while m != CTypeId::NONE && steps < MAX_TYPES {
                if m == id {
                    return true;
                }
                m = self.get(m).sib;
                steps += 1;
            }
            false
        })
    }

    /// Allocates a new unique entry ("table overflow" past [`MAX_TYPES`]).
    pub(crate) fn new_entry(&mut self, info: Info, size: u32) -> Result<CTypeId, &'static str> {
        if self.tab.len() >= MAX_TYPES {
            return Err("table overflow");
        }
        let id = CTypeId(self.tab.len() as u32);
        self.tab.push(CType::new(info, size));
        Ok(id)
    }

    /// The id of the anonymous type `(info, size)`, creating it if new.
    pub fn intern(&mut self, info: Info, size: u32) -> Result<CTypeId, &'static str> {
        if let Some(&id) = self.intern.get(&(info, size)) {
            return Ok(id);
        }
        let id = self.new_entry(info, size)?;
        self.intern.insert((info, size), id);
        Ok(id)
    }

    /// Gives entry `id` a name and makes it findable by [`CTState::get_name`].
    pub(crate) fn add_name(&mut self, id: CTypeId, name: &[u8]) {
        if let Some(ct) = self.get_mut(id) {
            ct.name = Some(name.into());
            self.names.entry(name.into()).or_default().push(id);
        }
    }

    /// Sets an entry's name without making it findable (fields, parameters).
    pub(crate) fn set_name(&mut self, id: CTypeId, name: &[u8]) {
        if let Some(ct) = self.get_mut(id) {
            ct.name = Some(name.into());
        }
    }

    /// The newest named entry called `name` whose kind is in `mask`
    /// ([`NS_DEFAULT`], [`NS_STRUCT`] or any set of `1 << KindNum`).
    pub fn get_name(&self, name: &[u8], mask: u32) -> Option<CTypeId> {
        let ids = self.names.get(name)?;
        ids.iter().rev().copied().find(|&id| (mask >> (self.get(id).info.kind.num() as u32)) & 1 != 0)
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark { top: self.tab.len(), touched: Vec::new() }
    }

    pub(crate) fn is_new(&self, mark: &Mark, id: CTypeId) -> bool {
        id.index() >= mark.top
    }

    /// Drops every entry created since `mark`, with its names and interning.
    /// Older structs and enums that were (partly) defined since keep LuaJIT's
    /// state: an incomplete struct whose definition started stays "being defined"
    /// (a later definition is a redefinition), a completed one keeps its size but
    /// loses the members that were dropped.
    pub(crate) fn restore(&mut self, mark: Mark) {
        let top = mark.top.min(self.tab.len());
        for i in (top..self.tab.len()).rev() {
            let ct = &self.tab[i];
            let id = CTypeId(i as u32);
            if self.intern.get(&(ct.info, ct.size)) == Some(&id) {
                self.intern.remove(&(ct.info, ct.size));
            }
            if let Some(name) = &ct.name {
                if let Some(v) = self.names.get_mut(name) {
                    v.retain(|&x| x != id);
                    if v.is_empty() {
                        self.names.remove(name);
                    }
                }
            }
        }
        self.tab.truncate(top);
        for id in mark.touched {
            if let Some(ct) = self.tab.get_mut(id.index()) {
                if ct.sib.index() >= top {
                    ct.sib = if ct.info.has_size() && ct.size == SIZE_INVALID { CTypeId(1) } else { CTypeId::NONE };
                }
            }
        }
    }

    /// The members (or constants, or parameters) chained from `id`, in order.
    pub fn members(&self, id: CTypeId) -> Members<'_> {
        Members { cts: self, cur: id, left: self.tab.len() }
    }

    /// The parameter types of function type `func`, in order.
    pub fn params(&self, func: CTypeId) -> Vec<CTypeId> {
        self.members(func)
            .filter_map(|(_, m)| if let Kind::Field { ty } = m.info.kind { Some(ty) } else { None })
            .collect()
    }

    /// Skips attributes: the raw type of `id`.
    pub fn raw(&self, id: CTypeId) -> CTypeId {
        let mut id = id;
        for _ in 0..MAX_TYPES {
            let info = self.get(id).info;
            match info.kind {
                Kind::Attrib { target, .. } if target < id => id = target,
                _ => break,
            }
        }
        id
    }

    /// Skips attributes and references.
    pub fn raw_ref(&self, id: CTypeId) -> CTypeId {
        let mut id = id;
        for _ in 0..MAX_TYPES {
            let info = self.get(id).info;
            match info.kind {
                Kind::Attrib { target, .. } | Kind::Ptr { to: target, reference: true } if target < id => id = target,
                _ => break,
            }
        }
        id
    }

    /// The raw child of `id` (attributes skipped).
    pub fn raw_child(&self, id: CTypeId) -> CTypeId {
        match self.get(id).info.child() {
            Some(c) if c < id => self.raw(c),
            _ => CTypeId::NONE,
        }
    }

    /// Size of a type (attributes skipped); `None` for incomplete types, `void`,
    /// functions and `a[]`/`a[?]`. Does not handle variable-length types.
    pub fn size_of(&self, id: CTypeId) -> Option<u32> {
        let ct = self.get(self.raw(id));
        if ct.info.has_size() && ct.size != SIZE_INVALID {
            Some(ct.size)
        } else {
            None
        }
    }

    /// `ffi.sizeof(ct [, nelem])`: references are looked through; a
    /// variable-length type needs `nelem`.
    pub fn sizeof(&self, id: CTypeId, nelem: Option<u32>) -> SizeOf {
        let rid = self.raw_ref(id);
        let ct = self.get(rid);
        if ct.info.is_vltype() {
            return match nelem {
                None => SizeOf::NeedsCount,
                Some(n) => self.vl_size(rid, n).map_or(SizeOf::Unknown, SizeOf::Size),
            };
        }
        if ct.info.has_size() && ct.size != SIZE_INVALID {
            SizeOf::Size(ct.size)
        } else {
            SizeOf::Unknown
        }
    }

    /// Size of a variable-length array or struct with `nelem` elements in its
    /// `[?]` part, or `None` if that overflows 2^31 or `id` is no such type.
    pub fn vl_size(&self, id: CTypeId, nelem: u32) -> Option<u32> {
        let mut id = self.raw_ref(id);
        let mut xsz: u64 = 0;
        let ct = self.get(id);
        if ct.info.is_struct() {
            xsz = u64::from(ct.size);
            let mut arr = None;
            for (_, m) in self.members(id) {
                if let Kind::Field { ty } = m.info.kind {
                    arr = Some(ty);
                }
            }
            id = self.raw(arr?);
        }
        if !self.get(id).info.is_vlarray() {
            return None;
        }
        let elem = self.raw_child(id);
        let esz = self.get(elem);
        if !esz.info.has_size() || esz.size == SIZE_INVALID {
            return None;
        }
        xsz += u64::from(esz.size) * u64::from(nelem);
        if xsz < 0x8000_0000 {
            Some(xsz as u32)
        } else {
            None
        }
    }

    /// Qualifiers, alignment and size of `id`, following attributes and enums
    /// (LuaJIT's `lj_ctype_info`). The returned [`Info`] is the base type's with
    /// the merged qualifiers and the effective alignment; the size is
    /// [`SIZE_INVALID`] for functions.
    pub fn type_info(&self, id: CTypeId) -> (Info, u32) {
        let mut qual = Qual::NONE;
        let mut align_override: Option<u8> = None;
        let mut id = id;
        for _ in 0..MAX_TYPES {
            let ct = self.get(id);
            let info = ct.info;
            match info.kind {
                Kind::Enum { base } if base < id => {
                    id = base;
                    continue;
                }
                Kind::Attrib { attr, target } if target < id => {
                    match attr {
                        Attr::Qual => qual = qual.union(Qual(ct.size as u8)),
                        Attr::Align if align_override.is_none() => align_override = Some(ct.size as u8),
                        _ => {}
                    }
                    id = target;
                    continue;
                }
                _ => {}
            }
            let size = if info.is_func() { SIZE_INVALID } else { ct.size };
            let align = align_override.unwrap_or(info.align);
            return (Info { kind: info.kind, qual: qual.union(info.qual), align }, size);
        }
        (self.tab[0].info, SIZE_INVALID)
    }

    /// Like [`CTState::type_info`], after stripping one reference.
    pub fn type_info_raw(&self, id: CTypeId) -> (Info, u32) {
        let ct = self.get(id);
        match ct.info.kind {
            Kind::Ptr { to, reference: true } => self.type_info(to),
            _ => self.type_info(id),
        }
    }

    /// `ffi.alignof`: the alignment of `id` in bytes.
    pub fn align_of(&self, id: CTypeId) -> u32 {
        let (info, _) = self.type_info_raw(id);
        1u32 << info.align.min(15)
    }

    /// Finds member `name` of struct/union `sid`, looking into anonymous members.
    /// Gives the member entry, its byte offset and the qualifiers of the anonymous
    /// members it was found through.
    pub fn get_field(&self, sid: CTypeId, name: &[u8]) -> Option<(CTypeId, u32, Qual)> {
        // Depth-first through anonymous members, in declaration order, without
        // recursion (typedef chains can nest anonymous members arbitrarily deep).
        let mut stack: Vec<(Members<'_>, u32, Qual)> = vec![(self.members(sid), 0, Qual::NONE)];
        while let Some(top) = stack.last_mut() {
            let Some((fid, f)) = top.0.next() else {
                stack.pop();
                continue;
            };
            let (base, q) = (top.1, top.2);
            if f.name.as_deref() == Some(name) {
                return Some((fid, base.wrapping_add(f.size), q));
            }
            if let Kind::Attrib { attr: Attr::Subtype, target } = f.info.kind {
                let mut q2 = q;
                let mut c = target;
                while let Kind::Attrib { attr, target: t } = self.get(c).info.kind {
                    if attr == Attr::Qual {
                        q2 = q2.union(Qual(self.get(c).size as u8));
                    }
                    if t >= c {
                        break;
                    }
                    c = t;
                }
                if c < sid || stack.len() < self.tab.len() {
                    stack.push((self.members(c), base.wrapping_add(f.size), q2));
                }
            }
        }
        None
    }

    /// `ffi.offsetof(ct, name)`: the member's byte offset and, for a bitfield, its
    /// bit position and width. `None` where LuaJIT returns nothing.
    pub fn offset_of(&self, id: CTypeId, name: &[u8]) -> Option<(u32, Option<(u32, u32)>)> {
        let sid = self.raw_ref(id);
        let st = self.get(sid);
        if !st.info.is_struct() || st.size == SIZE_INVALID {
            return None;
        }
        let (fid, ofs, _) = self.get_field(sid, name)?;
        match self.get(fid).info.kind {
            Kind::Field { .. } => Some((ofs, None)),
            Kind::Bitfield { pos, bsz, .. } => Some((ofs, Some((u32::from(pos), u32::from(bsz))))),
            _ => None,
        }
    }

    /// The symbol name an `extern` variable or function was redirected to with
    /// `__asm__("name")`, if any.
    pub fn redirect(&self, id: CTypeId) -> Option<&[u8]> {
        let mut cur = self.get(id).sib;
        let mut guard = 0;
        while cur != CTypeId::NONE && guard < 16 {
            let ct = self.get(cur);
            if ct.info.is_attr(Attr::Redir) {
                return ct.name.as_deref();
            }
            cur = ct.sib;
            guard += 1;
        }
        None
    }

    /// `tostring(ffi.typeof(id))` without the `ctype<...>` wrapper, e.g. `int (*)()`.
    pub fn repr(&self, id: CTypeId) -> Vec<u8> {
        self.repr_named(id, None)
    }

    /// The C spelling of `id` with a declared name inside it (`int (*name)[3]`), as
    /// LuaJIT's error messages use it. `?` if it would exceed LuaJIT's 512 bytes.
    pub fn repr_named(&self, id: CTypeId, name: Option<&[u8]>) -> Vec<u8> {
        let mut r = Repr::new();
        if let Some(n) = name {
            r.prep_str(n);
        }
        self.repr_into(&mut r, id);
        r.finish()
    }

    fn repr_into(&self, r: &mut Repr, id: CTypeId) {
        let mut id = id;
        let mut qual = Qual::NONE;
        let mut ptrto = false;
        for _ in 0..MAX_TYPES {
            let ct = self.get(id);
            let info = ct.info;
            let size = ct.size;
            match info.kind {
                Kind::Num { flags } => {
                    if flags.is_bool() {
                        r.prep_str(b"bool");
                    } else if flags.is_fp() {
                        match size {
                            8 => r.prep_str(b"double"),
                            4 => r.prep_str(b"float"),
                            _ => r.prep_str(b"long double"),
                        }
                    } else if size == 1 {
                        if flags.is_unsigned() == self.target.char_unsigned {
                            r.prep_str(b"char");
                        } else if self.target.char_unsigned {
                            r.prep_str(b"signed char");
                        } else {
                            r.prep_str(b"unsigned char");
                        }
                    } else if size < 8 {
                        r.prep_str(if size == 4 { b"int" } else { b"short" });
                        if flags.is_unsigned() {
                            r.prep_str(b"unsigned");
                        }
                    } else {
                        r.prep_str(b"_t");
                        r.prep_num(size.wrapping_mul(8));
                        r.prep_str(b"int");
                        if flags.is_unsigned() {
                            r.prep_char(b'u');
                        }
                    }
                    r.prep_qual(qual.union(info.qual));
                    return;
                }
                Kind::Void => {
                    r.prep_str(b"void");
                    r.prep_qual(qual.union(info.qual));
                    return;
                }
                Kind::Struct { union, .. } => {
                    self.prep_tagged(r, id, ct, qual, if union { b"union" } else { b"struct" });
                    return;
                }
                Kind::Enum { .. } => {
                    if id == CTypeId::CTYPEID {
                        r.prep_str(b"ctype");
                    } else {
                        self.prep_tagged(r, id, ct, qual, b"enum");
                    }
                    return;
                }
                Kind::Attrib { attr, .. } => {
                    if attr == Attr::Qual {
                        qual = qual.union(Qual(size as u8));
                    }
                }
                Kind::Ptr { reference, .. } => {
                    if reference {
                        r.prep_char(b'&');
                    } else {
                        r.prep_qual(qual.union(info.qual));
                        if self.target.ptr_size == 8 && size == 4 {
                            r.prep_str(b"__ptr32");
                        }
                        r.prep_char(b'*');
                    }
                    qual = Qual::NONE;
                    ptrto = true;
                    r.needsp = true;
                }
                Kind::Array { vector, complex, elem, vla } => {
                    if !vector && !complex {
                        r.needsp = true;
                        if ptrto {
                            ptrto = false;
                            r.prep_char(b'(');
                            r.app_char(b')');
                        }
                        r.app_char(b'[');
                        if size != SIZE_INVALID {
                            let csize = if elem < id { self.get(elem).size } else { 0 };
                            r.app_num(size.checked_div(csize).unwrap_or(0));
                        } else if vla {
                            r.app_char(b'?');
                        }
                        r.app_char(b']');
                    } else if complex {
                        if size == 8 {
                            r.prep_str(b"float");
                        }
                        r.prep_str(b"complex");
                        return;
                    } else {
                        r.prep_str(b")))");
                        r.prep_num(size);
                        r.prep_str(b"__attribute__((vector_size(");
                    }
                }
                Kind::Func { .. } => {
                    r.needsp = true;
                    if ptrto {
                        ptrto = false;
                        r.prep_char(b'(');
                        r.app_char(b')');
                    }
                    r.app_char(b'(');
                    r.app_char(b')');
                }
                _ => {
                    r.ok = false;
                    return;
                }
            }
            match info.child() {
                Some(c) if c < id => id = c,
                _ => {
                    r.ok = false;
                    return;
                }
            }
        }
    }

    fn prep_tagged(&self, r: &mut Repr, id: CTypeId, ct: &CType, qual: Qual, tag: &[u8]) {
        match &ct.name {
            Some(n) => r.prep_str(n),
            None => {
                if r.needsp {
                    r.prep_char(b' ');
                }
                r.prep_num(id.0);
                r.needsp = true;
            }
        }
        r.prep_str(tag);
        r.prep_qual(qual);
    }
}

/// Iterator over a chain of members: `(id, entry)`.
pub struct Members<'a> {
    cts: &'a CTState,
    cur: CTypeId,
    left: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (CTypeId, &'a CType);
    fn next(&mut self) -> Option<Self::Item> {
        let sib = self.cts.tab.get(self.cur.index())?.sib;
        // 0 ends a chain; 1 (`void`, never a member) marks a struct being defined.
        // The count bounds the walk whatever the links.
        if sib.0 <= 1 || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let ct = self.cts.tab.get(sib.index())?;
        self.cur = sib;
        Some((sib, ct))
    }
}

/// LuaJIT's fixed representation buffer: text is prepended and appended around the
/// middle of a 512-byte buffer; running out of room gives `?`.
struct Repr {
    pre: Vec<u8>, // reversed
    app: Vec<u8>,
    needsp: bool,
    ok: bool,
}

const REPR_MAX: usize = 512;

impl Repr {
    fn new() -> Repr {
        Repr { pre: Vec::new(), app: Vec::new(), needsp: false, ok: true }
    }
    fn prep_room(&self) -> usize {
        (REPR_MAX / 2).saturating_sub(self.pre.len())
    }
    fn prep_str(&mut self, s: &[u8]) {
        if self.prep_room() < s.len() + 1 {
            self.ok = false;
            return;
        }
        if self.needsp {
            self.pre.push(b' ');
        }
        self.needsp = true;
        self.pre.extend(s.iter().rev());
    }
    fn prep_char(&mut self, c: u8) {
        if self.prep_room() == 0 {
            self.ok = false;
            return;
        }
        self.pre.push(c);
    }
    fn prep_num(&mut self, n: u32) {
        if self.prep_room() < 11 {
            self.ok = false;
            return;
        }
        self.pre.extend(n.to_string().bytes().rev());
        self.needsp = false;
    }
    fn prep_qual(&mut self, q: Qual) {
        if q.is_volatile() {
            self.prep_str(b"volatile");
        }
        if q.is_const() {
            self.prep_str(b"const");
        }
    }
    fn app_char(&mut self, c: u8) {
        if self.app.len() >= REPR_MAX / 2 {
            self.ok = false;
            return;
        }
        self.app.push(c);
    }
    fn app_num(&mut self, n: u32) {
        if self.app.len() > REPR_MAX / 2 - 10 {
            self.ok = false;
            return;
        }
        self.app.extend(n.to_string().bytes());
    }
    fn finish(self) -> Vec<u8> {
        if !self.ok {
            return b"?".to_vec();
        }
        let mut out: Vec<u8> = self.pre.into_iter().rev().collect();
        out.extend(self.app);
        out
    }
}

fn num(flags: u8, size: u32, align: u8) -> PredefType {
    PredefType { info: Info::new(Kind::Num { flags: NumFlags(flags) }).with_align(align), size }
}

fn predefined_types(t: &Target) -> Vec<PredefType> {
    let uchar = if t.char_unsigned { NumFlags::UNSIGNED } else { 0 };
    let long8 = if t.long_size == 8 { NumFlags::LONG } else { 0 };
    let palign = if t.ptr_size == 8 { 3 } else { 2 };
    let ptr = |to: CTypeId| PredefType {
        info: Info::new(Kind::Ptr { to, reference: false }).with_align(palign),
        size: t.ptr_size,
    };
    let u = NumFlags::UNSIGNED;
    vec![
        PredefType { info: Info::new(Kind::Attrib { attr: Attr::Bad, target: CTypeId::NONE }), size: 0 },
        PredefType { info: Info::new(Kind::Void), size: SIZE_INVALID },
        PredefType { info: Info::new(Kind::Void).with_qual(Qual::CONST), size: SIZE_INVALID },
        num(NumFlags::BOOL | u, 1, 0),
        PredefType { info: Info::new(Kind::Num { flags: NumFlags(uchar) }).with_qual(Qual::CONST), size: 1 },
        num(0, 1, 0),
        num(u, 1, 0),
        num(0, 2, 1),
        num(u, 2, 1),
        num(0, 4, 2),
        num(u, 4, 2),
        num(long8, 8, 3),
        num(u | long8, 8, 3),
        num(NumFlags::FP, 4, 2),
        num(NumFlags::FP, 8, 3),
        PredefType {
            info: Info::new(Kind::Array { elem: CTypeId::FLOAT, vla: false, vector: false, complex: true })
                .with_align(2),
            size: 8,
        },
        PredefType {
            info: Info::new(Kind::Array { elem: CTypeId::DOUBLE, vla: false, vector: false, complex: true })
                .with_align(3),
            size: 16,
        },
        ptr(CTypeId::VOID),
        ptr(CTypeId::CVOID),
        ptr(CTypeId::CCHAR),
        ptr(CTypeId::UINT8),
        PredefType {
            info: Info::new(Kind::Array { elem: CTypeId::CCHAR, vla: false, vector: false, complex: false })
                .with_qual(Qual::CONST),
            size: SIZE_INVALID,
        },
        PredefType { info: Info::new(Kind::Enum { base: CTypeId::INT32 }).with_align(2), size: 4 },
    ]
}

/// The keywords, in LuaJIT's order, with their size/argument.
const KEYWORDS: &[(&str, u32, Kw)] = &[
    ("void", SIZE_INVALID, Kw::Void),
    ("_Bool", 0, Kw::Bool),
    ("bool", 1, Kw::Bool),
    ("char", 1, Kw::Char),
    ("int", 4, Kw::Int),
    ("__int8", 1, Kw::Int),
    ("__int16", 2, Kw::Int),
    ("__int32", 4, Kw::Int),
    ("__int64", 8, Kw::Int),
    ("float", 4, Kw::Fp),
    ("double", 8, Kw::Fp),
    ("long", 0, Kw::Long),
    ("short", 0, Kw::Short),
    ("_Complex", 0, Kw::Complex),
    ("complex", 0, Kw::Complex),
    ("__complex", 0, Kw::Complex),
    ("__complex__", 0, Kw::Complex),
    ("signed", 0, Kw::Signed),
    ("__signed", 0, Kw::Signed),
    ("__signed__", 0, Kw::Signed),
    ("unsigned", 0, Kw::Unsigned),
    ("const", 0, Kw::Const),
    ("__const", 0, Kw::Const),
    ("__const__", 0, Kw::Const),
    ("volatile", 0, Kw::Volatile),
    ("__volatile", 0, Kw::Volatile),
    ("__volatile__", 0, Kw::Volatile),
    ("restrict", 0, Kw::Restrict),
    ("__restrict", 0, Kw::Restrict),
    ("__restrict__", 0, Kw::Restrict),
    ("inline", 0, Kw::Inline),
    ("__inline", 0, Kw::Inline),
    ("__inline__", 0, Kw::Inline),
    ("typedef", 0, Kw::Typedef),
    ("extern", 0, Kw::Extern),
    ("static", 0, Kw::Static),
    ("auto", 0, Kw::Auto),
    ("register", 0, Kw::Register),
    ("__extension__", 0, Kw::Extension),
    ("__attribute", 0, Kw::Attribute),
    ("__attribute__", 0, Kw::Attribute),
    ("asm", 0, Kw::Asm),
    ("__asm", 0, Kw::Asm),
    ("__asm__", 0, Kw::Asm),
    ("__declspec", 0, Kw::Declspec),
    ("__cdecl", CallConv::Cdecl as u32, Kw::CCDecl),
    ("__thiscall", CallConv::Thiscall as u32, Kw::CCDecl),
    ("__fastcall", CallConv::Fastcall as u32, Kw::CCDecl),
    ("__stdcall", CallConv::Stdcall as u32, Kw::CCDecl),
    ("__ptr32", 4, Kw::PtrSz),
    ("__ptr64", 8, Kw::PtrSz),
    ("struct", 0, Kw::Struct),
    ("union", 0, Kw::Union),
    ("enum", 0, Kw::Enum),
    ("sizeof", 0, Kw::Sizeof),
    ("__alignof", 0, Kw::Alignof),
    ("__alignof__", 0, Kw::Alignof),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_ids_match_luajit() {
        let cts = CTState::new(Target::X86_64_SYSV);
        // LuaJIT 2.1 (OpenResty) allocates its first user type at id 97.
        assert_eq!(cts.len(), 97);
        assert_eq!(cts.get_name(b"int", NS_DEFAULT).map(|i| cts.info(i).kind), Some(Kind::Keyword { kw: Kw::Int }));
        assert_eq!(cts.repr(CTypeId::P_CCHAR), b"const char *");
        assert_eq!(cts.repr(CTypeId::COMPLEX_FLOAT), b"complex float");
        assert_eq!(cts.repr(CTypeId::UINT64), b"uint64_t");
        assert_eq!(cts.repr(CTypeId::CTYPEID), b"ctype");
    }
}
