//! Lua strings.

use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

use moonbox_engine::gc::{GcRef, LuaString as RawString};

use crate::error::{Error, Result};
use crate::lua::Inner;
use crate::value::Ref;

/// A handle to a Lua string: immutable bytes, not necessarily UTF-8.
///
/// ```
/// use moonbox::{Lua, LuaString};
///
/// let lua = Lua::new();
/// let s: LuaString = lua.load("'caf\\195\\169'").eval()?;
/// assert_eq!(s.to_str()?, "café");
/// assert_eq!(s.as_bytes().len(), 5);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone)]
pub struct LuaString(pub(crate) Rc<Ref>, GcRef<RawString>);

impl LuaString {
    /// A handle for an anchored string.
    pub(crate) fn from_ref(r: Rc<Ref>) -> LuaString {
        match r.raw.as_string() {
            Some(s) => LuaString(r, s),
            None => unreachable!("LuaString made from a non-string"),
        }
    }

    /// The bytes. The guard keeps the state alive while it is held. After the `Lua` has
    /// been dropped the slice is empty.
    pub fn as_bytes(&self) -> BorrowedBytes<'_> {
        match self.0.inner.upgrade() {
            // The handle anchors the string and the guard keeps the heap alive, so the
            // object outlives the borrow; strings are immutable.
            Some(inner) => BorrowedBytes { bytes: self.1.as_bytes(), _keep: Some(inner) },
            None => BorrowedBytes { bytes: &[], _keep: None },
        }
    }

    /// The contents as `&str`, if they are valid UTF-8.
    pub fn to_str(&self) -> Result<BorrowedStr<'_>> {
        if self.0.inner.upgrade().is_none() {
            return Err(Error::StateDropped);
        }
        let b = self.as_bytes();
        match std::str::from_utf8(b.bytes) {
            Ok(s) => Ok(BorrowedStr { s, _keep: b._keep }),
            Err(e) => Err(Error::from_lua_conversion("string", "&str", Some(e.to_string()))),
        }
    }

    /// The contents as a `String`, replacing invalid UTF-8.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.as_bytes()).into_owned()
    }
}

/// The bytes of a [`LuaString`]; keeps the state alive while held.
pub struct BorrowedBytes<'a> {
    bytes: &'a [u8],
    _keep: Option<Rc<Inner>>,
}

impl Deref for BorrowedBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl AsRef<[u8]> for BorrowedBytes<'_> {
    fn as_ref(&self) -> &[u8] {
        self.bytes
    }
}

/// The text of a [`LuaString`]; keeps the state alive while held.
pub struct BorrowedStr<'a> {
    s: &'a str,
    _keep: Option<Rc<Inner>>,
}

impl Deref for BorrowedStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.s
    }
}

impl AsRef<str> for BorrowedStr<'_> {
    fn as_ref(&self) -> &str {
        self.s
    }
}

impl fmt::Display for BorrowedStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.s)
    }
}

impl fmt::Debug for BorrowedStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.s, f)
    }
}

impl PartialEq<str> for BorrowedStr<'_> {
    fn eq(&self, o: &str) -> bool {
        self.s == o
    }
}

impl PartialEq<&str> for BorrowedStr<'_> {
    fn eq(&self, o: &&str) -> bool {
        self.s == *o
    }
}

impl fmt::Debug for LuaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.as_bytes()))
    }
}

impl PartialEq for LuaString {
    fn eq(&self, o: &LuaString) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<str> for LuaString {
    fn eq(&self, o: &str) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<&str> for LuaString {
    fn eq(&self, o: &&str) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<[u8]> for LuaString {
    fn eq(&self, o: &[u8]) -> bool {
        *self.as_bytes() == *o
    }
}

/// A number as Lua's `tostring` writes it (`%.14g`, `inf`, `nan`).
pub(crate) fn number_to_string(n: f64) -> String {
    let mut out = Vec::new();
    moonbox_engine::vm::meta::write_basic(&mut out, moonbox_engine::Value::number(n));
    String::from_utf8_lossy(&out).into_owned()
}
