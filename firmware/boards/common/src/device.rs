//! The session's view of the board: a tick counter, the `stats` figures, a reset.

use crate::stack;

/// The board, as the session sees it: ticks from the clock the board picked (the core's
/// cycle counter, or its HAL's timer), stack figures from the paint, and its reset.
#[derive(Debug)]
pub struct Device {
    ticks: fn() -> u64,
    ticks_per_second: u32,
    reset: fn() -> !,
}

impl Device {
    /// A board whose clock reads `ticks` (a free-running count, `ticks_per_second` a
    /// second) and which the `reset` command restarts with `reset`.
    pub const fn new(ticks: fn() -> u64, ticks_per_second: u32, reset: fn() -> !) -> Device {
        Device {
            ticks,
            ticks_per_second,
            reset,
        }
    }
}

impl micrornn::session::Platform for Device {
    fn ticks(&self) -> u64 {
        (self.ticks)()
    }
    fn ticks_per_second(&self) -> u32 {
        self.ticks_per_second
    }
    fn instructions_per_tick(&self) -> u32 {
        0 // a real core: not counted
    }
    fn stack_peak(&self) -> usize {
        stack::peak()
    }
    fn stack_size(&self) -> usize {
        stack::size()
    }
    fn static_ram(&self) -> usize {
        stack::static_ram()
    }
    fn reset(&self) {
        (self.reset)()
    }
}
