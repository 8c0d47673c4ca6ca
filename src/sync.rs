//! The reference-counted pointers of the facade: `Rc` normally, `Arc` with the `send`
//! feature (where the state and its handles may move between threads).

#[cfg(not(feature = "send"))]
pub(crate) use std::rc::{Rc as XRc, Weak as XWeak};
#[cfg(feature = "send")]
pub(crate) use std::sync::{Arc as XRc, Weak as XWeak};
