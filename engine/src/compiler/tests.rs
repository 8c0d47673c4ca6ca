//! Compiler tests: lexer tokens and escapes, error messages (each checked against the
//! `luajit` binary's text), chunk names, code shapes the VM relies on, golden listings
//! (`golden.txt`, re-blessed with `MOONBOX_BLESS=1`), limits, and no-panic checks.

use super::lexer::{parse_number, Lexer, Tok};
use super::*;
use crate::bytecode::{Ins, Op};

fn lex_all(src: &str) -> Result<Vec<Tok>, String> {
    let mut lx = Lexer::new(src.as_bytes(), "t".into());
    let mut v = Vec::new();
    loop {
        lx.next_token().map_err(|e| e.to_string())?;
        if lx.tok == Tok::Eof {
            return Ok(v);
        }
        v.push(lx.tok.clone());
    }
}

fn s(x: &str) -> Tok {
    Tok::Str(x.as_bytes().into())
}

fn name(x: &str) -> Tok {
    Tok::Name(x.as_bytes().into())
}

#[test]
fn lexer_symbols_and_keywords() {
    let toks = lex_all("+ - * / % ^ # == ~= <= >= < > = ( ) { } [ ] ; : :: , . .. ...").unwrap();
    let want = vec![
        Tok::Char(b'+'),
        Tok::Char(b'-'),
        Tok::Char(b'*'),
        Tok::Char(b'/'),
        Tok::Char(b'%'),
        Tok::Char(b'^'),
        Tok::Char(b'#'),
        Tok::Eq,
        Tok::Ne,
        Tok::Le,
        Tok::Ge,
        Tok::Char(b'<'),
        Tok::Char(b'>'),
        Tok::Char(b'='),
        Tok::Char(b'('),
        Tok::Char(b')'),
        Tok::Char(b'{'),
        Tok::Char(b'}'),
        Tok::Char(b'['),
        Tok::Char(b']'),
        Tok::Char(b';'),
        Tok::Char(b':'),
        Tok::DbColon,
        Tok::Char(b','),
        Tok::Char(b'.'),
        Tok::Concat,
        Tok::Dots,
    ];
    assert_eq!(toks, want);
    let kws = lex_all("and break do else elseif end false for function if in local nil not or repeat return then true until while goto _x1").unwrap();
    assert_eq!(kws.len(), 23);
    assert_eq!(kws[0], Tok::And);
    assert_eq!(kws[20], Tok::While);
    assert_eq!(kws[21], name("goto"));
    assert_eq!(kws[22], name("_x1"));
}

#[test]
fn lexer_strings_and_escapes() {
    let t = lex_all(r#""\a\b\f\n\r\t\v\\\"\'" '\65\066\0671' "\x41\x6a" "\u{41}\u{7FF}\u{FFFF}\u{10FFFF}""#).unwrap();
    assert_eq!(t[0], Tok::Str(b"\x07\x08\x0c\n\r\t\x0b\\\"'".to_vec().into()));
    assert_eq!(t[1], s("AB\x431"));
    assert_eq!(t[2], s("Aj"));
    assert_eq!(t[3], Tok::Str(b"A\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf".to_vec().into()));
    assert_eq!(
        lex_all("\"a\\\nb\" 'c\\z  \n\t d' \"\\255\\0\"").unwrap(),
        vec![s("a\nb"), s("cd"), Tok::Str(b"\xff\x00".to_vec().into())]
    );
    assert_eq!(lex_all("\"\\u{0}\"").unwrap(), vec![Tok::Str(b"\0".to_vec().into())]);
}

#[test]
fn lexer_long_strings_and_comments() {
    let t = lex_all("[[\nab]] [==[\r\nx]]y]=]z]==] --[[ c\n ]] --[==[\n]] ]==] -- line\n[[]] --[x\n1").unwrap();
    assert_eq!(t, vec![s("ab"), s("x]]y]=]z"), s(""), Tok::Num(1.0)]);
    assert_eq!(lex_all("[[a\r\nb\n\rc\rd]]").unwrap(), vec![s("a\nb\nc\nd")]);
    assert!(lex_all("[=").unwrap_err().contains("invalid long string delimiter near '[='"));
}

#[test]
fn lexer_numbers() {
    let cases: &[(&str, f64)] = &[
        ("0", 0.0),
        ("3", 3.0),
        ("3.", 3.0),
        (".5", 0.5),
        ("1e2", 100.0),
        ("1E+2", 100.0),
        ("2.5e-1", 0.25),
        ("0x10", 16.0),
        ("0XfF", 255.0),
        ("0x.8", 0.5),
        ("0x1p4", 16.0),
        ("0x1.8p1", 3.0),
        ("0xAp-1", 5.0),
        ("08", 8.0),
        ("1e400", f64::INFINITY),
        ("0x7fffffffffffffffff", 2.3611832414348226e21),
        ("9007199254740993", 9007199254740992.0),
        ("0x1p-1074", 5e-324),
        ("0x1e", 30.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("0x1.fffffffffffff8p0", 2.0),
        ("0x1.fffffffffffff7ffp0", 1.9999999999999998),
    ];
    for (src, want) in cases {
        assert_eq!(parse_number(src.as_bytes()), Some(*want), "{}", src);
        assert_eq!(lex_all(src).unwrap(), vec![Tok::Num(*want)], "{}", src);
    }
    // FFI literals (`LL`, `ULL`, `i`) are cdata constants.
    use crate::compiler::CConst;
    assert_eq!(lex_all("5LL").unwrap(), vec![Tok::CData(CConst::Int64(5))]);
    assert_eq!(lex_all("0xffULL").unwrap(), vec![Tok::CData(CConst::UInt64(255))]);
    assert_eq!(lex_all("2.5i").unwrap(), vec![Tok::CData(CConst::Complex(0.0, 2.5))]);
    for bad in ["0x", "1e", "1e+", "0x1p", "3x", "1..2", "1.2.3", "0x.", "0xp1", "5L", "1j", "0x1g", "1__2", "1LLL"] {
        let e = lex_all(bad).unwrap_err();
        assert_eq!(e, format!("t:1: malformed number near '{}'", bad));
    }
    // A sign continues a number only right after its exponent letter.
    assert_eq!(lex_all("0x1e+5").unwrap(), vec![Tok::Num(30.0), Tok::Char(b'+'), Tok::Num(5.0)]);
    assert_eq!(lex_all("1e+5").unwrap(), vec![Tok::Num(1e5)]);
}

#[test]
fn lexer_lines_and_shebang() {
    let mut lx = Lexer::new(b"#!/bin/lua\na\rb\r\nc\n\rd\n\ne", "t".into());
    let mut lines = Vec::new();
    loop {
        lx.next_token().unwrap();
        if lx.tok == Tok::Eof {
            break;
        }
        lines.push(lx.line);
    }
    assert_eq!(lines, vec![2, 3, 4, 5, 7]);
    // Only a first-line '#' is skipped.
    assert!(compile(b"#x\nreturn 1", b"=t").is_ok());
    assert_eq!(compile(b"  #x\nreturn 1", b"=t").unwrap_err().to_string(), "t:1: unexpected symbol near '#'");
}

/// Compiling through a reader, in pieces of any size, gives the same code and the same
/// errors as compiling the whole text, and reads no further than one byte past the
/// token where an error is found.
#[test]
fn reader_pieces_match_whole_source() {
    let sources: &[&[u8]] = &[
        b"local s = 'a\\tb\\x41\\u{48}' .. [==[long\nstr]==] -- c\n--[[ block ]] return s, 0x1p4, 1e+5, ...",
        b"x = = 1 + 2",
        b"x = 'unfinished",
        b"#!shebang\nreturn a..b",
    ];
    for src in sources {
        let listing = |p: FuncProto| {
            let mut out = String::new();
            disassemble(&p, &mut out);
            out
        };
        let whole = compile(src, b"=t").map(listing);
        for size in 1..5 {
            let mut chunks = src.chunks(size).map(|c| c.to_vec());
            let mut read = |buf: &mut Vec<u8>| match chunks.next() {
                Some(c) => {
                    buf.extend_from_slice(&c);
                    true
                }
                None => false,
            };
            let got = compile_reader(Vec::new(), &mut read, b"=t").map(listing);
            assert_eq!(got, whole, "pieces of {size}: {}", String::from_utf8_lossy(src));
        }
    }
    let mut calls = 0;
    let src = b"x = = 1 + 2 + 3 + 4";
    let mut read = |buf: &mut Vec<u8>| {
        calls += 1;
        match src.get(calls - 1) {
            Some(&b) => {
                buf.push(b);
                true
            }
            None => false,
        }
    };
    assert!(compile_reader(Vec::new(), &mut read, b"=t").is_err());
    assert_eq!(calls, 6, "stops one byte past the second '='");
}

/// (source, message as printed by `luajit` for `loadstring(source, source)`, or "OK").
const ERRORS: &[(&str, &str)] = &[
    ("x = = 1", "[string \"x = = 1\"]:1: unexpected symbol near '='"),
    ("#x", "OK"),
    ("goto = 1", "OK"),
    ("x = 3x", "[string \"x = 3x\"]:1: malformed number near '3x'"),
    ("x = \"\\q\"", "[string \"x = \"\\q\"\"]:1: invalid escape sequence near '\"'"),
    ("x = \"abc", "[string \"x = \"abc\"]:1: unfinished string near '<eof>'"),
    ("x = 0x", "[string \"x = 0x\"]:1: malformed number near '0x'"),
    ("x = 1e", "[string \"x = 1e\"]:1: malformed number near '1e'"),
    ("x = 3..2", "[string \"x = 3..2\"]:1: malformed number near '3..2'"),
    ("x = [==[ a", "[string \"x = [==[ a\"]:1: unfinished long string near '<eof>'"),
    ("::a:: ::a::", "[string \"::a:: ::a::\"]:1: duplicate label 'a'"),
    ("goto a", "[string \"goto a\"]:1: undefined label 'a'"),
    (
        "do goto a; local x; ::a:: print(x) end",
        "[string \"do goto a; local x; ::a:: print(x) end\"]:1: <goto a> jumps into the scope of local 'x'",
    ),
    ("x = \"\\300\"", "[string \"x = \"\\300\"\"]:1: invalid escape sequence near '\"'"),
    ("x = \"\\u{110000}\"", "[string \"x = \"\\u{110000}\"\"]:1: invalid escape sequence near '\"'"),
    ("x = \"\\xZZ\"", "[string \"x = \"\\xZZ\"\"]:1: invalid escape sequence near '\"'"),
    ("x = ~= 1", "[string \"x = ~= 1\"]:1: unexpected symbol near '~='"),
    ("x = \"ab\\q\"", "[string \"x = \"ab\\q\"\"]:1: invalid escape sequence near '\"ab'"),
    ("x = \"ab\n\"", "[string \"x = \"ab...\"]:1: unfinished string near '\"ab'"),
    ("x = \"\\x4\"", "[string \"x = \"\\x4\"\"]:1: invalid escape sequence near '\"'"),
    ("x = 0x1p", "[string \"x = 0x1p\"]:1: malformed number near '0x1p'"),
    ("x = 1e+", "[string \"x = 1e+\"]:1: malformed number near '1e+'"),
    ("x = 0xg", "[string \"x = 0xg\"]:1: malformed number near '0xg'"),
    ("x = 1__2", "[string \"x = 1__2\"]:1: malformed number near '1__2'"),
    ("x = 3e2x", "[string \"x = 3e2x\"]:1: malformed number near '3e2x'"),
    ("x = 5L", "[string \"x = 5L\"]:1: malformed number near '5L'"),
    ("break", "[string \"break\"]:1: no loop to break"),
    ("return return", "[string \"return return\"]:1: unexpected symbol near 'return'"),
    ("x", "[string \"x\"]:1: '=' expected near '<eof>'"),
    ("x.y", "[string \"x.y\"]:1: '=' expected near '<eof>'"),
    ("f() = 1", "[string \"f() = 1\"]:1: unexpected symbol near '='"),
    ("local function f() end f(", "[string \"local function f() end f(\"]:1: unexpected symbol near '<eof>'"),
    ("for i=1 do end", "[string \"for i=1 do end\"]:1: ',' expected near 'do'"),
    ("for a,b do end", "[string \"for a,b do end\"]:1: 'in' expected near 'do'"),
    ("for a.b = 1,2 do end", "[string \"for a.b = 1,2 do end\"]:1: '=' or 'in' expected near '.'"),
    ("x = }", "[string \"x = }\"]:1: unexpected symbol near '}'"),
    ("x = 'a' 'b'", "[string \"x = 'a' 'b'\"]:1: unexpected symbol near ''b''"),
    ("local x <const> = 1", "[string \"local x <const> = 1\"]:1: unexpected symbol near '<'"),
    ("a, b", "[string \"a, b\"]:1: '=' expected near '<eof>'"),
    ("(a) = 1", "[string \"(a) = 1\"]:1: syntax error near '='"),
    ("(a)", "[string \"(a)\"]:1: syntax error near '<eof>'"),
    ("x = function(a, 1) end", "[string \"x = function(a, 1) end\"]:1: <name> or '...' expected near '1'"),
    ("x = function(..., a) end", "[string \"x = function(..., a) end\"]:1: ')' expected near ','"),
    (
        "x = ... function f() return ... end",
        "[string \"x = ... function f() return ... end\"]:1: cannot use '...' outside a vararg function near '...'",
    ),
    (
        "function f() x = ... end",
        "[string \"function f() x = ... end\"]:1: cannot use '...' outside a vararg function near '...'",
    ),
    ("::a:: goto b", "[string \"::a:: goto b\"]:1: undefined label 'b'"),
    (
        "repeat goto a; local x ::a:: until x",
        "[string \"repeat goto a; local x ::a:: until x\"]:1: <goto a> jumps into the scope of local 'x'",
    ),
    ("do ::a:: end ::a::", "OK"),
    ("goto a; local x; ::a::", "OK"),
    ("x = 1 ;; y = 2", "[string \"x = 1 ;; y = 2\"]:1: unexpected symbol near ';'"),
    ("return 1;", "OK"),
    ("return 1; x = 1", "[string \"return 1; x = 1\"]:1: '<eof>' expected near 'x'"),
    ("f\n(1)", "[string \"f...\"]:2: ambiguous syntax (function call x new statement) near '('"),
    ("if x then elseif end", "[string \"if x then elseif end\"]:1: unexpected symbol near 'end'"),
    ("x = a.1", "[string \"x = a.1\"]:1: unexpected symbol near '.1'"),
    ("x = a:b", "[string \"x = a:b\"]:1: function arguments expected near '<eof>'"),
    ("x = #", "[string \"x = #\"]:1: unexpected symbol near '<eof>'"),
    ("x = 'abc\\", "[string \"x = 'abc\\\"]:1: unfinished string near '<eof>'"),
    ("x = [=", "[string \"x = [=\"]:1: invalid long string delimiter near '[='"),
    ("x = [=[abc", "[string \"x = [=[abc\"]:1: unfinished long string near '<eof>'"),
    ("--[==[ abc", "[string \"--[==[ abc\"]:1: unfinished long comment near '<eof>'"),
    ("x = 1 ..= 2", "[string \"x = 1 ..= 2\"]:1: unexpected symbol near '='"),
    ("x = 1 @ 2", "[string \"x = 1 @ 2\"]:1: unexpected symbol near '@'"),
    ("x = '\\x1g'", "[string \"x = '\\x1g'\"]:1: invalid escape sequence near '''"),
    ("x = \"\\1234\"", "OK"),
    ("do goto a; local x; ::a:: end", "OK"),
    (
        "do goto a; local x; ::a:: ; ::b:: ; end",
        "[string \"do goto a; local x; ::a:: ; ::b:: ; end\"]:1: <goto a> jumps into the scope of local 'x'",
    ),
    ("while true do goto a; local x ::a:: end", "OK"),
    (
        "do goto a; local x ::a:: return end",
        "[string \"do goto a; local x ::a:: return end\"]:1: <goto a> jumps into the scope of local 'x'",
    ),
    ("::a:: do ::a:: end", "OK"),
    ("x=1\ngoto a\nx=2\n\nx=3", "[string \"x=1...\"]:2: undefined label 'a'"),
    ("x=1\n\nbreak", "[string \"x=1...\"]:3: no loop to break"),
    (
        "do goto a end\n local x\n ::a:: x = 1",
        "[string \"do goto a end...\"]:1: <goto a> jumps into the scope of local 'x'",
    ),
    ("local x ::a:: goto a", "OK"),
    ("goto a; do ::a:: end", "[string \"goto a; do ::a:: end\"]:1: undefined label 'a'"),
    ("local function f() goto a end ::a::", "[string \"local function f() goto a end ::a::\"]:1: undefined label 'a'"),
    ("x = function() end\n\n::a:: ::a::", "[string \"x = function() end...\"]:3: duplicate label 'a'"),
    ("do goto a; local x; ::a:: ::b:: end", "OK"),
    ("while x do break; end", "OK"),
    ("while x do break; ; end", "[string \"while x do break; ; end\"]:1: 'end' expected near ';'"),
    ("while x do return; ; end", "[string \"while x do return; ; end\"]:1: 'end' expected near ';'"),
    ("local 1", "[string \"local 1\"]:1: '<name>' expected near '1'"),
    ("function 1() end", "[string \"function 1() end\"]:1: '<name>' expected near '1'"),
    ("function a.1() end", "[string \"function a.1() end\"]:1: '(' expected near '.1'"),
    ("function a:b.c() end", "[string \"function a:b.c() end\"]:1: '(' expected near '.'"),
    ("x = {[1] = }", "[string \"x = {[1] = }\"]:1: unexpected symbol near '}'"),
    ("x = {a = 1 b = 2}", "[string \"x = {a = 1 b = 2}\"]:1: '}' expected near 'b'"),
    ("x = f(1 2)", "[string \"x = f(1 2)\"]:1: ')' expected near '2'"),
    ("if x then\nx = 1\n", "[string \"if x then...\"]:3: 'end' expected (to close 'if' at line 1) near '<eof>'"),
    (
        "while x do\n x = 1\n  ",
        "[string \"while x do...\"]:3: 'end' expected (to close 'while' at line 1) near '<eof>'",
    ),
    ("repeat x = 1", "[string \"repeat x = 1\"]:1: 'until' expected near '<eof>'"),
    ("for i = 1, 2 do\n", "[string \"for i = 1, 2 do...\"]:2: 'end' expected (to close 'for' at line 1) near '<eof>'"),
    ("x = (1", "[string \"x = (1\"]:1: ')' expected near '<eof>'"),
    ("x = {1, 2", "[string \"x = {1, 2\"]:1: '}' expected near '<eof>'"),
    ("f(1,", "[string \"f(1,\"]:1: unexpected symbol near '<eof>'"),
    ("local t = {} t:x.y()", "[string \"local t = {} t:x.y()\"]:1: function arguments expected near '.'"),
    ("x = 1 .. ", "[string \"x = 1 .. \"]:1: unexpected symbol near '<eof>'"),
    ("a.b:c = 1", "[string \"a.b:c = 1\"]:1: function arguments expected near '='"),
    ("x = not", "[string \"x = not\"]:1: unexpected symbol near '<eof>'"),
    ("x = -", "[string \"x = -\"]:1: unexpected symbol near '<eof>'"),
    ("local a, b, = 1", "[string \"local a, b, = 1\"]:1: '<name>' expected near '='"),
    ("for i in do end", "[string \"for i in do end\"]:1: unexpected symbol near 'do'"),
    ("x = \"\\\nabc\"", "OK"),
    ("x = 'a\\z\n   b'", "OK"),
    ("x = \"\\u{41\"", "[string \"x = \"\\u{41\"\"]:1: invalid escape sequence near '\"'"),
    ("x = \"\\u{}\"", "[string \"x = \"\\u{}\"\"]:1: invalid escape sequence near '\"'"),
    ("x = \"\\u{0041}\" y = \"\\u{7FF}\\u{FFFF}\\u{10FFFF}\"", "OK"),
    ("x = 0x1.8p1 + .5e1 + 5. + 0x.1 + 0XAp-1", "OK"),
    ("x = 1.2.3", "[string \"x = 1.2.3\"]:1: malformed number near '1.2.3'"),
    ("x = 0x1.2.3", "[string \"x = 0x1.2.3\"]:1: malformed number near '0x1.2.3'"),
    ("x = 1e5e5", "[string \"x = 1e5e5\"]:1: malformed number near '1e5e5'"),
    ("x = 0x1e+5", "OK"),
    ("x = ..", "[string \"x = ..\"]:1: unexpected symbol near '..'"),
    ("x = ...", "OK"),
    ("x = a...b", "[string \"x = a...b\"]:1: unexpected symbol near '...'"),
    (
        "local function f(a, b) end x = f(a,",
        "[string \"local function f(a, b) end x = f(a,\"]:1: unexpected symbol near '<eof>'",
    ),
    ("a.b.c.d = 1 a.b.c.d", "[string \"a.b.c.d = 1 a.b.c.d\"]:1: '=' expected near '<eof>'"),
    ("x = {f()} x = {...}", "OK"),
    ("x = {[f()] = 1, g()}", "OK"),
    ("x = \"a\\\nb\\\nc\" if x then end", "OK"),
    ("    return", "OK"),
    ("x = nil + 1 y = {} .. 1", "OK"),
    ("x = \"\x01\" \"a\"", "[string \"x = \"...\"]:1: unexpected symbol near '\"a\"'"),
    ("x = \x01", "[string \"x = ...\"]:1: unexpected symbol near 'char(1)'"),
    ("x = 1\r\ny = = 2", "[string \"x = 1...\"]:2: unexpected symbol near '='"),
    ("x = 1\n\ry = = 2", "[string \"x = 1...\"]:2: unexpected symbol near '='"),
    ("x = 1\r\ry = = 2", "[string \"x = 1...\"]:3: unexpected symbol near '='"),
    ("x = 1\n\ny = = 2", "[string \"x = 1...\"]:3: unexpected symbol near '='"),
    ("\n\n x = [[\na\nb\n]] = 3", "[string \"...\"]:6: unexpected symbol near '='"),
    ("local function f()\n  return 1\nend end", "[string \"local function f()...\"]:3: '<eof>' expected near 'end'"),
    (
        "function f()\n local x = 1\n",
        "[string \"function f()...\"]:3: 'end' expected (to close 'function' at line 1) near '<eof>'",
    ),
    (
        "if x then else elseif y then end",
        "[string \"if x then else elseif y then end\"]:1: 'end' expected near 'elseif'",
    ),
    ("x = y z", "[string \"x = y z\"]:1: '=' expected near '<eof>'"),
    ("x = (f)(1) (g)", "OK"),
    ("x = function() end end", "[string \"x = function() end end\"]:1: '<eof>' expected near 'end'"),
    ("until x", "[string \"until x\"]:1: '<eof>' expected near 'until'"),
    ("elseif", "[string \"elseif\"]:1: '<eof>' expected near 'elseif'"),
    ("x = 1 x = 2 ) ", "[string \"x = 1 x = 2 ) \"]:1: unexpected symbol near ')'"),
    ("@", ":1: unexpected symbol near '@'"),
    ("$x = 1", "[string \"$x = 1\"]:1: unexpected symbol near '$'"),
    ("x = \"\\065\\x41\\u{41}\"", "OK"),
    ("a.b = function(...) local arg = ... end", "OK"),
    ("local a = {...}", "OK"),
    ("x = -\"1\"", "OK"),
    ("x = {,}", "[string \"x = {,}\"]:1: unexpected symbol near ','"),
    ("x = {1,,2}", "[string \"x = {1,,2}\"]:1: unexpected symbol near ','"),
    ("x = {1;2;}", "OK"),
    ("f{} \"x\" [[y]]", "OK"),
    ("f:m \"x\"", "OK"),
    ("x = a[1][2].b:c(1):d{}.e", "OK"),
    ("goto continue", "[string \"goto continue\"]:1: undefined label 'continue'"),
    ("local goto = 1 goto = 2", "OK"),
    ("goto(1)", "OK"),
    ("x = 0x", "[string \"x = 0x\"]:1: malformed number near '0x'"),
    ("x = 0x.", "[string \"x = 0x.\"]:1: malformed number near '0x.'"),
    ("x = 0x.p1", "[string \"x = 0x.p1\"]:1: malformed number near '0x.p1'"),
    ("x = .e1", "[string \"x = .e1\"]:1: unexpected symbol near '.'"),
    ("x = 1.e1", "OK"),
    ("x = 0x1p-1074", "OK"),
    ("x = 0xffffffffffffffffffff", "OK"),
    ("x = 1e400", "OK"),
    ("x = 9007199254740993", "OK"),
    ("x = 3 .. 4", "OK"),
    ("x = 3. .. 4", "OK"),
    ("return ... , ...", "OK"),
    ("local a <close>", "[string \"local a <close>\"]:1: unexpected symbol near '<'"),
    ("for i = 1, 2, 3, 4 do end", "[string \"for i = 1, 2, 3, 4 do end\"]:1: 'do' expected near ','"),
    ("for a, b, c, d in x do end", "OK"),
    ("x = a and b or c and d", "OK"),
    ("x = not not x", "OK"),
    ("x = - - - 1", "OK"),
    ("x = -(-0)", "OK"),
    ("if 1 then end", "OK"),
    ("while false do end", "OK"),
    ("repeat until true", "OK"),
    ("x = 2^-3^2", "OK"),
];

#[test]
fn error_messages_match_luajit() {
    let mut bad = Vec::new();
    for (src, want) in ERRORS {
        let got = match compile(src.as_bytes(), src.as_bytes()) {
            Ok(_) => "OK".to_string(),
            Err(e) => e.to_string(),
        };
        if got != *want {
            bad.push(format!("{:?}\n  want {}\n  got  {}", src, want, got));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn error_messages_in_files() {
    let e = compile(b"function f()\n\n\n\n", b"@t.lua").unwrap_err();
    assert_eq!(e.to_string(), "t.lua:5: 'end' expected (to close 'function' at line 1) near '<eof>'");
    let e = compile(b"x = 1\n\ny x", b"@test.lua").unwrap_err();
    assert_eq!(e.to_string(), "test.lua:3: '=' expected near 'x'");
    assert_eq!(e.message, b"test.lua:3: '=' expected near 'x'".to_vec());
}

#[test]
fn chunk_ids() {
    assert_eq!(chunk_id(b"@file.lua"), "file.lua");
    assert_eq!(chunk_id(b"=stdin"), "stdin");
    assert_eq!(chunk_id(b"x = = 1"), "[string \"x = = 1\"]");
    assert_eq!(chunk_id(b"x = = 1\nfoo"), "[string \"x = = 1...\"]");
    assert_eq!(chunk_id(b"\nx"), "[string \"...\"]");
    assert_eq!(chunk_id(b"a\rb"), "[string \"a...\"]");
    assert_eq!(chunk_id(b"a\0b"), "[string \"a\"]");
    assert_eq!(chunk_id(b""), "[string \"\"]");
    assert_eq!(chunk_id(b"@"), "");
    assert_eq!(chunk_id(b"="), "");
    let a48 = "a".repeat(48);
    assert_eq!(chunk_id(a48.as_bytes()), format!("[string \"{}\"]", a48));
    let a49 = "a".repeat(49);
    assert_eq!(chunk_id(a49.as_bytes()), format!("[string \"{}...\"]", "a".repeat(45)));
    let a59 = "a".repeat(59);
    assert_eq!(chunk_id(format!("@{}", a59).as_bytes()), a59);
    assert_eq!(chunk_id(format!("@{}b", a59).as_bytes()), format!("...{}b", "a".repeat(55)));
    assert_eq!(chunk_id(format!("={}b", a59).as_bytes()), a59);
}

// ---- Code shapes the VM relies on ----------------------------------------------------

fn code(src: &str) -> FuncProto {
    compile(src.as_bytes(), b"=t").unwrap_or_else(|e| panic!("{}", e))
}

fn ops(p: &FuncProto) -> Vec<Op> {
    p.code.iter().filter_map(|i| i.op()).collect()
}

#[test]
fn method_call_shape() {
    let p = code("local o = {} o:m(1)");
    let c = &p.code;
    assert_eq!(c[1], Ins::ad(Op::MOV, 2, 0));
    assert_eq!(c[2].op(), Some(Op::TGETS));
    assert_eq!((c[2].a(), c[2].b()), (1, 0));
    assert_eq!(c[4], Ins::abc(Op::CALL, 1, 3, 1));
}

#[test]
fn tail_calls_and_returns() {
    assert_eq!(ops(&code("return f(1)")), vec![Op::GGET, Op::KSHORT, Op::CALLT]);
    assert_eq!(ops(&code("return (f(1))")), vec![Op::GGET, Op::KSHORT, Op::CALL, Op::RET1]);
    assert_eq!(ops(&code("return ...")), vec![Op::VARG, Op::RET]);
    assert_eq!(ops(&code("return")), vec![Op::RET0]);
    let p = code("return 1, f()");
    assert_eq!(p.code[p.code.len() - 1], Ins::ad(Op::RET, 0, 0));
    let p = code("return 1, 2");
    assert_eq!(p.code[p.code.len() - 1], Ins::ad(Op::RET, 0, 3));
}

#[test]
fn tsetm_start_index() {
    let p = code("local t = {1, 2, ...}");
    let m = p.code.iter().find(|i| i.op() == Some(Op::TSETM)).copied().unwrap();
    assert_eq!(m.a(), 1);
    assert_eq!(p.knum[m.d()], 3.0);
    // The constant items are a template, as in LuaJIT.
    assert_eq!(p.code[0], Ins::ad(Op::TDUP, 0, 0));
    let arr = vec![Some(proto::KVal::Num(1.0)), Some(proto::KVal::Num(2.0))];
    assert_eq!(p.kgc[0], Const::Table(proto::TableTemplate { array: arr, hash: vec![] }));
    assert_eq!(code("local t = {1, x, ...}").code[0].op(), Some(Op::TDUP), "a template with a hole");
    // Room for `x` and the first vararg, as LuaJIT's `TNEW 1 3` (its count includes t[0]).
    assert_eq!(code("local t = {x, ...}").code[0], Ins::ad(Op::TNEW, 0, 2), "nothing constant: TNEW");
}

#[test]
fn constants_and_folding() {
    let p = code("local a, b, c, d, e, f = 1 + 2, -32768, 32768, -0, 0/0, 2^0.5");
    assert_eq!(p.code[0], Ins::ad(Op::KSHORT, 0, 3));
    assert_eq!(p.code[1], Ins::ad(Op::KSHORT, 1, (-32768i16) as u16));
    assert_eq!(p.code[2].op(), Some(Op::KNUM));
    assert_eq!(ops(&p)[3..], [Op::KSHORT, Op::UNM, Op::KSHORT, Op::DIVVN, Op::KNUM, Op::RET0]);
    assert_eq!(ops(&code("local x; x = 1 - x")), vec![Op::KPRI, Op::SUBNV, Op::RET0]);
    assert_eq!(ops(&code("local x; x = x ^ 2")), vec![Op::KPRI, Op::KSHORT, Op::POW, Op::RET0]);
}

#[test]
fn loops_close_captured_locals() {
    let p = code("for i = 1, 3 do local f = function() return i end end");
    let o = ops(&p);
    let forl = o.iter().position(|&x| x == Op::FORL).unwrap();
    assert_eq!(o[forl - 1], Op::UCLO);
    let p = code("while x do local y; if x then break end; f = function() return y end end");
    assert!(p.code.iter().any(|i| i.op() == Some(Op::UCLO) && i.j() != 0), "break closes and jumps");
    let p = code("for i = 1, 3 do local y = i end");
    assert!(!ops(&p).contains(&Op::UCLO));
}

#[test]
fn generic_for_layout() {
    let p = code("for k, v in pairs(t) do end");
    let o = ops(&p);
    let iterc = p.code[o.iter().position(|&x| x == Op::ITERC).unwrap()];
    assert_eq!((iterc.a(), iterc.b(), iterc.c()), (3, 3, 3));
    assert!(p.framesize >= 6);
    assert_eq!(
        p.locals.iter().map(|l| String::from_utf8_lossy(&l.name).into_owned()).collect::<Vec<_>>(),
        ["(for generator)", "(for state)", "(for control)", "k", "v"]
    );
}

#[test]
fn debug_info() {
    let p = code("local a = 1\nlocal function f(x, y, ...)\n  return x\nend\nf(\n1)");
    assert_eq!(p.lineinfo.len(), p.code.len());
    let f = &p.protos[0];
    assert_eq!((f.linedefined, f.lastlinedefined, f.numparams, f.is_vararg), (2, 4, 2, true));
    assert_eq!((p.linedefined, p.lastlinedefined, p.is_vararg), (0, 6, true));
    let call = p.code.iter().position(|i| i.op() == Some(Op::CALL)).unwrap();
    assert_eq!(p.lineinfo[call], 5, "a call is on the line of its '('");
    assert_eq!(p.locals[0].name.as_ref(), b"a");
    assert_eq!((p.locals[0].startpc, p.locals[0].endpc), (1, p.code.len() as u32));
    let q = code("local x = 1\nreturn function() return x end");
    assert_eq!(q.protos[0].upval_names[0].as_ref(), b"x");
    assert_eq!(q.protos[0].upvals[0], UpvalDesc { in_parent_stack: true, index: 0 });
}

// ---- Golden listings ---------------------------------------------------------------

fn golden_path() -> std::path::PathBuf {
    let here = std::path::Path::new(file!());
    if here.is_absolute() {
        return here.with_file_name("golden.txt");
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/compiler/golden.txt")
}

#[test]
fn golden_listings() {
    let path = golden_path();
    let text = std::fs::read_to_string(&path).expect("golden.txt");
    let bless = std::env::var_os("MOONBOX_BLESS").is_some();
    let mut out = String::new();
    let mut failures = Vec::new();
    for case in text.split("=== ").filter(|c| !c.trim().is_empty()) {
        let (title, rest) = case.split_once('\n').unwrap_or((case, ""));
        let (src, expected) = rest.split_once("--- expected\n").unwrap_or((rest, ""));
        let got = match compile(src.as_bytes(), b"=golden") {
            Ok(p) => disasm::listing(&p),
            Err(e) => format!("ERROR {}\n", e),
        };
        if got != expected {
            failures.push(format!("case {}:\n--- want\n{}--- got\n{}", title, expected, got));
        }
        out.push_str(&format!("=== {}\n{}--- expected\n{}", title, src, got));
    }
    if bless {
        std::fs::write(&path, out).expect("write golden.txt");
    } else {
        assert!(failures.is_empty(), "{}\n(MOONBOX_BLESS=1 rewrites golden.txt)", failures.join("\n"));
    }
}

// ---- Limits ------------------------------------------------------------------------

#[test]
fn limit_locals_upvalues_constants() {
    let src: String = (1..=201).map(|i| format!("local a{} = 1\n", i)).collect();
    assert_eq!(
        compile(src.as_bytes(), b"=t").unwrap_err().to_string(),
        "t:201: main function has more than 200 local variables"
    );
    let mut src: String = (1..=121).map(|i| format!("local a{} = f()\n", i)).collect();
    src.push_str("return function()\n");
    src.extend((1..=121).map(|i| format!("a{} = 1\n", i)));
    src.push_str("end");
    assert_eq!(
        compile(src.as_bytes(), b"=t").unwrap_err().to_string(),
        "t:243: function at line 122 has more than 120 upvalues"
    );
    let mut src = String::from("local function g()\n");
    src.extend((1..=70000).map(|i| format!("f({}.5)\n", i)));
    src.push_str("end");
    let e = compile(src.as_bytes(), b"=t").unwrap_err().to_string();
    // As LuaJIT: checked when the function ends, at its `end`.
    assert_eq!(e, "t:70002: function at line 1 has more than 65536 constants");
    // Numbers and GC constants have 65536 slots each (as in LuaJIT).
    let mut src = String::from("local t = {}\n");
    src.extend((1..=60000).map(|i| format!("t.k{i} = {i}.5\n")));
    let p = compile(src.as_bytes(), b"=t").unwrap();
    assert_eq!((p.knum.len(), p.kgc.len()), (60000, 60000));
    let mut src = String::from("local t = {}\n");
    src.extend((1..=70000).map(|i| format!("t.k{i} = 1\n")));
    assert_eq!(
        compile(src.as_bytes(), b"=t").unwrap_err().to_string(),
        "t:70002: main function has more than 65536 constants"
    );
    // Constant items of a constructor go into a template and take no slot.
    let mut src = String::from("return {\n");
    src.extend((1..=70000).map(|i| format!("k{i} = {i}.5, 'v{i}',\n")));
    src.push('}');
    let p = compile(src.as_bytes(), b"=t").unwrap();
    assert_eq!((p.knum.len(), p.kgc.len()), (0, 1));
}

#[test]
fn limit_registers_and_jumps() {
    let mut src = String::from("x = f(");
    src.extend((1..=300).map(|_| "1,\n"));
    src.push_str("1)");
    assert_eq!(
        compile(src.as_bytes(), b"=t").unwrap_err().to_string(),
        "t:250: function or expression too complex near '1'"
    );
    let mut src = String::from("while x do\n");
    src.extend((1..=40000).map(|_| "x = 1\n"));
    src.push_str("end");
    assert_eq!(
        compile(src.as_bytes(), b"=t").unwrap_err().to_string(),
        "t:40002: control structure too long near 'end'"
    );
    let src = format!("x = {}1{}", "(".repeat(199), ")".repeat(199));
    assert_eq!(compile(src.as_bytes(), b"=t").unwrap_err().to_string(), "t:1: chunk has too many syntax levels");
}

/// Deep nesting must end in a clean error on a default-sized (2 MiB) test thread.
#[test]
fn deep_nesting_never_overflows() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let n = 1_000_000;
            let cases = [
                format!("x = {}1{}", "(".repeat(n), ")".repeat(n)),
                format!("x = {}{}", "{".repeat(n), "}".repeat(n)),
                format!("x = y{}", ".b".repeat(n)),
                format!("x = {}x", "- ".repeat(n)),
                format!("x = {}x", "-".repeat(n)),
                format!("x = {}x", "not ".repeat(n)),
                format!("{}{}", "do ".repeat(n), "end ".repeat(n)),
                format!("x = {}1", "function() return ".repeat(n)),
                format!("x = {}b", "a .. ".repeat(n)),
                format!("x = {}", "f(".repeat(n)),
                format!("x = {}1", "a[".repeat(n)),
                format!("x = {}", "{a=".repeat(n)),
                "repeat ".repeat(n),
                "if x then ".repeat(n),
                format!("x = {}1", "2 ^ ".repeat(n)),
            ];
            for c in &cases {
                let _ = compile(c.as_bytes(), b"=t");
            }
            let ok = compile(format!("x = y{}", ".b".repeat(n)).as_bytes(), b"=t");
            assert!(ok.is_ok());
        })
        .unwrap()
        .join()
        .unwrap();
}

// ---- No panics on arbitrary input ---------------------------------------------------

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_inputs_do_not_panic() {
    const WORDS: &[&str] = &[
        "local", "function", "end", "if", "then", "else", "elseif", "while", "do", "for", "in", "repeat", "until",
        "return", "break", "goto", "::", "x", "y", "f", "t", "=", "==", "~=", "<", ">", "<=", ">=", "+", "-", "*", "/",
        "%", "^", "..", "...", "#", "not", "and", "or", "(", ")", "{", "}", "[", "]", ",", ";", ":", ".", "1", "0.5",
        "\"s\"", "nil", "true", "false", "\n", "a", "b", "lbl",
    ];
    let mut rng = Rng(0x2545F4914F6CDD1D);
    for _ in 0..20000 {
        let n = (rng.next() % 30) as usize;
        let mut src = String::new();
        for _ in 0..n {
            src.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
            src.push(' ');
        }
        if let Ok(p) = compile(src.as_bytes(), b"=r") {
            let mut s = String::new();
            disasm::disassemble(&p, &mut s);
        }
    }
    for _ in 0..5000 {
        let n = (rng.next() % 40) as usize;
        let bytes: Vec<u8> = (0..n).map(|_| (rng.next() % 256) as u8).collect();
        let _ = compile(&bytes, &bytes);
    }
}
