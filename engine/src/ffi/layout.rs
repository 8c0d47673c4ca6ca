//! Targets and struct/union layout.
//!
//! Sizes and alignments of the basic types come from a [`Target`]; a struct's
//! members are placed by [`layout_struct`] the way GCC places them on the
//! System V x86-64, AArch64 Linux and clang's wasm32 targets (which is also how
//! LuaJIT places them): each member at the next multiple of its alignment,
//! bitfields packed into containers of their declared type without straddling a
//! container boundary (unless packed), zero-width bitfields closing the current
//! container, `packed`/`aligned(n)` attributes and `#pragma pack(n)` lowering or
//! raising alignments.

use super::ctype::{Attr, CTState, CTypeId, Info, Kind, Qual, SIZE_INVALID};

/// What the layout of C types depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: &'static str,
    /// 8 or 4 bytes.
    pub ptr_size: u32,
    /// Size of `long` (and so of `long`-based types).
    pub long_size: u32,
    /// Size of `long double` (its alignment is its size).
    pub long_double_size: u32,
    /// Plain `char` is unsigned (AArch64, ARM, PowerPC).
    pub char_unsigned: bool,
    /// `wchar_t` is `uint16_t` (Windows); otherwise `int32_t`.
    pub wchar_unsigned16: bool,
    pub big_endian: bool,
}

impl Target {
    /// x86-64 System V (Linux, BSDs, macOS).
    pub const X86_64_SYSV: Target = Target {
        name: "x64",
        ptr_size: 8,
        long_size: 8,
        long_double_size: 16,
        char_unsigned: false,
        wchar_unsigned16: false,
        big_endian: false,
    };
    /// AArch64 Linux (LP64, unsigned `char`, 128-bit `long double`).
    pub const ARM64_LINUX: Target = Target {
        name: "arm64",
        ptr_size: 8,
        long_size: 8,
        long_double_size: 16,
        char_unsigned: true,
        wchar_unsigned16: false,
        big_endian: false,
    };
    /// clang's wasm32 (ILP32: 4-byte pointers, `long` and `size_t`; 8-byte aligned
    /// `long long` and `double`; 16-byte `long double`; signed `char`).
    pub const WASM32: Target = Target {
        name: "wasm32",
        ptr_size: 4,
        long_size: 4,
        long_double_size: 16,
        char_unsigned: false,
        wchar_unsigned16: false,
        big_endian: false,
    };

    /// The target this code is compiled for (x86-64 layout for unknown ones).
    pub fn host() -> Target {
        if cfg!(target_arch = "wasm32") {
            Target::WASM32
        } else if cfg!(target_arch = "aarch64") {
            Target::ARM64_LINUX
        } else {
            Target::X86_64_SYSV
        }
    }

    /// log2 of the pointer alignment.
    pub fn ptr_align(&self) -> u8 {
        if self.ptr_size == 8 {
            3
        } else {
            2
        }
    }
}

/// Index of the highest set bit (`fls(1) == 0`, `fls(16) == 4`); 0 for 0.
pub fn fls(x: u32) -> u8 {
    if x == 0 {
        0
    } else {
        (31 - x.leading_zeros()) as u8
    }
}

/// Attributes of a declaration as the parser collects them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeclAttr {
    pub qual: Qual,
    /// `aligned(n)` given: `align` is log2(n).
    pub aligned: bool,
    pub align: u8,
    pub packed: bool,
    /// Size forced by `mode(..)` or `__ptr32`/`__ptr64` (bytes, 0 = none).
    pub msize: u8,
    /// log2 of a vector size (`vector_size(n)`), 0 = none.
    pub vsize: u8,
}

/// How a member entered the struct, for the layout pass.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PendingKind {
    /// A named member; `bits` for a bitfield.
    Field { ty: CTypeId, bits: Option<u32> },
    /// An anonymous struct/union member (placed like a field).
    Subtype { ty: CTypeId },
    /// Takes no room: static constants, anonymous enums.
    None,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingField {
    pub id: CTypeId,
    pub kind: PendingKind,
    pub attr: DeclAttr,
}

/// Error from [`layout_struct`]: a member's size is unknown or too large.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidSize;

/// Places the members of struct/union `sid` and completes it (size, alignment,
/// qualifiers and VLA flag merged from the members). `sattr` holds the struct's
/// own attributes, `pack` the `#pragma pack` limit (log2; 255 = none).
pub(crate) fn layout_struct(
    cts: &mut CTState,
    sid: CTypeId,
    sattr: DeclAttr,
    pack: u8,
    fields: &[PendingField],
) -> Result<(), InvalidSize> {
    let mut bofs: u32 = 0; // bit offset
    let mut bmaxofs: u32 = 0;
    let mut maxalign: u32 = u32::from(sattr.align);
    let sinfo = cts.get(sid).info;
    let is_union = sinfo.is_union();
    let mut squal = sinfo.qual;
    let mut svla = matches!(sinfo.kind, Kind::Struct { vla: true, .. });
    for f in fields {
        let ty = match f.kind {
            PendingKind::Field { ty, .. } | PendingKind::Subtype { ty } => ty,
            PendingKind::None => continue,
        };
        let attr = f.attr;
        let (info, sz) = cts.type_info(ty);
        let mut csz: u32 = sz.wrapping_mul(8);
        squal = squal.union(info.qual);
        let vla = info.is_vltype();
        svla |= vla;
        let mut sz = sz;
        if sz >= 0x2000_0000 || bofs.checked_add(csz).is_none() || vla {
            if !(sz == SIZE_INVALID && info.is_array() && !is_union) {
                return Err(InvalidSize);
            }
            csz = 0;
            sz = 0;
        }
        let mut align = u32::from(info.align);
        if attr.packed || sattr.packed || (attr.aligned && u32::from(attr.align) > align) {
            align = u32::from(attr.align);
        }
        if u32::from(pack) < align {
            align = u32::from(pack);
        }
        let bits = match f.kind {
            PendingKind::Field { bits, .. } => bits,
            _ => None,
        };
        if align > maxalign && bits != Some(0) {
            maxalign = align;
        }
        let amask: u32 = (8u32 << align.min(28)) - 1;
        let bsz;
        let ct_entry;
        match bits {
            None => {
                bsz = csz;
                bofs = bofs.wrapping_add(amask) & !amask;
                ct_entry = match f.kind {
                    PendingKind::Subtype { ty } => {
                        (Info::new(Kind::Attrib { attr: Attr::Subtype, target: ty }), bofs >> 3)
                    }
                    _ => (Info::new(Kind::Field { ty }).with_align(align as u8), bofs >> 3),
                };
            }
            Some(b) => {
                bsz = b;
                if b == 0 || attr.aligned || (!(attr.packed || sattr.packed) && (bofs & amask) + b > csz) {
                    bofs = bofs.wrapping_add(amask) & !amask;
                }
                if b == csz && (bofs & amask) == 0 {
                    // A bitfield filling an aligned container is a plain field.
                    ct_entry = (Info::new(Kind::Field { ty }).with_align(super::layout::fls(sz)), bofs >> 3);
                } else {
                    if csz > amask + 1 && b <= amask + 1 {
                        csz = amask + 1; // shrink the container of a packed bitfield
                    }
                    let cmask = csz.wrapping_sub(1);
                    let pos = if cts.target().big_endian {
                        csz.wrapping_sub(bofs & cmask).wrapping_sub(b)
                    } else {
                        bofs & cmask
                    };
                    let kind = Kind::Bitfield {
                        unsigned: info.is_unsigned(),
                        is_bool: info.is_bool(),
                        csz: (csz >> 3) as u8,
                        bsz: b as u8,
                        pos: pos as u8,
                    };
                    ct_entry = (Info::new(kind).with_qual(info.qual), (bofs & !cmask) >> 3);
                }
            }
        }
        if let Some(ct) = cts.get_mut(f.id) {
            ct.info = ct_entry.0;
            ct.size = ct_entry.1;
        }
        if is_union {
            bmaxofs = bmaxofs.max(bsz);
        } else {
            bofs = bofs.wrapping_add(bsz);
        }
    }
    let total = if is_union { bmaxofs } else { bofs };
    let amask = (8u32 << maxalign.min(28)) - 1;
    let size = (total.wrapping_add(amask) & !amask) >> 3;
    if let Some(ct) = cts.get_mut(sid) {
        ct.info = Info { kind: Kind::Struct { union: is_union, vla: svla }, qual: squal, align: (maxalign & 15) as u8 };
        ct.size = size;
    }
    Ok(())
}
