//! The `bit` library (LuaJIT's BitOp): 32-bit integer operations on numbers.
//!
//! Every operand is converted to a signed 32-bit integer the way LuaJIT does it
//! (`lj_num2bit`): add 2^52 + 2^51 and take the low 32 bits of the double's bit
//! pattern. That rounds fractions to nearest-even and wraps values modulo 2^32;
//! NaN and infinities give 0. Numeric strings are accepted, as in LuaJIT. Shift
//! counts use their low 5 bits. Results are signed 32-bit numbers.
//!
//! 64-bit FFI cdata operands are not supported (the engine has no cdata yet).

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
    let x = check_bit(vm, base, nargs, 0)?;
    ret(vm, x)
}

fn bnot(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
    let x = check_bit(vm, base, nargs, 0)?;
    ret(vm, !x)
}

fn bswap(vm: &mut Vm, base: usize, nargs: usize) -> LResult<usize> {
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
    let x = check_bit(vm, base, nargs, 0)?;
    let n = if nargs >= 2 { check_bit(vm, base, nargs, 1)? } else { 8 };
    let s = tohex_str(x, n);
    let v = vm.str_value(&s);
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
