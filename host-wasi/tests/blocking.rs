//! The deadline stops a tenant whatever it is blocked on: a FIFO inside a grant
//! (blocked opening it, or reading it), a stdin that never closes.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{run, stderr, TempDir};
use moonbox_host_wasi::{Outcome, Tenant};

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo (coreutils) must be installed for this test");
    assert!(st.success(), "mkfifo {} failed", path.display());
}

fn tenant(dir: &TempDir) -> Tenant {
    Tenant::new().timeout(Some(Duration::from_millis(500))).allow_read(dir.path()).unwrap()
}

#[test]
fn opening_a_fifo_without_a_writer_times_out() {
    let d = TempDir::new("fifo-open");
    mkfifo(&d.path().join("fifo"));
    let r = run(&tenant(&d), &format!("local f = io.open('{}/fifo') print('opened', f)", d.lua()));
    assert_eq!(r.outcome, Outcome::Timeout, "{}", stderr(&r));
    assert!(r.stdout.is_empty());
    let took = r.wall_time;
    assert!(took >= Duration::from_millis(490) && took < Duration::from_millis(1000), "{took:?}");
    // The sandbox goes on serving (the thread stuck in open(2) is not its own).
    let r = run(&tenant(&d), "print('next')");
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
}

/// With a writer that never writes, the open succeeds and the read does not block:
/// wasmtime-wasi reads files at a position (`pread`), which a FIFO refuses at once.
/// (Were it ever to block, the deadline would stop it as it stops the open above.)
#[test]
fn reading_a_fifo_with_a_silent_writer_does_not_hang() {
    let d = TempDir::new("fifo-read");
    let fifo = d.path().join("fifo");
    mkfifo(&fifo);
    // A writer that opens the FIFO (so the tenant's open succeeds) and never writes.
    let writer = std::thread::spawn(move || {
        let f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        std::thread::sleep(Duration::from_secs(1));
        drop(f);
    });
    let r =
        run(&tenant(&d), &format!("local f = assert(io.open('{}/fifo')) print('opened') print(f:read('*a'))", d.lua()));
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    assert_eq!(String::from_utf8_lossy(&r.stdout), "opened\nnil\tInvalid seek\t5\n");
    assert!(r.wall_time < Duration::from_millis(490), "{:?}", r.wall_time);
    writer.join().unwrap();
}

/// Runs the sandbox CLI, killing it (and failing) if it outlives `limit`.
fn cli_within(cmd: &mut Command, limit: Duration) -> (Option<i32>, String, Duration) {
    let t0 = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the sandbox CLI was still running after {limit:?}: the deadline did not stop it");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code(), err, t0.elapsed())
}

#[test]
fn a_stdin_that_never_closes_times_out() {
    let d = TempDir::new("stdin");
    // Warm the compiled-guest cache first (a cold one costs seconds of compiling,
    // which is not what is timed here).
    let warm = Command::new(env!("CARGO_BIN_EXE_moonbox-sandbox")).args(["-e", "print(1)"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&warm.stdout), "1\n", "{}", String::from_utf8_lossy(&warm.stderr));
    // The script comes from stdin (`-`); the pipe stays open and silent.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moonbox-sandbox"));
    cmd.current_dir(d.path()).args(["--timeout", "500ms", "-"]).stdin(Stdio::piped());
    let t0 = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stdin = child.stdin.take();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still blocked on stdin after 5 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(5), "{err}");
    assert_eq!(err, "moonbox: stdin: timeout after 500ms (--timeout)\n");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[test]
fn the_command_line_stops_a_fifo_read_at_the_deadline() {
    let d = TempDir::new("fifo-cli");
    mkfifo(&d.path().join("fifo"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moonbox-sandbox"));
    cmd.current_dir(d.path())
        .args(["--timeout", "700ms", "--allow-read", ".", "-e", "print(io.lines('fifo')())"])
        .stdin(Stdio::null());
    let (code, err, took) = cli_within(&mut cmd, Duration::from_secs(20));
    assert_eq!(code, Some(5), "{err}");
    assert_eq!(err, "moonbox: (command line): timeout after 700ms (--timeout)\n");
    // The deadline plus the start (the first run of a test binary may compile the
    // guest into the cache: seconds).
    assert!(took < Duration::from_secs(20), "{took:?}");
}
