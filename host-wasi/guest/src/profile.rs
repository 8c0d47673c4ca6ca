//! The Lua-level capabilities of a tenant: exactly the profile of the facade's
//! `Lua::sandboxed()` (`Caps::sandboxed()`, and a `collectgarbage` that cannot stop
//! the collector), plus the directory grants the host made, which WASI enforces
//! (read-only or read-write) and the engine matches too.
//!
//! The libraries are *opened* with these capabilities (`stdlib::open_with`), so a
//! function the profile lacks is never registered: nothing is deleted from a full
//! set afterwards. With no grant there is no `io` at all; with grants, `io.open`,
//! `io.lines`, `io.close`, `io.type`, `loadfile`, `dofile` and `require` of Lua files
//! reach the granted directories and nothing else, as natively with
//! `Capabilities::sandboxed().allow_read(dir)`. `host-wasi/tests/profile.rs` compares
//! the globals and library functions of both.

use std::path::PathBuf;

use moonbox_engine::stdlib::caps::{Caps, DirGrant};
use moonbox_engine::vm::Vm;

/// The directory grants the host passed on the command line (`--grant-read DIR`,
/// `--grant-write DIR`), as the guest sees them.
#[derive(Default)]
pub struct Grants(Vec<DirGrant>);

impl Grants {
    pub fn add(&mut self, dir: &str, writable: bool) {
        self.0.push(DirGrant { path: PathBuf::from(dir), writable });
    }
}

/// The tenant's capabilities: the sandboxed set and its grants.
pub fn caps(grants: Grants) -> Caps {
    Caps { dirs: grants.0, ..Caps::sandboxed() }
}

/// A fresh state with the tenant's libraries.
pub fn new_state(grants: Grants) -> Vm {
    // SAFETY: the guest owns this state for the whole run; between its calls into
    // the state it holds only the loaded chunk (on the stack while it runs) and
    // values it converts at once (error messages).
    let mut vm = unsafe { Vm::new_bare() };
    moonbox_engine::stdlib::open_with(&mut vm, &caps(grants));
    // `Capabilities::sandboxed()` has no `gc_control`: the facade guards
    // `collectgarbage` for it, and so does the tenant.
    moonbox_engine::stdlib::base::guard_collectgarbage(&mut vm);
    vm
}
