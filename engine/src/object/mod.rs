//! Heap object types above the GC floor: tables, prototypes, closures, upvalues,
//! userdata, FFI cdata and coroutines (with their call frames). Strings live with the collector
//! in `gc::strings`; native functions, whose type names the VM, live in `vm`.

pub mod cdata;
pub mod func;
pub mod table;
pub mod thread;
pub mod userdata;

pub use crate::gc::LuaString;
pub use cdata::CData;
pub use func::{LuaFunction, Proto, UpState, UpVal};
pub use table::Table;
pub use thread::Thread;
pub use userdata::Userdata;
