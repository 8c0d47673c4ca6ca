//! moonbox: a Lua 5.1 / LuaJIT-dialect engine in Rust.
//!
//! This facade re-exports the engine; the embedding API grows here.

pub use moonbox_engine as engine;
pub use moonbox_engine::{ErrorKind, LuaError, Value, Vm};
