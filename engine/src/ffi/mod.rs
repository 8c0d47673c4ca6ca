//! The C side of LuaJIT's `ffi` library: C types, their layout, and the C
//! declaration parser behind `ffi.cdef` and C type strings.
//!
//! This module is pure data and parsing: it knows nothing of the VM, values or
//! the heap, and has no `unsafe`. The `ffi` library wires it to Lua.
//!
//! # Data model
//!
//! A [`CTState`] holds one Lua state's C type table: an arena of [`CType`]
//! entries addressed by [`CTypeId`], as in LuaJIT. An entry has an [`Info`]
//! (its [`Kind`] with the kind's data, `const`/`volatile` [`Qual`]ifiers and its
//! alignment as log2), a `size` (size, offset, value or count, by kind), a `sib`
//! link (members of a struct, constants of an enum, parameters of a function)
//! and an optional name.
//!
//! - Types: numbers (`bool`, integers of 1/2/4/8 bytes, `char` apart from
//!   `signed char`/`unsigned char` as in C, `float`, `double`, `long double`),
//!   structs and unions, pointers (and C++ references), arrays (including `[?]`
//!   variable-length arrays, complex numbers and GCC vectors), `void`, enums,
//!   functions (return type, parameters, varargs, calling convention).
//! - Elements: fields, bitfields (container offset, bit position and width),
//!   enum constants and `static const` constants, attributes (unmerged
//!   qualifiers, alignment overrides, anonymous members, `__asm__` symbol
//!   redirects).
//! - Names: typedefs, `extern` variables, named functions, constants and the
//!   keywords, looked up by [`CTState::get_name`] in two namespaces as in C:
//!   [`NS_STRUCT`] for tags, [`NS_DEFAULT`] for everything else.
//!
//! Anonymous types are interned (the same shape gives the same id) and ids are
//! allocated in LuaJIT's order, starting from LuaJIT's predefined types,
//! typedefs (`int8_t` … `uint64_t`, `size_t`, `ssize_t`, `ptrdiff_t`,
//! `intptr_t`, `uintptr_t`, `wchar_t`, `va_list`, `__builtin_va_list`,
//! `__gnuc_va_list`) and keywords; so `tostring(ffi.typeof("struct {int x;}"))`
//! in a fresh state is `ctype<struct 97>` here as in LuaJIT 2.1.
//!
//! # API for the `ffi` library
//!
//! - [`CTState::new`]`(Target)`; [`CTState::cdef`] (`ffi.cdef`) and
//!   [`CTState::parse_type`] (type strings of `ffi.typeof`, `new`, `cast`,
//!   `sizeof`, `alignof`, `offsetof`, `istype`, `metatype`), both taking the
//!   `$` parameters as [`Param`]s and failing with a [`CParseError`] that
//!   carries LuaJIT's message. A failed `cdef` leaves no trace.
//! - [`CTState::size_of`], [`CTState::vl_size`] (`ffi.sizeof(ct, n)`),
//!   [`CTState::align_of`], [`CTState::offset_of`] (with bit position and width
//!   for bitfields), [`CTState::get_field`], [`CTState::type_info`],
//!   [`CTState::raw`]/[`CTState::raw_ref`], [`CTState::members`].
//! - [`CTState::repr`]: the text inside `ctype<...>`; [`CTState::repr_named`]
//!   for messages that name a declaration.
//! - [`CTState::get_name`] with [`NS_DEFAULT`] for `ffi.C.name` (an
//!   [`Kind::Extern`], a named [`Kind::Func`] or a [`Kind::ConstVal`]) and
//!   [`CTState::redirect`] for its `__asm__` symbol name.
//!
//! # Targets
//!
//! Sizes and layout depend on a [`Target`]: pointer size, `long` size, `long
//! double` size, signedness of `char`, `wchar_t`, byte order. Provided:
//! [`Target::X86_64_SYSV`], [`Target::WASM32`] (clang's wasm32: ILP32 with
//! 8-byte aligned `long long` and `double`) and [`Target::ARM64_LINUX`].
//! Struct layout ([`layout`]) follows GCC's rules for these targets, as LuaJIT
//! does: natural alignment, bitfields in containers of their type, `packed`,
//! `aligned(n)`, `#pragma pack`.
//!
//! # Tests
//!
//! `tests/`: 537 cases replayed from a golden file that the reference `luajit`
//! produced (`tests/gen_golden.lua` regenerates it; two cases deliberately
//! follow upstream LuaJIT and GCC where the installed 2023 luajit2 predates
//! fixes), 74 structs laid out by `gcc` (required) and by `clang
//! --target=wasm32` (frozen), real headers' declarations, `$` parameters,
//! rollback, and random input.
//!
//! # Still missing
//!
//! - The library itself (cdata, conversions, calls, callbacks, metatypes):
//!   this module only parses and lays out types.
//! - LuaJIT's own limits are kept: bitfields of 64-bit types are rejected
//!   ("invalid value"), enums are always 4 bytes, constant expressions are
//!   32-bit, integer literals have no `L`/`LL` suffixes, `static const`
//!   initialisers must be integers of at most 4 bytes, a redeclared typedef,
//!   function or extern name is silently ignored, `#line` file names are
//!   dropped, and there is no preprocessor (`#define`, `#include` are errors).
//! - `__int128`/`int128_t` (newer upstream LuaJIT has them; the OpenResty
//!   luajit2 we match does not).
//! - 32-bit x86 specifics: the SysV i386 field alignment limit, `regparm`,
//!   `sseregparm`, calling conventions changing anything but the recorded
//!   [`CallConv`]; big-endian bitfield order is implemented but untested.
//! - Unlike LuaJIT (which overflows its C stack), nesting struct bodies deeper
//!   than [`cparse::MAX_STRUCT_DEPTH`] is an error ("chunk has too many syntax
//!   levels").
//! - A `cdef` that completes an older forward-declared struct and then fails
//!   keeps the struct's size but drops its members (LuaJIT keeps dangling ones).

pub mod call;
pub mod conv;
pub mod cparse;
pub mod ctype;
pub mod grants;
pub mod layout;
pub mod lib;
pub mod state;

#[cfg(test)]
mod tests;

pub use cparse::{CParseError, Param};
pub use ctype::{
    Attr, CTState, CType, CTypeId, CallConv, Info, Kind, KindNum, Kw, Members, NumFlags, Qual, SizeOf, NS_DEFAULT,
    NS_STRUCT, SIZE_INVALID,
};
pub use layout::Target;
pub use state::FfiState;
