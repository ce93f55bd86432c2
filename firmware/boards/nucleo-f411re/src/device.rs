//! The session's view of the board: ticks, stack and RAM figures, reset.

use cortex_m::peripheral::SCB;

use crate::{stack, ticks};

/// Core clock, and so the tick rate (the ticks count core cycles).
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
    fn ticks_per_second(&self) -> u32 {
        CORE_HZ
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
        reset()
    }
}

/// Resets the chip (the `reset` command, a panic). Waits a millisecond first: a flushed
/// serial port may still be sending its last byte or two (87 µs each).
pub fn reset() -> ! {
    cortex_m::asm::delay(CORE_HZ / 1000);
    SCB::sys_reset()
}
