//! What a run returns.

use std::time::Duration;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The script finished.
    Ok,
    /// The script raised a Lua error that nothing caught (or could not be loaded).
    LuaError {
        /// The message, as `moonbox: <message>` would print it.
        message: String,
    },
    /// The memory cap stopped it: the engine's "not enough memory", or a Wasm
    /// allocation the cap refused.
    MemoryLimit,
    /// The fuel budget ran out.
    OutOfFuel,
    /// The wall-clock deadline passed.
    Timeout,
    /// The script wrote more than its captured-output cap.
    OutputLimit,
    /// The guest trapped (a fault inside the sandbox: stack exhaustion, a bug).
    Trap {
        /// Wasmtime's description.
        message: String,
    },
}

impl Outcome {
    /// Whether the run finished without an error.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => write!(f, "ok"),
            Outcome::LuaError { message } => write!(f, "{message}"),
            Outcome::MemoryLimit => write!(f, "memory limit reached"),
            Outcome::OutOfFuel => write!(f, "CPU budget (fuel) exhausted"),
            Outcome::Timeout => write!(f, "time limit reached"),
            Outcome::OutputLimit => write!(f, "output limit reached"),
            Outcome::Trap { message } => write!(f, "sandbox trap: {message}"),
        }
    }
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// How it ended.
    pub outcome: Outcome,
    /// The guest's exit status (0 on success, 1 after a Lua error, -1 if it was stopped).
    pub exit_code: i32,
    /// Captured stdout (empty with [`Stdio::Inherit`](crate::Stdio::Inherit)).
    pub stdout: Vec<u8>,
    /// Captured stderr: `moonbox: message` and the traceback after an error.
    pub stderr: Vec<u8>,
    /// Fuel consumed (0 when the sandbox does not meter fuel).
    pub fuel_used: u64,
    /// The largest the tenant's linear memory grew, in bytes.
    pub peak_memory: usize,
    /// From the call to the end of the run.
    pub wall_time: Duration,
    /// The part of `wall_time` spent making the fresh instance (start latency).
    pub start_time: Duration,
    /// Trace modules the guest's JIT linked, and how long each took to compile and
    /// instantiate (in the order linked).
    pub jit_link_times: Vec<Duration>,
    /// Trace modules refused (malformed, or failed to compile).
    pub jit_refused: u32,
}
