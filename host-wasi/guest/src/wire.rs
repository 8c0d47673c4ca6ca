//! The byte format of host-function arguments and results: the host's own codec
//! (`host-wasi/src/wire.rs`), compiled into the guest as well, so that the two sides
//! cannot drift apart.

#[allow(dead_code)]
#[path = "../../src/wire.rs"]
mod codec;

pub use codec::{decode, encode, HostValue as WireValue};
