//! Captured stdout/stderr with a hard cap: a write past the cap stops the run
//! (rather than failing quietly and letting a script spin on it until its deadline).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// One captured stream; clones share the buffer and the "overflowed" flag.
#[derive(Clone)]
pub(crate) struct CappedPipe {
    pipe: MemoryOutputPipe,
    cap: usize,
    written: Arc<AtomicUsize>,
    overflowed: Arc<AtomicBool>,
}

impl CappedPipe {
    pub fn new(cap: usize) -> CappedPipe {
        CappedPipe {
            pipe: MemoryOutputPipe::new(cap),
            cap,
            written: Arc::new(AtomicUsize::new(0)),
            overflowed: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn contents(&self) -> Vec<u8> {
        self.pipe.contents().to_vec()
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.pipe.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        let written = self.written.load(Ordering::Relaxed);
        if written + bytes.len() > self.cap {
            self.overflowed.store(true, Ordering::Relaxed);
            return Err(StreamError::Trap(wasmtime::format_err!("output limit of {} bytes reached", self.cap)));
        }
        self.written.store(written + bytes.len(), Ordering::Relaxed);
        self.pipe.write(bytes)
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Never "full": the write that passes the cap traps instead.
        Ok(64 << 10)
    }
}
