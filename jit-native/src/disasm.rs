//! Machine-code listings for dumps (`-jdump=m` style): one line per instruction, the address
//! then Intel syntax. Built only with the `disasm` feature; the golden tests print through
//! the same functions, so what a developer reads is what the tests compare.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its address (`base_addr` plus its offset in the code).
    pub addr: u64,
    /// Its offset in the code.
    pub offset: usize,
    /// Its length in bytes (1 for an undecodable byte, printed as `(bad)`).
    pub len: usize,
    /// Intel syntax, lower case, hex immediates and displacements as `0x…`.
    pub text: String,
}

/// The formatter every listing uses: Intel syntax, `0x` hex, `rip`-relative operands shown
/// as the absolute target, `qword ptr` only where the size is ambiguous.
fn formatter() -> IntelFormatter {
    let mut f = IntelFormatter::new();
    let o = f.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_space_after_operand_separator(true);
    o.set_branch_leading_zeros(false);
    o.set_small_hex_numbers_in_decimal(false);
    o.set_first_operand_char_index(8);
    f
}

/// Decodes `code` (64-bit mode) as if loaded at `base_addr`. Undecodable bytes become one
/// `(bad)` line each, so a listing always covers every byte.
pub fn lines(code: &[u8], base_addr: u64) -> Vec<Line> {
    let mut out = Vec::new();
    let mut fmt = formatter();
    let mut decoder = Decoder::with_ip(64, code, base_addr, DecoderOptions::NONE);
    let mut ins = Instruction::default();
    while decoder.can_decode() {
        let offset = decoder.position();
        decoder.decode_out(&mut ins);
        let addr = base_addr.wrapping_add(offset as u64);
        if ins.is_invalid() {
            // Resynchronise one byte further on.
            let next = offset + 1;
            out.push(Line { addr, offset, len: 1, text: "(bad)".to_string() });
            if decoder.set_position(next).is_err() {
                break;
            }
            decoder.set_ip(base_addr.wrapping_add(next as u64));
            continue;
        }
        let mut text = String::new();
        fmt.format(&ins, &mut text);
        out.push(Line { addr, offset, len: ins.len(), text });
    }
    out
}

/// A listing in the style of LuaJIT's `-jdump` machine code: `address  instruction` per line,
/// the address in hex without prefix, at least 8 digits.
pub fn disassemble(code: &[u8], base_addr: u64) -> String {
    let mut s = String::new();
    for line in lines(code, base_addr) {
        let _ = writeln!(s, "{:08x}  {}", line.addr, line.text);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_has_address_then_intel_text() {
        // add rax, rcx; ret; one stray byte.
        let code = [0x48, 0x01, 0xC8, 0xC3, 0x0F];
        assert_eq!(disassemble(&code, 0x1000), "00001000  add     rax, rcx\n00001003  ret\n00001004  (bad)\n");
    }
}
