//! The facade's error type.
//!
//! Every fallible operation of the embedding API returns [`Result<T>`], whose error is
//! one [`Error`] enum with mlua 0.11's variants (and their `Display` text), plus the
//! ones for what moonbox adds: limits ([`Error::BudgetExhausted`],
//! [`Error::Cancelled`], [`Error::Interrupted`]) and handle misuse
//! ([`Error::StateDropped`], [`Error::MismatchedLua`], [`Error::StateBusy`]).
//!
//! Errors raised by Lua code keep their message and, when they leave the outermost
//! call, the Lua traceback appended to it (as mlua does). Errors returned by Rust
//! callbacks travel through Lua as Lua errors (Lua code sees their text) and come back
//! out as [`Error::CallbackError`] wrapping the original error.

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
///     Err(Error::RuntimeError(message)) => assert!(message.contains("boom")),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// Lua source did not compile. `incomplete_input` is true when the source ended
    /// too early (a REPL may then ask for another line).
    SyntaxError {
        /// The message, as `luajit` prints it (`[string "..."]:1: ... near '...'`).
        message: String,
        /// The error was found at the end of the input.
        incomplete_input: bool,
    },
    /// A Lua runtime error (`error(...)`, a failed operation). When it left the
    /// outermost call, the message ends with the Lua traceback.
    RuntimeError(String),
    /// The state ran out of memory: an allocation failed, or the state's memory limit
    /// (see [`Lua::set_memory_limit`](crate::Lua::set_memory_limit)) was exceeded.
    MemoryError(String),
    /// Unsafe operation refused (as in mlua: e.g. loading binary chunks where the
    /// state does not allow them).
    SafetyError(String),
    /// Memory control is not available (kept for mlua compatibility; moonbox always
    /// has it).
    MemoryControlNotAvailable,
    /// A `FnMut` callback was called again while it was running.
    RecursiveMutCallback,
    /// A callback or userdata method whose scope has ended was called.
    CallbackDestructed,
    /// Out of Lua stack: too many arguments or results.
    StackError,
    /// Too many arguments to [`Function::bind`](crate::Function::bind).
    BindError,
    /// An argument of a Rust callback could not be converted.
    BadArgument {
        /// The called function's name, when known.
        to: Option<String>,
        /// The argument's position, 1-based (`self` of a method is argument 1).
        pos: usize,
        /// The argument's name, when known (`self`).
        name: Option<String>,
        /// Why the conversion failed.
        cause: Arc<Error>,
    },
    /// A Rust value could not be converted to a Lua value.
    ToLuaConversionError {
        /// The Rust type.
        from: String,
        /// The Lua type.
        to: &'static str,
        /// Details, e.g. "out of range".
        message: Option<String>,
    },
    /// A Lua value could not be converted to the requested Rust type.
    FromLuaConversionError {
        /// The Lua type name (`nil`, `number`, ...).
        from: &'static str,
        /// The Rust type.
        to: String,
        /// Details, e.g. "out of range".
        message: Option<String>,
    },
    /// [`Thread::resume`](crate::Thread::resume) on a coroutine that cannot be resumed.
    CoroutineUnresumable,
    /// A userdata was not of the expected Rust type.
    UserDataTypeMismatch,
    /// A userdata's value was taken out or destroyed.
    UserDataDestructed,
    /// A userdata's value is mutably borrowed (by a method running further up).
    UserDataBorrowError,
    /// A userdata's value is borrowed, so it cannot be borrowed mutably.
    UserDataBorrowMutError,
    /// A metamethod that cannot be set this way (`__gc`, `__metatable`, ...).
    MetaMethodRestricted(String),
    /// A metamethod given a value of an unsupported type.
    MetaMethodTypeError {
        /// The metamethod.
        method: String,
        /// The type of the value.
        type_name: &'static str,
        /// Details.
        message: Option<String>,
    },
    /// A [`RegistryKey`](crate::RegistryKey) of one state was used with another.
    MismatchedRegistryKey,
    /// A Rust callback returned an error, and the error propagated out of Lua.
    /// `cause` is the callback's original error; `traceback` the Lua traceback where it
    /// left the outermost call.
    CallbackError {
        /// The Lua traceback.
        traceback: String,
        /// The error the callback returned.
        cause: Arc<Error>,
    },
    /// A panic that was already resumed came back (kept for mlua compatibility).
    PreviouslyResumedPanic,
    /// A value could not be serialized.
    #[cfg(feature = "serde")]
    SerializeError(String),
    /// A value could not be deserialized.
    #[cfg(feature = "serde")]
    DeserializeError(String),
    /// Any other error, e.g. from a Rust library, wrapped with [`Error::external`].
    ExternalError(Arc<dyn StdError + Send + Sync>),
    /// An error with context added by [`ErrorContext`].
    WithContext {
        /// The context.
        context: String,
        /// The error.
        cause: Arc<Error>,
    },

    // ----- moonbox's own ------------------------------------------------------------
    /// The instruction budget set with [`Lua::set_budget`](crate::Lua::set_budget)
    /// ran out. Lua code cannot catch this error with `pcall`.
    BudgetExhausted,
    /// The script was stopped through a [`CancelHandle`](crate::CancelHandle). Lua code
    /// cannot catch this error with `pcall`.
    Cancelled,
    /// The interrupt hook set with [`Lua::set_interrupt`](crate::Lua::set_interrupt)
    /// asked to stop the script. Lua code cannot catch this error with `pcall`.
    Interrupted,
    /// A handle (table, function, ...) of one `Lua` state was used with another one.
    MismatchedLua,
    /// The `Lua` state this handle belongs to has been dropped.
    StateDropped,
    /// The state cannot be used right now: it was reached from code that runs while
    /// the engine itself is busy (a `Drop` implementation run by the garbage collector,
    /// an interrupt hook, an output handler).
    StateBusy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SyntaxError { message, .. } => write!(f, "syntax error: {message}"),
            Error::RuntimeError(m) => write!(f, "runtime error: {m}"),
            Error::MemoryError(m) => write!(f, "memory error: {m}"),
            Error::SafetyError(m) => write!(f, "safety error: {m}"),
            Error::MemoryControlNotAvailable => write!(f, "memory control is not available"),
            Error::RecursiveMutCallback => write!(f, "mutable callback called recursively"),
            Error::CallbackDestructed => write!(f, "a destructed callback or destructed userdata method was called"),
            Error::StackError => write!(
                f,
                "out of Lua stack, too many arguments to a Lua function or too many return values from a callback"
            ),
            Error::BindError => write!(f, "too many arguments to Function::bind"),
            Error::BadArgument { to, pos, name, cause } => {
                match name {
                    Some(name) => write!(f, "bad argument `{name}`")?,
                    None => write!(f, "bad argument #{pos}")?,
                }
                if let Some(to) = to {
                    write!(f, " to `{to}`")?;
                }
                write!(f, ": {cause}")
            }
            Error::ToLuaConversionError { from, to, message } => {
                write!(f, "error converting {from} to Lua {to}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::FromLuaConversionError { from, to, message } => {
                write!(f, "error converting Lua {from} to {to}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::CoroutineUnresumable => write!(f, "coroutine is non-resumable"),
            Error::UserDataTypeMismatch => write!(f, "userdata is not expected type"),
            Error::UserDataDestructed => write!(f, "userdata has been destructed"),
            Error::UserDataBorrowError => write!(f, "error borrowing userdata"),
            Error::UserDataBorrowMutError => write!(f, "error mutably borrowing userdata"),
            Error::MetaMethodRestricted(m) => write!(f, "metamethod {m} is restricted"),
            Error::MetaMethodTypeError { method, type_name, message } => {
                write!(f, "metamethod {method} has unsupported type {type_name}")?;
                match message {
                    Some(m) => write!(f, " ({m})"),
                    None => Ok(()),
                }
            }
            Error::MismatchedRegistryKey => write!(f, "RegistryKey used from different Lua state"),
            Error::CallbackError { cause, traceback } => {
                // The innermost cause, and the outermost traceback.
                let mut cause = cause;
                while let Error::CallbackError { cause: inner, .. } = &**cause {
                    cause = inner;
                }
                writeln!(f, "{cause}")?;
                writeln!(f, "{}", traceback.trim_end())
            }
            Error::PreviouslyResumedPanic => write!(f, "previously resumed panic returned again"),
            #[cfg(feature = "serde")]
            Error::SerializeError(e) => write!(f, "serialize error: {e}"),
            #[cfg(feature = "serde")]
            Error::DeserializeError(e) => write!(f, "deserialize error: {e}"),
            Error::ExternalError(e) => e.fmt(f),
            Error::WithContext { context, cause } => {
                writeln!(f, "{context}")?;
                write!(f, "{cause}")
            }
            Error::BudgetExhausted => write!(f, "instruction budget exhausted"),
            Error::Cancelled => write!(f, "execution cancelled by the host"),
            Error::Interrupted => write!(f, "execution interrupted by the interrupt hook"),
            Error::MismatchedLua => write!(f, "a handle of one Lua state was used with another Lua state"),
            Error::StateDropped => write!(f, "the Lua state this handle belongs to was dropped"),
            Error::StateBusy => write!(f, "the Lua state is busy (used from a destructor or a hook)"),
        }
    }
}

impl StdError for Error {
    /// As mlua: a callback error prints its cause itself, so it has no source; an
    /// external error's source is the wrapped error's.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::ExternalError(e) => e.source(),
            Error::WithContext { cause, .. } => cause.source(),
            _ => None,
        }
    }
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
        Error::RuntimeError(message.to_string())
    }

    /// Wraps any error (a `std::io::Error`, a `String`, ...) as [`Error::ExternalError`].
    pub fn external(err: impl Into<Box<dyn StdError + Send + Sync>>) -> Error {
        Error::ExternalError(Arc::from(err.into()))
    }

    /// The original external error, if this error is (or wraps, through callback
    /// errors and context) an [`Error::ExternalError`] of type `T`.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        match self {
            Error::ExternalError(e) => e.downcast_ref::<T>(),
            Error::WithContext { cause, .. } | Error::CallbackError { cause, .. } => cause.downcast_ref(),
            _ => None,
        }
    }

    /// The errors this one wraps, outermost first (itself, then the causes of callback
    /// errors and context, then the sources of an external error).
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        let mut next: Option<&(dyn StdError + 'static)> = Some(self);
        std::iter::from_fn(move || {
            let cur = next?;
            next = match cur.downcast_ref::<Error>() {
                Some(Error::CallbackError { cause, .. }) | Some(Error::WithContext { cause, .. }) => {
                    Some(&**cause as &(dyn StdError + 'static))
                }
                Some(Error::BadArgument { cause, .. }) => Some(&**cause as &(dyn StdError + 'static)),
                Some(Error::ExternalError(e)) => e.source(),
                Some(_) => None,
                None => cur.source(),
            };
            Some(cur)
        })
    }

    /// The error a callback error or context wraps.
    #[doc(hidden)]
    pub fn parent(&self) -> Option<&Error> {
        match self {
            Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => Some(cause),
            _ => None,
        }
    }

    /// Is this one of the errors that stop a script and that `pcall` cannot catch
    /// (budget, cancellation, interrupt)?
    pub fn is_uncatchable(&self) -> bool {
        matches!(self, Error::BudgetExhausted | Error::Cancelled | Error::Interrupted)
    }

    /// For a [`CallbackError`](Error::CallbackError) or context (possibly nested), the
    /// innermost error; otherwise `self`.
    ///
    /// ```
    /// use moonbox::{Error, Lua};
    ///
    /// let lua = Lua::new();
    /// let f = lua.create_function(|_, ()| -> moonbox::Result<()> { Err(Error::external("disk on fire")) })?;
    /// let err = f.call::<()>(()).unwrap_err();
    /// assert_eq!(err.root_cause().to_string(), "disk on fire");
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => cause.root_cause(),
            e => e,
        }
    }

    pub(crate) fn from_lua_conversion(from: &'static str, to: impl Into<String>, message: Option<String>) -> Error {
        Error::FromLuaConversionError { from, to: to.into(), message }
    }

    pub(crate) fn bad_self_argument(to: &str, cause: Error) -> Error {
        Error::BadArgument { to: Some(to.to_string()), pos: 1, name: Some("self".to_string()), cause: Arc::new(cause) }
    }
}

/// Converts foreign errors into [`Error::ExternalError`], like mlua's `ExternalError`.
///
/// ```
/// use moonbox::{ExternalError, Lua};
///
/// let lua = Lua::new();
/// let parse = lua.create_function(|_, s: String| {
///     s.parse::<i32>().map_err(|e| e.into_lua_err())
/// })?;
/// assert_eq!(parse.call::<i32>("12")?, 12);
/// assert!(parse.call::<i32>("x").is_err());
/// # Ok::<(), moonbox::Error>(())
/// ```
pub trait ExternalError {
    /// Wraps `self` as [`Error::ExternalError`].
    fn into_lua_err(self) -> Error;
}

impl<E: Into<Box<dyn StdError + Send + Sync>>> ExternalError for E {
    fn into_lua_err(self) -> Error {
        Error::external(self)
    }
}

/// Converts the error of a foreign `Result` into [`Error::ExternalError`].
///
/// ```
/// use moonbox::{ExternalResult, Lua};
///
/// let lua = Lua::new();
/// let read = lua.create_function(|_, n: String| n.parse::<f64>().into_lua_err())?;
/// assert_eq!(read.call::<f64>("2.5")?, 2.5);
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

mod private {
    pub trait Sealed {}
    impl Sealed for super::Error {}
    impl<T> Sealed for super::Result<T> {}
}

/// Adds context to an error (or to the error of a `Result`), as mlua's `ErrorContext`.
///
/// ```
/// use moonbox::{Error, ErrorContext};
///
/// let e = Error::runtime("no such file").context("loading config");
/// assert_eq!(e.to_string(), "loading config\nruntime error: no such file");
/// ```
pub trait ErrorContext: private::Sealed {
    /// Wraps the error with `context`.
    fn context<C: fmt::Display>(self, context: C) -> Self;
    /// Wraps the error with the context that `f` makes from it.
    fn with_context<C: fmt::Display>(self, f: impl FnOnce(&Error) -> C) -> Self;
}

impl ErrorContext for Error {
    fn context<C: fmt::Display>(self, context: C) -> Self {
        let context = context.to_string();
        match self {
            Error::WithContext { cause, .. } => Error::WithContext { context, cause },
            e => Error::WithContext { context, cause: Arc::new(e) },
        }
    }

    fn with_context<C: fmt::Display>(self, f: impl FnOnce(&Error) -> C) -> Self {
        let context = f(&self).to_string();
        self.context(context)
    }
}

impl<T> ErrorContext for Result<T> {
    fn context<C: fmt::Display>(self, context: C) -> Self {
        self.map_err(|e| e.context(context))
    }

    fn with_context<C: fmt::Display>(self, f: impl FnOnce(&Error) -> C) -> Self {
        self.map_err(|e| e.with_context(f))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::external(e)
    }
}

impl From<std::net::AddrParseError> for Error {
    fn from(e: std::net::AddrParseError) -> Error {
        Error::external(e)
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(e: std::str::Utf8Error) -> Error {
        Error::external(e)
    }
}

#[cfg(feature = "serde")]
impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::SerializeError(msg.to_string())
    }
}

#[cfg(feature = "serde")]
impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::DeserializeError(msg.to_string())
    }
}
