//! The standard library: base, coroutine, string, table, math, bit, os, io,
//! package, debug, jit.
//!
//! Every library function is a `NativeFn`: it reads its arguments from the stack with
//! the `check_*` / `opt_*` helpers below (which produce LuaJIT's "bad argument"
//! messages) and pushes its results.

pub mod base;
pub mod bit;
pub mod buffer;
pub mod caps;
pub mod coroutine;
pub mod debug;
pub mod fs;
pub mod io;
pub mod jit;
pub mod jit_util;
pub mod math;
pub mod os;
pub mod package;
pub mod pattern;
pub mod strformat;
pub mod string;
pub mod table;

#[cfg(test)]
mod smoke_tests;

use crate::gc::{GcRef, LuaString, Marker};
use crate::object::Table;
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm};

/// Per-state data the libraries keep outside Lua tables (held by the VM as its
/// library extension, see [`Vm::ext`]).
#[derive(Default)]
pub struct LibState {
    /// `package.loaded`.
    pub loaded: Option<GcRef<Table>>,
    /// The capabilities the libraries were opened with.
    pub caps: caps::Caps,
    /// How files are opened: ambiently (with `io`) or through directory grants.
    pub files: fs::FileAccess,
    /// The `ffi` library's state (made on first use).
    pub ffi: Option<Box<crate::ffi::FfiState>>,
}

impl crate::vm::Extension for LibState {
    fn trace(&self, m: &mut Marker) {
        if let Some(t) = self.loaded {
            m.mark(t);
        }
        if let Some(f) = &self.ffi {
            f.trace(m);
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// The libraries' per-state data, to read (`None` if the libraries were never
/// opened).
pub fn lib_ref(vm: &Vm) -> Option<&LibState> {
    vm.ext.as_ref().and_then(|e| e.as_any().downcast_ref::<LibState>())
}

/// The libraries' per-state data (created empty if the libraries were never opened).
pub fn lib(vm: &mut Vm) -> &mut LibState {
    if vm.ext.as_ref().and_then(|e| e.as_any().downcast_ref::<LibState>()).is_none() {
        vm.ext = Some(Box::new(LibState::default()));
    }
    match vm.ext.as_mut().and_then(|e| e.as_any_mut().downcast_mut::<LibState>()) {
        Some(l) => l,
        None => unreachable!("just installed"),
    }
}

/// A state with the full standard library (trusted, as `luajit`).
///
/// # Safety
/// As [`Vm::new_bare`].
pub unsafe fn new_state() -> Vm {
    // SAFETY: the caller's contract is passed on.
    let mut vm = unsafe { Vm::new_bare() };
    open_all(&mut vm);
    vm
}

/// A state for the engine's own unit tests.
#[cfg(test)]
pub(crate) fn test_vm() -> Vm {
    // SAFETY: each test owns its state for the test's duration, uses handles only
    // while it lives, and holds none across a top-level collection that it uses
    // afterwards (values it checks are results read right after each call).
    unsafe { new_state() }
}

/// Opens every library into the globals, with every capability (the `luajit` set).
pub fn open_all(vm: &mut Vm) {
    open_with(vm, &caps::Caps::full());
}

/// Opens the libraries into the globals with what `caps` grants: a function that
/// reaches outside the state is registered only if granted (see [`caps`]).
pub fn open_with(vm: &mut Vm, caps: &caps::Caps) {
    crate::stdlib::lib(vm).caps = caps.clone();
    crate::stdlib::lib(vm).files = fs::FileAccess::new(caps.io, &caps.dirs);
    vm.allow_binary = caps.binary_chunks;
    let loaded = vm.new_table(0, 16);
    crate::stdlib::lib(vm).loaded = Some(loaded);
    base::open(vm);
    coroutine::open(vm);
    bit::open(vm);
    math::open(vm);
    jit::open(vm);
    jit_util::open(vm);
    package::open(vm);
    table::open(vm);
    os::open(vm);
    io::open(vm);
    debug::open(vm);
    string::open(vm);
    crate::ffi::lib::open(vm);
}

/// Registers `funcs` in a new global table `name` (and in `package.loaded`).
pub fn register_lib(vm: &mut Vm, name: &str, funcs: &[(&'static str, NativeFn)]) -> GcRef<Table> {
    register_lib_granted(vm, name, funcs, |_| true)
}

/// [`register_lib`] for the functions whose name `granted` accepts.
pub fn register_lib_granted(
    vm: &mut Vm,
    name: &str,
    funcs: &[(&'static str, NativeFn)],
    granted: impl Fn(&str) -> bool,
) -> GcRef<Table> {
    let t = vm.new_table(0, funcs.len());
    for &(n, f) in funcs.iter().filter(|(n, _)| granted(n)) {
        let fv = vm.native(f, n);
        vm.set_field(t, n, fv);
    }
    let g = vm.globals;
    vm.set_field(g, name, t.to_value());
    if let Some(l) = crate::stdlib::lib(vm).loaded {
        vm.set_field(l, name, t.to_value());
    }
    t
}

/// The type name used in "bad argument" messages ("no value" past the end).
fn arg_type_name(vm: &Vm, base: usize, nargs: usize, i: usize) -> &'static str {
    if i >= nargs {
        "no value"
    } else {
        vm.stack[base + i].type_name()
    }
}

impl Vm {
    /// "bad argument #i (<expected> expected, got <type>)".
    #[cold]
    pub fn type_arg_error(&mut self, base: usize, nargs: usize, i: usize, expected: &str) -> crate::vm::LuaError {
        let got = arg_type_name(self, base, nargs, i);
        self.arg_error(i + 1, &format!("{expected} expected, got {got}"))
    }

    /// Argument `i` (0-based) must be present.
    pub fn check_any(&mut self, base: usize, nargs: usize, i: usize) -> LResult<Value> {
        if i >= nargs {
            return Err(self.arg_error(i + 1, "value expected"));
        }
        Ok(self.stack[base + i])
    }

    pub fn check_table(&mut self, base: usize, nargs: usize, i: usize) -> LResult<GcRef<Table>> {
        match self.arg(base, nargs, i).as_table() {
            Some(t) => Ok(t),
            None => Err(self.type_arg_error(base, nargs, i, "table")),
        }
    }

    /// A number, or a string convertible to one. The number itself is checked
    /// inline (every math function starts here); the rest is out of line.
    #[inline]
    pub fn check_number(&mut self, base: usize, nargs: usize, i: usize) -> LResult<f64> {
        let v = self.arg(base, nargs, i);
        if v.is_number() {
            return Ok(v.num());
        }
        self.check_number_slow(v, base, nargs, i)
    }

    #[inline(never)]
    fn check_number_slow(&mut self, v: Value, base: usize, nargs: usize, i: usize) -> LResult<f64> {
        match Vm::to_arith_number(v) {
            Some(n) => Ok(n),
            None => Err(self.type_arg_error(base, nargs, i, "number")),
        }
    }

    pub fn opt_number(&mut self, base: usize, nargs: usize, i: usize, def: f64) -> LResult<f64> {
        if self.arg(base, nargs, i).is_nil() {
            Ok(def)
        } else {
            self.check_number(base, nargs, i)
        }
    }

    /// An integer argument (truncated toward zero, as LuaJIT's `lj_lib_checkint`).
    pub fn check_int(&mut self, base: usize, nargs: usize, i: usize) -> LResult<i64> {
        let n = self.check_number(base, nargs, i)?;
        Ok(num_to_int(n))
    }

    pub fn opt_int(&mut self, base: usize, nargs: usize, i: usize, def: i64) -> LResult<i64> {
        if self.arg(base, nargs, i).is_nil() {
            Ok(def)
        } else {
            self.check_int(base, nargs, i)
        }
    }

    /// A string, or a number converted to one.
    pub fn check_str(&mut self, base: usize, nargs: usize, i: usize) -> LResult<GcRef<LuaString>> {
        let v = self.arg(base, nargs, i);
        if let Some(s) = v.as_string() {
            return Ok(s);
        }
        if v.is_number() {
            let b = self.tostring_basic(v);
            let s = self.intern(&b);
            // Write it back so the string stays rooted by the argument slot.
            self.stack[base + i] = s.to_value();
            return Ok(s);
        }
        Err(self.type_arg_error(base, nargs, i, "string"))
    }

    pub fn opt_str(&mut self, base: usize, nargs: usize, i: usize) -> LResult<Option<GcRef<LuaString>>> {
        if self.arg(base, nargs, i).is_nil() {
            Ok(None)
        } else {
            self.check_str(base, nargs, i).map(Some)
        }
    }

    /// A function argument.
    pub fn check_function(&mut self, base: usize, nargs: usize, i: usize) -> LResult<Value> {
        let v = self.arg(base, nargs, i);
        if v.is_function() {
            Ok(v)
        } else {
            Err(self.type_arg_error(base, nargs, i, "function"))
        }
    }

    /// Writes bytes to the state's standard output.
    pub fn write_stdout(&mut self, b: &[u8]) {
        if let Some(out) = self.output.as_mut() {
            out(b);
        } else {
            use std::io::Write;
            let _ = std::io::stdout().write_all(b);
        }
    }
}

/// Number to integer as LuaJIT's argument checks do (truncation, saturating).
pub fn num_to_int(n: f64) -> i64 {
    if n.is_nan() {
        0
    } else {
        n as i64
    }
}
