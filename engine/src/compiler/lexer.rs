//! The lexer: source bytes to tokens, with LuaJIT 2.1's lexical rules.
//!
//! Contract:
//! - Tokens are Lua 5.1's plus LuaJIT's `::`; `goto` is *not* reserved (LuaJIT treats it
//!   as a name and the parser recognises `goto <name>` by context).
//! - Long strings/comments of any level; escapes `\a \b \f \n \r \t \v \\ \" \'`,
//!   `\<newline>`, `\ddd` (≤ 255), `\xXX`, `\z`, `\u{X…}` (≤ 0x10FFFF, as the luajit binary).
//! - Numbers: decimal, exponents, hex integers and hex floats with `p` exponents. A number
//!   is scanned greedily (identifier characters, `.`, and a sign right after the exponent
//!   letter) and the whole run must convert, else "malformed number". FFI literal suffixes
//!   (`LL`, `ULL`, `i`) make cdata constants ([`Tok::CData`]), as in LuaJIT with its FFI.
//! - Lines end at `\n`, `\r`, `\r\n` or `\n\r`. A first line starting with `#` is skipped.
//! - Errors carry LuaJIT's text: the "near" part is the token text scanned so far (for
//!   strings: the opening delimiter and the decoded contents), or `<eof>`.
//! - Never panics: all byte access goes through [`Lexer::peek`].
//! - The source is a byte slice, or a reader called for more bytes on demand (`load`
//!   with a function). Like LuaJIT's lexer, it reads one byte past the last consumed
//!   one and no further (a few bytes inside an escape or `..`/`--` check), so a syntax
//!   error stops the reading where LuaJIT's does.

use std::borrow::Cow;

use super::SyntaxError;
use crate::number::ldexp;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Eof,
    Name(Box<[u8]>),
    Str(Box<[u8]>),
    Num(f64),
    /// An FFI literal: `1LL`, `1ULL`, `2i`.
    CData(super::proto::CConst),
    // Keywords.
    And,
    Break,
    Do,
    Else,
    Elseif,
    End,
    False,
    For,
    Function,
    If,
    In,
    Local,
    Nil,
    Not,
    Or,
    Repeat,
    Return,
    Then,
    True,
    Until,
    While,
    // Multi-character symbols.
    Concat,
    Dots,
    Eq,
    Ge,
    Le,
    Ne,
    DbColon,
    /// Any single-character symbol (`+ - * / % ^ # < > = ( ) { } [ ] ; : , .`), and any
    /// other byte, which the parser rejects as "unexpected symbol".
    Char(u8),
}

const KEYWORDS: &[(&[u8], Tok)] = &[
    (b"and", Tok::And),
    (b"break", Tok::Break),
    (b"do", Tok::Do),
    (b"else", Tok::Else),
    (b"elseif", Tok::Elseif),
    (b"end", Tok::End),
    (b"false", Tok::False),
    (b"for", Tok::For),
    (b"function", Tok::Function),
    (b"if", Tok::If),
    (b"in", Tok::In),
    (b"local", Tok::Local),
    (b"nil", Tok::Nil),
    (b"not", Tok::Not),
    (b"or", Tok::Or),
    (b"repeat", Tok::Repeat),
    (b"return", Tok::Return),
    (b"then", Tok::Then),
    (b"true", Tok::True),
    (b"until", Tok::Until),
    (b"while", Tok::While),
];

impl Tok {
    /// How LuaJIT names a token kind in "'x' expected" messages.
    pub fn describe(&self) -> String {
        let s: &str = match self {
            Tok::Eof => "<eof>",
            Tok::Name(_) => "<name>",
            Tok::Str(_) => "<string>",
            Tok::Num(_) | Tok::CData(_) => "<number>",
            Tok::Concat => "..",
            Tok::Dots => "...",
            Tok::Eq => "==",
            Tok::Ge => ">=",
            Tok::Le => "<=",
            Tok::Ne => "~=",
            Tok::DbColon => "::",
            Tok::Char(c) => {
                return if *c < 0x20 || *c == 0x7f {
                    format!("char({})", c)
                } else {
                    String::from_utf8_lossy(&[*c]).into_owned()
                };
            }
            kw => {
                for (name, t) in KEYWORDS {
                    if t == kw {
                        return String::from_utf8_lossy(name).into_owned();
                    }
                }
                "?"
            }
        };
        s.to_string()
    }
}

fn is_ident(c: i32) -> bool {
    c >= 0 && ((c as u8).is_ascii_alphanumeric() || c == b'_' as i32 || c >= 0x80)
}

fn is_space(c: i32) -> bool {
    matches!(c, 0x20 | 0x09 | 0x0a | 0x0b | 0x0c | 0x0d)
}

use super::Host;

/// The lexer state. `tok` is the current token; `line` the line it ends on.
pub struct Lexer<'a> {
    src: Cow<'a, [u8]>,
    pos: usize,
    /// Whoever runs the compiler: the reader of more source, and the limits.
    host: Option<&'a mut dyn Host>,
    /// More source may come from the host's reader (false once it reported the end).
    reading: bool,
    /// Source bytes dropped from the front of `src` (consumed, from a reader).
    drained: usize,
    /// Current line (of the scanner position).
    pub line: u32,
    /// Line of the previously consumed token (LuaJIT's `lastline`).
    pub lastline: u32,
    /// Current token.
    pub tok: Tok,
    /// Text of the current token as shown in "near" messages.
    pub tok_text: Vec<u8>,
    /// Line of the current token.
    pub tok_line: u32,
    ahead: Option<(Tok, Vec<u8>, u32)>,
    /// Text buffer of the token being scanned.
    buf: Vec<u8>,
    chunk: String,
}

impl<'a> Lexer<'a> {
    /// Creates a lexer; skips a leading `#` line. Call [`Lexer::next_token`] to read the first token.
    pub fn new(src: &'a [u8], chunk: String) -> Lexer<'a> {
        Lexer::with_host(Cow::Borrowed(src), None, false, chunk)
    }

    /// Creates a lexer over `start`, followed by what `host` reads when `reading`.
    pub fn with_host(start: Cow<'a, [u8]>, host: Option<&'a mut dyn Host>, reading: bool, chunk: String) -> Lexer<'a> {
        let reading = reading && host.is_some();
        let mut lx = Lexer {
            src: start,
            pos: 0,
            host,
            reading,
            drained: 0,
            line: 1,
            lastline: 1,
            tok: Tok::Eof,
            tok_text: Vec::new(),
            tok_line: 1,
            ahead: None,
            buf: Vec::new(),
            chunk,
        };
        if lx.peek(0) == b'#' as i32 {
            while lx.peek(0) >= 0 && lx.peek(0) != b'\n' as i32 && lx.peek(0) != b'\r' as i32 {
                lx.bump();
            }
        }
        lx
    }

    /// The byte at `pos + k`, or -1 past the end.
    #[inline]
    fn peek(&mut self, k: usize) -> i32 {
        let at = self.pos.saturating_add(k);
        match self.src.get(at) {
            Some(&b) => b as i32,
            None if self.reading => self.peek_more(at),
            None => -1,
        }
    }

    /// Reads pieces until byte `at` is there or the reader ends.
    #[cold]
    fn peek_more(&mut self, at: usize) -> i32 {
        let Some(host) = self.host.as_mut() else { return -1 };
        // Drop what has been consumed, so a long chunk is not held twice.
        let src = self.src.to_mut();
        let at = if self.pos >= 4096 {
            src.drain(..self.pos);
            self.drained += self.pos;
            let at = at - self.pos;
            self.pos = 0;
            at
        } else {
            at
        };
        while src.len() <= at {
            if !host.read_more(src) {
                self.reading = false;
                return -1;
            }
        }
        src[at] as i32
    }

    /// Consumes `n` bytes. Like LuaJIT's `lex_next`, this reads the next byte (from the
    /// reader, if it must), so reads happen when LuaJIT's do.
    #[inline]
    fn skip(&mut self, n: usize) {
        self.pos += n;
        if self.pos >= self.src.len() && self.reading {
            self.peek_more(self.pos);
        }
    }

    #[inline]
    fn bump(&mut self) {
        self.skip(1);
    }

    fn save_bump(&mut self) {
        if let Some(&b) = self.src.get(self.pos) {
            self.buf.push(b);
        }
        self.skip(1);
    }

    fn is_eol(c: i32) -> bool {
        c == b'\n' as i32 || c == b'\r' as i32
    }

    /// Consumes one line break (`\n`, `\r`, `\r\n` or `\n\r`) and counts it.
    fn newline(&mut self) {
        let c = self.peek(0);
        self.bump();
        let d = self.peek(0);
        if Self::is_eol(d) && d != c {
            self.bump();
        }
        self.line = self.line.saturating_add(1);
    }

    /// Source bytes consumed so far.
    pub(super) fn offset(&self) -> usize {
        self.drained + self.pos
    }

    /// Reports work and memory growth to the host: false when it says stop.
    pub(super) fn host_allows(&mut self, units: u64, bytes: usize) -> bool {
        match self.host.as_mut() {
            Some(h) => h.charge(units) && (bytes == 0 || h.reserve(bytes)),
            None => true,
        }
    }

    /// The lowest stack address the host allows (0: none given).
    pub(super) fn stack_floor(&self) -> usize {
        self.host.as_ref().map_or(0, |h| h.stack_floor())
    }

    /// The chunk name as shown in messages.
    pub fn chunk(&self) -> &str {
        &self.chunk
    }

    /// An error at the current line with no "near" part.
    pub fn error_plain(&self, msg: &str) -> SyntaxError {
        self.error_at(self.line, msg)
    }

    /// An error at a given line with no "near" part.
    pub fn error_at(&self, line: u32, msg: &str) -> SyntaxError {
        SyntaxError::new(format!("{}:{}: {}", self.chunk, line, msg).into_bytes())
    }

    /// An error "near" the current token.
    pub fn error_near_tok(&self, msg: &str) -> SyntaxError {
        let mut m = format!("{}:{}: {} near '", self.chunk, self.line, msg).into_bytes();
        match &self.tok {
            Tok::Name(_) | Tok::Str(_) | Tok::Num(_) | Tok::CData(_) => m.extend_from_slice(&self.tok_text),
            t => m.extend_from_slice(t.describe().as_bytes()),
        }
        m.push(b'\'');
        SyntaxError::new(m)
    }

    /// A scanning error near the text buffered so far (or `<eof>`).
    fn error_scan(&self, msg: &str, at_eof: bool) -> SyntaxError {
        let mut m = format!("{}:{}: {} near '", self.chunk, self.line, msg).into_bytes();
        if at_eof {
            m.extend_from_slice(b"<eof>");
        } else {
            m.extend_from_slice(&self.buf);
        }
        m.push(b'\'');
        SyntaxError::new(m)
    }

    /// Advances to the next token.
    pub fn next_token(&mut self) -> Result<(), SyntaxError> {
        self.lastline = self.line;
        if let Some((t, text, line)) = self.ahead.take() {
            self.tok = t;
            self.tok_text = text;
            self.tok_line = line;
            return Ok(());
        }
        let t = self.scan()?;
        self.tok = t;
        self.tok_text = std::mem::take(&mut self.buf);
        self.tok_line = self.line;
        Ok(())
    }

    /// Peeks at the token after the current one.
    pub fn lookahead(&mut self) -> Result<&Tok, SyntaxError> {
        if self.ahead.is_none() {
            let t = self.scan()?;
            let text = std::mem::take(&mut self.buf);
            self.ahead = Some((t, text, self.line));
        }
        match &self.ahead {
            Some((t, _, _)) => Ok(t),
            None => Ok(&Tok::Eof),
        }
    }

    fn scan(&mut self) -> Result<Tok, SyntaxError> {
        self.buf.clear();
        loop {
            let c = self.peek(0);
            if c < 0 {
                return Ok(Tok::Eof);
            }
            let b = c as u8;
            match b {
                b'\n' | b'\r' => self.newline(),
                b' ' | b'\t' | 0x0b | 0x0c => self.bump(),
                b'-' => {
                    if self.peek(1) != b'-' as i32 {
                        self.bump();
                        return Ok(Tok::Char(b'-'));
                    }
                    self.skip(2);
                    if self.peek(0) == b'[' as i32 {
                        let level = self.skip_sep();
                        self.buf.clear();
                        if level >= 0 {
                            self.long_string(level as usize, false)?;
                            self.buf.clear();
                            continue;
                        }
                    }
                    while self.peek(0) >= 0 && !Self::is_eol(self.peek(0)) {
                        self.bump();
                    }
                }
                b'[' => {
                    let level = self.skip_sep();
                    if level >= 0 {
                        let s = self.long_string(level as usize, true)?;
                        return Ok(Tok::Str(s.into_boxed_slice()));
                    } else if level == -1 {
                        return Ok(Tok::Char(b'['));
                    } else {
                        return Err(self.error_scan("invalid long string delimiter", false));
                    }
                }
                b'=' => return Ok(self.two(b'=', Tok::Eq, Tok::Char(b'='))),
                b'<' => return Ok(self.two(b'=', Tok::Le, Tok::Char(b'<'))),
                b'>' => return Ok(self.two(b'=', Tok::Ge, Tok::Char(b'>'))),
                b'~' => return Ok(self.two(b'=', Tok::Ne, Tok::Char(b'~'))),
                b':' => return Ok(self.two(b':', Tok::DbColon, Tok::Char(b':'))),
                b'"' | b'\'' => return self.string(b),
                b'.' => {
                    if self.peek(1) == b'.' as i32 {
                        if self.peek(2) == b'.' as i32 {
                            self.skip(3);
                            return Ok(Tok::Dots);
                        }
                        self.skip(2);
                        return Ok(Tok::Concat);
                    }
                    if self.peek(1) >= 0 && (self.peek(1) as u8).is_ascii_digit() {
                        return self.number();
                    }
                    self.bump();
                    return Ok(Tok::Char(b'.'));
                }
                b'0'..=b'9' => return self.number(),
                _ if is_ident(c) => {
                    while is_ident(self.peek(0)) {
                        self.save_bump();
                    }
                    for (name, t) in KEYWORDS {
                        if *name == &self.buf[..] {
                            return Ok(t.clone());
                        }
                    }
                    return Ok(Tok::Name(self.buf.clone().into_boxed_slice()));
                }
                _ => {
                    self.bump();
                    return Ok(Tok::Char(b));
                }
            }
        }
    }

    fn two(&mut self, second: u8, yes: Tok, no: Tok) -> Tok {
        self.bump();
        if self.peek(0) == second as i32 {
            self.bump();
            yes
        } else {
            no
        }
    }

    /// At `[` or `]`: counts `=` signs. Returns the level if the bracket repeats, -1 for a
    /// lone bracket, and -2 - n for a bracket with n `=` not followed by the bracket.
    /// Saves the scanned characters in `buf`.
    fn skip_sep(&mut self) -> i64 {
        let s = self.peek(0);
        self.save_bump();
        let mut count: i64 = 0;
        while self.peek(0) == b'=' as i32 {
            self.save_bump();
            count += 1;
        }
        if self.peek(0) == s {
            count
        } else {
            -count - 1
        }
    }

    /// Scans a long string or comment body; the opening bracket has been consumed up to
    /// the second `[`.
    fn long_string(&mut self, level: usize, is_string: bool) -> Result<Vec<u8>, SyntaxError> {
        self.save_bump(); // second '['
        if Self::is_eol(self.peek(0)) {
            self.newline();
        }
        loop {
            let c = self.peek(0);
            if c < 0 {
                let msg = if is_string { "unfinished long string" } else { "unfinished long comment" };
                return Err(self.error_scan(msg, true));
            }
            match c as u8 {
                b']' => {
                    let start = self.buf.len();
                    if self.skip_sep() == level as i64 {
                        self.save_bump();
                        if !is_string {
                            return Ok(Vec::new());
                        }
                        let open = level + 2;
                        let close = level + 2;
                        let n = self.buf.len();
                        let body = self.buf.get(open..n.saturating_sub(close)).unwrap_or(&[]).to_vec();
                        return Ok(body);
                    }
                    if !is_string {
                        self.buf.truncate(start);
                    }
                }
                b'\n' | b'\r' => {
                    self.buf.push(b'\n');
                    self.newline();
                    if !is_string {
                        self.buf.clear();
                    }
                }
                _ => {
                    if is_string {
                        self.save_bump();
                    } else {
                        self.bump();
                    }
                }
            }
        }
    }

    fn string(&mut self, delim: u8) -> Result<Tok, SyntaxError> {
        self.save_bump();
        let mut val: Vec<u8> = Vec::new();
        loop {
            let c = self.peek(0);
            if c < 0 {
                return Err(self.error_scan("unfinished string", true));
            }
            let b = c as u8;
            if b == delim {
                self.save_bump();
                return Ok(Tok::Str(val.into_boxed_slice()));
            }
            match b {
                b'\n' | b'\r' => return Err(self.error_scan("unfinished string", false)),
                b'\\' => {
                    let e = self.peek(1);
                    let esc_err = |lx: &Self| lx.error_scan("invalid escape sequence", false);
                    if e < 0 {
                        // Backslash at end of input.
                        self.bump();
                        return Err(self.error_scan("unfinished string", true));
                    }
                    let simple = match e as u8 {
                        b'a' => Some(7u8),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'v' => Some(11),
                        b'\\' => Some(b'\\'),
                        b'"' => Some(b'"'),
                        b'\'' => Some(b'\''),
                        _ => None,
                    };
                    if let Some(v) = simple {
                        self.skip(2);
                        self.push_val(&mut val, &[v]);
                        continue;
                    }
                    match e as u8 {
                        b'\n' | b'\r' => {
                            self.bump();
                            self.newline();
                            self.push_val(&mut val, b"\n");
                        }
                        b'x' => {
                            let h1 = hex_val(self.peek(2));
                            let h2 = hex_val(self.peek(3));
                            match (h1, h2) {
                                (Some(a), Some(b)) => {
                                    self.skip(4);
                                    self.push_val(&mut val, &[(a * 16 + b) as u8]);
                                }
                                _ => return Err(esc_err(self)),
                            }
                        }
                        b'z' => {
                            self.skip(2);
                            while is_space(self.peek(0)) {
                                if Self::is_eol(self.peek(0)) {
                                    self.newline();
                                } else {
                                    self.bump();
                                }
                            }
                        }
                        b'u' => {
                            if self.peek(2) != b'{' as i32 {
                                return Err(esc_err(self));
                            }
                            let mut k = 3;
                            let mut cp: u32 = 0;
                            let mut any = false;
                            while let Some(h) = hex_val(self.peek(k)) {
                                cp = cp * 16 + h;
                                if cp >= 0x110000 {
                                    return Err(esc_err(self));
                                }
                                any = true;
                                k += 1;
                            }
                            if !any || self.peek(k) != b'}' as i32 {
                                return Err(esc_err(self));
                            }
                            self.skip(k + 1);
                            let mut tmp = Vec::new();
                            utf8_encode(cp, &mut tmp);
                            self.push_val(&mut val, &tmp);
                        }
                        b'0'..=b'9' => {
                            let mut k = 1;
                            let mut v: u32 = 0;
                            while k <= 3 && self.peek(k) >= b'0' as i32 && self.peek(k) <= b'9' as i32 {
                                v = v * 10 + (self.peek(k) - b'0' as i32) as u32;
                                k += 1;
                            }
                            if v > 255 {
                                return Err(esc_err(self));
                            }
                            self.skip(k);
                            self.push_val(&mut val, &[v as u8]);
                        }
                        _ => return Err(esc_err(self)),
                    }
                }
                _ => {
                    self.save_bump();
                    val.push(b);
                }
            }
        }
    }

    fn push_val(&mut self, val: &mut Vec<u8>, bytes: &[u8]) {
        val.extend_from_slice(bytes);
        self.buf.extend_from_slice(bytes);
    }

    fn number(&mut self) -> Result<Tok, SyntaxError> {
        let first = self.peek(0);
        let second = self.peek(1);
        let xp = if first == b'0' as i32 && (second == b'x' as i32 || second == b'X' as i32) { b'p' } else { b'e' };
        let mut prev: i32 = -1;
        loop {
            let c = self.peek(0);
            let sign_ok = (c == b'-' as i32 || c == b'+' as i32) && prev >= 0 && (prev as u8 | 0x20) == xp;
            if is_ident(c) || c == b'.' as i32 || sign_ok {
                prev = c;
                self.save_bump();
            } else {
                break;
            }
        }
        if let Some(v) = parse_number(&self.buf) {
            return Ok(Tok::Num(v));
        }
        use crate::compiler::proto::CConst;
        use crate::number::Numeral;
        match crate::number::parse_lua_numeral(&self.buf) {
            Some(Numeral::Int64(i)) => Ok(Tok::CData(CConst::Int64(i))),
            Some(Numeral::UInt64(u)) => Ok(Tok::CData(CConst::UInt64(u))),
            Some(Numeral::Imag(x)) => Ok(Tok::CData(CConst::Complex(0.0, x))),
            Some(Numeral::Num(v)) => Ok(Tok::Num(v)),
            None => Err(self.error_scan("malformed number", false)),
        }
    }
}

fn hex_val(c: i32) -> Option<u32> {
    if c < 0 {
        return None;
    }
    (c as u8 as char).to_digit(16)
}

/// Encodes a code point (< 0x110000; surrogates allowed, as LuaJIT) as UTF-8.
pub fn utf8_encode(cp: u32, out: &mut Vec<u8>) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.push(0xc0 | (cp >> 6) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    } else if cp < 0x10000 {
        out.push(0xe0 | (cp >> 12) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    } else {
        out.push(0xf0 | ((cp >> 18) & 0x07) as u8);
        out.push(0x80 | ((cp >> 12) & 0x3f) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
        out.push(0x80 | (cp & 0x3f) as u8);
    }
}

/// Converts a Lua numeric literal (no sign, no surrounding spaces) to a double.
/// `None` if the text is not a well-formed decimal or hexadecimal number.
pub fn parse_number(s: &[u8]) -> Option<f64> {
    if s.len() >= 2 && s[0] == b'0' && (s[1] | 0x20) == b'x' {
        return parse_hex(&s[2..]);
    }
    // Decimal: digits [. digits] [e [+-] digits], at least one mantissa digit.
    let mut i = 0;
    let mut digits = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'e' {
        i += 1;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != s.len() {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

fn parse_hex(s: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut i = 0;
    let mut seen_dot = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' {
            if seen_dot {
                return None;
            }
            seen_dot = true;
            i += 1;
            continue;
        }
        let Some(h) = (c as char).to_digit(16) else { break };
        digits += 1;
        if mant >> 60 == 0 {
            mant = mant << 4 | h as u64;
            if seen_dot {
                exp -= 4;
            }
        } else {
            if h != 0 {
                sticky = true;
            }
            if !seen_dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        i += 1;
        let mut neg = false;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            neg = s[i] == b'-';
            i += 1;
        }
        let start = i;
        let mut e: i64 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            e = (e * 10 + (s[i] - b'0') as i64).min(1 << 20);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if neg { -e } else { e };
    }
    if i != s.len() {
        return None;
    }
    if sticky {
        mant |= 1;
    }
    Some(ldexp(mant as f64, exp))
}
