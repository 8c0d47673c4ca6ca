//! Executable memory with W^X, through the `region` crate.
//!
//! Contract:
//! - Memory is never writable and executable at once. A [`CodeBuffer`] is a read-write area;
//!   [`CodeBuffer::make_executable`] consumes it and returns [`ExecutableCode`], read-execute.
//!   There is no way back to a buffer: the type state is the W^X state.
//! - Areas are whole pages from `region::alloc`, at least [`CodeLimits::area_size`] bytes
//!   (64 KiB by default, LuaJIT's `sizemcode`), more for larger code, rounded up to pages.
//! - All areas of one [`CodeMemory`] count against [`CodeLimits::max_total`] (`maxmcode`);
//!   running out is [`CodeMemError::LimitReached`], which the JIT turns into a trace abort
//!   (never a crash). Dropping a buffer or code returns its bytes to the budget and unmaps it.
//! - [`ExecutableCode::patch`] (linking a side trace into an exit stub) flips only the pages
//!   it touches RX→RW, writes, and flips them back RW→RX, inside one call taking `&mut self`,
//!   so no reader of the code exists meanwhile. If a protection change fails the code is
//!   marked poisoned: every later accessor reports [`CodeMemError::Poisoned`].
//! - Every failure is an error value; nothing here panics.
//! - x86-64 keeps instruction fetch coherent with data writes, so no cache flush is needed
//!   after writing or patching. ARM64 will need one here.
//!
//! This file and `entry.rs` are the only ones in the crate with `unsafe`: each block has a
//! `// SAFETY:` comment naming the invariant it relies on.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use region::Protection;

/// Sizes for a [`CodeMemory`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeLimits {
    /// The smallest area allocated at once, in bytes (rounded up to whole pages).
    pub area_size: usize,
    /// The most bytes of all live areas together.
    pub max_total: usize,
}

impl Default for CodeLimits {
    /// 64 KiB areas, 16 MiB in total.
    fn default() -> CodeLimits {
        CodeLimits { area_size: 64 * 1024, max_total: 16 * 1024 * 1024 }
    }
}

/// What can go wrong with code memory.
#[derive(Debug)]
pub enum CodeMemError {
    /// `area_size` or `max_total` is zero, or an area would not fit in `max_total`.
    BadLimits(CodeLimits),
    /// The request does not fit in the budget (`maxmcode` exhausted).
    LimitReached { requested: usize, in_use: usize, limit: usize },
    /// The request overflows when rounded up to pages.
    TooLarge { requested: usize },
    /// The operating system refused to map memory.
    Alloc(region::Error),
    /// The operating system refused a protection change.
    Protect(region::Error),
    /// A write past the end of a [`CodeBuffer`].
    BufferFull { capacity: usize, len: usize, requested: usize },
    /// A patch or entry offset outside the code.
    OutOfBounds { offset: usize, len: usize, code_len: usize },
    /// An earlier protection change failed; the area's state is unknown, do not run it.
    Poisoned,
}

impl fmt::Display for CodeMemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeMemError::BadLimits(l) => {
                write!(f, "bad code memory limits: area {} bytes, total {} bytes", l.area_size, l.max_total)
            }
            CodeMemError::LimitReached { requested, in_use, limit } => {
                write!(f, "machine code limit reached: {requested} more bytes with {in_use} of {limit} in use")
            }
            CodeMemError::TooLarge { requested } => write!(f, "code area of {requested} bytes is too large"),
            CodeMemError::Alloc(e) => write!(f, "cannot map code memory: {e}"),
            CodeMemError::Protect(e) => write!(f, "cannot change code memory protection: {e}"),
            CodeMemError::BufferFull { capacity, len, requested } => {
                write!(f, "code buffer full: {requested} bytes at {len} of {capacity}")
            }
            CodeMemError::OutOfBounds { offset, len, code_len } => {
                write!(f, "{len} bytes at offset {offset} are outside the {code_len} bytes of code")
            }
            CodeMemError::Poisoned => f.write_str("code area poisoned by a failed protection change"),
        }
    }
}

impl std::error::Error for CodeMemError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodeMemError::Alloc(e) | CodeMemError::Protect(e) => Some(e),
            _ => None,
        }
    }
}

/// Bytes counted against a [`CodeMemory`]'s budget; returned when dropped.
#[derive(Debug)]
struct Reservation {
    in_use: Rc<Cell<usize>>,
    bytes: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.in_use.set(self.in_use.get().saturating_sub(self.bytes));
    }
}

/// The source of code areas, with the total budget. Single-threaded, like the VM that owns it.
#[derive(Debug)]
pub struct CodeMemory {
    limits: CodeLimits,
    in_use: Rc<Cell<usize>>,
}

impl CodeMemory {
    /// A code memory with `limits`; the limits must be nonzero and one area must fit.
    pub fn new(limits: CodeLimits) -> Result<CodeMemory, CodeMemError> {
        if limits.area_size == 0 || limits.max_total < limits.area_size {
            return Err(CodeMemError::BadLimits(limits));
        }
        Ok(CodeMemory { limits, in_use: Rc::new(Cell::new(0)) })
    }

    /// The limits it was made with.
    pub fn limits(&self) -> CodeLimits {
        self.limits
    }

    /// Bytes held by live buffers and code.
    pub fn in_use(&self) -> usize {
        self.in_use.get()
    }

    /// A writable area with room for at least `min_len` bytes: `area_size` or, for larger
    /// code, `min_len` rounded up to whole pages.
    pub fn new_buffer(&self, min_len: usize) -> Result<CodeBuffer, CodeMemError> {
        let page = region::page::size();
        let len = min_len
            .max(self.limits.area_size)
            .checked_next_multiple_of(page)
            .ok_or(CodeMemError::TooLarge { requested: min_len })?;
        let in_use = self.in_use.get();
        let limit = self.limits.max_total;
        if len > limit.saturating_sub(in_use) {
            return Err(CodeMemError::LimitReached { requested: len, in_use, limit });
        }
        let alloc = region::alloc(len, Protection::READ_WRITE).map_err(CodeMemError::Alloc)?;
        let bytes = alloc.len();
        self.in_use.set(in_use.saturating_add(bytes));
        let reservation = Reservation { in_use: Rc::clone(&self.in_use), bytes };
        Ok(CodeBuffer { alloc, len: 0, _reservation: reservation })
    }

    /// Helper: a buffer holding exactly `code`, made executable.
    pub fn install(&self, code: &[u8]) -> Result<ExecutableCode, CodeMemError> {
        let mut buf = self.new_buffer(code.len())?;
        buf.write(code)?;
        buf.make_executable()
    }
}

/// A read-write code area being filled. Never executable.
pub struct CodeBuffer {
    /// Mapped READ_WRITE for its whole length for as long as this buffer exists.
    alloc: region::Allocation,
    /// Bytes written so far, from the start.
    len: usize,
    _reservation: Reservation,
}

impl fmt::Debug for CodeBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeBuffer")
            .field("base", &self.alloc.as_ptr::<u8>())
            .field("len", &self.len)
            .field("capacity", &self.alloc.len())
            .finish()
    }
}

impl CodeBuffer {
    /// Size of the area.
    pub fn capacity(&self) -> usize {
        self.alloc.len()
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left.
    pub fn remaining(&self) -> usize {
        self.capacity().saturating_sub(self.len)
    }

    /// The whole area as a writable slice.
    fn area_mut(&mut self) -> &mut [u8] {
        let len = self.alloc.len();
        let ptr = self.alloc.as_mut_ptr::<u8>();
        // SAFETY: `alloc` is a live mapping of `len` bytes, READ_WRITE for the whole life of a
        // `CodeBuffer` (it only becomes executable by consuming the buffer). It is owned by
        // `self` and no other pointer into it is handed out, so the `&mut self` borrow makes
        // this slice the only access for its lifetime.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }

    /// The bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        let ptr = self.alloc.as_ptr::<u8>();
        // SAFETY: as in `area_mut`, the mapping is live and readable; `len <= alloc.len()` is
        // kept by `write`, and `&self` excludes writers for the slice's lifetime.
        unsafe { std::slice::from_raw_parts(ptr, self.len) }
    }

    /// Appends `bytes`; returns the offset they start at.
    pub fn write(&mut self, bytes: &[u8]) -> Result<usize, CodeMemError> {
        let start = self.len;
        let capacity = self.capacity();
        let full = CodeMemError::BufferFull { capacity, len: start, requested: bytes.len() };
        let end = start.checked_add(bytes.len()).ok_or(CodeMemError::TooLarge { requested: bytes.len() })?;
        let dst = self.area_mut().get_mut(start..end).ok_or(full)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(start)
    }

    /// Flips the area to READ_EXECUTE. On failure the area is unmapped with the buffer.
    pub fn make_executable(self) -> Result<ExecutableCode, CodeMemError> {
        let ptr = self.alloc.as_ptr::<u8>();
        let len = self.alloc.len();
        // SAFETY: the range is exactly our own live mapping, so no other Rust object's memory
        // changes protection. Nothing can write through it afterwards: the only writable view
        // (`area_mut`) needs `&mut CodeBuffer`, which this call consumes.
        unsafe { region::protect(ptr, len, Protection::READ_EXECUTE) }.map_err(CodeMemError::Protect)?;
        Ok(ExecutableCode { alloc: self.alloc, len: self.len, poisoned: false, _reservation: self._reservation })
    }
}

/// A read-execute code area. Only [`ExecutableCode::patch`] writes to it, and only inside
/// that call.
pub struct ExecutableCode {
    /// Mapped READ_EXECUTE (outside `patch`) for its whole length while this value exists.
    alloc: region::Allocation,
    /// Bytes of code from the start.
    len: usize,
    /// A protection change failed: the pages may be RW or RX, so nothing may run or read them.
    poisoned: bool,
    _reservation: Reservation,
}

impl fmt::Debug for ExecutableCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutableCode")
            .field("base", &self.alloc.as_ptr::<u8>())
            .field("len", &self.len)
            .field("capacity", &self.alloc.len())
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl ExecutableCode {
    /// Bytes of code.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no code.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Size of the area.
    pub fn capacity(&self) -> usize {
        self.alloc.len()
    }

    /// The address of the first byte (for dumps and for absolute jumps between areas).
    pub fn base_addr(&self) -> usize {
        self.alloc.as_ptr::<u8>() as usize
    }

    /// The code bytes, for dumps and tests.
    pub fn bytes(&self) -> Result<&[u8], CodeMemError> {
        if self.poisoned {
            return Err(CodeMemError::Poisoned);
        }
        let ptr = self.alloc.as_ptr::<u8>();
        // SAFETY: not poisoned, so the whole live mapping is READ_EXECUTE, which is readable;
        // `len <= alloc.len()`. Writes only happen in `patch`, which needs `&mut self`, so
        // none can overlap the `&self` borrow this slice lives in.
        Ok(unsafe { std::slice::from_raw_parts(ptr, self.len) })
    }

    /// The address of the instruction at `offset`, to be called through an `unsafe` entry
    /// (whose caller promises the code there is a valid function of the right ABI, and that
    /// this `ExecutableCode` outlives the call and is not patched or dropped during it).
    pub fn entry_ptr(&self, offset: usize) -> Result<*const u8, CodeMemError> {
        if self.poisoned {
            return Err(CodeMemError::Poisoned);
        }
        if offset >= self.len {
            return Err(CodeMemError::OutOfBounds { offset, len: 1, code_len: self.len });
        }
        Ok(self.alloc.as_ptr::<u8>().wrapping_add(offset))
    }

    /// Overwrites `bytes.len()` bytes at `offset` (e.g. the rel32 of an exit stub's jump, to
    /// link a side trace), flipping only the pages touched RX→RW and back.
    ///
    /// The engine calls this only while no frame of this code is on the native stack
    /// (traces never call back into Lua, and the VM is single-threaded).
    pub fn patch(&mut self, offset: usize, bytes: &[u8]) -> Result<(), CodeMemError> {
        if self.poisoned {
            return Err(CodeMemError::Poisoned);
        }
        let code_len = self.len;
        let oob = CodeMemError::OutOfBounds { offset, len: bytes.len(), code_len };
        let end =
            offset.checked_add(bytes.len()).ok_or(CodeMemError::OutOfBounds { offset, len: bytes.len(), code_len })?;
        if end > code_len {
            return Err(oob);
        }
        if bytes.is_empty() {
            return Ok(());
        }
        let at = self.alloc.as_mut_ptr::<u8>().wrapping_add(offset);
        // SAFETY: `[at, at + bytes.len())` lies inside our own live mapping (checked above), and
        // `region::protect` widens it to whole pages of that same mapping (it is page-aligned
        // and page-sized), so only our pages change. `&mut self` means no slice from `bytes()`
        // is alive; the caller keeps frames of this code off the stack (see above).
        if let Err(e) = unsafe { region::protect(at.cast_const(), bytes.len(), Protection::READ_WRITE) } {
            self.poisoned = true;
            return Err(CodeMemError::Protect(e));
        }
        // SAFETY: those pages are now READ_WRITE; the range is inside the mapping and does not
        // overlap `bytes` (a caller's slice cannot point into our pages: `bytes()` borrows
        // `self`, which `&mut self` excludes).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len()) };
        // SAFETY: same range as the first call, back to the type's invariant (READ_EXECUTE).
        if let Err(e) = unsafe { region::protect(at.cast_const(), bytes.len(), Protection::READ_EXECUTE) } {
            self.poisoned = true;
            return Err(CodeMemError::Protect(e));
        }
        Ok(())
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::x64::{Assembler, Cond, Gpr, Mem, Size, Xmm};

    type Fn2 = unsafe extern "sysv64" fn(i64, i64) -> i64;

    /// Calls the code at `offset` as `fn(i64, i64) -> i64`.
    fn call2(code: &ExecutableCode, offset: usize, a: i64, b: i64) -> i64 {
        let ptr = code.entry_ptr(offset).unwrap();
        // SAFETY: every function these tests assemble at an entry offset follows the SysV
        // ABI for `fn(i64, i64) -> i64` (arguments in rdi/rsi, result in rax, callee-saved
        // registers untouched, stack aligned for any call it makes), and `code` outlives the
        // call and is not patched during it.
        let f = unsafe { std::mem::transmute::<*const u8, Fn2>(ptr) };
        // SAFETY: as above.
        unsafe { f(a, b) }
    }

    fn protection_at(code: &ExecutableCode, offset: usize) -> Protection {
        region::query(code.base_addr().wrapping_add(offset) as *const u8).unwrap().protection()
    }

    extern "sysv64" fn triple(x: i64) -> i64 {
        x.wrapping_mul(3)
    }

    #[test]
    fn generated_code_runs() {
        let mut a = Assembler::new();

        // add(a, b) = a + b
        let add = a.offset();
        a.mov_rr(Size::S64, Gpr::Rax, Gpr::Rdi);
        a.add_rr(Size::S64, Gpr::Rax, Gpr::Rsi);
        a.ret();

        // sum(n, _) = 1 + 2 + ... + n, a backward loop and a forward exit.
        a.align(16);
        let sum = a.offset();
        let (top, done) = (a.new_label(), a.new_label());
        a.xor_rr(Size::S32, Gpr::Rax, Gpr::Rax);
        a.test_rr(Size::S64, Gpr::Rdi, Gpr::Rdi);
        a.jcc(Cond::Le, done);
        a.bind(top);
        a.add_rr(Size::S64, Gpr::Rax, Gpr::Rdi);
        a.dec(Size::S64, Gpr::Rdi);
        a.jcc(Cond::Ne, top);
        a.bind(done);
        a.ret();

        // mul(a, b) = trunc(a as f64 * b as f64 * 0.5), through SSE2 and a pool constant.
        a.align(16);
        let mul = a.offset();
        let half = a.const_f64(0.5);
        a.cvtsi2sd_xr(Size::S64, Xmm::Xmm0, Gpr::Rdi);
        a.cvtsi2sd_xr(Size::S64, Xmm::Xmm9, Gpr::Rsi);
        a.mulsd_xx(Xmm::Xmm0, Xmm::Xmm9);
        a.mulsd_xm(Xmm::Xmm0, Mem::rip(half));
        a.cvttsd2si_rx(Size::S64, Gpr::Rax, Xmm::Xmm0);
        a.ret();

        // helper(a, _) = triple(a) + 1, calling Rust at an absolute address.
        a.align(16);
        let helper = a.offset();
        a.push(Gpr::Rbx); // keeps the stack 16-byte aligned at the call
        a.call_abs(triple as extern "sysv64" fn(i64) -> i64 as usize as u64);
        a.lea(Size::S64, Gpr::Rax, Mem::base(Gpr::Rax, 1));
        a.pop(Gpr::Rbx);
        a.ret();

        let bytes = a.finish().unwrap();
        let mem = CodeMemory::new(CodeLimits::default()).unwrap();
        let code = mem.install(&bytes).unwrap();
        assert_eq!(code.bytes().unwrap(), &bytes[..]);

        assert_eq!(call2(&code, add, 40, 2), 42);
        assert_eq!(call2(&code, add, i64::MAX, 1), i64::MIN);
        for n in [0i64, 1, 2, 10, 1000, -5] {
            let want = if n > 0 { n * (n + 1) / 2 } else { 0 };
            assert_eq!(call2(&code, sum, n, 0), want, "sum({n})");
        }
        assert_eq!(call2(&code, mul, 6, 7), 21);
        assert_eq!(call2(&code, mul, -3, 5), -7);
        assert_eq!(call2(&code, helper, 14, 0), 43);
    }

    #[test]
    fn w_xor_x_through_the_type_states() {
        let mem = CodeMemory::new(CodeLimits::default()).unwrap();
        let mut buf = mem.new_buffer(10).unwrap();
        assert_eq!(buf.capacity(), 64 * 1024);
        let p = region::query(buf.as_slice().as_ptr()).unwrap().protection();
        assert_eq!(p, Protection::READ_WRITE);

        let mut a = Assembler::new();
        a.mov_ri(Size::S32, Gpr::Rax, 1);
        a.ret();
        buf.write(&a.finish().unwrap()).unwrap();
        let mut code = buf.make_executable().unwrap();
        assert_eq!(protection_at(&code, 0), Protection::READ_EXECUTE);
        assert_eq!(call2(&code, 0, 0, 0), 1);

        // Patch the immediate of `mov eax, 1` (B8 imm32) to 2.
        code.patch(1, &2i32.to_le_bytes()).unwrap();
        assert_eq!(protection_at(&code, 0), Protection::READ_EXECUTE);
        assert_eq!(call2(&code, 0, 0, 0), 2);
        assert_eq!(code.bytes().unwrap(), [0xB8, 2, 0, 0, 0, 0xC3]);
    }

    #[test]
    fn budget_is_an_error_value_and_comes_back_on_drop() {
        let limits = CodeLimits { area_size: 64 * 1024, max_total: 128 * 1024 };
        let mem = CodeMemory::new(limits).unwrap();
        let a = mem.new_buffer(1).unwrap();
        let b = mem.install(&[0xC3]).unwrap();
        assert_eq!(mem.in_use(), 128 * 1024);
        assert!(matches!(mem.new_buffer(1), Err(CodeMemError::LimitReached { in_use: 131072, .. })));
        drop(a);
        assert_eq!(mem.in_use(), 64 * 1024);
        let c = mem.new_buffer(1).unwrap();
        drop((b, c));
        assert_eq!(mem.in_use(), 0);
        // Larger than an area: rounded to pages, still within the cap.
        let big = mem.new_buffer(100 * 1024).unwrap();
        assert!(big.capacity() >= 100 * 1024 && big.capacity() <= 104 * 1024);
        drop(big);
        assert!(matches!(mem.new_buffer(usize::MAX), Err(CodeMemError::TooLarge { .. })));
        assert!(matches!(mem.new_buffer(200 * 1024), Err(CodeMemError::LimitReached { .. })));
        assert!(matches!(CodeMemory::new(CodeLimits { area_size: 0, max_total: 1 }), Err(CodeMemError::BadLimits(_))));
    }

    #[test]
    fn writes_and_patches_outside_are_errors() {
        let mem = CodeMemory::new(CodeLimits { area_size: 4096, max_total: 1 << 20 }).unwrap();
        let mut buf = mem.new_buffer(1).unwrap();
        let cap = buf.capacity();
        assert_eq!(buf.write(&vec![0xCC; cap - 1]).unwrap(), 0);
        assert!(matches!(buf.write(&[0xCC, 0xCC]), Err(CodeMemError::BufferFull { .. })));
        assert_eq!(buf.write(&[0xC3]).unwrap(), cap - 1);
        assert_eq!(buf.remaining(), 0);
        let mut code = buf.make_executable().unwrap();
        assert!(matches!(code.patch(cap - 1, &[0, 0]), Err(CodeMemError::OutOfBounds { .. })));
        assert!(matches!(code.patch(usize::MAX, &[0]), Err(CodeMemError::OutOfBounds { .. })));
        assert!(matches!(code.entry_ptr(cap), Err(CodeMemError::OutOfBounds { .. })));
        code.patch(0, &[]).unwrap();
        code.patch(cap - 2, &[0x90]).unwrap();
        assert_eq!(code.bytes().unwrap()[cap - 2..], [0x90, 0xC3]);
    }
}
