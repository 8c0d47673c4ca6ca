//! Lua strings.

use std::borrow::Borrow;
use std::ffi::c_void;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use moonbox_engine::gc::{GcRef, LuaString as RawString};

use crate::error::{Error, Result};
use crate::lua::Inner;
use crate::sync::XRc;
use crate::value::Ref;

/// A handle to a Lua string: immutable bytes, not necessarily UTF-8 (mlua's
/// `mlua::String`; also exported as `LuaString`).
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
pub struct String(pub(crate) XRc<Ref>, GcRef<RawString>);

#[cfg(feature = "send")]
// SAFETY: the string object is immutable and kept alive by the anchor that `Ref`
// holds; only its bytes are read without the state's lock.
unsafe impl Send for String {}
#[cfg(feature = "send")]
// SAFETY: as above.
unsafe impl Sync for String {}

impl String {
    /// A handle for an anchored string.
    pub(crate) fn from_ref(r: XRc<Ref>) -> String {
        match r.raw.as_string() {
            Some(s) => String(r, s),
            None => unreachable!("String made from a non-string"),
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
    pub fn to_string_lossy(&self) -> std::string::String {
        std::string::String::from_utf8_lossy(&self.as_bytes()).into_owned()
    }

    /// Displays the contents, replacing invalid UTF-8.
    pub fn display(&self) -> impl fmt::Display + '_ {
        struct D<'a>(&'a String);
        impl fmt::Display for D<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", bstr::BStr::new(&*self.0.as_bytes()))
            }
        }
        D(self)
    }

    /// The bytes followed by a NUL (Lua strings keep one after their contents).
    pub fn as_bytes_with_nul(&self) -> Vec<u8> {
        let mut v = self.as_bytes().to_vec();
        v.push(0);
        v
    }

    /// The string's address (for identity and printing).
    pub fn to_pointer(&self) -> *const c_void {
        self.0.to_pointer()
    }

    /// Wraps bytes as something that converts into a Lua string.
    pub fn wrap(data: impl AsRef<[u8]>) -> impl crate::IntoLua {
        WrappedString(data.as_ref().to_vec())
    }
}

struct WrappedString(Vec<u8>);

impl crate::IntoLua for WrappedString {
    fn into_lua(self, lua: &crate::Lua) -> Result<crate::Value> {
        lua.create_string(&self.0).map(crate::Value::String)
    }
}

/// The bytes of a [`String`]; keeps the state alive while held.
pub struct BorrowedBytes<'a> {
    bytes: &'a [u8],
    _keep: Option<XRc<Inner>>,
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

/// The text of a [`String`]; keeps the state alive while held.
pub struct BorrowedStr<'a> {
    s: &'a str,
    _keep: Option<XRc<Inner>>,
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

impl fmt::Debug for String {
    /// As a Rust string literal when the bytes are UTF-8, else as `b"..."`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.as_bytes();
        match std::str::from_utf8(&b) {
            Ok(s) => fmt::Debug::fmt(s, f),
            Err(_) => {
                write!(f, "b")?;
                fmt::Debug::fmt(bstr::BStr::new(&*b), f)
            }
        }
    }
}

impl Eq for String {}

impl Hash for String {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialEq for String {
    fn eq(&self, o: &String) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<str> for String {
    fn eq(&self, o: &str) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<&str> for String {
    fn eq(&self, o: &&str) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<[u8]> for String {
    fn eq(&self, o: &[u8]) -> bool {
        *self.as_bytes() == *o
    }
}

/// A number as Lua's `tostring` writes it (`%.14g`, `inf`, `nan`).
pub(crate) fn number_to_string(n: f64) -> std::string::String {
    let mut out = Vec::new();
    moonbox_engine::vm::meta::write_basic(&mut out, moonbox_engine::Value::number(n));
    std::string::String::from_utf8_lossy(&out).into_owned()
}

impl PartialEq<std::string::String> for String {
    fn eq(&self, o: &std::string::String) -> bool {
        *self.as_bytes() == *o.as_bytes()
    }
}

impl PartialEq<[u8]> for BorrowedBytes<'_> {
    fn eq(&self, o: &[u8]) -> bool {
        self.bytes == o
    }
}

impl PartialEq<&[u8]> for BorrowedBytes<'_> {
    fn eq(&self, o: &&[u8]) -> bool {
        self.bytes == *o
    }
}

impl<const N: usize> PartialEq<[u8; N]> for BorrowedBytes<'_> {
    fn eq(&self, o: &[u8; N]) -> bool {
        self.bytes == o
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for BorrowedBytes<'_> {
    fn eq(&self, o: &&[u8; N]) -> bool {
        self.bytes == *o
    }
}

impl fmt::Debug for BorrowedBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(bstr::BStr::new(self.bytes), f)
    }
}

impl Borrow<[u8]> for BorrowedBytes<'_> {
    fn borrow(&self) -> &[u8] {
        self.bytes
    }
}

impl Borrow<str> for BorrowedStr<'_> {
    fn borrow(&self) -> &str {
        self.s
    }
}

impl PartialEq<std::string::String> for BorrowedStr<'_> {
    fn eq(&self, o: &std::string::String) -> bool {
        self.s == o
    }
}

impl PartialEq<BorrowedStr<'_>> for &str {
    fn eq(&self, o: &BorrowedStr<'_>) -> bool {
        *self == o.s
    }
}

impl<'a> IntoIterator for &'a BorrowedBytes<'_> {
    type Item = &'a u8;
    type IntoIter = std::slice::Iter<'a, u8>;
    fn into_iter(self) -> Self::IntoIter {
        self.bytes.iter()
    }
}
