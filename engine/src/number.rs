//! Number <-> string conversion, byte-compatible with LuaJIT 2.1.
//!
//! This module is std-only, free of `unsafe`, never panics and never calls
//! into libc, so it works unchanged on `wasm32-unknown-unknown`.
//!
//! # Contract
//!
//! * [`fmt_number`] appends exactly what LuaJIT's `tostring(x)`, `print(x)`
//!   and `..` produce for a number: `%.14g` ("1e+15", "0.1", "-0", "inf",
//!   "-inf"), with the single twist that *every* NaN prints as `nan` (LuaJIT
//!   never prints `-nan`).
//! * [`str2number`] is LuaJIT's string -> number coercion (`lj_strscan_num`),
//!   used by `tonumber(s)`, `tonumber(s, 10)`, arithmetic on strings and the
//!   number arguments of library functions: optional surrounding whitespace
//!   (`" \t\n\v\f\r"`), one optional sign, decimal numbers with optional
//!   fraction and exponent, `0x` hex integers and hex floats (`p` exponent),
//!   `0b` binary integers, and `inf`, `infinity`, `nan` (case-insensitive).
//!   Anything else, including embedded NUL bytes, is rejected.
//! * [`tonumber_base`] is `tonumber(s, base)` for `base != 10` (LuaJIT calls
//!   C `strtoul`, whose glibc behaviour is reproduced, including saturation
//!   at 2^64-1 and stopping at the first NUL byte).
//! * [`parse_lua_numeral`] converts the text of a numeric literal collected by
//!   the lexer (see [`numeral_len`] for the collection rule). It accepts the
//!   same forms as [`str2number`] minus whitespace/sign/`inf`/`nan` (the lexer
//!   never hands them over) plus LuaJIT's FFI suffixes `LL`, `ULL` and `i`,
//!   which yield [`Numeral::Int64`], [`Numeral::UInt64`] and
//!   [`Numeral::Imag`]; an engine without FFI cdata should report those as
//!   "malformed number" like a non-FFI LuaJIT build does.
//!
//! # Rounding
//!
//! Decimal -> binary conversion is correctly rounded (as LuaJIT's is).
//! Binary -> decimal conversion used by `%.14g` here and by `%e %f %g` in
//! `stdlib::strformat` is exact: the full decimal expansion of the double is
//! computed with a small bignum and then rounded once. LuaJIT up to and
//! including the OpenResty 2.1-20230119 build used as reference rounds exact
//! ties *half away from zero* (e.g. `("%.0f"):format(2.5) == "3"`,
//! `tostring(123456789012345) == "1.2345678901235e+14"`); upstream LuaJIT
//! switched to C's round-half-even in December 2025 (commit 7152e154).
//! [`TIES_TO_EVEN`] selects the behaviour; it is `false` to match the
//! reference binary.

use core::fmt::Write as _;

/// Tie-breaking rule for binary -> decimal conversion (see module docs).
///
/// `false`: exact ties round away from zero, as LuaJIT <= 2.1 (Dec 2025) and
/// the reference `luajit` binary. `true`: round half to even, as C's printf
/// and upstream LuaJIT since commit 7152e154.
pub const TIES_TO_EVEN: bool = false;

// ---------------------------------------------------------------------------
// Character classes (LuaJIT's lj_char.h, ASCII only).
// ---------------------------------------------------------------------------

/// `lj_char_isspace`: `' '` and `\t \n \v \f \r`.
#[inline]
pub(crate) fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

#[inline]
fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

#[inline]
fn is_xdigit(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// Case-insensitive comparison with a lower-case ASCII letter `k`
/// (LuaJIT's `casecmp`, which only works for letters).
#[inline]
fn casecmp(c: u8, k: u8) -> bool {
    (c | 0x20) == k
}

// ---------------------------------------------------------------------------
// Number -> string: tostring()
// ---------------------------------------------------------------------------

/// Append `tostring(x)` for a number, exactly as LuaJIT prints it (`%.14g`).
///
/// Integral values below 10^14 in magnitude take a fast path; values whose
/// shortest round-trip representation has at most 14 significant digits use
/// it directly (it necessarily equals the 14-digit rounding); only the rest
/// go through the exact bignum conversion.
pub fn fmt_number(x: f64, out: &mut Vec<u8>) {
    // Fast path: small integers (the common case for array indices etc.).
    if x > -1e14 && x < 1e14 {
        let i = x as i64;
        if i as f64 == x {
            if i == 0 && x.is_sign_negative() {
                out.extend_from_slice(b"-0");
            } else {
                write_i64(i, out);
            }
            return;
        }
    }
    if x.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if x.is_infinite() {
        out.extend_from_slice(if x < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if x.is_sign_negative() {
        out.push(b'-');
    }
    let ax = x.abs();
    // The shortest round-trip digits equal the 14-digit rounding when there
    // are at most 14 of them *and* the double has full 53-bit precision
    // (then |x - shortest| <= 2^-53 x, far below half a 14-digit step).
    // Subnormals lack that precision ("5e-324" vs "4.9406564584125e-324").
    let fast = if ax >= f64::MIN_POSITIVE { shortest_digits(ax) } else { None };
    let mut dec = match fast {
        Some(d) if d.len <= 14 => d,
        _ => {
            let mut d = Decimal::exact(ax);
            d.round_to(14, TIES_TO_EVEN);
            d
        }
    };
    dec.trim();
    layout_g_trimmed(&dec, 14, out);
}

/// Append the decimal representation of an `i64`.
pub(crate) fn write_i64(i: i64, out: &mut Vec<u8>) {
    if i < 0 {
        out.push(b'-');
    }
    write_u64(i.unsigned_abs(), out);
}

/// Append the decimal representation of a `u64`.
pub(crate) fn write_u64(mut u: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut n = buf.len();
    loop {
        n -= 1;
        buf[n] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 || n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[n..]);
}

/// `%g`-style layout of an already rounded, zero-trimmed decimal with `prec`
/// significant digits and without `#`: trailing zeros never appear.
/// The sign must already have been written.
fn layout_g_trimmed(d: &Decimal, prec: i32, out: &mut Vec<u8>) {
    if d.len == 0 {
        out.push(b'0');
        return;
    }
    let digits = d.digits();
    let x = d.point - 1; // decimal exponent of the leading digit
    if x >= -4 && x < prec {
        // Fixed notation.
        if d.point <= 0 {
            out.extend_from_slice(b"0.");
            for _ in 0..(-d.point) {
                out.push(b'0');
            }
            push_digits(digits, out);
        } else {
            let p = d.point as usize;
            if digits.len() <= p {
                push_digits(digits, out);
                for _ in digits.len()..p {
                    out.push(b'0');
                }
            } else {
                push_digits(&digits[..p], out);
                out.push(b'.');
                push_digits(&digits[p..], out);
            }
        }
    } else {
        // Exponent notation.
        push_digits(&digits[..1], out);
        if digits.len() > 1 {
            out.push(b'.');
            push_digits(&digits[1..], out);
        }
        push_exponent(x, b'e', out);
    }
}

/// Append `e+XX` / `e-XXX` (at least two exponent digits, like C).
pub(crate) fn push_exponent(x: i32, e: u8, out: &mut Vec<u8>) {
    out.push(e);
    out.push(if x < 0 { b'-' } else { b'+' });
    let ax = x.unsigned_abs();
    if ax < 10 {
        out.push(b'0');
    }
    write_u64(u64::from(ax), out);
}

/// Append digit values (0..=9) as ASCII.
pub(crate) fn push_digits(d: &[u8], out: &mut Vec<u8>) {
    out.extend(d.iter().map(|&v| b'0' + v));
}

// ---------------------------------------------------------------------------
// Exact binary -> decimal conversion.
// ---------------------------------------------------------------------------

/// Maximum number of significant decimal digits of any double (767), rounded
/// up generously.
const MAX_DEC_DIGITS: usize = 800;

/// A non-negative decimal number `0.d[0]d[1]...d[len-1] * 10^point`.
///
/// `len == 0` means zero. Digits are values `0..=9`, not ASCII.
#[derive(Clone)]
pub(crate) struct Decimal {
    d: [u8; MAX_DEC_DIGITS],
    pub(crate) len: usize,
    /// Position of the decimal point relative to the first digit.
    pub(crate) point: i32,
}

impl Decimal {
    fn zero() -> Self {
        Decimal { d: [0; MAX_DEC_DIGITS], len: 0, point: 0 }
    }

    /// The significant digits (values 0..=9).
    pub(crate) fn digits(&self) -> &[u8] {
        &self.d[..self.len.min(MAX_DEC_DIGITS)]
    }

    /// Digit at index `i` (0-based from the leading digit); zero outside.
    pub(crate) fn digit(&self, i: i64) -> u8 {
        if i < 0 {
            return 0;
        }
        self.digits().get(i as usize).copied().unwrap_or(0)
    }

    /// Remove trailing zero digits.
    pub(crate) fn trim(&mut self) {
        while self.len > 0 && self.d[self.len - 1] == 0 {
            self.len -= 1;
        }
        if self.len == 0 {
            self.point = 0;
        }
    }

    /// Exact decimal expansion of a finite, non-negative double.
    pub(crate) fn exact(x: f64) -> Self {
        let mut dec = Decimal::zero();
        if !x.is_finite() || x <= 0.0 {
            return dec;
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (mut m, mut e) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
        while m & 1 == 0 && e < 0 {
            m >>= 1;
            e += 1;
        }
        // x = m * 2^e. For e < 0: x = m * 5^-e / 10^-e.
        let mut big = Big::from_u64(m);
        if e >= 0 {
            big.shl(e as u32);
        } else {
            big.mul_pow5((-e) as u32);
        }
        let ndig = big.write_decimal(&mut dec.d);
        dec.len = ndig;
        dec.point = ndig as i32 + if e < 0 { e } else { 0 };
        dec.trim();
        dec
    }

    /// Round to `n` significant digits (`n` may be zero or negative, meaning
    /// the rounding position lies before the leading digit). `ties_even`
    /// selects round-half-even; otherwise exact ties round away from zero.
    /// Digits must be exact (i.e. trimmed: no trailing zeros beyond `len`
    /// matter for the tie test).
    pub(crate) fn round_to(&mut self, n: i64, ties_even: bool) {
        if n >= self.len as i64 {
            return;
        }
        if n < 0 {
            self.len = 0;
            self.point = 0;
            return;
        }
        let n = n as usize;
        let rd = self.d[n];
        let rest_nonzero = self.d[n + 1..self.len].iter().any(|&v| v != 0);
        let prev_odd = n > 0 && self.d[n - 1] & 1 == 1;
        let up = rd > 5 || (rd == 5 && (rest_nonzero || !ties_even || prev_odd));
        self.len = n;
        if up {
            let mut i = n;
            loop {
                if i == 0 {
                    // Carry out of the leading digit: 99.9 -> 100.
                    self.d[0] = 1;
                    self.len = 1;
                    self.point += 1;
                    break;
                }
                i -= 1;
                if self.d[i] == 9 {
                    self.d[i] = 0;
                } else {
                    self.d[i] += 1;
                    break;
                }
            }
        }
        self.trim();
    }
}

/// Shortest round-trip digits of a positive finite double, via `core::fmt`.
fn shortest_digits(x: f64) -> Option<Decimal> {
    let mut buf = ArrBuf { b: [0; 40], n: 0 };
    write!(buf, "{:e}", x).ok()?;
    let s = &buf.b[..buf.n];
    let epos = s.iter().position(|&c| c == b'e')?;
    let mut dec = Decimal::zero();
    for &c in &s[..epos] {
        if c.is_ascii_digit() {
            if dec.len >= MAX_DEC_DIGITS {
                return None;
            }
            dec.d[dec.len] = c - b'0';
            dec.len += 1;
        }
    }
    let exp = core::str::from_utf8(&s[epos + 1..]).ok()?.parse::<i32>().ok()?;
    dec.point = exp + 1;
    dec.trim();
    Some(dec)
}

/// Fixed-size `fmt::Write` sink (no allocation).
struct ArrBuf {
    b: [u8; 40],
    n: usize,
}

impl core::fmt::Write for ArrBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        SliceWriter { b: &mut self.b[..], n: self.n }.write_str(s)?;
        self.n += s.len();
        Ok(())
    }
}

/// `fmt::Write` into a byte slice; fails instead of overflowing.
struct SliceWriter<'a> {
    b: &'a mut [u8],
    n: usize,
}

impl core::fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let bytes = s.as_bytes();
        let end = self.n.checked_add(bytes.len()).ok_or(core::fmt::Error)?;
        let dst = self.b.get_mut(self.n..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(bytes);
        self.n = end;
        Ok(())
    }
}

/// Little-endian base-2^32 unsigned bignum, big enough for m * 5^1074.
struct Big {
    limbs: [u32; 84],
    len: usize,
}

impl Big {
    fn from_u64(v: u64) -> Self {
        let mut b = Big { limbs: [0; 84], len: 0 };
        b.limbs[0] = v as u32;
        b.limbs[1] = (v >> 32) as u32;
        b.len = 2;
        b.normalize();
        b
    }

    fn normalize(&mut self) {
        while self.len > 0 && self.limbs[self.len - 1] == 0 {
            self.len -= 1;
        }
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry: u64 = 0;
        for l in &mut self.limbs[..self.len] {
            let v = u64::from(*l) * u64::from(m) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 && self.len < self.limbs.len() {
            self.limbs[self.len] = carry as u32;
            self.len += 1;
        }
    }

    fn mul_pow5(&mut self, mut k: u32) {
        const P13: u32 = 1_220_703_125; // 5^13
        while k >= 13 {
            self.mul_small(P13);
            k -= 13;
        }
        if k > 0 {
            self.mul_small(5u32.pow(k));
        }
    }

    fn shl(&mut self, bits: u32) {
        let words = (bits / 32) as usize;
        let sh = bits % 32;
        if self.len == 0 {
            return;
        }
        let new_len = (self.len + words + 1).min(self.limbs.len());
        let mut i = new_len;
        while i > 0 {
            i -= 1;
            let src = i as isize - words as isize;
            let hi = if src >= 0 && (src as usize) < self.len { self.limbs[src as usize] } else { 0 };
            let lo = if src >= 1 && ((src - 1) as usize) < self.len { self.limbs[(src - 1) as usize] } else { 0 };
            self.limbs[i] = if sh == 0 { hi } else { (hi << sh) | (lo >> (32 - sh)) };
        }
        self.len = new_len;
        self.normalize();
    }

    /// Divide in place by `d`, returning the remainder.
    fn divrem_small(&mut self, d: u32) -> u32 {
        let mut rem: u64 = 0;
        for l in self.limbs[..self.len].iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.normalize();
        rem as u32
    }

    /// Write the decimal digits (values 0..=9) of `self` into `out`, most
    /// significant first; returns the digit count. Consumes the value.
    fn write_decimal(&mut self, out: &mut [u8; MAX_DEC_DIGITS]) -> usize {
        let mut chunks = [0u32; 96];
        let mut nch = 0;
        while self.len > 0 && nch < chunks.len() {
            chunks[nch] = self.divrem_small(1_000_000_000);
            nch += 1;
        }
        let mut n = 0;
        let mut first = true;
        for &c in chunks[..nch].iter().rev() {
            let mut tmp = [0u8; 9];
            let mut v = c;
            for t in tmp.iter_mut().rev() {
                *t = (v % 10) as u8;
                v /= 10;
            }
            let start = if first { tmp.iter().position(|&t| t != 0).unwrap_or(8) } else { 0 };
            first = false;
            for &t in &tmp[start..] {
                if n < out.len() {
                    out[n] = t;
                    n += 1;
                }
            }
        }
        n
    }
}

// ---------------------------------------------------------------------------
// String -> number: LuaJIT's lj_strscan_scan.
// ---------------------------------------------------------------------------

/// The value of a numeric literal, see [`parse_lua_numeral`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Numeral {
    /// An ordinary Lua number.
    Num(f64),
    /// Imaginary literal `<number>i` (FFI `complex` with this imaginary part).
    Imag(f64),
    /// `<integer>LL` (FFI `int64_t`; the bits wrap like C, so
    /// `9223372036854775808LL` is `i64::MIN`).
    Int64(i64),
    /// `<integer>ULL` or `<integer>LLU` (FFI `uint64_t`).
    UInt64(u64),
}

/// Scan result formats, in LuaJIT's order (the suffix parser does arithmetic
/// on them).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Fmt {
    Num = 1,
    Imag = 2,
    Int = 3,
    U32 = 4,
    I64 = 5,
    U64 = 6,
}

/// Option: accept `LL`/`ULL` suffixes.
const OPT_LL: u32 = 1;
/// Option: accept the `i` suffix.
const OPT_IMAG: u32 = 2;

/// Exponent and fraction-length limit (STRSCAN_MAXEXP).
const MAXEXP: i64 = 1 << 20;
/// Significant decimal digits kept before summarising the rest (STRSCAN_MAXDIG).
const MAXDIG: usize = 800;

/// LuaJIT's string -> number coercion (`tonumber(s)`, arithmetic on strings).
///
/// Returns `None` where LuaJIT's `tonumber` returns `nil`.
pub fn str2number(s: &[u8]) -> Option<f64> {
    // Fast path: short unsigned decimal integers ("1", "42", "65536").
    if !s.is_empty() && s.len() <= 15 && s.iter().all(|c| c.is_ascii_digit()) {
        let v = s.iter().fold(0u64, |a, &c| a * 10 + u64::from(c - b'0'));
        return Some(v as f64);
    }
    match scan(s, 0) {
        Some(Numeral::Num(n)) => Some(n),
        _ => None,
    }
}

/// Convert the text of a numeric literal as collected by the lexer (see
/// [`numeral_len`]). `None` means "malformed number".
///
/// The lexer of LuaJIT hands the same scanner the collected characters with
/// the FFI suffixes enabled; without FFI the suffixed forms are errors.
/// Examples: `"3."`, `".5"`, `"1e5"`, `"0x.8p1"` (= 1), `"0xA.8p0"` (= 10.5),
/// `"0b101"` (= 5), `"1LL"`, `"0x10ull"`, `"2.5i"`.
pub fn parse_lua_numeral(s: &[u8]) -> Option<Numeral> {
    scan(s, OPT_LL | OPT_IMAG)
}

/// Length of the numeric literal starting at `src[start]`, using LuaJIT's
/// lexer rule (`lex_number`): starting with a digit (or a `.` followed by a
/// digit), greedily take identifier characters (ASCII letters, digits, `_`
/// and all bytes >= 0x80), `.`, and a `+`/`-` directly after an exponent
/// letter (`e`/`E`, or `p`/`P` when the literal starts with `0x`/`0X`).
/// The taken text is then converted with [`parse_lua_numeral`]; e.g. `3..2`
/// is one (malformed) token and `0x1e+1` is `0x1e` followed by `+1`.
pub fn numeral_len(src: &[u8], start: usize) -> usize {
    let at = |i: usize| src.get(i).copied().unwrap_or(0);
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut p = start;
    let mut xp = b'e';
    // `c` is the last character consumed, as in lex_number.
    let mut c = at(p);
    if c == b'.' {
        p += 1;
        c = at(p);
    }
    if c == b'0' {
        p += 1;
        if (at(p) | 0x20) == b'x' {
            xp = b'p';
        }
    }
    while p < src.len() {
        let ch = at(p);
        if is_ident(ch) || ch == b'.' || ((ch == b'-' || ch == b'+') && (c | 0x20) == xp) {
            c = ch;
            p += 1;
        } else {
            break;
        }
    }
    p - start
}

/// Port of `lj_strscan_scan` for the TONUM case (all results are doubles,
/// except the FFI formats enabled by `opt`).
fn scan(s: &[u8], opt: u32) -> Option<Numeral> {
    // Reads past the end see the terminating NUL of LuaJIT's strings.
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let pe = s.len();
    let mut p = 0usize;
    let mut neg = false;

    // Leading space, sign and non-numbers.
    if !is_digit(at(p)) {
        while is_space(at(p)) {
            p += 1;
        }
        if at(p) == b'+' || at(p) == b'-' {
            neg = at(p) == b'-';
            p += 1;
        }
        if at(p) >= b'A' {
            // "inf", "infinity" or "nan", any case.
            let mut v = f64::NAN;
            if casecmp(at(p), b'i') && casecmp(at(p + 1), b'n') && casecmp(at(p + 2), b'f') {
                v = if neg { f64::NEG_INFINITY } else { f64::INFINITY };
                p += 3;
                if casecmp(at(p), b'i')
                    && casecmp(at(p + 1), b'n')
                    && casecmp(at(p + 2), b'i')
                    && casecmp(at(p + 3), b't')
                    && casecmp(at(p + 4), b'y')
                {
                    p += 5;
                }
            } else if casecmp(at(p), b'n') && casecmp(at(p + 1), b'a') && casecmp(at(p + 2), b'n') {
                p += 3;
            }
            while is_space(at(p)) {
                p += 1;
            }
            if at(p) != 0 || p < pe {
                return None;
            }
            return Some(Numeral::Num(v));
        }
    }

    // Regular number.
    let mut fmt = Fmt::Int;
    let mut hex = false;
    let mut base = 10u32;
    let mut dp: Option<usize> = None;
    let mut dig: u64 = 0;
    let mut hasdig = false;

    // Base prefix and leading zeros (and a leading '.').
    if at(p) <= b'0' {
        if at(p) == b'0' {
            if casecmp(at(p + 1), b'x') {
                base = 16;
                hex = true;
                p += 2;
            } else if casecmp(at(p + 1), b'b') {
                base = 2;
                p += 2;
            }
        }
        loop {
            match at(p) {
                b'0' => hasdig = true,
                b'.' => {
                    if dp.is_some() {
                        return None;
                    }
                    dp = Some(p);
                }
                _ => break,
            }
            p += 1;
        }
    }

    // Digits and decimal point.
    let sp = p;
    loop {
        let c = at(p);
        if if hex { is_xdigit(c) } else { is_digit(c) } {
            dig += 1;
        } else if c == b'.' {
            if dp.is_some() {
                return None;
            }
            dp = Some(p);
        } else {
            break;
        }
        p += 1;
    }
    if !hasdig && dig == 0 {
        return None;
    }

    // Fractional part: exponent adjustment, trailing zeros dropped.
    let mut ex: i64 = 0;
    if let Some(d) = dp {
        if base == 2 {
            return None;
        }
        fmt = Fmt::Num;
        if dig > 0 {
            ex = d as i64 - (p as i64 - 1);
            let mut q = p - 1;
            while ex < 0 && at(q) == b'0' {
                ex += 1;
                dig -= 1;
                q = q.saturating_sub(1);
            }
            if ex <= -MAXEXP {
                return None;
            }
            if hex {
                ex *= 4;
            }
        }
    }

    // Exponent.
    if base >= 10 && casecmp(at(p), if hex { b'p' } else { b'e' }) {
        fmt = Fmt::Num;
        p += 1;
        let mut negx = false;
        if at(p) == b'+' || at(p) == b'-' {
            negx = at(p) == b'-';
            p += 1;
        }
        if !is_digit(at(p)) {
            return None;
        }
        let mut xx = i64::from(at(p) & 15);
        p += 1;
        while is_digit(at(p)) {
            xx = xx * 10 + i64::from(at(p) & 15);
            if xx >= MAXEXP {
                return None;
            }
            p += 1;
        }
        ex += if negx { -xx } else { xx };
    }

    // Suffixes: i (imaginary), LL, ULL, LLU; then trailing whitespace.
    if at(p) != 0 {
        if casecmp(at(p), b'i') {
            if opt & OPT_IMAG == 0 {
                return None;
            }
            p += 1;
            fmt = Fmt::Imag;
        } else if fmt == Fmt::Int {
            if casecmp(at(p), b'u') {
                p += 1;
                fmt = Fmt::U32;
            }
            if casecmp(at(p), b'l') {
                p += 1;
                if casecmp(at(p), b'l') {
                    p += 1;
                    fmt = if fmt == Fmt::U32 { Fmt::U64 } else { Fmt::I64 };
                } else {
                    return None; // plain `L` needs the C parser option
                }
            }
            if casecmp(at(p), b'u') && (fmt == Fmt::Int || fmt == Fmt::I64) {
                p += 1;
                fmt = if fmt == Fmt::Int { Fmt::U32 } else { Fmt::U64 };
            }
            if fmt == Fmt::U32 || (fmt >= Fmt::I64 && opt & OPT_LL == 0) {
                return None;
            }
        }
        while is_space(at(p)) {
            p += 1;
        }
        if at(p) != 0 {
            return None;
        }
    }
    if p < pe {
        return None; // embedded NUL
    }

    match base {
        16 => scan_hex(s, sp, fmt, ex, neg, dig),
        2 => scan_bin(s, sp, fmt, ex, neg, dig),
        _ => scan_dec(s, sp, fmt, ex, neg, dig),
    }
}

fn wrap_result(fmt: Fmt, neg: bool, v: f64) -> Option<Numeral> {
    let v = if neg { -v } else { v };
    Some(if fmt == Fmt::Imag { Numeral::Imag(v) } else { Numeral::Num(v) })
}

fn int_result(fmt: Fmt, neg: bool, x: u64) -> Option<Numeral> {
    let x = if neg { x.wrapping_neg() } else { x };
    Some(if fmt == Fmt::I64 { Numeral::Int64(x as i64) } else { Numeral::UInt64(x) })
}

/// Iterator over the digit characters starting at `sp`, skipping one `.`.
fn digits_from(s: &[u8], sp: usize) -> impl Iterator<Item = u8> + '_ {
    s.get(sp..).unwrap_or(&[]).iter().copied().filter(|&c| c != b'.')
}

/// `strscan_hex`.
fn scan_hex(s: &[u8], sp: usize, fmt: Fmt, mut ex2: i64, neg: bool, dig: u64) -> Option<Numeral> {
    let mut x: u64 = 0;
    let mut it = digits_from(s, sp);
    for _ in 0..dig.min(16) {
        let mut d = u32::from(it.next().unwrap_or(b'0'));
        if d > u32::from(b'9') {
            d += 9;
        }
        x = (x << 4) + u64::from(d & 15);
    }
    // Summarise the rounding effect of excess digits.
    if dig > 16 {
        for c in it.take((dig - 16) as usize) {
            x |= u64::from(c != b'0');
            ex2 += 4;
        }
    }
    match fmt {
        Fmt::I64 | Fmt::U64 => {
            if dig > 16 {
                return None;
            }
            return int_result(fmt, neg, x);
        }
        Fmt::U32 => return None,
        _ => {}
    }
    if x & 0xc000_0000_0000_0000 != 0 {
        x = (x >> 2) | (x & 3);
        ex2 += 2;
    }
    wrap_result(fmt, neg, strscan_double(x, ex2))
}

/// `strscan_bin`.
fn scan_bin(s: &[u8], sp: usize, fmt: Fmt, ex2: i64, neg: bool, dig: u64) -> Option<Numeral> {
    if ex2 != 0 || dig > 64 {
        return None;
    }
    let mut x: u64 = 0;
    for i in 0..dig as usize {
        let c = s.get(sp + i).copied().unwrap_or(0);
        if (c & !1) != b'0' {
            return None;
        }
        x = (x << 1) | u64::from(c & 1);
    }
    match fmt {
        Fmt::I64 | Fmt::U64 => return int_result(fmt, neg, x),
        Fmt::U32 => return None,
        _ => {}
    }
    let mut ex2 = 0;
    if x & 0xc000_0000_0000_0000 != 0 {
        x = (x >> 2) | (x & 3);
        ex2 += 2;
    }
    wrap_result(fmt, neg, strscan_double(x, ex2))
}

/// `strscan_double`: `x * 2^ex2` (x < 2^62), rounded once, with LuaJIT's
/// pre-rounding for denormal results to avoid double rounding.
fn strscan_double(mut x: u64, ex2: i64) -> f64 {
    if ex2 <= -1075 && x != 0 {
        let b = 63 - i64::from(x.leading_zeros());
        if b + ex2 <= -1023 && b + ex2 >= -1075 {
            let rb = 1u64 << ((-1075 - ex2) as u32 & 63);
            if (x & rb) != 0 && (x & rb.wrapping_mul(3).wrapping_sub(1)) != 0 {
                x = x.wrapping_add(rb.wrapping_add(rb));
            }
            x &= !(rb.wrapping_add(rb).wrapping_sub(1));
        }
    }
    let n = x as i64 as f64;
    if ex2 != 0 {
        ldexp(n, ex2)
    } else {
        n
    }
}

/// 2^e as a double, for -1022 <= e <= 1023.
fn pow2(e: i64) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `ldexp` for a finite integer-valued `n` (|n| >= 1 or n == 0), with a
/// single final rounding (so subnormal results are correctly rounded).
fn ldexp(mut n: f64, mut e: i64) -> f64 {
    if n == 0.0 || !n.is_finite() {
        return n;
    }
    if e > 0 {
        while e > 1023 {
            n *= pow2(1023);
            e -= 1023;
            if n.is_infinite() {
                return n;
            }
        }
        return n * pow2(e);
    }
    if e < -1022 {
        n *= pow2(-1022); // exact: |n| >= 1 stays normal
        e += 1022;
        if e < -1022 {
            // |n| < 2^64 * 2^-1022, so the result is far below 2^-1075.
            return n * 0.0;
        }
    }
    n * pow2(e)
}

/// `strscan_dec` for doubles (and the 64-bit integer formats).
///
/// The value is `D * 10^ex10` where `D` is the integer formed by the `dig`
/// significant digits at `sp`. It is converted with `core`'s correctly
/// rounded parser; more than 800 digits are summarised by a sticky digit,
/// exactly like LuaJIT does.
fn scan_dec(s: &[u8], sp: usize, fmt: Fmt, ex10: i64, neg: bool, dig: u64) -> Option<Numeral> {
    if fmt == Fmt::I64 || fmt == Fmt::U64 {
        // Integer formats: at most 20 digits and no overflow.
        if dig > 20 || ex10 != 0 {
            return None;
        }
        let mut v: u128 = 0;
        for c in digits_from(s, sp).take(dig as usize) {
            v = v * 10 + u128::from(c & 15);
        }
        if v > u128::from(u64::MAX) {
            return None;
        }
        return int_result(fmt, neg, v as u64);
    }
    if fmt == Fmt::U32 {
        return None;
    }
    if dig == 0 {
        return wrap_result(fmt, neg, 0.0);
    }
    // Build "DDDD[1]eEXP" for the core parser.
    let mut buf = [0u8; MAXDIG + 32];
    let mut n = 0;
    let mut exp = ex10;
    let mut it = digits_from(s, sp);
    let take = (dig as usize).min(MAXDIG);
    for c in it.by_ref().take(take) {
        buf[n] = c;
        n += 1;
    }
    if dig as usize > MAXDIG {
        let rest = dig - MAXDIG as u64;
        exp += rest as i64;
        if it.take(rest as usize).any(|c| c != b'0') {
            buf[n] = b'1';
            n += 1;
            exp -= 1;
        }
    }
    buf[n] = b'e';
    n += 1;
    let mut w = SliceWriter { b: &mut buf[n..], n: 0 };
    write!(w, "{exp}").ok()?;
    n += w.n;
    let txt = core::str::from_utf8(buf.get(..n)?).ok()?;
    let v: f64 = txt.parse().ok()?;
    wrap_result(fmt, neg, v)
}

// ---------------------------------------------------------------------------
// tonumber(s, base)
// ---------------------------------------------------------------------------

/// `tonumber(s, base)`.
///
/// For `base == 10` LuaJIT uses the ordinary coercion, so this returns
/// [`str2number`]`(s)` (hence `tonumber("0x10", 10) == 16` and
/// `tonumber("1e1", 10) == 10`). For other bases it reproduces
/// `lib_base.c` + glibc `strtoul`: the string is read up to its first NUL
/// byte; leading whitespace, then one optional `-`/`+`, then at least one
/// alphanumeric character must follow; for base 16 a `0x`/`0X` prefix is
/// skipped; digits (`0-9`, `a-z`/`A-Z` case-insensitively) below `base` are
/// accumulated with saturation at 2^64-1; trailing whitespace is allowed and
/// anything else makes the result `None`. A minus sign negates the result
/// (so `"-0"` gives `-0.0`).
///
/// The caller must reject bases outside 2..=36 with LuaJIT's
/// "bad argument #2 to 'tonumber' (base out of range)" (LuaJIT truncates a
/// fractional base first); this function returns `None` for them.
pub fn tonumber_base(s: &[u8], base: u32) -> Option<f64> {
    if base == 10 {
        return str2number(s);
    }
    if !(2..=36).contains(&base) {
        return None;
    }
    // C string semantics: stop at the first NUL.
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = 0;
    while is_space(at(p)) {
        p += 1;
    }
    let mut neg = false;
    if at(p) == b'-' {
        neg = true;
        p += 1;
    } else if at(p) == b'+' {
        p += 1;
    }
    if !at(p).is_ascii_alphanumeric() {
        return None;
    }
    // strtoul proper.
    if base == 16 && at(p) == b'0' && (at(p + 1) | 0x20) == b'x' {
        p += 2;
    }
    let start = p;
    let mut acc: u64 = 0;
    let mut overflow = false;
    loop {
        let c = at(p);
        let d = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => break,
        };
        if d >= base {
            break;
        }
        match acc.checked_mul(u64::from(base)).and_then(|v| v.checked_add(u64::from(d))) {
            Some(v) => acc = v,
            None => overflow = true,
        }
        p += 1;
    }
    if p == start {
        // No digits. (After a "0x" prefix glibc points the end at the 'x',
        // which is never followed by only whitespace, so this is nil too.)
        return None;
    }
    while is_space(at(p)) {
        p += 1;
    }
    if p < s.len() {
        return None;
    }
    let v = if overflow { u64::MAX as f64 } else { acc as f64 };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tostr(x: f64) -> String {
        let mut v = Vec::new();
        fmt_number(x, &mut v);
        String::from_utf8(v).unwrap()
    }

    fn num(s: &str) -> Option<f64> {
        str2number(s.as_bytes())
    }

    /// Compare including the sign of zero and NaN-ness.
    fn same(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(x), Some(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
            _ => false,
        }
    }

    #[test]
    fn tostring_basic() {
        // luajit -e 'print(0/0, -(0/0), 1/0, -1/0, -0, 1e15, 1e100, 2^53, 0.1, 123456789012345678)'
        let cases: &[(f64, &str)] = &[
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e15, "1e+15"),
            (1e100, "1e+100"),
            (9007199254740992.0, "9.007199254741e+15"),
            (0.1, "0.1"),
            (123456789012345678.0, "1.2345678901235e+17"),
            (1e14, "1e+14"),
            (99999999999999.0, "99999999999999"),
            (-99999999999999.0, "-99999999999999"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (123456789012345.6, "1.2345678901235e+14"),
            (-1e-300, "-1e-300"),
            (5e-324, "4.9406564584125e-324"),
            (f64::MAX, "1.7976931348623e+308"),
            (0.30000000000000004, "0.3"),
            (1.0 / 3.0, "0.33333333333333"),
            (2.0 / 3.0, "0.66666666666667"),
            (100.5, "100.5"),
            (-1.5, "-1.5"),
            (3.14159265358979, "3.1415926535898"),
            (1e21, "1e+21"),
            (12345678901234.5, "12345678901235"),
            (123456789012345.0, "1.2345678901235e+14"),
            (0.5, "0.5"),
            (2.0f64.powi(63), "9.2233720368548e+18"),
            (-2.0f64.powi(63), "-9.2233720368548e+18"),
            (4294967296.0, "4294967296"),
            (0.1 + 0.7, "0.8"),
            (1e-7, "1e-07"),
            (123e-7, "1.23e-05"),
            (99999999999999.9, "99999999999999.9"),
            (999999999999999.9, "1e+15"),
            (0.000123456789012345, "0.00012345678901234"),
        ];
        for &(x, want) in cases {
            assert_eq!(tostr(x), want, "tostring({x:e})");
        }
    }

    #[test]
    fn str2number_edges() {
        // All checked against `luajit -e 'print(tonumber(s))'` (2.1-20230119).
        let inf = f64::INFINITY;
        let cases: &[(&str, Option<f64>)] = &[
            ("inf", Some(inf)),
            ("-inf", Some(-inf)),
            ("nan", Some(f64::NAN)),
            ("-nan", Some(f64::NAN)),
            ("infinity", Some(inf)),
            ("INFINITY", Some(inf)),
            ("Inf ", Some(inf)),
            ("  inf  ", Some(inf)),
            ("infx", None),
            ("infinit", None),
            ("nanx", None),
            ("1e", None),
            (" 0x", None),
            ("0x", None),
            (" 10 ", Some(10.0)),
            ("1 2", None),
            ("1\0", None),
            ("\0", None),
            ("0x1p4", Some(16.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e+", None),
            ("0b101", Some(5.0)),
            ("0B1", Some(1.0)),
            ("0b", None),
            ("0b2", None),
            ("0b1.1", None),
            ("0b1e1", None),
            ("1_000", None),
            ("0x1P-2", Some(0.25)),
            ("0x.8p1", Some(1.0)),
            ("0x8.p1", Some(16.0)),
            ("0x.p1", None),
            (".", None),
            (".e1", None),
            ("0.e1", Some(0.0)),
            ("1e5", Some(100000.0)),
            ("1E+05", Some(100000.0)),
            ("-0", Some(-0.0)),
            ("+0", Some(0.0)),
            ("-0.0e5", Some(-0.0)),
            ("- 1", None),
            ("+-1", None),
            ("--1", None),
            ("0x-1", None),
            ("-0x10", Some(-16.0)),
            ("1e1048575", Some(inf)),
            ("1e1048576", None),
            ("0x1p1048576", None),
            ("0x1p1048575", Some(inf)),
            ("1.5e-1048575", Some(0.0)),
            ("  \t\n\x0b\x0c\r12\r\n", Some(12.0)),
            ("1i", None),
            ("1LL", None),
            ("1ULL", None),
            ("1u", None),
            ("1l", None),
            ("0x1LL", None),
            ("010", Some(10.0)),
            ("0777", Some(777.0)),
            ("1.e5", Some(100000.0)),
            ("1..2", None),
            ("0xffffffffffffffffff", Some(4.722366482869645e21)),
            ("4294967296", Some(4294967296.0)),
            ("-2147483648", Some(-2147483648.0)),
            ("1e-400", Some(0.0)),
            ("0x1p-1074", Some(5e-324)),
            ("0x1p-1075", Some(0.0)),
            ("0x3p-1076", Some(5e-324)),
            ("0x1.8p-1074", Some(1e-323)),
            ("\t", None),
            ("", None),
            ("   ", None),
            ("+", None),
            ("-", None),
            ("1\t\0", None),
            ("0x1e", Some(30.0)),
            ("0x1e+1", None),
            ("0x1.fffffffffffff8p1023", Some(inf)),
            ("1e308", Some(1e308)),
            ("1.8e308", Some(inf)),
            ("2.5e-324", Some(5e-324)),
            ("2.4703282292062328e-324", Some(5e-324)),
            ("2.4703282292062327e-324", Some(0.0)),
            ("  -  1", None),
            ("0xg", None),
            ("1f", None),
            ("1d", None),
            ("0e", None),
            ("0e0", Some(0.0)),
            ("00x1", None),
            ("0x0x1", None),
            ("1e01", Some(10.0)),
            ("1e-0", Some(1.0)),
            ("0x10", Some(16.0)),
            ("0XaBcDeF", Some(11259375.0)),
            ("-.5", Some(-0.5)),
            ("+.5e1", Some(5.0)),
            ("0.1", Some(0.1)),
            ("123456789012345678901234567890", Some(1.2345678901234568e29)),
            ("9007199254740993", Some(9007199254740992.0)),
            ("9007199254740995", Some(9007199254740996.0)),
            ("18446744073709551615", Some(18446744073709551615.0)),
            ("18446744073709551616", Some(18446744073709551616.0)),
            ("0x8000000000000000", Some(9223372036854775808.0)),
            ("0xfffffffffffffc00", Some(18446744073709549568.0)),
            ("0xfffffffffffffe00", Some(18446744073709551616.0)),
            ("0x1.0000000000001p0", Some(1.0000000000000002)),
            ("0x1.00000000000008p0", Some(1.0)),
            ("0x1.00000000000018p0", Some(1.0000000000000004)),
            ("0x1.000000000000081p0", Some(1.0000000000000002)),
            ("nil", None),
            ("true", None),
            ("0x1.8", Some(1.5)),
            ("0x.1", Some(0.0625)),
            ("1e-5", Some(1e-5)),
            ("\u{a0}1", None),
            ("1\u{a0}", None),
            ("0b11111111111111111111111111111111111111111111111111111111111111111", None),
            ("0b1111111111111111111111111111111111111111111111111111111111111111", Some(18446744073709551615.0)),
        ];
        for &(s, want) in cases {
            assert!(same(num(s), want), "tonumber({s:?}) = {:?}, want {want:?}", num(s));
        }
    }

    #[test]
    fn str2number_long_inputs() {
        // 1000 digits after the point: still correctly rounded.
        let mut s = String::from("0.");
        s.push_str(&"3".repeat(1000));
        assert_eq!(num(&s), Some(1.0 / 3.0));
        // Halfway between 1 and the next double, with a sticky tail far out.
        let mut h = String::from("1.00000000000000011102230246251565404236316680908203125");
        assert_eq!(num(&h), Some(1.0));
        h.push_str(&"0".repeat(900));
        h.push('1');
        assert_eq!(num(&h), Some(1.0000000000000002));
        // Very long integer.
        let big = "1".repeat(400);
        assert_eq!(num(&big), Some(f64::INFINITY));
        let frac_limit = format!("0.{}1", "0".repeat((1 << 20) - 2));
        assert_eq!(num(&frac_limit), Some(0.0));
        let frac_over = format!("0.{}1", "0".repeat((1 << 20) - 1));
        assert_eq!(num(&frac_over), None);
    }

    #[test]
    fn numerals() {
        use Numeral::*;
        let cases: &[(&str, Option<Numeral>)] = &[
            ("3.", Some(Num(3.0))),
            (".5", Some(Num(0.5))),
            ("1e5", Some(Num(1e5))),
            ("0x.8p1", Some(Num(1.0))),
            ("0xA.8p0", Some(Num(10.5))),
            ("0b11", Some(Num(3.0))),
            ("1LL", Some(Int64(1))),
            ("1ULL", Some(UInt64(1))),
            ("1llu", Some(UInt64(1))),
            ("0x10ull", Some(UInt64(16))),
            ("12LL", Some(Int64(12))),
            ("1i", Some(Imag(1.0))),
            ("2.5i", Some(Imag(2.5))),
            ("0x10i", Some(Imag(16.0))),
            ("1e2i", Some(Imag(100.0))),
            ("4294967296LL", Some(Int64(4294967296))),
            ("1.5LL", None),
            ("1e5LL", None),
            ("0x1u", None),
            ("1u", None),
            ("1l", None),
            ("1LLi", None),
            ("18446744073709551615ULL", Some(UInt64(u64::MAX))),
            ("18446744073709551616ULL", None),
            ("9223372036854775808LL", Some(Int64(i64::MIN))),
            ("0x1ffffffffffffffffULL", None),
            ("0xffffffffffffffffULL", Some(UInt64(u64::MAX))),
            ("0b101LL", Some(Int64(5))),
            ("1..2", None),
            ("1e", None),
            ("3.x", None),
            ("1_000", None),
            ("1e1048576", None),
            ("010", Some(Num(10.0))),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_lua_numeral(s.as_bytes()), want, "{s}");
        }
    }

    #[test]
    fn numeral_extent() {
        let cases: &[(&str, usize)] = &[
            ("123+4", 3),
            ("1e+5)", 4),
            ("1e-5-", 4),
            ("0x1e+1", 4),
            ("0x1p+1+", 6),
            ("3..2", 4),
            ("3.x ", 3),
            (".5e-3,", 5),
            ("1_000 ", 5),
            ("0xffULL;", 7),
            ("5\u{e9}", 3),
            ("0", 1),
            ("1-", 1),
            ("1E-2", 4),
            ("0X1P-2", 6),
        ];
        for &(s, n) in cases {
            assert_eq!(numeral_len(s.as_bytes(), 0), n, "{s:?}");
        }
        assert_eq!(numeral_len(b"x = 12e+3;", 4), 5);
    }

    #[test]
    fn tonumber_bases() {
        // Checked against luajit: tonumber(s, base).
        let big = 18446744073709551615.0;
        let cases: &[(&str, u32, Option<f64>)] = &[
            ("ff", 16, Some(255.0)),
            ("FF", 16, Some(255.0)),
            ("0x10", 16, Some(16.0)),
            ("0X10", 16, Some(16.0)),
            ("0x", 16, None),
            ("0xg", 16, None),
            (" -ff ", 16, Some(-255.0)),
            ("+ff", 16, Some(255.0)),
            ("- ff", 16, None),
            ("-0", 16, Some(-0.0)),
            ("10\0zz", 16, Some(16.0)),
            ("\0", 16, None),
            ("", 16, None),
            ("  ", 16, None),
            ("z", 36, Some(35.0)),
            ("Z", 36, Some(35.0)),
            ("zz", 35, None),
            ("0b101", 2, None),
            ("101", 2, Some(5.0)),
            ("102", 2, None),
            ("ffffffffffffffff", 16, Some(big)),
            ("10000000000000000", 16, Some(big)),
            ("fffffffffffffffffff", 16, Some(big)),
            ("-ffffffffffffffffffff", 16, Some(-big)),
            ("1e1", 10, Some(10.0)),
            ("0x10", 10, Some(16.0)),
            (" 0x10 ", 10, Some(16.0)),
            ("inf", 10, Some(f64::INFINITY)),
            ("1.5", 16, None),
            ("7fffffff", 16, Some(2147483647.0)),
            ("1 ", 8, Some(1.0)),
            ("8", 8, None),
            ("\t\n11\x0b\x0c\r", 2, Some(3.0)),
            ("1_0", 16, None),
            ("-0x1", 16, Some(-1.0)),
            ("+-1", 16, None),
            ("0x1", 17, None),
            ("0x1", 15, None),
            ("12", 2, None),
            ("12", 36, Some(38.0)),
            ("12", 1, None),
            ("12", 37, None),
            ("777", 8, Some(511.0)),
            ("-7fffffffffffffff", 16, Some(-9223372036854775807.0)),
            ("1 2", 16, None),
        ];
        for &(s, b, want) in cases {
            let got = tonumber_base(s.as_bytes(), b);
            assert!(same(got, want), "tonumber({s:?}, {b}) = {got:?}, want {want:?}");
        }
    }

    #[test]
    fn exact_decimal_and_rounding() {
        let d = Decimal::exact(0.1);
        let s: String = d.digits().iter().map(|&v| (b'0' + v) as char).collect();
        assert_eq!(s, "1000000000000000055511151231257827021181583404541015625");
        assert_eq!(d.point, 0);
        let d = Decimal::exact(5e-324);
        assert_eq!(d.len, 751);
        assert_eq!(d.point, -323);
        let d = Decimal::exact(f64::MAX);
        assert_eq!(d.len, 309);
        assert_eq!(d.point, 309);
        let mut d = Decimal::exact(2.5);
        d.round_to(1, true);
        assert_eq!((d.digits(), d.point), (&[2u8][..], 1));
        let mut d = Decimal::exact(2.5);
        d.round_to(1, false);
        assert_eq!((d.digits(), d.point), (&[3u8][..], 1));
        let mut d = Decimal::exact(9.96);
        d.round_to(2, false);
        assert_eq!((d.digits(), d.point), (&[1u8][..], 2));
        let mut d = Decimal::exact(0.04);
        d.round_to(-1, false);
        assert_eq!(d.len, 0);
        let mut d = Decimal::exact(0.5);
        d.round_to(0, false);
        assert_eq!((d.digits(), d.point), (&[1u8][..], 1));
        let mut d = Decimal::exact(0.5);
        d.round_to(0, true);
        assert_eq!(d.len, 0);
    }

    #[test]
    fn tostring_roundtrip_property() {
        // tostring is a 14-digit rounding: reparsing differs by < 1e-13 relative.
        let mut seed = 0x1234_5678_9abc_def0u64;
        for _ in 0..20000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = f64::from_bits(seed);
            if !x.is_finite() || x == 0.0 {
                continue;
            }
            let s = tostr(x);
            let y = num(&s).unwrap();
            assert!(((y - x) / x).abs() < 6e-14 || y.is_infinite(), "{x:e} -> {s}");
        }
    }
}
