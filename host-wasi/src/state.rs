//! What a tenant's `Store` holds.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::tenant::HostFn;

/// The data of one tenant's `Store`.
pub(crate) struct TenantState {
    pub wasi: WasiP1Ctx,
    pub limiter: Limiter,
    /// The granted host functions, by the index the guest calls them with.
    pub functions: Vec<(String, HostFn)>,
    pub max_call_bytes: usize,
    /// The encoded result of the last host call, until the guest copies it out.
    pub pending: Vec<u8>,
    /// The message of the error that ended the run, as the guest reported it.
    pub lua_error: Option<Vec<u8>>,
    /// The main chunk handed over by the host.
    pub script: Option<Arc<[u8]>>,
    /// The trace modules linked so far.
    pub jit: crate::jit::JitLinks,
}

/// The memory cap, with the peak and whether the cap refused anything.
pub(crate) struct Limiter {
    cap: usize,
    /// Instances a run may have: the guest and its traces.
    pub instances: usize,
    pub peak: usize,
    pub denied: bool,
}

impl Limiter {
    pub fn new(cap: usize) -> Limiter {
        Limiter { cap, instances: 1, peak: 0, denied: false }
    }
}

/// Tables only grow when trace modules are linked into the guest; this bounds them.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.cap || maximum.is_some_and(|m| desired > m) {
            self.denied = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS && maximum.is_none_or(|m| desired <= m))
    }

    fn instances(&self) -> usize {
        // The guest itself and its trace modules (`jit::JitCaps::traces`).
        self.instances
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }
}
