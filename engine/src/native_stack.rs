//! Where the native (Rust) stack is: the engine bounds its own Rust recursion by
//! comparing stack addresses with a floor (see `Vm::set_native_stack_limit`).

/// An address in the caller's stack frame (no unsafe: the pointer is only compared).
/// Stacks grow downwards on every target the engine builds for (x86-64, ARM64,
/// wasm32's shadow stack).
#[cfg(not(miri))]
#[inline(always)]
pub fn stack_pos() -> usize {
    let marker = 0u8;
    std::hint::black_box(std::ptr::addr_of!(marker)) as usize
}

/// Under Miri locals do not sit on one stack, so their addresses say nothing about
/// depth: every position is 0, no floor is ever crossed, and only the level counts
/// (the parser's, the call depth) bound recursion there.
#[cfg(miri)]
pub fn stack_pos() -> usize {
    0
}
