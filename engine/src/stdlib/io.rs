//! The io library, as LuaJIT 2.1 (without 5.2 compatibility) behaves on Linux/glibc.
//!
//! Files are userdata holding a [`LuaFile`]: a `std::fs::File` (or a standard stream,
//! or a pipe to a child process) with this module's own buffering, so that reading,
//! writing and seeking on one handle mix as they do with C stdio. Writes to the
//! standard output go through [`Vm::write_stdout`], where `print` writes too.
//!
//! Behaviour follows LuaJIT, including its quirks:
//! - `f:write` / `io.write` return `true` (LuaJIT 2.1 returns the file only when built
//!   with 5.2 compatibility);
//! - `io.open` modes are checked as glibc's `fopen` does (first letter `r`/`w`/`a`,
//!   then `+`, `b`, `x`, ... anywhere in the next 6 bytes), an invalid one giving
//!   `nil, "name: Invalid argument", 22`;
//! - `read("*n")` reproduces glibc's `fscanf("%lf")`, including what it consumes on
//!   malformed input (`"1e+x"` reads 1 and leaves `"x"`, `"0x"` fails);
//! - a pipe's `close` returns `true` whatever the command's exit status.
//!
//! `io.popen` exists on Unix and Windows builds (`/bin/sh -c` / `cmd /C`); elsewhere
//! it raises "'popen' not supported". [`flush_all`] flushes every open file (LuaJIT's
//! `fflush(NULL)`); `os.exit` should call it, since files are not flushed by the
//! process exiting.

use crate::number::ldexp;
use std::io::{Read, Seek, SeekFrom, Write};

use super::fs::OpenFlags;
use crate::gc::GcRef;
use crate::object::{Table, Userdata};
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm};

/// Default buffer size (glibc's BUFSIZ).
const BUFSIZE: usize = 8192;
/// Most formats `lines` keeps (LuaJIT's LJ_MAX_UPVAL).
const MAX_LINE_FORMATS: usize = 60;
/// Registry key of the library's state table.
const STATE_KEY: &str = "moonbox.io";
// Slots of the state table.
const S_INPUT: i64 = 1;
const S_OUTPUT: i64 = 2;
const S_META: i64 = 3;
const S_OPEN: i64 = 4;

/// An I/O error as C reports it: `strerror` text and `errno`.
struct IoErr {
    msg: String,
    code: i32,
}

impl IoErr {
    fn new(msg: &str, code: i32) -> IoErr {
        IoErr { msg: msg.to_string(), code }
    }
    fn badf() -> IoErr {
        IoErr::new("Bad file descriptor", 9)
    }
    fn inval() -> IoErr {
        IoErr::new("Invalid argument", 22)
    }
    /// A read that would pass the state's memory limit (becomes "not enough memory").
    fn nomem() -> IoErr {
        IoErr::new("not enough memory", NOMEM)
    }
}

/// The code of [`IoErr::nomem`] (no errno: it is raised, not returned).
const NOMEM: i32 = -12;

/// Appends `add` to `out`, which may hold at most `limit` bytes (what the memory
/// limit leaves): past it, or when the allocator refuses, the "not enough memory"
/// error, checked before the buffer grows. Grows by half at a time, not by doubling,
/// so that a long read does not take twice its size.
fn append_limited(out: &mut Vec<u8>, add: &[u8], limit: usize) -> IoResult<()> {
    let want = out.len().saturating_add(add.len());
    if want > limit {
        return Err(IoErr::nomem());
    }
    if out.capacity() < want {
        let target = out.capacity().saturating_add((out.capacity() / 2).max(BUFSIZE)).min(limit).max(want);
        // Two bytes more, so the string can take the buffer over (its zero bytes).
        out.try_reserve_exact(target + 2 - out.len()).map_err(|_| IoErr::nomem())?;
    }
    out.extend_from_slice(add);
    Ok(())
}

impl From<std::io::Error> for IoErr {
    fn from(e: std::io::Error) -> IoErr {
        use std::io::ErrorKind as K;
        let msg = crate::stdlib::base::io_error_text(&e);
        #[cfg(unix)]
        if let Some(c) = e.raw_os_error() {
            return IoErr { msg, code: c };
        }
        // Linux errno values, so scripts see the same numbers on every target.
        let code = match e.kind() {
            K::NotFound => 2,
            K::Interrupted => 4,
            K::WouldBlock => 11,
            K::PermissionDenied => 13,
            K::AlreadyExists => 17,
            K::NotADirectory => 20,
            K::IsADirectory => 21,
            K::InvalidInput => 22,
            K::BrokenPipe => 32,
            K::Unsupported => 38,
            _ => 5,
        };
        IoErr { msg, code }
    }
}

type IoResult<T> = Result<T, IoErr>;

/// What a file handle is connected to.
enum Stream {
    File(std::fs::File),
    Stdin,
    /// Writes go to `Vm::write_stdout` (handled by the callers).
    Stdout,
    Stderr,
    #[cfg(any(unix, windows))]
    Pipe(std::process::Child),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKind {
    File,
    Pipe,
    Std,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum VBuf {
    Full,
    Line,
    No,
}

/// The payload of a Lua file handle.
pub struct LuaFile {
    /// `None` once closed.
    stream: Option<Stream>,
    kind: FileKind,
    /// What the handle was opened for (C stdio refuses the other direction).
    can_read: bool,
    can_write: bool,
    /// Opened by `io.lines(name)`: closed when the iterator reaches the end.
    close_at_eof: bool,
    rbuf: Vec<u8>,
    rpos: usize,
    wbuf: Vec<u8>,
    vbuf: VBuf,
    bufsize: usize,
    /// A temporary file to delete on close (where an open file cannot be unlinked).
    remove_on_close: Option<std::path::PathBuf>,
}

impl LuaFile {
    fn new(stream: Stream, kind: FileKind) -> LuaFile {
        let vbuf = if matches!(stream, Stream::Stderr) { VBuf::No } else { VBuf::Full };
        let (can_read, can_write) = match &stream {
            Stream::Stdin => (true, false),
            Stream::Stdout | Stream::Stderr => (false, true),
            _ => (true, true),
        };
        LuaFile {
            stream: Some(stream),
            kind,
            can_read,
            can_write,
            close_at_eof: false,
            rbuf: Vec::new(),
            rpos: 0,
            wbuf: Vec::new(),
            vbuf,
            bufsize: BUFSIZE,
            remove_on_close: None,
        }
    }

    fn is_stdout(&self) -> bool {
        matches!(self.stream, Some(Stream::Stdout))
    }

    fn raw_read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        if !self.can_read {
            return Err(IoErr::badf());
        }
        loop {
            let r = match &mut self.stream {
                Some(Stream::File(f)) => f.read(buf),
                Some(Stream::Stdin) => {
                    // As C stdio does before blocking on input, show pending output.
                    let _ = std::io::stdout().flush();
                    std::io::stdin().read(buf)
                }
                #[cfg(any(unix, windows))]
                Some(Stream::Pipe(c)) => match c.stdout.as_mut() {
                    Some(o) => o.read(buf),
                    None => return Err(IoErr::badf()),
                },
                _ => return Err(IoErr::badf()),
            };
            match r {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => return r.map_err(IoErr::from),
            }
        }
    }

    fn raw_write(&mut self, b: &[u8]) -> IoResult<()> {
        let r = match &mut self.stream {
            Some(Stream::File(f)) => f.write_all(b),
            Some(Stream::Stdout) => std::io::stdout().write_all(b),
            Some(Stream::Stderr) => std::io::stderr().write_all(b),
            #[cfg(any(unix, windows))]
            Some(Stream::Pipe(c)) => match c.stdin.as_mut() {
                Some(i) => i.write_all(b),
                None => return Err(IoErr::badf()),
            },
            _ => return Err(IoErr::badf()),
        };
        r.map_err(IoErr::from)
    }

    fn flush_wbuf(&mut self) -> IoResult<()> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let b = std::mem::take(&mut self.wbuf);
        let r = self.raw_write(&b);
        self.wbuf = b;
        self.wbuf.clear();
        r
    }

    /// Drops read-ahead data, moving the OS position back to where the reader is.
    fn drop_rbuf(&mut self) -> IoResult<()> {
        let unread = self.rbuf.len() - self.rpos;
        self.rbuf.clear();
        self.rpos = 0;
        if unread > 0 {
            if let Some(Stream::File(f)) = &mut self.stream {
                f.seek(SeekFrom::Current(-(unread as i64)))?;
            }
        }
        Ok(())
    }

    /// Makes buffered input available; false at end of file.
    fn fill(&mut self) -> IoResult<bool> {
        if self.rpos < self.rbuf.len() {
            return Ok(true);
        }
        self.flush_wbuf()?;
        let mut buf = std::mem::take(&mut self.rbuf);
        buf.resize(BUFSIZE, 0);
        let r = self.raw_read(&mut buf);
        let n = *r.as_ref().unwrap_or(&0);
        buf.truncate(n);
        self.rbuf = buf;
        self.rpos = 0;
        r.map(|n| n > 0)
    }

    fn peek(&mut self) -> IoResult<Option<u8>> {
        Ok(if self.fill()? { Some(self.rbuf[self.rpos]) } else { None })
    }

    /// Reads one byte (glibc's `inchar`).
    fn getc(&mut self) -> IoResult<Option<u8>> {
        let c = self.peek()?;
        if c.is_some() {
            self.rpos += 1;
        }
        Ok(c)
    }

    /// Pushes back the byte `getc` just returned.
    fn ungetc(&mut self) {
        self.rpos = self.rpos.saturating_sub(1);
    }

    /// A line, of at most `limit` bytes; `ok` is false when nothing at all was read.
    fn read_line(&mut self, chop: bool, limit: usize) -> IoResult<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        while self.fill()? {
            let avail = &self.rbuf[self.rpos..];
            if let Some(i) = avail.iter().position(|&c| c == b'\n') {
                append_limited(&mut out, &avail[..=i], limit)?;
                self.rpos += i + 1;
                let ok = !out.is_empty();
                if chop {
                    out.pop();
                }
                return Ok((out, ok));
            }
            append_limited(&mut out, avail, limit)?;
            self.rpos = self.rbuf.len();
        }
        let ok = !out.is_empty();
        Ok((out, ok))
    }

    /// The rest of the file, at most `limit` bytes.
    fn read_all(&mut self, limit: usize) -> IoResult<Vec<u8>> {
        let mut out = Vec::new();
        while self.fill()? {
            append_limited(&mut out, &self.rbuf[self.rpos..], limit)?;
            self.rpos = self.rbuf.len();
        }
        Ok(out)
    }

    /// Up to `m` bytes (at most `limit`); `m == 0` tests for end of file.
    fn read_len(&mut self, m: usize, limit: usize) -> IoResult<(Vec<u8>, bool)> {
        if m == 0 {
            return Ok((Vec::new(), self.fill()?));
        }
        let mut out = Vec::new();
        while out.len() < m && self.fill()? {
            let take = (m - out.len()).min(self.rbuf.len() - self.rpos);
            append_limited(&mut out, &self.rbuf[self.rpos..self.rpos + take], limit)?;
            self.rpos += take;
        }
        let ok = !out.is_empty();
        Ok((out, ok))
    }

    /// `fscanf(fp, "%lf")` as glibc implements it.
    fn read_number(&mut self) -> IoResult<Option<f64>> {
        while let Some(c) = self.peek()? {
            if !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
                break;
            }
            self.rpos += 1;
        }
        let Some(mut c) = self.getc()? else { return Ok(None) };
        let mut buf = Vec::new();
        let mut neg = false;
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            buf.push(c);
            match self.getc()? {
                Some(x) => c = x,
                None => return Ok(None),
            }
        }
        let sign = if neg { -1.0 } else { 1.0 };
        let lc = c.to_ascii_lowercase();
        if lc == b'n' || lc == b'i' {
            let rest: &[u8] = if lc == b'n' { b"an" } else { b"nf" };
            for &want in rest {
                match self.getc()? {
                    Some(x) if x.to_ascii_lowercase() == want => {}
                    _ => return Ok(None),
                }
            }
            if lc == b'n' {
                return Ok(Some(f64::NAN.copysign(sign)));
            }
            match self.getc()? {
                Some(x) if x.eq_ignore_ascii_case(&b'i') => {
                    for &want in b"nity" {
                        match self.getc()? {
                            Some(y) if y.to_ascii_lowercase() == want => {}
                            _ => return Ok(None),
                        }
                    }
                }
                Some(_) => self.ungetc(),
                None => {}
            }
            return Ok(Some(f64::INFINITY * sign));
        }
        let (mut hex, mut got_digit, mut got_dot, mut got_e) = (false, false, false, false);
        let mut cur = Some(c);
        if c == b'0' {
            buf.push(c);
            cur = self.getc()?;
            match cur {
                Some(x) if x.eq_ignore_ascii_case(&b'x') => {
                    buf.push(x);
                    hex = true;
                    cur = self.getc()?;
                }
                _ => got_digit = true,
            }
        }
        let exp_char = if hex { b'p' } else { b'e' };
        while let Some(d) = cur {
            if d.is_ascii_digit() || (!got_e && hex && d.is_ascii_hexdigit()) {
                buf.push(d);
                got_digit = true;
            } else if got_e && buf.last() == Some(&exp_char) && (d == b'-' || d == b'+') {
                buf.push(d);
            } else if got_digit && !got_e && d.to_ascii_lowercase() == exp_char {
                buf.push(exp_char);
                got_e = true;
                got_dot = true;
            } else if !got_dot && d == b'.' {
                buf.push(d);
                got_dot = true;
            } else {
                self.ungetc();
                break;
            }
            cur = self.getc()?;
        }
        let nsign = usize::from(buf.first().is_some_and(|&b| b == b'-' || b == b'+'));
        if buf.len() == nsign || (hex && buf.len() == 2 + nsign) {
            return Ok(None);
        }
        Ok(strtod_prefix(&buf[nsign..], hex).map(|v| v * sign))
    }

    fn write(&mut self, b: &[u8]) -> IoResult<()> {
        if !self.can_write {
            return Err(IoErr::badf());
        }
        if !self.rbuf.is_empty() {
            self.drop_rbuf()?;
        }
        match self.vbuf {
            VBuf::No => {
                self.flush_wbuf()?;
                self.raw_write(b)
            }
            VBuf::Line | VBuf::Full => {
                self.wbuf.extend_from_slice(b);
                if self.wbuf.len() >= self.bufsize || (self.vbuf == VBuf::Line && b.contains(&b'\n')) {
                    self.flush_wbuf()?;
                }
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> IoResult<()> {
        self.flush_wbuf()?;
        let r = match &mut self.stream {
            Some(Stream::File(f)) => f.flush(),
            Some(Stream::Stdout) => std::io::stdout().flush(),
            #[cfg(any(unix, windows))]
            Some(Stream::Pipe(c)) => c.stdin.as_mut().map_or(Ok(()), |i| i.flush()),
            _ => Ok(()),
        };
        r.map_err(IoErr::from)
    }

    fn seek(&mut self, whence: u8, ofs: i64) -> IoResult<u64> {
        self.flush_wbuf()?;
        let unread = (self.rbuf.len() - self.rpos) as i64;
        let Some(Stream::File(f)) = &mut self.stream else { return Err(IoErr::new("Illegal seek", 29)) };
        let pos = match whence {
            b's' if ofs < 0 => return Err(IoErr::inval()),
            b's' => SeekFrom::Start(ofs as u64),
            b'c' => SeekFrom::Current(ofs.saturating_sub(unread)),
            _ => SeekFrom::End(ofs),
        };
        let p = f.seek(pos)?;
        self.rbuf.clear();
        self.rpos = 0;
        Ok(p)
    }

    fn close(&mut self) -> IoResult<()> {
        let r = self.flush_wbuf();
        match self.stream.take() {
            #[cfg(any(unix, windows))]
            Some(Stream::Pipe(mut c)) => {
                drop(c.stdin.take());
                drop(c.stdout.take());
                let _ = c.wait();
            }
            // Closed here: a file's descriptor is released at the end of this arm.
            _ => {}
        }
        if let Some(p) = self.remove_on_close.take() {
            let _ = std::fs::remove_file(p);
        }
        self.rbuf = Vec::new();
        self.rpos = 0;
        r
    }
}

impl Drop for LuaFile {
    fn drop(&mut self) {
        // C stdio flushes at exit; a file never closed loses nothing here either.
        let _ = self.flush_wbuf();
        if let Some(p) = self.remove_on_close.take() {
            self.stream = None;
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `strtod` on the text glibc's scanner collected (sign removed): the value of its
/// longest valid prefix, or `None` if there is none.
fn strtod_prefix(b: &[u8], hex: bool) -> Option<f64> {
    let (digits_ok, exp_char): (fn(&u8) -> bool, u8) =
        if hex { (u8::is_ascii_hexdigit, b'p') } else { (u8::is_ascii_digit, b'e') };
    let body = if hex { &b[2..] } else { b };
    let mant_end = body.iter().position(|&c| c == exp_char).unwrap_or(body.len());
    let mant = &body[..mant_end];
    if !mant.iter().any(digits_ok) {
        // "0x." is the number 0 followed by "x.".
        return if hex { Some(0.0) } else { None };
    }
    let mut exp: i64 = 0;
    let mut exp_len = 0;
    if mant_end < body.len() {
        let e = &body[mant_end + 1..];
        let (eneg, edigits) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if !edigits.is_empty() && edigits.iter().all(u8::is_ascii_digit) {
            exp = edigits.iter().fold(0i64, |a, &d| (a * 10 + i64::from(d - b'0')).min(1 << 24));
            if eneg {
                exp = -exp;
            }
            exp_len = e.len() + 1;
        }
    }
    if !hex {
        let text = std::str::from_utf8(&body[..mant_end + exp_len]).ok()?;
        return text.parse::<f64>().ok();
    }
    let mut m: u64 = 0;
    let mut e2: i64 = 0;
    let mut after_dot = false;
    for &c in mant {
        if c == b'.' {
            after_dot = true;
            continue;
        }
        let d = u64::from((c as char).to_digit(16).unwrap_or(0));
        if m < (1 << 59) {
            m = m * 16 + d;
            if after_dot {
                e2 -= 4;
            }
        } else if !after_dot {
            e2 += 4;
        }
    }
    Some(ldexp(m as f64, e2 + exp))
}

/// The payload of a file handle (`None` also while another use of the same handle
/// is in progress: a file is only ever used by one operation at a time).
fn lf(u: &GcRef<Userdata>) -> Option<std::cell::RefMut<'_, LuaFile>> {
    u.data()?.downcast_ref::<std::cell::RefCell<LuaFile>>()?.try_borrow_mut().ok()
}

fn file_ud(v: Value) -> Option<GcRef<Userdata>> {
    let u = v.as_userdata()?;
    lf(&u)?;
    Some(u)
}

// ----- Library state and helpers ------------------------------------------------------

fn state(vm: &mut Vm) -> LResult<GcRef<Table>> {
    match vm.native_upval(0).as_table() {
        Some(t) => Ok(t),
        None => Err(vm.rt_error("io library state missing")),
    }
}

/// A new handle with the file metatable, tracked for [`flush_all`].
fn new_file(vm: &mut Vm, st: GcRef<Table>, f: LuaFile) -> LResult<GcRef<Userdata>> {
    let u = vm.new_userdata(Some(Box::new(std::cell::RefCell::new(f))));
    u.set_meta(st.get_int(S_META).as_table());
    vm.heap.barrier(u);
    if let Some(open) = st.get_int(S_OPEN).as_table() {
        vm.raw_set(open, u.to_value(), Value::TRUE)?;
    }
    Ok(u)
}

/// Argument 1 as an open file ("FILE* expected" / "attempt to use a closed file").
fn to_file(vm: &mut Vm, base: usize, nargs: usize) -> LResult<GcRef<Userdata>> {
    let Some(u) = file_ud(vm.arg(base, nargs, 0)) else { return Err(vm.type_arg_error(base, nargs, 0, "FILE*")) };
    if lf(&u).is_none_or(|f| f.stream.is_none()) {
        return Err(vm.rt_error("attempt to use a closed file"));
    }
    Ok(u)
}

/// The default input or output file ("standard file is closed").
fn std_file(vm: &mut Vm, slot: i64) -> LResult<GcRef<Userdata>> {
    let st = state(vm)?;
    match file_ud(st.get_int(slot)) {
        Some(u) if lf(&u).is_some_and(|f| f.stream.is_some()) => Ok(u),
        _ => Err(vm.rt_error("standard file is closed")),
    }
}

/// `luaL_fileresult`: `true`, or `nil, "[name: ]message", errno`.
fn file_result(vm: &mut Vm, r: IoResult<()>, fname: Option<&[u8]>) -> usize {
    match r {
        Ok(()) => {
            vm.push(Value::TRUE);
            1
        }
        Err(e) => push_error(vm, &e, fname),
    }
}

fn push_error(vm: &mut Vm, e: &IoErr, fname: Option<&[u8]>) -> usize {
    let mut m = Vec::new();
    if let Some(n) = fname {
        m.extend_from_slice(n);
        m.extend_from_slice(b": ");
    }
    m.extend_from_slice(e.msg.as_bytes());
    vm.push(Value::NIL);
    let s = vm.str_value(&m);
    vm.push(s);
    vm.push(Value::number(f64::from(e.code)));
    3
}

/// A file name as C sees it (up to the first NUL).
fn c_name(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or(b)
}

fn os_path(b: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b))
    }
    #[cfg(not(unix))]
    {
        std::path::PathBuf::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// `fopen(name, mode)` with glibc's mode rules, through the state's file access.
fn fopen(vm: &Vm, name: &[u8], mode: &[u8]) -> IoResult<LuaFile> {
    let mode = c_name(mode);
    let first = mode.first().copied().unwrap_or(0);
    let (plus, excl) = mode.iter().skip(1).take(6).fold((false, false), |(p, x), &c| (p || c == b'+', x || c == b'x'));
    let o = match first {
        b'r' => OpenFlags { read: true, write: plus, ..OpenFlags::default() },
        b'w' => OpenFlags {
            write: true,
            read: plus,
            create: true,
            truncate: true,
            create_new: excl,
            ..OpenFlags::default()
        },
        b'a' => OpenFlags { append: true, read: plus, create: true, create_new: excl, ..OpenFlags::default() },
        _ => return Err(IoErr::inval()),
    };
    let Some(l) = crate::stdlib::lib_ref(vm) else { return Err(IoErr::badf()) };
    let f = l.files.open(&os_path(name), o)?;
    let mut lf = LuaFile::new(Stream::File(f), FileKind::File);
    lf.can_read = first == b'r' || plus;
    lf.can_write = first != b'r' || plus;
    Ok(lf)
}

// ----- io.* -----------------------------------------------------------------------------

/// Opens `io` as the capabilities say: the whole library with `io` (`popen` only with
/// `popen` too); with directory grants only, `open`, `lines`, `close` and `type`
/// (files, no standard streams); with neither, nothing.
pub fn open(vm: &mut Vm) {
    let full = crate::stdlib::lib(vm).caps.io;
    let popen = full && crate::stdlib::lib(vm).caps.popen;
    if !crate::stdlib::lib(vm).files.any() {
        return;
    }
    let st = vm.new_table(4, 0);
    let sv = st.to_value();
    let mt = vm.new_table(0, 12);
    let methods: &[(&'static str, NativeFn)] = &[
        ("close", io_close),
        ("read", f_read),
        ("write", f_write),
        ("flush", f_flush),
        ("seek", f_seek),
        ("setvbuf", f_setvbuf),
        ("lines", f_lines),
        ("__gc", f_gc),
        ("__tostring", f_tostring),
    ];
    for &(n, f) in methods {
        let fv = vm.native_closure(f, n, vec![sv]);
        vm.set_field(mt, n, fv);
    }
    vm.set_field(mt, "__index", mt.to_value());
    let open_files = vm.new_table(0, 4);
    let weak = vm.new_table(0, 1);
    let k = vm.str_value(b"k");
    vm.set_field(weak, "__mode", k);
    open_files.set_meta(Some(weak));
    vm.heap.barrier(open_files);
    let _ = vm.raw_set(st, Value::number(S_META as f64), mt.to_value());
    let _ = vm.raw_set(st, Value::number(S_OPEN as f64), open_files.to_value());
    let funcs: &[(&'static str, NativeFn)] = &[
        ("close", io_close),
        ("read", io_read),
        ("write", io_write),
        ("flush", io_flush),
        ("open", io_open),
        ("popen", io_popen),
        ("tmpfile", io_tmpfile),
        ("lines", io_lines),
        ("input", io_input),
        ("output", io_output),
        ("type", io_type),
    ];
    let t = super::register_lib(vm, "io", &[]);
    let granted = |n: &str| match n {
        "popen" => popen,
        "open" | "lines" | "close" | "type" => true,
        _ => full,
    };
    for &(n, f) in funcs.iter().filter(|(n, _)| granted(n)) {
        let fv = vm.native_closure(f, n, vec![sv]);
        vm.set_field(t, n, fv);
    }
    if !full {
        let reg = vm.registry;
        vm.set_field(reg, "FILE*", mt.to_value());
        vm.set_field(reg, STATE_KEY, sv);
        return;
    }
    for (name, stream, slot) in [
        ("stdin", Stream::Stdin, Some(S_INPUT)),
        ("stdout", Stream::Stdout, Some(S_OUTPUT)),
        ("stderr", Stream::Stderr, None),
    ] {
        let Ok(u) = new_file(vm, st, LuaFile::new(stream, FileKind::Std)) else { continue };
        vm.set_field(t, name, u.to_value());
        if let Some(s) = slot {
            let _ = vm.raw_set(st, Value::number(s as f64), u.to_value());
        }
    }
    let reg = vm.registry;
    vm.set_field(reg, "FILE*", mt.to_value());
    vm.set_field(reg, STATE_KEY, sv);
}

/// Flushes every open file (C's `fflush(NULL)`), and the process stdout.
pub fn flush_all(vm: &mut Vm) {
    let reg = vm.registry;
    let Some(st) = vm.get_field(reg, STATE_KEY).as_table() else { return };
    let Some(open) = st.get_int(S_OPEN).as_table() else { return };
    let mut k = Value::NIL;
    while let Ok(Some((key, _))) = open.next(k) {
        if let Some(u) = file_ud(key) {
            if let Some(mut f) = lf(&u) {
                let _ = f.flush();
            }
        }
        k = key;
    }
    if vm.output.is_none() {
        let _ = std::io::stdout().flush();
    }
}

fn io_open(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
    let mode = vm.opt_str(base, nargs, 1)?.map_or(b"r".to_vec(), |s| s.as_bytes().to_vec());
    let st = state(vm)?;
    match fopen(vm, c_name(&name), &mode) {
        Ok(f) => {
            let u = new_file(vm, st, f)?;
            vm.push(u.to_value());
            Ok(1)
        }
        Err(e) => Ok(push_error(vm, &e, Some(c_name(&name)))),
    }
}

#[cfg(any(unix, windows))]
fn io_popen(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    use std::process::{Command, Stdio};
    let cmd = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
    let mode = vm.opt_str(base, nargs, 1)?.map_or(b"r".to_vec(), |s| s.as_bytes().to_vec());
    let st = state(vm)?;
    let cmd = c_name(&cmd).to_vec();
    // glibc: any mix of 'r', 'w', 'e', with exactly one direction.
    let (mut r, mut w) = (false, false);
    let mut bad = false;
    for &c in c_name(&mode) {
        match c {
            b'r' => r = true,
            b'w' => w = true,
            b'e' => {}
            _ => bad = true,
        }
    }
    if bad || r == w {
        return Ok(push_error(vm, &IoErr::inval(), Some(&cmd)));
    }
    flush_all(vm);
    let text = String::from_utf8_lossy(&cmd).into_owned();
    let mut c = if cfg!(windows) { Command::new("cmd") } else { Command::new("/bin/sh") };
    c.arg(if cfg!(windows) { "/C" } else { "-c" }).arg(text);
    if r {
        c.stdout(Stdio::piped());
    } else {
        c.stdin(Stdio::piped());
    }
    match c.spawn() {
        Ok(child) => {
            let mut f = LuaFile::new(Stream::Pipe(child), FileKind::Pipe);
            f.can_read = r;
            f.can_write = w;
            let u = new_file(vm, st, f)?;
            vm.push(u.to_value());
            Ok(1)
        }
        Err(e) => Ok(push_error(vm, &IoErr::from(e), Some(&cmd))),
    }
}

#[cfg(not(any(unix, windows)))]
fn io_popen(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    Err(vm.rt_error("'popen' not supported"))
}

fn io_tmpfile(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let st = state(vm)?;
    match make_tmpfile() {
        Ok(f) => {
            let u = new_file(vm, st, f)?;
            vm.push(u.to_value());
            Ok(1)
        }
        Err(e) => Ok(push_error(vm, &e, None)),
    }
}

#[cfg(all(target_family = "wasm", target_os = "unknown"))]
fn make_tmpfile() -> IoResult<LuaFile> {
    Err(IoErr::new("Function not implemented", 38))
}

#[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
fn make_tmpfile() -> IoResult<LuaFile> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = match std::env::var_os("TMPDIR") {
        Some(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ if cfg!(any(unix, windows)) => std::env::temp_dir(),
        _ => std::path::PathBuf::from("/tmp"),
    };
    let pid = if cfg!(any(unix, windows)) { std::process::id() } else { 0 };
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut last = IoErr::inval();
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("lua_tmp_{pid:x}_{:x}", t.wrapping_add(n.wrapping_mul(0x9e37_79b9))));
        match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
            Ok(f) => {
                let mut lf = LuaFile::new(Stream::File(f), FileKind::File);
                // Unix can unlink an open file; elsewhere remove it on close.
                if !(cfg!(unix) && std::fs::remove_file(&path).is_ok()) {
                    lf.remove_on_close = Some(path);
                }
                return Ok(lf);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = IoErr::from(e),
            Err(e) => return Err(IoErr::from(e)),
        }
    }
    Err(last)
}

fn io_close(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    // Without the standard streams there is no default output to close.
    let u = if nargs > 0 || !crate::stdlib::lib(vm).caps.io {
        to_file(vm, base, nargs)?
    } else {
        let st = state(vm)?;
        match file_ud(st.get_int(S_OUTPUT)) {
            Some(u) if lf(&u).is_some_and(|f| f.stream.is_some()) => u,
            _ => return Err(vm.rt_error("attempt to use a closed file")),
        }
    };
    Ok(close_file(vm, u))
}

fn close_file(vm: &mut Vm, u: GcRef<Userdata>) -> usize {
    let Some(mut f) = lf(&u) else { return 0 };
    if f.kind == FileKind::Std {
        vm.push(Value::NIL);
        let m = vm.str_value(b"cannot close standard file");
        vm.push(m);
        return 2;
    }
    let pipe = f.kind == FileKind::Pipe;
    let r = f.close();
    // A pipe's close reports only whether waiting for the command worked.
    file_result(vm, if pipe { Ok(()) } else { r }, None)
}

fn io_read(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = std_file(vm, S_INPUT)?;
    read_impl(vm, u, base, nargs, 0).map(|r| r.count(vm))
}

fn f_read(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = to_file(vm, base, nargs)?;
    read_impl(vm, u, base, nargs, 1).map(|r| r.count(vm))
}

enum ReadOutcome {
    /// This many results were pushed.
    Values(usize),
    /// An I/O error: nothing pushed.
    Failed(IoErr),
}

impl ReadOutcome {
    /// The result count for `read`: the values, or `nil, message, errno`.
    fn count(self, vm: &mut Vm) -> usize {
        match self {
            ReadOutcome::Values(n) => n,
            ReadOutcome::Failed(e) => push_error(vm, &e, None),
        }
    }
}

/// Why reading stopped early.
enum ReadErr {
    Io(IoErr),
    /// Argument `i` (0-based) is a string that is no format.
    Format(usize),
    /// Argument `i` is neither a string nor a number.
    Option(usize),
    /// A limit stopped the read (its work is charged to the budget).
    Stop(crate::vm::LuaError),
}

impl From<IoErr> for ReadErr {
    fn from(e: IoErr) -> ReadErr {
        ReadErr::Io(e)
    }
}

/// `io_file_read`: reads with the formats at `stack[base+start .. base+nargs]`.
fn read_impl(vm: &mut Vm, u: GcRef<Userdata>, base: usize, nargs: usize, start: usize) -> LResult<ReadOutcome> {
    let top = vm.top;
    let mut ok = true;
    let mut n = 0;
    match read_formats(vm, u, base, nargs, start, &mut n, &mut ok) {
        Ok(()) => {
            if !ok && n > 0 {
                let t = vm.top - 1;
                vm.stack[t] = Value::NIL;
            }
            Ok(ReadOutcome::Values(n))
        }
        Err(ReadErr::Format(i)) => Err(vm.arg_error(i + 1, "invalid format")),
        Err(ReadErr::Option(i)) => Err(vm.arg_error(i + 1, "invalid option")),
        Err(ReadErr::Stop(e)) => {
            vm.top = top;
            Err(e)
        }
        Err(ReadErr::Io(e)) if e.code == NOMEM => {
            vm.top = top;
            Err(vm.mem_error())
        }
        Err(ReadErr::Io(e)) => {
            vm.top = top;
            Ok(ReadOutcome::Failed(e))
        }
    }
}

fn read_formats(
    vm: &mut Vm,
    u: GcRef<Userdata>,
    base: usize,
    nargs: usize,
    start: usize,
    n: &mut usize,
    ok: &mut bool,
) -> Result<(), ReadErr> {
    let Some(mut f) = lf(&u) else { return Err(ReadErr::Io(IoErr::badf())) };
    // What a string read may take: half what the memory limit leaves (while the
    // buffer grows, its old and new blocks are both live), below LuaJIT's longest
    // string.
    let limit = |vm: &Vm| (vm.heap.room() / 2).min(crate::stdlib::string::MAX_STR - 1);
    if nargs <= start {
        let (s, good) = f.read_line(true, limit(vm))?;
        vm.charge_bytes(s.len()).map_err(ReadErr::Stop)?;
        let v = vm.str_value_owned(s);
        vm.push(v);
        *n = 1;
        *ok = good;
        return Ok(());
    }
    for i in start..nargs {
        if !*ok {
            break;
        }
        let a = vm.stack[base + i];
        let v = if let Some(s) = a.as_string() {
            let b = s.as_bytes();
            let p = b.strip_prefix(b"*").unwrap_or(b);
            match p.first().copied().unwrap_or(0) {
                b'n' => {
                    let x = f.read_number()?;
                    *ok = x.is_some();
                    x.map_or(Value::NIL, Value::number)
                }
                c @ (b'l' | b'L') => {
                    let (s, good) = f.read_line(c == b'l', limit(vm))?;
                    *ok = good;
                    vm.charge_bytes(s.len()).map_err(ReadErr::Stop)?;
                    vm.str_value_owned(s)
                }
                b'a' => {
                    let s = f.read_all(limit(vm))?;
                    vm.charge_bytes(s.len()).map_err(ReadErr::Stop)?;
                    vm.str_value_owned(s)
                }
                _ => return Err(ReadErr::Format(i)),
            }
        } else if let Some(x) = a.as_number() {
            // LuaJIT converts the count to an unsigned 32-bit size.
            let m = crate::stdlib::num_to_int(x) as u32 as usize;
            let (s, good) = f.read_len(m, limit(vm))?;
            *ok = good;
            vm.charge_bytes(s.len()).map_err(ReadErr::Stop)?;
            vm.str_value_owned(s)
        } else {
            return Err(ReadErr::Option(i));
        };
        vm.push(v);
        *n += 1;
    }
    Ok(())
}

fn io_write(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = std_file(vm, S_OUTPUT)?;
    write_impl(vm, u, base, nargs, 0)
}

fn f_write(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = to_file(vm, base, nargs)?;
    write_impl(vm, u, base, nargs, 1)
}

fn write_impl(vm: &mut Vm, u: GcRef<Userdata>, base: usize, nargs: usize, start: usize) -> LResult<usize> {
    let mut out = Vec::new();
    let mut bad = None;
    for i in start..nargs {
        let v = vm.stack[base + i];
        if let Some(s) = v.as_string() {
            out.extend_from_slice(s.as_bytes());
        } else if v.is_number() {
            out.extend_from_slice(&vm.tostring_basic(v));
        } else {
            bad = Some(i);
            break;
        }
    }
    let Some(mut f) = lf(&u) else { return Err(vm.rt_error("attempt to use a closed file")) };
    let r = if f.is_stdout() {
        vm.write_stdout(&out);
        if f.vbuf == VBuf::No && vm.output.is_none() {
            let _ = std::io::stdout().flush();
        }
        Ok(())
    } else {
        f.write(&out)
    };
    if let Some(i) = bad {
        return Err(vm.type_arg_error(base, nargs, i, "string"));
    }
    Ok(file_result(vm, r, None))
}

fn io_flush(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let u = std_file(vm, S_OUTPUT)?;
    flush_file(vm, u)
}

fn f_flush(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = to_file(vm, base, nargs)?;
    flush_file(vm, u)
}

fn flush_file(vm: &mut Vm, u: GcRef<Userdata>) -> LResult<usize> {
    let r = match lf(&u) {
        Some(f) if f.is_stdout() && vm.output.is_some() => Ok(()),
        Some(mut f) => f.flush(),
        None => Err(IoErr::badf()),
    };
    Ok(file_result(vm, r, None))
}

fn f_seek(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = to_file(vm, base, nargs)?;
    let whence = match vm.opt_str(base, nargs, 1)? {
        None => b'c',
        Some(s) => match s.as_bytes() {
            b"set" => b's',
            b"cur" => b'c',
            b"end" => b'e',
            other => {
                let o = String::from_utf8_lossy(other).into_owned();
                return Err(vm.arg_error(2, &format!("invalid option '{o}'")));
            }
        },
    };
    let o = vm.arg(base, nargs, 2);
    let ofs = if let Some(n) = o.as_number() {
        crate::stdlib::num_to_int(n)
    } else if o.is_nil() {
        0
    } else {
        return Err(vm.type_arg_error(base, nargs, 2, "number"));
    };
    let r = match lf(&u) {
        Some(mut f) => f.seek(whence, ofs),
        None => Err(IoErr::badf()),
    };
    match r {
        Ok(p) => {
            vm.push(Value::number(p as f64));
            Ok(1)
        }
        Err(e) => Ok(push_error(vm, &e, None)),
    }
}

fn f_setvbuf(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let u = to_file(vm, base, nargs)?;
    let mode = match vm.check_str(base, nargs, 1)?.as_bytes() {
        b"full" => VBuf::Full,
        b"line" => VBuf::Line,
        b"no" => VBuf::No,
        other => {
            let o = String::from_utf8_lossy(other).into_owned();
            return Err(vm.arg_error(2, &format!("invalid option '{o}'")));
        }
    };
    let size = vm.opt_int(base, nargs, 2, BUFSIZE as i64)?;
    let r = match lf(&u) {
        Some(mut f) => f.flush_wbuf().map(|()| {
            f.vbuf = mode;
            f.bufsize = usize::try_from(size).unwrap_or(BUFSIZE).clamp(1, 1 << 24);
        }),
        None => Err(IoErr::badf()),
    };
    Ok(file_result(vm, r, None))
}

/// Pushes the `lines` iterator over `vals[0]` (the file) with formats `vals[1..]`.
fn push_lines_iter(vm: &mut Vm, vals: Vec<Value>) -> LResult<usize> {
    if vals.len() > MAX_LINE_FORMATS {
        return Err(vm.rt_error("too many results to unpack"));
    }
    let it = vm.native_closure(lines_iter, "lines_iter", vals);
    vm.push(it);
    Ok(1)
}

fn f_lines(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    to_file(vm, base, nargs)?;
    let vals = vm.stack[base..base + nargs].to_vec();
    push_lines_iter(vm, vals)
}

fn io_lines(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let st = state(vm)?;
    let first = vm.arg(base, nargs, 0);
    let fv = if first.is_nil() && crate::stdlib::lib(vm).caps.io {
        st.get_int(S_INPUT)
    } else {
        let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
        match fopen(vm, c_name(&name), b"r") {
            Ok(mut f) => {
                f.close_at_eof = true;
                new_file(vm, st, f)?.to_value()
            }
            Err(e) => {
                let msg = format!("{}: {}", String::from_utf8_lossy(c_name(&name)), e.msg);
                return Err(vm.arg_error(1, &msg));
            }
        }
    };
    let mut vals = vec![fv];
    vals.extend_from_slice(&vm.stack[(base + 1).min(base + nargs)..base + nargs]);
    push_lines_iter(vm, vals)
}

/// The running native closure's upvalues.
fn own_upvals(vm: &Vm) -> Vec<Value> {
    let Some(fr) = vm.frames.last() else { return Vec::new() };
    let v = vm.stack[fr.func];
    if v.func_kind() != Some(crate::gc::Kind::NativeFunction) {
        return Vec::new();
    }
    let nf: GcRef<crate::vm::NativeFunction> = GcRef::from_value_payload(v);
    (0..nf.nupvals()).map(|i| nf.upval(i)).collect()
}

fn lines_iter(vm: &mut Vm, base: usize, _nargs: usize) -> LResult<usize> {
    let ups = own_upvals(vm);
    let Some(u) = ups.first().and_then(|&v| file_ud(v)) else {
        return Err(vm.rt_error("attempt to use a closed file"));
    };
    if lf(&u).is_none_or(|f| f.stream.is_none()) {
        return Err(vm.rt_error("attempt to use a closed file"));
    }
    // The formats replace the arguments, as LuaJIT copies them to its stack.
    vm.top = base;
    for &v in &ups[1..] {
        vm.push(v);
    }
    let nfmt = ups.len() - 1;
    match read_impl(vm, u, base, nfmt, 0)? {
        ReadOutcome::Failed(e) => Err(vm.rt_error(&e.msg)),
        ReadOutcome::Values(n) => {
            let first = vm.stack[vm.top - n];
            let closing = lf(&u).is_some_and(|f| f.close_at_eof);
            if first.is_nil() && closing {
                if let Some(mut f) = lf(&u) {
                    let _ = f.close();
                }
                return Ok(0);
            }
            // Results sit above the formats: move them down over them.
            let from = vm.top - n;
            vm.stack.copy_within(from..from + n, base);
            vm.top = base + n;
            Ok(n)
        }
    }
}

fn std_getset(vm: &mut Vm, base: usize, nargs: usize, slot: i64, mode: &[u8]) -> LResult<usize> {
    let st = state(vm)?;
    let a = vm.arg(base, nargs, 0);
    if !a.is_nil() {
        let v = if a.as_userdata().is_some() {
            to_file(vm, base, nargs)?.to_value()
        } else {
            let name = vm.check_str(base, nargs, 0)?.as_bytes().to_vec();
            match fopen(vm, c_name(&name), mode) {
                Ok(f) => new_file(vm, st, f)?.to_value(),
                Err(e) => {
                    let msg = format!("{}: {}", String::from_utf8_lossy(c_name(&name)), e.msg);
                    return Err(vm.arg_error(1, &msg));
                }
            }
        };
        vm.raw_set(st, Value::number(slot as f64), v)?;
    }
    vm.push(st.get_int(slot));
    Ok(1)
}

fn io_input(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    std_getset(vm, base, nargs, S_INPUT, b"r")
}

fn io_output(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    std_getset(vm, base, nargs, S_OUTPUT, b"w")
}

fn io_type(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let v = vm.check_any(base, nargs, 0)?;
    let r = match file_ud(v).and_then(|u| lf(&u).map(|f| f.stream.is_some())) {
        None => Value::NIL,
        Some(true) => vm.str_value(b"file"),
        Some(false) => vm.str_value(b"closed file"),
    };
    vm.push(r);
    Ok(1)
}

fn f_gc(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let Some(u) = file_ud(vm.arg(base, nargs, 0)) else { return Err(vm.type_arg_error(base, nargs, 0, "FILE*")) };
    if let Some(mut f) = lf(&u) {
        if f.stream.is_some() && f.kind != FileKind::Std {
            let _ = f.close();
        }
    }
    Ok(0)
}

fn f_tostring(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let Some(u) = file_ud(vm.arg(base, nargs, 0)) else { return Err(vm.type_arg_error(base, nargs, 0, "FILE*")) };
    let open = lf(&u).is_some_and(|f| f.stream.is_some());
    let s = if open { format!("file (0x{:08x})", u.addr()) } else { "file (closed)".to_string() };
    let v = vm.str_value(s.as_bytes());
    vm.push(v);
    Ok(1)
}
