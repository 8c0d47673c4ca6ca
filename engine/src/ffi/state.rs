//! The `ffi` library's per-state data, kept in the libraries' extension
//! (`stdlib::LibState::ffi`) and traced with it.

use std::collections::HashMap;

use super::call::mem::Access;
use super::{CTState, CTypeId, Target};
use crate::gc::{GcRef, Marker};
use crate::object::Table;
use crate::stdlib::caps::FfiLevel;
use crate::value::Value;
use crate::vm::Vm;

/// A C library namespace (`ffi.C`, or what `ffi.load` returned).
pub struct Clib {
    /// Resolved names (cdata or numbers), as LuaJIT caches them.
    pub cache: GcRef<Table>,
    /// The loader's handle (`None`: the process's own symbols, or no symbols at all
    /// below the `calls` level).
    pub handle: Option<super::call::dl::Library>,
}

/// One Lua state's FFI.
pub struct FfiState {
    pub cts: CTState,
    pub level: FfiLevel,
    pub access: Access,
    /// `ffi.metatype` tables by C type id (attributes and references stripped).
    pub metatypes: HashMap<CTypeId, GcRef<Table>>,
    /// The metatable of `ffi.C` and of the libraries `ffi.load` returns.
    pub clib_mt: Option<GcRef<Table>>,
    /// Methods of callback function pointers (`cb:free()`, `cb:set(f)`).
    pub callback_mt: Option<GcRef<Table>>,
    /// The module table `require("ffi")` returns.
    pub module: Option<GcRef<Table>>,
    /// Library namespaces; index 0 is `ffi.C`.
    pub clibs: Vec<Clib>,
    /// Lua functions of live callbacks, by slot (nil: free).
    pub callback_fns: Vec<Value>,
    /// Result and parameter types of the callbacks, by slot.
    pub callback_sigs: Vec<(CTypeId, Vec<CTypeId>)>,
    /// An error raised inside a callback, raised again when the C call returns.
    pub pending_error: Option<crate::vm::LuaError>,
    /// `ffi.errno` where there is no C library errno (below the `calls` level).
    pub errno: i32,
    /// The native callback machinery (`calls` level only).
    pub callbacks: super::call::Callbacks,
    /// C functions the embedder granted (`ffi.C.name` below the `calls` level).
    pub grants: HashMap<Vec<u8>, super::grants::Grant>,
}

impl FfiState {
    // `Callbacks` is a unit struct where C calls are not built (nocall.rs).
    #[allow(clippy::default_constructed_unit_structs)]
    pub fn new(level: FfiLevel) -> FfiState {
        FfiState {
            cts: CTState::new(Target::host()),
            level,
            access: if level == FfiLevel::Calls { Access::Raw } else { Access::Checked },
            metatypes: HashMap::new(),
            clib_mt: None,
            callback_mt: None,
            module: None,
            clibs: Vec::new(),
            callback_fns: Vec::new(),
            callback_sigs: Vec::new(),
            pending_error: None,
            errno: 0,
            callbacks: super::call::Callbacks::default(),
            grants: HashMap::new(),
        }
    }

    /// Marks the GC references it holds.
    pub fn trace(&self, m: &mut Marker) {
        for &t in self.metatypes.values() {
            m.mark(t);
        }
        for t in [self.clib_mt, self.callback_mt, self.module].into_iter().flatten() {
            m.mark(t);
        }
        for c in &self.clibs {
            m.mark(c.cache);
        }
        for &f in &self.callback_fns {
            m.mark_value(f);
        }
    }
}

/// The state's FFI level (from the capabilities it was opened with). WebAssembly
/// builds (the browser, the sandbox's guest) have no C to call: at most `data`.
pub fn level(vm: &Vm) -> FfiLevel {
    let l = crate::stdlib::lib_ref(vm).map_or(FfiLevel::Off, |l| l.caps.ffi);
    if cfg!(target_family = "wasm") {
        l.min(FfiLevel::Data)
    } else {
        l
    }
}

/// The FFI state, made on first use.
pub fn st(vm: &mut Vm) -> &mut FfiState {
    let lvl = level(vm);
    let lib = crate::stdlib::lib(vm);
    lib.ffi.get_or_insert_with(|| Box::new(FfiState::new(lvl)))
}

/// The FFI state if it exists already.
pub fn st_ref(vm: &Vm) -> Option<&FfiState> {
    crate::stdlib::lib_ref(vm).and_then(|l| l.ffi.as_deref())
}

/// The type table.
pub fn cts(vm: &mut Vm) -> &mut CTState {
    &mut st(vm).cts
}
