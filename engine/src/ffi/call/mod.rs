//! The FFI call module: the code that touches memory and machine code it does not
//! own, and the only place in the `ffi` library with `unsafe` (ARCHITECTURE.md,
//! "Where unsafe lives").
//!
//! - [`mem`]: reads and writes behind C pointers, checked at the data level.
//! - [`dl`]: the platform loader (`dlopen`/`dlsym`) for `ffi.C` and `ffi.load`.
//! - `ccall`: calls into C through libffi, and Lua functions as C callbacks
//!   (libffi closures). Only at the `calls` level, and only natively.

pub mod dl;
pub mod mem;

#[cfg(not(target_family = "wasm"))]
mod ccall;

#[cfg(not(target_family = "wasm"))]
pub use ccall::{call, errno, set_c_locale, set_errno, CType as ArgType, Callbacks};

#[cfg(target_family = "wasm")]
mod nocall;
#[cfg(target_family = "wasm")]
pub use nocall::{call, errno, set_c_locale, set_errno, CType as ArgType, Callbacks};
