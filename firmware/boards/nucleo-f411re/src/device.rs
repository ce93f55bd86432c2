//! The session's view of the board: ticks, stack and RAM figures, reset.

use cortex_m::peripheral::SCB;

use crate::{stack, ticks};

/// Core clock: the tick rate (SysTick counts core cycles).
pub const CORE_HZ: u32 = 100_000_000;

/// The board services the session uses.
pub struct Device(());

impl Device {
    /// Starts the tick counter.
    pub fn start(core: cortex_m::Peripherals) -> Device {
        ticks::start(core.DCB, core.DWT, core.SYST);
        Device(())
    }
}

impl micrornn::session::Board for Device {
    fn ticks(&self) -> u64 {
        ticks::now()
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
}

/// Resets the chip (the `reset` command).
pub fn reset() -> ! {
    SCB::sys_reset()
}
