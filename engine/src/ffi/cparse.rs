//! The C declaration parser behind `ffi.cdef` and the type strings of
//! `ffi.typeof`/`new`/`cast`/`sizeof`.
//!
//! Like LuaJIT's, this is not a validating C parser: it accepts what C header
//! declarations need (and some nonsense), builds types in the [`CTState`] as it
//! goes, and reports errors with LuaJIT's wording ("'}' expected near ';'").
//! A failed parse drops every type it created.
//!
//! Bounds: declarators and constant expressions nest at most 20 deep (LuaJIT's
//! limit), struct/union bodies at most [`MAX_STRUCT_DEPTH`] deep (LuaJIT has no
//! limit there and overflows its C stack), a declaration at most 100 elements.

use std::fmt;

use super::ctype::{
    Attr, CTState, CTypeId, CallConv, Info, Kind, KindNum, Kw, Mark, NumFlags, Qual, NS_DEFAULT, NS_STRUCT,
    SIZE_INVALID,
};
use super::layout::{fls, layout_struct, DeclAttr, PendingField, PendingKind};

/// Maximum nesting of declarators and expression terms (LuaJIT's `CPARSE_MAX_DECLDEPTH`).
const MAX_DECL_DEPTH: u32 = 20;
/// Maximum elements of one declaration (LuaJIT's `CPARSE_MAX_DECLSTACK`).
const MAX_DECL_STACK: usize = 100;
/// Maximum nesting of struct/union/enum bodies.
pub const MAX_STRUCT_DEPTH: u32 = 100;
/// Depth of the `#pragma pack(push)` stack.
const MAX_PACK_STACK: usize = 7;

const MODE_MULTI: u32 = 1;
const MODE_ABSTRACT: u32 = 2;
const MODE_DIRECT: u32 = 4;
const MODE_FIELD: u32 = 8;
const MODE_NOIMPLICIT: u32 = 16;
const MODE_SKIP: u32 = 32;

/// A value for a `$` placeholder in a declaration or type string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// A ctype (or the type of a cdata): substituted as a type name. An id that is
    /// not a type in the table gives [`CParseError::BadParam`].
    Type(CTypeId),
    /// A number: substituted as an integer literal. The caller converts the Lua
    /// number as LuaJIT does (truncation; out of range gives `i32::MIN` on x86-64).
    Int(i32),
    /// A string: substituted as an identifier (a name, not looked up).
    Name(Vec<u8>),
    /// Anything else: an error ("type parameter expected") once the `$` is reached.
    Bad,
}

/// A failed parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CParseError {
    /// LuaJIT's message text, e.g. `'}' expected near ';' at line 3` (the caller adds
    /// the Lua position prefix).
    Msg(Vec<u8>),
    /// The `$` placeholder at this index (0-based among the parameters) got a value
    /// that is not a ctype, cdata, number or string: the caller raises LuaJIT's
    /// `bad argument #n to 'f' (type parameter expected, got ...)`.
    BadParam(usize),
}

impl CParseError {
    /// The message bytes (for `BadParam`, a generic text).
    pub fn message(&self) -> Vec<u8> {
        match self {
            CParseError::Msg(m) => m.clone(),
            CParseError::BadParam(i) => format!("bad type parameter #{}", i + 1).into_bytes(),
        }
    }
}

impl fmt::Display for CParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message()))
    }
}

impl std::error::Error for CParseError {}

type PResult<T> = Result<T, CParseError>;

impl CTState {
    /// `ffi.cdef(src, ...)`: declares types, functions, externs and constants.
    /// On error nothing declared by `src` remains.
    pub fn cdef(&mut self, src: &[u8], params: &[Param]) -> Result<(), CParseError> {
        self.run_parser(src, params, MODE_MULTI | MODE_DIRECT).map(|_| ())
    }

    /// The type named by an abstract declarator (`"struct foo *"`, `"int[?]"`), as
    /// `ffi.typeof(src, ...)` and the other functions taking a C type string parse
    /// it. Struct/union/enum tags must already exist (or be defined inline).
    pub fn parse_type(&mut self, src: &[u8], params: &[Param]) -> Result<CTypeId, CParseError> {
        self.run_parser(src, params, MODE_ABSTRACT | MODE_NOIMPLICIT)
    }

    fn run_parser(&mut self, src: &[u8], params: &[Param], mode: u32) -> PResult<CTypeId> {
        let mark = self.mark();
        let (r, mark) = {
            let mut cp = Parser::new(self, src, params, mode, mark);
            let r = cp.run();
            (r, cp.mark)
        };
        if r.is_err() {
            self.restore(mark);
        }
        r
    }
}

/// A token. Single characters stand for themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    /// Before the first token.
    Start,
    Char(u8),
    Ident,
    Str,
    Integer,
    Eof,
    OrOr,
    AndAnd,
    Eq,
    Ne,
    Le,
    Ge,
    Shl,
    Shr,
    Deref,
    Kw(Kw),
    /// `$` replaced by a ctype.
    TypeParam,
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn is_cntrl(c: u8) -> bool {
    c < 32 || c == 127
}

fn tok_text(t: Tok) -> Vec<u8> {
    match t {
        Tok::Ident => b"<identifier>".to_vec(),
        Tok::Str => b"<string>".to_vec(),
        Tok::Integer => b"<integer>".to_vec(),
        Tok::Eof | Tok::Start => b"<eof>".to_vec(),
        Tok::OrOr => b"||".to_vec(),
        Tok::AndAnd => b"&&".to_vec(),
        Tok::Eq => b"==".to_vec(),
        Tok::Ne => b"!=".to_vec(),
        Tok::Le => b"<=".to_vec(),
        Tok::Ge => b">=".to_vec(),
        Tok::Shl => b"<<".to_vec(),
        Tok::Shr => b">>".to_vec(),
        Tok::Deref => b"->".to_vec(),
        Tok::TypeParam => b"$".to_vec(),
        Tok::Char(c) => {
            if is_cntrl(c) {
                format!("char({c})").into_bytes()
            } else {
                vec![c]
            }
        }
        Tok::Kw(_) => b"?".to_vec(),
    }
}

/// An integer constant expression's value and type.
#[derive(Clone, Copy, Debug, Default)]
struct KVal {
    u: u32,
    id: CTypeId,
}

impl KVal {
    fn i(self) -> i32 {
        self.u as i32
    }
}

/// One element of a declaration being built (LuaJIT's declaration stack).
#[derive(Clone, Copy, Debug)]
struct DeclEl {
    info: Info,
    size: u32,
    /// For functions: the first parameter.
    params: CTypeId,
    /// An array copied from an existing type: already checked and sized.
    checked: bool,
    next: usize,
}

/// Function attributes collected before the function's parameter list.
#[derive(Clone, Copy, Debug, Default)]
struct FuncAttr {
    cconv: Option<CallConv>,
}

/// A declaration in progress: the chain of type elements from the base type
/// outwards, plus the declared name and attributes.
#[derive(Clone, Debug, Default)]
struct Decl {
    stack: Vec<DeclEl>,
    pos: usize,
    specpos: usize,
    mode: u32,
    name: Option<Vec<u8>>,
    redir: Option<Vec<u8>>,
    nameid: CTypeId,
    attr: DeclAttr,
    fattr: FuncAttr,
    specattr: DeclAttr,
    specfattr: FuncAttr,
    bits: Option<u32>,
}

struct Parser<'a> {
    cts: &'a mut CTState,
    src: &'a [u8],
    p: usize,
    c: u8,
    line: u32,
    tok: Tok,
    /// Text of the current token (identifier, number, string contents).
    sb: Vec<u8>,
    /// The identifier or string of the current token.
    name: Vec<u8>,
    val: KVal,
    /// The named entry the current identifier resolved to (NONE if none).
    tok_ct: CTypeId,
    tmask: u32,
    params: &'a [Param],
    nparam: usize,
    mode: u32,
    depth: u32,
    struct_depth: u32,
    packstack: [u8; MAX_PACK_STACK],
    curpack: usize,
    mark: Mark,
}

impl<'a> Parser<'a> {
    fn new(cts: &'a mut CTState, src: &'a [u8], params: &'a [Param], mode: u32, mark: Mark) -> Parser<'a> {
        Parser {
            cts,
            src,
            p: 0,
            c: 0,
            line: 1,
            tok: Tok::Start,
            sb: Vec::new(),
            name: Vec::new(),
            val: KVal::default(),
            tok_ct: CTypeId::NONE,
            tmask: NS_DEFAULT,
            params,
            nparam: 0,
            mode,
            depth: 0,
            struct_depth: 0,
            packstack: [255; MAX_PACK_STACK],
            curpack: 0,
            mark,
        }
    }

    fn run(&mut self) -> PResult<CTypeId> {
        self.get();
        self.next()?;
        let id = if self.mode & MODE_MULTI != 0 {
            self.decl_multi()?;
            CTypeId::NONE
        } else {
            self.decl_single()?
        };
        if self.nparam != self.params.len() {
            return Err(self.err("wrong number of type parameters"));
        }
        Ok(id)
    }

    // -- Errors ------------------------------------------------------------

    /// LuaJIT's `cp_errmsg`: `msg`, then ` near 'tok'` when a token is given, then
    /// ` at line N` past the first line.
    fn errmsg(&self, tok: Option<Tok>, msg: &[u8]) -> CParseError {
        let mut m = msg.to_vec();
        if let Some(t) = tok {
            let text = match t {
                Tok::Ident | Tok::Integer | Tok::Str | Tok::Kw(_) => {
                    if self.sb.is_empty() {
                        b"$".to_vec()
                    } else {
                        // The C string ends at an embedded NUL.
                        let end = self.sb.iter().position(|&b| b == 0).unwrap_or(self.sb.len());
                        self.sb[..end].to_vec()
                    }
                }
                t => tok_text(t),
            };
            m.extend_from_slice(b" near '");
            m.extend_from_slice(&text);
            m.push(b'\'');
        }
        if self.line > 1 {
            m.extend_from_slice(format!(" at line {}", self.line).as_bytes());
        }
        CParseError::Msg(m)
    }

    fn err(&self, msg: &str) -> CParseError {
        self.errmsg(None, msg.as_bytes())
    }

    /// `'x' expected near <current token>`.
    fn err_token(&self, expected: Tok) -> CParseError {
        let mut m = b"'".to_vec();
        m.extend(tok_text(expected));
        m.extend_from_slice(b"' expected");
        self.errmsg(Some(self.tok), &m)
    }

    fn err_badidx(&self, id: CTypeId) -> CParseError {
        let mut m = b"'".to_vec();
        m.extend(self.cts.repr(id));
        m.extend_from_slice(b"' cannot be indexed");
        self.errmsg(None, &m)
    }

    fn err_redef(&self, name: &[u8]) -> CParseError {
        let mut m = b"attempt to redefine '".to_vec();
        m.extend_from_slice(name);
        m.push(b'\'');
        self.errmsg(None, &m)
    }

    fn tab_err(&self, e: &'static str) -> CParseError {
        CParseError::Msg(e.as_bytes().to_vec())
    }

    // -- Lexer -------------------------------------------------------------

    fn raw_peek(&self) -> u8 {
        self.src.get(self.p).copied().unwrap_or(0)
    }

    /// Reads the next character (0 at the end); skips backslash-newlines.
    fn get(&mut self) -> u8 {
        loop {
            self.c = self.raw_peek();
            if self.p < self.src.len() {
                self.p += 1;
            }
            if self.c != b'\\' {
                return self.c;
            }
            let c = self.raw_peek();
            if c != b'\n' && c != b'\r' {
                return self.c;
            }
            self.p += 1;
            let c2 = self.raw_peek();
            if (c2 == b'\n' || c2 == b'\r') && c2 != c {
                self.p += 1;
            }
            self.line = self.line.saturating_add(1);
        }
    }

    fn newline(&mut self) {
        let c = self.raw_peek();
        if (c == b'\n' || c == b'\r') && c != self.c {
            self.p += 1;
        }
        self.line = self.line.saturating_add(1);
    }

    fn next(&mut self) -> PResult<Tok> {
        let t = self.next_tok()?;
        self.tok = t;
        Ok(t)
    }

    fn next_tok(&mut self) -> PResult<Tok> {
        self.sb.clear();
        loop {
            let c = self.c;
            if is_ident_char(c) {
                return if c.is_ascii_digit() { self.number() } else { Ok(self.ident()) };
            }
            match c {
                b'\n' | b'\r' => {
                    self.newline();
                    self.get();
                }
                b' ' | b'\t' | 0x0b | 0x0c => {
                    self.get();
                }
                b'"' | b'\'' => return self.string(),
                b'/' => {
                    if self.get() == b'*' {
                        self.comment_c();
                    } else if self.c == b'/' {
                        self.comment_cpp();
                    } else {
                        return Ok(Tok::Char(b'/'));
                    }
                }
                b'|' => return Ok(self.two(b'|', Tok::OrOr, b'|')),
                b'&' => return Ok(self.two(b'&', Tok::AndAnd, b'&')),
                b'=' => return Ok(self.two(b'=', Tok::Eq, b'=')),
                b'!' => return Ok(self.two(b'=', Tok::Ne, b'!')),
                b'<' => {
                    if self.get() == b'=' {
                        self.get();
                        return Ok(Tok::Le);
                    } else if self.c == b'<' {
                        self.get();
                        return Ok(Tok::Shl);
                    }
                    return Ok(Tok::Char(b'<'));
                }
                b'>' => {
                    if self.get() == b'=' {
                        self.get();
                        return Ok(Tok::Ge);
                    } else if self.c == b'>' {
                        self.get();
                        return Ok(Tok::Shr);
                    }
                    return Ok(Tok::Char(b'>'));
                }
                b'-' => return Ok(self.two(b'>', Tok::Deref, b'-')),
                b'$' => return self.param(),
                0 => return Ok(Tok::Eof),
                _ => {
                    self.get();
                    return Ok(Tok::Char(c));
                }
            }
        }
    }

    /// `c` followed by `second` is `both`; otherwise the single character `single`.
    fn two(&mut self, second: u8, both: Tok, single: u8) -> Tok {
        if self.get() != second {
            return Tok::Char(single);
        }
        self.get();
        both
    }

    fn comment_c(&mut self) {
        loop {
            if self.get() == b'*' {
                loop {
                    if self.get() == b'/' {
                        self.get();
                        return;
                    }
                    if self.c != b'*' {
                        break;
                    }
                }
            }
            if self.c == b'\n' || self.c == b'\r' {
                self.newline();
            }
            if self.c == 0 {
                return;
            }
        }
    }

    fn comment_cpp(&mut self) {
        loop {
            let c = self.get();
            if c == b'\n' || c == b'\r' || c == 0 {
                return;
            }
        }
    }

    fn number(&mut self) -> PResult<Tok> {
        loop {
            self.sb.push(self.c);
            if !is_ident_char(self.get()) {
                break;
            }
        }
        match scan_c_int(&self.sb) {
            Some((v, unsigned)) => {
                self.val = KVal { u: v, id: if unsigned { CTypeId::UINT32 } else { CTypeId::INT32 } };
            }
            None => {
                if self.mode & MODE_SKIP == 0 {
                    return Err(self.errmsg(Some(Tok::Integer), b"malformed number"));
                }
                self.val = KVal { u: 0, id: CTypeId::INT32 };
            }
        }
        Ok(Tok::Integer)
    }

    fn ident(&mut self) -> Tok {
        loop {
            self.sb.push(self.c);
            if !is_ident_char(self.get()) {
                break;
            }
        }
        self.name.clear();
        self.name.extend_from_slice(&self.sb);
        let found = self.cts.get_name(&self.name, self.tmask);
        self.tok_ct = found.unwrap_or(CTypeId::NONE);
        self.val.id = self.tok_ct;
        if let Kind::Keyword { kw } = self.cts.info(self.tok_ct).kind {
            if found.is_some() {
                return Tok::Kw(kw);
            }
        }
        Tok::Ident
    }

    fn param(&mut self) -> PResult<Tok> {
        let c = self.get();
        if is_ident_char(c) || c == b'$' {
            return Err(self.errmsg(Some(Tok::Char(c)), b"syntax error"));
        }
        let Some(p) = self.params.get(self.nparam) else {
            return Err(self.err("wrong number of type parameters"));
        };
        let idx = self.nparam;
        self.nparam += 1;
        match p {
            Param::Name(s) => {
                self.name.clear();
                self.name.extend_from_slice(s);
                self.val.id = CTypeId::NONE;
                self.tok_ct = CTypeId::NONE;
                Ok(Tok::Ident)
            }
            Param::Int(i) => {
                self.val = KVal { u: *i as u32, id: CTypeId::INT32 };
                Ok(Tok::Integer)
            }
            Param::Type(id) => {
                // Only what a ctype or cdata can carry: a type, not a name or element.
                let is_type = (KindNum::Num as u8..=KindNum::Func as u8)
                    .contains(&(self.cts.info(*id).kind.num() as u8))
                    || self.cts.info(*id).is_attrib();
                if id.index() >= self.cts.len() || *id == CTypeId::NONE || !is_type {
                    return Err(CParseError::BadParam(idx));
                }
                self.val.id = *id;
                Ok(Tok::TypeParam)
            }
            Param::Bad => Err(CParseError::BadParam(idx)),
        }
    }

    fn string(&mut self) -> PResult<Tok> {
        let delim = self.c;
        self.get();
        while self.c != delim {
            let mut c = self.c;
            if c == 0 {
                return Err(self.errmsg(Some(Tok::Eof), b"unfinished string"));
            }
            if c == b'\\' {
                c = self.get();
                match c {
                    0 => return Err(self.errmsg(Some(Tok::Eof), b"unfinished string")),
                    b'a' => c = 7,
                    b'b' => c = 8,
                    b'f' => c = 12,
                    b'n' => c = b'\n',
                    b'r' => c = b'\r',
                    b't' => c = b'\t',
                    b'v' => c = 11,
                    b'e' => c = 27,
                    b'x' => {
                        let mut v: u32 = 0;
                        while self.get().is_ascii_hexdigit() {
                            let d = self.c;
                            let dv = if d.is_ascii_digit() { d - b'0' } else { (d & 15) + 9 };
                            v = (v << 4).wrapping_add(u32::from(dv));
                        }
                        self.sb.push(v as u8);
                        continue;
                    }
                    d if d.is_ascii_digit() => {
                        let mut v = u32::from(d - b'0');
                        if self.get().is_ascii_digit() {
                            v = v * 8 + u32::from(self.c - b'0');
                            if self.get().is_ascii_digit() {
                                v = v * 8 + u32::from(self.c - b'0');
                                self.get();
                            }
                        }
                        self.sb.push(v as u8);
                        continue;
                    }
                    _ => {}
                }
            }
            self.sb.push(c);
            self.get();
        }
        self.get();
        if delim == b'"' {
            self.name.clear();
            self.name.extend_from_slice(&self.sb);
            Ok(Tok::Str)
        } else {
            if self.sb.len() != 1 {
                return Err(self.err_token(Tok::Char(b'\'')));
            }
            let b = self.sb.first().copied().unwrap_or(0);
            let v = if self.cts.target().char_unsigned { u32::from(b) } else { (b as i8) as i32 as u32 };
            self.val = KVal { u: v, id: CTypeId::INT32 };
            Ok(Tok::Integer)
        }
    }

    // -- Token helpers -----------------------------------------------------

    fn opt(&mut self, t: Tok) -> PResult<bool> {
        if self.tok == t {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn check(&mut self, t: Tok) -> PResult<()> {
        if self.tok != t {
            return Err(self.err_token(t));
        }
        self.next()?;
        Ok(())
    }

    fn is_typedecl(&self) -> bool {
        match self.tok {
            Tok::Kw(kw) => kw.is_typedecl(),
            Tok::Ident => self.cts.info(self.tok_ct).is_typedef(),
            Tok::TypeParam => true,
            _ => false,
        }
    }

    fn ch(c: u8) -> Tok {
        Tok::Char(c)
    }

    // -- Constant expressions ----------------------------------------------

    fn expr_comma(&mut self) -> PResult<KVal> {
        loop {
            let k = self.expr_sub(0)?;
            if !self.opt(Self::ch(b','))? {
                return Ok(k);
            }
        }
    }

    fn expr_sizeof(&mut self, wantsz: bool) -> PResult<KVal> {
        let mut k;
        if self.opt(Self::ch(b'('))? {
            if self.is_typedecl() {
                k = KVal { u: 0, id: self.decl_abstract()? };
            } else {
                k = self.expr_comma()?;
            }
            self.check(Self::ch(b')'))?;
        } else {
            k = self.expr_unary()?;
        }
        let (info, sz) = self.cts.type_info_raw(k.id);
        if wantsz {
            if sz != SIZE_INVALID {
                k.u = sz;
            } else if k.id != CTypeId::A_CCHAR {
                return Err(self.err("size of C type is unknown or too large"));
            }
        } else {
            k.u = 1u32 << info.align.min(31);
        }
        k.id = CTypeId::UINT32;
        Ok(k)
    }

    fn expr_prefix(&mut self) -> PResult<KVal> {
        let mut k;
        if self.tok == Tok::Integer {
            k = self.val;
            self.next()?;
        } else if self.opt(Self::ch(b'+'))? {
            k = self.expr_unary()?;
        } else if self.opt(Self::ch(b'-'))? {
            k = self.expr_unary()?;
            k.u = k.u.wrapping_neg();
        } else if self.opt(Self::ch(b'~'))? {
            k = self.expr_unary()?;
            k.u = !k.u;
        } else if self.opt(Self::ch(b'!'))? {
            k = self.expr_unary()?;
            k.u = (k.u == 0) as u32;
            k.id = CTypeId::INT32;
        } else if self.opt(Self::ch(b'('))? {
            if self.is_typedecl() {
                let id = self.decl_abstract()?;
                self.check(Self::ch(b')'))?;
                k = self.expr_unary()?;
                k.id = id;
            } else {
                k = self.expr_comma()?;
                self.check(Self::ch(b')'))?;
            }
        } else if self.opt(Self::ch(b'*'))? {
            k = self.expr_unary()?;
            let ct = self.cts.raw_ref(k.id);
            if !self.cts.info(ct).is_pointer() {
                return Err(self.err_badidx(ct));
            }
            k.u = 0;
            k.id = self.cts.info(ct).child().unwrap_or(CTypeId::NONE);
        } else if self.opt(Self::ch(b'&'))? {
            k = self.expr_unary()?;
            let info = Info::new(Kind::Ptr { to: k.id, reference: false }).with_align(self.cts.target().ptr_align());
            let psz = self.cts.target().ptr_size;
            k.id = self.cts.intern(info, psz).map_err(|e| self.tab_err(e))?;
        } else if self.opt(Tok::Kw(Kw::Sizeof))? {
            k = self.expr_sizeof(true)?;
        } else if self.opt(Tok::Kw(Kw::Alignof))? {
            k = self.expr_sizeof(false)?;
        } else if self.tok == Tok::Ident {
            let ct = self.cts.get(self.tok_ct);
            k = match ct.info.kind {
                Kind::ConstVal { ty } => KVal { u: ct.size, id: ty },
                Kind::Extern { ty } => KVal { u: self.val.id.0, id: ty },
                Kind::Func { .. } => KVal { u: self.val.id.0, id: self.val.id },
                _ => return Err(self.errmsg(Some(self.tok), b"unexpected symbol")),
            };
            self.next()?;
        } else if self.tok == Tok::Str {
            let mut sz = self.name.len() as u32;
            while self.next()? == Tok::Str {
                sz = sz.wrapping_add(self.name.len() as u32);
            }
            k = KVal { u: sz.wrapping_add(1), id: CTypeId::A_CCHAR };
        } else {
            return Err(self.errmsg(Some(self.tok), b"unexpected symbol"));
        }
        Ok(k)
    }

    fn expr_postfix(&mut self, mut k: KVal) -> PResult<KVal> {
        loop {
            let ct;
            if self.opt(Self::ch(b'['))? {
                let k2 = self.expr_comma()?;
                let mut c = self.cts.raw_ref(k.id);
                if !self.cts.info(c).is_pointer() {
                    c = self.cts.raw_ref(k2.id);
                    if !self.cts.info(c).is_pointer() {
                        return Err(self.err_badidx(c));
                    }
                }
                self.check(Self::ch(b']'))?;
                k.u = 0;
                ct = c;
            } else if self.tok == Self::ch(b'.') || self.tok == Tok::Deref {
                let mut c = self.cts.raw_ref(k.id);
                if self.tok == Tok::Deref {
                    if !self.cts.info(c).is_pointer() {
                        return Err(self.err_badidx(c));
                    }
                    c = self.cts.raw_ref(self.cts.info(c).child().unwrap_or(CTypeId::NONE));
                }
                self.next()?;
                if self.tok != Tok::Ident {
                    return Err(self.err_token(Tok::Ident));
                }
                let st = self.cts.get(c);
                let field = if st.info.is_struct() && st.size != SIZE_INVALID {
                    self.cts.get_field(c, &self.name).filter(|&(f, _, _)| !self.cts.info(f).is_bitfield())
                } else {
                    None
                };
                let Some((fid, _, _)) = field else {
                    let mut m = b"'".to_vec();
                    m.extend(self.cts.repr(c));
                    m.extend_from_slice(b"' has no member named '");
                    m.extend_from_slice(&self.name);
                    m.push(b'\'');
                    return Err(self.errmsg(None, &m));
                };
                let f = self.cts.get(fid);
                k.u = if f.info.is_constval() { f.size } else { 0 };
                self.next()?;
                ct = fid;
            } else {
                return Ok(k);
            }
            k.id = self.cts.info(ct).child().unwrap_or(CTypeId::NONE);
        }
    }

    fn expr_infix(&mut self, mut k: KVal, pri: u32) -> PResult<KVal> {
        let ch = Self::ch;
        loop {
            if pri == 0 && self.opt(ch(b'?'))? {
                let k2 = self.expr_comma()?;
                self.check(ch(b':'))?;
                let k3 = self.expr_sub(0)?;
                k.u = if k.u != 0 { k2.u } else { k3.u };
                k.id = k2.id.max(k3.id);
                continue;
            }
            if pri <= 1 && self.opt(Tok::OrOr)? {
                let k2 = self.expr_sub(2)?;
                k = KVal { u: (k.u != 0 || k2.u != 0) as u32, id: CTypeId::INT32 };
                continue;
            }
            if pri <= 2 && self.opt(Tok::AndAnd)? {
                let k2 = self.expr_sub(3)?;
                k = KVal { u: (k.u != 0 && k2.u != 0) as u32, id: CTypeId::INT32 };
                continue;
            }
            if pri <= 3 && self.opt(ch(b'|'))? {
                let k2 = self.expr_sub(4)?;
                k.u |= k2.u;
                k.id = k.id.max(k2.id);
                continue;
            }
            if pri <= 4 && self.opt(ch(b'^'))? {
                let k2 = self.expr_sub(5)?;
                k.u ^= k2.u;
                k.id = k.id.max(k2.id);
                continue;
            }
            if pri <= 5 && self.opt(ch(b'&'))? {
                let k2 = self.expr_sub(6)?;
                k.u &= k2.u;
                k.id = k.id.max(k2.id);
                continue;
            }
            if pri <= 6 {
                let eq = self.opt(Tok::Eq)?;
                if eq || self.opt(Tok::Ne)? {
                    let k2 = self.expr_sub(7)?;
                    k = KVal { u: ((k.u == k2.u) == eq) as u32, id: CTypeId::INT32 };
                    continue;
                }
            }
            if pri <= 7 {
                let op = match self.tok {
                    Tok::Char(b'<') => Some(0),
                    Tok::Char(b'>') => Some(1),
                    Tok::Le => Some(2),
                    Tok::Ge => Some(3),
                    _ => None,
                };
                if let Some(op) = op {
                    self.next()?;
                    let k2 = self.expr_sub(8)?;
                    let signed = k.id == CTypeId::INT32 && k2.id == CTypeId::INT32;
                    let ord = if signed { k.i().cmp(&k2.i()) } else { k.u.cmp(&k2.u) };
                    let r = match op {
                        0 => ord.is_lt(),
                        1 => ord.is_gt(),
                        2 => ord.is_le(),
                        _ => ord.is_ge(),
                    };
                    k = KVal { u: r as u32, id: CTypeId::INT32 };
                    continue;
                }
            }
            if pri <= 8 {
                if self.opt(Tok::Shl)? {
                    let k2 = self.expr_sub(9)?;
                    k.u = k.u.wrapping_shl(k2.u);
                    continue;
                } else if self.opt(Tok::Shr)? {
                    let k2 = self.expr_sub(9)?;
                    if k.id == CTypeId::INT32 {
                        k.u = k.i().wrapping_shr(k2.u) as u32;
                    } else {
                        k.u = k.u.wrapping_shr(k2.u);
                    }
                    continue;
                }
            }
            if pri <= 9 {
                if self.opt(ch(b'+'))? {
                    let k2 = self.expr_sub(10)?;
                    k.u = k.u.wrapping_add(k2.u);
                    k.id = k.id.max(k2.id);
                    continue;
                } else if self.opt(ch(b'-'))? {
                    let k2 = self.expr_sub(10)?;
                    k.u = k.u.wrapping_sub(k2.u);
                    k.id = k.id.max(k2.id);
                    continue;
                }
            }
            if pri <= 10 {
                if self.opt(ch(b'*'))? {
                    let k2 = self.expr_unary()?;
                    k.u = k.u.wrapping_mul(k2.u);
                    k.id = k.id.max(k2.id);
                    continue;
                }
                let div = self.opt(ch(b'/'))?;
                if div || self.opt(ch(b'%'))? {
                    let k2 = self.expr_unary()?;
                    k.id = k.id.max(k2.id);
                    if k2.u == 0 || (k.id == CTypeId::INT32 && k.u == 0x8000_0000 && k2.i() == -1) {
                        return Err(self.err("invalid value"));
                    }
                    k.u = match (div, k.id == CTypeId::INT32) {
                        (true, true) => k.i().wrapping_div(k2.i()) as u32,
                        (true, false) => k.u / k2.u,
                        (false, true) => k.i().wrapping_rem(k2.i()) as u32,
                        (false, false) => k.u % k2.u,
                    };
                    continue;
                }
            }
            return Ok(k);
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DECL_DEPTH {
            return Err(self.err("chunk has too many syntax levels"));
        }
        Ok(())
    }

    fn expr_unary(&mut self) -> PResult<KVal> {
        self.enter()?;
        let k = self.expr_prefix()?;
        let k = self.expr_postfix(k)?;
        self.depth -= 1;
        Ok(k)
    }

    fn expr_sub(&mut self, pri: u32) -> PResult<KVal> {
        let k = self.expr_unary()?;
        self.expr_infix(k, pri)
    }

    fn expr_kint(&mut self) -> PResult<KVal> {
        let k = self.expr_sub(0)?;
        let raw = self.cts.raw(k.id);
        if !self.cts.info(raw).is_integer() {
            return Err(self.err("invalid value"));
        }
        Ok(k)
    }

    fn expr_ksize(&mut self) -> PResult<u32> {
        let k = self.expr_kint()?;
        if k.u >= 0x8000_0000 {
            return Err(self.err("size of C type is unknown or too large"));
        }
        Ok(k.u)
    }

    // -- Declaration stack ---------------------------------------------------

    /// Adds an element after the insertion position.
    fn decl_add(&self, decl: &mut Decl, info: Info, size: u32) -> PResult<usize> {
        let top = decl.stack.len();
        if top >= MAX_DECL_STACK {
            return Err(self.err("chunk has too many syntax levels"));
        }
        let next = if top == 0 { 0 } else { decl.stack[decl.pos].next };
        decl.stack.push(DeclEl { info, size, params: CTypeId::NONE, checked: false, next });
        if top > 0 {
            decl.stack[decl.pos].next = top;
        }
        Ok(top)
    }

    /// Adds an element and makes it the insertion position.
    fn decl_push(&self, decl: &mut Decl, info: Info, size: u32) -> PResult<usize> {
        let i = self.decl_add(decl, info, size)?;
        decl.pos = i;
        Ok(i)
    }

    fn push_attributes(&self, decl: &mut Decl) -> PResult<()> {
        let Some(el) = decl.stack.get_mut(decl.pos) else { return Ok(()) };
        if el.info.is_func() {
            if let (Some(cc), Kind::Func { ret, vararg, sseregparm, regparm, .. }) = (decl.fattr.cconv, el.info.kind) {
                el.info.kind = Kind::Func { ret, vararg, cconv: cc, sseregparm, regparm };
            }
        } else if decl.attr.aligned && decl.mode & MODE_FIELD == 0 {
            let info = Info::new(Kind::Attrib { attr: Attr::Align, target: CTypeId::NONE });
            self.decl_push(decl, info, u32::from(decl.attr.align))?;
        }
        Ok(())
    }

    /// Pushes an existing type, unrolling attributes and arrays so qualifiers merge.
    fn push_type(&self, decl: &mut Decl, id: CTypeId) -> PResult<()> {
        let mut chain: Vec<(Info, u32)> = Vec::new();
        let mut cur = id;
        loop {
            let ct = self.cts.get(cur);
            let info = ct.info;
            let size = ct.size;
            let child = info.child().filter(|&c| c < cur);
            match info.kind {
                Kind::Struct { .. } | Kind::Enum { .. } => {
                    self.decl_push(decl, Info::new(Kind::Typedef { target: cur }), 0)?;
                    if decl.attr.qual != Qual::NONE {
                        let q = decl.attr.qual;
                        self.decl_push(
                            decl,
                            Info::new(Kind::Attrib { attr: Attr::Qual, target: CTypeId::NONE }),
                            u32::from(q.0),
                        )?;
                        decl.attr.qual = Qual::NONE;
                    }
                    break;
                }
                Kind::Attrib { attr, .. } if child.is_some() => {
                    if attr == Attr::Qual {
                        decl.attr.qual = decl.attr.qual.without(Qual(size as u8));
                    }
                    chain.push((info, size));
                }
                Kind::Array { vector, complex, .. } if child.is_some() => {
                    let mut info = info;
                    if vector || complex {
                        info.qual = info.qual.union(decl.attr.qual);
                        decl.attr.qual = Qual::NONE;
                    }
                    chain.push((info, size));
                }
                Kind::Func { .. } => {
                    let i = self.decl_push(decl, info, size)?;
                    decl.stack[i].params = ct.sib;
                    break;
                }
                _ => {
                    let q = decl.attr.qual;
                    self.decl_push(decl, Info { qual: info.qual.union(q), ..info }, size)?;
                    decl.attr.qual = Qual::NONE;
                    break;
                }
            }
            match child {
                Some(c) => cur = c,
                None => break,
            }
            if chain.len() > MAX_DECL_STACK {
                return Err(self.err("chunk has too many syntax levels"));
            }
        }
        for &(info, size) in chain.iter().rev() {
            let i = self.decl_push(decl, info, size)?;
            if info.is_array() {
                decl.stack[i].checked = true;
            }
        }
        Ok(())
    }

    /// Builds the declared type from the element chain and interns it.
    fn decl_intern(&mut self, decl: &Decl) -> PResult<CTypeId> {
        let mut id = CTypeId::NONE;
        let mut idx = 0usize;
        let mut csize = SIZE_INVALID;
        let mut cinfo = Info::new(Kind::Void);
        if decl.stack.is_empty() {
            return Err(self.err("invalid C type"));
        }
        loop {
            let Some(&el) = decl.stack.get(idx) else {
                return Err(self.err("invalid C type"));
            };
            let mut info = el.info;
            let mut size = el.size;
            idx = el.next;
            let attach = |info: Info, id: CTypeId| if id == CTypeId::NONE { info } else { info.with_child(id) };
            match info.kind {
                Kind::Typedef { target } => {
                    id = target;
                    let ct = self.cts.get(id);
                    cinfo = ct.info;
                    csize = ct.size;
                }
                Kind::Func { .. } => {
                    if id != CTypeId::NONE {
                        let r = self.cts.info(self.cts.raw(id));
                        if r.is_func() || r.is_refarray() {
                            return Err(self.err("invalid C type"));
                        }
                    }
                    while let Some(e) = decl.stack.get(idx).filter(|e| idx != 0 && e.info.is_attrib()) {
                        idx = e.next;
                    }
                    let finfo = attach(info, id);
                    let fid = self.cts.new_entry(finfo, size).map_err(|e| self.tab_err(e))?;
                    if let Some(ct) = self.cts.get_mut(fid) {
                        ct.sib = el.params;
                    }
                    csize = SIZE_INVALID;
                    cinfo = finfo;
                    id = fid;
                }
                Kind::Attrib { attr, .. } => {
                    match attr {
                        Attr::Qual => cinfo.qual = cinfo.qual.union(Qual(size as u8)),
                        Attr::Align => cinfo.align = (size & 15) as u8,
                        _ => {}
                    }
                    id = self.cts.intern(attach(info, id), size).map_err(|e| self.tab_err(e))?;
                }
                _ => {
                    match info.kind {
                        Kind::Num { flags } if !flags.is_bool() => {
                            let msize = u32::from(decl.attr.msize);
                            let vsize = decl.attr.vsize;
                            if msize != 0 && (!flags.is_fp() || msize == 4 || msize == 8) {
                                info.align = fls(msize).min(4);
                                size = msize;
                            }
                            if vsize != 0 {
                                let esize = fls(size);
                                if vsize >= esize {
                                    id = self.cts.intern(info, size).map_err(|e| self.tab_err(e))?;
                                    size = 1u32 << vsize;
                                    let valign = vsize.min(4).max(info.align);
                                    info = Info {
                                        kind: Kind::Array { elem: id, vla: false, vector: true, complex: false },
                                        qual: info.qual,
                                        align: valign,
                                    };
                                }
                            }
                        }
                        Kind::Ptr { reference, .. } => {
                            if id != CTypeId::NONE && self.cts.info(self.cts.raw(id)).is_ref() {
                                return Err(self.err("invalid C type"));
                            }
                            if reference {
                                info.qual = info.qual.without(Qual::VOLATILE);
                                while let Some(e) = decl.stack.get(idx).filter(|e| idx != 0 && e.info.is_attrib()) {
                                    idx = e.next;
                                }
                            }
                        }
                        Kind::Array { .. } => {
                            if !el.checked {
                                if cinfo.is_ref() {
                                    return Err(self.err("invalid C type"));
                                }
                                if cinfo.is_vltype() || csize == SIZE_INVALID {
                                    return Err(self.err("size of C type is unknown or too large"));
                                }
                                if size != SIZE_INVALID {
                                    let xsz = u64::from(size) * u64::from(csize);
                                    if xsz >= 0x8000_0000 {
                                        return Err(self.err("size of C type is unknown or too large"));
                                    }
                                    size = xsz as u32;
                                }
                            }
                            if cinfo.align > info.align {
                                info.align = cinfo.align;
                            }
                            info.qual = info.qual.union(cinfo.qual);
                        }
                        _ => {}
                    }
                    let full = attach(info, id);
                    csize = size;
                    cinfo = full;
                    id = self.cts.intern(full, size).map_err(|e| self.tab_err(e))?;
                }
            }
            if idx == 0 {
                return Ok(id);
            }
            if idx >= decl.stack.len() {
                return Err(self.err("invalid C type"));
            }
        }
    }

    // -- Declarations --------------------------------------------------------

    fn decl_reset(&self, decl: &mut Decl) {
        decl.pos = decl.specpos;
        decl.stack.truncate(decl.specpos + 1);
        if let Some(el) = decl.stack.get_mut(decl.specpos) {
            el.next = 0;
        }
        decl.attr = decl.specattr;
        decl.fattr = decl.specfattr;
        decl.name = None;
        decl.redir = None;
    }

    /// `static const int X = expr;`: a named integer constant.
    fn decl_constinit(&mut self, ctypeid: CTypeId) -> PResult<CTypeId> {
        let mut ctypeid = ctypeid;
        let mut guard = 0;
        while let Kind::Attrib { target, .. } = self.cts.info(ctypeid).kind {
            if target >= ctypeid || guard > MAX_DECL_STACK {
                break;
            }
            ctypeid = target;
            guard += 1;
        }
        let ct = self.cts.get(ctypeid);
        let info = ct.info;
        let size = ct.size;
        if !info.is_integer() || !info.qual.is_const() || size > 4 {
            return Err(self.err("invalid C type"));
        }
        self.check(Self::ch(b'='))?;
        let k = self.expr_sub(0)?;
        let cinfo = Info::new(Kind::ConstVal { ty: ctypeid }).with_qual(Qual::CONST);
        let constid = self.cts.new_entry(cinfo, 0).map_err(|e| self.tab_err(e))?;
        let shift = 8 * (4 - size.min(4));
        let v = k.u.wrapping_shl(shift);
        let v = if info.is_unsigned() { v.wrapping_shr(shift) } else { (v as i32).wrapping_shr(shift) as u32 };
        if let Some(ct) = self.cts.get_mut(constid) {
            ct.size = v;
        }
        Ok(constid)
    }

    fn size_attr(&mut self) -> PResult<u32> {
        let old = self.tmask;
        self.tmask = NS_DEFAULT;
        self.check(Self::ch(b'('))?;
        let sz = self.expr_ksize()?;
        self.tmask = old;
        self.check(Self::ch(b')'))?;
        Ok(sz)
    }

    fn decl_align(&mut self, decl: &mut Decl) -> PResult<()> {
        let mut al: u32 = 4; // unspecified: 16 bytes
        if self.tok == Self::ch(b'(') {
            let n = self.size_attr()?;
            al = if n != 0 { u32::from(fls(n)) } else { 0 };
        }
        decl.attr.align = (al & 15) as u8;
        decl.attr.aligned = true;
        Ok(())
    }

    fn decl_asm(&mut self, decl: &mut Decl) -> PResult<()> {
        self.next()?;
        self.check(Self::ch(b'('))?;
        if self.tok == Tok::Str {
            let mut s = self.name.clone();
            while self.next()? == Tok::Str {
                s.extend_from_slice(&self.name);
            }
            decl.redir = Some(s);
        }
        self.check(Self::ch(b')'))
    }

    fn decl_mode(&mut self, decl: &mut Decl) -> PResult<()> {
        self.check(Self::ch(b'('))?;
        if self.tok == Tok::Ident {
            let s = self.name.clone();
            let at = |i: usize| s.get(i).copied().unwrap_or(0);
            let mut i = if at(0) == b'_' && at(1) == b'_' { 2 } else { 0 };
            let mut vlen: u32 = 0;
            if at(i) == b'V' {
                i += 1;
                vlen = u32::from(at(i)).wrapping_sub(u32::from(b'0'));
                i += 1;
                if at(i).is_ascii_digit() {
                    vlen = vlen.wrapping_mul(10).wrapping_add(u32::from(at(i) - b'0'));
                    i += 1;
                }
            }
            let sz: u32 = match at(i) {
                b'Q' => 1,
                b'H' => 2,
                b'S' => 4,
                b'D' => 8,
                b'T' => 16,
                b'O' => 32,
                _ => 0,
            };
            if sz != 0 && (at(i + 1) == b'I' || at(i + 1) == b'F') {
                decl.attr.msize = sz as u8;
                if vlen != 0 {
                    decl.attr.vsize = fls(vlen.wrapping_mul(sz)) & 15;
                }
            }
            self.next()?;
        }
        self.check(Self::ch(b')'))
    }

    /// Skips an optional parenthesised argument list of an ignored attribute.
    fn skip_attr_args(&mut self) -> PResult<()> {
        if self.opt(Self::ch(b'('))? {
            while self.tok != Self::ch(b')') && self.tok != Tok::Eof {
                self.next()?;
            }
            self.check(Self::ch(b')'))?;
        }
        Ok(())
    }

    fn decl_gccattribute(&mut self, decl: &mut Decl) -> PResult<()> {
        self.next()?;
        self.check(Self::ch(b'('))?;
        self.check(Self::ch(b'('))?;
        while self.tok != Self::ch(b')') {
            if self.tok == Tok::Ident {
                let attr = self.name.clone();
                self.next()?;
                match attr.as_slice() {
                    b"aligned" | b"__aligned__" => self.decl_align(decl)?,
                    b"packed" | b"__packed__" => decl.attr.packed = true,
                    b"mode" | b"__mode__" => self.decl_mode(decl)?,
                    b"vector_size" | b"__vector_size__" => {
                        let v = self.size_attr()?;
                        if v != 0 {
                            decl.attr.vsize = fls(v) & 15;
                        }
                    }
                    other => {
                        // Calling conventions are recorded; their arguments are
                        // skipped as on x86-64 (where LuaJIT ignores them).
                        let cc = match other {
                            b"cdecl" | b"__cdecl__" => Some(CallConv::Cdecl),
                            b"thiscall" | b"__thiscall__" => Some(CallConv::Thiscall),
                            b"fastcall" | b"__fastcall__" => Some(CallConv::Fastcall),
                            b"stdcall" | b"__stdcall__" => Some(CallConv::Stdcall),
                            _ => None,
                        };
                        if cc.is_some() {
                            decl.fattr.cconv = cc;
                        }
                        self.skip_attr_args()?;
                    }
                }
            } else if matches!(self.tok, Tok::Kw(_)) {
                self.next()?;
                self.skip_attr_args()?;
            } else {
                break;
            }
            if !self.opt(Self::ch(b','))? {
                break;
            }
        }
        self.check(Self::ch(b')'))?;
        self.check(Self::ch(b')'))
    }

    fn decl_msvcattribute(&mut self, decl: &mut Decl) -> PResult<()> {
        self.next()?;
        self.check(Self::ch(b'('))?;
        while self.tok == Tok::Ident {
            let attr = self.name.clone();
            self.next()?;
            if attr == b"align" {
                self.decl_align(decl)?;
            } else {
                self.skip_attr_args()?;
            }
        }
        self.check(Self::ch(b')'))
    }

    /// Attributes and qualifiers that may appear around declarators.
    fn decl_attributes(&mut self, decl: &mut Decl) -> PResult<()> {
        loop {
            match self.tok {
                Tok::Kw(Kw::Const) => decl.attr.qual = decl.attr.qual.union(Qual::CONST),
                Tok::Kw(Kw::Volatile) => decl.attr.qual = decl.attr.qual.union(Qual::VOLATILE),
                Tok::Kw(Kw::Restrict) | Tok::Kw(Kw::Extension) => {}
                Tok::Kw(Kw::Attribute) => {
                    self.decl_gccattribute(decl)?;
                    continue;
                }
                Tok::Kw(Kw::Asm) => {
                    self.decl_asm(decl)?;
                    continue;
                }
                Tok::Kw(Kw::Declspec) => {
                    self.decl_msvcattribute(decl)?;
                    continue;
                }
                Tok::Kw(Kw::CCDecl) => {
                    decl.fattr.cconv = Some(match self.cts.get(self.tok_ct).size {
                        1 => CallConv::Thiscall,
                        2 => CallConv::Fastcall,
                        3 => CallConv::Stdcall,
                        _ => CallConv::Cdecl,
                    });
                }
                Tok::Kw(Kw::PtrSz) => {
                    if self.cts.target().ptr_size == 8 {
                        decl.attr.msize = self.cts.get(self.tok_ct).size as u8;
                    }
                }
                _ => return Ok(()),
            }
            self.next()?;
        }
    }

    /// The tag (and attributes) after `struct`/`union`/`enum`: an existing or new
    /// named type, or a new anonymous one.
    fn struct_name(&mut self, sdecl: &mut Decl, info: Info) -> PResult<CTypeId> {
        self.tmask = NS_STRUCT;
        self.next()?;
        self.decl_attributes(sdecl)?;
        self.tmask = NS_DEFAULT;
        let sid;
        if self.tok != Self::ch(b'{') {
            if self.tok != Tok::Ident {
                return Err(self.err_token(Tok::Ident));
            }
            if self.val.id != CTypeId::NONE {
                sid = self.val.id;
                let ct = self.cts.get(sid);
                let same = match (ct.info.kind, info.kind) {
                    (Kind::Struct { union: a, .. }, Kind::Struct { union: b, .. }) => a == b,
                    (Kind::Enum { .. }, Kind::Enum { .. }) => true,
                    _ => false,
                };
                if !same {
                    let n = ct.name.clone().unwrap_or_default();
                    return Err(self.err_redef(&n));
                }
            } else {
                if self.mode & MODE_NOIMPLICIT != 0 {
                    let mut m = b"undeclared or implicit tag '".to_vec();
                    m.extend_from_slice(&self.name);
                    m.push(b'\'');
                    return Err(self.errmsg(None, &m));
                }
                sid = self.cts.new_entry(info, SIZE_INVALID).map_err(|e| self.tab_err(e))?;
                let n = self.name.clone();
                self.cts.add_name(sid, &n);
            }
            self.next()?;
        } else {
            sid = self.cts.new_entry(info, SIZE_INVALID).map_err(|e| self.tab_err(e))?;
        }
        if self.tok == Self::ch(b'{') {
            let ct = self.cts.get(sid);
            if ct.size != SIZE_INVALID || ct.sib != CTypeId::NONE {
                let n = ct.name.clone().unwrap_or_default();
                return Err(self.err_redef(&n));
            }
            // Mark "being defined" (LuaJIT's sib = 1).
            self.set_sib(sid, CTypeId(1));
        }
        Ok(sid)
    }

    fn set_sib(&mut self, id: CTypeId, sib: CTypeId) {
        if !self.cts.is_new(&self.mark, id) {
            self.mark.touched.push(id);
        }
        if let Some(ct) = self.cts.get_mut(id) {
            ct.sib = sib;
        }
    }

    fn enter_body(&mut self) -> PResult<()> {
        self.struct_depth += 1;
        if self.struct_depth > MAX_STRUCT_DEPTH {
            return Err(self.err("chunk has too many syntax levels"));
        }
        Ok(())
    }

    fn decl_struct(&mut self, sdecl: &mut Decl, union: bool) -> PResult<CTypeId> {
        let sinfo = Info::new(Kind::Struct { union, vla: false });
        let sid = self.struct_name(sdecl, sinfo)?;
        if self.opt(Self::ch(b'{'))? {
            self.enter_body()?;
            let mut lastid = sid;
            let mut lastdecl = false;
            let mut fields: Vec<PendingField> = Vec::new();
            while self.tok != Self::ch(b'}') {
                let mut decl = Decl::default();
                let scl = self.decl_spec(&mut decl, Kw::Static.bit())?;
                decl.mode = if scl != 0 { MODE_DIRECT } else { MODE_DIRECT | MODE_ABSTRACT | MODE_FIELD };
                loop {
                    if lastdecl {
                        return Err(self.err_token(Self::ch(b'}')));
                    }
                    decl.bits = None;
                    self.declarator(&mut decl)?;
                    let ctypeid = self.decl_intern(&decl)?;
                    if scl & Kw::Static.bit() != 0 {
                        let fieldid = self.decl_constinit(ctypeid)?;
                        self.set_sib(lastid, fieldid);
                        lastid = fieldid;
                        if let Some(n) = &decl.name {
                            self.cts.set_name(fieldid, n);
                        }
                        fields.push(PendingField { id: fieldid, kind: PendingKind::None, attr: decl.attr });
                    } else {
                        let fieldid = self
                            .cts
                            .new_entry(Info::new(Kind::Field { ty: ctypeid }), 0)
                            .map_err(|e| self.tab_err(e))?;
                        let traw = self.cts.raw(ctypeid);
                        let tct = self.cts.get(traw);
                        let tinfo = tct.info;
                        let tsize = tct.size;
                        let kind;
                        match decl.bits {
                            None => {
                                if tinfo.is_array() && tsize == SIZE_INVALID {
                                    lastdecl = true;
                                }
                                if decl.name.is_none() {
                                    let ok = (tinfo.is_struct() && !tinfo.is_vltype()) || tinfo.is_enum();
                                    if !ok {
                                        return Err(self.err_token(Tok::Ident));
                                    }
                                    if let Some(ct) = self.cts.get_mut(fieldid) {
                                        ct.info = Info::new(Kind::Attrib { attr: Attr::Subtype, target: ctypeid });
                                    }
                                    kind = if tinfo.is_struct() {
                                        PendingKind::Subtype { ty: ctypeid }
                                    } else {
                                        PendingKind::None
                                    };
                                } else {
                                    kind = PendingKind::Field { ty: ctypeid, bits: None };
                                }
                            }
                            Some(bsz) => {
                                let max = if tinfo.is_bool() { 1 } else { tsize.wrapping_mul(8) };
                                if !tinfo.is_integer_or_bool()
                                    || (bsz == 0 && decl.name.is_some())
                                    || tsize.wrapping_mul(8) > 32
                                    || bsz > max
                                {
                                    return Err(self.errmsg(Some(Self::ch(b':')), b"invalid value"));
                                }
                                kind = PendingKind::Field { ty: ctypeid, bits: Some(bsz) };
                            }
                        }
                        if let Some(n) = &decl.name {
                            self.cts.set_name(fieldid, n);
                        }
                        fields.push(PendingField { id: fieldid, kind, attr: decl.attr });
                        self.set_sib(lastid, fieldid);
                        lastid = fieldid;
                    }
                    if !self.opt(Self::ch(b','))? {
                        break;
                    }
                    self.decl_reset(&mut decl);
                }
                self.check(Self::ch(b';'))?;
            }
            self.check(Self::ch(b'}'))?;
            self.set_sib(lastid, CTypeId::NONE);
            self.decl_attributes(sdecl)?;
            let pack = self.packstack[self.curpack];
            layout_struct(self.cts, sid, sdecl.attr, pack, &fields)
                .map_err(|_| self.err("size of C type is unknown or too large"))?;
            self.struct_depth -= 1;
        }
        Ok(sid)
    }

    fn decl_enum(&mut self, sdecl: &mut Decl) -> PResult<CTypeId> {
        let eid = self.struct_name(sdecl, Info::new(Kind::Enum { base: CTypeId::VOID }))?;
        let mut ebase = CTypeId::UINT32;
        if self.opt(Self::ch(b'{'))? {
            self.enter_body()?;
            let mut k = KVal { u: 0, id: CTypeId::INT32 };
            let mut lastid = eid;
            loop {
                let name = self.name.clone();
                if self.tok != Tok::Ident {
                    return Err(self.err_token(Tok::Ident));
                }
                if self.val.id != CTypeId::NONE {
                    return Err(self.err_redef(&name));
                }
                self.next()?;
                if self.opt(Self::ch(b'='))? {
                    k = self.expr_kint()?;
                    if k.id == CTypeId::UINT32 {
                        // Unsigned constants like 0x80000000 stay uint32_t.
                        if k.i() >= 0 {
                            k.id = CTypeId::INT32;
                        }
                    } else {
                        k.id = CTypeId::INT32;
                        if k.i() < 0 {
                            ebase = CTypeId::INT32;
                        }
                    }
                }
                let cinfo = Info::new(Kind::ConstVal { ty: k.id }).with_qual(Qual::CONST);
                let constid = self.cts.new_entry(cinfo, k.u).map_err(|e| self.tab_err(e))?;
                self.set_sib(lastid, constid);
                lastid = constid;
                self.cts.add_name(constid, &name);
                k.u = k.u.wrapping_add(1);
                if k.u == 0x8000_0000 {
                    k.id = CTypeId::UINT32;
                }
                if !self.opt(Self::ch(b','))? || self.tok == Self::ch(b'}') {
                    break;
                }
            }
            self.check(Self::ch(b'}'))?;
            if !self.cts.is_new(&self.mark, eid) {
                self.mark.touched.push(eid);
            }
            if let Some(ct) = self.cts.get_mut(eid) {
                ct.info = Info::new(Kind::Enum { base: ebase }).with_align(2);
                ct.size = 4;
            }
            self.struct_depth -= 1;
        }
        Ok(eid)
    }

    /// Declaration specifiers: storage class, qualifiers, base type. Returns the
    /// storage class bits (only those in `scl` are allowed).
    fn decl_spec(&mut self, decl: &mut Decl, scl: u32) -> PResult<u32> {
        const LONG: u32 = 1 << Kw::Long as u8;
        let mut cds: u32 = 0;
        let mut sz: u32 = 0;
        let mut tdef = CTypeId::NONE;
        *decl = Decl { mode: self.mode, ..Decl::default() };
        loop {
            self.decl_attributes(decl)?;
            if let Tok::Kw(kw) = self.tok {
                if kw.is_spec_flag() {
                    let ksz = self.cts.get(self.tok_ct).size;
                    if ksz != 0 {
                        if sz != 0 {
                            break;
                        }
                        sz = ksz;
                    }
                    let cbit = kw.bit();
                    cds = cds | cbit | ((cbit & cds & LONG) << 1);
                    if kw.is_storage_class() {
                        if scl & cbit == 0 {
                            return Err(self.errmsg(Some(self.tok), b"bad storage class"));
                        }
                    } else if tdef != CTypeId::NONE {
                        break;
                    }
                    self.next()?;
                    continue;
                }
            }
            let sized = Kw::Short.bit() | LONG | Kw::Signed.bit() | Kw::Unsigned.bit() | Kw::Complex.bit();
            if sz != 0 || tdef != CTypeId::NONE || cds & sized != 0 {
                break;
            }
            match self.tok {
                Tok::Kw(Kw::Struct) => tdef = self.decl_struct(decl, false)?,
                Tok::Kw(Kw::Union) => tdef = self.decl_struct(decl, true)?,
                Tok::Kw(Kw::Enum) => tdef = self.decl_enum(decl)?,
                Tok::Ident if self.cts.info(self.tok_ct).is_typedef() => {
                    tdef = self.cts.info(self.tok_ct).child().unwrap_or(CTypeId::NONE);
                    self.next()?;
                }
                Tok::TypeParam => {
                    tdef = self.val.id;
                    self.next()?;
                }
                _ => break,
            }
        }
        if cds & Kw::Complex.bit() != 0 {
            tdef = if sz == 4 { CTypeId::COMPLEX_FLOAT } else { CTypeId::COMPLEX_DOUBLE };
        }
        if tdef != CTypeId::NONE {
            self.push_type(decl, tdef)?;
        } else if cds & Kw::Void.bit() != 0 {
            let q = decl.attr.qual;
            self.decl_push(decl, Info::new(Kind::Void).with_qual(q), SIZE_INVALID)?;
            decl.attr.qual = Qual::NONE;
        } else {
            let t = *self.cts.target();
            let mut flags = if cds & Kw::Unsigned.bit() != 0 { NumFlags::UNSIGNED } else { 0 };
            let storage = Kw::Typedef.bit() | Kw::Extern.bit() | Kw::Static.bit() | Kw::Auto.bit() | Kw::Register.bit();
            if cds & Kw::Bool.bit() != 0 {
                let allowed = storage | Kw::Bool.bit() | Kw::Int.bit() | Kw::Signed.bit() | Kw::Unsigned.bit();
                if cds & !allowed != 0 {
                    return Err(self.err("invalid C type"));
                }
                flags |= NumFlags::BOOL;
                if cds & Kw::Signed.bit() == 0 {
                    flags |= NumFlags::UNSIGNED;
                }
                if sz == 0 {
                    sz = 1;
                }
            } else if cds & Kw::Fp.bit() != 0 {
                flags = NumFlags::FP;
                if cds & LONG != 0 {
                    sz = t.long_double_size;
                }
            } else if cds & Kw::Char.bit() != 0 {
                let m = Kw::Char.bit() | Kw::Signed.bit() | Kw::Unsigned.bit();
                if cds & m == Kw::Char.bit() && t.char_unsigned {
                    flags |= NumFlags::UNSIGNED;
                }
            } else if cds & Kw::Short.bit() != 0 {
                sz = 2;
            } else if cds & Kw::LongLong.bit() != 0 {
                sz = 8;
            } else if cds & LONG != 0 {
                flags |= NumFlags::LONG;
                sz = t.long_size;
            } else if sz == 0 {
                if cds & (Kw::Signed.bit() | Kw::Unsigned.bit()) == 0 {
                    return Err(self.errmsg(Some(self.tok), b"declaration specifier expected"));
                }
                sz = 4;
            }
            let info = Info { kind: Kind::Num { flags: NumFlags(flags) }, qual: decl.attr.qual, align: fls(sz) };
            self.decl_push(decl, info, sz)?;
            decl.attr.qual = Qual::NONE;
        }
        decl.specpos = decl.pos;
        decl.specattr = decl.attr;
        decl.specfattr = decl.fattr;
        let storage = Kw::Typedef.bit() | Kw::Extern.bit() | Kw::Static.bit() | Kw::Auto.bit() | Kw::Register.bit();
        Ok(cds & storage)
    }

    fn decl_array(&mut self, decl: &mut Decl) -> PResult<()> {
        let mut vla = false;
        let mut nelem = SIZE_INVALID;
        self.decl_attributes(decl)?;
        if self.opt(Self::ch(b'?'))? {
            vla = true;
        } else if self.tok != Self::ch(b']') {
            nelem = self.expr_ksize()?;
        }
        self.check(Self::ch(b']'))?;
        let info = Info::new(Kind::Array { elem: CTypeId::NONE, vla, vector: false, complex: false });
        self.decl_add(decl, info, nelem)?;
        Ok(())
    }

    fn decl_func(&mut self, fdecl: &mut Decl) -> PResult<()> {
        let mut nargs: u32 = 0;
        let mut vararg = false;
        let mut lastid = CTypeId::NONE;
        let mut anchor = CTypeId::NONE;
        if self.tok != Self::ch(b')') {
            loop {
                if self.opt(Self::ch(b'.'))? {
                    self.check(Self::ch(b'.'))?;
                    self.check(Self::ch(b'.'))?;
                    vararg = true;
                    break;
                }
                let mut decl = Decl::default();
                self.decl_spec(&mut decl, Kw::Register.bit())?;
                decl.mode = MODE_DIRECT | MODE_ABSTRACT;
                self.declarator(&mut decl)?;
                let mut ctypeid = self.decl_intern(&decl)?;
                let raw = self.cts.raw(ctypeid);
                let rinfo = self.cts.info(raw);
                let palign = self.cts.target().ptr_align();
                let psz = self.cts.target().ptr_size;
                if rinfo.is_void() {
                    break;
                } else if rinfo.is_refarray() {
                    let elem = rinfo.child().unwrap_or(CTypeId::NONE);
                    let info = Info::new(Kind::Ptr { to: elem, reference: false }).with_align(palign);
                    ctypeid = self.cts.intern(info, psz).map_err(|e| self.tab_err(e))?;
                } else if rinfo.is_func() {
                    let info = Info::new(Kind::Ptr { to: ctypeid, reference: false }).with_align(palign);
                    ctypeid = self.cts.intern(info, psz).map_err(|e| self.tab_err(e))?;
                }
                let fieldid =
                    self.cts.new_entry(Info::new(Kind::Field { ty: ctypeid }), nargs).map_err(|e| self.tab_err(e))?;
                if anchor != CTypeId::NONE {
                    if let Some(ct) = self.cts.get_mut(lastid) {
                        ct.sib = fieldid;
                    }
                } else {
                    anchor = fieldid;
                }
                lastid = fieldid;
                if let Some(n) = &decl.name {
                    self.cts.set_name(fieldid, n);
                }
                nargs = nargs.wrapping_add(1);
                if !self.opt(Self::ch(b','))? {
                    break;
                }
            }
        }
        self.check(Self::ch(b')'))?;
        if self.opt(Self::ch(b'{'))? {
            // Skip a function definition's body.
            let mut level = 1u32;
            self.mode |= MODE_SKIP;
            loop {
                if self.tok == Self::ch(b'{') {
                    level += 1;
                } else if self.tok == Self::ch(b'}') {
                    level -= 1;
                    if level == 0 {
                        break;
                    }
                } else if self.tok == Tok::Eof {
                    return Err(self.err_token(Self::ch(b'}')));
                }
                self.next()?;
            }
            self.mode &= !MODE_SKIP;
            self.tok = Self::ch(b';');
        }
        let cconv = fdecl.fattr.cconv.unwrap_or_default();
        fdecl.fattr = FuncAttr::default();
        let info = Info::new(Kind::Func { ret: CTypeId::NONE, vararg, cconv, sseregparm: false, regparm: 0 });
        let i = self.decl_add(fdecl, info, nargs)?;
        fdecl.stack[i].params = anchor;
        Ok(())
    }

    fn declarator(&mut self, decl: &mut Decl) -> PResult<()> {
        self.enter()?;
        loop {
            if self.opt(Self::ch(b'*'))? {
                self.decl_attributes(decl)?;
                let t = *self.cts.target();
                let (mut sz, mut align) = (t.ptr_size, t.ptr_align());
                if t.ptr_size == 8 && decl.attr.msize == 4 {
                    sz = 4;
                    align = 2;
                }
                let info =
                    Info { kind: Kind::Ptr { to: CTypeId::NONE, reference: false }, qual: decl.attr.qual, align };
                decl.attr.qual = Qual::NONE;
                decl.attr.msize = 0;
                self.decl_push(decl, info, sz)?;
            } else if self.opt(Self::ch(b'&'))? || self.opt(Tok::AndAnd)? {
                decl.attr.qual = Qual::NONE;
                decl.attr.msize = 0;
                let t = *self.cts.target();
                let info = Info {
                    kind: Kind::Ptr { to: CTypeId::NONE, reference: true },
                    qual: Qual::CONST,
                    align: t.ptr_align(),
                };
                self.decl_push(decl, info, t.ptr_size)?;
            } else {
                break;
            }
        }
        let mut func_first = false;
        if self.opt(Self::ch(b'('))? {
            self.decl_attributes(decl)?;
            if decl.mode & MODE_ABSTRACT != 0 && (self.tok == Self::ch(b')') || self.is_typedecl()) {
                // An abstract declarator's "(" starts the parameter list.
                func_first = true;
            } else {
                let pos = decl.pos;
                self.declarator(decl)?;
                self.check(Self::ch(b')'))?;
                decl.pos = pos;
            }
        } else if self.tok == Tok::Ident {
            if decl.mode & MODE_DIRECT == 0 {
                return Err(self.err_token(Tok::Eof));
            }
            decl.name = Some(self.name.clone());
            decl.nameid = self.val.id;
            self.next()?;
        } else if decl.mode & MODE_ABSTRACT == 0 {
            return Err(self.err_token(Tok::Ident));
        }
        loop {
            if func_first {
                func_first = false;
                self.decl_func(decl)?;
            } else if self.opt(Self::ch(b'['))? {
                self.decl_array(decl)?;
            } else if self.opt(Self::ch(b'('))? {
                self.decl_func(decl)?;
            } else {
                break;
            }
        }
        if decl.mode & MODE_FIELD != 0 && self.opt(Self::ch(b':'))? {
            decl.bits = Some(self.expr_ksize()?);
        }
        self.decl_attributes(decl)?;
        self.push_attributes(decl)?;
        self.depth -= 1;
        Ok(())
    }

    fn decl_abstract(&mut self) -> PResult<CTypeId> {
        let mut decl = Decl::default();
        self.decl_spec(&mut decl, 0)?;
        decl.mode = MODE_ABSTRACT;
        self.declarator(&mut decl)?;
        self.decl_intern(&decl)
    }

    fn pragma(&mut self, pragmaline: u32) -> PResult<()> {
        self.next()?;
        if self.tok == Tok::Ident && self.name == b"pack" {
            self.next()?;
            self.check(Self::ch(b'('))?;
            if self.tok == Tok::Ident {
                if self.name == b"push" {
                    if self.curpack < MAX_PACK_STACK - 1 {
                        self.packstack[self.curpack + 1] = self.packstack[self.curpack];
                        self.curpack += 1;
                    } else {
                        return Err(self.errmsg(Some(self.tok), b"chunk has too many syntax levels"));
                    }
                } else if self.name == b"pop" {
                    if self.curpack > 0 {
                        self.curpack -= 1;
                    }
                } else {
                    return Err(self.errmsg(Some(self.tok), b"unexpected symbol"));
                }
                self.next()?;
                if !self.opt(Self::ch(b','))? {
                    return self.check(Self::ch(b')'));
                }
            }
            if self.tok == Tok::Integer {
                self.packstack[self.curpack] = if self.val.u != 0 { fls(self.val.u) } else { 0 };
                self.next()?;
            } else {
                self.packstack[self.curpack] = 255;
            }
            self.check(Self::ch(b')'))
        } else {
            while self.tok != Tok::Eof && self.line == pragmaline {
                self.next()?;
            }
            Ok(())
        }
    }

    fn line_directive(&mut self, hashline: u32) -> PResult<()> {
        let newline = self.val.u;
        while self.tok != Tok::Eof && self.line == hashline {
            self.next()?;
        }
        self.line = newline;
        Ok(())
    }

    fn decl_multi(&mut self) -> PResult<()> {
        let mut first = true;
        while self.tok != Tok::Eof {
            if self.opt(Self::ch(b';'))? {
                first = false;
                continue;
            }
            if self.tok == Self::ch(b'#') {
                let hashline = self.line;
                let tok = self.next()?;
                if tok == Tok::Integer {
                    self.line_directive(hashline)?;
                    continue;
                } else if tok == Tok::Ident && self.name == b"line" {
                    if self.next()? != Tok::Integer {
                        return Err(self.err_token(tok));
                    }
                    self.line_directive(hashline)?;
                    continue;
                } else if tok == Tok::Ident && self.name == b"pragma" {
                    self.pragma(hashline)?;
                    continue;
                } else {
                    return Err(self.errmsg(Some(self.tok), b"unexpected symbol"));
                }
            }
            let mut decl = Decl::default();
            let scl = self.decl_spec(&mut decl, Kw::Typedef.bit() | Kw::Extern.bit() | Kw::Static.bit())?;
            let mut skip = false;
            if self.tok == Self::ch(b';') || self.tok == Tok::Eof {
                if let Some(Kind::Typedef { target }) = decl.stack.first().map(|e| e.info.kind) {
                    let raw = self.cts.raw(target);
                    let info = self.cts.info(raw);
                    if info.is_struct() || info.is_enum() {
                        skip = true; // an empty declaration of a struct/union/enum
                    }
                }
            }
            if !skip {
                loop {
                    self.declarator(&mut decl)?;
                    let ctypeid = self.decl_intern(&decl)?;
                    if let (Some(name), CTypeId::NONE) = (decl.name.clone(), decl.nameid) {
                        self.declare(scl, ctypeid, &name, decl.redir.as_deref())?;
                    }
                    if !self.opt(Self::ch(b','))? {
                        break;
                    }
                    self.decl_reset(&mut decl);
                }
            }
            if self.tok == Tok::Eof && first {
                break; // the ';' may be left out after a single declaration
            }
            first = false;
            self.check(Self::ch(b';'))?;
        }
        Ok(())
    }

    /// Names a top-level declaration: typedef, function, static constant or extern.
    /// (Redeclaring an existing name is silently ignored, as in LuaJIT.)
    fn declare(&mut self, scl: u32, ctypeid: CTypeId, name: &[u8], redir: Option<&[u8]>) -> PResult<()> {
        let id;
        if scl & Kw::Typedef.bit() != 0 {
            id = self.cts.new_entry(Info::new(Kind::Typedef { target: ctypeid }), 0).map_err(|e| self.tab_err(e))?;
        } else if self.cts.info(ctypeid).is_func() {
            id = ctypeid;
            self.add_redir(id, redir)?;
        } else if scl & Kw::Static.bit() != 0 {
            id = self.decl_constinit(ctypeid)?;
        } else {
            id = self.cts.new_entry(Info::new(Kind::Extern { ty: ctypeid }), 0).map_err(|e| self.tab_err(e))?;
            self.add_redir(id, redir)?;
        }
        self.cts.add_name(id, name);
        Ok(())
    }

    fn add_redir(&mut self, id: CTypeId, redir: Option<&[u8]>) -> PResult<()> {
        if let Some(r) = redir {
            let aid = self
                .cts
                .new_entry(Info::new(Kind::Attrib { attr: Attr::Redir, target: CTypeId::NONE }), 0)
                .map_err(|e| self.tab_err(e))?;
            let old = self.cts.get(id).sib;
            if let Some(a) = self.cts.get_mut(aid) {
                a.sib = old;
            }
            self.cts.set_name(aid, r);
            if let Some(ct) = self.cts.get_mut(id) {
                ct.sib = aid;
            }
        }
        Ok(())
    }

    fn decl_single(&mut self) -> PResult<CTypeId> {
        let mut decl = Decl::default();
        self.decl_spec(&mut decl, 0)?;
        self.declarator(&mut decl)?;
        let id = self.decl_intern(&decl)?;
        if self.tok != Tok::Eof {
            return Err(self.err_token(Tok::Eof));
        }
        Ok(id)
    }
}

/// Scans a C integer literal as LuaJIT's C lexer does: decimal, octal (leading 0),
/// hex (`0x`) or binary (`0b`), with an optional `u`/`U` suffix; 32-bit only.
/// Gives the value and whether it is unsigned (`None`: malformed).
pub fn scan_c_int(s: &[u8]) -> Option<(u32, bool)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = 0usize;
    let mut base = if at(0) == b'0' { 8 } else { 10 };
    if at(0) == b'0' {
        if at(1) | 0x20 == b'x' {
            base = 16;
            p = 2;
        } else if at(1) | 0x20 == b'b' {
            base = 2;
            p = 2;
        }
    }
    let mut hasdig = false;
    while at(p) == b'0' {
        hasdig = true;
        p += 1;
    }
    let start = p;
    let isdig = |c: u8| if base == 16 { c.is_ascii_hexdigit() } else { c.is_ascii_digit() };
    while isdig(at(p)) {
        p += 1;
    }
    let digits = &s[start.min(s.len())..p.min(s.len())];
    if !hasdig && digits.is_empty() {
        return None;
    }
    let mut unsigned = false;
    match &s[p.min(s.len())..] {
        [] => {}
        [b'u' | b'U'] => unsigned = true,
        _ => return None,
    }
    let dig = digits.len();
    let mut x: u64 = 0;
    match base {
        10 => {
            if dig > 20 {
                return None;
            }
            for &d in digits {
                x = x.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            }
        }
        16 => {
            if dig > 16 {
                return None;
            }
            for &d in digits {
                let v = if d.is_ascii_digit() { d - b'0' } else { (d | 0x20) - b'a' + 10 };
                x = (x << 4) | u64::from(v);
            }
            if (unsigned || x >= 0x8000_0000) && dig > 8 {
                return None;
            }
        }
        8 => {
            if dig > 22 {
                return None;
            }
            for &d in digits {
                if d > b'7' {
                    return None;
                }
                x = (x << 3) | u64::from(d - b'0');
            }
        }
        _ => {
            if dig > 64 {
                return None;
            }
            for &d in digits {
                if d > b'1' {
                    return None;
                }
                x = (x << 1) | u64::from(d - b'0');
            }
            if (unsigned || x >= 0x8000_0000) && dig > 32 {
                return None;
            }
        }
    }
    if !unsigned && x < 0x8000_0000 {
        return Some((x as u32, false));
    }
    if x >> 32 != 0 {
        return None;
    }
    Some((x as u32, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_int_literals() {
        assert_eq!(scan_c_int(b"0"), Some((0, false)));
        assert_eq!(scan_c_int(b"010"), Some((8, false)));
        assert_eq!(scan_c_int(b"08"), None);
        assert_eq!(scan_c_int(b"0x80000000"), Some((0x8000_0000, true)));
        assert_eq!(scan_c_int(b"0xFFFFFFFFF"), None);
        assert_eq!(scan_c_int(b"0x000000001"), Some((1, false)));
        assert_eq!(scan_c_int(b"4294967296"), None);
        assert_eq!(scan_c_int(b"2147483648"), Some((0x8000_0000, true)));
        assert_eq!(scan_c_int(b"1u"), Some((1, true)));
        assert_eq!(scan_c_int(b"1L"), None);
        assert_eq!(scan_c_int(b"0b101"), Some((5, false)));
        assert_eq!(scan_c_int(b"0x"), None);
        assert_eq!(scan_c_int(b"1e3"), None);
    }
}
