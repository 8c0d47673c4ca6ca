//! The facade's error type.
//!
//! Every fallible operation of the embedding API returns [`Result<T>`], whose error is
//! one [`Error`] enum. Errors raised by Lua code keep their message (and, when they
//! leave the outermost call, the Lua traceback); errors returned by Rust callbacks
//! travel through Lua as Lua errors and come back out as [`Error::CallbackError`] with
//! the original error as their [`source`](std::error::Error::source).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// The result type of the embedding API.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong when Rust and Lua talk to each other.
///
/// `Error` is `Clone + Send + Sync`, so it can be stored, shared between threads and
/// wrapped by `anyhow`-style error types.
///
/// ```
/// use moonbox::{Error, Lua};
///
/// let lua = Lua::new();
/// match lua.load("error('boom')").exec() {
///     Err(Error::RuntimeError { message, .. }) => assert!(message.ends_with("boom")),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Lua source did not compile. `incomplete_input` is true when the source ended
    /// too early (a REPL may then ask for another line).
    #[error("syntax error: {message}")]
    SyntaxError {
        /// The message, as `luajit` prints it (`[string "..."]:1: ... near '...'`).
        message: String,
        /// The error was found at the end of the input.
        incomplete_input: bool,
    },

    /// A Lua runtime error (`error(...)`, a failed operation).
    #[error("runtime error: {message}")]
    RuntimeError {
        /// The error value as text (`tostring` of it).
        message: String,
        /// The Lua stack traceback, when the error left the outermost call.
        traceback: Option<String>,
    },

    /// The state ran out of memory: an allocation failed, or the state's memory limit
    /// (see [`Lua::set_memory_limit`](crate::Lua::set_memory_limit)) was exceeded.
    #[error("memory error: {0}")]
    MemoryError(String),

    /// The instruction budget set with [`Lua::set_budget`](crate::Lua::set_budget)
    /// ran out. Lua code cannot catch this error with `pcall`.
    #[error("instruction budget exhausted")]
    BudgetExhausted,

    /// The script was stopped through a [`CancelHandle`](crate::CancelHandle). Lua code
    /// cannot catch this error with `pcall`.
    #[error("execution cancelled by the host")]
    Cancelled,

    /// The interrupt hook set with [`Lua::set_interrupt`](crate::Lua::set_interrupt)
    /// asked to stop the script. Lua code cannot catch this error with `pcall`.
    #[error("execution interrupted by the interrupt hook")]
    Interrupted,

    /// A Rust callback returned an error (or panicked), and the error propagated out
    /// of Lua. `cause` is the callback's original error; it is also the
    /// [`source`](std::error::Error::source) (as an `Arc<Error>`), so walking the
    /// source chain reaches it and what it wraps. [`Error::root_cause`] and
    /// [`Error::downcast_ref`] look through nested callback errors.
    #[error("callback error: {cause}")]
    CallbackError {
        /// The Lua traceback at the point where the error left the outermost call.
        traceback: Option<String>,
        /// The error the callback returned.
        #[source]
        cause: Arc<Error>,
    },

    /// A Rust callback panicked. The panic was caught at the callback boundary and
    /// became a Lua error; it never unwinds through the engine.
    #[error("a Rust callback panicked: {message}")]
    CallbackPanic {
        /// The panic payload, if it was a string.
        message: String,
    },

    /// An argument of a Rust callback could not be converted.
    #[error("bad argument #{pos}{}: {cause}", to.as_ref().map(|t| format!(" to '{t}'")).unwrap_or_default())]
    BadArgument {
        /// The called function's name, when Lua knows it.
        to: Option<String>,
        /// The argument's position, 1-based (`self` of a method is argument 1).
        pos: usize,
        /// Why the conversion failed.
        #[source]
        cause: Arc<Error>,
    },

    /// A Lua value could not be converted to the requested Rust type.
    #[error("error converting Lua {from} to {to}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    FromLuaConversionError {
        /// The Lua type name (`nil`, `number`, ...).
        from: &'static str,
        /// The Rust type.
        to: String,
        /// Details, e.g. "out of range".
        message: Option<String>,
    },

    /// A Rust value could not be converted to a Lua value.
    #[error("error converting {from} to Lua {to}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    ToLuaConversionError {
        /// The Rust type.
        from: String,
        /// The Lua type.
        to: &'static str,
        /// Details, e.g. "out of range".
        message: Option<String>,
    },

    /// [`Thread::resume`](crate::Thread::resume) on a coroutine that is not suspended
    /// (finished, running or waiting for another coroutine).
    #[error("cannot resume a coroutine that is not suspended")]
    CoroutineUnresumable,

    /// A userdata was not of the expected Rust type.
    #[error("userdata is not of the expected type")]
    UserDataTypeMismatch,

    /// A userdata's value is mutably borrowed (by a method running further up).
    #[error("userdata already mutably borrowed")]
    UserDataBorrowError,

    /// A userdata's value is borrowed (by a method running further up), so it cannot
    /// be borrowed mutably.
    #[error("userdata already borrowed")]
    UserDataBorrowMutError,

    /// A `FnMut` callback was called again while it was running.
    #[error("mutable callback called recursively")]
    RecursiveMutCallback,

    /// A handle (table, function, ...) of one `Lua` state was used with another one.
    #[error("a handle of one Lua state was used with another Lua state")]
    MismatchedLua,

    /// The `Lua` state this handle belongs to has been dropped.
    #[error("the Lua state this handle belongs to was dropped")]
    StateDropped,

    /// The state cannot be used right now: it was reached from code that runs while
    /// the engine itself is busy (a `Drop` implementation run by the garbage collector,
    /// an interrupt hook, an output handler).
    #[error("the Lua state is busy (used from a destructor or a hook)")]
    StateBusy,

    /// Any other error, e.g. from a Rust library, wrapped with [`Error::external`].
    #[error(transparent)]
    External(Arc<dyn StdError + Send + Sync>),
}

impl Error {
    /// A runtime error with a message, as a callback would return it.
    ///
    /// ```
    /// use moonbox::{Error, Lua};
    ///
    /// let lua = Lua::new();
    /// let f = lua.create_function(|_, ()| -> moonbox::Result<()> { Err(Error::runtime("nope")) })?;
    /// lua.globals().set("f", f)?;
    /// let msg: String = lua.load("local ok, e = pcall(f) return tostring(e)").eval()?;
    /// assert!(msg.ends_with("nope"));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn runtime(message: impl fmt::Display) -> Error {
        Error::RuntimeError { message: message.to_string(), traceback: None }
    }

    /// Wraps any error (a `std::io::Error`, a `String`, ...) as [`Error::External`].
    pub fn external(err: impl Into<Box<dyn StdError + Send + Sync>>) -> Error {
        Error::External(Arc::from(err.into()))
    }

    /// Is this one of the errors that stop a script and that `pcall` cannot catch
    /// (budget, cancellation, interrupt)?
    pub fn is_uncatchable(&self) -> bool {
        matches!(self, Error::BudgetExhausted | Error::Cancelled | Error::Interrupted)
    }

    /// For a [`CallbackError`](Error::CallbackError) (possibly nested), the innermost
    /// error a callback returned; otherwise `self`.
    ///
    /// ```
    /// use moonbox::{Error, Lua};
    ///
    /// let lua = Lua::new();
    /// let f = lua.create_function(|_, ()| -> moonbox::Result<()> { Err(Error::external("disk on fire")) })?;
    /// let err = f.call::<_, ()>(()).unwrap_err();
    /// assert_eq!(err.root_cause().to_string(), "disk on fire");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::CallbackError { cause, .. } => cause.root_cause(),
            e => e,
        }
    }

    /// The original external error, if this error is (or wraps, through callback
    /// errors) an [`Error::External`] of type `T`.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        match self.root_cause() {
            Error::External(e) => e.downcast_ref::<T>(),
            _ => None,
        }
    }

    pub(crate) fn from_lua_conversion(from: &'static str, to: impl Into<String>, message: Option<String>) -> Error {
        Error::FromLuaConversionError { from, to: to.into(), message }
    }

    pub(crate) fn to_lua_conversion(from: impl Into<String>, to: &'static str, message: Option<String>) -> Error {
        Error::ToLuaConversionError { from: from.into(), to, message }
    }
}

/// Converts foreign errors into [`Error::External`], like mlua's `ExternalError`.
///
/// ```
/// use moonbox::{ExternalError, Lua};
///
/// let lua = Lua::new();
/// let parse = lua.create_function(|_, s: String| {
///     s.parse::<i32>().map_err(|e| e.into_lua_err())
/// })?;
/// assert_eq!(parse.call::<_, i32>("12")?, 12);
/// assert!(parse.call::<_, i32>("x").is_err());
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait ExternalError {
    /// Wraps `self` as [`Error::External`].
    fn into_lua_err(self) -> Error;
}

impl<E: Into<Box<dyn StdError + Send + Sync>>> ExternalError for E {
    fn into_lua_err(self) -> Error {
        Error::external(self)
    }
}

/// Converts the error of a foreign `Result` into [`Error::External`].
///
/// ```
/// use moonbox::{ExternalResult, Lua};
///
/// let lua = Lua::new();
/// let read = lua.create_function(|_, n: String| n.parse::<f64>().into_lua_err())?;
/// assert_eq!(read.call::<_, f64>("2.5")?, 2.5);
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait ExternalResult<T> {
    /// Maps the error with [`ExternalError::into_lua_err`].
    fn into_lua_err(self) -> Result<T>;
}

impl<T, E: ExternalError> ExternalResult<T> for std::result::Result<T, E> {
    fn into_lua_err(self) -> Result<T> {
        self.map_err(ExternalError::into_lua_err)
    }
}
