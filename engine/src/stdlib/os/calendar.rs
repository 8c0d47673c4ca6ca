//! Calendar arithmetic and `strftime` for `os.date` / `os.time`.
//!
//! Dates are proleptic Gregorian, computed with 64-bit day counts (Howard
//! Hinnant's civil-date algorithms), so any `time_t` whose year fits a C `int`
//! converts, as with glibc's `gmtime`. [`strftime`] reproduces glibc 2.36's
//! `strftime` in the C locale: every conversion glibc knows (`%a` … `%z`, `%Z`,
//! GNU `%k %l %s %P %C %G %g %V %u`), the `_ - 0 ^ #` flags, field widths, the `E`
//! and `O` modifiers (no eras or alternative digits in the C locale), and glibc's
//! treatment of unknown conversions (copied through, padded to the width).

/// A broken-down time, as C's `struct tm` (with glibc's `tm_gmtoff`/`tm_zone`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tm {
    pub sec: i32,
    pub min: i32,
    pub hour: i32,
    /// Day of the month, 1-based.
    pub mday: i32,
    /// Month, 0-based.
    pub mon: i32,
    /// Year minus 1900.
    pub year: i32,
    /// Day of the week, 0 = Sunday.
    pub wday: i32,
    /// Day of the year, 0-based.
    pub yday: i32,
    pub isdst: i32,
    /// Seconds east of UTC.
    pub gmtoff: i64,
    pub zone: String,
}

pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days before each month (0-based), for common and leap years.
const MON_YDAY: [[i64; 13]; 2] = [
    [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
    [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];

/// Days before month `mon` (0..=11) of year `y`.
pub fn days_before_month(y: i64, mon: usize) -> i64 {
    MON_YDAY[usize::from(is_leap(y))][mon.min(12)]
}

/// Days since 1970-01-01 of `y-m-d` (`m` in 1..=12; `d` may be out of range).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month 1..=12, day 1..=31)` of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the epoch of a wall-clock reading given as full year, 0-based
/// day of the year (any value) and time of day (any values).
pub fn wall_secs(year: i64, yday: i64, hour: i64, min: i64, sec: i64) -> i64 {
    let days = days_from_civil(year, 1, 1) + yday;
    days * 86_400 + hour * 3_600 + min * 60 + sec
}

/// `t + off` broken down as UTC (`gmtime` for `off == 0`); `None` when the year
/// does not fit `tm_year` (glibc's EOVERFLOW). Zone fields are left for the caller.
pub fn breakdown(t: i64, off: i64) -> Option<Tm> {
    let t = t.checked_add(off)?;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let year = i32::try_from(y - 1900).ok()?;
    let yday = days - days_from_civil(y, 1, 1);
    Some(Tm {
        sec: (secs % 60) as i32,
        min: (secs / 60 % 60) as i32,
        hour: (secs / 3600) as i32,
        mday: d as i32,
        mon: (m - 1) as i32,
        year,
        wday: (days + 4).rem_euclid(7) as i32,
        yday: yday as i32,
        isdst: 0,
        gmtoff: off,
        zone: String::new(),
    })
}

// ----- strftime -------------------------------------------------------------------------

const WDAY_ABBR: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const WDAY_FULL: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MON_ABBR: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MON_FULL: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn name<'a>(table: &[&'a str], i: i32) -> &'a str {
    usize::try_from(i).ok().and_then(|i| table.get(i)).copied().unwrap_or("?")
}

/// Output with glibc's size limit: the whole result plus its NUL must fit `max`.
struct Out {
    buf: Vec<u8>,
    max: usize,
}

/// One conversion's flags.
#[derive(Clone, Copy)]
struct Spec {
    pad: u8,
    width: i64,
    upper: bool,
    lower: bool,
}

impl Out {
    fn room(&self, n: usize) -> bool {
        self.buf.len().saturating_add(n) < self.max
    }

    /// glibc's `cpy`: pad to the field width (zeros for the `0` flag, else spaces),
    /// then copy with case conversion.
    fn cpy(&mut self, s: &[u8], sp: &Spec) -> Option<()> {
        let delta = (sp.width - s.len() as i64).max(0) as usize;
        if !self.room(s.len() + delta) {
            return None;
        }
        let fill = if sp.pad == b'0' { b'0' } else { b' ' };
        self.buf.resize(self.buf.len() + delta, fill);
        for &c in s {
            self.buf.push(if sp.lower {
                c.to_ascii_lowercase()
            } else if sp.upper {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        Some(())
    }

    /// A number of at least `digits` digits (glibc's `do_number_sign_and_padding`).
    fn number(&mut self, neg: bool, mag: u64, digits: i64, sp: &Spec) -> Option<()> {
        let mut sp = *sp;
        let mut text = Vec::with_capacity(24);
        if neg {
            text.push(b'-');
        }
        text.extend_from_slice(mag.to_string().as_bytes());
        let mut body: &[u8] = &text;
        if sp.pad != b'-' {
            let padding = digits - text.len() as i64;
            if padding > 0 {
                let padding = padding as usize;
                if sp.pad == b'_' {
                    if !self.room(padding) {
                        return None;
                    }
                    self.buf.resize(self.buf.len() + padding, b' ');
                    sp.width = (sp.width - padding as i64).max(0);
                } else {
                    if !self.room(usize::try_from(digits).unwrap_or(usize::MAX)) {
                        return None;
                    }
                    if neg {
                        self.buf.push(b'-');
                        body = &text[1..];
                    }
                    self.buf.resize(self.buf.len() + padding, b'0');
                    sp.width = 0;
                }
            }
        }
        self.cpy(body, &sp)
    }
}

/// `__isleap` on a C int year.
fn leap32(y: i32) -> bool {
    is_leap(i64::from(y))
}

/// Days from the first day of the first ISO week of the year to `yday`.
fn iso_week_days(yday: i32, wday: i32) -> i32 {
    let big_enough_multiple_of_7 = (366 / 7 + 2) * 7;
    yday - (yday - wday + 4 + big_enough_multiple_of_7) % 7 + 3
}

/// Formats `tm` like glibc's `strftime` with a buffer of `max` bytes: `None` when
/// the result (plus NUL) does not fit. `mktime` serves `%s`.
pub fn strftime(fmt: &[u8], tm: &Tm, max: usize, mktime: &mut dyn FnMut(&Tm) -> i64) -> Option<Vec<u8>> {
    let mut out = Out { buf: Vec::new(), max };
    format_into(&mut out, fmt, tm, mktime)?;
    Some(out.buf)
}

fn format_into(out: &mut Out, fmt: &[u8], tm: &Tm, mktime: &mut dyn FnMut(&Tm) -> i64) -> Option<()> {
    let hour12 = match tm.hour {
        h if h > 12 => h - 12,
        0 => 12,
        h => h,
    };
    let at = |k: usize| fmt.get(k).copied().unwrap_or(0);
    let mut f = 0usize;
    while f < fmt.len() {
        let c = fmt[f];
        if c != b'%' {
            if !out.room(1) {
                return None;
            }
            out.buf.push(c);
            f += 1;
            continue;
        }
        let pct = f;
        let mut sp = Spec { pad: 0, width: -1, upper: false, lower: false };
        let mut change_case = false;
        loop {
            f += 1;
            match at(f) {
                b'_' | b'-' | b'0' => sp.pad = at(f),
                b'^' => sp.upper = true,
                b'#' => change_case = true,
                _ => break,
            }
        }
        if at(f).is_ascii_digit() {
            sp.width = 0;
            while at(f).is_ascii_digit() {
                sp.width = (sp.width * 10 + i64::from(at(f) - b'0')).min(i64::from(i32::MAX));
                f += 1;
            }
        }
        let modifier = match at(f) {
            b'E' | b'O' => {
                f += 1;
                at(f - 1)
            }
            _ => 0,
        };
        let fc = at(f);
        let year = tm.year.wrapping_add(1900);
        // What the conversion produces.
        enum R<'a> {
            Text(&'a str),
            Sub(&'static str),
            Num(i64, i32),
            SpacePad(i32),
            Bad,
            Done,
        }
        let r = match fc {
            b'%' if modifier != 0 => R::Bad,
            b'%' => R::Text("%"),
            b'a' | b'A' if modifier != 0 => R::Bad,
            b'a' | b'A' => {
                if change_case {
                    sp.upper = true;
                    sp.lower = false;
                }
                R::Text(if fc == b'a' { name(&WDAY_ABBR, tm.wday) } else { name(&WDAY_FULL, tm.wday) })
            }
            b'b' | b'h' | b'B' => {
                if change_case {
                    sp.upper = true;
                    sp.lower = false;
                }
                if modifier == b'E' {
                    R::Bad
                } else if fc == b'B' {
                    R::Text(name(&MON_FULL, tm.mon))
                } else {
                    R::Text(name(&MON_ABBR, tm.mon))
                }
            }
            b'c' if modifier == b'O' => R::Bad,
            b'c' => R::Sub("%a %b %e %H:%M:%S %Y"),
            b'C' => R::Num(1, year / 100 - i32::from(year % 100 < 0)),
            b'x' if modifier == b'O' => R::Bad,
            b'x' => R::Sub("%m/%d/%y"),
            b'D' if modifier != 0 => R::Bad,
            b'D' => R::Sub("%m/%d/%y"),
            b'F' if modifier != 0 => R::Bad,
            b'F' => R::Sub("%Y-%m-%d"),
            b'R' => R::Sub("%H:%M"),
            b'r' => R::Sub("%I:%M:%S %p"),
            b'X' if modifier == b'O' => R::Bad,
            b'X' | b'T' => R::Sub("%H:%M:%S"),
            b'd' | b'e' | b'H' | b'I' | b'k' | b'l' | b'j' | b'M' | b'm' | b'S' | b'U' | b'W' | b'w'
                if modifier == b'E' =>
            {
                R::Bad
            }
            b'd' => R::Num(2, tm.mday),
            b'e' => R::SpacePad(tm.mday),
            b'H' => R::Num(2, tm.hour),
            b'I' => R::Num(2, hour12),
            b'k' => R::SpacePad(tm.hour),
            b'l' => R::SpacePad(hour12),
            b'j' => R::Num(3, tm.yday.wrapping_add(1)),
            b'M' => R::Num(2, tm.min),
            b'm' => R::Num(2, tm.mon.wrapping_add(1)),
            b'S' => R::Num(2, tm.sec),
            b'U' => R::Num(2, (tm.yday - tm.wday + 7) / 7),
            b'W' => R::Num(2, (tm.yday - (tm.wday - 1 + 7) % 7 + 7) / 7),
            b'w' => R::Num(1, tm.wday),
            b'u' => R::Num(1, (tm.wday - 1 + 7) % 7 + 1),
            b'n' => R::Text("\n"),
            b't' => R::Text("\t"),
            b'P' | b'p' => {
                if fc == b'P' {
                    sp.lower = true;
                }
                if change_case {
                    sp.upper = false;
                    sp.lower = true;
                }
                R::Text(if tm.hour > 11 { "PM" } else { "AM" })
            }
            b'V' | b'g' | b'G' if modifier == b'E' => R::Bad,
            b'V' | b'g' | b'G' => {
                let mut y = year;
                let mut days = iso_week_days(tm.yday, tm.wday);
                if days < 0 {
                    y = y.wrapping_sub(1);
                    days = iso_week_days(tm.yday + 365 + i32::from(leap32(y)), tm.wday);
                } else {
                    let d = iso_week_days(tm.yday - (365 + i32::from(leap32(y))), tm.wday);
                    if d >= 0 {
                        y = y.wrapping_add(1);
                        days = d;
                    }
                }
                match fc {
                    b'g' => R::Num(2, (y % 100 + 100) % 100),
                    b'G' => R::Num(1, y),
                    _ => R::Num(2, days / 7 + 1),
                }
            }
            b'Y' if modifier == b'O' => R::Bad,
            b'Y' => R::Num(1, year),
            b'y' => R::Num(2, (tm.year % 100 + 100) % 100),
            b'Z' => {
                if change_case {
                    sp.upper = false;
                    sp.lower = true;
                }
                R::Text(&tm.zone)
            }
            b'z' => {
                if tm.isdst < 0 {
                    R::Done
                } else {
                    let mut diff = tm.gmtoff;
                    out.cpy(if diff < 0 { b"-" } else { b"+" }, &sp)?;
                    diff = diff.abs() / 60;
                    let v = (diff / 60) * 100 + diff % 60;
                    let digits = sp.width.max(4);
                    out.number(false, v.unsigned_abs(), digits, &sp)?;
                    R::Done
                }
            }
            b's' => {
                let t = mktime(tm);
                out.number(t < 0, t.unsigned_abs(), 1, &sp)?;
                R::Done
            }
            _ => R::Bad,
        };
        match r {
            R::Text(s) => out.cpy(s.as_bytes(), &sp)?,
            R::Sub(sub) => {
                let mut inner = Out { buf: Vec::new(), max: usize::MAX };
                format_into(&mut inner, sub.as_bytes(), tm, mktime)?;
                let s = Spec { upper: sp.upper, lower: false, ..sp };
                out.cpy(&inner.buf, &s)?;
            }
            R::Num(d, v) => {
                let digits = sp.width.max(d);
                out.number(v < 0, i64::from(v).unsigned_abs(), digits, &sp)?;
            }
            R::SpacePad(v) => {
                if sp.pad != b'0' && sp.pad != b'-' {
                    sp.pad = b'_';
                }
                let digits = sp.width.max(2);
                out.number(v < 0, i64::from(v).unsigned_abs(), digits, &sp)?;
            }
            R::Bad => {
                // Copy the conversion text as written: from the nearest '%' at or
                // before the conversion character (a '%' at the very end of the
                // format is copied alone).
                let end = if f >= fmt.len() { fmt.len().saturating_sub(1) } else { f };
                let start = (pct..=end).rev().find(|&k| fmt.get(k) == Some(&b'%')).unwrap_or(pct);
                let text = fmt.get(start..=end).unwrap_or(b"%");
                out.cpy(text, &sp)?;
                if f >= fmt.len() {
                    return Some(());
                }
            }
            R::Done => {}
        }
        f += 1;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: &str, t: i64) -> String {
        let mut tm = breakdown(t, 0).unwrap();
        tm.zone = "GMT".into();
        let out = strftime(f.as_bytes(), &tm, usize::MAX, &mut |_| t).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for &d in &[-719_468i64, -1, 0, 1, 11_016, 59, 60, 2_932_896, -100_000_000, 100_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(breakdown(i64::MIN, 0).is_none());
        assert!(breakdown(100_000_000_000_000_000, 0).is_none());
        assert_eq!(breakdown(1_000_000_000_000_000, 0).unwrap().year + 1900, 31_690_708);
        assert_eq!(breakdown(-1_000_000_000_000, 0).unwrap().year + 1900, -29_719);
    }

    #[test]
    fn conversions_match_glibc() {
        let t = 86_400 * 45 + 3600 * 15 + 7;
        assert_eq!(
            fmt("%x %X %D %r %R %T %F %e %k %l %I %p %P %j %U %W %V %G %g %u %w %C %y %h %s %z %Z %%", t),
            "02/15/70 15:00:07 02/15/70 03:00:07 PM 15:00 15:00:07 1970-02-15 15 15  3 03 PM pm 046 07 06 07 1970 70 7 0 19 70 Feb 3942007 +0000 GMT %"
        );
        assert_eq!(
            fmt("%-d %_d %0e %10Y %^a %#A %#b %^B %-j %3d %_5H %010s %-10s| %#Z %^p %#p %+", t),
            "15 15 15 0000001970 SUN SUNDAY FEB FEBRUARY 46 015    15 0003942007    3942007| gmt PM pm %+"
        );
        assert_eq!(fmt("%Q|%|%5|%E|%O|%Ez|%Oy|%Ey", 0), "%Q|%|  %5|%E|%O|+0000|70|70");
        assert_eq!(
            fmt("%10z|%010z|%_10z|%-z|%^q|%#Q|%5n|%05t|%3%|%-3%|%5E%", 1_000_000_000),
            "         +0000000000|000000000+0000000000|         +         0|+0|%^Q|%#Q|    \n|0000\t|  %|  %|    %"
        );
        assert_eq!(fmt("%c", 0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(fmt("%", 0), "%");
        assert_eq!(fmt("%5", 0), "   %5");
        let ym = -62_167_219_200 - 86_400 * 365 * 5;
        assert_eq!(fmt("%Y|%C|%F|%05Y|%_5Y|%-5Y|%03C|%_4G", ym), "-5|-1|-5-01-02|-0005|   -5|   -5|-01|  -5");
    }

    #[test]
    fn size_limit() {
        let tm = breakdown(0, 0).unwrap();
        assert!(strftime(b"%Y", &tm, 5, &mut |_| 0).is_some());
        assert!(strftime(b"%Y", &tm, 4, &mut |_| 0).is_none());
        assert!(strftime(b"%2000000000Y", &tm, 512, &mut |_| 0).is_none());
    }
}
