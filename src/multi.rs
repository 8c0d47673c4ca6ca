//! Lists of values: [`MultiValue`] (arguments and results) and [`Variadic`].

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};

use crate::value::Value;

/// Several values: the arguments or results of a call (a `VecDeque`, as in mlua).
///
/// ```
/// use moonbox::{Lua, MultiValue, Value};
///
/// let lua = Lua::new();
/// let r: MultiValue = lua.load("return 1, 'two', nil").eval()?;
/// assert_eq!(r.len(), 3);
/// assert_eq!(r[0], Value::Integer(1));
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MultiValue(VecDeque<Value>);

impl MultiValue {
    /// No values.
    pub const fn new() -> MultiValue {
        MultiValue(VecDeque::new())
    }
    /// No values, with room for `capacity`.
    pub fn with_capacity(capacity: usize) -> MultiValue {
        MultiValue(VecDeque::with_capacity(capacity))
    }
    /// From a vector, first value first.
    pub fn from_vec(v: Vec<Value>) -> MultiValue {
        MultiValue(v.into())
    }
    /// The values, first value first.
    pub fn into_vec(self) -> Vec<Value> {
        self.0.into()
    }
}

impl Deref for MultiValue {
    type Target = VecDeque<Value>;
    fn deref(&self) -> &VecDeque<Value> {
        &self.0
    }
}

impl DerefMut for MultiValue {
    fn deref_mut(&mut self) -> &mut VecDeque<Value> {
        &mut self.0
    }
}

impl From<Vec<Value>> for MultiValue {
    fn from(v: Vec<Value>) -> Self {
        MultiValue::from_vec(v)
    }
}

impl From<MultiValue> for Vec<Value> {
    fn from(v: MultiValue) -> Self {
        v.into_vec()
    }
}

impl FromIterator<Value> for MultiValue {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        MultiValue(iter.into_iter().collect())
    }
}

impl IntoIterator for MultiValue {
    type Item = Value;
    type IntoIter = std::collections::vec_deque::IntoIter<Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a MultiValue {
    type Item = &'a Value;
    type IntoIter = std::collections::vec_deque::Iter<'a, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Any number of values of one type, as the last argument or result of a call.
///
/// ```
/// use moonbox::{Lua, Variadic};
///
/// let lua = Lua::new();
/// let sum = lua.create_function(|_, xs: Variadic<f64>| Ok(xs.iter().sum::<f64>()))?;
/// assert_eq!(sum.call::<f64>((1, 2, 3.5))?, 6.5);
/// # Ok::<(), moonbox::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variadic<T>(Vec<T>);

impl<T> Variadic<T> {
    /// No values.
    pub const fn new() -> Variadic<T> {
        Variadic(Vec::new())
    }
    /// No values, with room for `capacity`.
    pub fn with_capacity(capacity: usize) -> Variadic<T> {
        Variadic(Vec::with_capacity(capacity))
    }
}

impl<T> From<Vec<T>> for Variadic<T> {
    fn from(v: Vec<T>) -> Self {
        Variadic(v)
    }
}

impl<T> From<Variadic<T>> for Vec<T> {
    fn from(v: Variadic<T>) -> Self {
        v.0
    }
}

impl<T> FromIterator<T> for Variadic<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Variadic(iter.into_iter().collect())
    }
}

impl<T> IntoIterator for Variadic<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T> Deref for Variadic<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> DerefMut for Variadic<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}
