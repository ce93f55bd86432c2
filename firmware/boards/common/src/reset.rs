//! The chip's reset: the core's system reset request (SYSRESETREQ), which restarts the
//! chip from its reset vector with the flash, and so the model partition, as it was.
//! With the feature `panic-reset`, a panic (a bug: the session answers bad input with
//! `err …`) resets the chip, so that the board comes back with its banner.

use cortex_m::peripheral::SCB;

/// Core cycles to wait before a reset: at least 1 ms on a core of up to 100 MHz, so that a
/// flushed UART finishes the last byte or two of a reply (87 µs each at 115200 baud).
const GRACE_CYCLES: u32 = 100_000;

/// Resets the chip, a millisecond after the call.
pub fn reset() -> ! {
    cortex_m::asm::delay(GRACE_CYCLES);
    SCB::sys_reset()
}

#[cfg(feature = "panic-reset")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    reset()
}
