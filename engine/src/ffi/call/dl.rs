//! Symbols of the process and of shared libraries (`ffi.C`, `ffi.load`).

/// A loaded library (`dlopen` handle), closed when dropped.
pub struct Library {
    #[cfg(all(unix, not(target_family = "wasm")))]
    handle: std::ptr::NonNull<std::ffi::c_void>,
}

#[cfg(all(unix, not(target_family = "wasm")))]
mod imp {
    use super::Library;
    use std::ffi::{c_void, CStr, CString};
    use std::ptr::NonNull;

    impl Library {
        /// `dlopen(name)`, trying LuaJIT's name variants (`lib<name>.so`) for a
        /// plain name. The error text is `dlerror`'s.
        pub fn open(name: &str, global: bool) -> Result<Library, String> {
            let mut candidates = vec![name.to_string()];
            if !name.contains('/') && !name.contains(".so") {
                candidates.push(format!("lib{name}.so"));
                candidates.push(format!("{name}.so"));
            }
            let mut first_err = None;
            for c in candidates {
                let Ok(cs) = CString::new(c) else { return Err(format!("{name}: invalid name")) };
                let flags = libc::RTLD_LAZY | if global { libc::RTLD_GLOBAL } else { libc::RTLD_LOCAL };
                // SAFETY: `cs` is a valid NUL-terminated string; `dlopen` runs the
                // library's initialisers, which the `calls` capability (the only
                // level that reaches this) trusts, as LuaJIT does.
                let h = unsafe { libc::dlopen(cs.as_ptr(), flags) };
                if let Some(handle) = NonNull::new(h) {
                    return Ok(Library { handle });
                }
                if first_err.is_none() {
                    first_err = Some(last_error());
                }
            }
            Err(first_err.unwrap_or_else(|| format!("{name}: cannot open shared object file")))
        }

        /// The address of symbol `name` in this library.
        pub fn symbol(&self, name: &[u8]) -> Option<usize> {
            sym(self.handle.as_ptr(), name)
        }
    }

    impl Drop for Library {
        fn drop(&mut self) {
            // SAFETY: the handle came from `dlopen` and is closed once. Pointers
            // into the library that scripts still hold dangle, as in LuaJIT.
            unsafe { libc::dlclose(self.handle.as_ptr()) };
        }
    }

    fn last_error() -> String {
        // SAFETY: `dlerror` returns NULL or a valid C string owned by the loader.
        let e = unsafe { libc::dlerror() };
        if e.is_null() {
            return "unknown dynamic loader error".to_string();
        }
        // SAFETY: non-null and NUL-terminated (above), copied at once.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }

    fn sym(handle: *mut c_void, name: &[u8]) -> Option<usize> {
        let cs = CString::new(name).ok()?;
        // SAFETY: `handle` is a live `dlopen` handle or RTLD_DEFAULT; `cs` is a
        // valid C string. `dlsym` only looks the name up.
        let p = unsafe { libc::dlsym(handle, cs.as_ptr()) };
        (!p.is_null()).then_some(p as usize)
    }

    /// The address of `name` among the process's symbols (`ffi.C`).
    pub fn process_symbol(name: &[u8]) -> Option<usize> {
        sym(libc::RTLD_DEFAULT, name)
    }
}

#[cfg(all(unix, not(target_family = "wasm")))]
pub use imp::process_symbol;

#[cfg(not(all(unix, not(target_family = "wasm"))))]
impl Library {
    pub fn open(name: &str, _global: bool) -> Result<Library, String> {
        Err(format!("{name}: dynamic libraries are not supported on this platform"))
    }
    pub fn symbol(&self, _name: &[u8]) -> Option<usize> {
        None
    }
}

/// No process symbols on this platform.
#[cfg(not(all(unix, not(target_family = "wasm"))))]
pub fn process_symbol(_name: &[u8]) -> Option<usize> {
    None
}
