//! moonbox: a Lua 5.1 / LuaJIT-dialect engine in Rust, with an embedding API shaped
//! like [mlua](https://docs.rs/mlua)'s.
//!
//! ```
//! use moonbox::{Lua, Result};
//!
//! fn main() -> Result<()> {
//!     let lua = Lua::new();
//!
//!     // Rust -> Lua
//!     let add: moonbox::Function = lua.load("function(a, b) return a + b end").eval()?;
//!     assert_eq!(add.call::<_, f64>((1, 2))?, 3.0);
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
//! - [`Lua`] is one state: [`Lua::new`] (trusted, full standard library),
//!   [`Lua::sandboxed`] (for untrusted code), [`Lua::with_capabilities`] (what the
//!   state may reach: see [`Capabilities`], with directory grants) or
//!   [`Lua::with_options`] (limits).
//!   [`Lua::load`] returns a [`Chunk`] to `exec`, `eval`, `call` or compile.
//! - [`Value`] is an owned Lua value; [`Table`], [`Function`], [`LuaString`],
//!   [`Thread`] and [`AnyUserData`] are handles that keep their object alive.
//! - [`IntoLua`] / [`FromLua`] (and the `Multi` variants for argument lists) convert
//!   Rust values; see the [`conv`] module for the table of built-in conversions.
//! - [`UserData`] puts Rust types into Lua with methods, fields and metamethods.
//! - Limits: [`Lua::set_memory_limit`], [`Lua::set_budget`], [`Lua::cancel_handle`]
//!   (thread-safe), [`Lua::set_interrupt`].
//! - Errors: one [`Error`] type. A Rust callback's error or panic becomes a Lua error
//!   (catchable by `pcall`) and comes back out as [`Error::CallbackError`] carrying
//!   the original error.
//!
//! # Threads
//!
//! The engine is single-threaded, so [`Lua`] and the handles are neither `Send` nor
//! `Sync`. [`CancelHandle`] and [`Error`] are `Send + Sync`.
//!
//! # Lower level
//!
//! The engine itself is re-exported as [`engine`] for hosts that need its raw API.

#![warn(missing_docs)]

pub use moonbox_engine as engine;

mod capabilities;
pub mod conv;
mod error;
mod function;
mod limits;
mod lua;
mod sandbox;
mod string;
mod table;
mod thread;
mod userdata;
mod value;

pub use capabilities::{Capabilities, ClockResolution, DebugLevel, FfiLevel};
pub use conv::{FromLua, FromLuaMulti, IntoLua, IntoLuaMulti};
pub use error::{Error, ExternalError, ExternalResult, Result};
pub use function::Function;
pub use limits::{CancelHandle, Interrupt};
pub use lua::{AsChunk, Chunk, Lua, LuaOptions, RegistryKey};
pub use string::{BorrowedBytes, BorrowedStr, LuaString};
pub use table::{Table, TablePairs, TableSequence};
pub use thread::{Thread, ThreadStatus};
pub use userdata::{AnyUserData, MetaMethod, UserData, UserDataFields, UserDataMethods, UserDataRef, UserDataRefMut};
pub use value::{CData, LightUserData, MultiValue, Value, Variadic};

/// The common imports: `use moonbox::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AnyUserData, Capabilities, Error as LuaError, FromLua, FromLuaMulti, Function, IntoLua, IntoLuaMulti, Lua,
        LuaOptions, LuaString, MetaMethod, MultiValue, Result as LuaResult, Table, Thread, UserData, UserDataFields,
        UserDataMethods, Value, Variadic,
    };
}
