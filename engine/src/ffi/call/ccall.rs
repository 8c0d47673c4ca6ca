//! Calls into C and Lua functions as C callbacks, through libffi (the `libffi`
//! crate, built from its bundled sources: see ARCHITECTURE.md).
//!
//! The library describes a call with [`CType`]s and argument bytes (converted
//! from Lua values by the safe conversion code); this module builds libffi's
//! call interface, calls, and hands the result bytes back. Callbacks are libffi
//! closures whose handler finds the running state through a thread-local set for
//! the duration of every outbound call, and runs the Lua function through the
//! library (`lib::run_callback`), safe code again.
//!
//! Everything here runs only at the `calls` level: the state's owner trusts the
//! script with the process (a wrong signature or pointer may crash it, as in
//! LuaJIT).

use std::cell::Cell;
use std::ffi::c_void;

use libffi::low;
use libffi::middle::{Arg, Cif, CodePtr, Ret, Type};

use crate::vm::Vm;

/// A C type as the calling convention sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum CType {
    Void,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    Ptr,
    /// A struct (or union, or complex number) passed by value: its members in
    /// order, nested aggregates flattened the way the ABI classifies them, and
    /// its size in bytes.
    Struct(Vec<CType>, usize),
}

impl CType {
    fn ffi(&self) -> Type {
        match self {
            CType::Void => Type::void(),
            CType::I8 => Type::i8(),
            CType::U8 => Type::u8(),
            CType::I16 => Type::i16(),
            CType::U16 => Type::u16(),
            CType::I32 => Type::i32(),
            CType::U32 => Type::u32(),
            CType::I64 => Type::i64(),
            CType::U64 => Type::u64(),
            CType::F32 => Type::f32(),
            CType::F64 => Type::f64(),
            CType::Ptr => Type::pointer(),
            CType::Struct(fields, _) => Type::structure(fields.iter().map(CType::ffi)),
        }
    }

    /// Bytes of a value of this type as libffi stores it (small integers are
    /// widened to a full word in return values).
    fn size(&self) -> usize {
        match self {
            CType::Void => 0,
            CType::I8 | CType::U8 => 1,
            CType::I16 | CType::U16 => 2,
            CType::I32 | CType::U32 | CType::F32 => 4,
            CType::I64 | CType::U64 | CType::F64 | CType::Ptr => 8,
            CType::Struct(_, size) => *size,
        }
    }

    fn is_small_int(&self) -> Option<(usize, bool)> {
        match self {
            CType::I8 => Some((1, true)),
            CType::U8 => Some((1, false)),
            CType::I16 => Some((2, true)),
            CType::U16 => Some((2, false)),
            CType::I32 => Some((4, true)),
            CType::U32 => Some((4, false)),
            _ => None,
        }
    }
}

thread_local! {
    /// The state making the outbound C call in progress on this thread (null: none).
    static CURRENT_VM: Cell<*mut Vm> = const { Cell::new(std::ptr::null_mut()) };
}

/// Calls the C function at `addr` with `args` (their types and bytes; the first
/// `nfixed` are the fixed parameters of a vararg function, `None`: not vararg),
/// returning the result's bytes.
pub fn call(vm: &mut Vm, addr: usize, ret: &CType, args: &[(CType, Vec<u8>)], nfixed: Option<usize>) -> Vec<u8> {
    let types: Vec<Type> = args.iter().map(|(t, _)| t.ffi()).collect();
    let cif = match nfixed {
        Some(n) => Cif::new_variadic(types, n, ret.ffi()),
        None => Cif::new(types, ret.ffi()),
    };
    // Argument buffers, each at least a word and 16-byte aligned.
    let bufs: Vec<Vec<u128>> = args
        .iter()
        .map(|(_, b)| {
            let mut w = vec![0u128; b.len().div_ceil(16).max(1)];
            let dst = bytes_of_mut(&mut w);
            dst[..b.len()].copy_from_slice(b);
            w
        })
        .collect();
    let argv: Vec<Arg> = bufs.iter().map(|w| Arg::new(&w[0])).collect();
    let rsize = ret.size().max(16);
    let mut rbuf = vec![0u128; rsize.div_ceil(16)];
    let prev = CURRENT_VM.with(|c| c.replace(vm as *mut Vm));
    // SAFETY: the `calls` level trusts the script's declaration of the function
    // at `addr` (as LuaJIT does): `cif` describes exactly the argument and result
    // types converted from it, `argv` points at one buffer per argument holding
    // a value of that type, and `rbuf` is at least as large (and aligned) as the
    // result or libffi's word-sized integer return slot. During the call the
    // state is only reached through `CURRENT_VM` (callbacks), while `vm` itself
    // is not used: it is used again only after the pointer is withdrawn.
    unsafe {
        if ret == &CType::Void {
            cif.call_return_into(CodePtr(addr as *mut c_void), &argv, Ret::void());
        } else {
            cif.call_return_into(CodePtr(addr as *mut c_void), &argv, Ret::new(&mut rbuf[0]));
        }
    }
    CURRENT_VM.with(|c| c.set(prev));
    let mut out = bytes_of(&rbuf)[..ret.size()].to_vec();
    if let Some((n, _)) = ret.is_small_int() {
        out.truncate(n);
    }
    out
}

fn bytes_of(w: &[u128]) -> &[u8] {
    // SAFETY: any initialised `u128`s are valid bytes; the length covers them.
    unsafe { std::slice::from_raw_parts(w.as_ptr().cast::<u8>(), w.len() * 16) }
}

fn bytes_of_mut(w: &mut [u128]) -> &mut [u8] {
    // SAFETY: as above; the exclusive borrow is handed on.
    unsafe { std::slice::from_raw_parts_mut(w.as_mut_ptr().cast::<u8>(), w.len() * 16) }
}

/// The C library's `errno`.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets the C library's `errno`.
pub fn set_errno(v: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: `__errno_location` returns this thread's `errno`, always valid.
    unsafe {
        *libc::__errno_location() = v;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

/// The C library's `setlocale` for category `cat` (`LC_ALL`, `LC_CTYPE`, ...
/// by name: "all", "ctype", "numeric", "time", "collate", "monetary"): sets
/// `name` (or only queries, for `None`) and returns the locale now in effect, or
/// `None` if the C library refuses. The engine's own string and number functions do
/// not depend on it; C functions called through the FFI (`towupper`) do.
pub fn set_c_locale(cat: &[u8], name: Option<&[u8]>) -> Option<Vec<u8>> {
    let cat = match cat {
        b"all" => libc::LC_ALL,
        b"ctype" => libc::LC_CTYPE,
        b"numeric" => libc::LC_NUMERIC,
        b"time" => libc::LC_TIME,
        b"collate" => libc::LC_COLLATE,
        b"monetary" => libc::LC_MONETARY,
        _ => return None,
    };
    let name = match name {
        Some(n) => Some(std::ffi::CString::new(n).ok()?),
        None => None,
    };
    let arg = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
    // SAFETY: `arg` is NULL or a NUL-terminated string alive for the call; the
    // result is NULL or a NUL-terminated string that stays valid until the next
    // `setlocale` call, and is copied before returning.
    unsafe {
        let r = libc::setlocale(cat, arg);
        if r.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(r).to_bytes().to_vec())
    }
}

/// What a callback's handler needs: its slot and signature.
struct Ctx {
    slot: usize,
    args: Vec<CType>,
    ret: CType,
}

struct Slot {
    closure: *mut low::ffi_closure,
    code: usize,
    /// The call interface the closure was prepared with (libffi keeps pointers
    /// into it, and into the types it owns).
    _cif: Box<Cif>,
    _ctx: Box<Ctx>,
}

/// The live callbacks of a state.
#[derive(Default)]
pub struct Callbacks {
    slots: Vec<Option<Slot>>,
}

impl Callbacks {
    /// A new C function pointer of signature `ret (args...)` that calls the Lua
    /// function in callback slot `slot` (returned with the code address).
    pub fn create(&mut self, ret: CType, args: Vec<CType>) -> Option<(usize, usize)> {
        let slot = self.slots.len();
        let cif = Box::new(Cif::new(args.iter().map(CType::ffi), ret.ffi()));
        let ctx = Box::new(Ctx { slot, args, ret });
        let (closure, code) = low::try_closure_alloc().filter(|(c, _)| !c.is_null())?;
        // SAFETY: `closure` was just allocated by libffi; `cif` and `ctx` are
        // boxed and kept in the slot until the closure is freed, so the pointers
        // libffi stores stay valid for the closure's life.
        let ok = unsafe { low::prep_closure(closure, cif.as_raw_ptr(), handler, &*ctx as *const Ctx, code).is_ok() };
        if !ok {
            // SAFETY: allocated above, never handed out.
            unsafe { low::closure_free(closure) };
            return None;
        }
        let code_addr = code.as_ptr() as usize;
        let s = Slot { closure, code: code_addr, _cif: cif, _ctx: ctx };
        self.slots.push(Some(s));
        Some((slot, code_addr))
    }

    /// The slot of the callback whose code is at `addr`.
    pub fn slot_of(&self, addr: usize) -> Option<usize> {
        self.slots.iter().position(|s| s.as_ref().is_some_and(|s| s.code == addr))
    }

    /// Frees a callback: its Lua function is dropped by the library, and calling
    /// its function pointer afterwards raises "bad callback". The closure itself
    /// stays allocated (C code may still hold the pointer) until the state goes.
    pub fn free(&mut self, _slot: usize) {}
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        for s in self.slots.drain(..).flatten() {
            // SAFETY: the closure came from `try_closure_alloc` and is freed once,
            // with the state: nothing can call into the state any more.
            unsafe { low::closure_free(s.closure) };
        }
    }
}

/// The closures' handler: converts the arguments, runs the Lua function, writes
/// the result.
unsafe extern "C" fn handler(_cif: &low::ffi_cif, result: &mut u64, args: *const *const c_void, ctx: &Ctx) {
    let vmp = CURRENT_VM.with(Cell::get);
    let mut argv = Vec::with_capacity(ctx.args.len());
    for (i, t) in ctx.args.iter().enumerate() {
        let n = t.size();
        let mut b = vec![0u8; n];
        // SAFETY: libffi passes one pointer per declared argument, each to a
        // value of the declared type (`n` bytes).
        unsafe {
            let p = *args.add(i);
            std::ptr::copy_nonoverlapping(p.cast::<u8>(), b.as_mut_ptr(), n);
        }
        argv.push(b);
    }
    let out = if vmp.is_null() {
        // Called outside any call from Lua into C: no state to run it in.
        vec![0u8; ctx.ret.size()]
    } else {
        // SAFETY: `CURRENT_VM` holds the state that is making the outbound call
        // this callback runs inside; its `&mut` is not used until that call
        // returns (see `call`), so this is the only live reference.
        let vm = unsafe { &mut *vmp };
        crate::ffi::lib::run_callback(vm, ctx.slot, &argv)
    };
    let rsize = ctx.ret.size();
    if rsize == 0 {
        return;
    }
    let mut word = out;
    let n = if let Some((n, signed)) = ctx.ret.is_small_int() {
        // libffi wants small integer results widened to a full word.
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(&word[..n.min(word.len())]);
        let x = u64::from_le_bytes(v);
        let shift = 64 - 8 * n as u32;
        let x = if signed { (((x << shift) as i64) >> shift) as u64 } else { x };
        word = x.to_le_bytes().to_vec();
        8
    } else {
        rsize
    };
    word.resize(n, 0);
    // SAFETY: libffi's result buffer holds at least the result type's size, and a
    // full word for integers.
    unsafe { std::ptr::copy_nonoverlapping(word.as_ptr(), (result as *mut u64).cast::<u8>(), n) };
}
