//! Debug hooks: the interpreter side of `debug.sethook`.
//!
//! `Vm::hooks.mask` is zero unless a hook is set, and the interpreter tests it at
//! three places only:
//! - `precall`, after a call's frame is set up: "call" events (Lua and native callees);
//! - the `RET*` instructions, before the frame is popped: "return" events (Lua
//!   functions; as in LuaJIT, builtins fire no return event);
//! - the head of the dispatch loop, before each instruction: "count" events (every
//!   `count` instructions) and "line" events (entering a new line, jumping back, or
//!   starting a function).
//!
//! A hook runs as an ordinary re-entrant Lua call while the frame that triggered it is
//! still on the stack, so inside the hook `debug.getinfo(2)` describes that function.
//! Hooks do not fire while a hook runs. The hook function lives in the registry under
//! [`HOOK_KEY`], as LuaJIT keeps it in its registry; `debug.sethook` sets both.

use crate::gc::GcRef;
use crate::object::Proto;
use crate::value::Value;
use crate::vm::{LResult, Vm};

pub const MASK_CALL: u8 = 1;
pub const MASK_RET: u8 = 2;
pub const MASK_LINE: u8 = 4;
pub const MASK_COUNT: u8 = 8;
/// The events checked before every instruction.
pub const MASK_INS: u8 = MASK_LINE | MASK_COUNT;
/// Not a hook: the trace recorder is running (`jit` module). Like the instruction
/// hooks it selects the instrumented dispatch loop, which calls the recorder before
/// each instruction.
pub const MASK_REC: u8 = 16;
/// The bits that select the instrumented dispatch loop.
pub const MASK_SLOW: u8 = MASK_INS | MASK_REC;
/// Registry key of the hook function.
pub const HOOK_KEY: &str = "moonbox.hook";

/// The hook state of a `Vm`.
#[derive(Default)]
pub struct Hooks {
    /// `MASK_*` bits of the armed events; zero when no hook is set.
    pub mask: u8,
    /// The count of a "count" hook.
    pub count: i64,
    countdown: i64,
    /// A hook is running (hooks do not nest).
    running: bool,
    /// For line events: the prototype, pc and frame depth of the last instruction seen.
    last_proto: usize,
    last_pc: usize,
    last_depth: usize,
}

impl Hooks {
    /// Whether a hook function is running now (hooks do not fire meanwhile).
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Marks a hook (or a `jit.attach` handler) as running or not; returns the old state.
    pub(crate) fn set_running(&mut self, on: bool) -> bool {
        std::mem::replace(&mut self.running, on)
    }

    /// Arms the hook events `mask` (count events every `count` instructions).
    pub fn set(&mut self, mask: u8, count: i64) {
        // A recording in progress sees the hook and aborts itself.
        self.mask = (mask & !MASK_REC) | (self.mask & MASK_REC);
        self.count = count;
        self.countdown = count;
        self.last_proto = 0;
    }
}

impl Vm {
    fn run_hook(&mut self, event: &str, line: Option<u32>) -> LResult<()> {
        if self.hooks.running {
            return Ok(());
        }
        let reg = self.registry;
        let f = self.get_field(reg, HOOK_KEY);
        if !f.is_function() {
            return Ok(());
        }
        let ev = self.str_value(event.as_bytes());
        let l = line.map_or(Value::NIL, |l| Value::number(f64::from(l)));
        self.hooks.running = true;
        let r = self.call_value(f, &[ev, l], 0);
        self.hooks.running = false;
        r.map(|_| ())
    }

    /// A "call" event; the callee's frame is on top.
    #[cold]
    pub(crate) fn hook_call(&mut self) -> LResult<()> {
        self.run_hook("call", None)
    }

    /// A "return" event; the returning Lua frame is on top.
    #[cold]
    pub(crate) fn hook_return(&mut self) -> LResult<()> {
        self.run_hook("return", None)
    }

    /// Before instruction `pc` of `proto` runs in the top frame (whose saved pc is
    /// `pc + 1`, so the frame reports the line of this instruction).
    #[cold]
    pub(crate) fn hook_ins(&mut self, proto: GcRef<Proto>, pc: usize) -> LResult<()> {
        if self.hooks.running {
            return Ok(());
        }
        if self.hooks.mask & MASK_COUNT != 0 {
            self.hooks.countdown -= 1;
            if self.hooks.countdown <= 0 {
                self.hooks.countdown = self.hooks.count;
                self.run_hook("count", None)?;
            }
        }
        if self.hooks.mask & MASK_LINE != 0 {
            let line = proto.line_at(pc);
            let depth = self.frames.len();
            let h = &self.hooks;
            let fire = if h.last_proto == proto.addr() && h.last_depth == depth {
                pc <= h.last_pc || line != proto.line_at(h.last_pc)
            } else {
                // A new function, or back in a caller after its call instruction.
                pc == 0 || line != proto.line_at(pc - 1)
            };
            self.hooks.last_proto = proto.addr();
            self.hooks.last_pc = pc;
            self.hooks.last_depth = depth;
            if fire {
                self.run_hook("line", Some(line))?;
            }
        }
        Ok(())
    }
}
