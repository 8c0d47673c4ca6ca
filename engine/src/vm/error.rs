//! Lua errors as Rust values.

use crate::value::Value;

/// What kind of failure an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A runtime error (`error()`, a failed operation): catchable by `pcall`.
    Runtime,
    /// A syntax error from `load` and friends.
    Syntax,
    /// An allocation over the state's memory limit ("not enough memory").
    Memory,
    /// The error handler of `xpcall` failed.
    ErrorHandler,
    /// The instruction budget ran out: not catchable by Lua code.
    Budget,
    /// The host cancelled the script: not catchable by Lua code.
    Cancelled,
    /// Internal, never seen by Lua code: a library function needs memory that a
    /// collection could free, and must be called again after one (see
    /// `Vm::reserve_mem`). The interpreter turns it into a retry, or into `Memory`.
    RetryAfterGc,
}

impl ErrorKind {
    /// Can `pcall` catch it?
    pub fn catchable(self) -> bool {
        !matches!(self, ErrorKind::Budget | ErrorKind::Cancelled)
    }
}

struct Inner {
    kind: ErrorKind,
    value: Value,
    traceback: Option<String>,
}

/// A Lua error: a kind and the error value. Boxed so `Result`s stay small.
///
/// The value is kept alive by the collector's rules while the error travels inside
/// the VM (the interpreter never sweeps while an error is in flight, and handlers get
/// it on the stack). Once an error has left the VM, its owner converts the value
/// before running anything that may collect.
pub struct LuaError(Box<Inner>);

impl LuaError {
    pub fn new(kind: ErrorKind, value: Value) -> LuaError {
        LuaError(Box::new(Inner { kind, value, traceback: None }))
    }
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    pub fn value(&self) -> Value {
        self.0.value
    }
    pub fn set_value(&mut self, v: Value) {
        self.0.value = v;
    }
    pub fn traceback(&self) -> Option<&str> {
        self.0.traceback.as_deref()
    }
    pub fn set_traceback(&mut self, tb: String) {
        self.0.traceback = Some(tb);
    }
}

impl std::fmt::Debug for LuaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LuaError({:?}, {:?})", self.0.kind, self.0.value)
    }
}

/// Results of engine operations that may raise a Lua error.
pub type LResult<T> = Result<T, LuaError>;
