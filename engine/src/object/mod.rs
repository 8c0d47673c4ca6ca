//! Heap object types above the GC floor: tables, prototypes, closures, upvalues,
//! userdata. (Strings live with the collector in `gc::strings`; threads and native
//! functions, which refer to the VM, live in `vm`.)

pub mod func;
pub mod table;
pub mod userdata;

pub use crate::gc::LuaString;
pub use crate::vm::thread::Thread;
pub use func::{LuaFunction, Proto, UpState, UpVal};
pub use table::Table;
pub use userdata::Userdata;
