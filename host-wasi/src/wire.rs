//! The byte format of host-function arguments and results. The guest compiles this
//! same file (`host-wasi/guest/src/wire.rs` includes it), so it uses only `std`.
//!
//! A value is a tag byte and its payload: `0` nil, `1` false, `2` true, `3` a number
//! (8 bytes, little-endian IEEE double), `4` a string (4-byte little-endian length,
//! then the bytes). Arguments are a sequence of values. A result is a status byte
//! (`0` values follow, `1` one string follows: the error message) and values.

/// A value passed to or returned by a host function: what crosses the boundary
/// between a tenant's Lua and the host. Tables and functions do not cross.
#[derive(Debug, Clone, PartialEq)]
pub enum HostValue {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// A number (Lua 5.1 has only doubles).
    Number(f64),
    /// A string: bytes, not necessarily UTF-8.
    Str(Vec<u8>),
}

impl HostValue {
    /// The string's bytes, if this is a string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            HostValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string as UTF-8 text, if this is a string that is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The number, if this is a number.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            HostValue::Number(n) => Some(*n),
            _ => None,
        }
    }
}

impl From<&str> for HostValue {
    fn from(s: &str) -> HostValue {
        HostValue::Str(s.as_bytes().to_vec())
    }
}

impl From<String> for HostValue {
    fn from(s: String) -> HostValue {
        HostValue::Str(s.into_bytes())
    }
}

impl From<Vec<u8>> for HostValue {
    fn from(s: Vec<u8>) -> HostValue {
        HostValue::Str(s)
    }
}

impl From<f64> for HostValue {
    fn from(n: f64) -> HostValue {
        HostValue::Number(n)
    }
}

impl From<bool> for HostValue {
    fn from(b: bool) -> HostValue {
        HostValue::Bool(b)
    }
}

/// Appends the encoding of `values` to `out`.
pub fn encode(values: &[HostValue], out: &mut Vec<u8>) {
    for v in values {
        match v {
            HostValue::Nil => out.push(0),
            HostValue::Bool(b) => out.push(1 + u8::from(*b)),
            HostValue::Number(n) => {
                out.push(3);
                out.extend_from_slice(&n.to_le_bytes());
            }
            HostValue::Str(s) => {
                out.push(4);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s);
            }
        }
    }
}

/// Decodes a sequence of values; `None` if the bytes are malformed. (The guest's
/// decoder; the host decodes with a bound, [`decode_at_most`].)
#[allow(dead_code)]
pub fn decode(b: &[u8]) -> Option<Vec<HostValue>> {
    decode_at_most(b, usize::MAX).ok()
}

/// Why [`decode_at_most`] refused.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not the encoding.
    Malformed,
    /// More values than allowed (found before decoding them all: a megabyte of nils
    /// is not turned into a million values first).
    TooMany,
}

/// Decodes at most `max` values.
pub fn decode_at_most(mut b: &[u8], max: usize) -> Result<Vec<HostValue>, DecodeError> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = b.split_first() {
        if out.len() == max {
            return Err(DecodeError::TooMany);
        }
        b = rest;
        out.push(match tag {
            0 => HostValue::Nil,
            1 => HostValue::Bool(false),
            2 => HostValue::Bool(true),
            3 => {
                let (n, rest) = b.split_first_chunk::<8>().ok_or(DecodeError::Malformed)?;
                b = rest;
                HostValue::Number(f64::from_le_bytes(*n))
            }
            4 => {
                let (n, rest) = b.split_first_chunk::<4>().ok_or(DecodeError::Malformed)?;
                let n = u32::from_le_bytes(*n) as usize;
                if rest.len() < n {
                    return Err(DecodeError::Malformed);
                }
                let (s, rest) = rest.split_at(n);
                b = rest;
                HostValue::Str(s.to_vec())
            }
            _ => return Err(DecodeError::Malformed),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let vs = vec![
            HostValue::Nil,
            HostValue::Bool(true),
            HostValue::Bool(false),
            HostValue::Number(-1.5),
            HostValue::Str(b"a\0b".to_vec()),
        ];
        let mut b = Vec::new();
        encode(&vs, &mut b);
        assert_eq!(decode(&b), Some(vs));
        assert_eq!(decode(&[4, 9, 0, 0, 0, b'x']), None);
        assert_eq!(decode(&[7]), None);
        assert_eq!(decode_at_most(&[0, 0, 0], 3), Ok(vec![HostValue::Nil; 3]));
        assert_eq!(decode_at_most(&[0, 0, 0, 0], 3), Err(DecodeError::TooMany));
    }
}
