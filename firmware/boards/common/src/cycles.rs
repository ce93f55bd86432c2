//! The tick counter: the core's cycle counter (DWT CYCCNT, 32 bits), extended to 64 bits
//! by noting each time it wraps. Every read extends it, and so does the SysTick interrupt,
//! which fires every 2^24 cycles: a wrap is never missed as long as one of them runs within
//! 2^32 cycles (43 s at 100 MHz), even if the CPU is halted meanwhile (a flash erase halts
//! it; the pending SysTick runs after). The core never sleeps (the session polls), so the
//! cycle counter counts all the time. Not on the Cortex-M0+, which has no cycle counter.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::{syst::SystClkSource, DCB, DWT, SYST};
use cortex_m_rt::exception;

/// The cycle counter's wraps so far (the upper 32 bits of the tick count).
static HIGH: AtomicU32 = AtomicU32::new(0);
/// The cycle counter at the last extension.
static LAST: AtomicU32 = AtomicU32::new(0);

/// Starts the cycle counter, and SysTick as a periodic interrupt that keeps it extended.
pub fn start(mut dcb: DCB, mut dwt: DWT, mut syst: SYST) {
    dcb.enable_trace();
    dwt.set_cycle_count(0);
    dwt.enable_cycle_counter();
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00FF_FFFF);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Core clock cycles since [`start`].
pub fn now() -> u64 {
    cortex_m::interrupt::free(|_| {
        let cycles = DWT::cycle_count();
        let mut high = HIGH.load(Ordering::Relaxed);
        if cycles < LAST.load(Ordering::Relaxed) {
            high = high.wrapping_add(1);
            HIGH.store(high, Ordering::Relaxed);
        }
        LAST.store(cycles, Ordering::Relaxed);
        (u64::from(high) << 32) | u64::from(cycles)
    })
}

#[exception]
fn SysTick() {
    now();
}
