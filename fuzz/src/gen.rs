//! A small Lua grammar for `run_generated`: every [`Program`] prints as a syntactically
//! valid chunk, so the fuzzer spends its time in the compiler's back end, the
//! interpreter and the libraries instead of in the lexer's error paths.
//!
//! Names are `a0` .. `a7` everywhere: an undeclared one is simply a global. Numbers and
//! strings come from small tables, with `string.rep` counts kept small: one huge
//! allocation is a known gap of the approximate memory limit, not worth rediscovering.

use arbitrary::Arbitrary;
use std::fmt::Write;

#[derive(Arbitrary, Debug)]
pub struct Program {
    body: Vec<Stmt>,
}

#[derive(Arbitrary, Debug)]
enum Stmt {
    Local(Var, Expr),
    Assign(Place, Expr),
    Call(Call),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    While(Expr, Vec<Stmt>),
    NumFor(Var, Expr, Expr, Option<Expr>, Vec<Stmt>),
    PairsFor(Var, Var, Expr, Vec<Stmt>),
    Repeat(Vec<Stmt>, Expr),
    LocalFunction(Var, Params, Vec<Stmt>),
    Return(Vec<Expr>),
    Break,
    Pcall(Vec<Stmt>),
    Coroutine(Vec<Stmt>, Vec<Expr>),
    SetMetatable(Expr, Vec<(Meta, Expr)>),
    Goto(Vec<Stmt>),
}

#[derive(Arbitrary, Debug)]
enum Place {
    Var(Var),
    Index(Expr, Expr),
    Field(Expr, Field),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Var(u8);

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Params(u8);

#[derive(Arbitrary, Debug)]
enum Expr {
    Nil,
    True,
    False,
    Num(Num),
    Str(Str),
    Var(Var),
    Vararg,
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Un(UnOp, Box<Expr>),
    Table(Vec<(Option<Expr>, Expr)>),
    Index(Box<Expr>, Box<Expr>),
    Field(Box<Expr>, Field),
    Call(Box<Call>),
    Function(Params, Vec<Stmt>),
    Paren(Box<Expr>),
}

#[derive(Arbitrary, Debug)]
enum Call {
    Lib(Lib, Vec<Expr>),
    Var(Var, Vec<Expr>),
    Method(Expr, Method, Vec<Expr>),
    Expr(Expr, Vec<Expr>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Num(u8);
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Str(u8);
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Field(u8);

macro_rules! table_enum {
    ($name:ident { $($variant:ident = $text:expr),* $(,)? }) => {
        #[derive(Arbitrary, Debug, Clone, Copy)]
        enum $name { $($variant),* }
        impl $name {
            fn text(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
    };
}

table_enum!(BinOp {
    Add = "+", Sub = "-", Mul = "*", Div = "/", Mod = "%", Pow = "^", Concat = "..",
    Eq = "==", Ne = "~=", Lt = "<", Le = "<=", Gt = ">", Ge = ">=", And = "and", Or = "or",
});
table_enum!(UnOp { Neg = "-", Not = "not ", Len = "#" });
table_enum!(Meta {
    Index = "__index", NewIndex = "__newindex", Call = "__call", Add = "__add", Concat = "__concat",
    Eq = "__eq", Lt = "__lt", Le = "__le", Len = "__len", Unm = "__unm", ToString = "__tostring",
    Mode = "__mode", Gc = "__gc", Metatable = "__metatable",
});
table_enum!(Method { Sub = "sub", Upper = "upper", Byte = "byte", Find = "find", Gsub = "gsub", Format = "format", Match = "match", Len = "len", Reverse = "reverse" });
table_enum!(Lib {
    StrRep = "string.rep", StrSub = "string.sub", StrFind = "string.find", StrMatch = "string.match", StrGsub = "string.gsub",
    StrGmatch = "string.gmatch", StrFormat = "string.format", StrByte = "string.byte", StrChar = "string.char",
    StrLower = "string.lower", StrLen = "string.len", StrReverse = "string.reverse", StrDump = "string.dump",
    TabInsert = "table.insert", TabRemove = "table.remove", TabConcat = "table.concat", TabSort = "table.sort",
    TabUnpack = "unpack", TabMaxn = "table.maxn", TabNew = "table.new", TabClear = "table.clear",
    MathFloor = "math.floor", MathMax = "math.max", MathMin = "math.min", MathFmod = "math.fmod",
    MathRandom = "math.random", MathAbs = "math.abs", MathModf = "math.modf", MathLdexp = "math.ldexp",
    ToString = "tostring", ToNumber = "tonumber", Type = "type", Select = "select", RawGet = "rawget",
    RawSet = "rawset", RawEqual = "rawequal", RawLen = "rawlen", Next = "next", Ipairs = "ipairs", Pairs = "pairs",
    SetMt = "setmetatable", GetMt = "getmetatable", Error = "error", Assert = "assert", Pcall = "pcall",
    Xpcall = "xpcall", Load = "loadstring", BitBand = "bit.band", BitBor = "bit.bor", BitLshift = "bit.lshift",
    BitTohex = "bit.tohex", CoWrap = "coroutine.wrap", CoCreate = "coroutine.create", CoResume = "coroutine.resume",
    CoYield = "coroutine.yield", CoStatus = "coroutine.status", CoRunning = "coroutine.running",
    Collect = "collectgarbage", GetFenv = "getfenv", SetFenv = "setfenv", Unpack = "table.unpack",
    Buffer = "require('string.buffer').new", DebugTraceback = "debug.traceback",
});

const NUMS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "0.5",
    "10",
    "255",
    "1000",
    "1e6",
    "2^31",
    "2^53",
    "-0.0",
    "1/0",
    "-1/0",
    "0/0",
    "0x7fffffff",
    "1e308",
    "5e-324",
    "-2^63",
    "7",
    "64",
    "100",
];
const STRS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"%d\"",
    "\"%s\"",
    "\"(%w+)\"",
    "\"%b()\"",
    "\".-\"",
    "\"[%a-z]\"",
    "\"%5.2f\"",
    "\"x\"",
    "\"10\"",
    "\"0x10\"",
    "\"1e2\"",
    "\"__index\"",
    "\"\\0\\255\"",
    "\"%%\"",
    "\"(a)(b)\"",
    "\"^a*$\"",
    "\"%f[%w]\"",
    "\"%q\"",
    "\"*a\"",
    "\"kv\"",
    "\"n\"",
    "\"k\"",
    "\"collect\"",
    "\"count\"",
    "\"step\"",
];
const FIELDS: &[&str] = &["x", "y", "n", "__index", "len", "sub", "k1"];

struct Out {
    s: String,
    depth: usize,
    loops: usize,
    labels: usize,
}

impl Program {
    /// The program as Lua source.
    pub fn to_lua(&self) -> String {
        let mut o = Out { s: String::new(), depth: 0, loops: 0, labels: 0 };
        o.block(&self.body);
        o.s
    }
}

impl Out {
    fn block(&mut self, b: &[Stmt]) {
        for s in b {
            self.stmt(s);
            // `;` ends every statement, so that a next one starting with `(` is not
            // read as a call ("ambiguous syntax").
            self.s.push_str(";\n");
        }
    }

    /// A nested block (functions reset the loop depth).
    fn nested(&mut self, b: &[Stmt], in_loop: bool, in_function: bool) {
        self.depth += 1;
        let saved = self.loops;
        if in_function {
            self.loops = 0;
        }
        if in_loop {
            self.loops += 1;
        }
        // Deep nesting is the parser's business (the `compile` target), not this one's.
        if self.depth < 40 {
            self.block(b);
        }
        self.loops = saved;
        self.depth -= 1;
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Local(v, e) => {
                let _ = write!(self.s, "local {} = ", v.name());
                self.expr(e);
            }
            Stmt::Assign(p, e) => {
                match p {
                    Place::Var(v) => self.s.push_str(v.name()),
                    Place::Index(t, k) => {
                        self.prefix(t);
                        self.s.push('[');
                        self.expr(k);
                        self.s.push(']');
                    }
                    Place::Field(t, f) => {
                        self.prefix(t);
                        let _ = write!(self.s, ".{}", f.name());
                    }
                }
                self.s.push_str(" = ");
                self.expr(e);
            }
            Stmt::Call(c) => self.call(c),
            Stmt::If(c, a, b) => {
                self.s.push_str("if ");
                self.expr(c);
                self.s.push_str(" then\n");
                self.nested(a, false, false);
                self.s.push_str("else\n");
                self.nested(b, false, false);
                self.s.push_str("end");
            }
            Stmt::While(c, b) => {
                self.s.push_str("while ");
                self.expr(c);
                self.s.push_str(" do\n");
                self.nested(b, true, false);
                self.s.push_str("end");
            }
            Stmt::NumFor(v, a, b, step, body) => {
                let _ = write!(self.s, "for {} = ", v.name());
                self.expr(a);
                self.s.push_str(", ");
                self.expr(b);
                if let Some(st) = step {
                    self.s.push_str(", ");
                    self.expr(st);
                }
                self.s.push_str(" do\n");
                self.nested(body, true, false);
                self.s.push_str("end");
            }
            Stmt::PairsFor(k, v, e, body) => {
                let _ = write!(self.s, "for {}, {} in pairs(", k.name(), v.name());
                self.expr(e);
                self.s.push_str(") do\n");
                self.nested(body, true, false);
                self.s.push_str("end");
            }
            Stmt::Repeat(body, c) => {
                self.s.push_str("repeat\n");
                self.nested(body, true, false);
                self.s.push_str("until ");
                self.expr(c);
            }
            Stmt::LocalFunction(v, p, body) => {
                let sep = if p.0 % 4 == 0 { "" } else { ", " };
                let _ = write!(self.s, "local function {}({}{sep}...)\n", v.name(), p.list());
                self.nested(body, false, true);
                self.s.push_str("end");
            }
            Stmt::Return(es) => {
                self.s.push_str("do return ");
                self.exprs(es);
                self.s.push_str(" end");
            }
            Stmt::Break => {
                self.s.push_str(if self.loops > 0 { "do break end" } else { "do end" });
            }
            Stmt::Pcall(body) => {
                self.s.push_str("pcall(function(...)\n");
                self.nested(body, false, true);
                self.s.push_str("end)");
            }
            Stmt::Coroutine(body, args) => {
                self.s.push_str("do local co = coroutine.wrap(function(...)\n");
                self.nested(body, false, true);
                self.s.push_str("end) pcall(co");
                for a in args.iter().take(4) {
                    self.s.push_str(", ");
                    self.expr(a);
                }
                self.s.push_str(") pcall(co) end");
            }
            Stmt::SetMetatable(t, fields) => {
                self.s.push_str("pcall(setmetatable, ");
                self.expr(t);
                self.s.push_str(", {");
                for (m, e) in fields.iter().take(8) {
                    let _ = write!(self.s, "{} = ", m.text());
                    self.expr(e);
                    self.s.push_str(", ");
                }
                self.s.push_str("})");
            }
            Stmt::Goto(body) => {
                let l = self.labels;
                self.labels += 1;
                let _ = write!(self.s, "do local n{l} = 0 ::l{l}:: n{l} = n{l} + 1\n");
                self.nested(body, false, false);
                let _ = write!(self.s, "if n{l} < 3 then goto l{l} end end");
            }
        }
    }

    fn expr_or_nil(&mut self, e: Option<&Expr>) {
        match e {
            Some(e) => self.expr(e),
            None => self.s.push_str("nil"),
        }
    }

    fn exprs(&mut self, es: &[Expr]) {
        for (i, e) in es.iter().take(6).enumerate() {
            if i > 0 {
                self.s.push_str(", ");
            }
            self.expr(e);
        }
    }

    /// An expression usable before `[`, `.`, `:` or `(`.
    fn prefix(&mut self, e: &Expr) {
        match e {
            Expr::Var(v) => self.s.push_str(v.name()),
            _ => {
                self.s.push('(');
                self.expr(e);
                self.s.push(')');
            }
        }
    }

    fn args(&mut self, args: &[Expr]) {
        self.s.push('(');
        self.exprs(args);
        self.s.push(')');
    }

    fn call(&mut self, c: &Call) {
        match c {
            Call::Lib(Lib::StrRep, args) => {
                // The count stays small (see the module docs).
                self.s.push_str("string.rep(");
                self.expr_or_nil(args.first());
                self.s.push_str(", math.min(tonumber(");
                self.expr_or_nil(args.get(1));
                self.s.push_str(") or 0, 4096), ");
                self.expr_or_nil(args.get(2));
                self.s.push(')');
            }
            Call::Lib(l, args) => {
                self.s.push_str(l.text());
                self.args(args);
            }
            Call::Var(v, args) => {
                self.s.push_str(v.name());
                self.args(args);
            }
            Call::Method(o, m, args) => {
                self.prefix(o);
                let _ = write!(self.s, ":{}", m.text());
                self.args(args);
            }
            Call::Expr(f, args) => {
                self.prefix(f);
                self.args(args);
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        if self.depth > 60 {
            self.s.push_str("nil");
            return;
        }
        self.depth += 1;
        match e {
            Expr::Nil => self.s.push_str("nil"),
            Expr::True => self.s.push_str("true"),
            Expr::False => self.s.push_str("false"),
            Expr::Num(n) => {
                let _ = write!(self.s, "({})", NUMS[n.0 as usize % NUMS.len()]);
            }
            Expr::Str(s) => self.s.push_str(STRS[s.0 as usize % STRS.len()]),
            Expr::Var(v) => self.s.push_str(v.name()),
            // The main chunk and every generated function are vararg.
            Expr::Vararg => self.s.push_str("..."),
            Expr::Bin(op, a, b) => {
                self.s.push('(');
                self.expr(a);
                let _ = write!(self.s, " {} ", op.text());
                self.expr(b);
                self.s.push(')');
            }
            Expr::Un(op, a) => {
                self.s.push('(');
                self.s.push_str(op.text());
                self.expr(a);
                self.s.push(')');
            }
            Expr::Table(items) => {
                self.s.push('{');
                for (k, v) in items.iter().take(16) {
                    if let Some(k) = k {
                        self.s.push('[');
                        self.expr(k);
                        self.s.push_str("] = ");
                    }
                    self.expr(v);
                    self.s.push_str(", ");
                }
                self.s.push('}');
            }
            Expr::Index(t, k) => {
                self.prefix(t);
                self.s.push('[');
                self.expr(k);
                self.s.push(']');
            }
            Expr::Field(t, f) => {
                self.prefix(t);
                let _ = write!(self.s, ".{}", f.name());
            }
            Expr::Call(c) => self.call(c),
            Expr::Function(p, body) => {
                let sep = if p.0 % 4 == 0 { "" } else { ", " };
                let _ = write!(self.s, "function({}{sep}...)\n", p.list());
                self.nested(body, false, true);
                self.s.push_str("end");
            }
            Expr::Paren(e) => {
                self.s.push('(');
                self.expr(e);
                self.s.push(')');
            }
        }
        self.depth -= 1;
    }
}

impl Var {
    fn name(self) -> &'static str {
        ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"][(self.0 % 8) as usize]
    }
}

impl Field {
    fn name(self) -> &'static str {
        FIELDS[self.0 as usize % FIELDS.len()]
    }
}

impl Params {
    fn list(self) -> &'static str {
        ["", "a0", "a0, a1", "a1, a2, a3"][(self.0 % 4) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbitrary::Unstructured;

    /// Every generated program compiles.
    #[test]
    fn generated_programs_compile() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for len in 0..400usize {
            let bytes: Vec<u8> = (0..len * 8)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let Ok(p) = Program::arbitrary(&mut Unstructured::new(&bytes)) else { continue };
            let src = p.to_lua();
            if let Err(e) = moonbox_engine::compiler::compile(src.as_bytes(), b"=gen") {
                panic!("{e:?}\n{src}");
            }
        }
    }
}
