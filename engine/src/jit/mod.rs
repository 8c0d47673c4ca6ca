//! The trace JIT's engine side: state, hot loops, recording, trace entry and exit.
//!
//! The engine never depends on a backend crate: a backend (`moonbox-jit-native`'s
//! x86-64 one, or the reference [`eval::Evaluator`] in tests) is installed on the
//! state as a [`TraceBackend`]. Without one, nothing is recorded.
//!
//! Lifecycle (ARCHITECTURE.md, "The trace JIT"):
//! 1. *Hot.* A `FORL` or `LOOP` whose hot counter runs out calls [`Vm::jit_hot`],
//!    which starts a [`record::Recorder`] and sets `MASK_REC`, so the interpreter's
//!    instrumented loop runs (the fast loop pays nothing for recording).
//! 2. *Record.* The instrumented loop calls [`Vm::jit_record`] before each
//!    instruction; the recorder emits IR and lets the interpreter execute it.
//! 3. *Compile.* When the loop closes, the backend compiles the IR; the loop's
//!    instruction is patched to `JFORL`/`JLOOP` (its operands unchanged).
//! 4. *Enter.* The fast loop's `JFORL`/`JLOOP` arm does the loop instruction's work,
//!    then [`Vm::jit_enter`] runs the trace on the frame's registers.
//! 5. *Exit.* The trace has written its snapshot's slots; the frame resumes at the
//!    snapshot's instruction, which the interpreter re-executes.
//!
//! Aborts back off (penalties) and, unless harmless, blacklist the loop after
//! a few tries by patching it to `IFORL`/`ILOOP`, which never count again.

pub mod eval;
pub mod helpers;
pub mod ir;
pub mod record;

use std::collections::HashMap;

use crate::bytecode::{opc, Op};
use crate::gc::{GcRef, Marker};
use crate::object::Proto;
use crate::value::Value;
use crate::vm::{Cont, Frame, LResult, Vm};
use ir::TraceIr;
use record::{Abort, Recorder, Step};

/// `Proto::jit_flags`: `jit.off(f)` was called for this function.
pub const PROTO_OFF: u8 = 1;

/// LuaJIT's optimisation flag names, in flag-bit order (`JIT_F_OPTSTRING`).
pub const OPT_FLAGS: [&str; 11] = ["fold", "cse", "dce", "fwd", "dse", "narrow", "loop", "abc", "sink", "fuse", "fma"];
/// Flags of optimisation levels 1, 2, 3 (3 is the default; `fma` is never default).
pub const OPT_1: u32 = 0b111;
pub const OPT_2: u32 = OPT_1 | (1 << 5) | (1 << 6);
pub const OPT_3: u32 = OPT_2 | (1 << 3) | (1 << 4) | (1 << 7) | (1 << 8) | (1 << 9);

/// LuaJIT's tunable parameters and their defaults (`JIT_PARAMDEF`).
pub const PARAMS: [(&str, i32); 15] = [
    ("maxtrace", 8000),
    ("maxrecord", 16000),
    ("maxirconst", 500),
    ("maxside", 100),
    ("maxsnap", 500),
    ("minstitch", 3),
    ("hotloop", 56),
    ("hotexit", 10),
    ("tryside", 4),
    ("instunroll", 4),
    ("loopunroll", 15),
    ("callunroll", 3),
    ("recunroll", 2),
    ("sizemcode", 64),
    ("maxmcode", 40960),
];
const P_MAXTRACE: usize = 0;
const P_MAXRECORD: usize = 1;
const P_MAXSNAP: usize = 4;
const P_HOTLOOP: usize = 6;
const P_HOTEXIT: usize = 7;

/// Options a backend compiles with.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Emit a check of the per-exit force byte at every guard (test mode).
    pub force_checks: bool,
    /// Code memory: area size and total cap in bytes (`sizemcode`, `maxmcode`).
    pub sizemcode: usize,
    pub maxmcode: usize,
    /// Also produce a machine-code listing (`-jdump`).
    pub listing: bool,
    /// The trace's number: an exit returns `(number << 16) | snapshot`, so that after
    /// linked traces ran the engine knows whose snapshot it is.
    pub number: u32,
}

/// Whether generated code may run on this frame: the register window covers every
/// slot a trace (or one linked from it) may touch ([`record::MAX_SLOTS`] from
/// `base`), a trace compiled with force checks has a force byte per snapshot, and
/// the frame's function is a Lua closure. Every backend's `run` checks it first.
pub fn can_enter(
    stack: &[Value],
    base: usize,
    force: &[u8],
    nsnaps: usize,
    force_checks: bool,
    env: &TraceEnv,
) -> bool {
    base.checked_add(record::MAX_SLOTS).is_some_and(|end| end <= stack.len())
        && (!force_checks || force.len() >= nsnaps)
        && env.func.as_lua_function().is_some()
}

/// The exit code a trace returns: its number and the snapshot it left by.
pub fn exit_code(number: u32, snap: u32) -> u32 {
    (number << 16) | (snap & 0xFFFF)
}

/// A trace compiler.
pub trait TraceBackend {
    fn name(&self) -> &'static str;
    /// Compiles a trace, or says why it cannot (an abort, never a crash). A side
    /// trace (`ir.link`) goes on in `link_to` at its end, if the backend can jump
    /// there directly (else it exits by its last snapshot and the engine runs it).
    fn compile(
        &mut self,
        ir: &TraceIr,
        opts: &CompileOptions,
        link_to: Option<&dyn CompiledTrace>,
    ) -> Result<Box<dyn CompiledTrace>, String>;
}

/// A compiled trace.
/// What a running trace reads besides its frame's registers.
#[derive(Clone, Copy, Debug)]
pub struct TraceEnv {
    /// The frame's closure: a Lua function value (a trace using `FUNC` does not run
    /// without one).
    pub func: Value,
    /// The collector is in its mark phase: a store into a black object needs the
    /// write barrier (`TBAR` exits).
    pub marking: bool,
    /// The running thread's address (an open upvalue of another thread exits).
    pub thread: usize,
}

impl Default for TraceEnv {
    fn default() -> TraceEnv {
        TraceEnv { func: Value::NIL, marking: false, thread: 0 }
    }
}

pub trait CompiledTrace {
    /// Runs the trace on the frame whose registers start at `stack[base]` (at least
    /// [`record::MAX_SLOTS`] of them, so that any trace linked from this one finds
    /// its slots; the slots below are the lower frames', where open upvalues live)
    /// with the instruction budget, until it exits. Returns the [`exit_code`] of the
    /// trace and snapshot it left by, whose slots it has written (`u32::MAX`: it did
    /// not run). `force` holds one byte per snapshot in the forced-exit test mode
    /// (non-zero: take that exit at its first guard), else it is empty.
    /// `env` is what else the trace may read of its frame and the heap.
    fn run(&self, budget: &mut i64, stack: &mut [Value], base: usize, force: &[u8], env: TraceEnv) -> u32;
    /// Sends exit `exit` straight to `side` (a side trace recorded from it), if the
    /// backend links traces itself; false if not (then the engine runs it).
    fn attach(&self, _exit: u32, _side: &dyn CompiledTrace) -> bool {
        false
    }
    /// Undoes [`CompiledTrace::attach`] for `exit`.
    fn detach(&self, _exit: u32) {}
    /// For backends to find their own traces among `dyn CompiledTrace`s.
    fn as_any(&self) -> &dyn std::any::Any;
    /// Bytes of machine code.
    fn code_size(&self) -> usize;
    /// A machine-code listing, if one was asked for.
    fn listing(&self) -> Option<String> {
        None
    }
    /// The machine code's bytes (`jit.util.tracemc`), if there is machine code.
    fn mcode(&self) -> Option<Vec<u8>> {
        None
    }
}

/// A registered trace.
pub struct Trace {
    pub number: u32,
    pub proto: GcRef<Proto>,
    pub start_pc: usize,
    pub anchor_pc: usize,
    pub ir: TraceIr,
    pub code: Box<dyn CompiledTrace>,
    /// Exits taken, by snapshot.
    pub exits: Vec<u32>,
    pub entries: u64,
    /// Force bytes, one per snapshot (forced-exit test mode).
    force: Vec<u8>,
    /// For a side trace: the trace and exit it was recorded from.
    pub parent: Option<(u32, u32)>,
    /// The root trace of the loop (itself for a root trace).
    pub root: u32,
    /// For a side trace: the trace it goes on in at its end.
    pub link_to: u32,
    /// Side traces attached to exits, by snapshot.
    pub sides: Vec<Option<u32>>,
    /// Failed attempts to record a side trace, by snapshot.
    side_tries: Vec<u8>,
    /// The first instruction it records (a side trace's exit's; a root trace's loop
    /// body start).
    pub first_pc: usize,
    /// What it adds to the heap's size estimate (its IR and snapshots), so that
    /// compiling many traces paces the collector as other allocation does.
    bytes: usize,
    /// The first and last instruction of the root loop's body.
    body: (usize, usize),
    /// A root trace's record of its recent entries, for the bad-trace rule.
    window: Window,
}

/// Entries into a root trace from the interpreter, counted in windows of
/// [`WINDOW`]: how many ended in an exit inside the loop's body (the rest of that
/// iteration then runs in the interpreter), and how many loop iterations ran in
/// traces meanwhile (the budget they charged: one per backward branch).
#[derive(Clone, Copy, Default)]
struct Window {
    entries: u32,
    inside: u32,
    iterations: u64,
    /// Windows judged so far; the first is warm-up (side traces still compiling).
    rounds: u32,
}

/// Entries per bad-trace window.
const WINDOW: u32 = 1024;

/// The parts of a trace `-jdump` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpFlags {
    pub bytecode: bool,
    pub ir: bool,
    pub mcode: bool,
}

impl Default for DumpFlags {
    fn default() -> DumpFlags {
        DumpFlags { bytecode: true, ir: true, mcode: true }
    }
}

impl DumpFlags {
    /// LuaJIT's `-jdump=flags` letters: `b` bytecode, `i` IR (with `s`, snapshots,
    /// which the IR listing includes), `m` machine code; others are accepted and
    /// ignored. Empty: everything.
    pub fn parse(flags: &str) -> DumpFlags {
        if flags.is_empty() {
            return DumpFlags::default();
        }
        DumpFlags {
            bytecode: flags.contains('b'),
            ir: flags.contains('i') || flags.contains('s'),
            mcode: flags.contains('m'),
        }
    }
}

/// Forced exits, for testing the snapshots (`MOONBOX_JIT_EXITS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForceExits {
    Off,
    /// Every exit is taken the first time its guard runs.
    First,
    /// Before each entry, each exit is forced with probability 1/16.
    Random(u64),
}

#[derive(Clone, Copy, Default)]
struct Penalty {
    tries: u32,
    /// Hot events to let pass before the next try.
    skip: u32,
}

/// Where `-jv` and `-jdump` text goes ([`Jit::sink`]).
pub type JitSink = std::rc::Rc<dyn Fn(&str)>;

/// The JIT's state on a `Vm`.
pub struct Jit {
    /// `jit.on()` / `jit.off()`.
    pub on: bool,
    /// Optimisation flags, bit i = `OPT_FLAGS[i]`.
    pub opt_flags: u32,
    /// Parameter values, indexed like [`PARAMS`].
    pub params: [i32; 15],
    /// `-jv`: report traces and aborts on stderr.
    pub verbose: bool,
    /// `-jdump`: print each trace's bytecode, IR and machine code on stderr.
    pub dump: bool,
    /// Where `-jv` and `-jdump` text goes (whole lines); `None`: stderr. The
    /// playground shows it in its JIT view.
    pub sink: Option<JitSink>,
    /// What `-jdump` prints: bytecode (`b`), IR and snapshots (`i`), machine code (`m`).
    pub dump_flags: DumpFlags,
    pub force: ForceExits,
    /// The JIT's PRNG state (OpenResty's `jit.prngstate`): jitter for penalties.
    pub prng: [u32; 8],
    backend: Option<Box<dyn TraceBackend>>,
    traces: Vec<Option<Trace>>,
    /// (prototype address, loop instruction pc) → trace number.
    by_loop: HashMap<(usize, usize), u32>,
    pub(crate) rec: Option<Box<Recorder>>,
    penalties: HashMap<(usize, usize), Penalty>,
    /// Bytecode lines seen while recording (`-jdump`).
    rec_log: String,
    pub stats: JitStats,
    compile_times: Vec<u64>,
    /// `EV_*` bits of the `jit.attach` events that have a handler.
    pub events: u8,
    /// A `jit.attach` handler is running: no events, no recording, no new traces.
    in_event: bool,
    /// Trace events waiting for the next point where Lua may run (`jit_send_events`).
    pending: Vec<Event>,
    /// The function being recorded and the number its trace will get (for events).
    rec_func: Value,
    rec_number: u32,
    /// Aborts by (where, why): `-jv`'s closing summary.
    abort_sites: HashMap<(String, String), u32>,
    /// Natives the recorder turns into one IR op (`math.sqrt` → `SQRT`), by the
    /// function's address; the libraries register them (`Vm::jit_builtin`).
    builtins: Vec<(usize, ir::IrOp)>,
}

/// Registry key of the `jit.attach` handlers: a table from event name to function.
pub const EVENTS_KEY: &str = "moonbox.vmevents";
/// `jit.attach(f, "trace")`: traces start, stop, abort, and all are flushed.
pub const EV_TRACE: u8 = 1;
/// `jit.attach(f, "record")`: each instruction as it is recorded.
pub const EV_RECORD: u8 = 2;
/// `jit.attach(f, "texit")`: each exit from a trace to the interpreter.
pub const EV_TEXIT: u8 = 4;

/// The event bit of a `jit.attach` event name (0 for names moonbox never sends,
/// such as LuaJIT's `"bc"`).
pub fn event_bit(name: &[u8]) -> u8 {
    match name {
        b"trace" => EV_TRACE,
        b"record" => EV_RECORD,
        b"texit" => EV_TEXIT,
        _ => 0,
    }
}

/// A VM event for the `jit.attach` handlers, with LuaJIT's arguments. `pc`s are
/// instruction indexes as `jit.util.funcbc` takes them.
enum Event {
    /// `("start", tr, func, pc [, parent, exit])`.
    Start { tr: u32, func: Value, pc: usize, parent: Option<(u32, u32)> },
    /// `("stop", tr, func)`.
    Stop { tr: u32, func: Value },
    /// `("abort", tr, func, pc, reason)`: the reason is the message `-jv` prints.
    Abort { tr: u32, func: Value, pc: usize, why: String },
    /// `("flush")`.
    Flush,
    /// `(tr, func, pc, depth)` to the "record" handler.
    Record { tr: u32, func: Value, pc: usize, depth: usize },
    /// `(tr, exit, ngpr, nfpr)` to the "texit" handler (no register dump: 0, 0).
    Texit { tr: u32, exit: u32 },
}

impl Event {
    fn bit(&self) -> u8 {
        match self {
            Event::Record { .. } => EV_RECORD,
            Event::Texit { .. } => EV_TEXIT,
            _ => EV_TRACE,
        }
    }

    fn func(&self) -> Value {
        match *self {
            Event::Start { func, .. }
            | Event::Stop { func, .. }
            | Event::Abort { func, .. }
            | Event::Record { func, .. } => func,
            Event::Flush | Event::Texit { .. } => Value::NIL,
        }
    }
}

/// Counters for `-jv`'s summary and the tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    pub traces: u64,
    pub aborts: u64,
    pub blacklisted: u64,
    pub entries: u64,
    pub exits: u64,
    /// Total compile time (recording end to installed), nanoseconds.
    pub compile_ns: u64,
    /// Bytes of machine code compiled.
    pub mcode: u64,
}

impl Jit {
    /// Compile times of the traces so far, nanoseconds each.
    pub fn compile_times(&self) -> &[u64] {
        &self.compile_times
    }

    /// `-jv`'s closing lines: the `top` sites where recording aborted most often,
    /// with their counts and reasons (empty when nothing aborted).
    pub fn abort_summary(&self, top: usize) -> String {
        if self.abort_sites.is_empty() {
            return String::new();
        }
        let mut sites: Vec<(&(String, String), &u32)> = self.abort_sites.iter().collect();
        sites.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let total: u32 = self.abort_sites.values().sum();
        let mut out = format!("[TRACE --- {total} aborts at {} sites; the most frequent:]\n", sites.len());
        for ((at, why), n) in sites.into_iter().take(top) {
            out.push_str(&format!("[TRACE --- {n:>5}x {at} -- {why}]\n"));
        }
        out
    }

    /// A one-line summary (`-jstats`): traces, aborts, the median compile time.
    pub fn summary(&self) -> String {
        let mut t = self.compile_times.clone();
        t.sort_unstable();
        let median = t.get(t.len() / 2).copied().unwrap_or(0);
        format!(
            "[JIT: {} traces, {} aborts, {} blacklisted, {} entries, {} exits to the interpreter, median compile {:.1} us, {} bytes of machine code]",
            self.stats.traces,
            self.stats.aborts,
            self.stats.blacklisted,
            self.stats.entries,
            self.stats.exits,
            median as f64 / 1000.0,
            self.stats.mcode
        )
    }
}

impl Default for Jit {
    fn default() -> Jit {
        Jit {
            on: true,
            opt_flags: OPT_3,
            params: PARAMS.map(|(_, v)| v),
            verbose: false,
            sink: None,
            dump: false,
            dump_flags: DumpFlags::default(),
            force: ForceExits::Off,
            prng: [0; 8],
            backend: None,
            traces: Vec::new(),
            by_loop: HashMap::new(),
            rec: None,
            penalties: HashMap::new(),
            rec_log: String::new(),
            stats: JitStats::default(),
            compile_times: Vec::new(),
            events: 0,
            in_event: false,
            pending: Vec::new(),
            rec_func: Value::NIL,
            rec_number: 0,
            abort_sites: HashMap::new(),
            builtins: Vec::new(),
        }
    }
}

impl Jit {
    /// Writes `-jv`/`-jdump` text to the sink (stderr by default).
    fn write(&self, text: &str) {
        match &self.sink {
            Some(f) => f(text),
            None => eprint!("{text}"),
        }
    }

    /// Whether a backend is installed (the JIT exists on this state).
    pub fn available(&self) -> bool {
        self.backend.is_some()
    }

    /// Whether loops may be compiled now.
    pub fn active(&self) -> bool {
        self.on && self.backend.is_some()
    }

    pub fn param(&self, name: &str) -> Option<i32> {
        PARAMS.iter().position(|(n, _)| *n == name).and_then(|i| self.params.get(i).copied())
    }

    /// The registered traces.
    pub fn traces(&self) -> impl Iterator<Item = &Trace> {
        self.traces.iter().flatten()
    }

    /// Trace `n` (numbers start at 1).
    pub fn trace(&self, n: u32) -> Option<&Trace> {
        self.traces.get((n as usize).wrapping_sub(1)).and_then(|t| t.as_ref())
    }

    /// The IR of trace `n`: a compiled trace's, or the one being recorded (its number
    /// is reserved while it records, as in LuaJIT).
    pub fn trace_ir(&self, n: u32) -> Option<&TraceIr> {
        match (self.trace(n), &self.rec) {
            (Some(t), _) => Some(&t.ir),
            (None, Some(r)) if n == self.rec_number => Some(r.ir()),
            _ => None,
        }
    }

    /// Marks what the traces keep alive: their constants, and the prototype being
    /// recorded. A trace does not keep its prototype alive: when the prototype
    /// becomes garbage its traces go too (`Vm::jit_drop_dead_traces`), as in LuaJIT.
    pub fn trace_roots(&self, m: &mut Marker) {
        for t in self.traces.iter().flatten() {
            for &v in &t.ir.consts {
                m.mark_value(v);
            }
        }
        if let Some(r) = &self.rec {
            m.mark(r.proto);
            for &v in &r.ir().consts {
                m.mark_value(v);
            }
        }
        m.mark_value(self.rec_func);
        for e in &self.pending {
            m.mark_value(e.func());
        }
    }

    /// `jit.opt.start` argument: a level (`"2"`), a flag (`"+fold"`, `"-cse"`,
    /// `"nodce"`) or a parameter (`"hotloop=10"`). False if it is none of these.
    pub fn opt(&mut self, a: &[u8]) -> bool {
        self.opt_level(a) || self.opt_flag(a) || self.opt_param(a)
    }

    fn opt_level(&mut self, a: &[u8]) -> bool {
        match a {
            [d @ b'0'..=b'9'] => {
                let flags = match d {
                    b'0' => 0,
                    b'1' => OPT_1,
                    b'2' => OPT_2,
                    _ => OPT_3,
                };
                self.opt_flags = flags | (self.opt_flags & !0x7ff);
                true
            }
            _ => false,
        }
    }

    fn opt_flag(&mut self, a: &[u8]) -> bool {
        let (name, set) = if let Some(r) = a.strip_prefix(b"+") {
            (r, true)
        } else if let Some(r) = a.strip_prefix(b"-") {
            (r, false)
        } else if let Some(r) = a.strip_prefix(b"no") {
            (r.strip_prefix(b"-").unwrap_or(r), false)
        } else {
            (a, true)
        };
        match OPT_FLAGS.iter().position(|f| f.as_bytes() == name) {
            Some(i) => {
                if set {
                    self.opt_flags |= 1 << i;
                } else {
                    self.opt_flags &= !(1 << i);
                }
                true
            }
            None => false,
        }
    }

    fn opt_param(&mut self, a: &[u8]) -> bool {
        for (i, (name, _)) in PARAMS.iter().enumerate() {
            let Some(rest) = a.strip_prefix(name.as_bytes()).and_then(|r| r.strip_prefix(b"=")) else { continue };
            if !rest.iter().all(u8::is_ascii_digit) {
                return false;
            }
            // LuaJIT accumulates in an int32 with wrap-around.
            let n = rest.iter().fold(0i32, |n, &d| n.wrapping_mul(10).wrapping_add(i32::from(d - b'0')));
            if let Some(p) = self.params.get_mut(i) {
                *p = n;
            }
            return true;
        }
        false
    }

    /// The hot counters' start value (`hotloop`).
    pub fn hotloop(&self) -> u16 {
        self.params[P_HOTLOOP].clamp(1, i32::from(u16::MAX)) as u16
    }

    fn next_force_seed(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed >> 33
    }
}

/// How LuaJIT's `-jv` shows a chunk name: `"@dir/file.lua"` → `"file.lua"`,
/// `"=name"` → `"name"`.
pub fn short_src(p: &Proto) -> String {
    let name = p.chunkname.as_bytes();
    let s = match name.first() {
        Some(b'@') => {
            let path = &name[1..];
            path.rsplit(|&c| c == b'/' || c == b'\\').next().unwrap_or(path)
        }
        Some(b'=') => &name[1..],
        _ => name,
    };
    String::from_utf8_lossy(s).into_owned()
}

impl Vm {
    /// Installs a trace compiler. The embedding facade installs the native backend
    /// when the state's capabilities allow generated code (never for sandboxed
    /// states); tests install the evaluator.
    pub fn jit_install(&mut self, backend: Box<dyn TraceBackend>) {
        self.jit_flush();
        self.jit.backend = Some(backend);
        let h = self.jit.hotloop();
        self.hot.reset_all(h);
    }

    /// Removes the backend and every trace: the JIT is absent.
    pub fn jit_uninstall(&mut self) {
        self.jit_flush();
        self.jit.backend = None;
    }

    /// The JIT's state (parameters, statistics, traces).
    pub fn jit(&self) -> &Jit {
        &self.jit
    }

    /// Changes the JIT's settings. Turning it off flushes every trace.
    pub fn jit_settings(&mut self, f: impl FnOnce(&mut Jit)) {
        let was_on = self.jit.on;
        f(&mut self.jit);
        if was_on && !self.jit.on {
            self.jit_flush();
        }
        let h = self.jit.hotloop();
        self.hot.reset_all(h);
    }

    /// `jit.flush()`: forgets every trace and un-patches their loops; blacklisted
    /// loops may compile again.
    pub fn jit_flush(&mut self) {
        self.jit_abort_recording(None);
        for t in self.jit.traces.drain(..).flatten() {
            unpatch(t.proto, t.anchor_pc);
            self.heap.unaccount(t.bytes);
        }
        self.jit.by_loop.clear();
        self.jit.penalties.clear();
        if self.jit.available() {
            self.jit_queue(Event::Flush);
        }
    }

    // ----- jit.attach events ------------------------------------------------------

    fn jit_queue(&mut self, e: Event) {
        if self.jit.events & e.bit() != 0 && !self.jit.in_event {
            self.jit.pending.push(e);
        }
    }

    /// Sends the queued events to their handlers. Called where Lua may run: before
    /// an instruction is recorded, after a trace exit, from `jit.flush`. A handler's
    /// error is reported on stderr and dropped, as LuaJIT does; a limit stop (fuel,
    /// cancellation) is not an error of the handler and goes on.
    pub fn jit_send_events(&mut self) -> LResult<()> {
        while !self.jit.pending.is_empty() && !self.jit.in_event {
            let e = self.jit.pending.remove(0);
            self.jit_send(e)?;
        }
        Ok(())
    }

    fn jit_send(&mut self, e: Event) -> LResult<()> {
        let name: &[u8] = match e.bit() {
            EV_RECORD => b"record",
            EV_TEXIT => b"texit",
            _ => b"trace",
        };
        let reg = self.registry;
        let Some(handlers) = self.get_field(reg, EVENTS_KEY).as_table() else { return Ok(()) };
        let key = self.str_value(name);
        let f = handlers.get(key);
        if !f.is_function() {
            return Ok(());
        }
        let num = |n: usize| Value::number(n as f64);
        let args: Vec<Value> = match e {
            Event::Start { tr, func, pc, parent } => {
                let mut a = vec![self.str_value(b"start"), num(tr as usize), func, num(pc)];
                if let Some((p, x)) = parent {
                    a.extend([num(p as usize), num(x as usize)]);
                }
                a
            }
            Event::Stop { tr, func } => vec![self.str_value(b"stop"), num(tr as usize), func],
            Event::Abort { tr, func, pc, why } => {
                let w = self.str_value(why.as_bytes());
                vec![self.str_value(b"abort"), num(tr as usize), func, num(pc), w]
            }
            Event::Flush => vec![self.str_value(b"flush")],
            Event::Record { tr, func, pc, depth } => vec![num(tr as usize), func, num(pc), num(depth)],
            Event::Texit { tr, exit } => vec![num(tr as usize), num(exit as usize), num(0), num(0)],
        };
        // Hooks do not fire inside a handler, and nothing it runs is recorded.
        let hooks_were = self.hooks.set_running(true);
        self.jit.in_event = true;
        let r = self.call_value(f, &args, 0);
        self.jit.in_event = false;
        self.hooks.set_running(hooks_were);
        match r {
            Ok(_) => Ok(()),
            Err(err) if !err.kind().catchable() => Err(err),
            Err(err) => {
                let v = err.value();
                let msg = v
                    .as_string()
                    .map_or_else(|| "?".to_string(), |s| String::from_utf8_lossy(s.as_bytes()).into_owned());
                eprintln!("VM handler failed: {msg}");
                Ok(())
            }
        }
    }

    /// In the atomic phase, with everything reachable marked: forgets the traces of
    /// prototypes about to be freed (the sweep comes after).
    pub(crate) fn jit_drop_dead_traces(&mut self) {
        let dead: Vec<u32> = self
            .jit
            .traces()
            .filter(|t| t.parent.is_none() && !self.heap.is_marked_value(t.proto.to_value()))
            .map(|t| t.number)
            .collect();
        for n in dead {
            self.jit_flush_trace(n);
        }
    }

    /// Flushes one trace (`jit.flush(n)`) with the side traces attached to it. A
    /// root trace's loop is un-patched; a side trace's parent exit goes back to the
    /// interpreter.
    pub fn jit_flush_trace(&mut self, n: u32) {
        let Some(slot) = self.jit.traces.get_mut((n as usize).wrapping_sub(1)) else { return };
        let Some(t) = slot.take() else { return };
        self.heap.unaccount(t.bytes);
        match t.parent {
            None => {
                unpatch(t.proto, t.anchor_pc);
                self.jit.by_loop.remove(&(t.proto.addr(), t.anchor_pc));
            }
            Some((parent, exit)) => {
                if let Some(Some(p)) = self.jit.traces.get_mut((parent as usize).wrapping_sub(1)) {
                    if let Some(s) = p.sides.get_mut(exit as usize) {
                        *s = None;
                    }
                    p.code.detach(exit);
                }
            }
        }
        for side in t.sides.iter().flatten() {
            self.jit_flush_trace(*side);
        }
        // And every trace that goes on in this one.
        let linked: Vec<u32> =
            self.jit.traces().filter(|x| x.parent.is_some() && x.link_to == n).map(|x| x.number).collect();
        for l in linked {
            self.jit_flush_trace(l);
        }
    }

    fn jit_log(&self, line: &str) {
        if self.jit.verbose || self.jit.dump {
            self.jit.write(&format!("{line}\n"));
        }
    }

    /// A loop's hot counter ran out: `anchor` is its `FORL`/`LOOP`, `start` the first
    /// instruction of its body. Starts recording if the loop may be compiled; true if
    /// it did (the caller then switches to the instrumented loop).
    #[cold]
    #[inline(never)]
    pub(crate) fn jit_hot(&mut self, proto: GcRef<Proto>, anchor: usize, start: usize, base: usize) -> bool {
        // Not while hooks are armed, except inside a running hook function (hooks do
        // not fire there), whose loops compile as in LuaJIT.
        if !self.jit.active()
            || self.jit.rec.is_some()
            || self.jit.in_event
            || (self.hooks.mask != 0 && !self.hooks.is_running())
        {
            return false;
        }
        if proto.jit_flags.get() & PROTO_OFF != 0 {
            return false;
        }
        let key = (proto.addr(), anchor);
        if let Some(p) = self.jit.penalties.get_mut(&key) {
            if p.skip > 0 {
                p.skip -= 1;
                return false;
            }
        }
        if self.jit.traces.iter().flatten().count() >= self.jit.params[P_MAXTRACE].max(1) as usize {
            // Full: LuaJIT flushes everything and starts over.
            self.jit_flush();
        }
        let params = (self.jit.params[P_MAXRECORD].max(1) as usize, self.jit.params[P_MAXSNAP].max(2) as usize);
        let ident = (self.frames.len(), base, self.cur_thread.addr());
        let mut rec = Recorder::new(proto, ident, start, anchor, params);
        rec.builtins = self.jit.builtins.clone();
        rec.type_names = self.type_names.iter().map(|s| s.to_value()).collect();
        rec.index_name = self.mm_names[crate::vm::meta::MetaEvent::Index as usize].to_value();
        rec.loop_opt = self.jit.opt_flags & (1 << 6) != 0;
        self.jit.rec = Some(Box::new(rec));
        self.jit.rec_log.clear();
        self.jit_started(start, None);
        if self.jit.dump {
            let line = proto.line_at(start);
            self.jit.rec_log =
                format!("---- TRACE {} start {}:{}\n", self.next_trace_number(), short_src(&proto), line);
        }
        self.hooks.mask |= crate::vm::hook::MASK_REC;
        true
    }

    /// A recording started at `pc`: remembers its function and number, and queues the
    /// "start" event (sent before its first instruction is recorded).
    fn jit_started(&mut self, pc: usize, parent: Option<(u32, u32)>) {
        let func = match self.frames.last().map(|f| &f.fun) {
            Some(crate::vm::FrameFn::Lua(c, _)) => c.to_value(),
            _ => Value::NIL,
        };
        self.jit.rec_func = func;
        self.jit.rec_number = self.next_trace_number();
        let tr = self.jit.rec_number;
        self.jit_queue(Event::Start { tr, func, pc, parent });
    }

    fn next_trace_number(&self) -> u32 {
        self.jit.traces.iter().position(Option::is_none).unwrap_or(self.jit.traces.len()) as u32 + 1
    }

    /// Records instruction `pc` of the running frame (the instrumented loop calls it
    /// before executing each instruction while recording).
    #[cold]
    #[inline(never)]
    pub(crate) fn jit_record(&mut self, proto: GcRef<Proto>, pc: usize, base: usize) -> LResult<()> {
        if self.jit.in_event {
            // A handler's own code: not part of the trace.
            return Ok(());
        }
        if !self.jit.pending.is_empty() || self.jit.events & EV_RECORD != 0 {
            self.jit_send_events()?;
            if self.jit.events & EV_RECORD != 0 && self.jit.rec.is_some() {
                let (tr, func, depth) = (self.jit.rec_number, self.jit.rec_func, self.frames.len());
                self.jit_send(Event::Record { tr, func, pc, depth })?;
            }
        }
        let Some(rec) = self.jit.rec.as_mut() else {
            self.hooks.mask &= !crate::vm::hook::MASK_REC;
            return Ok(());
        };
        let (want_proto, want_base, want_depth) = rec.expect();
        let same = want_proto == proto
            && want_base == base
            && want_depth == self.frames.len()
            && rec.thread == self.cur_thread.addr()
            && (self.hooks.mask & crate::vm::hook::MASK_INS == 0 || self.hooks.is_running());
        if !same {
            self.jit_abort_recording(Some(Abort::FrameChanged));
            return self.jit_send_events();
        }
        if self.jit.dump && self.jit.dump_flags.bytecode {
            if let Some(ins) = proto.ins(pc) {
                use std::fmt::Write as _;
                // As `-bl` numbers them: from 1, jumps with their targets.
                let text = match ins.op() {
                    Some(op) if op.modes().2 == crate::bytecode::Mode::Jump => {
                        let target = (pc as isize + 2 + ins.j()).max(0);
                        format!("{:<6} {:>3} => {target:04}", op.name(), ins.a())
                    }
                    _ => format!("{ins:?}"),
                };
                let _ =
                    writeln!(self.jit.rec_log, "{:04}  {text}  ({}:{})", pc + 1, short_src(&proto), proto.line_at(pc));
            }
        }
        let (below, regs) = self.stack.split_at(base.min(self.stack.len()));
        let regs = &regs[..regs.len().min(record::MAX_SLOTS)];
        let func = self.frames.last().and_then(|f| self.stack.get(f.func).copied()).unwrap_or(Value::NIL);
        let Some(rec) = self.jit.rec.as_mut() else { return Ok(()) };
        rec.func = func;
        match rec.ins(below, regs, pc) {
            Step::Continue => {}
            Step::Abort(a) => self.jit_abort_recording(Some(a)),
            Step::Done => self.jit_finish_recording(),
        }
        self.jit_send_events()
    }

    /// Stops recording; with a reason, reports it and penalises the loop.
    /// Registers native `f` as a builtin the recorder compiles to `op` (one of the
    /// IR's math ops): `f` must compute exactly what `op` does on numbers.
    pub fn jit_builtin(&mut self, f: crate::vm::native::NativeFn, op: ir::IrOp) {
        self.jit.builtins.push((f as usize, op));
    }

    pub(crate) fn jit_abort_recording(&mut self, why: Option<Abort>) {
        self.hooks.mask &= !crate::vm::hook::MASK_REC;
        let Some(rec) = self.jit.rec.take() else { return };
        let func = std::mem::replace(&mut self.jit.rec_func, Value::NIL);
        let Some(why) = why else { return };
        let tr = self.jit.rec_number;
        self.jit_queue(Event::Abort { tr, func, pc: rec.last_pc(), why: why.message() });
        if let Some((pc, (parent, exit), _)) = rec.side() {
            if self.jit.verbose || self.jit.dump {
                let sp = rec.start_proto();
                let msg = format!(
                    "[TRACE --- ({parent}/{exit}) {}:{} -- {} at {}:{}]",
                    short_src(&sp),
                    sp.line_at(pc),
                    why.message(),
                    short_src(&rec.last_proto()),
                    rec.last_proto().line_at(rec.last_pc())
                );
                if self.jit.dump {
                    self.jit.write(&self.jit.rec_log);
                }
                self.jit_log(&msg);
            }
            self.jit.stats.aborts += 1;
            self.count_abort_site(rec.last_proto(), rec.last_pc(), &why);
            self.side_failed(parent, exit);
            return;
        }
        self.abort_report(rec.proto, rec.start_pc, rec.anchor_pc, (rec.last_proto(), rec.last_pc()), why);
    }

    fn count_abort_site(&mut self, proto: GcRef<Proto>, at: usize, why: &Abort) {
        let sites = &mut self.jit.abort_sites;
        // Bounded: a program with very many abort sites keeps the first ones.
        if sites.len() >= 4096 {
            return;
        }
        let key = (format!("{}:{}", short_src(&proto), proto.line_at(at)), why.message());
        *sites.entry(key).or_insert(0) += 1;
    }

    /// A side trace could not be recorded: its exit counts again from zero, and after
    /// a few failures it is left to the interpreter.
    fn side_failed(&mut self, parent: u32, exit: u32) {
        if let Some(Some(p)) = self.jit.traces.get_mut((parent - 1) as usize) {
            if let Some(n) = p.exits.get_mut(exit as usize) {
                *n = 0;
            }
        }
    }

    /// Reports an abort of the root trace for the loop of `proto` at `start`; `at`
    /// is where recording stopped (in an inlined callee, its proto).
    fn abort_report(
        &mut self,
        proto: GcRef<Proto>,
        start: usize,
        anchor: usize,
        (at_proto, at): (GcRef<Proto>, usize),
        why: Abort,
    ) {
        self.jit.stats.aborts += 1;
        self.count_abort_site(at_proto, at, &why);
        if self.jit.verbose || self.jit.dump {
            let msg = format!(
                "[TRACE --- {}:{} -- {} at {}:{}]",
                short_src(&proto),
                proto.line_at(start),
                why.message(),
                short_src(&at_proto),
                at_proto.line_at(at)
            );
            if self.jit.dump {
                self.jit.write(&self.jit.rec_log);
            }
            self.jit_log(&msg);
        }
        self.penalise(proto, anchor, why.mild());
    }

    fn penalise(&mut self, proto: GcRef<Proto>, anchor: usize, mild: bool) {
        let key = (proto.addr(), anchor);
        let p = self.jit.penalties.entry(key).or_default();
        p.tries += 1;
        // A few random extra hot events, so that loops aborting together do not
        // retry in lockstep (LuaJIT adds random bits to its penalties too).
        let st = &mut self.jit.prng;
        let mut x = st[0] ^ st[7].rotate_left(13) ^ 0x9E37_79B9;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        st.rotate_left(1);
        st[7] = x;
        p.skip = (1u32 << p.tries.min(8)) - 1 + (x & 3);
        // Harmless aborts (an inner loop, a loop left early) back off and only
        // blacklist after many tries: the loop's code runs in side traces anyway.
        if p.tries >= if mild { 16 } else { 5 } {
            self.jit.stats.blacklisted += 1;
            blacklist(proto, anchor);
        }
    }

    fn jit_finish_recording(&mut self) {
        self.hooks.mask &= !crate::vm::hook::MASK_REC;
        let Some(rec) = self.jit.rec.take() else { return };
        let (proto, start, anchor) = (rec.proto, rec.start_pc, rec.anchor_pc);
        let side = rec.side();
        let first_pc = side.map_or(start, |s| s.0);
        let first_proto = rec.start_proto();
        let link_target = rec.link_target();
        let body = rec.body();
        let ir = rec.finish();
        #[cfg(not(any(miri, all(target_arch = "wasm32", target_os = "unknown"))))]
        let t0 = std::time::Instant::now();
        let opts = CompileOptions {
            force_checks: self.jit.force != ForceExits::Off,
            sizemcode: (self.jit.params[13].max(4) as usize) * 1024,
            maxmcode: (self.jit.params[14].max(64) as usize) * 1024,
            listing: self.jit.dump && self.jit.dump_flags.mcode,
            number: self.next_trace_number(),
        };
        let link_to = match side {
            Some(_) => self.jit.traces.get((link_target as usize).wrapping_sub(1)).and_then(|t| t.as_ref()),
            None => None,
        };
        let link_code = link_to.map(|t| &*t.code);
        let func = std::mem::replace(&mut self.jit.rec_func, Value::NIL);
        let Some(backend) = self.jit.backend.as_mut() else { return };
        let code = match backend.compile(&ir, &opts, link_code) {
            Ok(c) => c,
            Err(m) => {
                let tr = self.jit.rec_number;
                self.jit_queue(Event::Abort { tr, func, pc: anchor, why: Abort::Backend(m.clone()).message() });
                match side {
                    Some((_, (parent, exit), _)) => self.side_failed(parent, exit),
                    None => self.abort_report(proto, start, anchor, (proto, anchor), Abort::Backend(m)),
                }
                return;
            }
        };
        #[cfg(not(any(miri, all(target_arch = "wasm32", target_os = "unknown"))))]
        {
            let ns = t0.elapsed().as_nanos() as u64;
            self.jit.stats.compile_ns += ns;
            self.jit.compile_times.push(ns);
        }
        self.jit.stats.mcode += code.code_size() as u64;
        let number = self.next_trace_number();
        let slot = (number - 1) as usize;
        if self.jit.dump {
            let mut out = std::mem::take(&mut self.jit.rec_log);
            if self.jit.dump_flags.ir {
                out.push_str(&format!("---- TRACE {number} IR\n"));
                ir.dump(&mut out);
            }
            if let Some(l) = code.listing().filter(|_| self.jit.dump_flags.mcode) {
                out.push_str(&format!("---- TRACE {number} mcode {}\n", code.code_size()));
                out.push_str(&l);
            }
            match side {
                Some(_) => out.push_str(&format!("---- TRACE {number} stop -> {link_target}\n")),
                None => out.push_str(&format!("---- TRACE {number} stop -> loop\n")),
            }
            self.jit.write(&out);
        }
        if self.jit.verbose {
            // A root trace is named by its loop instruction's line (the `for`,
            // `while` or `repeat` line), as LuaJIT names it; a side trace by its
            // first instruction's.
            let line = match side {
                Some(_) => first_proto.line_at(first_pc),
                None => proto.line_at(anchor),
            };
            let at = format!("{}:{line}", short_src(&first_proto));
            match side {
                Some((_, (parent, exit), _)) => {
                    self.jit_log(&format!("[TRACE {number:>3} ({parent}/{exit}) {at} -> {link_target}]"))
                }
                None => self.jit_log(&format!("[TRACE {number:>3} {at} loop]")),
            }
        }
        let nsnaps = ir.snaps.len();
        // No side traces from budget exits (`u8::MAX` tries: never).
        let mut side_tries = vec![0u8; nsnaps];
        for ins in ir.ins.iter().filter(|i| i.op == ir::IrOp::BUDGET) {
            if let Some(t) = side_tries.get_mut(usize::from(ins.snap)) {
                *t = u8::MAX;
            }
        }
        let force = match self.jit.force {
            ForceExits::Off => Vec::new(),
            _ => vec![1; nsnaps],
        };
        let trace = Trace {
            number,
            proto,
            start_pc: start,
            anchor_pc: anchor,
            ir,
            code,
            exits: vec![0; nsnaps],
            entries: 0,
            force,
            parent: side.map(|s| s.1),
            root: side.map_or(number, |s| s.2),
            link_to: link_target,
            sides: vec![None; nsnaps],
            side_tries,
            first_pc,
            bytes: 0,
            body,
            window: Window::default(),
        };
        let mut trace = trace;
        trace.bytes = std::mem::size_of::<Trace>()
            + trace.ir.ins.len() * std::mem::size_of::<ir::IrIns>()
            + trace.ir.snaps.iter().map(|s| 32 + s.entries.len() * 4).sum::<usize>()
            + nsnaps * 16;
        self.heap.account(trace.bytes);
        if slot < self.jit.traces.len() {
            self.jit.traces[slot] = Some(trace);
        } else {
            self.jit.traces.push(Some(trace));
        }
        self.jit.stats.traces += 1;
        self.jit_queue(Event::Stop { tr: number, func });
        if let Some((_, (parent, exit), _)) = side {
            // Attach it to its parent's exit; the loop instruction is patched already.
            let [Some(Some(p)), Some(Some(t))] = self
                .jit
                .traces
                .get_disjoint_mut([(parent - 1) as usize, slot])
                .map(|[a, b]| [Some(a), Some(b)])
                .unwrap_or([None, None])
            else {
                return;
            };
            if let Some(s) = p.sides.get_mut(exit as usize) {
                *s = Some(number);
            }
            p.code.attach(exit, &*t.code);
            return;
        }
        self.jit.by_loop.insert((proto.addr(), anchor), number);
        self.jit.penalties.remove(&(proto.addr(), anchor));
        if let Some(cell) = proto.code.get(anchor) {
            let ins = cell.get();
            match ins.op_byte() {
                opc::FORL | opc::IFORL => cell.set(ins.with_op(Op::JFORL)),
                opc::LOOP | opc::ILOOP => cell.set(ins.with_op(Op::JLOOP)),
                _ => {}
            }
        }
    }

    /// Runs the trace of the loop whose instruction is at `anchor` on the frame at
    /// `base`, and leaves the frame's saved pc where the traces exited. (The
    /// interpreter has done the loop instruction's work and saved the frame's pc at
    /// the loop body's start: without a trace, the frame just goes on there.)
    ///
    /// Side traces are linked here: an exit with a side trace runs it, and a side
    /// trace that reaches the loop's end (its link exit) runs the root trace again.
    #[inline(never)]
    pub(crate) fn jit_enter(&mut self, proto: GcRef<Proto>, anchor: usize, base: usize) -> LResult<()> {
        self.jit_run_traces(proto, anchor, base);
        if self.jit.pending.is_empty() {
            Ok(())
        } else {
            self.jit_send_events()
        }
    }

    fn jit_run_traces(&mut self, proto: GcRef<Proto>, anchor: usize, base: usize) {
        let key = (proto.addr(), anchor);
        let Some(&first) = self.jit.by_loop.get(&key) else {
            unpatch(proto, anchor);
            return;
        };
        // Calls made in a trace need frames in the interpreter (an exit inside an
        // inlined call makes them) and room on the stack for their registers:
        // where that would overflow, the interpreter runs the loop and raises
        // the error.
        if self.frames.len() + 1 + record::MAX_INLINE >= crate::vm::MAX_FRAMES + self.handler_extra {
            return;
        }
        let room = base + record::MAX_SLOTS + crate::vm::REG_WINDOW + crate::vm::EXTRA_STACK;
        if self.stack.len() < room && self.ensure_stack(room).is_err() {
            return;
        }
        let budget_before = self.budget;
        let env = TraceEnv {
            func: self.frames.last().and_then(|f| self.stack.get(f.func).copied()).unwrap_or(Value::NIL),
            marking: self.heap.phase() == crate::gc::Phase::Propagate,
            thread: self.cur_thread.addr(),
        };
        let mut number = first;
        loop {
            let Some(Some(trace)) = self.jit.traces.get_mut((number - 1) as usize) else {
                if number == first {
                    unpatch(proto, anchor);
                }
                return;
            };
            // The frame's register window is always on the stack (`vm::window`).
            if self.stack.len() < base + record::MAX_SLOTS {
                return;
            }
            if let ForceExits::Random(ref mut seed) = self.jit.force {
                let mut st = *seed;
                for b in trace.force.iter_mut() {
                    *b = u8::from(Jit::next_force_seed(&mut st).is_multiple_of(16));
                }
                *seed = st;
            }
            trace.entries += 1;
            self.jit.stats.entries += 1;
            let code = trace.code.run(&mut self.budget, &mut self.stack, base, &trace.force, env);
            if code == u32::MAX {
                return;
            }
            // Linked traces may have run: the exit is the one the code names.
            let (by, exit) = (code >> 16, code & 0xFFFF);
            if by != number {
                number = by;
            }
            let Some(Some(trace)) = self.jit.traces.get_mut((number as usize).wrapping_sub(1)) else { return };
            let Some(snap) = trace.ir.snaps.get(exit as usize) else { return };
            let pc = snap.pc as usize;
            if let Some(t) = snap.top {
                // The instruction resumed at takes values up to this top.
                self.top = base + usize::from(t);
            }
            let inline_frames = (!snap.frames.is_empty()).then(|| snap.frames.clone());
            if trace.ir.link && exit as usize == trace.ir.loop_snap {
                // A side trace finished the iteration: on to the root trace (its
                // slots are on the stack).
                if let Some(f) = self.frames.last_mut() {
                    f.pc = pc;
                }
                number = trace.link_to;
                continue;
            }
            self.jit.stats.exits += 1;
            if self.jit.events & EV_TEXIT != 0 {
                self.jit_queue(Event::Texit { tr: number, exit });
            }
            let Some(Some(trace)) = self.jit.traces.get_mut((number as usize).wrapping_sub(1)) else { return };
            if self.jit.force == ForceExits::First {
                if let Some(b) = trace.force.get_mut(exit as usize) {
                    *b = 0;
                }
            }
            if let Some(&Some(side)) = trace.sides.get(exit as usize) {
                // The side trace goes on from this snapshot (inside inlined calls too:
                // it records from their frames), on the same stack.
                if inline_frames.is_none() {
                    if let Some(f) = self.frames.last_mut() {
                        f.pc = pc;
                    }
                }
                number = side;
                continue;
            }
            // Back to the interpreter: with the frames of the calls it was inside.
            let inlined = inline_frames.clone();
            if let Some(frames) = inline_frames {
                self.jit_make_frames(base, &frames, pc);
            } else if let Some(f) = self.frames.last_mut() {
                f.pc = pc;
            }
            let Some(Some(trace)) = self.jit.traces.get_mut((number as usize).wrapping_sub(1)) else { return };
            let count = trace.exits.get_mut(exit as usize).map_or(0, |n| {
                *n = n.saturating_add(1);
                *n
            });
            let hotexit = self.jit.params[P_HOTEXIT].max(1) as u32;
            let tries = trace.side_tries.get(exit as usize).copied().unwrap_or(u8::MAX);
            // A side trace exiting at its own first instruction went the other way at
            // the branch its parent exited at: a side trace from there would be
            // its parent again (and so on, a chain), so that path stays interpreted.
            let chain = trace.parent.is_some() && pc == trace.first_pc;
            let inside = (trace.body.0..=trace.body.1).contains(&pc);
            if count >= hotexit && tries < 4 && exit as usize != trace.ir.loop_snap && !chain {
                self.jit_start_side(number, exit, pc, base, inlined.unwrap_or_default());
            }
            let iterations = budget_before.saturating_sub(self.budget).max(0) as u64;
            self.jit_judge(first, inside, iterations);
            return;
        }
    }

    /// After an exit inside inlined calls: the frames the interpreter would have
    /// (each function is in its slot: the call guarded it), the caller of each
    /// resuming after its call, the innermost at `pc`.
    fn jit_make_frames(&mut self, base: usize, frames: &[ir::SnapFrame], pc: usize) {
        let mut resume = frames.first().map_or(pc, |f| f.ret_pc as usize);
        if let Some(f) = self.frames.last_mut() {
            f.pc = resume;
        }
        for (i, sf) in frames.iter().enumerate() {
            let func = base + usize::from(sf.func);
            let Some(cl) = self.stack.get(func).and_then(|v| v.as_lua_function()) else { return };
            let mut fr = Frame::lua(func, func + 1, sf.nresults, Cont::Call, (cl, cl.proto), sf.tail);
            resume = frames.get(i + 1).map_or(pc, |next| next.ret_pc as usize);
            fr.pc = resume;
            self.frames.push(fr);
        }
    }

    /// The bad-trace rule: a loop whose trace keeps leaving in the middle of an
    /// iteration after a few iterations (a branch whose side trace cannot be
    /// compiled, taken often) pays an entry and an exit for little traced work, and
    /// runs slower than the interpreter. Judged per window of [`WINDOW`] entries
    /// after the first: when at least half the entries ended inside the loop body
    /// and the traces ran fewer than 4 iterations per entry, the trace is flushed
    /// and the loop left to the interpreter (blacklisted, until `jit.flush()`).
    fn jit_judge(&mut self, first: u32, inside: bool, iterations: u64) {
        let Some(Some(t)) = self.jit.traces.get_mut((first as usize).wrapping_sub(1)) else { return };
        let w = &mut t.window;
        w.entries += 1;
        w.inside += u32::from(inside);
        w.iterations += iterations;
        if w.entries < WINDOW {
            return;
        }
        let bad = w.rounds > 0 && w.inside * 2 >= w.entries && w.iterations < 4 * u64::from(w.entries);
        let (inside, iterations) = (w.inside, w.iterations);
        *w = Window { rounds: w.rounds + 1, ..Window::default() };
        if !bad {
            return;
        }
        let (proto, anchor, start) = (t.proto, t.anchor_pc, t.start_pc);
        if self.jit.verbose || self.jit.dump {
            let src = short_src(&proto);
            self.jit_log(&format!(
                "[TRACE --- {src}:{} -- bad trace {first}: {inside} of {WINDOW} entries left mid-iteration, {:.1} iterations per entry]",
                proto.line_at(start),
                iterations as f64 / f64::from(WINDOW)
            ));
        }
        self.jit_flush_trace(first);
        self.jit.stats.blacklisted += 1;
        blacklist(proto, anchor);
    }

    /// Starts recording a side trace from exit `exit` of trace `parent`, whose
    /// snapshot resumes at `pc`.
    fn jit_start_side(&mut self, parent: u32, exit: u32, pc: usize, base: usize, inlined: Vec<ir::SnapFrame>) {
        if !self.jit.active() || self.jit.rec.is_some() || self.jit.in_event || self.hooks.mask != 0 {
            return;
        }
        let Some(Some(t)) = self.jit.traces.get_mut((parent - 1) as usize) else { return };
        if let Some(n) = t.side_tries.get_mut(exit as usize) {
            *n += 1;
        }
        let root = t.root;
        let Some(Some(r)) = self.jit.traces.get((root - 1) as usize) else { return };
        let (proto, anchor, root_start) = (r.proto, r.anchor_pc, r.start_pc);
        let params = (self.jit.params[P_MAXRECORD].max(1) as usize, self.jit.params[P_MAXSNAP].max(2) as usize);
        // The loop's frame is below the inlined calls' (made by the exit).
        let Some(depth) = self.frames.len().checked_sub(inlined.len()) else { return };
        let ident = (depth, base, self.cur_thread.addr());
        let mut calls = Vec::with_capacity(inlined.len());
        for f in &inlined {
            let Some(cl) = self.stack.get(base + usize::from(f.func)).and_then(|v| v.as_lua_function()) else {
                return;
            };
            calls.push((cl.proto, *f));
        }
        let links: Vec<(usize, u32)> = self
            .jit
            .traces()
            .filter(|t| t.parent.is_none() && t.proto == proto)
            .map(|t| (t.start_pc, t.number))
            .collect();
        let mut rec = Recorder::new(proto, ident, root_start, anchor, params);
        rec.builtins = self.jit.builtins.clone();
        rec.type_names = self.type_names.iter().map(|s| s.to_value()).collect();
        rec.index_name = self.mm_names[crate::vm::meta::MetaEvent::Index as usize].to_value();
        rec.side_of(pc, (parent, exit), root, links);
        rec.inside_calls(&calls);
        let start_proto = rec.start_proto();
        self.jit.rec = Some(Box::new(rec));
        self.jit.rec_log.clear();
        self.jit_started(pc, Some((parent, exit)));
        if self.jit.dump {
            self.jit.rec_log = format!(
                "---- TRACE {} start {}/{} {}:{}\n",
                self.next_trace_number(),
                parent,
                exit,
                short_src(&start_proto),
                start_proto.line_at(pc)
            );
        }
        self.hooks.mask |= crate::vm::hook::MASK_REC;
    }
}

/// Blacklists a loop: its instruction never counts again (until a flush).
fn blacklist(proto: GcRef<Proto>, anchor: usize) {
    if let Some(cell) = proto.code.get(anchor) {
        let ins = cell.get();
        match ins.op_byte() {
            opc::FORL => cell.set(ins.with_op(Op::IFORL)),
            opc::LOOP => cell.set(ins.with_op(Op::ILOOP)),
            _ => {}
        }
    }
}

/// Undoes a loop instruction's patch.
fn unpatch(proto: GcRef<Proto>, anchor: usize) {
    if let Some(cell) = proto.code.get(anchor) {
        cell.set(cell.get().original());
    }
}
