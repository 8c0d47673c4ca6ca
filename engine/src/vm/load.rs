//! Loading: compiled prototype trees become heap prototypes and closures.

use crate::compiler::{Const, FuncProto};
use crate::gc::GcRef;
use crate::object::{LuaFunction, Proto, Table};
use crate::value::Value;
use crate::vm::{ErrorKind, LResult, LuaError, Vm};

impl Vm {
    /// Moves a compiled prototype (and its children) onto the heap.
    pub fn load_proto(&mut self, fp: &FuncProto) -> GcRef<Proto> {
        let chunkname = self.intern(&fp.chunkname);
        self.load_proto_with(fp, chunkname)
    }

    fn load_proto_with(&mut self, fp: &FuncProto, chunkname: GcRef<crate::gc::LuaString>) -> GcRef<Proto> {
        let protos: Vec<GcRef<Proto>> = fp.protos.iter().map(|c| self.load_proto_with(c, chunkname)).collect();
        let k: Vec<Value> = fp
            .consts
            .iter()
            .map(|c| match c {
                Const::Num(n) => Value::number(*n),
                Const::Str(s) => self.str_value(s),
            })
            .collect();
        let p = Proto::new(
            fp.code.clone().into_boxed_slice(),
            k.into_boxed_slice(),
            protos.into_boxed_slice(),
            fp.upvals.clone().into_boxed_slice(),
            fp.upval_names.clone().into_boxed_slice(),
            fp.locals.clone().into_boxed_slice(),
            fp.lineinfo.clone().into_boxed_slice(),
            fp.numparams,
            fp.is_vararg,
            fp.framesize,
            fp.linedefined,
            fp.lastlinedefined,
            chunkname,
        );
        self.heap.alloc(p)
    }

    /// The compiler-side form of a heap prototype (for `string.dump`).
    pub fn func_proto_of(&self, p: GcRef<Proto>) -> FuncProto {
        FuncProto {
            code: p.code.to_vec(),
            lineinfo: p.lineinfo.to_vec(),
            consts: p
                .k
                .iter()
                .map(|v| match v.as_string() {
                    Some(s) => Const::Str(s.as_bytes().into()),
                    None => Const::Num(v.num()),
                })
                .collect(),
            protos: p.protos.iter().map(|&c| self.func_proto_of(c)).collect(),
            upvals: p.upvals.to_vec(),
            upval_names: p.upval_names.to_vec(),
            locals: p.locals.to_vec(),
            numparams: p.numparams,
            is_vararg: p.is_vararg,
            framesize: p.framesize,
            linedefined: p.linedefined,
            lastlinedefined: p.lastlinedefined,
            chunkname: std::rc::Rc::from(p.chunkname.as_bytes()),
        }
    }

    /// `string.dump`: the binary chunk of a Lua function (`None` for natives).
    pub fn dump_function(&self, f: Value, strip: bool) -> Option<Vec<u8>> {
        if f.func_kind() != Some(crate::gc::Kind::LuaFunction) {
            return None;
        }
        let lf: GcRef<LuaFunction> = GcRef::from_value_payload(f);
        Some(crate::compiler::dump::dump(&self.func_proto_of(lf.proto), strip))
    }

    /// Compiles `src` into a function value with environment `env` (the globals if
    /// `None`). Syntax errors come back as `ErrorKind::Syntax` with LuaJIT's message.
    pub fn load(&mut self, src: &[u8], chunkname: &[u8], env: Option<GcRef<Table>>) -> LResult<Value> {
        let compiled = if crate::compiler::dump::is_binary(src) {
            if !self.allow_binary {
                let msg = format!("{}: binary chunks are not allowed", crate::compiler::chunk_id(chunkname));
                let v = self.str_value(msg.as_bytes());
                return Err(LuaError::new(ErrorKind::Syntax, v));
            }
            crate::compiler::dump::undump(src).map_err(|why| {
                let msg = format!("{}: bad binary chunk ({why})", crate::compiler::chunk_id(chunkname));
                crate::compiler::SyntaxError { message: msg.into_bytes() }
            })
        } else {
            // LuaJIT skips a UTF-8 byte order mark at the start of a chunk.
            let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
            crate::compiler::compile(src, chunkname)
        };
        match compiled {
            Ok(fp) => {
                let p = self.load_proto(&fp);
                let env = env.unwrap_or(self.globals);
                let f = LuaFunction::new(p, env, Box::new([]));
                Ok(self.heap.alloc(f).to_value())
            }
            Err(e) => {
                let v = self.str_value(&e.message);
                Err(LuaError::new(ErrorKind::Syntax, v))
            }
        }
    }
}
