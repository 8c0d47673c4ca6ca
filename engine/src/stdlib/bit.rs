//! The `bit` library (LuaJIT's BitOp): 32-bit integer operations on numbers.
//!
//! Every operand is converted to a signed 32-bit integer the way LuaJIT does it
//! (`lj_num2bit`): add 2^52 + 2^51 and take the low 32 bits of the double's bit
//! pattern. That rounds fractions to nearest-even and wraps values modulo 2^32;
//! NaN and infinities give 0. Numeric strings are accepted, as in LuaJIT. Shift
//! counts use their low 5 bits. Results are signed 32-bit numbers.
//!
//! With a cdata operand (`1LL`, any integer cdata) an operation works on 64 bits
//! and returns an `int64_t` (or, when an operand is `uint64_t`, a `uint64_t`)
//! cdata, as LuaJIT's FFI-enabled `bit` does (`bit.tobit` still returns a number).

use crate::value::Value;
use crate::vm::{LResult, Vm};

pub fn open(vm: &mut Vm) {
    super::register_lib(
        vm,
        "bit",
        &[
            ("tobit", tobit),
            ("bnot", bnot),
            ("bswap", bswap),
            ("lshift", lshift),
            ("rshift", rshift),
            ("arshift", arshift),
            ("rol", rol),
            ("ror", ror),
            ("band", band),
            ("bor", bor),
            ("bxor", bxor),
            ("tohex", tohex),
        ],
    );
}

/// LuaJIT's `lj_num2bit`: the low 32 bits of `n + 2^52 + 2^51`.
pub fn num2bit(n: f64) -> i32 {
    if n.is_nan() {
        // x86 addition returns the (quieted) NaN operand unchanged: its low bits.
        return n.to_bits() as u32 as i32;
    }
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

/// Argument `i` as a 32-bit integer ("number expected" otherwise).
fn check_bit(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<i32> {
    match Vm::to_arith_number(vm.arg(base, nargs, i)) {
        Some(n) => Ok(num2bit(n)),
        None => Err(vm.type_arg_error(base, nargs, i, "number")),
    }
}

fn ret(vm: &mut Vm, x: i32) -> LResult<usize> {
    vm.push(Value::number(f64::from(x)));
    Ok(1)
}

fn tobit(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if has_cdata(vm, base, nargs) {
        return bit64(vm, base, nargs, Op::Tobit);
    }
    let x = check_bit(vm, base, nargs, 0)?;
    ret(vm, x)
}

fn bnot(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if has_cdata(vm, base, nargs) {
        return bit64(vm, base, nargs, Op::Bnot);
    }
    let x = check_bit(vm, base, nargs, 0)?;
    ret(vm, !x)
}

fn bswap(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if has_cdata(vm, base, nargs) {
        return bit64(vm, base, nargs, Op::Bswap);
    }
    let x = check_bit(vm, base, nargs, 0)?;
    ret(vm, x.swap_bytes())
}

/// The shift and rotate operations, by name.
#[derive(Clone, Copy)]
pub enum Shift {
    Lshift,
    Rshift,
    Arshift,
    Rol,
    Ror,
}

/// `op(x, n)` with LuaJIT's semantics: the count is taken modulo 32.
pub fn shift(op: Shift, x: i32, n: i32) -> i32 {
    let n = (n & 31) as u32;
    match op {
        Shift::Lshift => ((x as u32) << n) as i32,
        Shift::Rshift => ((x as u32) >> n) as i32,
        Shift::Arshift => x >> n,
        Shift::Rol => x.rotate_left(n),
        Shift::Ror => x.rotate_right(n),
    }
}

fn shift_op(vm: &mut Vm, base: usize, nargs: usize, op: Shift) -> LResult<usize> {
    if has_cdata(vm, base, nargs) {
        return bit64(vm, base, nargs, Op::Shift(op));
    }
    let x = check_bit(vm, base, nargs, 0)?;
    let n = check_bit(vm, base, nargs, 1)?;
    ret(vm, shift(op, x, n))
}

fn lshift(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    shift_op(vm, base, nargs, Shift::Lshift)
}

fn rshift(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    shift_op(vm, base, nargs, Shift::Rshift)
}

fn arshift(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    shift_op(vm, base, nargs, Shift::Arshift)
}

fn rol(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    shift_op(vm, base, nargs, Shift::Rol)
}

fn ror(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    shift_op(vm, base, nargs, Shift::Ror)
}

/// `band` / `bor` / `bxor` over one or more arguments.
fn fold(vm: &mut Vm, base: usize, nargs: usize, init: i32, f: fn(i32, i32) -> i32) -> LResult<usize> {
    if has_cdata(vm, base, nargs) {
        return bit64(vm, base, nargs, Op::Fold(init as i64 as u64, f64_of(f)));
    }
    let mut acc = init;
    // At least one argument is required ("number expected, got no value").
    for i in 0..nargs.max(1) {
        let x = check_bit(vm, base, nargs, i)?;
        acc = f(acc, x);
    }
    ret(vm, acc)
}

fn band(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    fold(vm, base, nargs, -1, |a, b| a & b)
}

fn bor(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    fold(vm, base, nargs, 0, |a, b| a | b)
}

fn bxor(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    fold(vm, base, nargs, 0, |a, b| a ^ b)
}

/// `bit.tohex(x, n)`: `n` hex digits (default 8; negative means upper case; at
/// most 254); fewer than 8 digits keep only the low bits of `x`.
pub fn tohex_str(x: i32, n: i32) -> Vec<u8> {
    let mut b = x as u32;
    let mut n = n;
    let upper = n < 0;
    if upper {
        n = (!(n as u32)).wrapping_add(1) as i32;
    }
    let n = if (n as u32) > 254 { 254 } else { n as u32 };
    if n < 8 {
        b &= (1u32 << (4 * n)).wrapping_sub(1);
    }
    let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut rev = Vec::with_capacity(8);
    let mut v = b;
    while v != 0 {
        rev.push(digits[(v & 15) as usize]);
        v >>= 4;
    }
    let mut out = Vec::with_capacity(n.max(8) as usize);
    out.resize((n as usize).saturating_sub(rev.len()), b'0');
    out.extend(rev.iter().rev());
    out
}

fn tohex(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    if has_cdata(vm, base, nargs) {
        return bit64(vm, base, nargs, Op::Tohex);
    }
    let x = check_bit(vm, base, nargs, 0)?;
    let n = if nargs >= 2 { check_bit(vm, base, nargs, 1)? } else { 8 };
    let s = tohex_str(x, n);
    let v = vm.str_value(&s);
    vm.push(v);
    Ok(1)
}

// ----- 64-bit operations on cdata (LuaJIT's `lj_carith_check64` & co.) -----------

fn has_cdata(vm: &Vm, base: usize, nargs: usize) -> bool {
    (0..nargs).any(|i| vm.arg(base, nargs, i).is_cdata())
}

#[derive(Clone, Copy)]
enum Op {
    Tobit,
    Bnot,
    Bswap,
    Shift(Shift),
    /// `band`/`bor`/`bxor`: the start value and the 64-bit step.
    Fold(u64, fn(u64, u64) -> u64),
    Tohex,
}

/// The 64-bit step for a 32-bit fold function (band, bor and bxor are the
/// same bit operation at either width).
fn f64_of(f: fn(i32, i32) -> i32) -> fn(u64, u64) -> u64 {
    if f(0, -1) == 0 {
        |a, b| a & b
    } else if f(-1, -1) == 0 {
        |a, b| a ^ b
    } else {
        |a, b| a | b
    }
}

/// Argument `i` as 64 bits: a cdata converted to `int64_t` (`uint64_t` if it is
/// one, which then becomes the result type: `ty`), a number as its 32-bit
/// `tobit` value zero-extended, as LuaJIT.
fn check64(vm: &mut Vm, base: usize, nargs: usize, i: usize, ty: &mut Option<bool>) -> LResult<u64> {
    let v = vm.arg(base, nargs, i);
    if v.is_cdata() {
        if let Some((k, unsigned)) = crate::ffi::lib::int64_of(vm, v, i + 1)? {
            if unsigned {
                *ty = Some(true);
            } else if ty.is_none() {
                *ty = Some(false);
            }
            return Ok(k);
        }
        return Err(vm.type_arg_error(base, nargs, i, "number"));
    }
    Ok(check_bit(vm, base, nargs, i)? as u32 as u64)
}

/// A number or cdata converted to the 64-bit result type with C's conversion
/// (truncation), as LuaJIT converts the operands of `band` & co.
fn conv64(vm: &mut Vm, base: usize, nargs: usize, i: usize) -> LResult<u64> {
    let v = vm.arg(base, nargs, i);
    if v.is_cdata() {
        return Ok(crate::ffi::lib::int64_of(vm, v, i + 1)?.map_or(0, |(k, _)| k));
    }
    match Vm::to_arith_number(v) {
        Some(n) => Ok(crate::ffi::conv::cvt64(n) as u64),
        None => Err(vm.type_arg_error(base, nargs, i, "number")),
    }
}

fn bit64(vm: &mut Vm, base: usize, nargs: usize, op: Op) -> LResult<usize> {
    let mut ty = None;
    let x = check64(vm, base, nargs, 0, &mut ty)?;
    let r = match op {
        Op::Tobit => return ret(vm, x as u32 as i32),
        Op::Bnot => !x,
        Op::Bswap => x.swap_bytes(),
        Op::Shift(sh) => {
            let mut ty2 = None;
            let n = check64(vm, base, nargs, 1, &mut ty2)? as u32;
            if ty.is_none() {
                return ret(vm, shift(sh, x as u32 as i32, n as i32));
            }
            let n = n & 63;
            match sh {
                Shift::Lshift => x << n,
                Shift::Rshift => x >> n,
                Shift::Arshift => ((x as i64) >> n) as u64,
                Shift::Rol => x.rotate_left(n),
                Shift::Ror => x.rotate_right(n),
            }
        }
        Op::Fold(init, f) => {
            for i in 1..nargs {
                check64(vm, base, nargs, i, &mut ty)?;
            }
            let mut acc = if init == 0 { 0 } else { u64::MAX };
            for i in 0..nargs {
                let k = conv64(vm, base, nargs, i)?;
                acc = f(acc, k);
            }
            acc
        }
        Op::Tohex => {
            let mut ty2 = None;
            let n = if nargs >= 2 {
                check64(vm, base, nargs, 1, &mut ty2)? as u32 as i32
            } else if ty.is_some() {
                16
            } else {
                8
            };
            let upper = n < 0;
            let n = if upper { (!(n as u32)).wrapping_add(1) } else { n as u32 };
            let n = n.min(254);
            let b = if n < 16 { x & ((1u64 << (4 * n)) - 1) } else { x };
            let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
            let mut rev = Vec::new();
            let mut v = b;
            while v != 0 {
                rev.push(digits[(v & 15) as usize]);
                v >>= 4;
            }
            let mut out = vec![b'0'; (n as usize).saturating_sub(rev.len())];
            out.extend(rev.iter().rev());
            let s = vm.str_value(&out);
            vm.push(s);
            return Ok(1);
        }
    };
    let Some(unsigned) = ty else { return ret(vm, r as u32 as i32) };
    let v = crate::ffi::lib::new_int64(vm, r, unsigned)?;
    vm.push(v);
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num2bit_matches_luajit() {
        assert_eq!(num2bit(2f64.powi(32) + 5.0), 5);
        assert_eq!(num2bit(-1.0), -1);
        assert_eq!(num2bit(2f64.powi(31)), i32::MIN);
        assert_eq!(num2bit(0.5), 0);
        assert_eq!(num2bit(1.5), 2);
        assert_eq!(num2bit(2.5), 2);
        assert_eq!(num2bit(-1.5), -2);
        assert_eq!(num2bit(f64::NAN), 0);
        assert_eq!(num2bit(f64::INFINITY), 0);
        assert_eq!(num2bit(f64::NEG_INFINITY), 0);
        assert_eq!(num2bit(2f64.powi(53) + 2.0), 1);
        assert_eq!(num2bit(2f64.powi(60) + 2f64.powi(40) + 7.0), 0);
        assert_eq!(num2bit(1e300), -2013235812);
        assert_eq!(num2bit(-2f64.powi(63)), 0);
    }

    #[test]
    fn shifts() {
        assert_eq!(shift(Shift::Lshift, 1, 31), i32::MIN);
        assert_eq!(shift(Shift::Lshift, 1, 32), 1);
        assert_eq!(shift(Shift::Lshift, 1, -1), i32::MIN);
        assert_eq!(shift(Shift::Rshift, -1, 28), 15);
        assert_eq!(shift(Shift::Arshift, -256, 4), -16);
        assert_eq!(shift(Shift::Rol, 0x1234_5678, 8), 0x3456_7812);
        assert_eq!(shift(Shift::Ror, 0x1234_5678, 8), 0x7812_3456);
    }

    #[test]
    fn tohex_widths() {
        assert_eq!(tohex_str(1, 8), b"00000001");
        assert_eq!(tohex_str(-1, 8), b"ffffffff");
        assert_eq!(tohex_str(255, -2), b"FF");
        assert_eq!(tohex_str(0x1234_5678, 0), b"");
        assert_eq!(tohex_str(-1, 10), b"00ffffffff");
        assert_eq!(tohex_str(1, 300).len(), 254);
        assert_eq!(tohex_str(1, i32::MIN).len(), 254);
        assert_eq!(tohex_str(0xabcdef, -3), b"DEF");
    }
}
