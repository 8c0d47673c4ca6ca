//! Hooks and stack inspection: [`Lua::set_hook`], [`Lua::inspect_stack`],
//! [`Lua::traceback`], with mlua's [`Debug`] and [`HookTriggers`].

use std::borrow::Cow;
use std::marker::PhantomData;

use moonbox_engine::object::thread::FrameFn;
use moonbox_engine::vm::debug::Level;
use moonbox_engine::vm::hook::{HOOK_KEY, MASK_CALL, MASK_COUNT, MASK_LINE, MASK_RET};
use moonbox_engine::vm::Vm;

use crate::error::Result;
use crate::state::Lua;
use crate::sync::XRc;
use crate::types::{MaybeSend, VmState};
use crate::Function;

#[cfg(not(feature = "send"))]
pub(crate) type HookCallback = XRc<dyn Fn(&Lua, &Debug) -> Result<VmState>>;
#[cfg(feature = "send")]
pub(crate) type HookCallback = XRc<dyn Fn(&Lua, &Debug) -> Result<VmState> + Send + Sync>;

/// Which events call the hook (see [`Lua::set_hook`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HookTriggers {
    /// Before a function is called.
    pub on_calls: bool,
    /// When a Lua function returns.
    pub on_returns: bool,
    /// Before each new line of Lua code.
    pub every_line: bool,
    /// Every `n` instructions.
    pub every_nth_instruction: Option<u32>,
}

impl HookTriggers {
    /// Calls only.
    pub const ON_CALLS: HookTriggers = HookTriggers::new().on_calls();
    /// Returns only.
    pub const ON_RETURNS: HookTriggers = HookTriggers::new().on_returns();
    /// Lines only.
    pub const EVERY_LINE: HookTriggers = HookTriggers::new().every_line();

    /// No event.
    pub const fn new() -> HookTriggers {
        HookTriggers { on_calls: false, on_returns: false, every_line: false, every_nth_instruction: None }
    }

    /// Adds calls.
    pub const fn on_calls(mut self) -> HookTriggers {
        self.on_calls = true;
        self
    }

    /// Adds returns.
    pub const fn on_returns(mut self) -> HookTriggers {
        self.on_returns = true;
        self
    }

    /// Adds lines.
    pub const fn every_line(mut self) -> HookTriggers {
        self.every_line = true;
        self
    }

    /// Adds a count event every `n` instructions.
    pub const fn every_nth_instruction(mut self, n: u32) -> HookTriggers {
        self.every_nth_instruction = Some(n);
        self
    }

    fn mask(self) -> (u8, i64) {
        let mut m = 0;
        if self.on_calls {
            m |= MASK_CALL;
        }
        if self.on_returns {
            m |= MASK_RET;
        }
        if self.every_line {
            m |= MASK_LINE;
        }
        let count = match self.every_nth_instruction {
            Some(n) if n > 0 => {
                m |= MASK_COUNT;
                i64::from(n)
            }
            _ => 0,
        };
        (m, count)
    }
}

/// The event a hook was called for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugEvent {
    /// A call.
    Call,
    /// A return.
    Ret,
    /// A tail call.
    TailCall,
    /// A new line.
    Line,
    /// An instruction count.
    Count,
    /// Anything else (a stack inspection has no event).
    Unknown(i32),
}

/// Names of a function, as the debug interface knows them.
#[derive(Clone, Debug)]
pub struct DebugNames<'a> {
    /// The name the function was called by.
    pub name: Option<Cow<'a, str>>,
    /// What `name` is (`global`, `local`, `method`, `field`, `upvalue`, ...).
    pub name_what: Option<&'static str>,
}

/// Where a function is defined.
#[derive(Clone, Debug)]
pub struct DebugSource<'a> {
    /// The chunk name.
    pub source: Option<Cow<'a, str>>,
    /// A printable form of it.
    pub short_src: Option<Cow<'a, str>>,
    /// The first line of the definition.
    pub line_defined: Option<usize>,
    /// The last line of the definition.
    pub last_line_defined: Option<usize>,
    /// `"Lua"`, `"C"` or `"main"`.
    pub what: &'static str,
}

/// Stack information of a function.
#[derive(Clone, Copy, Debug)]
pub struct DebugStack {
    /// The number of upvalues.
    pub num_ups: u8,
}

/// What the debug interface knows about one stack level (in a hook, or from
/// [`Lua::inspect_stack`]).
#[derive(Clone, Debug)]
pub struct Debug<'a> {
    event: DebugEvent,
    function: Option<Function>,
    name: Option<String>,
    name_what: Option<&'static str>,
    source: Option<String>,
    short_src: String,
    line_defined: Option<usize>,
    last_line_defined: Option<usize>,
    what: &'static str,
    current_line: Option<usize>,
    tail_call: bool,
    num_ups: u8,
    _p: PhantomData<&'a ()>,
}

impl<'a> Debug<'a> {
    /// The event (in a hook).
    pub fn event(&self) -> DebugEvent {
        self.event
    }

    /// The function at this level.
    pub fn function(&self) -> Function {
        match &self.function {
            Some(f) => f.clone(),
            None => unreachable!("a level always has a function"),
        }
    }

    /// Its names.
    pub fn names(&self) -> DebugNames<'_> {
        DebugNames { name: self.name.as_deref().map(Cow::Borrowed), name_what: self.name_what }
    }

    /// Where it is defined.
    pub fn source(&self) -> DebugSource<'_> {
        DebugSource {
            source: self.source.as_deref().map(Cow::Borrowed),
            short_src: Some(Cow::Borrowed(&self.short_src)),
            line_defined: self.line_defined,
            last_line_defined: self.last_line_defined,
            what: self.what,
        }
    }

    /// The line running (-1 if none), as mlua's `curr_line`.
    #[deprecated(note = "use current_line")]
    pub fn curr_line(&self) -> i32 {
        self.current_line.map_or(-1, |l| l as i32)
    }

    /// The line running, for Lua functions.
    pub fn current_line(&self) -> Option<usize> {
        self.current_line
    }

    /// Was it reached by a tail call?
    pub fn is_tail_call(&self) -> bool {
        self.tail_call
    }

    /// Stack information.
    pub fn stack(&self) -> DebugStack {
        DebugStack { num_ups: self.num_ups }
    }
}

/// The debug information of engine stack level `level` (1 = top).
fn level_info(lua: &Lua, vm: &mut Vm, level: usize, event: DebugEvent) -> Option<Debug<'static>> {
    let frame = vm.frame_at_level(level)?;
    let (name_what, name) = match vm.level(level) {
        Some(Level::Frame(i)) => match vm.frame_call_name(i) {
            Some((what, n)) => (Some(what), Some(String::from_utf8_lossy(&n).into_owned())),
            None => (None, None),
        },
        _ => (None, None),
    };
    let fval = vm.slot(frame.func);
    let function = match lua.inner.value_from_raw(vm, fval) {
        crate::Value::Function(f) => Some(f),
        _ => None,
    };
    let mut d = Debug {
        event,
        function,
        name,
        name_what,
        source: Some("=[C]".to_string()),
        short_src: "[C]".to_string(),
        line_defined: None,
        last_line_defined: None,
        what: "C",
        current_line: None,
        tail_call: frame.tail,
        num_ups: 0,
        _p: PhantomData,
    };
    if let FrameFn::Lua(c, p) = frame.fun {
        let src = p.chunkname.as_bytes();
        d.source = Some(String::from_utf8_lossy(src).into_owned());
        d.short_src = moonbox_engine::compiler::chunk_id(src);
        d.what = if p.linedefined == 0 { "main" } else { "Lua" };
        d.line_defined = (p.linedefined != 0).then_some(p.linedefined as usize);
        d.last_line_defined = (p.linedefined != 0).then_some(p.lastlinedefined as usize);
        d.current_line = Some(p.line_at(frame.pc.saturating_sub(1)) as usize);
        d.num_ups = c.nupvals().min(255) as u8;
    }
    Some(d)
}

impl Lua {
    /// Sets a hook called on the events of `triggers` while Lua code runs (replacing
    /// `debug.sethook`'s). It gets the state and a [`Debug`] of the running function;
    /// an error it returns is raised in the Lua code.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use moonbox::{HookTriggers, Lua, VmState};
    ///
    /// let lua = Lua::new();
    /// let lines = Arc::new(Mutex::new(Vec::new()));
    /// let l = lines.clone();
    /// lua.set_hook(HookTriggers::EVERY_LINE, move |_lua, debug| {
    ///     l.lock().unwrap().push(debug.current_line().unwrap_or(0));
    ///     Ok(VmState::Continue)
    /// })?;
    /// lua.load("local a = 1\nlocal b = 2\nlocal c = a + b").exec()?;
    /// lua.remove_hook();
    /// assert_eq!(*lines.lock().unwrap(), [1, 2, 3]);
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn set_hook<F>(&self, triggers: HookTriggers, callback: F) -> Result<()>
    where
        F: Fn(&Lua, &Debug) -> Result<VmState> + MaybeSend + 'static,
    {
        // A mutex makes the callback `Sync` under `send`; hooks do not nest, so it is
        // never contended on one thread.
        let callback = parking_lot::Mutex::new(callback);
        let cb: HookCallback = XRc::new(move |lua: &Lua, d: &Debug| match callback.try_lock() {
            Some(f) => (*f)(lua, d),
            None => Ok(VmState::Continue),
        });
        {
            let _l = self.inner.lock();
            *self.inner.hook.borrow_mut() = Some(cb.clone());
        }
        let hook = self.create_function(move |lua, (event, _line): (String, Option<i64>)| {
            let event = match event.as_str() {
                "call" => DebugEvent::Call,
                "return" => DebugEvent::Ret,
                "tail call" | "tail return" => DebugEvent::TailCall,
                "line" => DebugEvent::Line,
                "count" => DebugEvent::Count,
                _ => DebugEvent::Unknown(-1),
            };
            // Level 1 is this hook function; level 2 the function the event is about.
            let d = lua.inner.with_vm(|vm| level_info(lua, vm, 2, event))?;
            match d {
                Some(d) => cb(lua, &d).map(|_| ()),
                None => Ok(()),
            }
        })?;
        let f = hook.0.raw_for(&self.inner)?;
        let (mask, count) = triggers.mask();
        self.inner.with_vm(|vm| {
            let reg = vm.registry();
            vm.set_field(reg, HOOK_KEY, f);
            vm.set_hook_mask(mask, count);
        })
    }

    /// Removes the hook.
    pub fn remove_hook(&self) {
        let _l = self.inner.lock();
        *self.inner.hook.borrow_mut() = None;
        let _ = self.inner.with_vm(|vm| {
            let reg = vm.registry();
            vm.set_field(reg, HOOK_KEY, moonbox_engine::Value::NIL);
            vm.set_hook_mask(0, 0);
        });
    }

    /// Calls `f` with the [`Debug`] of stack level `level` (0: the running function,
    /// e.g. the Rust callback that calls this; 1: its caller; ...). `None` if there
    /// is no such level.
    ///
    /// ```
    /// use moonbox::Lua;
    ///
    /// let lua = Lua::new();
    /// let whereami = lua.create_function(|lua, ()| {
    ///     Ok(lua.inspect_stack(1, |d| d.current_line()).flatten())
    /// })?;
    /// lua.globals().set("whereami", whereami)?;
    /// assert_eq!(lua.load("\n\nlocal l = whereami() return l").eval::<Option<usize>>()?, Some(3));
    /// # Ok::<(), moonbox::Error>(())
    /// ```
    pub fn inspect_stack<R>(&self, level: usize, f: impl FnOnce(&Debug) -> R) -> Option<R> {
        let d = self.inner.with_vm(|vm| level_info(self, vm, level + 1, DebugEvent::Unknown(0))).ok()??;
        Some(f(&d))
    }

    /// A traceback of the Lua stack from `level` (0: the running function), after
    /// `msg` if given, as `debug.traceback` makes it.
    pub fn traceback(&self, msg: Option<&str>, level: usize) -> Result<String> {
        let tb = self.inner.with_vm(|vm| vm.traceback_text(level, false))?;
        Ok(match msg {
            Some(m) => format!("{m}\n{tb}"),
            None => tb,
        })
    }
}
