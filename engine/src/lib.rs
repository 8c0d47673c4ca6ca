//! moonbox's engine core: a Lua 5.1 / LuaJIT 2.1-dialect virtual machine.
//!
//! Floors, from the bottom: `value` and `gc` (values, heap, strings), `object`
//! (tables, functions, userdata), `bytecode` and `compiler` (source to prototypes),
//! `vm` (the interpreter), `stdlib` (the libraries). A module only uses the floors
//! below it, except where a type must name the VM (native functions, threads).

pub mod bytecode;
pub mod compiler;
pub mod ffi;
pub mod gc;
pub mod jit;
pub mod native_stack;
pub mod number;
pub mod object;
pub mod stdlib;
pub mod value;
pub mod vm;

pub use value::{LuaType, Value};
pub use vm::{ErrorKind, LResult, LuaError, Vm};
