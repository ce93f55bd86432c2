//! The session's view of the board: the tick counter (the chip's 1 MHz timer, through
//! `embassy-time`), a reset, and stack and RAM figures.
//!
//! Stack figures come from the paint cortex-m-rt lays down before `main` (feature
//! `paint-stack`): the whole stack region, `_stack_end` (just above the statics) up to
//! `_stack_start` (the top of RAM), is filled with `STACK_PAINT_VALUE`; the deepest word
//! that no longer holds it marks the peak.

use embassy_time::{Duration, Instant, TICK_HZ};

extern "C" {
    static _ram_start: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

/// Time between the `reset` command's reply leaving the session and the reset: the host
/// collects a waiting packet within a few milliseconds (a 1 ms frame per transaction).
pub const RESET_GRACE: Duration = Duration::from_millis(50);

/// The board, as the session sees it.
#[derive(Debug)]
pub struct Device {
    reset: fn() -> !,
}

impl Device {
    /// A board that resets itself with `reset` (a whole-chip reset: USB comes back too).
    pub const fn new(reset: fn() -> !) -> Device {
        Device { reset }
    }
}

impl micrornn::session::Board for Device {
    fn ticks(&self) -> u64 {
        Instant::now().as_ticks()
    }
    fn ticks_per_second(&self) -> u32 {
        TICK_HZ as u32
    }
    fn instructions_per_tick(&self) -> u32 {
        0 // a real chip: no instruction count
    }
    fn stack_peak(&self) -> usize {
        stack_peak()
    }
    fn stack_size(&self) -> usize {
        stack_start() - stack_end()
    }
    fn static_ram(&self) -> usize {
        stack_end() - core::ptr::addr_of!(_ram_start) as usize
    }
    /// Gives the USB port [`RESET_GRACE`] to hand the last reply (the session's `ok`,
    /// flushed) to the host before the chip restarts.
    fn reset(&self) {
        embassy_time::block_for(RESET_GRACE);
        (self.reset)()
    }
}

/// Lowest address of the stack region (the end of the statics).
fn stack_end() -> usize {
    core::ptr::addr_of!(_stack_end) as usize
}

/// Highest address of the stack region (exclusive; the initial stack pointer).
fn stack_start() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Deepest stack use since reset, in bytes.
fn stack_peak() -> usize {
    let top = stack_start() as *const u32;
    let mut p = stack_end() as *const u32;
    // Safety: [_stack_end, _stack_start) is RAM reserved for the stack, word aligned
    // (cortex-m-rt's link.x checks it) and painted at reset; a volatile read of a word that
    // may be a live stack slot does not disturb it.
    while p < top && unsafe { p.read_volatile() } == cortex_m_rt::STACK_PAINT_VALUE {
        p = p.wrapping_add(1);
    }
    top as usize - p as usize
}
