//! The `moonbox-sandbox` command: paths inside grants behave as natively, errors
//! print as the native CLI prints them.

mod common;

use std::process::Command;

use common::TempDir;

fn sandbox_cmd(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_moonbox-sandbox"));
    c.current_dir(dir);
    c
}

#[test]
fn script_with_grants_relative_and_absolute() {
    let d = TempDir::new("cli");
    std::fs::create_dir(d.path().join("data")).unwrap();
    std::fs::write(d.path().join("data/in.txt"), "hello\n").unwrap();
    std::fs::write(
        d.path().join("main.lua"),
        "local a = ...\n\
         print(arg[0], a)\n\
         print(io.open('data/in.txt'):read('*l'))\n\
         print(io.open(arg[1] .. '/data/in.txt'):read('*l'))\n\
         print(io.open('/etc/passwd'))\n\
         local f = assert(io.open('data/out.txt', 'w')) f:write('ok') f:close()\n",
    )
    .unwrap();
    let out = sandbox_cmd(d.path())
        .args(["--allow-write", ".", "--memory", "64M", "--timeout", "5s", "main.lua"])
        .arg(d.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("main.lua\t{}", d.lua()));
    assert_eq!(lines[1], "hello");
    assert_eq!(lines[2], "hello");
    assert!(lines[3].starts_with("nil\t/etc/passwd: "), "{}", lines[3]);
    assert_eq!(std::fs::read_to_string(d.path().join("data/out.txt")).unwrap(), "ok");
}

#[test]
fn errors_and_limits() {
    let d = TempDir::new("cli-err");
    std::fs::write(d.path().join("bad.lua"), "local x = 1\nerror('boom')\n").unwrap();
    let out = sandbox_cmd(d.path()).args(["bad.lua"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("moonbox: bad.lua:2: boom\nstack traceback:"), "{err}");

    // Exit statuses as the native CLI's: 3 memory, 4 fuel, 5 timeout.
    let out = sandbox_cmd(d.path()).args(["--timeout", "200ms", "-e", "while true do end"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "moonbox: (command line): timeout after 200ms (--timeout)\n");

    let out = sandbox_cmd(d.path()).args(["--fuel=1000000", "-e", "while true do end"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "moonbox: (command line): CPU budget exhausted (--fuel 1000000)\n"
    );

    let out = sandbox_cmd(d.path()).args(["--memory", "16M", "-e", "local s = ('x'):rep(2^30)"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not enough memory"));

    let out = sandbox_cmd(d.path()).args(["missing.lua"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "moonbox: cannot open missing.lua: No such file or directory\n");
}
