//! Source text to bytecode: lexer, parser (to an AST), and code generator.
//!
//! The output, [`FuncProto`], is a plain tree independent of the GC heap; the VM turns
//! it into heap prototypes (interning its string constants) when a chunk is loaded.

pub mod proto;

pub use proto::{Const, FuncProto, LocalVarInfo, UpvalDesc};

// TEMPORARY stubs so the VM builds before the front end lands; the front end's
// real `compile` and `chunk_id` replace these (delete this block when they exist).
/// A syntax error with LuaJIT's full message.
#[derive(Debug, Clone)]
pub struct SyntaxError(pub String);
impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
/// Compiles a chunk (stub).
pub fn compile(_source: &[u8], _chunkname: &[u8]) -> Result<FuncProto, SyntaxError> {
    Err(SyntaxError("compiler not available".into()))
}
/// How a chunk name appears in messages (stub).
pub fn chunk_id(chunkname: &[u8]) -> String {
    String::from_utf8_lossy(chunkname.strip_prefix(b"@").unwrap_or(chunkname)).into_owned()
}
/// Bytecode listing (stub).
pub fn disassemble(_p: &FuncProto, _out: &mut String) {}
