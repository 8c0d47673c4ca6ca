//! moonbox: a Lua 5.1 / LuaJIT-dialect engine in Rust, with the embedding API of
//! [mlua](https://docs.rs/mlua) 0.11: a program written for mlua (with its `luajit`
//! feature) compiles with the crate name changed, and behaves the same.
//!
//! ```
//! use moonbox::{Lua, Result};
//!
//! fn main() -> Result<()> {
//!     let lua = Lua::new();
//!
//!     // Rust -> Lua
//!     let add: moonbox::Function = lua.load("function(a, b) return a + b end").eval()?;
//!     assert_eq!(add.call::<f64>((1, 2))?, 3.0);
//!
//!     // Lua -> Rust
//!     let shout = lua.create_function(|_, s: String| Ok(s.to_uppercase()))?;
//!     lua.globals().set("shout", shout)?;
//!     assert_eq!(lua.load("shout('hi')").eval::<String>()?, "HI");
//!     Ok(())
//! }
//! ```
//!
//! # The pieces
//!
//! - [`Lua`] is one state (cloneable: clones share it): [`Lua::new`] (trusted, full
//!   standard library), [`Lua::new_with`] (chosen libraries, as mlua),
//!   [`Lua::sandboxed`] (for untrusted code), [`Lua::with_capabilities`] (what the
//!   state may reach: see [`Capabilities`], with directory grants) or
//!   [`Lua::with_options`] (limits). [`Lua::load`] returns a [`Chunk`] to `exec`,
//!   `eval`, `call` or compile.
//! - [`Value`] is an owned Lua value; [`Table`], [`Function`], [`String`] (also
//!   exported as [`LuaString`]), [`Thread`] and [`AnyUserData`] are handles that keep
//!   their object alive.
//! - [`IntoLua`] / [`FromLua`] (and the `Multi` variants for argument lists) convert
//!   Rust values; see the [`conv`] module for the table of built-in conversions.
//! - [`UserData`] puts Rust types into Lua with methods, fields and metamethods;
//!   [`Lua::scope`] lends non-`'static` values and closures for a while.
//! - Limits (moonbox's additions): [`Lua::set_memory_limit`], [`Lua::set_budget`],
//!   [`Lua::cancel_handle`] (thread-safe), [`Lua::set_interrupt`].
//! - Errors: one [`Error`] type with mlua's variants. A Rust callback's error becomes a
//!   Lua error (catchable by `pcall`) and comes back out as [`Error::CallbackError`];
//!   a panic travels through Lua as an error and resumes when control leaves Lua.
//!
//! # Features
//!
//! - `macros`: [`chunk!`] and the derives `FromLua` and `UserData`.
//! - `serde`: [`LuaSerdeExt`], `Serialize` for [`Value`], serializable userdata.
//! - `async`: [`Lua::create_async_function`], [`Function::call_async`],
//!   [`AsyncThread`]; a Rust callback that awaits suspends the Lua coroutine.
//! - `send`: [`Lua`] and the handles are `Send + Sync` (callbacks and userdata must
//!   be `Send`).
//!
//! Where moonbox differs from mlua, `COMPATIBILITY.md` says so, with the reason.
//!
//! # Lower level
//!
//! The engine itself is re-exported as [`engine`] for hosts that need its raw API.

#![warn(missing_docs)]

pub use moonbox_engine as engine;

#[cfg(feature = "async")]
mod asyncs;
mod capabilities;
mod chunk;
pub mod conv;
mod debug;
mod error;
mod function;
mod jit;
mod limits;
mod lua;
mod multi;
pub mod prelude;
mod sandbox;
mod scope;
#[cfg(feature = "serde")]
pub mod serde;
mod state;
mod stdlib;
mod string;
mod sync;
mod table;
mod thread;
mod types;
mod userdata;
mod value;

pub use bstr::BString;

#[cfg(feature = "async")]
pub use crate::asyncs::{AsyncCallFuture, AsyncThread, LuaNativeAsyncFn};
pub use crate::capabilities::{Capabilities, ClockResolution, DebugLevel, FfiLevel};
pub use crate::chunk::{AsChunk, Chunk, ChunkMode};
pub use crate::conv::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
pub use crate::debug::{Debug, DebugEvent, DebugNames, DebugSource, DebugStack, HookTriggers};
pub use crate::error::{Error, ErrorContext, ExternalError, ExternalResult, Result};
pub use crate::function::{Function, FunctionInfo, LuaNativeFn, LuaNativeFnMut};
pub use crate::limits::{CancelHandle, Interrupt};
pub use crate::multi::{MultiValue, Variadic};
pub use crate::scope::Scope;
#[cfg(feature = "serde")]
pub use crate::serde::{DeserializeOptions, LuaSerdeExt, SerializableValue, SerializeOptions};
pub use crate::state::{GCMode, Lua, LuaOptions, MemoryLimit, WeakLua};
pub use crate::stdlib::StdLib;
pub use crate::string::{BorrowedBytes, BorrowedStr, String};
pub use crate::table::{Table, TablePairs, TableSequence};
pub use crate::thread::{Thread, ThreadStatus};
pub use crate::traits::ObjectLike;
pub use crate::types::{
    AppDataRef, AppDataRefMut, Either, Integer, LightUserData, MaybeSend, MaybeSync, Number, RegistryKey, VmState,
};
pub use crate::userdata::{
    AnyUserData, MetaMethod, UserData, UserDataFields, UserDataMetatable, UserDataMethods, UserDataRef, UserDataRefMut,
    UserDataRegistry,
};
pub use crate::value::{CData, Nil, Value};
pub use moonbox_engine::ffi::grants::CValue;

/// moonbox's older name for [`String`] (mlua's `prelude` exports it too).
pub use crate::string::String as LuaString;

mod traits;

#[cfg(feature = "macros")]
pub use moonbox_derive::{chunk, FromLua, UserData};
