//! The byte format of host-function arguments and results (the other half is
//! `host-wasi/src/wire.rs`; keep the two in step).
//!
//! A value is a tag byte and its payload: `0` nil, `1` false, `2` true, `3` a number
//! (8 bytes, little-endian IEEE double), `4` a string (4-byte little-endian length,
//! then the bytes). Arguments are a sequence of values. A result is a status byte
//! (`0` values follow, `1` one string follows: the error message) and values.

/// One value crossing the boundary.
#[derive(Debug, Clone, PartialEq)]
pub enum WireValue {
    Nil,
    Bool(bool),
    Number(f64),
    Str(Vec<u8>),
}

pub fn encode(values: &[WireValue], out: &mut Vec<u8>) {
    for v in values {
        match v {
            WireValue::Nil => out.push(0),
            WireValue::Bool(b) => out.push(1 + u8::from(*b)),
            WireValue::Number(n) => {
                out.push(3);
                out.extend_from_slice(&n.to_le_bytes());
            }
            WireValue::Str(s) => {
                out.push(4);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s);
            }
        }
    }
}

/// Decodes a sequence of values; `None` if the bytes are malformed.
pub fn decode(mut b: &[u8]) -> Option<Vec<WireValue>> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = b.split_first() {
        b = rest;
        out.push(match tag {
            0 => WireValue::Nil,
            1 => WireValue::Bool(false),
            2 => WireValue::Bool(true),
            3 => {
                let (n, rest) = b.split_first_chunk::<8>()?;
                b = rest;
                WireValue::Number(f64::from_le_bytes(*n))
            }
            4 => {
                let (n, rest) = b.split_first_chunk::<4>()?;
                let n = u32::from_le_bytes(*n) as usize;
                if rest.len() < n {
                    return None;
                }
                let (s, rest) = rest.split_at(n);
                b = rest;
                WireValue::Str(s.to_vec())
            }
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let vs = vec![
            WireValue::Nil,
            WireValue::Bool(true),
            WireValue::Bool(false),
            WireValue::Number(-1.5),
            WireValue::Str(b"a\0b".to_vec()),
        ];
        let mut b = Vec::new();
        encode(&vs, &mut b);
        assert_eq!(decode(&b), Some(vs));
        assert_eq!(decode(&[4, 9, 0, 0, 0, b'x']), None);
        assert_eq!(decode(&[7]), None);
    }
}
