//! Local time: the time zone named by `TZ` (or `/etc/localtime`), and glibc's
//! `localtime` / `mktime` on it.
//!
//! Zones come from TZif files (versions 1–4; leap-second tables are ignored) or
//! from POSIX TZ strings (`EST5EDT,M3.2.0,M11.1.0`, `<+0330>-3:30`, `Jn`/`n`
//! rules, `/time` suffixes), which also serve as a TZif file's footer for times
//! after its last transition. Lookup follows glibc: TZ unset → `/etc/localtime`;
//! TZ empty → "Universal"; a leading ':' is dropped; a name is tried as a file
//! (absolute, or under `$TZDIR` / `/usr/share/zoneinfo`), then parsed as a POSIX
//! string; anything unusable means UTC. Without a file system (wasm) that is UTC.
//! [`mktime`] is glibc's probing algorithm, including its per-process offset
//! guess, so ambiguous and skipped wall times resolve the same way.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::calendar::{breakdown, days_before_month, is_leap, wall_secs, Tm};

/// A local time type: offset east of UTC, DST flag, abbreviation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalType {
    pub off: i64,
    pub isdst: bool,
    pub abbr: String,
}

/// The day a POSIX TZ rule changes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleDay {
    /// `Jn`: 1..=365, February 29 never counted.
    Julian1(i64),
    /// `n`: 0..=365, counting February 29.
    Julian0(i64),
    /// `Mm.w.d`: day `d` of week `w` (5 = last) of month `m`.
    Mwd(i64, i64, i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    std: LocalType,
    /// DST type, start day and time (in standard time), end day and time (in DST).
    dst: Option<(LocalType, RuleDay, i64, RuleDay, i64)>,
}

/// A time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    trans: Vec<i64>,
    idx: Vec<usize>,
    types: Vec<LocalType>,
    rule: Option<Rule>,
}

impl Zone {
    /// UTC with the given abbreviation.
    pub fn utc(abbr: &str) -> Zone {
        let t = LocalType { off: 0, isdst: false, abbr: abbr.to_string() };
        Zone { trans: Vec::new(), idx: Vec::new(), types: vec![t], rule: None }
    }

    /// The local time type in effect at `t` (glibc's `__tzfile_compute`).
    pub fn lookup(&self, t: i64) -> LocalType {
        if self.types.is_empty() {
            return match &self.rule {
                Some(r) => r.lookup(t),
                None => LocalType { off: 0, isdst: false, abbr: "UTC".into() },
            };
        }
        let first_std = || self.types.iter().find(|ty| !ty.isdst).unwrap_or(&self.types[0]).clone();
        match self.trans.last() {
            None => first_std(),
            Some(_) if t < self.trans[0] => first_std(),
            Some(&last) if t >= last => match &self.rule {
                Some(r) => r.lookup(t),
                None => self.type_at(self.trans.len() - 1),
            },
            Some(_) => {
                let i = self.trans.partition_point(|&x| x <= t);
                self.type_at(i.saturating_sub(1))
            }
        }
    }

    fn type_at(&self, i: usize) -> LocalType {
        let k = self.idx.get(i).copied().unwrap_or(0);
        self.types.get(k).or(self.types.first()).cloned().unwrap_or_else(|| LocalType {
            off: 0,
            isdst: false,
            abbr: "UTC".into(),
        })
    }

    /// `localtime_r`: `None` if the year overflows.
    pub fn localtime(&self, t: i64) -> Option<Tm> {
        let ty = self.lookup(t);
        let mut tm = breakdown(t, ty.off)?;
        tm.isdst = i32::from(ty.isdst);
        tm.zone = ty.abbr;
        Some(tm)
    }
}

impl Rule {
    fn lookup(&self, t: i64) -> LocalType {
        let Some((dst, d0, s0, d1, s1)) = &self.dst else { return self.std.clone() };
        let Some(utc) = breakdown(t, 0) else { return self.std.clone() };
        let year = utc.year.wrapping_add(1900);
        let start = change(*d0, *s0, year) - self.std.off;
        let end = change(*d1, *s1, year) - dst.off;
        let isdst = if start > end { t < end || t >= start } else { t >= start && t < end };
        if isdst {
            dst.clone()
        } else {
            self.std.clone()
        }
    }
}

/// glibc's `compute_change`: the wall-clock second (as if UTC) of a rule's change
/// in `year`. Like glibc, years up to 1970 count from 1970-01-01, and the day count
/// of January 1st is computed in C `int` arithmetic (it wraps for years past about
/// 5.8 million, and so does glibc's DST decision there).
fn change(day: RuleDay, secs: i64, year: i32) -> i64 {
    let mut t = if year > 1970 {
        let y = year;
        let days = (y - 1970)
            .wrapping_mul(365)
            .wrapping_add((y - 1) / 4 - 1970 / 4)
            .wrapping_sub((y - 1) / 100 - 1970 / 100)
            .wrapping_add((y - 1) / 400 - 1970 / 400);
        i64::from(days) * 86_400
    } else {
        0
    };
    let year = i64::from(year);
    match day {
        RuleDay::Julian1(d) => {
            t += (d - 1) * 86_400;
            if d >= 60 && is_leap(year) {
                t += 86_400;
            }
        }
        RuleDay::Julian0(d) => t += d * 86_400,
        RuleDay::Mwd(m, n, d) => {
            let mi = m.clamp(1, 12) as usize;
            t += days_before_month(year, mi - 1) * 86_400;
            // Zeller's congruence: weekday of the month's first day.
            let m1 = (m + 9) % 12 + 1;
            let yy0 = if m <= 2 { year - 1 } else { year };
            let (yy1, yy2) = (yy0 / 100, yy0 % 100);
            let mut dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
            if dow < 0 {
                dow += 7;
            }
            let mut dd = d - dow;
            if dd < 0 {
                dd += 7;
            }
            let mlen = days_before_month(year, mi) - days_before_month(year, mi - 1);
            for _ in 1..n {
                if dd + 7 >= mlen {
                    break;
                }
                dd += 7;
            }
            t += dd * 86_400;
        }
    }
    t + secs
}

// ----- POSIX TZ strings ---------------------------------------------------------------

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.i).copied().unwrap_or(0)
    }

    /// Up to three `:`-separated unsigned numbers (`%hu%n:%hu%n:%hu%n`).
    fn hms(&mut self) -> Option<(i64, i64, i64)> {
        let mut parts = [0i64; 3];
        let mut n = 0;
        let mut j = self.i;
        let mut consumed = self.i;
        while n < 3 {
            if n > 0 {
                if self.s.get(j) != Some(&b':') {
                    break;
                }
                j += 1;
            }
            let start = j;
            let mut v: i64 = 0;
            while let Some(c) = self.s.get(j).filter(|c| c.is_ascii_digit()) {
                v = (v * 10 + i64::from(c - b'0')) % 65_536;
                j += 1;
            }
            if j == start {
                break;
            }
            parts[n] = v;
            n += 1;
            consumed = j;
        }
        if n == 0 {
            return None;
        }
        self.i = consumed;
        Some((parts[0], parts[1], parts[2]))
    }

    fn name(&mut self) -> Option<String> {
        let start = self.i;
        let mut j = start;
        while self.s.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
            j += 1;
        }
        if j - start >= 3 {
            self.i = j;
            return Some(String::from_utf8_lossy(&self.s[start..j]).into_owned());
        }
        if self.peek() != b'<' {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while self.s.get(j).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-') {
            j += 1;
        }
        if self.s.get(j) != Some(&b'>') || j - start < 3 {
            return None;
        }
        self.i = j + 1;
        Some(String::from_utf8_lossy(&self.s[start..j]).into_owned())
    }

    /// An offset, returned east-positive (POSIX offsets are west-positive).
    fn offset(&mut self, required: bool) -> Option<i64> {
        let c = self.peek();
        if required && !(c == b'+' || c == b'-' || c.is_ascii_digit()) {
            return None;
        }
        let sign = if c == b'-' { 1 } else { -1 };
        if c == b'+' || c == b'-' {
            self.i += 1;
        }
        let (h, m, s) = self.hms()?;
        Some(sign * (s.min(59) + m.min(59) * 60 + h.min(24) * 3600))
    }

    fn rule(&mut self, first: bool) -> Option<(RuleDay, i64)> {
        if self.peek() == b',' {
            self.i += 1;
        }
        let c = self.peek();
        let day = if c == b'J' || c.is_ascii_digit() {
            let julian1 = c == b'J';
            if julian1 {
                self.i += 1;
            }
            let start = self.i;
            let mut d: i64 = 0;
            while let Some(c) = self.s.get(self.i).filter(|c| c.is_ascii_digit()) {
                d = (d * 10 + i64::from(c - b'0')).min(1_000_000);
                self.i += 1;
            }
            if self.i == start || d > 365 || (julian1 && d == 0) {
                return None;
            }
            if julian1 {
                RuleDay::Julian1(d)
            } else {
                RuleDay::Julian0(d)
            }
        } else if c == b'M' {
            self.i += 1;
            let mut v = [0i64; 3];
            for (k, slot) in v.iter_mut().enumerate() {
                if k > 0 {
                    if self.peek() != b'.' {
                        return None;
                    }
                    self.i += 1;
                }
                let start = self.i;
                while let Some(c) = self.s.get(self.i).filter(|c| c.is_ascii_digit()) {
                    *slot = (*slot * 10 + i64::from(c - b'0')) % 65_536;
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
            if !(1..=12).contains(&v[0]) || !(1..=5).contains(&v[1]) || v[2] > 6 {
                return None;
            }
            RuleDay::Mwd(v[0], v[1], v[2])
        } else if c == 0 {
            if first {
                RuleDay::Mwd(3, 2, 0)
            } else {
                RuleDay::Mwd(11, 1, 0)
            }
        } else {
            return None;
        };
        let mut secs = 7200;
        match self.peek() {
            0 | b',' => {}
            b'/' => {
                self.i += 1;
                if self.peek() == 0 {
                    return None;
                }
                let neg = self.peek() == b'-';
                if neg {
                    self.i += 1;
                }
                let (h, m, s) = self.hms().unwrap_or((2, 0, 0));
                secs = (if neg { -1 } else { 1 }) * (h * 3600 + m * 60 + s);
            }
            _ => return None,
        }
        Some((day, secs))
    }
}

/// Parses a POSIX TZ string as glibc's `__tzset_parse_tz` (which never fails: a bad
/// string leaves an unnamed or partly named UTC).
fn parse_posix(s: &[u8]) -> Rule {
    let mut p = P { s, i: 0 };
    let mut std = LocalType { off: 0, isdst: false, abbr: String::new() };
    let Some(name) = p.name() else { return Rule { std, dst: None } };
    std.abbr = name;
    let Some(off) = p.offset(true) else { return Rule { std, dst: None } };
    std.off = off;
    if p.peek() == 0 {
        return Rule { std, dst: None };
    }
    let mut dst = LocalType { off: std.off + 3600, isdst: true, abbr: String::new() };
    if let Some(name) = p.name() {
        dst.abbr = name;
        if let Some(off) = p.offset(false) {
            dst.off = off;
        }
    }
    // glibc keeps zeroed rules (day 0, midnight) when a rule does not parse.
    let (mut r0, mut r1) = ((RuleDay::Julian0(0), 0), (RuleDay::Julian0(0), 0));
    if let Some(r) = p.rule(true) {
        r0 = r;
        if let Some(r) = p.rule(false) {
            r1 = r;
        }
    }
    Rule { std, dst: Some((dst, r0.0, r0.1, r1.0, r1.1)) }
}

// ----- TZif files ---------------------------------------------------------------------

fn be32(b: &[u8], at: usize) -> Option<i64> {
    let s = b.get(at..at + 4)?;
    Some(i64::from(i32::from_be_bytes([s[0], s[1], s[2], s[3]])))
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    let s = b.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(i64::from_be_bytes(a))
}

/// Parses a TZif file (the 64-bit block and footer when present).
pub fn parse_tzif(b: &[u8]) -> Option<Zone> {
    if b.get(0..4)? != b"TZif" {
        return None;
    }
    let version = *b.get(4)?;
    let counts = |at: usize| -> Option<[usize; 6]> {
        let mut c = [0usize; 6];
        for (k, slot) in c.iter_mut().enumerate() {
            *slot = usize::try_from(be32(b, at + 20 + 4 * k)?).ok()?;
            if *slot > b.len() {
                return None; // Cannot fit in the file (also keeps the sizes below small).
            }
        }
        Some(c)
    };
    let block_len = |c: &[usize; 6], tsize: usize| -> usize {
        let [isut, isstd, leap, time, typ, chars] = *c;
        time * tsize + time + typ * 6 + chars + leap * (tsize + 4) + isstd + isut
    };
    let c1 = counts(0)?;
    let (hdr, c, tsize) = if version >= b'2' {
        let h2 = 44 + block_len(&c1, 4);
        (h2, counts(h2)?, 8)
    } else {
        (0, c1, 4)
    };
    let [_, _, _, timecnt, typecnt, charcnt] = c;
    let mut at = hdr + 44;
    let mut trans = Vec::with_capacity(timecnt.min(4096));
    for k in 0..timecnt {
        trans.push(if tsize == 8 { be64(b, at + 8 * k)? } else { be32(b, at + 4 * k)? });
    }
    at += timecnt * tsize;
    let idx: Vec<usize> = b.get(at..at + timecnt)?.iter().map(|&x| usize::from(x)).collect();
    at += timecnt;
    let tt = b.get(at..at + typecnt * 6)?;
    let chars = b.get(at + typecnt * 6..at + typecnt * 6 + charcnt)?;
    let mut types = Vec::with_capacity(typecnt);
    for e in tt.chunks_exact(6) {
        let off = i64::from(i32::from_be_bytes([e[0], e[1], e[2], e[3]]));
        let ai = usize::from(e[5]).min(chars.len());
        let abbr_bytes = chars[ai..].split(|&c| c == 0).next().unwrap_or(&[]);
        types.push(LocalType { off, isdst: e[4] != 0, abbr: String::from_utf8_lossy(abbr_bytes).into_owned() });
    }
    if types.is_empty() || idx.iter().any(|&i| i >= types.len()) {
        return None;
    }
    let mut rule = None;
    if tsize == 8 {
        let end = hdr + 44 + block_len(&c, 8);
        if let Some(rest) = b.get(end..) {
            if rest.first() == Some(&b'\n') {
                let body = rest[1..].split(|&c| c == b'\n').next().unwrap_or(&[]);
                if !body.is_empty() {
                    rule = Some(parse_posix(body));
                }
            }
        }
    }
    Some(Zone { trans, idx, types, rule })
}

// ----- The current zone ---------------------------------------------------------------

fn read_zone_file(path: &std::path::Path) -> Option<Zone> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    parse_tzif(&std::fs::read(path).ok()?)
}

fn zone_dir() -> std::path::PathBuf {
    match std::env::var_os("TZDIR") {
        Some(d) if !d.is_empty() => d.into(),
        _ => "/usr/share/zoneinfo".into(),
    }
}

/// Loads the zone for a `TZ` value (`None`: unset), as glibc's `tzset`.
fn load_zone(tz: Option<&str>) -> Zone {
    let name = match tz {
        None => return read_zone_file("/etc/localtime".as_ref()).unwrap_or_else(|| Zone::utc("UTC")),
        Some("") => "Universal",
        Some(s) => s.strip_prefix(':').unwrap_or(s),
    };
    let path = std::path::Path::new(name);
    let file = if path.is_absolute() { read_zone_file(path) } else { read_zone_file(&zone_dir().join(path)) };
    if let Some(z) = file {
        return z;
    }
    if name == "Universal" {
        return Zone::utc("UTC");
    }
    let rule = parse_posix(name.as_bytes());
    Zone { trans: Vec::new(), idx: Vec::new(), types: Vec::new(), rule: Some(rule) }
}

thread_local! {
    static CURRENT: RefCell<Option<(Option<String>, Rc<Zone>)>> = const { RefCell::new(None) };
    /// glibc's `localtime_offset`: the last UTC offset `mktime` found (negated).
    static MKTIME_OFFSET: Cell<i64> = const { Cell::new(0) };
}

/// The zone named by the `TZ` environment variable now (cached per value).
pub fn current() -> Rc<Zone> {
    let tz = std::env::var_os("TZ").map(|v| v.to_string_lossy().into_owned());
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((k, z)) = c.as_ref() {
            if *k == tz {
                return z.clone();
            }
        }
        let z = Rc::new(load_zone(tz.as_deref()));
        *c = Some((tz, z.clone()));
        z
    })
}

// ----- mktime -------------------------------------------------------------------------

fn isdst_differ(a: i32, b: i32) -> bool {
    (a == 0) != (b == 0) && a >= 0 && b >= 0
}

/// glibc's `mktime`: the `time_t` for the local wall time in `tm` (fields may be out
/// of range; `isdst` < 0 means unknown). `None` stands for C's -1 error.
pub fn mktime(zone: &Zone, tm: &Tm) -> Option<i64> {
    let mon = tm.mon;
    let mon_rem = mon % 12;
    let neg_rem = i32::from(mon_rem < 0);
    let year = i64::from(tm.year) + i64::from(mon / 12 - neg_rem) + 1900;
    let yday = days_before_month(year, (mon_rem + 12 * neg_rem) as usize) + i64::from(tm.mday) - 1;
    let (hour, min) = (i64::from(tm.hour), i64::from(tm.min));
    let sec_requested = i64::from(tm.sec);
    let sec = sec_requested.clamp(0, 59);
    let isdst = tm.isdst;
    let want = wall_secs(year, yday, hour, min, sec);
    let diff = |got: &Tm| {
        want - wall_secs(
            i64::from(got.year) + 1900,
            i64::from(got.yday),
            i64::from(got.hour),
            i64::from(got.min),
            i64::from(got.sec),
        )
    };

    let off = MKTIME_OFFSET.with(|o| o.get());
    let t0 = want.checked_add(off)?;
    let (mut t, mut t1, mut t2) = (t0, t0, t0);
    let mut dst2 = 0;
    let mut probes = 6;
    let mut found;
    loop {
        found = zone.localtime(t)?;
        let dt = diff(&found);
        if dt == 0 {
            break;
        }
        // Oscillating around a spring-forward gap: take this side, preferring DST
        // when no flag was requested.
        let settle = if isdst < 0 { dst2 <= i32::from(found.isdst != 0) } else { (isdst != 0) != (found.isdst != 0) };
        if t == t1 && t != t2 && (found.isdst < 0 || settle) {
            return finish(zone, t, t0, off, sec, sec_requested, found);
        }
        probes -= 1;
        if probes == 0 {
            return None;
        }
        (t1, t2) = (t2, t);
        t = t.checked_add(dt)?;
        dst2 = i32::from(found.isdst != 0);
    }
    if isdst_differ(isdst, found.isdst) {
        // Use the offset of the nearest time with the requested DST flag.
        let stride: i64 = 601_200;
        let delta_bound = 457_243_200 / 2 + stride;
        let mut delta = stride;
        while delta < delta_bound {
            for dir in [-1i64, 1] {
                let Some(ot) = t.checked_add(delta * dir) else { continue };
                let otm = zone.localtime(ot)?;
                if !isdst_differ(isdst, otm.isdst) {
                    let gt = ot + diff(&otm);
                    if let Some(g) = zone.localtime(gt) {
                        return finish(zone, gt, t0, off, sec, sec_requested, g);
                    }
                }
            }
            delta += stride;
        }
        // None: assume a one-hour difference.
        let dst_difference = i64::from(isdst == 0) - i64::from(found.isdst == 0);
        let gt = t + 3600 * dst_difference;
        let g = zone.localtime(gt)?;
        return finish(zone, gt, t0, off, sec, sec_requested, g);
    }
    finish(zone, t, t0, off, sec, sec_requested, found)
}

/// Remembers the offset for the next call and re-applies out-of-range seconds.
fn finish(zone: &Zone, t: i64, t0: i64, off: i64, sec: i64, sec_requested: i64, tm: Tm) -> Option<i64> {
    MKTIME_OFFSET.with(|o| o.set(t.wrapping_sub(t0).wrapping_add(off)));
    let mut t = t;
    if sec_requested != i64::from(tm.sec) {
        let adj = i64::from(sec == 0 && tm.sec == 60) - sec + sec_requested;
        t = t.checked_add(adj)?;
        zone.localtime(t)?;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_rules() {
        let r = parse_posix(b"EST5EDT,M3.2.0,M11.1.0");
        let z = Zone { trans: vec![], idx: vec![], types: vec![], rule: Some(r) };
        assert_eq!(z.lookup(1_000_000_000).abbr, "EDT");
        assert_eq!(z.lookup(1_000_000_000).off, -4 * 3600);
        assert_eq!(z.lookup(1_700_000_000).abbr, "EST");
        let r = parse_posix(b"<+0330>-3:30");
        assert_eq!(r.std.off, 3 * 3600 + 1800);
        assert_eq!(r.std.abbr, "+0330");
        let r = parse_posix(b"garbage");
        assert_eq!((r.std.abbr.as_str(), r.std.off, r.dst.is_none()), ("garbage", 0, true));
        let r = parse_posix(b"CET-1CEST,M3.5.0,M10.5.0/3");
        let z = Zone { trans: vec![], idx: vec![], types: vec![], rule: Some(r) };
        // 2023-03-26 01:00 UTC starts CEST; 2023-10-29 01:00 UTC ends it.
        assert!(!z.lookup(1_679_792_399).isdst);
        assert!(z.lookup(1_679_792_400).isdst);
        assert!(z.lookup(1_698_541_199).isdst);
        assert!(!z.lookup(1_698_541_200).isdst);
    }

    #[test]
    fn mktime_gaps_and_overlaps() {
        let z = Zone { trans: vec![], idx: vec![], types: vec![], rule: Some(parse_posix(b"EST5EDT,M3.2.0,M11.1.0")) };
        let tm = |y: i32, mo: i32, d: i32, h: i32, mi: i32, dst: i32| Tm {
            year: y - 1900,
            mon: mo - 1,
            mday: d,
            hour: h,
            min: mi,
            isdst: dst,
            ..Tm::default()
        };
        // The same sequence as one luajit process with TZ=America/New_York.
        MKTIME_OFFSET.with(|o| o.set(0));
        assert_eq!(mktime(&z, &tm(2023, 3, 12, 2, 30, -1)), Some(1_678_606_200));
        assert_eq!(mktime(&z, &tm(2023, 11, 5, 1, 30, -1)), Some(1_699_165_800));
        assert_eq!(mktime(&z, &tm(2023, 11, 5, 1, 30, 0)), Some(1_699_165_800));
        assert_eq!(mktime(&z, &tm(2023, 11, 5, 1, 30, 1)), Some(1_699_162_200));
        MKTIME_OFFSET.with(|o| o.set(0));
        assert_eq!(mktime(&z, &tm(2023, 11, 5, 1, 30, -1)), Some(1_699_162_200));
        assert_eq!(mktime(&z, &tm(2023, 3, 12, 2, 30, -1)), Some(1_678_606_200));
        // UTC: normalisation, and isdst=true shifting by an hour as glibc does.
        let u = Zone::utc("UTC");
        let mut odd = tm(2000, 13, 32, 25, 61, -1);
        odd.sec = -1;
        assert_eq!(mktime(&u, &odd), Some(981_079_259));
        assert_eq!(mktime(&u, &tm(2000, 1, 1, 12, 0, 1)), Some(946_724_400));
        let mut before = tm(1969, 12, 31, 23, 59, -1);
        before.sec = 59;
        assert_eq!(mktime(&u, &before), Some(-1));
    }

    #[test]
    fn tzif_files() {
        // Uses the system's zoneinfo when present.
        let Ok(data) = std::fs::read("/usr/share/zoneinfo/Europe/Berlin") else { return };
        let z = parse_tzif(&data).expect("Berlin parses");
        assert_eq!((z.lookup(1_000_000_000).abbr.as_str(), z.lookup(1_000_000_000).off), ("CEST", 7200));
        assert_eq!((z.lookup(-3_000_000_000).abbr.as_str(), z.lookup(-3_000_000_000).off), ("LMT", 3208));
        assert_eq!(z.lookup(4_000_000_000).abbr, "CEST"); // from the footer rule
        assert_eq!(z.lookup(1_700_000_000).abbr, "CET");
        // Truncated or damaged files never panic.
        for cut in 0..data.len() {
            let _ = parse_tzif(&data[..cut]);
        }
        let mut bad = data.clone();
        for i in (0..bad.len()).step_by(7) {
            bad[i] ^= 0x5a;
            if let Some(z) = parse_tzif(&bad) {
                for t in [i64::MIN, -1, 0, 1_000_000_000, i64::MAX] {
                    let _ = z.localtime(t);
                    let _ = mktime(&z, &Tm { year: 100, mday: 1, isdst: 1, ..Tm::default() });
                }
            }
        }
    }
}
