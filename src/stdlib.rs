//! [`StdLib`]: which standard libraries [`Lua::new_with`](crate::Lua::new_with) opens.

use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, BitXor, BitXorAssign};

use crate::capabilities::Capabilities;
use crate::error::Result;
use crate::state::Lua;
use crate::value::Value;
use crate::Table;

/// A set of standard libraries, as mlua's `StdLib` flags. The base library is always
/// opened. `IO`, `OS`, `PACKAGE` and `DEBUG` also decide the matching
/// [`Capabilities`]; the others are plain tables of pure functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StdLib(u32);

impl StdLib {
    /// `coroutine`
    pub const COROUTINE: StdLib = StdLib(1);
    /// `table`
    pub const TABLE: StdLib = StdLib(1 << 1);
    /// `io`
    pub const IO: StdLib = StdLib(1 << 2);
    /// `os`
    pub const OS: StdLib = StdLib(1 << 3);
    /// `string`
    pub const STRING: StdLib = StdLib(1 << 4);
    /// `bit`
    pub const BIT: StdLib = StdLib(1 << 6);
    /// `math`
    pub const MATH: StdLib = StdLib(1 << 7);
    /// `package`
    pub const PACKAGE: StdLib = StdLib(1 << 8);
    /// `jit`
    pub const JIT: StdLib = StdLib(1 << 11);
    /// `ffi` (not available through `StdLib` in moonbox)
    pub const FFI: StdLib = StdLib(1 << 30);
    /// `debug`
    pub const DEBUG: StdLib = StdLib(1 << 31);
    /// No library but the base one.
    pub const NONE: StdLib = StdLib(0);
    /// Every library.
    pub const ALL: StdLib = StdLib(u32::MAX);
    /// Every library but `ffi` and `debug` (mlua's default set).
    pub const ALL_SAFE: StdLib = StdLib((1 << 30) - 1);

    /// Does the set contain `lib`?
    pub fn contains(self, lib: StdLib) -> bool {
        (self & lib).0 != 0
    }

    /// The capabilities these libraries imply.
    pub(crate) fn capabilities(self) -> Capabilities {
        let mut caps = Capabilities::full()
            .io(self.contains(StdLib::IO))
            .popen(self.contains(StdLib::IO))
            .os(self.contains(StdLib::OS))
            .package_paths(self.contains(StdLib::PACKAGE));
        if !self.contains(StdLib::DEBUG) {
            caps = caps.debug(crate::DebugLevel::Traceback);
        }
        caps
    }

    /// Removes the libraries that were opened but not asked for.
    pub(crate) fn remove_unrequested(self, lua: &Lua) -> Result<()> {
        let globals = lua.globals();
        let loaded: Option<Table> = lua.named_registry_value("_LOADED").ok().flatten();
        let loaded = match loaded {
            Some(t) => Some(t),
            None => globals.raw_get::<Option<Table>>("package").ok().flatten().and_then(|p| p.raw_get("loaded").ok()),
        };
        for (lib, name) in [
            (StdLib::COROUTINE, "coroutine"),
            (StdLib::TABLE, "table"),
            (StdLib::IO, "io"),
            (StdLib::OS, "os"),
            (StdLib::STRING, "string"),
            (StdLib::BIT, "bit"),
            (StdLib::MATH, "math"),
            (StdLib::PACKAGE, "package"),
            (StdLib::JIT, "jit"),
            (StdLib::DEBUG, "debug"),
        ] {
            if !self.contains(lib) {
                globals.raw_set(name, Value::Nil)?;
                if let Some(l) = &loaded {
                    l.raw_set(name, Value::Nil)?;
                }
            }
        }
        Ok(())
    }
}

impl BitAnd for StdLib {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        StdLib(self.0 & rhs.0)
    }
}

impl BitAndAssign for StdLib {
    fn bitand_assign(&mut self, rhs: Self) {
        *self = *self & rhs;
    }
}

impl BitOr for StdLib {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        StdLib(self.0 | rhs.0)
    }
}

impl BitOrAssign for StdLib {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = *self | rhs;
    }
}

impl BitXor for StdLib {
    type Output = Self;
    fn bitxor(self, rhs: Self) -> Self {
        StdLib(self.0 ^ rhs.0)
    }
}

impl BitXorAssign for StdLib {
    fn bitxor_assign(&mut self, rhs: Self) {
        *self = *self ^ rhs;
    }
}
