//! `$` parameters, with what luajit 2.1 answers for the same calls (in the same
//! order, so the anonymous struct gets the same number).

use crate::ffi::{CParseError, CTState, CTypeId, Param, Target, NS_DEFAULT};

fn t(cts: &mut CTState, s: &str, ps: &[Param]) -> String {
    match cts.parse_type(s.as_bytes(), ps) {
        Ok(id) => format!("ctype<{}>", String::from_utf8_lossy(&cts.repr(id))),
        Err(CParseError::BadParam(i)) => format!("bad param {i}"),
        Err(e) => format!("ERR {e}"),
    }
}

#[test]
fn type_parameters_as_luajit() {
    let mut cts = CTState::new(Target::X86_64_SYSV);
    let int = Param::Type(CTypeId::INT32);
    let name = |s: &str| Param::Name(s.as_bytes().to_vec());
    let cases: Vec<(&str, Vec<Param>, &str)> = vec![
        ("$ *", vec![int.clone()], "ctype<int *>"),
        ("int[$]", vec![Param::Int(5)], "ctype<int [5]>"),
        ("$", vec![Param::Int(5)], "ERR declaration specifier expected near '$'"),
        ("int", vec![Param::Int(1)], "ERR wrong number of type parameters"),
        ("$$", vec![int.clone()], "ERR syntax error near '$'"),
        ("$x", vec![int.clone()], "ERR syntax error near 'x'"),
        ("$", vec![], "ERR wrong number of type parameters"),
        ("$", vec![Param::Bad], "bad param 0"),
        ("$", vec![name("foo")], "ERR declaration specifier expected near '$'"),
        ("struct $", vec![name("foo")], "ERR undeclared or implicit tag 'foo'"),
        ("struct { $ a; int b[$]; }", vec![int.clone(), Param::Int(3)], "ctype<struct 99>"),
        ("$[$]", vec![int.clone(), Param::Int(-1)], "ERR size of C type is unknown or too large"),
        ("const $", vec![int.clone()], "ctype<const int>"),
        ("$ (*)($, $)", vec![int.clone(), int.clone(), int.clone()], "ctype<int (*)()>"),
        ("int $", vec![name("name")], "ERR '<eof>' expected near '$'"),
        ("$ $", vec![int.clone(), name("x")], "ERR '<eof>' expected near '$'"),
        ("int[$]", vec![Param::Int(i32::MIN)], "ERR size of C type is unknown or too large"),
        ("int[$]", vec![Param::Int(2)], "ctype<int [2]>"),
    ];
    for (s, ps, want) in cases {
        assert_eq!(t(&mut cts, s, &ps), want, "{s}");
    }
    cts.cdef(b"struct $ { int x; }; typedef $ $;", &[name("pfoo"), int.clone(), name("pint")]).unwrap();
    assert_eq!(t(&mut cts, "struct pfoo", &[]), "ctype<struct pfoo>");
    assert_eq!(t(&mut cts, "pint", &[]), "ctype<int>");
    let e = cts.cdef(b"int $;", &[Param::Int(1)]).unwrap_err();
    assert_eq!(e.to_string(), "'<identifier>' expected near '$'");
    cts.cdef(b"enum { $ = $ };", &[name("PK"), Param::Int(42)]).unwrap();
    let pk = cts.get_name(b"PK", NS_DEFAULT).unwrap();
    assert_eq!(cts.get(pk).size, 42);
    let pfoo = cts.parse_type(b"struct pfoo", &[]).unwrap();
    cts.cdef(b"typedef $ arr_t[$];", &[Param::Type(pfoo), Param::Int(4)]).unwrap();
    let arr = cts.parse_type(b"arr_t", &[]).unwrap();
    assert_eq!(cts.size_of(arr), Some(16));
    let e = cts.cdef(b"int a; $", std::slice::from_ref(&int)).unwrap_err();
    assert_eq!(e.to_string(), "'<identifier>' expected near '<eof>'");
    // An id that is not in the table is refused like a non-ctype value.
    assert_eq!(cts.parse_type(b"$", &[Param::Type(CTypeId(60000))]), Err(CParseError::BadParam(0)));
}

#[test]
fn failed_declarations_leave_no_trace() {
    let mut cts = CTState::new(Target::X86_64_SYSV);
    let n = cts.len();
    assert!(cts.cdef(b"struct a { int x; }; typedef int t1; enum { C1 = 3 }; int bad bad;", &[]).is_err());
    assert_eq!(cts.len(), n);
    assert!(cts.parse_type(b"struct a", &[]).is_err());
    assert!(cts.get_name(b"t1", NS_DEFAULT).is_none());
    assert!(cts.get_name(b"C1", NS_DEFAULT).is_none());
    // Interned types made by the failed declaration are gone too: the next new
    // type gets the first free id again.
    assert_eq!(cts.parse_type(b"struct { int x; }", &[]).unwrap(), CTypeId(n as u32));
    // A forward-declared struct whose definition failed stays "being defined",
    // as in LuaJIT: defining it again is a redefinition.
    cts.cdef(b"struct fwd;", &[]).unwrap();
    let e = cts.cdef(b"struct fwd { int x; bad; };", &[]).unwrap_err();
    assert_eq!(e.to_string(), "declaration specifier expected near 'bad'");
    let e = cts.cdef(b"struct fwd { int x; };", &[]).unwrap_err();
    assert_eq!(e.to_string(), "attempt to redefine 'fwd'");
    // One completed by a declaration that then failed keeps its size but not
    // the dropped members (LuaJIT keeps dangling ones).
    cts.cdef(b"struct fwd2;", &[]).unwrap();
    assert!(cts.cdef(b"struct fwd2 { int x; double y; }; oops", &[]).is_err());
    let id = cts.parse_type(b"struct fwd2", &[]).unwrap();
    assert_eq!(cts.size_of(id), Some(16));
    assert_eq!(cts.offset_of(id, b"y"), None);
}
