//! The human units of the limits, as the command lines (`moonbox`, `moonbox-sandbox`)
//! take them: sizes (`64M`), counts (`1000000`, `1e9`) and durations (`500ms`, `2s`).

use std::time::Duration;

/// `64M`, `512K`, `1G`, `1000000` (bytes; more than zero).
pub fn parse_size(s: &str) -> Option<usize> {
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1usize << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_mul(mult).filter(|&n| n > 0)
}

/// `1000000` or `1e9`: a positive whole number.
pub fn parse_count(s: &str) -> Option<u64> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().filter(|&n| n > 0);
    }
    let x: f64 = s.parse().ok()?;
    ((1.0..1.8e19).contains(&x) && x.fract() == 0.0).then_some(x as u64)
}

/// `500ms`, `2s`, `1.5s`, `1m`, `3` (seconds; more than zero).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let secs = num.parse::<f64>().ok()? * unit;
    (secs > 0.0 && secs < 1e9).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_counts_and_durations() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("1000"), Some(1000));
        for bad in ["x", "", "M", "-1", "0", "1.5M", "99999999999999999999G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
        assert_eq!(parse_count("1000000"), Some(1_000_000));
        assert_eq!(parse_count("1e9"), Some(1_000_000_000));
        for bad in ["0", "-5", "1.5", "x", "1e30"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        for bad in ["-1", "0", "s", "", "2h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
