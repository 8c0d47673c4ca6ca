//! `-b`: save or list bytecode, with `luajit -b`'s options and outputs.
//!
//! `moonbox -b[options] input output`: options may be grouped after `-b` (`-bl`, `-bg`)
//! or given as separate arguments; `-n`, `-t`, `-a`, `-o`, `-F` and `-e` take the
//! next argument and must end their group. The input is a source or binary chunk file,
//! `-` for stdin, or with `-e` a chunk string. The output is `-` for stdout or a file
//! whose extension picks the format (`-t` overrides it): `.c` and `.h` write a C array
//! named `luaJIT_BC_<module>` (LuaJIT's name, so build scripts keep working), `.o`/`.obj`
//! an ELF object defining that symbol, anything else the raw chunk. Debug info is
//! stripped unless `-g` is given. `-l`/`-L` list instead of saving (to stdout, or to the
//! output file when one is given); see `compiler::disasm` for the listing's shape.
//!
//! The chunk format is moonbox's own: `moonbox` loads what this writes, LuaJIT does not.
//! Errors print `prog: message` and exit with status 1, as `luajit -b` does.

use std::io::Write;

use moonbox::engine::compiler::{self, dump, FuncProto, Listing};
use moonbox::engine::stdlib::base::{io_error_text, read_source};

const USAGE: &str = "Save moonbox bytecode: {prog} -b[options] input output
  -l        Only list bytecode.
  -L        Only list bytecode with lineinfo.
  -s        Strip debug info (default).
  -g        Keep debug info.
  -n name   Set module name (default: auto-detect from input name).
  -t type   Set output file type (default: auto-detect from output name).
  -a arch   Override architecture for object files (default: native).
  -o os     Override OS for object files (default: native).
  -F name   Override filename (default: input filename).
  -e chunk  Use chunk string as input.
  --        Stop handling options.
  -         Use stdin as input and/or stdout as output.

File types: c h obj o raw (default)
";

/// An error that ends the tool: `None` prints the usage text.
struct Fail(Option<String>);

fn fail<T>(msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail(Some(msg.into())))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FileType {
    Raw,
    C,
    H,
    Obj,
}

impl FileType {
    fn from_name(s: &str) -> Option<FileType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "raw" => FileType::Raw,
            "c" => FileType::C,
            "h" => FileType::H,
            "o" | "obj" => FileType::Obj,
            _ => return None,
        })
    }

    /// The type an output file name implies: its last extension, letters only.
    fn detect(output: &str) -> FileType {
        let ext = output
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphabetic()));
        ext.and_then(FileType::from_name).unwrap_or(FileType::Raw)
    }
}

#[derive(Default)]
struct Options {
    list: bool,
    lineinfo: bool,
    keep_debug: bool,
    modname: Option<String>,
    filetype: Option<FileType>,
    filename: Option<String>,
    chunk: Option<String>,
    files: Vec<String>,
}

/// Runs the tool on `args` (the `-b...` argument first) and returns the exit status.
pub fn run(prog: &str, args: &[String]) -> u8 {
    match parse(args).and_then(|o| execute(prog, &o)) {
        Ok(()) => 0,
        Err(Fail(None)) => {
            eprint!("{}", USAGE.replace("{prog}", prog));
            1
        }
        Err(Fail(Some(msg))) => {
            eprintln!("{prog}: {msg}");
            1
        }
    }
}

fn parse(args: &[String]) -> Result<Options, Fail> {
    let mut o = Options::default();
    // `-bXY` is the group `-XY`; a bare `-b` contributes nothing.
    let first = args.first().map(|a| a.strip_prefix("-b").unwrap_or(a)).unwrap_or("");
    let mut rest: Vec<&str> = Vec::new();
    if !first.is_empty() {
        rest.push(first);
    }
    let mut grouped = !first.is_empty();
    rest.extend(args.iter().skip(1).map(String::as_str));
    let mut i = 0;
    let mut options_done = false;
    while i < rest.len() {
        let a = rest[i];
        i += 1;
        // The remainder of `-b` is an option group even without its dash.
        let group = if grouped {
            grouped = false;
            Some(a.strip_prefix('-').unwrap_or(a))
        } else if !options_done && a.len() > 1 && a.starts_with('-') {
            Some(&a[1..])
        } else {
            None
        };
        let Some(group) = group else {
            o.files.push(a.to_string());
            continue;
        };
        if group == "-" {
            options_done = true;
            continue;
        }
        let chars: Vec<char> = group.chars().collect();
        for (k, &c) in chars.iter().enumerate() {
            match c {
                'l' => o.list = true,
                'L' => {
                    o.list = true;
                    o.lineinfo = true;
                }
                's' => o.keep_debug = false,
                'g' => o.keep_debug = true,
                'n' | 't' | 'a' | 'o' | 'F' | 'e' => {
                    // A valued option ends its group and takes the next argument.
                    if k + 1 != chars.len() || i >= rest.len() {
                        return Err(Fail(None));
                    }
                    let v = rest[i].to_string();
                    i += 1;
                    match c {
                        'n' => o.modname = Some(check_modname(&v)?),
                        't' => {
                            o.filetype = Some(FileType::from_name(&v).map_or_else(|| fail("unknown file type"), Ok)?)
                        }
                        'a' => check_arch(&v)?,
                        'o' => check_os(&v)?,
                        'F' => o.filename = Some(v),
                        _ => {
                            if !o.files.is_empty() || o.chunk.is_some() {
                                return Err(Fail(None));
                            }
                            o.chunk = Some(v);
                        }
                    }
                }
                _ => return Err(Fail(None)),
            }
        }
    }
    let inputs = o.files.len() + usize::from(o.chunk.is_some());
    let ok = if o.list { (1..=2).contains(&inputs) } else { inputs == 2 };
    if !ok {
        return Err(Fail(None));
    }
    Ok(o)
}

/// Object files are written for the machine we run on; other targets are refused
/// rather than silently ignored.
fn check_arch(a: &str) -> Result<(), Fail> {
    const KNOWN: &[&str] = &[
        "x86",
        "x64",
        "arm",
        "arm64",
        "arm64be",
        "ppc",
        "mips",
        "mipsel",
        "mips64",
        "mips64el",
        "mips64r6",
        "mips64r6el",
    ];
    let a = a.to_ascii_lowercase();
    if !KNOWN.contains(&a.as_str()) {
        return fail("unknown architecture");
    }
    if a != native_arch() {
        return fail(format!("cannot write object files for {a} (only {})", native_arch()));
    }
    Ok(())
}

fn check_os(s: &str) -> Result<(), Fail> {
    const KNOWN: &[&str] = &["linux", "windows", "osx", "freebsd", "netbsd", "openbsd", "dragonfly", "solaris"];
    let s = s.to_ascii_lowercase();
    if !KNOWN.contains(&s.as_str()) {
        return fail("unknown OS name");
    }
    if matches!(s.as_str(), "windows" | "osx") {
        return fail(format!("cannot write object files for {s} (ELF only)"));
    }
    Ok(())
}

fn native_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm",
        other => other,
    }
}

fn is_modname_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn check_modname(s: &str) -> Result<String, Fail> {
    if s.is_empty() || !s.chars().all(is_modname_char) {
        return fail("bad module name");
    }
    Ok(s.replace(['.', '-'], "_"))
}

/// The module name of an input path: its file name without the last extension, cut at
/// the first character a module name cannot hold.
fn detect_modname(input: &str) -> Result<String, Fail> {
    let tail = input.rsplit(['/', '\\']).next().unwrap_or(input);
    let head = tail.rsplit_once('.').map_or(tail, |(h, _)| h);
    let name: String = head.chars().take_while(|&c| is_modname_char(c)).collect();
    if name.is_empty() {
        return fail("cannot derive module name, use -n name");
    }
    Ok(name.replace(['.', '-'], "_"))
}

/// Loads the input as `loadfile` (or `loadstring` for `-e`) would: source or binary.
fn load_input(o: &Options) -> Result<FuncProto, Fail> {
    let (bytes, chunkname) = match &o.chunk {
        Some(c) => (c.clone().into_bytes(), c.clone()),
        None => {
            let input = &o.files[0];
            let bytes = read_source(if input == "-" { None } else { Some(input) }).or_else(fail)?;
            let name = if input == "-" { "=stdin".to_string() } else { format!("@{input}") };
            (bytes, name)
        }
    };
    let chunkname = o.filename.as_ref().map_or(chunkname, |f| format!("@{f}"));
    let src = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if dump::is_binary(src) {
        return dump::undump_named(src, chunkname.as_bytes())
            .or_else(|e| fail(format!("{}: bad binary chunk ({e})", compiler::chunk_id(chunkname.as_bytes()))));
    }
    compiler::compile(src, chunkname.as_bytes()).or_else(|e| fail(e.to_string()))
}

fn execute(prog: &str, o: &Options) -> Result<(), Fail> {
    let _ = prog;
    let p = load_input(o)?;
    let outputs = &o.files[usize::from(o.chunk.is_none())..];
    let output = outputs.first().map_or("-", String::as_str);
    if o.list {
        let mut text = String::new();
        compiler::disassemble_with(&p, &mut text, Listing { lineinfo: o.lineinfo, constants: true });
        return write_out(output, text.as_bytes());
    }
    let chunk = dump::dump(&p, !o.keep_debug);
    let ty = o.filetype.unwrap_or_else(|| FileType::detect(output));
    if ty == FileType::Raw {
        return write_out(output, &chunk);
    }
    let modname = match &o.modname {
        Some(m) => m.clone(),
        None => match &o.chunk {
            Some(_) => return fail("cannot derive module name, use -n name"),
            None => detect_modname(&o.files[0])?,
        },
    };
    let symbol = format!("luaJIT_BC_{modname}");
    let bytes = match ty {
        FileType::Obj => elf_object(&symbol, &chunk)?,
        _ => c_array(&symbol, &chunk, ty == FileType::H).into_bytes(),
    };
    write_out(output, &bytes)
}

fn write_out(output: &str, bytes: &[u8]) -> Result<(), Fail> {
    let r = if output == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).and_then(|()| out.flush())
    } else {
        std::fs::write(output, bytes)
    };
    r.or_else(|e| fail(format!("{output}: {}", io_error_text(&e))))
}

/// The chunk as a C array: `.c` exports it, `.h` makes it static with a size macro.
/// Lines hold as many comma-separated bytes as fit in 78 columns.
fn c_array(symbol: &str, chunk: &[u8], header: bool) -> String {
    let mut s = if header {
        format!("#define {symbol}_SIZE {}\nstatic const unsigned char {symbol}[] = {{\n", chunk.len())
    } else {
        format!(
            "#ifdef __cplusplus\nextern \"C\"\n#endif\n#ifdef _WIN32\n__declspec(dllexport)\n#endif\nconst unsigned char {symbol}[] = {{\n"
        )
    };
    let mut width = 0;
    for (i, b) in chunk.iter().enumerate() {
        let item = b.to_string();
        let w = item.len() + 1;
        if i > 0 {
            if width + w > 78 {
                s.push_str(",\n");
                width = 0;
            } else {
                s.push(',');
            }
        }
        width += w;
        s.push_str(&item);
    }
    s.push_str("\n};\n");
    s
}

/// A relocatable ELF64 object for this machine with one global data symbol, `symbol`,
/// holding `chunk` in `.rodata`: what a C program links to embed the chunk.
fn elf_object(symbol: &str, chunk: &[u8]) -> Result<Vec<u8>, Fail> {
    let machine: u16 = match native_arch() {
        "x64" => 62,
        "arm64" => 183,
        other => return fail(format!("cannot write object files for {other}")),
    };
    // Sections: null, .symtab, .shstrtab, .strtab, .rodata, .note.GNU-stack.
    let mut shstrtab = vec![0u8];
    let mut names = Vec::new();
    for n in [".symtab", ".shstrtab", ".strtab", ".rodata", ".note.GNU-stack"] {
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(n.as_bytes());
        shstrtab.push(0);
    }
    let mut strtab = vec![0u8];
    strtab.extend_from_slice(symbol.as_bytes());
    strtab.push(0);
    const EHDR: usize = 64;
    const SHDR: usize = 64;
    const SYM: usize = 24;
    let shoff = EHDR;
    let symoff = shoff + 6 * SHDR;
    let shstroff = symoff + 2 * SYM;
    let stroff = shstroff + shstrtab.len();
    let dataoff = stroff + strtab.len();
    let mut o = Vec::with_capacity(dataoff + chunk.len());
    // ELF header.
    o.extend_from_slice(b"\x7fELF");
    o.extend_from_slice(&[2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    o.extend_from_slice(&1u16.to_le_bytes()); // ET_REL
    o.extend_from_slice(&machine.to_le_bytes());
    o.extend_from_slice(&1u32.to_le_bytes());
    o.extend_from_slice(&0u64.to_le_bytes()); // entry
    o.extend_from_slice(&0u64.to_le_bytes()); // phoff
    o.extend_from_slice(&(shoff as u64).to_le_bytes());
    o.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [EHDR as u16, 0, 0, SHDR as u16, 6, 2] {
        o.extend_from_slice(&v.to_le_bytes());
    }
    // Section headers: name, type, flags, addr, offset, size, link, info, align, entsize.
    let mut shdr =
        |name: u32, ty: u32, flags: u64, off: usize, size: usize, link: u32, info: u32, align: u64, ent: u64| {
            o.extend_from_slice(&name.to_le_bytes());
            o.extend_from_slice(&ty.to_le_bytes());
            o.extend_from_slice(&flags.to_le_bytes());
            o.extend_from_slice(&0u64.to_le_bytes());
            o.extend_from_slice(&(off as u64).to_le_bytes());
            o.extend_from_slice(&(size as u64).to_le_bytes());
            o.extend_from_slice(&link.to_le_bytes());
            o.extend_from_slice(&info.to_le_bytes());
            o.extend_from_slice(&align.to_le_bytes());
            o.extend_from_slice(&ent.to_le_bytes());
        };
    shdr(0, 0, 0, 0, 0, 0, 0, 0, 0);
    shdr(names[0], 2, 0, symoff, 2 * SYM, 3, 1, 8, SYM as u64); // SHT_SYMTAB, one local
    shdr(names[1], 3, 0, shstroff, shstrtab.len(), 0, 0, 1, 0); // SHT_STRTAB
    shdr(names[2], 3, 0, stroff, strtab.len(), 0, 0, 1, 0);
    shdr(names[3], 1, 2, dataoff, chunk.len(), 0, 0, 1, 0); // SHT_PROGBITS, SHF_ALLOC
    shdr(names[4], 1, 0, dataoff + chunk.len(), 0, 0, 0, 1, 0);
    // Symbols: the null symbol, then the global object in section 4.
    o.extend_from_slice(&[0u8; SYM]);
    o.extend_from_slice(&1u32.to_le_bytes());
    o.push(0x11); // STB_GLOBAL, STT_OBJECT
    o.push(0);
    o.extend_from_slice(&4u16.to_le_bytes());
    o.extend_from_slice(&0u64.to_le_bytes());
    o.extend_from_slice(&(chunk.len() as u64).to_le_bytes());
    o.extend_from_slice(&shstrtab);
    o.extend_from_slice(&strtab);
    o.extend_from_slice(chunk);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn options_group_after_b_and_valued_options_end_groups() {
        let o = parse(&args("-bl x.lua")).ok().unwrap();
        assert!(o.list && !o.lineinfo && o.files == ["x.lua"]);
        let o = parse(&args("-b -L x.lua out.txt")).ok().unwrap();
        assert!(o.lineinfo && o.files == ["x.lua", "out.txt"]);
        let o = parse(&args("-bgn my.mod x.lua x.c")).ok().unwrap();
        assert!(o.keep_debug && o.modname.as_deref() == Some("my_mod"));
        let o = parse(&args("-be print(1) out")).ok().unwrap();
        assert_eq!(o.chunk.as_deref(), Some("print(1)"));
        assert!(parse(&args("-bnl x x.lua x.c")).is_err(), "-n must end its group");
        assert!(parse(&args("-b x.lua")).is_err(), "saving needs an output");
        assert!(parse(&args("-b x.lua -e c out")).is_err(), "-e comes before the files");
        let o = parse(&args("-b -- -odd.lua out")).ok().unwrap();
        assert_eq!(o.files, ["-odd.lua", "out"]);
    }

    #[test]
    fn names_and_types_derive_from_paths() {
        assert_eq!(detect_modname("dir/hello-411.lua").ok().unwrap(), "hello_411");
        assert_eq!(detect_modname("a.b.lua").ok().unwrap(), "a_b");
        assert!(detect_modname("dir/").is_err());
        assert_eq!(FileType::detect("x.C"), FileType::C);
        assert_eq!(FileType::detect("x.h"), FileType::H);
        assert_eq!(FileType::detect("x.o"), FileType::Obj);
        assert_eq!(FileType::detect("x.txt"), FileType::Raw);
        assert_eq!(FileType::detect("x.c2"), FileType::Raw);
    }

    #[test]
    fn c_arrays_wrap_at_78_columns() {
        let s = c_array("luaJIT_BC_m", &[200u8; 40], false);
        let body: Vec<&str> = s.lines().skip(7).collect();
        assert_eq!(body[0], ["200"; 19].join(",") + ",");
        assert_eq!(body[1], ["200"; 19].join(",") + ",");
        assert_eq!(body[2], "200,200");
        assert_eq!(body[3], "};");
        let h = c_array("luaJIT_BC_m", &[1, 2], true);
        assert_eq!(h, "#define luaJIT_BC_m_SIZE 2\nstatic const unsigned char luaJIT_BC_m[] = {\n1,2\n};\n");
    }
}
