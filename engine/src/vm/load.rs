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

    /// Compiles `src` into a function value with environment `env` (the globals if
    /// `None`). Syntax errors come back as `ErrorKind::Syntax` with LuaJIT's message.
    pub fn load(&mut self, src: &[u8], chunkname: &[u8], env: Option<GcRef<Table>>) -> LResult<Value> {
        if src.first() == Some(&0x1b) {
            let msg = format!("{}: cannot load incompatible bytecode", crate::compiler::chunk_id(chunkname));
            let v = self.str_value(msg.as_bytes());
            return Err(LuaError::new(ErrorKind::Syntax, v));
        }
        match crate::compiler::compile(src, chunkname) {
            Ok(fp) => {
                let p = self.load_proto(&fp);
                let env = env.unwrap_or(self.globals);
                let f = LuaFunction::new(p, env, Box::new([]));
                Ok(self.heap.alloc(f).to_value())
            }
            Err(e) => {
                let v = self.str_value(e.to_string().as_bytes());
                Err(LuaError::new(ErrorKind::Syntax, v))
            }
        }
    }
}
