//! Lua 5.1 pattern matching over bytes, behaving exactly like LuaJIT 2.1's
//! `lib_string.c` (`string.find`, `string.match`, `string.gmatch`,
//! `string.gsub`).
//!
//! # Contract
//!
//! * Patterns: `.`, `%a %c %d %g %l %p %s %u %w %x %z` and their upper-case
//!   complements (ASCII classes; bytes >= 0x80 belong to none), `%<punct>`
//!   escapes, sets `[...]` / `[^...]` with ranges and classes, quantifiers
//!   `* + - ?`, anchors `^` (only at the start, and not for `gmatch`) and `$`
//!   (only as the last character), `%bxy`, `%f[set]`, captures `(...)`,
//!   position captures `()` and back-references `%1`-`%9`.
//! * Like LuaJIT (which treats the pattern as a C string) a pattern ends at
//!   its first NUL byte: `("a\0b"):match("a\0b") == "a"`. Use `%z` to match
//!   NUL. `string.find` with no special characters (see
//!   [`has_pattern_specials`]) or with `plain == true` does not use
//!   patterns at all: use [`find_plain`], which handles NUL bytes.
//! * Errors are detected lazily, exactly when LuaJIT's matcher reaches the
//!   offending pattern item, and carry LuaJIT's messages (see
//!   [`PatternError`]). An unfinished capture is only an error when its value
//!   is requested ([`Match::value`]).
//! * Recursion: the matcher recurses like LuaJIT's (one level per capture,
//!   quantifier or `?` item being tried) and fails with "pattern too complex"
//!   when more than [`MAX_DEPTH`] (= LuaJIT's `LJ_MAX_XLEVEL`, 200) nested
//!   levels are needed. Since each level consumes pattern text, the depth is
//!   bounded by the pattern length too; Rust stack use stays below roughly
//!   200 * 3 small frames (well under 256 KiB even in debug builds).
//! * Interruption: [`Matcher::with_step_hook`] installs a callback that is
//!   run every `interval` matching steps (a step is one matcher entry, one
//!   backtracking retry, one subject byte scanned, or two bytes of a long bracket
//!   class walked), with the steps taken since its last call; returning `false`
//!   aborts the match with [`PatternError::Interrupted`]. This lets a host
//!   enforce budgets on catastrophic patterns such as
//!   `("a"):rep(30) .. "b"` against `string.rep("a*", 20)`.
//!
//! Positions in this API are 0-based byte offsets; a [`Match`] covers
//! `subject[start..end]`. [`Capture::Position`] holds the 1-based value Lua
//! sees.

/// Maximum number of captures (`LUA_MAXCAPTURES`).
pub const MAX_CAPTURES: usize = 32;

/// Maximum matcher recursion depth (`LJ_MAX_XLEVEL`).
pub const MAX_DEPTH: u32 = 200;

/// Pattern errors, with LuaJIT's messages (via `Display` / [`PatternError::message`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// "malformed pattern (ends with '%')"
    EndsWithPercent,
    /// "malformed pattern (missing ']')"
    MissingBracket,
    /// "missing '[' after '%f' in pattern"
    MissingFrontierBracket,
    /// "unbalanced pattern" (`%b` without two following characters)
    Unbalanced,
    /// "invalid capture index" (bad `%1`-`%9`, `%0` in a pattern, or a
    /// replacement `%n` with no such capture)
    InvalidCaptureIndex,
    /// "invalid pattern capture" (`)` without an open capture)
    InvalidPatternCapture,
    /// "unfinished capture"
    UnfinishedCapture,
    /// "too many captures" (more than [`MAX_CAPTURES`])
    TooManyCaptures,
    /// "pattern too complex" (more than [`MAX_DEPTH`] nested levels)
    TooComplex,
    /// The step hook asked to stop. Not a LuaJIT error: the host decides what
    /// it means (typically a non-catchable budget/cancellation stop).
    Interrupted,
}

impl PatternError {
    /// LuaJIT's error message text.
    pub fn message(self) -> &'static str {
        match self {
            PatternError::EndsWithPercent => "malformed pattern (ends with '%')",
            PatternError::MissingBracket => "malformed pattern (missing ']')",
            PatternError::MissingFrontierBracket => "missing '[' after '%f' in pattern",
            PatternError::Unbalanced => "unbalanced pattern",
            PatternError::InvalidCaptureIndex => "invalid capture index",
            PatternError::InvalidPatternCapture => "invalid pattern capture",
            PatternError::UnfinishedCapture => "unfinished capture",
            PatternError::TooManyCaptures => "too many captures",
            PatternError::TooComplex => "pattern too complex",
            PatternError::Interrupted => "interrupted",
        }
    }
}

impl core::fmt::Display for PatternError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for PatternError {}

type R<T> = Result<T, PatternError>;

/// The value of one capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// A substring `subject[start..end]`.
    Str { start: usize, end: usize },
    /// A position capture `()`: the 1-based position Lua returns.
    Position(usize),
}

const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;

/// A capture as the matcher records it, in 32 bits a field: subjects are Lua
/// strings, shorter than 2^31 bytes (`vm::MAX_STR_LEN`). A `Match` is returned and
/// moved by value, and each move copies its whole capture array: 256 bytes rather
/// than 512 (the copies were 5% of the patterns and http benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RawCap {
    init: u32,
    /// Length, or `CAP_UNFINISHED` / `CAP_POSITION`.
    len: i32,
}

impl RawCap {
    fn new(init: usize, len: isize) -> RawCap {
        debug_assert!(init <= i32::MAX as usize && len <= i32::MAX as isize);
        RawCap { init: init as u32, len: len as i32 }
    }

    fn init(self) -> usize {
        self.init as usize
    }

    fn len(self) -> isize {
        self.len as isize
    }
}

/// A successful match: `subject[start..end]` plus the capture state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// 0-based start offset of the whole match.
    pub start: usize,
    /// 0-based end offset (exclusive) of the whole match.
    pub end: usize,
    level: usize,
    caps: MatchCaps,
}

/// Inline room for the captures of a `Match`: most patterns have a few, and a
/// `Match` is returned and moved by value, each move copying it whole.
const INLINE_CAPS: usize = 4;

/// A match's captures: up to [`INLINE_CAPS`] in place, more on the heap.
#[derive(Clone, Debug, PartialEq, Eq)]
enum MatchCaps {
    Inline([RawCap; INLINE_CAPS]),
    Heap(Box<[RawCap]>),
}

impl MatchCaps {
    fn new(caps: &[RawCap]) -> MatchCaps {
        if caps.len() <= INLINE_CAPS {
            let mut a = [RawCap::default(); INLINE_CAPS];
            a[..caps.len()].copy_from_slice(caps);
            MatchCaps::Inline(a)
        } else {
            MatchCaps::Heap(caps.into())
        }
    }

    fn get(&self, i: usize) -> RawCap {
        let caps: &[RawCap] = match self {
            MatchCaps::Inline(a) => a,
            MatchCaps::Heap(b) => b,
        };
        caps.get(i).copied().unwrap_or_default()
    }
}

impl Match {
    /// Number of captures in the pattern that took part in the match (what
    /// `string.find` returns after the two positions).
    pub fn num_captures(&self) -> usize {
        self.level
    }

    /// Number of values `string.match`, `gmatch` and a `gsub` function
    /// receive: the captures, or the whole match if there are none.
    pub fn num_values(&self) -> usize {
        self.level.max(1)
    }

    /// Value `i` (0-based) as LuaJIT's `push_onecapture`: with no captures,
    /// index 0 is the whole match; an index past the captures is
    /// "invalid capture index"; an unclosed capture is "unfinished capture".
    pub fn value(&self, i: usize) -> Result<Capture, PatternError> {
        if i >= self.level {
            return if i == 0 {
                Ok(Capture::Str { start: self.start, end: self.end })
            } else {
                Err(PatternError::InvalidCaptureIndex)
            };
        }
        let c = self.caps.get(i);
        match c.len() {
            CAP_UNFINISHED => Err(PatternError::UnfinishedCapture),
            CAP_POSITION => Ok(Capture::Position(c.init() + 1)),
            l => Ok(Capture::Str { start: c.init(), end: c.init() + l.unsigned_abs() }),
        }
    }

    /// All `num_values()` values, or the first error.
    pub fn values(&self) -> Result<Vec<Capture>, PatternError> {
        (0..self.num_values()).map(|i| self.value(i)).collect()
    }

    /// All `num_captures()` captures (for `string.find`), or the first error.
    pub fn captures(&self) -> Result<Vec<Capture>, PatternError> {
        (0..self.num_captures()).map(|i| self.value(i)).collect()
    }
}

// ---------------------------------------------------------------------------
// Helpers shared by the library functions.
// ---------------------------------------------------------------------------

/// `lj_str_haspattern`: does `p` contain any of `^$*+?.([%-`? If not,
/// `string.find` searches for it literally. (`)` and `]` alone do not
/// count.) The whole string is examined, NUL bytes included.
pub fn has_pattern_specials(p: &[u8]) -> bool {
    p.iter().any(|c| b"^$*+?.([%-".contains(c))
}

/// Start offset for `string.find`/`string.match` from the `init` argument
/// (default 1), Lua 5.1 style as LuaJIT: negative counts from the end,
/// clamped to `0..=len` (an `init` past the end still searches at `len`).
pub fn start_offset(len: usize, init: i64) -> usize {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if init < 0 { init.saturating_add(len_i) } else { init - 1 };
    if start < 0 {
        0
    } else {
        usize::try_from(start).unwrap_or(usize::MAX).min(len)
    }
}

/// Plain substring search (`lj_str_find`) from offset `init`: the offset of
/// the first occurrence of `needle`, or `None`. An empty needle matches at
/// `init` (if `init <= subject.len()`).
pub fn find_plain(subject: &[u8], needle: &[u8], init: usize) -> Option<usize> {
    find_plain_charged(subject, needle, init, &mut |_| true)
}

/// [`find_plain`], reporting its work as it goes: `work(bytes)` is called with the
/// bytes scanned and compared since the last call, at least every 64 KiB of them;
/// when it returns false the search stops (returning `None`). The search is LuaJIT's
/// (first byte, then the rest), so a needle that almost matches at every position
/// costs the subject's length times the needle's: the caller charges that.
pub fn find_plain_charged(
    subject: &[u8],
    needle: &[u8],
    init: usize,
    work: &mut dyn FnMut(usize) -> bool,
) -> Option<usize> {
    const REPORT: usize = 1 << 16;
    let hay = subject.get(init..)?;
    if needle.is_empty() {
        return Some(init);
    }
    let (&first, rest) = needle.split_first()?;
    if needle.len() > hay.len() {
        return None;
    }
    let last_start = hay.len() - needle.len();
    let mut done = 0usize;
    let mut i = 0;
    while i <= last_start {
        let window = &hay[i..=last_start];
        let Some(k) = window.iter().position(|&c| c == first) else {
            work(done + window.len());
            return None;
        };
        done += k + 1;
        i += k;
        // The rest, a chunk at a time, so that the work is known.
        let cand = &hay[i + 1..i + needle.len()];
        let mut equal = true;
        for (a, b) in cand.chunks(64).zip(rest.chunks(64)) {
            done += a.len();
            if a != b {
                equal = false;
                break;
            }
        }
        if equal {
            work(done);
            return Some(init + i);
        }
        if done >= REPORT {
            if !work(done) {
                return None;
            }
            done = 0;
        }
        i += 1;
    }
    work(done);
    None
}

/// The part of `pattern` LuaJIT sees: up to the first NUL byte.
fn c_pattern(pattern: &[u8]) -> &[u8] {
    match pattern.iter().position(|&c| c == 0) {
        Some(n) => &pattern[..n],
        None => pattern,
    }
}

/// Split off a leading `^` anchor (after NUL truncation).
fn anchored(pattern: &[u8]) -> (&[u8], bool) {
    let p = c_pattern(pattern);
    match p.split_first() {
        Some((b'^', rest)) => (rest, true),
        _ => (p, false),
    }
}

/// Expand a `gsub` replacement string (`add_s`) for match `m` of `subject`,
/// appending to `out`: `%0` is the whole match, `%1`-`%9` captures (a
/// position capture expands to its number; with no captures `%1` is the
/// whole match), `%` followed by any other byte is that byte (`%%` -> `%`;
/// LuaJIT 2.1 has no "invalid use of '%'" error), and a `%` at the very end
/// appends a NUL byte (LuaJIT reads the string terminator).
pub fn expand_replacement(repl: &[u8], subject: &[u8], m: &Match, out: &mut Vec<u8>) -> R<()> {
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let d = repl.get(i).copied().unwrap_or(0);
        i += 1;
        if !d.is_ascii_digit() {
            out.push(d);
        } else if d == b'0' {
            out.extend_from_slice(subject.get(m.start..m.end).unwrap_or(&[]));
        } else {
            push_capture(m.value(usize::from(d - b'1'))?, subject, out);
        }
    }
    Ok(())
}

/// Append a capture's text (a position capture as its decimal number, the
/// way Lua converts it to a string).
pub fn push_capture(c: Capture, subject: &[u8], out: &mut Vec<u8>) {
    match c {
        Capture::Str { start, end } => out.extend_from_slice(subject.get(start..end).unwrap_or(&[])),
        Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
    }
}

// ---------------------------------------------------------------------------
// Character classes (LuaJIT's lj_char_bits, ASCII only).
// ---------------------------------------------------------------------------

const CNTRL: u8 = 0x01;
const SPACE: u8 = 0x02;
const PUNCT: u8 = 0x04;
const DIGIT: u8 = 0x08;
const XDIGIT: u8 = 0x10;
const UPPER: u8 = 0x20;
const LOWER: u8 = 0x40;
const ALPHA: u8 = LOWER | UPPER;
const ALNUM: u8 = ALPHA | DIGIT;
const GRAPH: u8 = ALNUM | PUNCT;

const fn char_bits() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut v = 0;
        if b < 32 || b == 127 {
            v |= CNTRL;
        }
        if b == b' ' || (b >= 9 && b <= 13) {
            v |= SPACE;
        }
        if b > 32 && b < 127 && !b.is_ascii_alphanumeric() {
            v |= PUNCT;
        }
        if b.is_ascii_digit() {
            v |= DIGIT;
        }
        if b.is_ascii_hexdigit() {
            v |= XDIGIT;
        }
        if b.is_ascii_uppercase() {
            v |= UPPER;
        }
        if b.is_ascii_lowercase() {
            v |= LOWER;
        }
        t[c] = v;
        c += 1;
    }
    t
}

static CHAR_BITS: [u8; 256] = char_bits();

/// Class letter (low 5 bits of the letter) -> class bits.
const fn class_map() -> [u8; 32] {
    let mut m = [0u8; 32];
    m[(b'a' & 0x1f) as usize] = ALPHA;
    m[(b'c' & 0x1f) as usize] = CNTRL;
    m[(b'd' & 0x1f) as usize] = DIGIT;
    m[(b'g' & 0x1f) as usize] = GRAPH;
    m[(b'l' & 0x1f) as usize] = LOWER;
    m[(b'p' & 0x1f) as usize] = PUNCT;
    m[(b's' & 0x1f) as usize] = SPACE;
    m[(b'u' & 0x1f) as usize] = UPPER;
    m[(b'w' & 0x1f) as usize] = ALNUM;
    m[(b'x' & 0x1f) as usize] = XDIGIT;
    m
}

static CLASS_MAP: [u8; 32] = class_map();

/// `match_class`: does byte `c` belong to class letter `cl` (the byte after
/// a `%`)? Non-class bytes match themselves.
fn match_class(c: u8, cl: u8) -> bool {
    if cl & 0xc0 == 0x40 {
        let t = CLASS_MAP[usize::from(cl & 0x1f)];
        if t != 0 {
            let r = CHAR_BITS[usize::from(c)] & t != 0;
            return if cl & 0x20 != 0 { r } else { !r };
        }
        if cl == b'z' {
            return c == 0;
        }
        if cl == b'Z' {
            return c != 0;
        }
    }
    cl == c
}

/// One item of a bracket class.
#[derive(Clone, Copy)]
enum ClassItem {
    /// `%x`: a class letter, or an escaped byte.
    Class(u8),
    /// `a-z`.
    Range(u8, u8),
    Byte(u8),
}

/// A set of bytes: bit `c & 63` of word `c >> 6`.
type ByteSet = [u64; 4];

/// For each class letter (`cl & 0x1f`) that names a class, the bytes its lower-case
/// form (`%a`, `%d`, ...) matches.
static CLASS_SETS: [ByteSet; 32] = class_sets();

const fn class_sets() -> [ByteSet; 32] {
    let bits = char_bits();
    let map = class_map();
    let mut out = [[0u64; 4]; 32];
    let mut k = 0;
    while k < 32 {
        if map[k] != 0 {
            let mut c = 0;
            while c < 256 {
                if bits[c] & map[k] != 0 {
                    out[k][c >> 6] |= 1 << (c & 63);
                }
                c += 1;
            }
        }
        k += 1;
    }
    out
}

fn set_add(set: &mut ByteSet, c: u8) {
    set[usize::from(c >> 6)] |= 1 << (c & 63);
}

#[inline(always)]
fn set_has(set: &ByteSet, c: u8) -> bool {
    set[usize::from(c >> 6)] >> (c & 63) & 1 != 0
}

/// How many bytes at the start of `bytes` are not in `set`.
fn not_in_set(set: &ByteSet, bytes: &[u8]) -> usize {
    bytes.iter().position(|&b| set_has(set, b)).unwrap_or(bytes.len())
}

/// Adds the bytes `match_class(_, cl)` accepts, case by case as it decides.
fn set_add_class(set: &mut ByteSet, cl: u8) {
    if cl & 0xc0 == 0x40 {
        let k = usize::from(cl & 0x1f);
        if CLASS_MAP[k] != 0 {
            let lower = cl & 0x20 != 0;
            for (w, &m) in set.iter_mut().zip(&CLASS_SETS[k]) {
                *w |= if lower { m } else { !m };
            }
            return;
        }
        if cl == b'z' {
            set_add(set, 0);
            return;
        }
        if cl == b'Z' {
            *set = [u64::MAX; 4];
            set[0] &= !1;
            return;
        }
    }
    set_add(set, cl);
}

// ---------------------------------------------------------------------------
// The matcher.
// ---------------------------------------------------------------------------

/// Per-attempt state (LuaJIT's `MatchState`).
struct State<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    depth: u32,
    caps: [RawCap; MAX_CAPTURES],
}

impl<'a> State<'a> {
    fn new(src: &'a [u8], pat: &'a [u8]) -> Self {
        State { src, pat, level: 0, depth: 0, caps: [RawCap::default(); MAX_CAPTURES] }
    }

    /// Pattern byte at `i`; 0 (the C terminator) at or past the end.
    #[inline]
    fn pc(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    /// Subject byte at `i`; 0 (the C terminator) at or past the end.
    #[inline]
    fn sc(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    fn reset(&mut self) {
        self.level = 0;
        self.depth = 0;
    }

    fn to_match(&self, start: usize, end: usize) -> Match {
        Match { start, end, level: self.level, caps: MatchCaps::new(&self.caps[..self.level.min(MAX_CAPTURES)]) }
    }

    /// `classend`: index just past the single-character class at `p`.
    fn classend(&self, mut p: usize) -> R<usize> {
        let c = self.pc(p);
        p += 1;
        match c {
            b'%' => {
                if self.pc(p) == 0 {
                    return Err(PatternError::EndsWithPercent);
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.pc(p) == b'^' {
                    p += 1;
                }
                loop {
                    // Look for a ']' (the first character is always taken).
                    if self.pc(p) == 0 {
                        return Err(PatternError::MissingBracket);
                    }
                    let cc = self.pc(p);
                    p += 1;
                    if cc == b'%' && self.pc(p) != 0 {
                        p += 1; // skip escapes such as `%]`
                    }
                    if self.pc(p) == b']' {
                        break;
                    }
                }
                Ok(p + 1)
            }
            _ => Ok(p),
        }
    }

    /// The items of the bracket class at `p` (the `[`), whose closing `]` is at
    /// `ec`, and whether it is positive (no `^`): what `matchbracketclass` and
    /// `bracket_set` both walk.
    fn class_items(&self, mut p: usize, ec: usize) -> (bool, impl Iterator<Item = ClassItem> + '_) {
        let mut sig = true;
        if self.pc(p + 1) == b'^' {
            sig = false;
            p += 1;
        }
        let items = std::iter::from_fn(move || {
            p += 1;
            if p >= ec {
                return None;
            }
            Some(if self.pc(p) == b'%' {
                p += 1;
                ClassItem::Class(self.pc(p))
            } else if self.pc(p + 1) == b'-' && p + 2 < ec {
                p += 2;
                ClassItem::Range(self.pc(p - 2), self.pc(p))
            } else {
                ClassItem::Byte(self.pc(p))
            })
        });
        (sig, items)
    }

    /// `matchbracketclass`: `p` is at the `[`, `ec` at the closing `]`.
    fn matchbracketclass(&self, c: u8, p: usize, ec: usize) -> bool {
        let (sig, mut items) = self.class_items(p, ec);
        let hit = items.any(|item| match item {
            ClassItem::Class(cl) => match_class(c, cl),
            ClassItem::Range(lo, hi) => lo <= c && c <= hi,
            ClassItem::Byte(b) => b == c,
        });
        hit == sig
    }

    /// The bytes `matchbracketclass(_, p, ec)` accepts: for the greedy loops, which
    /// then test each subject byte with one bit test instead of a walk over the
    /// class (some 30 instructions a byte for `[^:\r\n]`; patterns and http spent
    /// 7-9% of their time there).
    fn bracket_set(&self, p: usize, ec: usize) -> ByteSet {
        let mut set = [0u64; 4];
        let (sig, items) = self.class_items(p, ec);
        for item in items {
            match item {
                ClassItem::Class(cl) => set_add_class(&mut set, cl),
                ClassItem::Range(lo, hi) => {
                    for c in lo..=hi {
                        set_add(&mut set, c);
                    }
                }
                ClassItem::Byte(b) => set_add(&mut set, b),
            }
        }
        if !sig {
            for w in &mut set {
                *w = !*w;
            }
        }
        set
    }

    /// The bytes a match must start with, when the pattern's first item is a
    /// single-byte class that has to match at least once (no `*`, `-` or `?`
    /// after it): a search skips the start positions whose byte is not among
    /// them, where `do_match` would fail at once. `None` for any other first item
    /// (a capture, `%b`, `%f`, a back reference, `.`, `$`) and for a malformed one,
    /// whose error `do_match` reports.
    fn first_set(&self) -> Option<ByteSet> {
        let c = self.pc(0);
        match c {
            0 | b'(' | b')' | b'$' | b'.' => return None,
            b'%' if matches!(self.pc(1), 0 | b'b' | b'f' | b'0'..=b'9') => return None,
            _ => {}
        }
        let ep = self.classend(0).ok()?;
        if matches!(self.pc(ep), b'*' | b'-' | b'?') {
            return None;
        }
        let mut set = [0u64; 4];
        match c {
            b'%' => set_add_class(&mut set, self.pc(1)),
            b'[' => set = self.bracket_set(0, ep - 1),
            _ => set_add(&mut set, c),
        }
        Some(set)
    }

    /// `singlematch`: does `c` match the class at `p..ep`?
    fn singlematch(&self, c: u8, p: usize, ep: usize) -> bool {
        match self.pc(p) {
            b'.' => true,
            b'%' => match_class(c, self.pc(p + 1)),
            b'[' => self.matchbracketclass(c, p, ep - 1),
            pc => pc == c,
        }
    }
}

/// Pattern matcher with an optional step hook (see the module docs).
pub struct Matcher<'h> {
    hook: Option<&'h mut dyn FnMut(u64) -> bool>,
    interval: u64,
    countdown: u64,
    steps: u64,
    /// `steps` when the hook was last called.
    reported: u64,
}

impl Default for Matcher<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'h> Matcher<'h> {
    /// A matcher without a step hook.
    pub fn new() -> Self {
        Matcher { hook: None, interval: u64::MAX, countdown: u64::MAX, steps: 0, reported: 0 }
    }

    /// A matcher that calls `hook` every `interval` steps (at least 1) with the
    /// steps taken since its last call; `hook` returning `false` aborts with
    /// [`PatternError::Interrupted`].
    pub fn with_step_hook(interval: u64, hook: &'h mut dyn FnMut(u64) -> bool) -> Self {
        let interval = interval.max(1);
        Matcher { hook: Some(hook), interval, countdown: interval, steps: 0, reported: 0 }
    }

    /// Steps taken since the hook was last called (for the caller to account at the
    /// end of a match).
    pub fn unreported(&self) -> u64 {
        self.steps.wrapping_sub(self.reported)
    }

    /// Total steps performed so far (by all calls on this matcher).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    #[inline]
    fn step(&mut self, n: u64) -> R<()> {
        self.steps = self.steps.wrapping_add(n);
        if self.countdown > n {
            self.countdown -= n;
            return Ok(());
        }
        self.countdown = self.interval;
        let since = self.steps.wrapping_sub(self.reported);
        self.reported = self.steps;
        if let Some(h) = self.hook.as_mut() {
            if !h(since) {
                return Err(PatternError::Interrupted);
            }
        }
        Ok(())
    }

    /// Steps for walking a class item at `p..ep` (`classend`, then matching a
    /// byte against it): a bracket class of thousands of items costs in proportion.
    /// Walking a class item takes some 4 ns, and a step is charged as one unit of
    /// the budget (some 3-4 ns of Lua code), hence a step per two class bytes; short
    /// classes (up to 8 bytes) are covered by the step their item already takes.
    #[inline]
    fn class_cost(&mut self, p: usize, ep: usize) -> R<()> {
        let len = ep.saturating_sub(p);
        if len > 8 {
            self.step((len / 2) as u64)?;
        }
        Ok(())
    }

    /// `string.find`/`string.match` with a pattern: the first match starting
    /// at or after offset `init` (use [`start_offset`]), honouring a leading
    /// `^`. Positions `init..=subject.len()` are tried.
    pub fn find(&mut self, subject: &[u8], pattern: &[u8], init: usize) -> R<Option<Match>> {
        let (pat, anchor) = anchored(pattern);
        let mut st = State::new(subject, pat);
        let mut s = init.min(subject.len());
        let first = if anchor { None } else { st.first_set() };
        loop {
            if let Some(set) = &first {
                // Each skipped position would have been one failed step.
                let skip = not_in_set(set, &subject[s..]);
                if skip > 0 {
                    self.step(skip as u64)?;
                    s += skip;
                }
            }
            st.reset();
            if let Some(e) = self.do_match(&mut st, s, 0)? {
                return Ok(Some(st.to_match(s, e)));
            }
            if anchor || s >= subject.len() {
                return Ok(None);
            }
            s += 1;
            self.step(1)?;
        }
    }

    /// One match attempt exactly at offset `pos` (no anchor processing: a
    /// leading `^` is an ordinary character here, as in `gmatch`).
    pub fn match_at(&mut self, subject: &[u8], pattern: &[u8], pos: usize) -> R<Option<Match>> {
        if pos > subject.len() {
            return Ok(None);
        }
        let mut st = State::new(subject, c_pattern(pattern));
        Ok(self.do_match(&mut st, pos, 0)?.map(|e| st.to_match(pos, e)))
    }

    /// `match`: one recursion level.
    fn do_match(&mut self, ms: &mut State<'_>, s: usize, p: usize) -> R<Option<usize>> {
        ms.depth += 1;
        if ms.depth > MAX_DEPTH {
            return Err(PatternError::TooComplex);
        }
        let r = self.match_body(ms, s, p)?;
        ms.depth -= 1;
        Ok(r)
    }

    fn match_body(&mut self, ms: &mut State<'_>, mut s: usize, mut p: usize) -> R<Option<usize>> {
        loop {
            self.step(1)?;
            match ms.pc(p) {
                b'(' => {
                    return if ms.pc(p + 1) == b')' {
                        self.start_capture(ms, s, p + 2, CAP_POSITION)
                    } else {
                        self.start_capture(ms, s, p + 1, CAP_UNFINISHED)
                    };
                }
                b')' => return self.end_capture(ms, s, p + 1),
                b'%' if ms.pc(p + 1) == b'b' => match self.matchbalance(ms, s, p + 2)? {
                    Some(ns) => {
                        s = ns;
                        p += 4;
                        continue;
                    }
                    None => return Ok(None),
                },
                b'%' if ms.pc(p + 1) == b'f' => {
                    p += 2;
                    if ms.pc(p) != b'[' {
                        return Err(PatternError::MissingFrontierBracket);
                    }
                    let ep = ms.classend(p)?;
                    self.class_cost(p, ep)?;
                    let prev = if s == 0 { 0 } else { ms.sc(s - 1) };
                    if ms.matchbracketclass(prev, p, ep - 1) || !ms.matchbracketclass(ms.sc(s), p, ep - 1) {
                        return Ok(None);
                    }
                    p = ep;
                    continue;
                }
                b'%' if ms.pc(p + 1).is_ascii_digit() => match self.match_capture(ms, s, ms.pc(p + 1))? {
                    Some(ns) => {
                        s = ns;
                        p += 2;
                        continue;
                    }
                    None => return Ok(None),
                },
                0 => return Ok(Some(s)), // end of pattern
                b'$' if ms.pc(p + 1) == 0 => {
                    return Ok(if s == ms.src.len() { Some(s) } else { None });
                }
                _ => {}
            }
            // A single-character class, possibly followed by a quantifier.
            let ep = ms.classend(p)?;
            self.class_cost(p, ep)?;
            let m = s < ms.src.len() && ms.singlematch(ms.src[s], p, ep);
            match ms.pc(ep) {
                b'?' => {
                    if m {
                        if let Some(r) = self.do_match(ms, s + 1, ep + 1)? {
                            return Ok(Some(r));
                        }
                    }
                    p = ep + 1;
                }
                b'*' => return self.max_expand(ms, s, p, ep),
                b'+' => return if m { self.max_expand(ms, s + 1, p, ep) } else { Ok(None) },
                b'-' => return self.min_expand(ms, s, p, ep),
                _ => {
                    if !m {
                        return Ok(None);
                    }
                    s += 1;
                    p = ep;
                }
            }
        }
    }

    fn matchbalance(&mut self, ms: &mut State<'_>, mut s: usize, p: usize) -> R<Option<usize>> {
        let (b, e) = (ms.pc(p), ms.pc(p + 1));
        if b == 0 || e == 0 {
            return Err(PatternError::Unbalanced);
        }
        if ms.sc(s) != b || s >= ms.src.len() {
            return Ok(None);
        }
        let start = s;
        let mut cont = 1usize;
        s += 1;
        while s < ms.src.len() {
            let c = ms.src[s];
            if c == e {
                cont -= 1;
                if cont == 0 {
                    self.step((s - start) as u64)?;
                    return Ok(Some(s + 1));
                }
            } else if c == b {
                cont += 1;
            }
            s += 1;
        }
        self.step((s - start) as u64)?;
        Ok(None)
    }

    fn max_expand(&mut self, ms: &mut State<'_>, s: usize, p: usize, ep: usize) -> R<Option<usize>> {
        let mut i = 0usize;
        if ms.pc(p) == b'[' {
            self.class_cost(p, ep)?;
            let set = ms.bracket_set(p, ep - 1);
            while s + i < ms.src.len() && set_has(&set, ms.src[s + i]) {
                i += 1;
            }
        } else {
            while s + i < ms.src.len() && ms.singlematch(ms.src[s + i], p, ep) {
                i += 1;
            }
        }
        self.step(i as u64)?;
        // Try with the maximum repetitions first, then one less, ...
        loop {
            if let Some(r) = self.do_match(ms, s + i, ep + 1)? {
                return Ok(Some(r));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, ms: &mut State<'_>, mut s: usize, p: usize, ep: usize) -> R<Option<usize>> {
        loop {
            if let Some(r) = self.do_match(ms, s, ep + 1)? {
                return Ok(Some(r));
            }
            self.class_cost(p, ep)?;
            if s < ms.src.len() && ms.singlematch(ms.src[s], p, ep) {
                s += 1; // try with one more repetition
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, ms: &mut State<'_>, s: usize, p: usize, what: isize) -> R<Option<usize>> {
        let level = ms.level;
        if level >= MAX_CAPTURES {
            return Err(PatternError::TooManyCaptures);
        }
        ms.caps[level] = RawCap::new(s, what);
        ms.level = level + 1;
        let r = self.do_match(ms, s, p)?;
        if r.is_none() {
            ms.level -= 1; // undo capture
        }
        Ok(r)
    }

    fn end_capture(&mut self, ms: &mut State<'_>, s: usize, p: usize) -> R<Option<usize>> {
        // capture_to_close: the innermost unfinished capture.
        let l = (0..ms.level)
            .rev()
            .find(|&l| ms.caps[l].len() == CAP_UNFINISHED)
            .ok_or(PatternError::InvalidPatternCapture)?;
        let init = ms.caps[l].init();
        ms.caps[l] = RawCap::new(init, s.saturating_sub(init) as isize);
        let r = self.do_match(ms, s, p)?;
        if r.is_none() {
            ms.caps[l] = RawCap::new(init, CAP_UNFINISHED); // undo capture
        }
        Ok(r)
    }

    fn match_capture(&mut self, ms: &mut State<'_>, s: usize, digit: u8) -> R<Option<usize>> {
        // check_capture
        let l = i32::from(digit) - i32::from(b'1');
        if l < 0 || l as usize >= ms.level || ms.caps[l as usize].len() == CAP_UNFINISHED {
            return Err(PatternError::InvalidCaptureIndex);
        }
        let cap = ms.caps[l as usize];
        if cap.len() < 0 {
            // A position capture has no text; LuaJIT's size_t comparison fails.
            return Ok(None);
        }
        let len = cap.len() as usize;
        self.step(len as u64)?;
        let want = ms.src.get(cap.init()..cap.init() + len);
        let have = ms.src.get(s..s.saturating_add(len));
        Ok(match (want, have) {
            (Some(w), Some(h)) if w == h => Some(s + len),
            _ => None,
        })
    }
}

// ---------------------------------------------------------------------------
// gmatch and gsub drivers.
// ---------------------------------------------------------------------------

/// Iteration state of a `string.gmatch` iterator (LuaJIT keeps it in an
/// upvalue). The pattern is used as given: `^` is *not* an anchor here, it
/// matches a literal `^`, as in Lua 5.1/LuaJIT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gmatch {
    pos: usize,
}

impl Gmatch {
    /// A fresh iterator state (starts at offset 0).
    pub fn new() -> Self {
        Gmatch { pos: 0 }
    }

    /// The next match, or `None` when exhausted. After an empty match the
    /// next search starts one byte further, so `("abc"):gmatch("x*")` yields
    /// four empty matches.
    pub fn next(&mut self, matcher: &mut Matcher<'_>, subject: &[u8], pattern: &[u8]) -> R<Option<Match>> {
        let mut st = State::new(subject, c_pattern(pattern));
        let mut s = self.pos;
        while s <= subject.len() {
            st.reset();
            if let Some(e) = matcher.do_match(&mut st, s, 0)? {
                self.pos = if e == s { e + 1 } else { e };
                return Ok(Some(st.to_match(s, e)));
            }
            s += 1;
            matcher.step(1)?;
        }
        // Exhausted: later calls would rescan and fail identically.
        self.pos = subject.len() + 1;
        Ok(None)
    }
}

/// Step-wise `string.gsub` driver. Usage:
///
/// ```ignore
/// let mut g = Gsub::new(pattern, max_n);
/// let mut out = Vec::new();
/// while let Some(m) = g.next(&mut matcher, subject, pattern, &mut out)? {
///     // Append the replacement for `m` to `out`: for a string use
///     // `expand_replacement`; for a table/function look up / call with
///     // `m.value(0)` / `m.values()` and append the result, or the original
///     // `subject[m.start..m.end]` if it is false/nil, or raise
///     // "invalid replacement value (a <type>)" for non-string/number.
/// }
/// let count = g.count();
/// ```
///
/// The subject and pattern must be the same on every call. Between calls
/// the caller may run arbitrary code (no borrows are held).
#[derive(Clone, Debug)]
pub struct Gsub {
    src: usize,
    n: usize,
    max: usize,
    anchor: bool,
    pending: Option<usize>,
    done: bool,
}

impl Gsub {
    /// `max_n` is gsub's 4th argument (already converted to an integer);
    /// `None` means unlimited (LuaJIT: `#s + 1`). Values <= 0 allow no
    /// substitutions.
    pub fn new(pattern: &[u8], max_n: Option<i64>) -> Self {
        let max = match max_n {
            None => usize::MAX,
            Some(n) if n <= 0 => 0,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        Gsub { src: 0, n: 0, max, anchor: anchored(pattern).1, pending: None, done: false }
    }

    /// Number of substitutions made so far (gsub's second result).
    pub fn count(&self) -> usize {
        self.n
    }

    /// Advance to the next match, copying unmatched subject bytes to `out`.
    /// Returns `None` once finished, after appending the rest of the subject.
    pub fn next(
        &mut self,
        matcher: &mut Matcher<'_>,
        subject: &[u8],
        pattern: &[u8],
        out: &mut Vec<u8>,
    ) -> R<Option<Match>> {
        let pat = anchored(pattern).0;
        let mut st = State::new(subject, pat);
        let first = if self.anchor { None } else { st.first_set() };
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some(e) = self.pending.take() {
                self.advance(Some(e), subject, out);
                continue;
            }
            if self.n >= self.max {
                self.finish(subject, out);
                continue;
            }
            if let Some(set) = &first {
                // Bytes that cannot start a match are copied as they are, as
                // `advance` would copy them one failed attempt at a time.
                let rest = subject.get(self.src..).unwrap_or(&[]);
                let skip = not_in_set(set, rest);
                if skip > 0 {
                    matcher.step(skip as u64)?;
                    out.extend_from_slice(&rest[..skip]);
                    self.src += skip;
                }
            }
            st.reset();
            match matcher.do_match(&mut st, self.src, 0)? {
                Some(e) => {
                    self.n += 1;
                    self.pending = Some(e);
                    return Ok(Some(st.to_match(self.src, e)));
                }
                None => {
                    matcher.step(1)?;
                    self.advance(None, subject, out);
                }
            }
        }
    }

    fn advance(&mut self, e: Option<usize>, subject: &[u8], out: &mut Vec<u8>) {
        match e {
            Some(e) if e > self.src => self.src = e,
            _ => {
                if let Some(&c) = subject.get(self.src) {
                    out.push(c);
                    self.src += 1;
                } else {
                    self.finish(subject, out);
                    return;
                }
            }
        }
        if self.anchor {
            self.finish(subject, out);
        }
    }

    fn finish(&mut self, subject: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(subject.get(self.src..).unwrap_or(&[]));
        self.src = subject.len();
        self.done = true;
    }
}

/// Convenience: `string.gsub(subject, pattern, repl_string, max_n)` for a
/// string (or number-converted) replacement. Returns the result and count.
pub fn gsub_str(
    matcher: &mut Matcher<'_>,
    subject: &[u8],
    pattern: &[u8],
    repl: &[u8],
    max_n: Option<i64>,
) -> R<(Vec<u8>, usize)> {
    let mut g = Gsub::new(pattern, max_n);
    let mut out = Vec::with_capacity(subject.len());
    while let Some(m) = g.next(matcher, subject, pattern, &mut out)? {
        expand_replacement(repl, subject, &m, &mut out)?;
    }
    Ok((out, g.count()))
}

#[cfg(test)]
mod tests {
    /// `find` and `gsub` skip start positions by the pattern's first byte set;
    /// they must find what trying every position finds (`match_at` at each one,
    /// and a gsub built from those attempts).
    #[test]
    fn first_byte_skipping_finds_what_every_position_finds() {
        let subjects: &[&[u8]] = &[
            b"",
            b"a",
            b"hello world",
            b"key=value&x=1&&y=",
            b"\"quoted\" text\\ with \n escapes\"",
            b"GET /a/b?c=d HTTP/1.1\r\nHost: x\r\n\r\n",
            b"aaa+bbb%20ccc",
            b"$100 $ 5",
            b"\x01\x02x\x7f\xff",
        ];
        let patterns: &[&[u8]] = &[
            b"[%c\"\\]",
            b"[\"\\]",
            b"[^&=]+",
            b"[&=]",
            b"[%%+]",
            b"%s",
            b"%s+",
            b"%a+",
            b"%d",
            b"x",
            b"xy",
            b"[ab]+c",
            b"=",
            b"[a-c]*",
            b"a-",
            b"a?b",
            b"[^%w]",
            b"%$%d+",
            b"\r\n",
            b"[%z\x01]",
            b"%Z",
            b"[]]",
            b"[^a]",
            b"b()",
            b"[b]%1",
            b"%x%x",
        ];
        let mut m = Matcher::new();
        for subj in subjects {
            for pat in patterns {
                for init in 0..=subj.len() {
                    let got = m.find(subj, pat, init).map(|r| r.map(|x| (x.start, x.end, x.values())));
                    let mut want = Ok(None);
                    for s in init..=subj.len() {
                        match m.match_at(subj, pat, s) {
                            Ok(None) => continue,
                            other => {
                                want = other;
                                break;
                            }
                        }
                    }
                    let want = want.map(|r| r.map(|x| (x.start, x.end, x.values())));
                    assert_eq!(
                        got,
                        want,
                        "find({:?}, {:?}, {init})",
                        String::from_utf8_lossy(subj),
                        String::from_utf8_lossy(pat)
                    );
                }
                // gsub with "<%0>" against the same attempts made by hand.
                let got = gsub_str(&mut m, subj, pat, b"<%0>", None);
                let mut want = Vec::new();
                let mut src = 0;
                let mut n = 0;
                let reference: Result<(), PatternError> = (|| loop {
                    if let Some(x) = m.match_at(subj, pat, src)? {
                        n += 1;
                        want.extend_from_slice(b"<");
                        want.extend_from_slice(&subj[x.start..x.end]);
                        want.extend_from_slice(b">");
                        if x.end > src {
                            src = x.end;
                            continue;
                        }
                    }
                    match subj.get(src) {
                        Some(&c) => {
                            want.push(c);
                            src += 1;
                        }
                        None => return Ok(()),
                    }
                })();
                let want = reference.map(|()| (want, n));
                assert_eq!(got, want, "gsub({:?}, {:?})", String::from_utf8_lossy(subj), String::from_utf8_lossy(pat));
            }
        }
    }

    #[test]
    fn bracket_sets_agree_with_matchbracketclass() {
        let classes: &[&[u8]] = &[
            b"[abc]",
            b"[^abc]",
            b"[a-z]",
            b"[^a-z0-9]",
            b"[%a_]",
            b"[%w%-%.]",
            b"[^%s]",
            b"[%A]",
            b"[%S%d]",
            b"[]]",
            b"[^]]",
            b"[a-]",
            b"[-a]",
            b"[a-c-e]",
            b"[z-a]",
            b"[%]]",
            b"[%z]",
            b"[%Z]",
            b"[^%z]",
            b"[\x01-\x1f]",
            b"[\x80-\xffx]",
            b"[^:\r\n]",
            b"[%%+]",
            b"[%x%p%c%g%l%u]",
            b"[^%X%P%C%G%L%U]",
            b"[%@%[%{]",
            b"[.]",
            b"[%.]",
            b"[^%^]",
            b"[^-]",
        ];
        for pat in classes {
            let st = State::new(b"", pat);
            let ep = st.classend(0).unwrap_or_else(|e| panic!("{}: {e:?}", String::from_utf8_lossy(pat)));
            let set = st.bracket_set(0, ep - 1);
            for c in 0..=255u8 {
                assert_eq!(
                    set_has(&set, c),
                    st.matchbracketclass(c, 0, ep - 1),
                    "{} on byte {c}",
                    String::from_utf8_lossy(pat)
                );
            }
        }
    }

    use super::*;

    /// Render a match the way the Lua-side probes print them.
    fn show(subject: &[u8], caps: &[Capture]) -> String {
        caps.iter()
            .map(|c| match *c {
                Capture::Str { start, end } => {
                    format!("{:?}", String::from_utf8_lossy(&subject[start..end]))
                }
                Capture::Position(p) => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// string.find(s, p, init) with LuaJIT's plain/pattern dispatch.
    fn find(s: &str, p: &str, init: i64) -> Result<String, PatternError> {
        let (s, p) = (s.as_bytes(), p.as_bytes());
        let st = start_offset(s.len(), init);
        if !has_pattern_specials(p) {
            return Ok(match find_plain(s, p, st) {
                Some(i) => format!("{} {}", i + 1, i + p.len()),
                None => "nil".into(),
            });
        }
        match Matcher::new().find(s, p, st)? {
            None => Ok("nil".into()),
            Some(m) => {
                let caps = m.captures()?;
                let mut r = format!("{} {}", m.start + 1, m.end);
                if !caps.is_empty() {
                    r.push(' ');
                    r.push_str(&show(s, &caps));
                }
                Ok(r)
            }
        }
    }

    fn lmatch(s: &str, p: &str, init: i64) -> Result<String, PatternError> {
        let (s, p) = (s.as_bytes(), p.as_bytes());
        match Matcher::new().find(s, p, start_offset(s.len(), init))? {
            None => Ok("nil".into()),
            Some(m) => Ok(show(s, &m.values()?)),
        }
    }

    fn gmatch(s: &str, p: &str) -> Result<Vec<String>, PatternError> {
        let mut g = Gmatch::new();
        let mut m = Matcher::new();
        let mut r = Vec::new();
        while let Some(x) = g.next(&mut m, s.as_bytes(), p.as_bytes())? {
            r.push(show(s.as_bytes(), &x.values()?));
        }
        Ok(r)
    }

    fn gsub(s: &str, p: &str, r: &str, n: Option<i64>) -> Result<(String, usize), PatternError> {
        let (o, c) = gsub_str(&mut Matcher::new(), s.as_bytes(), p.as_bytes(), r.as_bytes(), n)?;
        Ok((String::from_utf8_lossy(&o).into_owned(), c))
    }

    const SUBJ: &str = "x(a[b]c)d]a\0b-%";

    #[test]
    fn errors_and_edge_patterns() {
        // luajit: string.find("x(a[b]c)d]a\0b-%", p)
        use PatternError::*;
        let cases: &[(&str, Result<&str, PatternError>)] = &[
            ("%", Err(EndsWithPercent)),
            ("[a", Err(MissingBracket)),
            ("[", Err(MissingBracket)),
            ("[^", Err(MissingBracket)),
            ("[]", Err(MissingBracket)),
            ("[^]", Err(MissingBracket)),
            ("[]]", Ok("6 6")),
            ("[%", Err(MissingBracket)),
            ("%f", Err(MissingFrontierBracket)),
            ("%fa", Err(MissingFrontierBracket)),
            ("%f[a", Err(MissingBracket)),
            ("(", Err(UnfinishedCapture)),
            (")", Ok("8 8")),
            ("(()", Err(UnfinishedCapture)),
            ("%1", Err(InvalidCaptureIndex)),
            ("(a)%2", Err(InvalidCaptureIndex)),
            ("(a%1)", Err(InvalidCaptureIndex)),
            ("%b", Err(Unbalanced)),
            ("%ba", Err(Unbalanced)),
            ("%b()", Ok("2 8")),
            ("a)", Ok("nil")),
            ("%g", Ok("1 1")),
            ("[%a-z]", Ok("1 1")),
            ("[a-%%]", Ok("6 6")),
            ("%z", Ok("12 12")),
            ("a\0b", Ok("11 13")),
            ("$a", Ok("nil")),
            ("a$b", Ok("nil")),
            ("a$", Ok("nil")),
            ("^$", Ok("nil")),
            ("%f[%w]%w+", Ok("1 1")),
            ("[a-]", Ok("3 3")),
            ("[-a]", Ok("3 3")),
            ("[]-a]", Ok("3 3")),
        ];
        for &(p, ref want) in cases {
            let got = find(SUBJ, p, 1);
            assert_eq!(got.as_deref().map_err(|e| *e), want.as_deref().map_err(|e| *e), "find(SUBJ, {p:?})");
        }
        let many = "(".repeat(34) + "a" + &")".repeat(34);
        assert_eq!(find(SUBJ, &many, 1), Err(TooManyCaptures));
        assert_eq!(lmatch(SUBJ, ")", 1), Err(InvalidPatternCapture));
    }

    #[test]
    fn depth_limit() {
        // luajit: first repetition count failing with "pattern too complex".
        let a300 = "a".repeat(300);
        assert!(find(&a300, &"a*".repeat(199), 1).is_ok());
        assert_eq!(find(&a300, &"a*".repeat(200), 1), Err(PatternError::TooComplex));
        assert!(find("", &"a*".repeat(199), 1).is_ok());
        assert_eq!(find("", &"a*".repeat(200), 1), Err(PatternError::TooComplex));
        assert_eq!(find("", &"a-".repeat(200), 1), Err(PatternError::TooComplex));
        assert_eq!(find("aaa", &"x*".repeat(200), 1), Err(PatternError::TooComplex));
        assert_eq!(find("aaa", &"a?".repeat(400), 1).unwrap(), "1 3");
        assert_eq!(find("", &"a?".repeat(250), 1).unwrap(), "1 0");
        assert_eq!(find(&a300, &"a".repeat(300), 1).unwrap(), "1 300");
        assert_eq!(find(&a300, &"a".repeat(1000), 1).unwrap(), "nil");
        assert_eq!(find("", &"()".repeat(33), 1), Err(PatternError::TooManyCaptures));
        let r = find("aaa", &"()".repeat(32), 1).unwrap();
        assert_eq!(r, format!("1 0{}", " 1".repeat(32)));
        // Deep captures: 199 nested "(" + ")" levels... limited by captures first.
        assert_eq!(find("a", &"(a?)".repeat(33), 1), Err(PatternError::TooManyCaptures));
    }

    #[test]
    fn find_and_match() {
        assert_eq!(lmatch("a\0b", "a\0b", 1).unwrap(), "\"a\"");
        assert_eq!(lmatch("ab", "a\0c", 1).unwrap(), "\"a\"");
        assert_eq!(find("a\0b", "\0b", 1).unwrap(), "2 3");
        assert_eq!(find("a\0b.", "\0b.", 1).unwrap(), "1 0");
        assert_eq!(find("abc", "b", 10).unwrap(), "nil");
        assert_eq!(find("abc", "", 10).unwrap(), "4 3");
        assert_eq!(find("abc", "", 4).unwrap(), "4 3");
        assert_eq!(find("abc", "", -10).unwrap(), "1 0");
        assert_eq!(lmatch("abc", "()", 10).unwrap(), "4");
        assert_eq!(find("abc", "%f[%z]", 1).unwrap(), "4 3");
        assert_eq!(find("abc", "%f[%Z]", 1).unwrap(), "1 0");
        assert_eq!(lmatch("abc", "(%f[c])", 1).unwrap(), "\"\"");
        assert_eq!(lmatch("THE (quick) fox", "%f[%a]%a+", 1).unwrap(), "\"THE\"");
        assert_eq!(lmatch("[[x]]", "%b[]", 1).unwrap(), "\"[[x]]\"");
        assert_eq!(lmatch("a(b(c)d", "%b()", 1).unwrap(), "\"(c)\"");
        assert_eq!(lmatch("hello", "(h)(e)(l)(l)(o)", 1).unwrap(), "\"h\" \"e\" \"l\" \"l\" \"o\"");
        assert_eq!(lmatch("hello", "((h)(e))", 1).unwrap(), "\"he\" \"h\" \"e\"");
        assert_eq!(lmatch("hello hello", "(h%a+) %1", 1).unwrap(), "\"hello\"");
        assert_eq!(lmatch("hello", "()ll()", 1).unwrap(), "3 5");
        assert_eq!(find("hello", "(l)(l)", 1).unwrap(), "3 4 \"l\" \"l\"");
        assert_eq!(lmatch("  x", "^%s*()", 1).unwrap(), "3");
        assert_eq!(lmatch("key = value", "(%w+)%s*=%s*(%w+)", 1).unwrap(), "\"key\" \"value\"");
        assert_eq!(find("a+b", "a+b", 1).unwrap(), "nil");
        assert_eq!(lmatch("abc", "[^%a]", 1).unwrap(), "nil");
        assert_eq!(lmatch("a-b", "[a%-]+", 1).unwrap(), "\"a-\"");
        assert_eq!(lmatch("]", "[]]", 1).unwrap(), "\"]\"");
        assert_eq!(lmatch("a]", "[^]]", 1).unwrap(), "\"a\"");
        let hi = Matcher::new().find(b"\xff\x80", b"[\x80-\xff]+", 0).unwrap().unwrap();
        assert_eq!((hi.start, hi.end), (0, 2));
        assert_eq!(lmatch("abc", "^b", 1).unwrap(), "nil");
        assert_eq!(lmatch("abc", "^b", 2).unwrap(), "\"b\"");
        assert_eq!(lmatch("abc", "c$", -1).unwrap(), "\"c\"");
        assert_eq!(lmatch("a$c", "$c", 1).unwrap(), "\"$c\"");
        assert_eq!(lmatch("x(1)", "(%b())", 1).unwrap(), "\"(1)\"");
        assert_eq!(lmatch("aaa", "(a)%1", 1).unwrap(), "\"a\"");
        assert_eq!(lmatch("abab", "()b()%1", 1).unwrap(), "nil");
        assert_eq!(lmatch("  ", "^%s*$", 1).unwrap(), "\"  \"");
        assert_eq!(lmatch("x = 1", "^(%w+)%s*=%s*(.-)%s*$", 1).unwrap(), "\"x\" \"1\"");
        assert_eq!(lmatch("aaab", "a-b", 1).unwrap(), "\"aaab\"");
        assert_eq!(lmatch("aaab", "a-", 1).unwrap(), "\"\"");
        assert_eq!(lmatch("ab", "a?b?c?", 1).unwrap(), "\"ab\"");
        assert_eq!(lmatch("\n\t x", "%s+", 1).unwrap(), "\"\\n\\t \"");
        assert_eq!(lmatch("AbC", "%u%l%u", 1).unwrap(), "\"AbC\"");
        assert_eq!(lmatch("a.b", "%.", 1).unwrap(), "\".\"");
        assert_eq!(lmatch("f(x)", "%((%a)%)", 1).unwrap(), "\"x\"");
    }

    #[test]
    fn gmatch_cases() {
        assert_eq!(gmatch("^a^ab", "^a").unwrap(), vec!["\"^a\"", "\"^a\""]);
        assert!(gmatch("aaa", "^a").unwrap().is_empty());
        assert_eq!(gmatch("abc", "()(.?)").unwrap(), vec!["1 \"a\"", "2 \"b\"", "3 \"c\"", "4 \"\""]);
        assert_eq!(gmatch("", "").unwrap(), vec!["\"\""]);
        assert_eq!(gmatch("abc", "x*").unwrap().len(), 4);
        assert_eq!(gmatch("one two  three", "%a+").unwrap(), vec!["\"one\"", "\"two\"", "\"three\""]);
        assert_eq!(gmatch("k=v, a=b", "(%w+)=(%w+)").unwrap(), vec!["\"k\" \"v\"", "\"a\" \"b\""]);
        assert_eq!(gmatch("abc", "(").unwrap_err(), PatternError::UnfinishedCapture);
    }

    #[test]
    fn gsub_cases() {
        // luajit: string.gsub(...)
        assert_eq!(gsub("hello world", "o", "%", None).unwrap(), ("hell\0 w\0rld".into(), 2));
        assert_eq!(gsub("hello world", "o", "%x", None).unwrap(), ("hellx wxrld".into(), 2));
        assert_eq!(gsub("hello world", "o", "%%", None).unwrap(), ("hell% w%rld".into(), 2));
        assert_eq!(gsub("hello world", "(o)", "%1%2", None), Err(PatternError::InvalidCaptureIndex));
        assert_eq!(gsub("hello world", "o", "%1", None).unwrap(), ("hello world".into(), 2));
        assert_eq!(gsub("hello world", "o", "%2", None), Err(PatternError::InvalidCaptureIndex));
        assert_eq!(gsub("hello world", "o", "%0%0", None).unwrap(), ("helloo woorld".into(), 2));
        assert_eq!(gsub("hello world", "()o", "%1", None).unwrap(), ("hell5 w8rld".into(), 2));
        assert_eq!(gsub("hello", "", "-", None).unwrap(), ("-h-e-l-l-o-".into(), 6));
        assert_eq!(gsub("hello", "^", "-", None).unwrap(), ("-hello".into(), 1));
        assert_eq!(gsub("hello", "^h?", "-", None).unwrap(), ("-ello".into(), 1));
        assert_eq!(gsub("hello", "l*", "-", None).unwrap(), ("-h-e--o-".into(), 5));
        assert_eq!(gsub("hello", "l", "-", Some(1)).unwrap(), ("he-lo".into(), 1));
        assert_eq!(gsub("hello", "l", "-", Some(0)).unwrap(), ("hello".into(), 0));
        assert_eq!(gsub("hello", "l", "-", Some(-1)).unwrap(), ("hello".into(), 0));
        assert_eq!(gsub("abc", "%w", "%0\0%0", None).unwrap(), ("a\0ab\0bc\0c".into(), 3));
        assert_eq!(gsub("abc", "(", "x", None).unwrap(), ("xaxbxcx".into(), 4));
        assert_eq!(gsub("abc", "(", "%1", None), Err(PatternError::UnfinishedCapture));
        assert_eq!(gsub("hello world", "(%w+)", "<%1>", None).unwrap(), ("<hello> <world>".into(), 2));
        // Lua 5.1 semantics (5.4 would give "XaXcX" 3).
        assert_eq!(gsub("abc", "b*", "X", None).unwrap(), ("XaXXcX".into(), 4));
        assert_eq!(gsub("", "", "X", None).unwrap(), ("X".into(), 1));
        assert_eq!(gsub("", "x", "X", None).unwrap(), ("".into(), 0));
        assert_eq!(gsub("aaa", "^a", "b", None).unwrap(), ("baa".into(), 1));
        assert_eq!(gsub("aaa", "a$", "b", None).unwrap(), ("aab".into(), 1));
    }

    #[test]
    fn replacement_positions_and_edge() {
        let m = Matcher::new().find(b"abc", b"()b()", 0).unwrap().unwrap();
        let mut out = Vec::new();
        expand_replacement(b"[%1|%2|%0|%%|%q]", b"abc", &m, &mut out).unwrap();
        assert_eq!(out, b"[2|3|b|%|q]".to_vec());
        assert_eq!(expand_replacement(b"%3", b"abc", &m, &mut out), Err(PatternError::InvalidCaptureIndex));
    }

    #[test]
    fn plain_find_and_offsets() {
        assert_eq!(find_plain(b"hello", b"l", 0), Some(2));
        assert_eq!(find_plain(b"hello", b"lo", 0), Some(3));
        assert_eq!(find_plain(b"hello", b"", 5), Some(5));
        assert_eq!(find_plain(b"hello", b"", 6), None);
        assert_eq!(find_plain(b"hello", b"hello!", 0), None);
        assert_eq!(find_plain(b"aab", b"ab", 0), Some(1));
        assert_eq!(find_plain(b"a\0b\0c", b"\0c", 0), Some(3));
        assert_eq!(start_offset(3, 1), 0);
        assert_eq!(start_offset(3, 0), 0);
        assert_eq!(start_offset(3, -1), 2);
        assert_eq!(start_offset(3, -10), 0);
        assert_eq!(start_offset(3, 10), 3);
        assert_eq!(start_offset(3, i64::MIN), 0);
        assert_eq!(start_offset(3, i64::MAX), 3);
        assert!(has_pattern_specials(b"a.b"));
        assert!(!has_pattern_specials(b"a)b]"));
        assert!(has_pattern_specials(b"\0-"));
    }

    #[test]
    fn step_hook_interrupts() {
        // Catastrophic backtracking: (a*)^20 then b against a^30.
        let subject = "a".repeat(30);
        let pattern = "a*".repeat(20) + "b";
        let mut calls = 0u32;
        let mut hook = |_| {
            calls += 1;
            calls < 10
        };
        let mut m = Matcher::with_step_hook(1000, &mut hook);
        let r = m.find(subject.as_bytes(), pattern.as_bytes(), 0);
        assert_eq!(r, Err(PatternError::Interrupted));
        assert_eq!(calls, 10);
        // A hook that always continues changes nothing.
        let mut yes = |_| true;
        let mut m = Matcher::with_step_hook(1, &mut yes);
        assert_eq!(m.find(b"hello", b"l+", 0).unwrap().map(|x| (x.start, x.end)), Some((2, 4)));
        assert!(m.steps() > 0);
    }

    #[test]
    fn deep_recursion_fits_small_stack() {
        // MAX_DEPTH levels of recursion must fit comfortably in 256 KiB.
        let t = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let a = "a".repeat(300);
                assert!(find(&a, &"a*".repeat(199), 1).is_ok());
                assert!(find(&a, &"a-".repeat(199), 1).is_ok());
                assert!(find(&a, &"(a*)".repeat(30), 1).is_ok());
                assert!(find("", &"x*".repeat(199), 1).is_ok());
                assert_eq!(find(&a, &"a*".repeat(5000), 1), Err(PatternError::TooComplex));
                let nested = "(".repeat(32) + "a" + &")".repeat(32);
                assert!(find("xa", &nested, 1).is_ok());
            })
            .unwrap();
        t.join().unwrap();
    }

    #[test]
    fn random_inputs_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"ab()[]%^$*+-?.019 \0fbzZdw";
        for _ in 0..3000 {
            let plen = (next() % 12) as usize;
            let pat: Vec<u8> = (0..plen).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let slen = (next() % 16) as usize;
            let subj: Vec<u8> = (0..slen).map(|_| b"ab()1 \0"[(next() % 7) as usize]).collect();
            let mut budget = 20_000u32;
            let mut hook = |_| {
                budget = budget.saturating_sub(1);
                budget > 0
            };
            let mut m = Matcher::with_step_hook(16, &mut hook);
            if let Ok(Some(x)) = m.find(&subj, &pat, (next() % 20) as usize) {
                let _ = x.values();
                let _ = x.captures();
            }
            let mut g = Gmatch::new();
            for _ in 0..20 {
                match g.next(&mut m, &subj, &pat) {
                    Ok(Some(x)) => {
                        let _ = x.values();
                    }
                    _ => break,
                }
            }
            let _ = gsub_str(&mut m, &subj, &pat, &pat, None);
        }
    }

    #[test]
    fn class_table_matches_luajit() {
        // lj_char_bits spot checks.
        for c in 0..=255u8 {
            let cntrl = c < 32 || c == 127;
            assert_eq!(match_class(c, b'c'), cntrl, "{c}");
            assert_eq!(match_class(c, b'C'), !cntrl, "{c}");
            assert_eq!(match_class(c, b's'), c == b' ' || (9..=13).contains(&c));
            assert_eq!(match_class(c, b'p'), c.is_ascii_punctuation());
            assert_eq!(match_class(c, b'w'), c.is_ascii_alphanumeric());
            assert_eq!(match_class(c, b'g'), c.is_ascii_graphic());
            assert_eq!(match_class(c, b'x'), c.is_ascii_hexdigit());
            assert_eq!(match_class(c, b'z'), c == 0);
            assert_eq!(match_class(c, b'Z'), c != 0);
        }
        assert!(match_class(b'.', b'.'));
        assert!(match_class(b'[', b'['));
        assert!(!match_class(b'a', b'['));
    }
}
