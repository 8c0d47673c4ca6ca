//! File-system isolation: a tenant sees its grants and nothing else; `..`, absolute
//! paths, symlinks pointing out and writes to read-only grants fail as Lua errors.

mod common;

use common::{run, stderr, stdout, TempDir};
use moonbox_host_wasi::{Outcome, Tenant};

/// A layout: `rw/` (read-write grant), `ro/` (read-only grant) and `secret/` (not
/// granted) side by side, with symlinks inside the grants pointing at the secret.
struct Layout {
    root: TempDir,
}

impl Layout {
    fn new() -> Layout {
        let root = TempDir::new("files");
        let p = root.path();
        for d in ["rw", "ro", "secret"] {
            std::fs::create_dir(p.join(d)).unwrap();
        }
        std::fs::write(p.join("rw/data.txt"), "inside rw\n").unwrap();
        std::fs::write(p.join("ro/data.txt"), "inside ro\n").unwrap();
        std::fs::write(p.join("secret/s.txt"), "SECRET\n").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(p.join("secret/s.txt"), p.join("rw/abs-link")).unwrap();
            std::os::unix::fs::symlink("../secret/s.txt", p.join("rw/rel-link")).unwrap();
            std::os::unix::fs::symlink("../secret", p.join("ro/dir-link")).unwrap();
            std::os::unix::fs::symlink("data.txt", p.join("rw/ok-link")).unwrap();
        }
        Layout { root }
    }

    fn dir(&self, d: &str) -> String {
        format!("{}/{d}", self.root.lua())
    }

    fn tenant(&self) -> Tenant {
        Tenant::new().allow_write(self.dir("rw")).unwrap().allow_read(self.dir("ro")).unwrap().cwd(self.dir("rw"))
    }
}

/// Runs `code` with the layout's grants; `R` in `code` is the layout's root.
fn run_in(l: &Layout, code: &str) -> moonbox_host_wasi::RunResult {
    let r = run(&l.tenant(), &code.replace("$R", &l.root.lua()));
    assert_eq!(r.outcome, Outcome::Ok, "stderr: {}", stderr(&r));
    r
}

#[test]
fn reads_and_writes_inside_grants() {
    let l = Layout::new();
    let r = run_in(
        &l,
        r#"
        print(io.open("$R/rw/data.txt"):read("*l"))     -- absolute
        print(io.open("data.txt"):read("*l"))           -- relative to the kept cwd
        print(io.open("$R/ro/data.txt"):read("*l"))
        print(io.open("$R/rw/./data.txt"):read("*l"))
        -- A ".." that leaves the grant it starts in fails even when the path comes
        -- back into a grant (WASI resolves it against the grant's directory handle).
        assert(io.open("../rw/data.txt") == nil)
        local f = assert(io.open("new.txt", "w")); f:write("written"); f:close()
        -- The sandboxed profile has no os.remove / os.rename, grants or not.
        assert(os.rename == nil and os.remove == nil)
        print(io.open("$R/rw/ok-link"):read("*l"))      -- a symlink that stays inside
        "#,
    );
    assert_eq!(stdout(&r), "inside rw\ninside rw\ninside ro\ninside rw\ninside rw\n");
    assert_eq!(std::fs::read_to_string(l.root.path().join("rw/new.txt")).unwrap(), "written");
}

#[test]
fn escapes_fail() {
    let l = Layout::new();
    let r = run_in(
        &l,
        r#"
        local function try(what, ...)
          local f, err = io.open(...)
          print(what, f == nil, err)
        end
        try("dotdot", "$R/rw/../secret/s.txt")
        try("dotdot-rel", "../secret/s.txt")
        try("deep", "../../../../../../etc/passwd")
        try("absolute", "/etc/passwd")
        try("root", "/")
        try("abs-link", "$R/rw/abs-link")
        try("rel-link", "rel-link")
        try("dir-link", "$R/ro/dir-link/s.txt")
        try("ro-write", "$R/ro/new.txt", "w")
        try("ro-append", "$R/ro/data.txt", "a")
        print("dofile", pcall(dofile, "$R/secret/s.txt"))
        print("loadfile", loadfile("/etc/passwd"))
        "#,
    );
    let out = stdout(&r);
    for line in out.lines() {
        let what = line.split('\t').next().unwrap();
        assert!(
            line.contains("true\t") && (line.contains("No such file") || line.contains("Permission denied"))
                || (what == "dofile" || what == "loadfile") && !line.contains("\ttrue\n"),
            "escape not refused properly: {line}"
        );
        assert!(!line.contains("SECRET"), "{line}");
    }
    assert!(!out.contains("root:"), "{out}");
    // Nothing changed on the host.
    assert!(l.root.path().join("ro/data.txt").exists());
    assert!(!l.root.path().join("ro/new.txt").exists());
    assert!(!l.root.path().join("secret/x.txt").exists());
    assert!(l.root.path().join("rw/data.txt").exists());
    eprintln!("{out}");
}

#[test]
fn no_grants_means_no_files() {
    let l = Layout::new();
    // Without a grant there is no io library at all (as for `Lua::sandboxed()`).
    let r = run(&Tenant::new(), "print(io, dofile, loadfile)");
    assert_eq!(r.outcome, Outcome::Ok);
    assert_eq!(stdout(&r), "nil\tnil\tnil\n");
    let r = run(&Tenant::new(), &format!("print(io.open('{}/rw/data.txt'))", l.root.lua()));
    assert!(
        matches!(&r.outcome, Outcome::LuaError { message } if message.contains("attempt to index global 'io'")),
        "{:?}",
        r.outcome
    );
}

#[test]
fn dangerous_functions_are_gone() {
    let r = run(
        &Tenant::new(),
        r#"
        print(os.execute, io, os.getenv, os.exit, os.tmpname, package.loadlib)
        print(debug.getinfo, debug.sethook, debug.traceback ~= nil)
        print(string.dump, load("\27LJ\2"))
        print(pcall(collectgarbage, "stop"))
        "#,
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", stderr(&r));
    let out = stdout(&r);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "nil\tnil\tnil\tnil\tnil\tnil");
    assert_eq!(lines[1], "nil\tnil\ttrue");
    assert!(lines[2].starts_with("nil\tnil\t"), "{}", lines[2]);
    assert!(lines[3].starts_with("false\t"), "{}", lines[3]);
}
