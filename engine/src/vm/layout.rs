//! Every offset and constant that generated code (the trace JIT backends) may rely
//! on, in one place, computed from the real types. A layout change shows up in the
//! `sizes` test below.

use core::mem::{offset_of, size_of};

use crate::object::table::Node;
use crate::value::Value;

/// Size of a boxed value.
pub const VALUE_SIZE: usize = size_of::<Value>();
/// First bit pattern that is not a number.
pub const FIRST_TAGGED: u64 = Value::FIRST_TAGGED;
/// Bits of `nil`, `false`, `true`.
pub const NIL_BITS: u64 = Value::NIL.to_bits();
pub const FALSE_BITS: u64 = Value::FALSE.to_bits();
pub const TRUE_BITS: u64 = Value::TRUE.to_bits();

/// Offsets inside a table.
pub const TABLE_META: usize = crate::object::table::offsets::META;
pub const TABLE_NOMM: usize = crate::object::table::offsets::NOMM;
/// The array part's element pointer and (`u32`) length.
pub const TABLE_ARR_PTR: usize = crate::object::table::offsets::ARR_PTR;
pub const TABLE_ARR_LEN: usize = crate::object::table::offsets::ARR_LEN;
/// The hash part's node pointer and (`u32`) node count (a power of two, or 0).
pub const TABLE_NODE_PTR: usize = crate::object::table::offsets::NODE_PTR;
pub const TABLE_NODE_LEN: usize = crate::object::table::offsets::NODE_LEN;
/// The (`u64`) seed of the hash of non-string keys: node `mix64(bits ^ seed) & (len - 1)`
/// (`object::table::key_hash`).
pub const TABLE_HASH_SEED: usize = crate::object::table::offsets::SEED;
/// Offsets inside a hash node.
pub const NODE_KEY: usize = offset_of!(Node, key);
pub const NODE_VAL: usize = offset_of!(Node, val);
pub const NODE_SIZE: usize = size_of::<Node>();
/// The payload of a boxed GC value (its object's address) is its low bits.
pub const PAYLOAD_BITS: u32 = 47;
/// An object's colour byte (every object starts with its header), and the colour a
/// write barrier acts on (in the mark phase).
pub const GC_COLOR: usize = crate::gc::offsets::COLOR;
pub const GC_BLACK: u8 = crate::gc::offsets::BLACK;
/// A Lua closure's environment table (a non-null pointer).
pub const FUNC_ENV: usize = crate::object::func::offsets::ENV;
/// An upvalue (`UpVal`): its closed value, its thread while open (a pointer, null
/// once closed: the same thread pointer as `TraceEnv::thread`) and its stack slot
/// while open (a `usize`). A closure's upvalue cell (`LuaFunction::upval_cell_addr`)
/// holds a non-null `UpVal` pointer.
pub const UV_VALUE: usize = crate::object::func::offsets::UV_VALUE;
pub const UV_THREAD: usize = crate::object::func::offsets::UV_THREAD;
pub const UV_SLOT: usize = crate::object::func::offsets::UV_SLOT;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(VALUE_SIZE, 8);
        assert_eq!(NODE_SIZE, 16);
        assert_eq!(NODE_KEY, 0);
        assert_eq!(NODE_VAL, 8);
        assert_eq!(size_of::<Option<crate::gc::GcRef<crate::object::Table>>>(), size_of::<usize>());
        const { assert!(TABLE_META > 0 && TABLE_ARR_PTR > 0 && TABLE_NOMM > 0) };
        assert_eq!(TABLE_ARR_LEN, TABLE_ARR_PTR + size_of::<usize>());
        assert_eq!(TABLE_NODE_LEN, TABLE_NODE_PTR + size_of::<usize>());
        assert_eq!(TABLE_HASH_SEED % 8, 0);
        assert_eq!(FUNC_ENV % 8, 0);
        assert_eq!(size_of::<Option<crate::gc::GcRef<crate::object::Thread>>>(), 8);
        assert_eq!(size_of::<core::cell::Cell<crate::gc::GcRef<crate::object::func::UpVal>>>(), 8);
        assert_eq!(UV_VALUE % 8 + UV_THREAD % 8 + UV_SLOT % 8, 0);
        assert_eq!(size_of::<crate::gc::GcRef<crate::object::Table>>(), 8);
        assert_eq!((1u64 << PAYLOAD_BITS) - 1, crate::value::PAYLOAD_MASK);
        // The seed fills what was padding: a table is no larger for it.
        #[cfg(target_pointer_width = "64")]
        assert_eq!(size_of::<crate::object::Table>(), 88);
    }
}
