//! The core of `string.format`, byte-compatible with LuaJIT 2.1.
//!
//! # Contract
//!
//! [`format`] interprets a format string the way LuaJIT's `lj_strfmt_parse`
//! and `lj_strfmt_putarg` do and appends the result to `out`. The VM supplies
//! the arguments through [`FormatArgs`]; everything that needs the VM
//! (type checks with "got X" messages, `__tostring`, `tostring` of tables,
//! pointers for `%p`) stays on its side.
//!
//! Specification syntax: `%[flags][width][.precision]conversion` with
//!
//! * flags: any number of `-`, `+`, ` `, `#`, `0` in any order (repeats are
//!   fine: LuaJIT has no "repeated flags" error);
//! * width: at most two digits; precision: `.` plus at most two digits (a
//!   bare `.` is precision 0). A third digit is taken as the conversion and
//!   rejected: `%100d` -> "invalid option '%100' to 'format'" (LuaJIT has no
//!   "width or precision too long" message);
//! * conversions `d i u c o x X e E f F g G a A q s p` and `%%`.
//!
//! Anything else raises [`FormatError::InvalidOption`] whose payload is the
//! text from the `%` up to and including the offending byte, unless that byte
//! is a control character (< 32) or the end of the string, in which case it
//! is left out: `"%y"` -> `%y`, `"%"` -> `%`, `"%5."` -> `%5.`.
//!
//! Notable LuaJIT behaviours reproduced here (all verified against the
//! reference `luajit` 2.1-20230119 binary):
//!
//! * `%d`/`%i` truncate toward zero through a 64-bit integer; NaN, +-inf and
//!   values outside [-2^63, 2^63) give -9223372036854775808 (x86-64
//!   `cvttsd2si`). `("%d"):format(3.7) == "3"`, `("%d"):format(-0.0) == "0"`.
//! * `%u %x %X %o` go through an unsigned 64-bit integer: negative values
//!   wrap (`("%x"):format(-1) == "ffffffffffffffff"`), values in
//!   [2^63, 2^64) are exact, [2^64, 2^64+2^63) wrap around to small values
//!   and the rest (and NaN/inf) give 0x8000000000000000. `+` and ` ` do not
//!   apply to unsigned conversions.
//! * `%c` converts through a 32-bit integer (out of range -> 0x80000000) and
//!   emits the low byte; width pads with spaces (the `0` flag is ignored).
//! * `%s` honours width and precision; `%q` ignores both. `%q` escapes `"`,
//!   `\` and newline with a backslash, writes other control characters
//!   (0-31, 127) as `\ddd` decimal (three digits only if a digit follows)
//!   and passes bytes >= 128 through unchanged.
//! * `%e %f %g`: a port of LuaJIT's algorithm (`crate::number::format_float`),
//!   correctly rounded with ties as selected by
//!   [`crate::number::TIES_TO_EVEN`], including LuaJIT's odd padding of some
//!   `%g` results; `inf`/`nan` (upper-case for `E F G A`),
//!   never `-nan`; for NaN the `+` flag is ignored but ` ` is honoured;
//!   the `0` flag pads infinities and NaNs with spaces.
//! * `%a` uses LuaJIT's own algorithm: shortest exact hex digits by default,
//!   rounding half up at lower precision, a leading digit that can become
//!   `2` (`("%.1a"):format(1.96875) == "0x2.0p+0"`), denormals normalised
//!   (`0x1p-1074`).

use crate::number;

/// A numeric argument as seen by `string.format`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FormatNumber {
    /// A Lua number (or a string the VM coerced with
    /// [`crate::number::str2number`], as `lj_lib_checknum` does).
    Num(f64),
    /// FFI `int64_t` cdata: accepted by the integer conversions only.
    Int64(i64),
    /// FFI `uint64_t` cdata: accepted by the integer conversions only.
    UInt64(u64),
}

/// Access to the arguments of one `string.format` call.
///
/// Argument numbers are Lua argument positions: the format string itself is
/// argument 1, the first value to format is argument 2.
pub trait FormatArgs {
    /// Error type produced by [`FormatArgs::string`] (e.g. an error raised
    /// inside a `__tostring` metamethod).
    type Error;

    /// Total number of arguments passed, including the format string.
    fn arg_count(&self) -> usize;

    /// Argument `arg` as a number: numbers, and strings that
    /// [`crate::number::str2number`] accepts (and, with FFI, 64-bit integer
    /// cdata). `None` makes [`format`] fail with
    /// [`FormatError::NotANumber`].
    fn number(&mut self, arg: usize) -> Option<FormatNumber>;

    /// Argument `arg` converted like LuaJIT's `%s` does (`__tostring` called
    /// once if present, else `tostring` semantics: "nil", "true", numbers via
    /// [`crate::number::fmt_number`], "table: 0x..." etc.). The bytes are
    /// passed to `sink` exactly once on success; `quoted` says that they are
    /// formatted by `%q` (which may take up to four bytes for one).
    fn string(&mut self, arg: usize, quoted: bool, sink: &mut dyn FnMut(&[u8])) -> Result<(), Self::Error>;

    /// Called before up to `bytes` more are appended (literal text, a number): a
    /// host with a memory limit or a work budget checks it here.
    fn reserve(&mut self, bytes: usize) -> Result<(), Self::Error> {
        let _ = bytes;
        Ok(())
    }

    /// Address shown by `%p` for argument `arg`; 0 (printed as `NULL`) for
    /// values that are not GC objects or light userdata.
    fn pointer(&mut self, arg: usize) -> usize {
        let _ = arg;
        0
    }
}

/// Why [`format`] failed. `arg` is always the Lua argument number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError<E> {
    /// "invalid option '<spec>' to 'format'"; carries `<spec>` (raw bytes).
    InvalidOption(Vec<u8>),
    /// "bad argument #<arg> to 'format' (value expected)".
    NoValue { arg: usize },
    /// "bad argument #<arg> to 'format' (number expected, got <type>)"; the
    /// VM knows the type name.
    NotANumber { arg: usize },
    /// Error returned by [`FormatArgs::string`].
    Arg(E),
}

impl<E: core::fmt::Display> core::fmt::Display for FormatError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FormatError::InvalidOption(spec) => {
                write!(f, "invalid option '{}' to 'format'", String::from_utf8_lossy(spec))
            }
            FormatError::NoValue { arg } => {
                write!(f, "bad argument #{arg} to 'format' (value expected)")
            }
            FormatError::NotANumber { arg } => {
                write!(f, "bad argument #{arg} to 'format' (number expected)")
            }
            FormatError::Arg(e) => e.fmt(f),
        }
    }
}

/// Conversion kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// `%d`, `%i`.
    Int,
    /// `%u`.
    Uint,
    /// `%x`, `%X`.
    Hex,
    /// `%o`.
    Oct,
    /// `%c`.
    Char,
    /// `%e`, `%E`.
    FloatE,
    /// `%f`, `%F`.
    FloatF,
    /// `%g`, `%G`.
    FloatG,
    /// `%a`, `%A`.
    FloatA,
    /// `%s`.
    Str,
    /// `%q`.
    Quoted,
    /// `%p`.
    Ptr,
}

/// One parsed conversion specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub conv: Conv,
    /// `-`
    pub left: bool,
    /// `+`
    pub plus: bool,
    /// ` `
    pub space: bool,
    /// `0`
    pub zero: bool,
    /// `#`
    pub alt: bool,
    /// Upper-case conversion letter (`X E F G A`).
    pub upper: bool,
    /// 0..=99.
    pub width: usize,
    /// `None` when absent; otherwise 0..=99.
    pub precision: Option<usize>,
}

impl Spec {
    fn plain(conv: Conv) -> Self {
        Spec {
            conv,
            left: false,
            plus: false,
            space: false,
            zero: false,
            alt: false,
            upper: false,
            width: 0,
            precision: None,
        }
    }
}

/// Parse the specification starting at `fmt[pos] == b'%'` (which must not be
/// `%%`). Returns the spec and the index after it, or the text of the
/// invalid option.
pub fn parse_spec(fmt: &[u8], pos: usize) -> Result<(Spec, usize), Vec<u8>> {
    // Reading past the end sees LuaJIT's terminating NUL.
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    let mut p = pos + 1;
    let mut sp = Spec::plain(Conv::Int);
    loop {
        match at(p) {
            b'-' => sp.left = true,
            b'+' => sp.plus = true,
            b'0' => sp.zero = true,
            b' ' => sp.space = true,
            b'#' => sp.alt = true,
            _ => break,
        }
        p += 1;
    }
    if at(p).is_ascii_digit() {
        sp.width = usize::from(at(p) - b'0');
        p += 1;
        if at(p).is_ascii_digit() {
            sp.width = sp.width * 10 + usize::from(at(p) - b'0');
            p += 1;
        }
    }
    if at(p) == b'.' {
        p += 1;
        let mut prec = 0;
        if at(p).is_ascii_digit() {
            prec = usize::from(at(p) - b'0');
            p += 1;
            if at(p).is_ascii_digit() {
                prec = prec * 10 + usize::from(at(p) - b'0');
                p += 1;
            }
        }
        sp.precision = Some(prec);
    }
    let c = at(p);
    let conv = match c {
        b'd' | b'i' => Some(Conv::Int),
        b'u' => Some(Conv::Uint),
        b'x' | b'X' => Some(Conv::Hex),
        b'o' => Some(Conv::Oct),
        b'c' => Some(Conv::Char),
        b'e' | b'E' => Some(Conv::FloatE),
        b'f' | b'F' => Some(Conv::FloatF),
        b'g' | b'G' => Some(Conv::FloatG),
        b'a' | b'A' => Some(Conv::FloatA),
        b's' => Some(Conv::Str),
        b'q' => Some(Conv::Quoted),
        b'p' => Some(Conv::Ptr),
        _ => None,
    };
    match conv {
        Some(conv) => {
            sp.conv = conv;
            sp.upper = c.is_ascii_uppercase();
            Ok((sp, p + 1))
        }
        None => {
            let end = if c >= 32 { p + 1 } else { p };
            Err(fmt.get(pos..end.min(fmt.len())).unwrap_or(&[]).to_vec())
        }
    }
}

/// `string.format(fmt, ...)`: append the formatted result to `out`.
///
/// On error `out` may contain partial output; discard it.
/// The most bytes one conversion other than `%s`/`%q` appends (`%99.99f` of 1e308:
/// 309 digits, a point and 99 decimals).
pub const MAX_CONV_TEXT: usize = 512;

pub fn format<A: FormatArgs + ?Sized>(
    fmt: &[u8],
    args: &mut A,
    out: &mut Vec<u8>,
) -> Result<(), FormatError<A::Error>> {
    let narg = args.arg_count();
    let mut arg = 1usize;
    let mut i = 0;
    while i < fmt.len() {
        // Copy the literal run up to the next '%'.
        let lit_end = fmt[i..].iter().position(|&c| c == b'%').map_or(fmt.len(), |k| i + k);
        args.reserve(lit_end - i).map_err(FormatError::Arg)?;
        out.extend_from_slice(&fmt[i..lit_end]);
        i = lit_end;
        if i >= fmt.len() {
            break;
        }
        if fmt.get(i + 1) == Some(&b'%') {
            out.push(b'%');
            i += 2;
            continue;
        }
        let (spec, next) = parse_spec(fmt, i).map_err(FormatError::InvalidOption)?;
        i = next;
        arg += 1;
        if arg > narg {
            return Err(FormatError::NoValue { arg });
        }
        if !matches!(spec.conv, Conv::Str | Conv::Quoted) {
            args.reserve(MAX_CONV_TEXT).map_err(FormatError::Arg)?;
        }
        match spec.conv {
            Conv::Int | Conv::Uint | Conv::Hex | Conv::Oct => {
                let k = match args.number(arg) {
                    Some(FormatNumber::Num(n)) => {
                        if spec.conv == Conv::Int {
                            num2i64(n) as u64
                        } else {
                            num2u64(n)
                        }
                    }
                    Some(FormatNumber::Int64(v)) => v as u64,
                    Some(FormatNumber::UInt64(v)) => v,
                    None => return Err(FormatError::NotANumber { arg }),
                };
                put_int(out, &spec, k);
            }
            Conv::FloatE | Conv::FloatF | Conv::FloatG | Conv::FloatA => match args.number(arg) {
                Some(FormatNumber::Num(n)) => put_float(out, &spec, n),
                _ => return Err(FormatError::NotANumber { arg }),
            },
            Conv::Char => match args.number(arg) {
                Some(FormatNumber::Num(n)) => put_char(out, &spec, num2i32(n) as u8),
                _ => return Err(FormatError::NotANumber { arg }),
            },
            Conv::Str => {
                args.string(arg, false, &mut |s: &[u8]| put_str(out, &spec, s)).map_err(FormatError::Arg)?;
            }
            Conv::Quoted => {
                args.string(arg, true, &mut |s: &[u8]| put_quoted(out, s)).map_err(FormatError::Arg)?;
            }
            Conv::Ptr => put_ptr(out, args.pointer(arg)),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Number -> integer conversions (x86-64 LuaJIT semantics).
// ---------------------------------------------------------------------------

/// `(int64_t)n` as compiled for x86-64 (`cvttsd2si`): truncation, with NaN
/// and out-of-range values giving `i64::MIN`.
pub fn num2i64(n: f64) -> i64 {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// LuaJIT's conversion for `%u %x %o`: values >= 2^63 are reduced by 2^64
/// first, then converted like [`num2i64`].
pub fn num2u64(n: f64) -> u64 {
    if n >= 9223372036854775808.0 {
        num2i64(n - 18446744073709551616.0) as u64
    } else {
        num2i64(n) as u64
    }
}

/// `(int32_t)n` on x86-64: truncation, NaN/out of range -> `i32::MIN`.
pub fn num2i32(n: f64) -> i32 {
    if n > -2147483649.0 && n < 2147483648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

// ---------------------------------------------------------------------------
// Individual conversions.
// ---------------------------------------------------------------------------

fn pad(out: &mut Vec<u8>, c: u8, n: usize) {
    out.resize(out.len() + n, c);
}

/// `lj_strfmt_putfxint`: `%d %i %u %x %X %o` of a 64-bit pattern `k`.
pub fn put_int(out: &mut Vec<u8>, sp: &Spec, mut k: u64) {
    let mut buf = [0u8; 24];
    let mut q = buf.len();
    let mut prefix: Option<u8> = None; // sign or space
    let mut hexprefix: Option<u8> = None; // 'x' or 'X' after a '0'
    if sp.conv == Conv::Int {
        if (k as i64) < 0 {
            k = k.wrapping_neg();
            prefix = Some(b'-');
        } else if sp.plus {
            prefix = Some(b'+');
        } else if sp.space {
            prefix = Some(b' ');
        }
    }
    let zero_flag = sp.zero && sp.precision.is_none();
    let prec = sp.precision;
    if k == 0 {
        if prec != Some(0) || (sp.conv == Conv::Oct && sp.alt) {
            q -= 1;
            buf[q] = b'0';
        }
    } else {
        match sp.conv {
            Conv::Hex => {
                let digits: &[u8; 16] = if sp.upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
                while k != 0 && q > 0 {
                    q -= 1;
                    buf[q] = digits[(k & 15) as usize];
                    k >>= 4;
                }
                if sp.alt {
                    hexprefix = Some(if sp.upper { b'X' } else { b'x' });
                }
            }
            Conv::Oct => {
                while k != 0 && q > 0 {
                    q -= 1;
                    buf[q] = b'0' + (k & 7) as u8;
                    k >>= 3;
                }
                if sp.alt && q > 0 {
                    q -= 1;
                    buf[q] = b'0';
                }
            }
            _ => {
                while k != 0 && q > 0 {
                    q -= 1;
                    buf[q] = b'0' + (k % 10) as u8;
                    k /= 10;
                }
            }
        }
    }
    let digits = &buf[q..];
    let len = digits.len();
    let prec = prec.map_or(len, |p| p.max(len));
    let pprec = prec + usize::from(prefix.is_some()) + 2 * usize::from(hexprefix.is_some());
    let width = sp.width;
    if !sp.left && !zero_flag && width > pprec {
        pad(out, b' ', width - pprec);
    }
    if let Some(c) = prefix {
        out.push(c);
    }
    if let Some(c) = hexprefix {
        out.push(b'0');
        out.push(c);
    }
    if !sp.left && zero_flag && width > pprec {
        pad(out, b'0', width - pprec);
    }
    pad(out, b'0', prec - len);
    out.extend_from_slice(digits);
    if sp.left && width > pprec {
        pad(out, b' ', width - pprec);
    }
}

/// `lj_strfmt_putfchar`.
pub fn put_char(out: &mut Vec<u8>, sp: &Spec, c: u8) {
    let fill = sp.width.saturating_sub(1);
    if sp.left {
        out.push(c);
        pad(out, b' ', fill);
    } else {
        pad(out, b' ', fill);
        out.push(c);
    }
}

/// `strfmt_putfstrlen`: `%s` with width and precision.
pub fn put_str(out: &mut Vec<u8>, sp: &Spec, s: &[u8]) {
    let s = match sp.precision {
        Some(p) if p < s.len() => &s[..p],
        _ => s,
    };
    let fill = sp.width.saturating_sub(s.len());
    if sp.left {
        out.extend_from_slice(s);
        pad(out, b' ', fill);
    } else {
        pad(out, b' ', fill);
        out.extend_from_slice(s);
    }
}

/// `strfmt_putquotedlen`: `%q`.
pub fn put_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for (i, &c) in s.iter().enumerate() {
        if c == b'"' || c == b'\\' || c == b'\n' {
            out.push(b'\\');
            out.push(c);
        } else if c < 32 || c == 127 {
            out.push(b'\\');
            let next_is_digit = s.get(i + 1).is_some_and(|d| d.is_ascii_digit());
            if c >= 100 || next_is_digit {
                out.push(b'0' + c / 100);
                out.push(b'0' + (c / 10) % 10);
            } else if c >= 10 {
                out.push(b'0' + c / 10);
            }
            out.push(b'0' + c % 10);
        } else {
            out.push(c);
        }
    }
    out.push(b'"');
}

/// `lj_strfmt_wptr`: `%p` (`NULL`, or `0x` and 8 hex digits, or more digits
/// in pairs for addresses above 4 GiB, as LuaJIT on 64-bit hosts).
pub fn put_ptr(out: &mut Vec<u8>, v: usize) {
    let x = v as u64;
    if x == 0 {
        out.extend_from_slice(b"NULL");
        return;
    }
    let hi = (x >> 32) as u32;
    let ndig = 8 + if hi != 0 { 2 + 2 * ((31 - hi.leading_zeros()) as usize >> 3) } else { 0 };
    out.extend_from_slice(b"0x");
    for i in (0..ndig).rev() {
        let d = ((x >> (4 * i)) & 15) as usize;
        out.push(b"0123456789abcdef"[d]);
    }
}

/// `%e %f %g %a` (and their upper-case forms) of `n`.
pub fn put_float(out: &mut Vec<u8>, sp: &Spec, n: f64) {
    let conv = match sp.conv {
        Conv::FloatE => number::FloatConv::E,
        Conv::FloatF => number::FloatConv::F,
        Conv::FloatG => number::FloatConv::G,
        _ => number::FloatConv::A,
    };
    let f = number::FloatFmt {
        conv,
        upper: sp.upper,
        left: sp.left,
        plus: sp.plus,
        space: sp.space,
        zero: sp.zero,
        alt: sp.alt,
        width: sp.width,
        precision: sp.precision,
    };
    number::format_float(n, &f, out);
}

#[cfg(test)]
#[allow(clippy::approx_constant)]
mod tests {
    use super::*;

    /// Test argument list: numbers and strings, string() renders numbers
    /// with fmt_number like tostring.
    #[derive(Clone, Debug)]
    enum V {
        N(f64),
        S(&'static [u8]),
        I(i64),
        U(u64),
        Nil,
    }

    struct Args(Vec<V>);

    impl FormatArgs for Args {
        type Error = String;
        fn arg_count(&self) -> usize {
            self.0.len() + 1
        }
        fn number(&mut self, arg: usize) -> Option<FormatNumber> {
            match self.0.get(arg - 2)? {
                V::N(n) => Some(FormatNumber::Num(*n)),
                V::S(s) => number::str2number(s).map(FormatNumber::Num),
                V::I(i) => Some(FormatNumber::Int64(*i)),
                V::U(u) => Some(FormatNumber::UInt64(*u)),
                V::Nil => None,
            }
        }
        fn string(&mut self, arg: usize, _quoted: bool, sink: &mut dyn FnMut(&[u8])) -> Result<(), String> {
            let mut tmp = Vec::new();
            match self.0.get(arg - 2) {
                Some(V::N(n)) => number::fmt_number(*n, &mut tmp),
                Some(V::S(s)) => tmp.extend_from_slice(s),
                Some(V::I(i)) => tmp.extend_from_slice(format!("{i}LL").as_bytes()),
                Some(V::U(u)) => tmp.extend_from_slice(format!("{u}ULL").as_bytes()),
                Some(V::Nil) => tmp.extend_from_slice(b"nil"),
                None => return Err("no such arg".into()),
            }
            sink(&tmp);
            Ok(())
        }
    }

    fn f(fmt: &str, args: &[V]) -> Result<Vec<u8>, FormatError<String>> {
        let mut out = Vec::new();
        format(fmt.as_bytes(), &mut Args(args.to_vec()), &mut out)?;
        Ok(out)
    }

    fn ok(fmt: &str, args: &[V], want: &str) {
        match f(fmt, args) {
            Ok(v) => assert_eq!(String::from_utf8_lossy(&v), want, "format({fmt:?}, {args:?})"),
            Err(e) => panic!("format({fmt:?}, {args:?}) failed: {e}"),
        }
    }

    fn err(fmt: &str, args: &[V], want: &str) {
        match f(fmt, args) {
            Ok(v) => panic!("format({fmt:?}) = {:?}, want error", String::from_utf8_lossy(&v)),
            Err(e) => assert_eq!(e.to_string(), want, "format({fmt:?})"),
        }
    }

    use V::*;

    #[test]
    fn integers() {
        // Expected values from luajit 2.1-20230119.
        let m = "-9223372036854775808";
        let two63 = 2f64.powi(63);
        let cases: &[(&str, V, &str)] = &[
            ("%d", N(3.7), "3"),
            ("%d", N(-3.7), "-3"),
            ("%d", N(two63), m),
            ("%d", N(-two63), m),
            ("%d", N(2f64.powi(64)), m),
            ("%d", N(-0.0), "0"),
            ("%d", N(f64::NAN), m),
            ("%d", N(f64::INFINITY), m),
            ("%d", N(f64::NEG_INFINITY), m),
            ("%d", N(1e300), m),
            ("%d", S(b"12"), "12"),
            ("%d", S(b" 0x10 "), "16"),
            ("%x", N(-1.0), "ffffffffffffffff"),
            ("%x", N(two63), "8000000000000000"),
            ("%x", N(2f64.powi(64)), "0"),
            ("%x", N(-two63), "8000000000000000"),
            ("%x", N(f64::NAN), "8000000000000000"),
            ("%x", N(f64::INFINITY), "8000000000000000"),
            ("%x", N(f64::NEG_INFINITY), "8000000000000000"),
            ("%x", N(1e300), "8000000000000000"),
            ("%x", N(-1e300), "8000000000000000"),
            ("%x", N(3.9), "3"),
            ("%x", N(-3.9), "fffffffffffffffd"),
            ("%X", N(255.0), "FF"),
            ("%#x", N(255.0), "0xff"),
            ("%#o", N(8.0), "010"),
            ("%o", N(-1.0), "1777777777777777777777"),
            ("%u", N(-1.0), "18446744073709551615"),
            ("%u", N(3.5), "3"),
            ("%#x", N(0.0), "0"),
            ("%#o", N(0.0), "0"),
            ("%.0d", N(0.0), ""),
            ("%.0x", N(0.0), ""),
            ("%#.0o", N(0.0), "0"),
            ("%5.3d", N(7.0), "  007"),
            ("%-5d|", N(7.0), "7    |"),
            ("%05d", N(-7.0), "-0007"),
            ("%+d", N(5.0), "+5"),
            ("% d", N(5.0), " 5"),
            ("%+ d", N(5.0), "+5"),
            ("%-05d", N(3.0), "3    "),
            ("%05.2d", N(3.0), "   03"),
            ("%--5d", N(1.0), "1    "),
            ("%-+-5d", N(1.0), "+1   "),
            ("%00005d", N(1.0), "00001"),
            ("% -+#0-+#0-+#0d", N(1.0), "+1"),
            ("%------d", N(1.0), "1"),
            ("%i", N(1.0), "1"),
            ("%+x", N(5.0), "5"),
            ("% u", N(5.0), "5"),
            ("%+o", N(5.0), "5"),
            ("%#X", N(255.0), "0XFF"),
            ("%#5x", N(1.0), "  0x1"),
            ("%#05x", N(1.0), "0x001"),
            ("%#-5x|", N(1.0), "0x1  |"),
            ("%-#08.3x|", N(1.0), "0x001   |"),
            ("%08.3d", N(-1.0), "    -001"),
            ("%+.0d", N(0.0), "+"),
            ("% .0d", N(0.0), " "),
            ("%#.0x", N(0.0), ""),
            ("%#.3o", N(8.0), "010"),
            ("%d", N(-2147483648.0), "-2147483648"),
            ("%5d", N(9007199254740992.0), "9007199254740992"),
            ("%i", N(-0.0), "0"),
            ("%x", N(-0.5), "0"),
            ("%u", N(-0.5), "0"),
            ("%o", N(two63), "1000000000000000000000"),
            ("%d", N(two63 - 1024.0), "9223372036854774784"),
            ("%x", N(2f64.powi(64) - 2048.0), "fffffffffffff800"),
            ("%x", N(-two63 - 4096.0), "8000000000000000"),
            ("%d", N(-two63 - 4096.0), m),
            ("%d", I(-5), "-5"),
            ("%x", I(-1), "ffffffffffffffff"),
            ("%d", U(u64::MAX), "-1"),
            ("%u", U(u64::MAX), "18446744073709551615"),
            ("%99d", N(1.0), &format!("{:>99}", 1)),
            ("%.99d", N(1.0), &format!("{:0>99}", 1)),
            ("%-99.98d|", N(-1.0), &format!("-{:0>98}|", 1)),
        ];
        for (fmt, v, want) in cases {
            ok(fmt, std::slice::from_ref(v), want);
        }
    }

    #[test]
    fn chars_strings_quotes() {
        ok("%c", &[N(0.0)], "\0");
        ok("%c", &[N(2f64.powi(31) + 65.0)], "\0");
        ok("%c", &[N(2f64.powi(32) + 65.0)], "\0");
        assert_eq!(f("%c", &[N(-1.0)]).unwrap(), vec![255u8]);
        assert_eq!(f("%c", &[N(255.9)]).unwrap(), vec![255u8]);
        ok("%c", &[N(f64::NAN)], "\0");
        ok("%c", &[N(1e10)], "\0");
        ok("%c", &[N(-0.5)], "\0");
        ok("%c", &[N(65.7)], "A");
        ok("%c", &[N(321.0)], "A");
        ok("%c", &[S(b"66")], "B");
        ok("%5c", &[N(65.0)], "    A");
        ok("%-5c|", &[N(65.0)], "A    |");
        ok("%05c", &[N(65.0)], "    A");
        ok("%#c", &[N(65.0)], "A");
        ok("%.3c", &[N(65.0)], "A");
        ok("%5.2s", &[S(b"abcdef")], "   ab");
        ok("%.0s", &[S(b"abc")], "");
        ok("%s", &[Nil], "nil");
        ok("%s", &[N(1.5)], "1.5");
        ok("%s", &[N(1e100)], "1e+100");
        ok("%s", &[N(-0.0)], "-0");
        ok("%10s|", &[S(b"a\0b")], "       a\0b|");
        ok("%05s", &[S(b"ab")], "   ab");
        ok("%+s% s%#s", &[S(b"a"), S(b"b"), S(b"c")], "abc");
        ok("%5.1s|", &[S(b"abc")], "    a|");
        ok("%-5.1s|", &[S(b"abc")], "a    |");
        ok("%.99s", &[S(b"abc")], "abc");
        ok("%99s|", &[S(b"x")], &format!("{:>99}|", "x"));
        ok("%q", &[N(1.0)], "\"1\"");
        ok("%q", &[N(f64::INFINITY)], "\"inf\"");
        ok("%10q", &[S(b"a")], "\"a\"");
        ok("%-5q", &[S(b"a")], "\"a\"");
        ok("%.1q", &[S(b"abc")], "\"abc\"");
    }

    #[test]
    fn quoted_bytes() {
        // luajit: ("%q"):format("a\0b\r\n\"\\\1\0011\127\128\255z")
        let got = f("%q", &[S(b"a\0b\r\n\"\\\x01\x011\x7f\x80\xffz")]).unwrap();
        assert_eq!(got, b"\"a\\0b\\13\\\n\\\"\\\\\\1\\0011\\127\x80\xffz\"".to_vec());
        let got = f("%q", &[S(b"\x00\x009\x1f\x1f0\n9\r9\t")]).unwrap();
        assert_eq!(got, b"\"\\0\\0009\\31\\0310\\\n9\\0139\\9\"".to_vec());
    }

    #[test]
    fn floats() {
        let cases: &[(&str, f64, &str)] = &[
            ("%e", 0.0, "0.000000e+00"),
            ("%g", 0.0, "0"),
            ("%f", 0.0, "0.000000"),
            ("%g", -0.0, "-0"),
            ("%g", 1e-5, "1e-05"),
            ("%g", 1e-4, "0.0001"),
            ("%g", 123456.0, "123456"),
            ("%g", 1234567.0, "1.23457e+06"),
            ("%.14g", 9007199254740992.0, "9.007199254741e+15"),
            ("%#g", 1.0, "1.00000"),
            ("%#.3g", 1.0, "1.00"),
            ("%+e", 1.0, "+1.000000e+00"),
            ("% f", 1.0, " 1.000000"),
            ("%+g", f64::NAN, "nan"),
            ("% g", f64::NAN, " nan"),
            ("%+g", f64::INFINITY, "+inf"),
            ("% g", f64::INFINITY, " inf"),
            ("%5g|", f64::NEG_INFINITY, " -inf|"),
            ("%-6f|", f64::NAN, "nan   |"),
            ("%06f|", f64::INFINITY, "   inf|"),
            ("%E", f64::INFINITY, "INF"),
            ("%G", f64::NAN, "NAN"),
            ("%F", 1.5, "1.500000"),
            ("%.99f", 0.1, "0.100000000000000005551115123125782702118158340454101562500000000000000000000000000000000000000000000"),
            ("%.99e", 1.0 / 3.0, "3.333333333333333148296162562473909929394721984863281250000000000000000000000000000000000000000000000e-01"),
            ("%5.1f|", 0.05, "  0.1|"),
            ("%.3f", 2.0005, "2.001"),
            ("%.0f", 0.5, "1"),
            ("%.0f", 1.5, "2"),
            ("%.0f", 2.5, "3"),
            ("%#.0f", 2.5, "3."),
            ("%#.0e", 2.5, "3.e+00"),
            ("%.20g", 0.1, "0.10000000000000000555"),
            ("%g", 100000.0, "100000"),
            ("%g", 1000000.0, "1e+06"),
            ("%G", 1e-10, "1E-10"),
            ("%.0g", 0.0, "0"),
            ("%.0g", 123.0, "1e+02"),
            ("%#.0g", 123.0, "1.e+02"),
            ("%.1g", 0.95, "0.9"),
            ("%010.3f", -3.14159, "-00003.142"),
            ("%-10.3e|", 3.14159, "3.142e+00 |"),
            ("%5.f", 1.5, "    2"),
            ("%.14g", 0.1, "0.1"),
            ("%.17g", 0.1, "0.10000000000000001"),
            ("%.0e", 5e-324, "5e-324"),
            ("%.3e", 1e300, "1.000e+300"),
            ("%e", 1e-300, "1.000000e-300"),
            ("%.0f", 1e20, "100000000000000000000"),
            ("%g", 1e300, "1e+300"),
            ("%g", 1e-300, "1e-300"),
            ("%.99g", 5e-324, "4.94065645841246544176568792868221372365059802614324764425585682500675507270208751865299836361635992e-324"),
            ("%.99e", 5e-324, "4.940656458412465441765687928682213723650598026143247644255856825006755072702087518652998363616359924e-324"),
            ("%f", 1e300, "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000"),
        ];
        for &(fmt, v, want) in cases {
            ok(fmt, &[N(v)], want);
        }
    }

    #[test]
    fn luajit_g_padding_quirks() {
        // LuaJIT pads some exponent-style %g results from stale internal
        // state. Values from OpenResty luajit2 2.1-20240314 and upstream
        // HEAD (identical). The 2.1-20230119 reference binary reads out of
        // bounds here (fixed upstream in 343ce0ed) and prints garbage such
        // as "9E-34" for the `%25G` case; we follow the fixed versions.
        let cases: &[(&str, f64, &str)] = &[
            ("[% 20.12G]", 1e-261, "[     1E-261]"),
            ("[%20.12g]", 1e261, "[     1e+261]"),
            ("[%-20.12g]", 1e261, "[1e+261     ]"),
            ("[%020.12g]", 1e-261, "[000001e-261]"),
            ("[%+14g]", 1e-316, "[       +1e-316]"),
            ("[%33.10g]", 6.950933000482e-311, "[                    6.950933e-311]"),
            ("[%24.12G]", 1e-309, "[                  1E-309]"),
            ("[%25G]", 9.611996331069977e-34, "[                9.612E-34]"),
            ("[%+024.12g]", 1.2675025510003924e299, "[+00000001.267502551e+299]"),
            ("[%+026G]", 8.29000262226583e215, "[+00000000000000008.29E+215]"),
            ("[%20.3g]", 9.9996e10, "[               1e+11]"),
        ];
        for &(fmt, v, want) in cases {
            ok(fmt, &[N(v)], want);
        }
    }

    #[test]
    fn hex_floats() {
        let cases: &[(&str, f64, &str)] = &[
            ("%a", 1.0, "0x1p+0"),
            ("%a", 0.0, "0x0p+0"),
            ("%a", -0.0, "-0x0p+0"),
            ("%a", 1.5, "0x1.8p+0"),
            ("%A", 255.5, "0X1.FFP+7"),
            ("%.2a", 1.999, "0x2.00p+0"),
            ("%a", 5e-324, "0x1p-1074"),
            ("%a", f64::INFINITY, "inf"),
            ("%.0a", 1.5, "0x2p+0"),
            ("%#.0a", 1.5, "0x2.p+0"),
            ("%20a|", 0.1, "0x1.999999999999ap-4|"),
            ("%a", 1e300, "0x1.7e43c8800759cp+996"),
            ("%a", 1e-310, "0x1.2688b70e62bp-1030"),
            ("%.3a", 1e-310, "0x1.269p-1030"),
            ("%.13a", 1.0, "0x1.0000000000000p+0"),
            ("%.20a", 1.0, "0x1.00000000000000000000p+0"),
            ("%+a", 1.0, "+0x1p+0"),
            ("% a", 1.0, " 0x1p+0"),
            ("%#a", 1.0, "0x1.p+0"),
            ("%010a", 1.0, "0x00001p+0"),
            ("%-10a|", 1.0, "0x1p+0    |"),
            ("%10a|", -1.0, "   -0x1p+0|"),
            ("%.0a", 1.0, "0x1p+0"),
            ("%.1a", 1.96875, "0x2.0p+0"),
            ("%.1a", 1.03125, "0x1.1p+0"),
            ("%.1a", 1.09375, "0x1.2p+0"),
            ("%.1a", 1.15625, "0x1.3p+0"),
            ("%.0a", 2.5, "0x1p+1"),
            ("%.0a", 3.5, "0x2p+1"),
            ("%a", 2f64.powi(-1022), "0x1p-1022"),
            ("%a", 2f64.powi(-1023), "0x1p-1023"),
            ("%.2a", 3.0 * 5e-324, "0x1.80p-1073"),
            ("%A", -0.0, "-0X0P+0"),
            ("%a", 1.5 * 2f64.powi(1023), "0x1.8p+1023"),
        ];
        for &(fmt, v, want) in cases {
            ok(fmt, &[N(v)], want);
        }
    }

    #[test]
    fn literals_and_errors() {
        ok("%%", &[], "%");
        ok("%%%d", &[N(5.0)], "%5");
        ok("a%%b%%", &[], "a%b%");
        ok("", &[], "");
        ok("plain\0text", &[], "plain\0text");
        err("%5%", &[N(1.0)], "invalid option '%5%' to 'format'");
        err("%-%", &[N(1.0)], "invalid option '%-%' to 'format'");
        err("%y", &[], "invalid option '%y' to 'format'");
        err("%", &[], "invalid option '%' to 'format'");
        err("abc%", &[], "invalid option '%' to 'format'");
        err("%10", &[], "invalid option '%10' to 'format'");
        err("%-", &[], "invalid option '%-' to 'format'");
        err("%.", &[], "invalid option '%.' to 'format'");
        err("%5.", &[], "invalid option '%5.' to 'format'");
        err("%100d", &[N(1.0)], "invalid option '%100' to 'format'");
        err("%1000d", &[N(1.0)], "invalid option '%100' to 'format'");
        err("%.100d", &[N(1.0)], "invalid option '%.100' to 'format'");
        err("%ll", &[N(1.0)], "invalid option '%l' to 'format'");
        err("%b", &[N(1.0)], "invalid option '%b' to 'format'");
        err("%z\x01", &[N(1.0)], "invalid option '%z' to 'format'");
        err("%\0", &[N(1.0)], "invalid option '%' to 'format'");
        err("%\n", &[N(1.0)], "invalid option '%' to 'format'");
        err("%S", &[N(1.0)], "invalid option '%S' to 'format'");
        err("%D", &[N(1.0)], "invalid option '%D' to 'format'");
        match f("%\u{e9}", &[N(1.0)]) {
            Err(FormatError::InvalidOption(v)) => assert_eq!(v, b"%\xc3".to_vec()),
            other => panic!("{other:?}"),
        }
        err("%d", &[], "bad argument #2 to 'format' (value expected)");
        err("%5d %d", &[N(1.0)], "bad argument #3 to 'format' (value expected)");
        err("%s %s", &[N(1.0)], "bad argument #3 to 'format' (value expected)");
        err("%d %d", &[N(1.0), S(b"x")], "bad argument #3 to 'format' (number expected)");
        err("%d", &[S(b"abc")], "bad argument #2 to 'format' (number expected)");
        err("%f", &[I(1)], "bad argument #2 to 'format' (number expected)");
        err("%c", &[I(65)], "bad argument #2 to 'format' (number expected)");
        // Errors are reported in order of the specs.
        err("%d %y", &[S(b"x")], "bad argument #2 to 'format' (number expected)");
        err("%y %d", &[S(b"x")], "invalid option '%y' to 'format'");
    }

    #[test]
    fn random_inputs_never_panic() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"%-+ #0123456789.diuxXoceEfFgGaAqsp%yz\0";
        for _ in 0..20000 {
            let len = (next() % 10) as usize;
            let fmt: Vec<u8> = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let v = match next() % 4 {
                0 => N(f64::from_bits(next())),
                1 => N((next() % 2000) as f64 - 1000.0),
                2 => S(b"12"),
                _ => U(next()),
            };
            let mut out = Vec::new();
            let _ = format(&fmt, &mut Args(vec![v.clone(), v]), &mut out);
        }
    }

    #[test]
    fn pointers() {
        let mut out = Vec::new();
        put_ptr(&mut out, 0);
        assert_eq!(out, b"NULL");
        out.clear();
        put_ptr(&mut out, 0x1234);
        assert_eq!(out, b"0x00001234");
        out.clear();
        put_ptr(&mut out, 0x7f7a_4bff_b8c8);
        assert_eq!(out, b"0x7f7a4bffb8c8");
        out.clear();
        put_ptr(&mut out, 0x1_0000_0000);
        assert_eq!(out, b"0x0100000000");
    }
}
