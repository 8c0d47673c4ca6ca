//! Source text to bytecode: lexer, parser and code generator in one pass.
//!
//! The output, [`FuncProto`], is a plain tree independent of the GC heap; the VM turns
//! it into heap prototypes (interning its string constants) when a chunk is loaded.
//!
//! Files: `lexer.rs` (tokens), `parser.rs` (parser core, expressions), `stmt.rs`
//! (statements), `scope.rs` (locals, upvalues, blocks, gotos, function bodies),
//! `codegen.rs` (expression code generation, registers, constants, jumps), `func.rs`
//! (per-function state and the expression descriptor), `disasm.rs` (`-bl` listings).

mod codegen;
pub mod disasm;
pub mod dump;
mod func;
pub mod lexer;
mod ops;
mod parser;
pub mod proto;
mod scope;
mod stmt;
#[cfg(test)]
mod tests;

use std::fmt;

pub use crate::bytecode::{LocalVarInfo, UpvalDesc};
pub use disasm::{disassemble, disassemble_with, Listing};
pub use proto::{CConst, Const, FuncProto};

use lexer::Tok;

/// A compile error; `message` is the complete text as LuaJIT shows it, e.g.
/// `test.lua:3: '=' expected near 'x'`. It is bytes because it may quote source bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: Vec<u8>,
}

impl SyntaxError {
    pub fn new(message: Vec<u8>) -> SyntaxError {
        SyntaxError { message }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.message))
    }
}

impl fmt::Debug for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SyntaxError({:?})", String::from_utf8_lossy(&self.message))
    }
}

impl std::error::Error for SyntaxError {}

/// What the compiler asks of whoever runs it: more source (a `load` reader) and leave
/// to go on (the state's limits). Every method has a default: no reader, no limits.
///
/// The compiler holds no GC values, so the host may run Lua code (and the collector)
/// in `read_more`.
pub trait Host {
    /// Appends the next piece of source to `buf`; false at the end (not called again).
    fn read_more(&mut self, _buf: &mut Vec<u8>) -> bool {
        false
    }
    /// The lowest native stack address the parser may reach; 0 gives it a budget of
    /// its own below the frame where it starts. Deeper nesting is the syntax error
    /// "chunk has too many syntax levels".
    fn stack_floor(&self) -> usize {
        0
    }
    /// The compiler did `units` more work, in instruction-budget units (about one per
    /// token, per 16 source bytes, and per few entries its label and goto matching
    /// scans); false stops the compilation (a budget or deadline stop the host keeps).
    fn charge(&mut self, _units: u64) -> bool {
        true
    }
    /// The compiler is about to hold about `bytes` more (code, constants, names,
    /// table templates: what the output will take, with growth slack); false stops the
    /// compilation ("not enough memory", which the host keeps).
    fn reserve(&mut self, _bytes: usize) -> bool {
        true
    }
}

/// A host with nothing to give: no reader, no limits.
pub struct NoHost;
impl Host for NoHost {}

/// Compiles a chunk. `chunkname` is as for `load`: `@file.lua`, `=stdin`, or the source.
pub fn compile(source: &[u8], chunkname: &[u8]) -> Result<FuncProto, SyntaxError> {
    parse_chunk(parser::Parser::new(source, chunkname))
}

/// Compiles a chunk that starts with `start` and goes on with what `more` supplies on
/// demand (appending the next piece, or returning false at the end), without limits.
pub fn compile_reader(
    start: Vec<u8>,
    more: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    chunkname: &[u8],
) -> Result<FuncProto, SyntaxError> {
    struct Reader<'r>(&'r mut dyn FnMut(&mut Vec<u8>) -> bool);
    impl Host for Reader<'_> {
        fn read_more(&mut self, buf: &mut Vec<u8>) -> bool {
            (self.0)(buf)
        }
    }
    compile_with(std::borrow::Cow::Owned(start), true, &mut Reader(more), chunkname)
}

/// Compiles a chunk that starts with `start` and, when `reading`, goes on with what
/// `host` reads on demand; the host's limits apply throughout.
pub fn compile_with(
    start: std::borrow::Cow<'_, [u8]>,
    reading: bool,
    host: &mut dyn Host,
    chunkname: &[u8],
) -> Result<FuncProto, SyntaxError> {
    let lex = lexer::Lexer::with_host(start, Some(host), reading, chunk_id(chunkname));
    parse_chunk(parser::Parser::with_lexer(lex, chunkname))
}

fn parse_chunk(mut p: parser::Parser<'_>) -> Result<FuncProto, SyntaxError> {
    p.fs.is_vararg = true;
    p.enter_block(false);
    p.next()?;
    p.statlist()?;
    if p.lex.tok != Tok::Eof {
        return Err(p.err_expected(&Tok::Eof));
    }
    let last = p.lex.line;
    let mut proto = p.close_func(last)?;
    proto.linedefined = 0;
    Ok(proto)
}

/// LuaJIT's LUA_IDSIZE.
const IDSIZE: usize = 60;

/// How LuaJIT shows a chunk name in messages: `@file` → `file` (long names keep their
/// end, after `...`), `=name` → `name` (cut to 59 bytes), source text →
/// `[string "first line..."]`.
pub fn chunk_id(chunkname: &[u8]) -> String {
    let out: Vec<u8> = match chunkname.first() {
        Some(b'=') => chunkname[1..].iter().take(IDSIZE - 1).copied().collect(),
        Some(b'@') => {
            let name = &chunkname[1..];
            if name.len() < IDSIZE {
                name.to_vec()
            } else {
                let mut v = b"...".to_vec();
                v.extend_from_slice(&name[name.len() - (IDSIZE - 4)..]);
                v
            }
        }
        _ => {
            // The chunk name is a C string in LuaJIT: it ends at the first NUL.
            let src = match chunkname.iter().position(|&c| c == 0) {
                Some(n) => &chunkname[..n],
                None => chunkname,
            };
            let mut len = 0;
            while len < IDSIZE - 12 && len < src.len() && src[len] >= b' ' {
                len += 1;
            }
            let mut v = b"[string \"".to_vec();
            if len < src.len() {
                len = len.min(IDSIZE - 15);
                v.extend_from_slice(&src[..len]);
                v.extend_from_slice(b"...");
            } else {
                v.extend_from_slice(src);
            }
            v.extend_from_slice(b"\"]");
            v
        }
    };
    String::from_utf8_lossy(&out).into_owned()
}
