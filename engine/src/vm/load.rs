//! Loading: compiled prototype trees become heap prototypes and closures.

use std::borrow::Cow;

use crate::compiler::proto::{KVal, TableTemplate};
use crate::compiler::{CConst, Const, FuncProto, Host};
use crate::gc::GcRef;
use crate::object::{CData, LuaFunction, Proto, Table, UpState, UpVal};
use crate::value::Value;
use crate::vm::{ErrorKind, LResult, LuaError, Vm};

impl Vm {
    /// Moves a compiled prototype (and its children) onto the heap; "not enough
    /// memory" when a table template does not fit under the memory limit.
    pub fn load_proto(&mut self, fp: &FuncProto) -> LResult<GcRef<Proto>> {
        let chunkname = self.intern(&fp.chunkname);
        self.load_proto_with(fp, chunkname)
    }

    fn load_proto_with(&mut self, fp: &FuncProto, chunkname: GcRef<crate::gc::LuaString>) -> LResult<GcRef<Proto>> {
        let mut protos: Vec<GcRef<Proto>> = Vec::with_capacity(fp.protos.len());
        for c in &fp.protos {
            protos.push(self.load_proto_with(c, chunkname)?);
        }
        let kn: Vec<Value> = fp.knum.iter().map(|&n| Value::number(n)).collect();
        if fp.kgc.iter().any(|c| matches!(c, Const::CData(_))) {
            self.ensure_cdata_meta();
        }
        let mut kgc: Vec<Value> = Vec::with_capacity(fp.kgc.len());
        for c in &fp.kgc {
            kgc.push(match c {
                Const::Str(s) => self.str_value(s),
                Const::Table(t) => self.template_table(t)?.to_value(),
                Const::CData(c) => self.cdata_const(c),
            });
        }
        let p = Proto::new(
            &fp.code,
            kn.into_boxed_slice(),
            kgc.into_boxed_slice(),
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
        Ok(self.heap.alloc(p))
    }

    /// The cdata object of a literal (`1LL`): each literal has its own, as in
    /// LuaJIT, where cdata constants are not interned.
    fn cdata_const(&mut self, c: &CConst) -> Value {
        use crate::object::cdata::{CTID_COMPLEX_DOUBLE, CTID_INT64, CTID_UINT64};
        let obj = match *c {
            CConst::Int64(i) => CData::with_bytes(CTID_INT64, &i.to_ne_bytes()),
            CConst::UInt64(u) => CData::with_bytes(CTID_UINT64, &u.to_ne_bytes()),
            CConst::Complex(re, im) => {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&re.to_ne_bytes());
                b[8..].copy_from_slice(&im.to_ne_bytes());
                CData::with_bytes(CTID_COMPLEX_DOUBLE, &b)
            }
        };
        self.heap.alloc(obj).to_value()
    }

    fn kval(&mut self, v: &KVal) -> Value {
        match v {
            KVal::False => Value::FALSE,
            KVal::True => Value::TRUE,
            KVal::Num(n) => Value::number(*n),
            KVal::Str(s) => self.str_value(s),
        }
    }

    /// The heap table of a constructor's template (`TDUP` copies it; nothing else
    /// reaches it, so it never changes).
    fn template_table(&mut self, t: &TableTemplate) -> LResult<GcRef<Table>> {
        let tab = self.try_new_table(t.array.len(), t.hash.len())?;
        // Keyed items first: a positional item replaces an earlier `[i] = v`.
        for (k, v) in &t.hash {
            let k = self.kval(k);
            // A key with a computed value only sizes the table.
            let v = v.as_ref().map_or(Value::NIL, |v| self.kval(v));
            if !v.is_nil() {
                self.raw_set(tab, k, v)?;
            }
        }
        for (i, v) in t.array.iter().enumerate() {
            if let Some(v) = v {
                let v = self.kval(v);
                self.raw_set_int(tab, i as i64 + 1, v)?;
            }
        }
        Ok(tab)
    }

    /// The compiler-side form of a heap prototype (for `string.dump`).
    pub fn func_proto_of(&self, p: GcRef<Proto>) -> FuncProto {
        FuncProto {
            code: p.code.iter().map(|c| c.get().original()).collect(),
            lineinfo: p.lineinfo.to_vec(),
            knum: p.kn.iter().map(|v| v.num()).collect(),
            kgc: p
                .kgc
                .iter()
                .map(|v| match (v.as_string(), v.as_table(), v.as_cdata()) {
                    (Some(s), _, _) => Const::Str(s.as_bytes().into()),
                    (None, Some(t), _) => Const::Table(template_of(&t)),
                    (None, None, Some(c)) => Const::CData(cconst_of(&c)),
                    _ => Const::Str(Box::default()),
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
        self.load_chunk(ChunkSource::Bytes(src), chunkname, None, env)
    }

    /// Loads a chunk from bytes or from a reader. `mode` is `load`'s: a chunk whose
    /// kind (`b` binary, `t` text) it does not name is the error "attempt to load chunk
    /// with wrong mode". A reader is called for more only when the lexer needs it, so a
    /// syntax error stops the reading (as in LuaJIT); an error the reader raises is
    /// returned as it is. Binary chunks are read whole, then verified.
    pub fn load_chunk(
        &mut self,
        src: ChunkSource<'_>,
        chunkname: &[u8],
        mode: Option<&[u8]>,
        env: Option<GcRef<Table>>,
    ) -> LResult<Value> {
        // A parse recurses on the native stack, and a reader may call `load` again:
        // one floor for all of them.
        if !self.native_enter() {
            return Err(self.rt_error("C stack overflow"));
        }
        let compiled = self.compile_source(src, chunkname, mode);
        self.native_leave();
        let compiled = compiled?;
        match compiled {
            Ok(fp) => {
                let p = self.load_proto(&fp)?;
                let env = env.unwrap_or(self.globals);
                // A binary chunk of a function with upvalues gets fresh closed ones.
                let upvals: Vec<GcRef<UpVal>> =
                    fp.upvals.iter().map(|_| self.heap.alloc(UpVal::new(UpState::Closed(Value::NIL)))).collect();
                let f = LuaFunction::new(p, env, upvals);
                Ok(self.heap.alloc(f).to_value())
            }
            Err(e) => {
                let v = self.str_value(&e.message);
                Err(LuaError::new(ErrorKind::Syntax, v))
            }
        }
    }

    /// Compiles (or undumps) a chunk for [`load_chunk`](Vm::load_chunk): `Err` for an
    /// error of the reader, `Ok(Err)` for a syntax error.
    fn compile_source(
        &mut self,
        src: ChunkSource<'_>,
        chunkname: &[u8],
        mode: Option<&[u8]>,
    ) -> LResult<Result<FuncProto, crate::compiler::SyntaxError>> {
        match src {
            ChunkSource::Bytes(src) => {
                self.check_chunk(src, chunkname, mode)?;
                if crate::compiler::dump::is_binary(src) {
                    Ok(Self::undump(src, chunkname))
                } else {
                    // LuaJIT skips a UTF-8 byte order mark at the start of a chunk.
                    let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
                    let mut host = LoadHost { vm: self, read: None, failed: None, held: 0 };
                    let compiled = crate::compiler::compile_with(Cow::Borrowed(src), false, &mut host, chunkname);
                    if let Some(e) = host.failed.take() {
                        return Err(e);
                    }
                    Ok(compiled)
                }
            }
            ChunkSource::Reader(read) => {
                let mut host = LoadHost { vm: self, read: Some(read), failed: None, held: 0 };
                let mut first = Vec::new();
                let mut ended = !host.read_more(&mut first);
                if let Some(e) = host.failed.take() {
                    return Err(e);
                }
                host.vm.check_chunk(&first, chunkname, mode)?;
                let compiled = if crate::compiler::dump::is_binary(&first) {
                    while !ended && crate::compiler::dump::header_may_match(&first) {
                        ended = !host.read_more(&mut first);
                    }
                    Self::undump(&first, chunkname)
                } else {
                    if first.starts_with(b"\xEF\xBB\xBF") {
                        first.drain(..3);
                    }
                    crate::compiler::compile_with(Cow::Owned(first), !ended, &mut host, chunkname)
                };
                // The reader's error, kept aside while the lexer saw an end of input.
                if let Some(e) = host.failed.take() {
                    return Err(e);
                }
                Ok(compiled)
            }
        }
    }

    /// The checks on a chunk's first bytes: its mode, and whether binary chunks may load.
    fn check_chunk(&mut self, first: &[u8], chunkname: &[u8], mode: Option<&[u8]>) -> LResult<()> {
        let binary = crate::compiler::dump::is_binary(first);
        if let Some(m) = mode {
            let allowed = if binary { m.contains(&b'b') } else { m.contains(&b't') };
            if !allowed {
                let v = self.str_value(b"attempt to load chunk with wrong mode");
                return Err(LuaError::new(ErrorKind::Syntax, v));
            }
        }
        if binary && !self.allow_binary {
            let msg = format!("{}: binary chunks are not allowed", crate::compiler::chunk_id(chunkname));
            let v = self.str_value(msg.as_bytes());
            return Err(LuaError::new(ErrorKind::Syntax, v));
        }
        Ok(())
    }

    fn undump(src: &[u8], chunkname: &[u8]) -> Result<FuncProto, crate::compiler::SyntaxError> {
        crate::compiler::dump::undump_named(src, chunkname).map_err(|why| {
            let msg = format!("{}: bad binary chunk ({why})", crate::compiler::chunk_id(chunkname));
            crate::compiler::SyntaxError { message: msg.into_bytes() }
        })
    }
}

/// The template of a heap template table (for `string.dump`).
fn template_of(t: &Table) -> TableTemplate {
    let kval = |v: Value| -> Option<KVal> {
        if let Some(s) = v.as_string() {
            Some(KVal::Str(s.as_bytes().into()))
        } else if v.is_number() {
            Some(KVal::Num(v.num()))
        } else if v.is_nil() {
            None
        } else {
            Some(if v.truthy() { KVal::True } else { KVal::False })
        }
    };
    let array: Vec<Option<KVal>> = t.arr_to_vec().into_iter().map(kval).collect();
    let hash = t.hash_keys().into_iter().filter_map(|k| Some((kval(k)?, kval(t.get(k))))).collect();
    TableTemplate { array, hash }
}

/// A `load` reader: appends the next piece to the buffer; false at the end.
type ChunkReader<'r> = &'r mut dyn FnMut(&mut Vm, &mut Vec<u8>) -> LResult<bool>;

/// The compiler's host while the VM loads a chunk: the `load` reader, the native
/// stack floor.
struct LoadHost<'v, 'r> {
    vm: &'v mut Vm,
    read: Option<ChunkReader<'r>>,
    /// The reader's error, or the limit that stopped the compiler: the compiler sees
    /// an end of input or fails, and `load` returns this instead.
    failed: Option<LuaError>,
    /// Bytes the compiler holds (reported through `reserve`), checked together with
    /// the heap against the state's memory limit.
    held: usize,
}

impl Host for LoadHost<'_, '_> {
    fn read_more(&mut self, buf: &mut Vec<u8>) -> bool {
        let Some(read) = self.read.as_mut() else { return false };
        let before = buf.len();
        match read(self.vm, buf) {
            // The source read is held (by the lexer, or in the token being scanned)
            // until the compiler is done with it: counted like the compiler's memory.
            Ok(going) => going && self.reserve(buf.len() - before),
            Err(e) => {
                self.failed = Some(e);
                self.read = None;
                false
            }
        }
    }

    fn stack_floor(&self) -> usize {
        self.vm.native_floor()
    }

    fn charge(&mut self, units: u64) -> bool {
        match self.vm.charge(units) {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }

    fn reserve(&mut self, bytes: usize) -> bool {
        self.held = self.held.saturating_add(bytes);
        match self.vm.check_mem(self.held) {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }
}

/// Where a chunk's bytes come from (see [`Vm::load_chunk`]).
pub enum ChunkSource<'s> {
    /// The whole chunk.
    Bytes(&'s [u8]),
    /// A reader: appends the next piece to the buffer and returns `Ok(true)`, or
    /// returns `Ok(false)` at the end. It is not called again after the end or an error.
    Reader(&'s mut dyn FnMut(&mut Vm, &mut Vec<u8>) -> LResult<bool>),
}

/// The literal a cdata constant was made from.
fn cconst_of(c: &CData) -> CConst {
    use crate::object::cdata::{CTID_COMPLEX_DOUBLE, CTID_UINT64};
    let b = c.bytes();
    let word = |i: usize| {
        let mut w = [0u8; 8];
        if let Some(s) = b.get(i * 8..i * 8 + 8) {
            w.copy_from_slice(s);
        }
        u64::from_ne_bytes(w)
    };
    match c.ctype() {
        CTID_UINT64 => CConst::UInt64(word(0)),
        CTID_COMPLEX_DOUBLE => CConst::Complex(f64::from_bits(word(0)), f64::from_bits(word(1))),
        _ => CConst::Int64(word(0) as i64),
    }
}
