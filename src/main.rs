//! The `moonbox` command-line interpreter, compatible with `luajit`'s basic use.

mod sandbox_cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use moonbox::engine::stdlib::base::read_source;
use moonbox::engine::value::Value;
use moonbox::engine::vm::{ErrorKind, LuaError, Vm};

const USAGE: &str = "usage: {prog} [options]... [script [args]...].
Available options are:
  -e chunk  Execute string 'chunk'.
  -l name   Require library 'name'.
  -b ...    Save or list bytecode (-b input output, -bl input).
  -j cmd    Accepted for compatibility with LuaJIT (the JIT is not built yet).
  -O[opt]   Accepted for compatibility with LuaJIT.
  -i        Enter interactive mode after executing 'script'.
  -v        Show version information.
  -E        Ignore environment variables.
  --        Stop handling options.
  -         Execute stdin and stop handling options.";

const VERSION: &str = concat!(
    "moonbox ",
    env!("CARGO_PKG_VERSION"),
    " -- Copyright (C) 2026 the moonbox authors. A Lua 5.1 / LuaJIT 2.1-dialect engine."
);

fn usage(prog: &str) -> String {
    USAGE.replace("{prog}", prog)
}

fn main() -> ExitCode {
    // Run on a thread with a roomy stack: native code that re-enters Lua (sort
    // comparators, metamethods called from library functions) and the parser use the
    // Rust stack, within fixed depth limits.
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = sandbox_cli::hand_over(&args) {
        return ExitCode::from(code);
    }
    let child = std::thread::Builder::new().stack_size(256 << 20).spawn(move || run(args));
    match child.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => {
            eprintln!("moonbox: internal error");
            ExitCode::from(1)
        }
    }
}

struct Cli {
    vm: Vm,
    progname: String,
}

fn run(argv: Vec<String>) -> u8 {
    let progname = argv.first().cloned().unwrap_or_else(|| "moonbox".into());
    let mut cli = Cli { vm: Vm::new(), progname };
    // A debugging aid: collect in tiny steps everywhere and check the collector's
    // invariant after every mark phase (see ARCHITECTURE.md).
    if std::env::var_os("MOONBOX_GC_STRESS").is_some() {
        cli.vm.heap.stress = true;
        cli.vm.heap.verify = true;
    }
    let mut i = 1;
    let mut interactive = false;
    let mut version = false;
    let mut no_env = false;
    let mut actions: Vec<(char, String)> = Vec::new();
    let mut script: Option<usize> = None;
    while i < argv.len() {
        let a = &argv[i];
        if !a.starts_with('-') {
            script = Some(i);
            break;
        }
        match a.as_str() {
            "--" => {
                i += 1;
                if i < argv.len() {
                    script = Some(i);
                }
                break;
            }
            "-" => {
                script = Some(i);
                break;
            }
            "-i" => {
                interactive = true;
                version = true;
            }
            "-v" => version = true,
            "-E" => no_env = true,
            "-e" | "-l" | "-j" => {
                let Some(v) = argv.get(i + 1) else {
                    eprintln!("{}", usage(&cli.progname));
                    return 1;
                };
                actions.push((a.as_bytes()[1] as char, v.clone()));
                i += 1;
            }
            _ if a.starts_with("-b") => return bytecode_tool(&cli.progname, &argv[i..]),
            _ if a.starts_with("-e") => actions.push(('e', a[2..].to_string())),
            _ if a.starts_with("-l") => actions.push(('l', a[2..].to_string())),
            _ if a.starts_with("-j") || a.starts_with("-O") => {}
            _ => {
                eprintln!("{}", usage(&cli.progname));
                return 1;
            }
        }
        i += 1;
    }
    let script_idx = script;
    cli.set_arg_table(&argv, script_idx.unwrap_or(argv.len()));
    if version {
        println!("{VERSION}");
    }
    if no_env {
        // -E: LUA_PATH / LUA_CPATH do not apply either (the libraries read them
        // when the state was created).
        moonbox::engine::stdlib::package::ignore_env_paths(&mut cli.vm);
    } else if let Err(code) = cli.lua_init() {
        return code;
    }
    for (kind, v) in &actions {
        let ok = match kind {
            'e' => cli.do_string(v.as_bytes(), b"=(command line)"),
            'l' => cli.require(v),
            _ => true,
        };
        if !ok {
            return 1;
        }
    }
    if let Some(si) = script_idx {
        let path = &argv[si];
        let rest: Vec<String> = argv[si + 1..].to_vec();
        let ok = if path == "-" { cli.do_file(None, &rest) } else { cli.do_file(Some(path), &rest) };
        if !ok {
            return 1;
        }
    }
    if interactive || (script_idx.is_none() && actions.is_empty() && !version) {
        if interactive || std::io::stdin().is_terminal() {
            if !interactive {
                println!("{VERSION}");
            }
            repl(&mut cli);
        } else if script_idx.is_none() && actions.is_empty() {
            return if cli.do_file(None, &[]) { 0 } else { 1 };
        }
    }
    flush_stdout();
    0
}

fn flush_stdout() {
    let _ = std::io::stdout().flush();
}

impl Cli {
    fn set_arg_table(&mut self, argv: &[String], script: usize) {
        let t = self.vm.new_table(argv.len(), 2);
        for (i, a) in argv.iter().enumerate() {
            let idx = i as i64 - script as i64;
            let v = self.vm.str_value(a.as_bytes());
            t.get_mut().set_int(idx, v);
        }
        let g = self.vm.globals;
        self.vm.set_field(g, "arg", t.to_value());
    }

    /// Prints an error as the standalone interpreter does: `argv[0]: message` and
    /// the traceback; an error object that is neither a string, a number nor has
    /// `__tostring` gets a fixed text and no traceback.
    fn report(&mut self, e: &LuaError) {
        flush_stdout();
        let v = e.value();
        if v.is_nil() {
            // `error(nil)`: luajit reports nothing, but still fails.
            return;
        }
        let printable = v.is_string()
            || v.is_number()
            || !self.vm.metamethod(v, moonbox::engine::vm::MetaEvent::Tostring).is_nil();
        let msg = self.vm.error_to_string(e);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}: {}", self.progname_short(), msg);
        if printable {
            if let Some(tb) = e.traceback() {
                let _ = writeln!(err, "{tb}");
            }
        }
        let _ = err.flush();
    }

    /// The prefix of error messages: argv[0] as given, as luajit prints it.
    fn progname_short(&self) -> &str {
        &self.progname
    }

    fn call(&mut self, f: Value, args: &[Value]) -> bool {
        let r = self.vm.call_value(f, args, 0);
        match r {
            Ok(_) => true,
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    fn do_string(&mut self, src: &[u8], name: &[u8]) -> bool {
        match self.vm.load(src, name, None) {
            Ok(f) => self.call(f, &[]),
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    fn do_file(&mut self, path: Option<&str>, args: &[String]) -> bool {
        let src = match read_source(path) {
            Ok(s) => s,
            Err(m) => {
                eprintln!("{}: {m}", self.progname_short());
                return false;
            }
        };
        let name = match path {
            Some(p) => format!("@{p}"),
            None => "=stdin".to_string(),
        };
        match self.vm.load(&src, name.as_bytes(), None) {
            Ok(f) => {
                let argv: Vec<Value> = args.iter().map(|a| self.vm.str_value(a.as_bytes())).collect();
                // Keep the arguments reachable while the chunk runs.
                let ok = self.call(f, &argv);
                flush_stdout();
                ok
            }
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    fn require(&mut self, name: &str) -> bool {
        let g = self.vm.globals;
        let req = self.vm.get_field(g, "require");
        let n = self.vm.str_value(name.as_bytes());
        match self.vm.call_value(req, &[n], 1) {
            Ok(v) => {
                let val = v.first().copied().unwrap_or(Value::NIL);
                self.vm.set_field(g, name, val);
                true
            }
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    fn lua_init(&mut self) -> Result<(), u8> {
        let Ok(init) = std::env::var("LUA_INIT") else { return Ok(()) };
        let ok = if let Some(path) = init.strip_prefix('@') {
            self.do_file(Some(path), &[])
        } else {
            self.do_string(init.as_bytes(), b"=LUA_INIT")
        };
        if ok {
            Ok(())
        } else {
            Err(1)
        }
    }
}

/// `-b`: `-b [-s] input output` saves a binary chunk (moonbox's format, loadable by
/// `moonbox output`), `-bl input` (or `-b -l input`) lists the bytecode.
fn bytecode_tool(prog: &str, args: &[String]) -> u8 {
    let mut list = false;
    let mut strip = false;
    let mut files = Vec::new();
    for a in args {
        if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            list |= flags.contains('l') || flags.contains('L');
            strip |= flags.contains('s');
        } else {
            files.push(a.clone());
        }
    }
    let need = if list { 1 } else { 2 };
    if files.len() < need {
        eprintln!("Save moonbox bytecode: {prog} -b[options] input output");
        eprintln!("  -l        Only list bytecode.");
        eprintln!("  -s        Strip debug info.");
        return 1;
    }
    let input = &files[0];
    let src = match read_source(if input == "-" { None } else { Some(input) }) {
        Ok(s) => s,
        Err(m) => {
            eprintln!("{prog}: {m}");
            return 1;
        }
    };
    let name = format!("@{input}");
    let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&src);
    let p = match moonbox::engine::compiler::compile(src, name.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{prog}: {e}");
            return 1;
        }
    };
    if list {
        let mut out = String::new();
        moonbox::engine::compiler::disassemble(&p, &mut out);
        print!("{out}");
        return 0;
    }
    let bytes = moonbox::engine::compiler::dump::dump(&p, strip);
    let out = &files[1];
    let r = if out == "-" { std::io::stdout().write_all(&bytes) } else { std::fs::write(out, &bytes) };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{prog}: cannot write {out}: {e}");
            1
        }
    }
}

/// Reads REPL lines: with line editing and history on a terminal (rustyline).
struct LineReader {
    #[cfg(not(target_family = "wasm"))]
    editor: Option<rustyline::DefaultEditor>,
}

impl LineReader {
    fn new() -> LineReader {
        LineReader {
            #[cfg(not(target_family = "wasm"))]
            editor: if std::io::stdin().is_terminal() { rustyline::DefaultEditor::new().ok() } else { None },
        }
    }

    /// The next line without its newline; `None` at end of input.
    fn read(&mut self, prompt: &str) -> Option<String> {
        #[cfg(not(target_family = "wasm"))]
        if let Some(ed) = self.editor.as_mut() {
            return match ed.readline(prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = ed.add_history_entry(line.as_str());
                    }
                    Some(line)
                }
                // Ctrl-C abandons the current input, like lua.c; Ctrl-D ends.
                Err(rustyline::error::ReadlineError::Interrupted) => Some(String::new()),
                Err(_) => None,
            };
        }
        print!("{prompt}");
        flush_stdout();
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    }
}

/// The interactive loop: `=expr` prints values, incomplete statements continue.
fn repl(cli: &mut Cli) {
    let mut reader = LineReader::new();
    let mut buf = String::new();
    loop {
        // `_PROMPT` / `_PROMPT2` override the prompts, as in lua.c.
        let (var, default) = if buf.is_empty() { ("_PROMPT", "> ") } else { ("_PROMPT2", ">> ") };
        let g = cli.vm.globals;
        let pv = cli.vm.get_field(g, var);
        let prompt = if pv.is_string() || pv.is_number() {
            String::from_utf8_lossy(&cli.vm.tostring_basic(pv)).into_owned()
        } else {
            default.to_string()
        };
        let Some(line) = reader.read(&prompt) else {
            println!();
            return;
        };
        let line = line.as_str();
        if buf.is_empty() {
            if let Some(expr) = line.strip_prefix('=') {
                buf = format!("return {expr}");
            } else {
                buf = line.to_string();
            }
        } else {
            buf.push('\n');
            buf.push_str(line);
        }
        // Try as an expression first, then as statements.
        let as_expr = format!("return {buf}");
        let f = match cli.vm.load(as_expr.as_bytes(), b"=stdin", None) {
            Ok(f) => Ok(f),
            Err(_) => cli.vm.load(buf.as_bytes(), b"=stdin", None),
        };
        match f {
            Ok(f) => {
                buf.clear();
                match cli.vm.call_value(f, &[], -1) {
                    Ok(vals) if !vals.is_empty() => {
                        let g = cli.vm.globals;
                        let print = cli.vm.get_field(g, "print");
                        if let Err(e) = cli.vm.call_value(print, &vals, 0) {
                            cli.report(&e);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => cli.report(&e),
                }
            }
            Err(e) => {
                let msg = cli.vm.error_to_string(&e);
                if e.kind() == ErrorKind::Syntax && msg.ends_with("'<eof>'") {
                    continue; // incomplete: read more lines
                }
                buf.clear();
                cli.report(&e);
            }
        }
    }
}
