//! Small public types: numbers, light userdata, app data, registry keys, `Either`.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use parking_lot::{ArcRwLockReadGuard, ArcRwLockWriteGuard, RawRwLock, RwLock};

use crate::error::{Error, Result};
use crate::value::Value;

pub use either::Either;

/// A Lua integer. LuaJIT's numbers are doubles; a number with an exact `i64` value is
/// shown to Rust as [`Value::Integer`], as mlua's `luajit` feature does.
pub type Integer = i64;
/// A Lua number (a double).
pub type Number = f64;

/// A light userdata: an opaque pointer-sized value that Lua stores but never
/// dereferences (only the low 47 bits survive the round trip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LightUserData(pub *mut c_void);

#[cfg(feature = "send")]
// SAFETY: a light userdata is an opaque number that nothing dereferences.
unsafe impl Send for LightUserData {}
#[cfg(feature = "send")]
// SAFETY: as above.
unsafe impl Sync for LightUserData {}

/// What a hook tells the VM to do next (see [`Lua::set_hook`](crate::Lua::set_hook)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmState {
    /// Go on.
    Continue,
    /// Yield the current coroutine (not supported from hooks by LuaJIT: treated as
    /// `Continue`).
    Yield,
}

/// `Send` when the `send` feature is on, nothing otherwise: the bound on callbacks
/// and userdata.
#[cfg(feature = "send")]
pub trait MaybeSend: Send {}
#[cfg(feature = "send")]
impl<T: Send> MaybeSend for T {}

/// `Send` when the `send` feature is on, nothing otherwise: the bound on callbacks
/// and userdata.
#[cfg(not(feature = "send"))]
pub trait MaybeSend {}
#[cfg(not(feature = "send"))]
impl<T> MaybeSend for T {}

/// `Sync` when the `send` feature is on, nothing otherwise: the extra bound on
/// userdata values under `send` (they may be borrowed from several threads; mlua
/// asks only `Send` there).
#[cfg(feature = "send")]
pub trait MaybeSync: Sync {}
#[cfg(feature = "send")]
impl<T: Sync> MaybeSync for T {}

/// `Sync` when the `send` feature is on, nothing otherwise.
#[cfg(not(feature = "send"))]
pub trait MaybeSync {}
#[cfg(not(feature = "send"))]
impl<T> MaybeSync for T {}

#[cfg(feature = "send")]
pub(crate) type AnyBox = Box<dyn Any + Send>;
#[cfg(not(feature = "send"))]
pub(crate) type AnyBox = Box<dyn Any>;

/// A mutex for `FnMut` callbacks: a second call while one runs is refused.
pub(crate) struct XRefCell<T>(parking_lot::Mutex<T>);

impl<T> XRefCell<T> {
    pub(crate) fn new(v: T) -> XRefCell<T> {
        XRefCell(parking_lot::Mutex::new(v))
    }
    pub(crate) fn try_borrow_mut(&self) -> Option<parking_lot::MutexGuard<'_, T>> {
        self.0.try_lock()
    }
}

type Slot = Arc<RwLock<AnyBox>>;

/// The app data container of a state.
#[derive(Default)]
pub(crate) struct AppData {
    map: RefCell<HashMap<TypeId, Slot>>,
}

impl AppData {
    fn slot<T: 'static>(&self) -> Option<Slot> {
        self.map.try_borrow().ok()?.get(&TypeId::of::<T>()).cloned()
    }

    pub(crate) fn insert<T: MaybeSend + 'static>(&self, data: T) -> Option<T> {
        // An `Arc` in every build, so that the `send` build shares this code.
        #[allow(clippy::arc_with_non_send_sync)]
        let new: Slot = Arc::new(RwLock::new(Box::new(data)));
        let old = match self.map.try_borrow_mut() {
            Ok(mut m) => m.insert(TypeId::of::<T>(), new),
            Err(_) => None,
        };
        // The old value is dropped (or returned) after the map is released.
        let old = Arc::try_unwrap(old?).ok()?;
        old.into_inner().downcast::<T>().ok().map(|b| *b)
    }

    pub(crate) fn remove<T: 'static>(&self) -> Option<T> {
        let old = self.map.try_borrow_mut().ok()?.remove(&TypeId::of::<T>())?;
        let old = Arc::try_unwrap(old).ok()?;
        old.into_inner().downcast::<T>().ok().map(|b| *b)
    }

    pub(crate) fn borrow<T: 'static>(&self) -> Option<AppDataRef<'_, T>> {
        self.try_borrow().ok().flatten()
    }

    pub(crate) fn try_borrow<T: 'static>(&self) -> Result<Option<AppDataRef<'_, T>>> {
        let Some(slot) = self.slot::<T>() else { return Ok(None) };
        match RwLock::try_read_arc(&slot) {
            Some(guard) if guard.is::<T>() => Ok(Some(AppDataRef { guard, _p: PhantomData })),
            Some(_) => Ok(None),
            None => Err(Error::runtime("app data is already mutably borrowed")),
        }
    }

    pub(crate) fn borrow_mut<T: 'static>(&self) -> Option<AppDataRefMut<'_, T>> {
        self.try_borrow_mut().ok().flatten()
    }

    pub(crate) fn try_borrow_mut<T: 'static>(&self) -> Result<Option<AppDataRefMut<'_, T>>> {
        let Some(slot) = self.slot::<T>() else { return Ok(None) };
        match RwLock::try_write_arc(&slot) {
            Some(guard) if guard.is::<T>() => Ok(Some(AppDataRefMut { guard, _p: PhantomData })),
            Some(_) => Ok(None),
            None => Err(Error::runtime("app data is already borrowed")),
        }
    }
}

/// A shared borrow of app data (see [`Lua::app_data_ref`](crate::Lua::app_data_ref)).
pub struct AppDataRef<'a, T: ?Sized + 'a> {
    guard: ArcRwLockReadGuard<RawRwLock, AnyBox>,
    _p: PhantomData<(&'a (), *const T)>,
}

impl<T: 'static> Deref for AppDataRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self.guard.downcast_ref::<T>() {
            Some(t) => t,
            None => unreachable!("app data is stored under its own type id"),
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for AppDataRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: fmt::Display + 'static> fmt::Display for AppDataRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// A mutable borrow of app data (see [`Lua::app_data_mut`](crate::Lua::app_data_mut)).
pub struct AppDataRefMut<'a, T: ?Sized + 'a> {
    guard: ArcRwLockWriteGuard<RawRwLock, AnyBox>,
    _p: PhantomData<(&'a (), *mut T)>,
}

impl<T: 'static> Deref for AppDataRefMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self.guard.downcast_ref::<T>() {
            Some(t) => t,
            None => unreachable!("app data is stored under its own type id"),
        }
    }
}

impl<T: 'static> DerefMut for AppDataRefMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self.guard.downcast_mut::<T>() {
            Some(t) => t,
            None => unreachable!("app data is stored under its own type id"),
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for AppDataRefMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// A value kept alive by the state until the key is dropped (see
/// [`Lua::create_registry_value`](crate::Lua::create_registry_value)).
pub struct RegistryKey {
    lua_id: u64,
    value: Value,
}

impl RegistryKey {
    pub(crate) fn new(lua_id: u64, value: Value) -> RegistryKey {
        RegistryKey { lua_id, value }
    }
    pub(crate) fn lua_id(&self) -> u64 {
        self.lua_id
    }
    pub(crate) fn value(&self) -> Value {
        self.value.clone()
    }
    pub(crate) fn replace(&mut self, v: Value) {
        self.value = v;
    }

    /// An identifier of the key (moonbox keys have none in the Lua registry; this is
    /// derived from the value's identity).
    pub fn id(&self) -> i32 {
        self.value.to_pointer() as usize as i32
    }
}

impl fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryKey({:?})", self.value)
    }
}
