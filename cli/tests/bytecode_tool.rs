//! `moonbox -b`: listings in OpenResty `luajit -bl`/`-bL`'s shape, saved chunks that
//! run, C arrays and ELF objects that a C compiler links, and luajit's option forms.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MOONBOX: &str = env!("CARGO_BIN_EXE_moonbox");

fn moonbox_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(MOONBOX)
        .args(args)
        .current_dir(dir)
        .env_remove("LUA_INIT")
        .stdin(Stdio::null())
        .output()
        .expect("run moonbox")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scratch directory holding `hello.lua`, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moonbox-bc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello-1.lua"), "local t = {1, x = 2.5}\nprint('Hello', t[1] + 0.25)\n").unwrap();
    dir
}

const LISTING: &str = "\
-- BYTECODE -- hello-1.lua:0-3
KGC    0    table
KGC    1    \"print\"
KGC    2    \"Hello\"
KN    0    0.25
0001    TDUP     0   0      ; {1 array, 1 hash}
0002    GGET     1   1      ; \"print\"
0003    KSTR     2   2      ; \"Hello\"
0004    TGETB    3   0   1
0005    ADDVN    3   3   0  ; 0.25
0006    CALL     1   3   1
0007    RET0

";

#[test]
fn listings_have_luajit_bl_shape() {
    let dir = scratch("list");
    let o = moonbox_in(&dir, &["-bl", "hello-1.lua"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), LISTING);
    // -bL adds the line column; -b -L is the same option given separately.
    let o = moonbox_in(&dir, &["-b", "-L", "hello-1.lua"]);
    let with_lines = text(&o.stdout);
    assert!(with_lines.contains("\n0002     [2]    GGET     1   1      ; \"print\"\n"), "{with_lines}");
    assert!(with_lines.contains("\nKN    0    0.25\n"), "{with_lines}");
    // With an output file the listing goes there.
    let o = moonbox_in(&dir, &["-bl", "hello-1.lua", "out.txt"]);
    assert!(o.status.success() && o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(dir.join("out.txt")).unwrap(), LISTING);
}

#[test]
fn saved_chunks_run_and_strip_debug_info_by_default() {
    let dir = scratch("save");
    std::fs::write(dir.join("err.lua"), "local x = nil\nreturn x.field\n").unwrap();
    for (flags, want) in [
        ("-b", "err.out:0: attempt to index a nil value"),
        ("-bg", "err.lua:2: attempt to index local 'x' (a nil value)"),
    ] {
        let o = moonbox_in(&dir, &[flags, "err.lua", "err.out"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = moonbox_in(&dir, &["err.out"]);
        let first = text(&o.stderr).lines().next().unwrap_or("").to_string();
        assert!(first.ends_with(want), "{flags}: {first}");
    }
    let o = moonbox_in(&dir, &["-be", "print[[Hello World]]", "e.out"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&moonbox_in(&dir, &["e.out"]).stdout), "Hello World\n");
    // `-` is stdout; the result is a loadable chunk.
    let o = moonbox_in(&dir, &["-b", "hello-1.lua", "-"]);
    std::fs::write(dir.join("piped.out"), &o.stdout).unwrap();
    assert_eq!(text(&moonbox_in(&dir, &["piped.out"]).stdout), "Hello\t1.25\n");
    // A saved chunk lists like its source, minus the stripped line numbers.
    let o = moonbox_in(&dir, &["-bl", "piped.out"]);
    assert!(text(&o.stdout).contains("0006    CALL     1   3   1\n"), "{}", text(&o.stdout));
}

#[test]
fn c_files_and_objects_link_into_a_program() {
    let dir = scratch("c");
    let o = moonbox_in(&dir, &["-b", "hello-1.lua", "hello-1.c"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let c = std::fs::read_to_string(dir.join("hello-1.c")).unwrap();
    let head: Vec<&str> = c.lines().take(7).collect();
    assert_eq!(
        head,
        [
            "#ifdef __cplusplus",
            "extern \"C\"",
            "#endif",
            "#ifdef _WIN32",
            "__declspec(dllexport)",
            "#endif",
            "const unsigned char luaJIT_BC_hello_1[] = {"
        ]
    );
    let o = moonbox_in(&dir, &["-b", "-n", "mod.name", "hello-1.lua", "x.h"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let h = std::fs::read_to_string(dir.join("x.h")).unwrap();
    assert!(h.starts_with("#define luaJIT_BC_mod_name_SIZE "), "{h}");
    assert!(h.lines().nth(1) == Some("static const unsigned char luaJIT_BC_mod_name[] = {"), "{h}");
    let chunk = moonbox_in(&dir, &["-b", "hello-1.lua", "-"]).stdout;
    // A C program that writes the embedded chunk back out, linked once against the .c
    // and once against the object file: both must reproduce the raw chunk.
    std::fs::write(
        dir.join("main.c"),
        format!(
            "#include <stdio.h>\nextern const unsigned char luaJIT_BC_hello_1[];\n\
             int main(void) {{ fwrite(luaJIT_BC_hello_1, 1, {}, stdout); return 0; }}\n",
            chunk.len()
        ),
    )
    .unwrap();
    let o = moonbox_in(&dir, &["-b", "hello-1.lua", "hello-1.o"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for part in ["hello-1.c", "hello-1.o"] {
        let cc = Command::new("cc")
            .args(["-o", "prog", "main.c", part])
            .current_dir(&dir)
            .output()
            .expect("a C compiler (cc)");
        assert!(cc.status.success(), "{part}: {}", text(&cc.stderr));
        let run = Command::new(dir.join("prog")).output().unwrap();
        assert_eq!(run.stdout, chunk, "{part}");
    }
}

#[test]
fn bad_options_print_usage_or_a_reason() {
    let dir = scratch("bad");
    for args in [
        &["-b"][..],
        &["-b", "hello-1.lua"],
        &["-bn", "hello-1.lua"],
        &["-bx", "a", "b"],
        &["-bnl", "m", "hello-1.lua", "x.c"],
    ] {
        let o = moonbox_in(&dir, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(text(&o.stderr).contains("-b[options] input output"), "{args:?}: {}", text(&o.stderr));
    }
    for (args, msg) in [
        (&["-b", "-t", "exe", "hello-1.lua", "x"][..], "unknown file type"),
        (&["-b", "-n", "a b", "hello-1.lua", "x.c"], "bad module name"),
        (&["-b", "nosuch.lua", "x"], "cannot open nosuch.lua"),
        (&["-be", "x = = 1", "x"], "[string \"x = = 1\"]:1: unexpected symbol near '='"),
    ] {
        let o = moonbox_in(&dir, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let line = text(&o.stderr);
        assert!(line.contains(msg), "{args:?}: {line}");
    }
}

#[test]
fn bare_dash_o_is_level_three_and_takes_no_argument() {
    let dir = scratch("o");
    let o = moonbox_in(&dir, &["-O", "hello-1.lua"]);
    assert_eq!(text(&o.stdout), "Hello\t1.25\n", "{}", text(&o.stderr));
    let o = moonbox_in(&dir, &["-O+bad", "hello-1.lua"]);
    assert!(text(&o.stderr).contains("unknown or malformed optimization flag '+bad'"), "{}", text(&o.stderr));
}
