//! Chunks of Lua code: [`AsChunk`] (what [`Lua::load`] accepts) and [`Chunk`] (the
//! builder it returns).

use std::borrow::Cow;
use std::io::Result as IoResult;
use std::panic::Location;
use std::path::{Path, PathBuf};

use crate::conv::{FromLuaMulti, IntoLuaMulti};
use crate::error::{Error, Result};
use crate::state::Lua;
use crate::{Function, Table};

/// Something [`Lua::load`] can load: source text or bytes (`&str`, `String`, `&[u8]`,
/// `Vec<u8>`), a file (`&Path`, `PathBuf`: read when loaded, named `@path`), or what
/// the `chunk!` macro makes. The shape of mlua's trait.
pub trait AsChunk {
    /// The chunk's name (default: the caller's source position).
    fn name(&self) -> Option<String> {
        None
    }

    /// The chunk's environment (default: the globals).
    fn environment(&self, lua: &Lua) -> Result<Option<Table>> {
        let _ = lua;
        Ok(None)
    }

    /// Text or binary (default: detected).
    fn mode(&self) -> Option<ChunkMode> {
        None
    }

    /// The source.
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a;
}

impl AsChunk for &str {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a,
    {
        Ok(Cow::Borrowed(self.as_bytes()))
    }
}

impl AsChunk for String {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>> {
        Ok(Cow::Owned(self.clone().into_bytes()))
    }
}

impl AsChunk for &String {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a,
    {
        Ok(Cow::Borrowed(self.as_bytes()))
    }
}

impl AsChunk for &[u8] {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a,
    {
        Ok(Cow::Borrowed(self))
    }
}

impl<const N: usize> AsChunk for &[u8; N] {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a,
    {
        Ok(Cow::Borrowed(&self[..]))
    }
}

impl AsChunk for Vec<u8> {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>> {
        Ok(Cow::Owned(self.clone()))
    }
}

impl AsChunk for &Vec<u8> {
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a,
    {
        Ok(Cow::Borrowed(self))
    }
}

impl AsChunk for &Path {
    fn name(&self) -> Option<String> {
        Some(format!("@{}", self.display()))
    }
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>> {
        std::fs::read(self).map(Cow::Owned)
    }
}

impl AsChunk for PathBuf {
    fn name(&self) -> Option<String> {
        Some(format!("@{}", self.display()))
    }
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>> {
        std::fs::read(self).map(Cow::Owned)
    }
}

impl<C: AsChunk + ?Sized> AsChunk for Box<C> {
    fn name(&self) -> Option<String> {
        (**self).name()
    }
    fn environment(&self, lua: &Lua) -> Result<Option<Table>> {
        (**self).environment(lua)
    }
    fn mode(&self) -> Option<ChunkMode> {
        (**self).mode()
    }
    fn source<'a>(&self) -> IoResult<Cow<'a, [u8]>>
    where
        Self: 'a,
    {
        (**self).source()
    }
}

/// Whether a chunk is source text or a precompiled (binary) chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkMode {
    /// Source text.
    Text,
    /// A precompiled chunk (moonbox's binary format; verified before it runs, and
    /// refused by states without [`binary_chunks`](crate::Capabilities::binary_chunks)).
    Binary,
}

/// A chunk of Lua code being prepared to run (from [`Lua::load`]).
///
/// Chunk names follow Lua: `"=name"` is shown as `name`, `"@file.lua"` as a file name,
/// anything else as `[string "..."]`. The default name is the position of the
/// `load` call in the Rust source, as in mlua.
///
/// ```
/// use moonbox::{Error, Lua};
///
/// let lua = Lua::new();
/// let err = lua.load("error('bad')").set_name("=config").exec().unwrap_err();
/// assert!(err.to_string().contains("config:1: bad"));
/// # let _: Result<(), Error> = Ok(());
/// ```
pub struct Chunk<'a> {
    lua: Lua,
    name: String,
    env: Result<Option<Table>>,
    mode: Option<ChunkMode>,
    source: IoResult<Cow<'a, [u8]>>,
}

impl<'a> Chunk<'a> {
    pub(crate) fn new(lua: &Lua, chunk: impl AsChunk + 'a, location: &'static Location<'static>) -> Chunk<'a> {
        Chunk {
            lua: lua.clone(),
            name: chunk.name().unwrap_or_else(|| format!("@{}:{}", location.file(), location.line())),
            env: chunk.environment(lua),
            mode: chunk.mode(),
            source: chunk.source(),
        }
    }

    /// The chunk's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the chunk name used in error messages and tracebacks.
    pub fn set_name(mut self, name: impl Into<String>) -> Chunk<'a> {
        self.name = name.into();
        self
    }

    /// The chunk's environment, if one was set.
    pub fn environment(&self) -> Option<&Table> {
        self.env.as_ref().ok()?.as_ref()
    }

    /// Runs the chunk with `env` as its global environment instead of the globals.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let env = lua.create_table()?;
    /// lua.load("answer = 42").set_environment(env.clone()).exec()?;
    /// assert_eq!(env.get::<i32>("answer")?, 42);
    /// assert!(lua.globals().get::<Option<i32>>("answer")?.is_none());
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_environment(mut self, env: Table) -> Chunk<'a> {
        self.env = Ok(Some(env));
        self
    }

    /// The chunk's mode (detected unless set).
    pub fn mode(&self) -> ChunkMode {
        self.detect_mode()
    }

    /// Says whether the chunk is text or binary (detected by default). A chunk of the
    /// other kind then fails to load ("attempt to load a binary chunk").
    ///
    /// ```
    /// use moonbox::{ChunkMode, Lua};
    ///
    /// let lua = Lua::new();
    /// assert!(lua.load("return 1").set_mode(ChunkMode::Binary).exec().is_err());
    /// assert_eq!(lua.load("return 1").set_mode(ChunkMode::Text).eval::<i32>()?, 1);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_mode(mut self, mode: ChunkMode) -> Chunk<'a> {
        self.mode = Some(mode);
        self
    }

    fn detect_mode(&self) -> ChunkMode {
        if let Some(m) = self.mode {
            return m;
        }
        match &self.source {
            Ok(s) if moonbox_engine::compiler::dump::is_binary(s) => ChunkMode::Binary,
            _ => ChunkMode::Text,
        }
    }

    fn mode_bytes(&self) -> Option<&'static [u8]> {
        self.mode.map(|m| match m {
            ChunkMode::Text => &b"t"[..],
            ChunkMode::Binary => &b"b"[..],
        })
    }

    fn load(&self, source: &[u8]) -> Result<Function> {
        let env = match &self.env {
            Ok(e) => e.as_ref(),
            Err(e) => return Err(e.clone()),
        };
        self.lua.inner.load_chunk(source, self.name.as_bytes(), env, self.mode_bytes())
    }

    fn source_bytes(&self) -> Result<&[u8]> {
        match &self.source {
            Ok(s) => Ok(s),
            Err(e) => Err(Error::runtime(e)),
        }
    }

    /// Compiles the chunk into a function without running it.
    pub fn into_function(self) -> Result<Function> {
        self.load(self.source_bytes()?)
    }

    /// Runs the chunk, discarding its results.
    pub fn exec(self) -> Result<()> {
        self.into_function()?.call::<()>(())
    }

    /// Evaluates the chunk as an expression (`return <source>`), or, if that does not
    /// compile, runs it as statements; returns its results.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// assert_eq!(lua.load("1 + 2").eval::<i32>()?, 3);
    /// assert_eq!(lua.load("local x = 5 return x * 2").eval::<i32>()?, 10);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn eval<R: FromLuaMulti>(self) -> Result<R> {
        let source = self.source_bytes()?;
        if self.detect_mode() == ChunkMode::Text {
            let mut expr = b"return ".to_vec();
            expr.extend_from_slice(source);
            if let Ok(f) = self.load(&expr) {
                return f.call(());
            }
        }
        self.load(source)?.call(())
    }

    /// Runs the chunk with arguments (its `...`); returns its results.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let sum: f64 = lua.load("local a, b = ... return a + b").call((1, 2.5))?;
    /// assert_eq!(sum, 3.5);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn call<R: FromLuaMulti>(self, args: impl IntoLuaMulti) -> Result<R> {
        self.into_function()?.call(args)
    }

    /// Runs the chunk as an async call (see [`Function::call_async`]).
    #[cfg(feature = "async")]
    pub async fn exec_async(self) -> Result<()> {
        self.into_function()?.call_async::<()>(()).await
    }

    /// Evaluates the chunk as an async call (see [`Chunk::eval`]).
    #[cfg(feature = "async")]
    pub async fn eval_async<R: FromLuaMulti + 'static>(self) -> Result<R> {
        let source = self.source_bytes()?;
        if self.detect_mode() == ChunkMode::Text {
            let mut expr = b"return ".to_vec();
            expr.extend_from_slice(source);
            if let Ok(f) = self.load(&expr) {
                return f.call_async(()).await;
            }
        }
        let f = self.load(source)?;
        f.call_async(()).await
    }

    /// Runs the chunk with arguments as an async call.
    #[cfg(feature = "async")]
    pub async fn call_async<R: FromLuaMulti + 'static>(self, args: impl IntoLuaMulti) -> Result<R> {
        self.into_function()?.call_async(args).await
    }
}
