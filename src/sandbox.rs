//! The guarded `collectgarbage` of states without [`gc_control`] or with a memory
//! limit. (What else a sandboxed state lacks is never registered: see
//! [`Capabilities`](crate::Capabilities).) The guard itself is the engine's, shared
//! with the sandbox host's guest.
//!
//! [`gc_control`]: crate::Capabilities::gc_control

pub(crate) use moonbox_engine::stdlib::base::guard_collectgarbage;
