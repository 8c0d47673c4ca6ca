//! The `os` library, as LuaJIT 2.1 on glibc behaves.
//!
//! - `time`, `date`, `difftime`: calendar arithmetic in Rust (`calendar`), local time
//!   from `TZ` / `/etc/localtime` (`tz`), glibc's `mktime` normalisation and DST
//!   handling, glibc's `strftime` (C locale) including its flags and its handling of
//!   unknown conversions (LuaJIT 2.1 passes formats through, so there is no
//!   "invalid conversion" error). Times convert to `time_t` as C casts do on x86-64
//!   (NaN and out-of-range values become the minimum, which no date can represent).
//! - `clock`: CPU time of the calling thread (Linux `schedstat`, microsecond
//!   resolution like glibc's `clock()`), else time since first use.
//! - `execute` returns the raw `system()` status (LuaJIT 2.1 without 5.2 compat);
//!   `remove`/`rename` return `nil, "name: message", errno` on failure.
//! - Without processes or a file system (wasm32), `execute` answers -1 (0 without a
//!   command), file operations fail like the C library would, `exit` is an error on
//!   wasm32-unknown-unknown, and `time`/`clock` read 0 there (no clock).
//! - `setlocale` sets the C library's locale in a state that may call C (the FFI's
//!   `calls` level: C functions called through the FFI see it, as in LuaJIT);
//!   elsewhere it knows only the "C" locale ("POSIX" and "" select it). moonbox's
//!   own string and number functions behave as in the "C" locale either way.

mod calendar;
mod tz;

use calendar::{breakdown, strftime, Tm};

use super::caps::ClockResolution;
use crate::value::Value;
use crate::vm::{LResult, Vm};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
const HAS_CLOCK: bool = false;
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
const HAS_CLOCK: bool = true;

/// The functions with effects outside the state (registered only with `Caps::os`).
const SIDE_EFFECTS: &[&str] = &["execute", "remove", "rename", "tmpname", "getenv", "exit"];

pub fn open(vm: &mut Vm) {
    let os = crate::stdlib::lib(vm).caps.os;
    super::register_lib_granted(
        vm,
        "os",
        &[
            ("execute", execute),
            ("remove", remove),
            ("rename", rename),
            ("tmpname", tmpname),
            ("getenv", getenv),
            ("exit", exit),
            ("clock", clock),
            ("date", date),
            ("time", time),
            ("difftime", difftime),
            ("setlocale", setlocale),
        ],
        |n| os || !SIDE_EFFECTS.contains(&n),
    );
}

// ----- Helpers --------------------------------------------------------------------------

/// C's `(time_t)n` on x86-64: truncation; NaN and out-of-range give the minimum.
pub fn to_time_t(n: f64) -> i64 {
    if n > -9.223_372_036_854_776e18 && n < 9.223_372_036_854_776e18 {
        n as i64
    } else {
        i64::MIN
    }
}

/// `time(NULL)`.
fn now() -> i64 {
    if !HAS_CLOCK {
        return 0;
    }
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            -i64::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i64::MAX)
        }
    }
}

/// A Lua string as a C string: cut at the first NUL.
fn c_bytes(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

#[cfg(any(unix, target_os = "wasi"))]
fn path_of(b: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    use std::os::unix::ffi::OsStrExt;
    #[cfg(target_os = "wasi")]
    use std::os::wasi::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(b).into()
}

#[cfg(not(any(unix, target_os = "wasi")))]
fn path_of(b: &[u8]) -> std::path::PathBuf {
    String::from_utf8_lossy(b).into_owned().into()
}

/// `luaL_fileresult`: `true`, or `nil, "name: message", errno`.
fn file_result(vm: &mut Vm, r: std::io::Result<()>, name: &[u8]) -> LResult<usize> {
    match r {
        Ok(()) => {
            vm.push(Value::TRUE);
            Ok(1)
        }
        Err(e) => {
            let mut msg = name.to_vec();
            msg.extend_from_slice(b": ");
            msg.extend_from_slice(super::base::io_error_text(&e).as_bytes());
            vm.push(Value::NIL);
            let m = vm.str_value(&msg);
            vm.push(m);
            vm.push(Value::number(f64::from(e.raw_os_error().unwrap_or(0))));
            Ok(3)
        }
    }
}

fn flush_std() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

// ----- Processes and files ----------------------------------------------------------------

#[cfg(unix)]
fn system(cmd: &[u8]) -> f64 {
    use std::os::unix::process::ExitStatusExt;
    flush_std();
    match std::process::Command::new("/bin/sh").arg("-c").arg(path_of(cmd).as_os_str()).status() {
        Ok(st) => f64::from(st.into_raw()),
        // The shell could not run: the child's `_exit(127)`.
        Err(_) => f64::from(127 << 8),
    }
}

#[cfg(not(unix))]
fn system(_cmd: &[u8]) -> f64 {
    -1.0
}

fn execute(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let r = match vm.opt_str(base, nargs, 0)? {
        Some(s) => system(c_bytes(s.as_bytes())),
        // system(NULL): is a shell available?
        None => f64::from(u8::from(cfg!(unix) && std::path::Path::new("/bin/sh").exists())),
    };
    vm.push(Value::number(r));
    Ok(1)
}

fn remove(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let name = c_bytes(s.as_bytes()).to_vec();
    let p = path_of(&name);
    // C's remove(): unlink, and rmdir if it is a directory.
    let r = match std::fs::remove_file(&p) {
        Err(e) if e.raw_os_error() == Some(21) || (e.kind() != std::io::ErrorKind::NotFound && p.is_dir()) => {
            std::fs::remove_dir(&p)
        }
        r => r,
    };
    file_result(vm, r, &name)
}

fn rename(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let from = vm.check_str(base, nargs, 0)?;
    let to = vm.check_str(base, nargs, 1)?;
    let from = c_bytes(from.as_bytes()).to_vec();
    let r = std::fs::rename(path_of(&from), path_of(c_bytes(to.as_bytes())));
    file_result(vm, r, &from)
}

/// splitmix64 over a few per-call inputs: names for `tmpname`.
fn random_u64(counter: u64) -> u64 {
    let local = 0u8;
    let mut x = counter ^ (&local as *const u8 as u64).rotate_left(17);
    #[cfg(unix)]
    {
        x ^= u64::from(std::process::id()) << 32;
    }
    if HAS_CLOCK {
        if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            x ^= d.as_nanos() as u64;
        }
    }
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn tmpname(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    const CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for attempt in 0..100u64 {
        let mut r = random_u64(attempt);
        let mut name = b"/tmp/lua_".to_vec();
        for _ in 0..6 {
            name.push(CHARS[(r % 62) as usize]);
            r /= 62;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(path_of(&name)) {
            Ok(_) => {
                let s = vm.str_value(&name);
                vm.push(s);
                return Ok(1);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => break,
        }
    }
    Err(vm.rt_error("unable to generate a unique filename"))
}

fn getenv(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let s = vm.check_str(base, nargs, 0)?;
    let name = c_bytes(s.as_bytes()).to_vec();
    let mut r = Value::NIL;
    if !name.is_empty() && !name.contains(&b'=') {
        if let Some(v) = std::env::var_os(path_of(&name).as_os_str()) {
            #[cfg(any(unix, target_os = "wasi"))]
            let bytes = {
                #[cfg(unix)]
                use std::os::unix::ffi::OsStrExt;
                #[cfg(target_os = "wasi")]
                use std::os::wasi::ffi::OsStrExt;
                v.as_bytes().to_vec()
            };
            #[cfg(not(any(unix, target_os = "wasi")))]
            let bytes = v.to_string_lossy().into_owned().into_bytes();
            r = vm.str_value(c_bytes(&bytes));
        }
    }
    vm.push(r);
    Ok(1)
}

fn exit(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = vm.arg(base, nargs, 0);
    let code = match a.as_bool() {
        Some(b) => i32::from(!b),
        None if a.is_nil() => 0,
        None => super::table::num2int(vm.check_number(base, nargs, 0)?),
    };
    if cfg!(all(target_arch = "wasm32", target_os = "unknown")) {
        return Err(vm.rt_error("os.exit is not available on this platform"));
    }
    // Files the io library buffers are flushed too, as C's exit() flushes stdio.
    crate::stdlib::io::flush_all(vm);
    flush_std();
    std::process::exit(code)
}

// ----- Time -------------------------------------------------------------------------------

/// CPU seconds, as glibc's `clock() / CLOCKS_PER_SEC`.
fn cpu_time() -> f64 {
    if !HAS_CLOCK {
        return 0.0;
    }
    for p in ["/proc/thread-self/schedstat", "/proc/self/schedstat"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            if let Some(ns) = s.split_whitespace().next().and_then(|w| w.parse::<u64>().ok()) {
                return (ns / 1000) as f64 * (1.0 / 1e6);
            }
        }
    }
    thread_local! {
        static START: std::time::Instant = std::time::Instant::now();
    }
    START.with(|s| (s.elapsed().as_micros() as f64) * (1.0 / 1e6))
}

fn clock(vm: &mut Vm, _base: usize, _nargs: usize) -> LResult<usize> {
    let t = match crate::stdlib::lib(vm).caps.clock {
        ClockResolution::Precise => cpu_time(),
        ClockResolution::Coarse => (cpu_time() * 1000.0).floor() / 1000.0,
    };
    vm.push(Value::number(t));
    Ok(1)
}

fn difftime(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let a = to_time_t(vm.check_number(base, nargs, 0)?);
    let b = to_time_t(vm.opt_number(base, nargs, 1, 0.0)?);
    vm.push(Value::number((i128::from(a) - i128::from(b)) as f64));
    Ok(1)
}

/// `mktime` in the current zone; C's -1 on error.
fn mktime_local(tm: &Tm) -> i64 {
    tz::mktime(&tz::current(), tm).unwrap_or(-1)
}

/// The size `os.date`'s output buffer reaches on its last try: LuaJIT starts from 30
/// bytes per '%' and 1 per other byte and grows it 4 times (`sz += sz|1`) while
/// `strftime` fails; its buffer doubles from 32.
fn date_buffer_size(fmt: &[u8]) -> usize {
    let mut sz: u64 = fmt.iter().map(|&c| if c == b'%' { 30u64 } else { 1 }).sum();
    for _ in 0..3 {
        sz = sz.saturating_add(sz | 1);
    }
    let mut cap: u64 = 32;
    while cap < sz {
        cap = cap.saturating_mul(2);
    }
    usize::try_from(cap).unwrap_or(usize::MAX)
}

fn date(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let fmt = match vm.opt_str(base, nargs, 0)? {
        Some(s) => {
            // The result may need the buffer LuaJIT sizes from the format (some 30
            // bytes a conversion, doubled up to four times): checked before anything
            // is built, and charged.
            let b = c_bytes(s.as_bytes());
            let need = date_buffer_size(b).saturating_add(b.len());
            vm.reserve_mem(need)?;
            vm.charge_bytes(need)?;
            b.to_vec()
        }
        None => b"%c".to_vec(),
    };
    let t = if vm.arg(base, nargs, 1).is_nil() { now() } else { to_time_t(vm.check_number(base, nargs, 1)?) };
    let (utc, fmt) = match fmt.strip_prefix(b"!") {
        Some(rest) => (true, rest),
        None => (false, &fmt[..]),
    };
    let tm = if utc {
        breakdown(t, 0).map(|mut tm| {
            tm.zone = "GMT".into();
            tm
        })
    } else {
        tz::current().localtime(t)
    };
    let Some(tm) = tm else {
        vm.push(Value::NIL);
        return Ok(1);
    };
    if fmt == b"*t" {
        let tab = vm.new_table(0, 9);
        let fields = [
            ("sec", tm.sec),
            ("min", tm.min),
            ("hour", tm.hour),
            ("day", tm.mday),
            ("month", tm.mon.wrapping_add(1)),
            ("year", tm.year.wrapping_add(1900)),
            ("wday", tm.wday.wrapping_add(1)),
            ("yday", tm.yday.wrapping_add(1)),
        ];
        for (k, v) in fields {
            vm.set_field(tab, k, Value::number(f64::from(v)));
        }
        vm.set_field(tab, "isdst", Value::boolean(tm.isdst > 0));
        vm.push(tab.to_value());
        return Ok(1);
    }
    if fmt.is_empty() {
        let s = vm.str_value(b"");
        vm.push(s);
        return Ok(1);
    }
    match strftime(fmt, &tm, date_buffer_size(fmt), &mut mktime_local) {
        Some(out) if !out.is_empty() => {
            let s = vm.str_value(&out);
            vm.push(s);
        }
        // LuaJIT gives up after four tries and returns whatever is on top of the
        // stack: the last argument.
        _ => {
            let last = if nargs > 0 { vm.stack[base + nargs - 1] } else { Value::NIL };
            vm.push(last);
        }
    }
    Ok(1)
}

/// `lua_tointeger` then a cast to C `int`, as LuaJIT's `os.time` reads fields.
fn to_c_int(n: f64) -> i32 {
    to_time_t(n) as i32
}

fn time(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if vm.arg(base, nargs, 0).is_nil() {
        let t = now();
        vm.push(Value::number(t as f64));
        return Ok(1);
    }
    let t = vm.check_table(base, nargs, 0)?.to_value();
    let field = |vm: &mut Vm, key: &str, d: i32| -> LResult<i32> {
        let k = vm.str_value(key.as_bytes());
        let v = vm.index_value(t, k)?;
        match Vm::to_arith_number(v) {
            Some(n) => Ok(to_c_int(n)),
            None if d < 0 => Err(vm.rt_error(&format!("field '{key}' missing in date table"))),
            None => Ok(d),
        }
    };
    let mut tm = Tm {
        sec: field(vm, "sec", 0)?,
        min: field(vm, "min", 0)?,
        hour: field(vm, "hour", 12)?,
        mday: field(vm, "day", -1)?,
        ..Tm::default()
    };
    tm.mon = field(vm, "month", -1)?.wrapping_sub(1);
    tm.year = field(vm, "year", -1)?.wrapping_sub(1900);
    let k = vm.str_value(b"isdst");
    let d = vm.index_value(t, k)?;
    tm.isdst = if d.is_nil() { -1 } else { i32::from(d.truthy()) };
    match tz::mktime(&tz::current(), &tm) {
        Some(r) if r != -1 => vm.push(Value::number(r as f64)),
        _ => vm.push(Value::NIL),
    }
    Ok(1)
}

fn setlocale(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let name = vm.opt_str(base, nargs, 0)?.map(|s| c_bytes(s.as_bytes()).to_vec());
    const CATS: [&[u8]; 7] = [b"ctype", b"numeric", b"time", b"collate", b"monetary", b"\xff", b"all"];
    let mut cat: &[u8] = b"all";
    if let Some(c) = vm.opt_str(base, nargs, 1)? {
        if !CATS.contains(&c.as_bytes()) {
            let msg = format!("invalid option '{}'", c.to_str_lossy());
            return Err(vm.arg_error(2, &msg));
        }
        cat = CATS.iter().copied().find(|k| *k == c.as_bytes()).unwrap_or(b"all");
    }
    if crate::ffi::state::level(vm) == crate::stdlib::caps::FfiLevel::Calls {
        // A state that calls C sets the C library's locale, for the C functions it
        // calls (`towupper`), as LuaJIT does.
        let r = crate::ffi::call::set_c_locale(cat, name.as_deref()).map_or(Value::NIL, |n| vm.str_value(&n));
        vm.push(r);
        return Ok(1);
    }
    let r = match name.as_deref() {
        None | Some(b"C") | Some(b"POSIX") | Some(b"") => vm.str_value(b"C"),
        Some(_) => Value::NIL,
    };
    vm.push(r);
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_t_casts() {
        assert_eq!(to_time_t(1.9), 1);
        assert_eq!(to_time_t(-0.5), 0);
        assert_eq!(to_time_t(f64::NAN), i64::MIN);
        assert_eq!(to_time_t(f64::INFINITY), i64::MIN);
        assert_eq!(to_time_t(9.3e18), i64::MIN);
        assert_eq!(to_c_int(2f64.powi(31)), i32::MIN);
        assert_eq!(to_c_int(2f64.powi(40)), 0);
    }

    #[test]
    fn date_buffer() {
        // "%2000Y": 34 -> 69 -> 138 -> 277 bytes, in a 512-byte buffer.
        assert_eq!(date_buffer_size(b"%2000Y"), 512);
        assert_eq!(date_buffer_size(b"%30Y|%31Y|%32Y"), 1024);
    }
}
