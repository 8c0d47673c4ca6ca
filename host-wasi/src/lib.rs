//! moonbox's sandbox host: runs Lua scripts from untrusted tenants, each in a fresh
//! instance of the engine's `wasm32-wasip1` build under wasmtime.
//!
//! ```no_run
//! use moonbox_host_wasi::{HostValue, Outcome, Sandbox, Script, Tenant};
//! use std::time::Duration;
//!
//! let sandbox = Sandbox::new()?;                       // compile once, share everywhere
//! let tenant = Tenant::new()
//!     .memory(32 << 20)                                // the whole tenant's memory
//!     .fuel(Some(50_000_000))                          // CPU budget
//!     .timeout(Some(Duration::from_millis(200)))       // wall-clock deadline
//!     .allow_read("/srv/tenant-a/static")?             // WASI directory grants
//!     .function("kv.get", |args| Ok(vec![HostValue::from(format!("{args:?}"))]))?;
//! let r = sandbox.run(&tenant, &Script::source("main.lua", "print(kv.get('x'))"), &[])?;
//! assert_eq!(r.outcome, Outcome::Ok);
//! print!("{}", String::from_utf8_lossy(&r.stdout));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Per run: its own `Store` and instance (pre-linked with `InstancePre`, memory from
//! the pooling allocator: a fresh tenant costs microseconds), a memory cap, fuel
//! and an epoch deadline, WASI with only the tenant's directory grants (no
//! environment, no network, output captured into capped memory pipes), and inside,
//! exactly the Lua profile of `Lua::sandboxed()` (plus what the directory grants
//! open) and the tenant's granted host functions. The deadline holds even while the
//! guest waits in a host call (runs are asynchronous inside: [`Sandbox::run_async`]).
//! A tenant that traps, loops or exhausts its memory stops alone; the host and the
//! other tenants go on. See [`Outcome`] for how a run can end.

#![warn(missing_docs)]

pub mod cache;
pub mod cli;
#[doc(hidden)]
pub mod fuzzing;
mod imports;
mod jit;
mod outcome;
mod pipe;
mod sandbox;
mod state;
mod tenant;
mod wire;

pub use cache::CacheStatus;
pub use jit::{JitCaps, MAX_MODULE_BYTES};
pub use outcome::{Outcome, RunResult};
pub use sandbox::{Error, Sandbox, SandboxConfig, Script, GUEST_WASM};
pub use tenant::{DirGrant, GrantError, HostFn, Stdio, Tenant};
pub use wire::HostValue;
