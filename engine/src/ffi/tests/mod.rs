//! Tests of the C type system and parser: against LuaJIT (golden file), against
//! GCC (layout), on real headers' declarations, and on random input.

mod gcc_layout;
mod golden;
mod headers;
mod params;
mod random;
mod wasm32;
