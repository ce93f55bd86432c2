//! Stack and RAM figures. cortex-m-rt's reset handler (feature `paint-stack`) fills the
//! stack region, `_stack_end` (just above the statics) up to `_stack_start` (the top of
//! RAM), with `STACK_PAINT_VALUE` before `main`; the deepest word that lost the paint marks
//! the peak.

extern "C" {
    static _ram_start: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

fn ram_start() -> usize {
    core::ptr::addr_of!(_ram_start) as usize
}

/// Lowest address of the stack region (the end of static RAM).
fn stack_end() -> usize {
    core::ptr::addr_of!(_stack_end) as usize
}

/// Highest address of the stack region (exclusive; the initial stack pointer).
fn stack_start() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Bytes of the stack region.
pub fn size() -> usize {
    stack_start() - stack_end()
}

/// Bytes of static RAM: `.data`, `.bss` and `.uninit`.
pub fn static_ram() -> usize {
    stack_end() - ram_start()
}

/// Deepest stack use since reset, in bytes.
pub fn peak() -> usize {
    let mut p = stack_end() as *const u32;
    let top = stack_start() as *const u32;
    // Safety: [_stack_end, _stack_start) is RAM reserved for the stack, word aligned
    // (cortex-m-rt's link.x checks it), and initialized (painted at reset); a volatile read
    // of a word that may hold a live stack slot does not disturb it.
    while p < top && unsafe { p.read_volatile() } == cortex_m_rt::STACK_PAINT_VALUE {
        p = p.wrapping_add(1);
    }
    top as usize - p as usize
}
