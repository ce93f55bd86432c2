//! Instructions per tick. Under QEMU's `-icount shift=0`, virtual time advances exactly
//! 1 ns per executed instruction, so a timer clocked at F Hz ticks once per 10⁹/F
//! instructions (25 MHz SysTick: 40; 8 MHz nRF51 TIMER0: 125).
//!
//! [`measure`] times a loop of known length: each iteration is 3 instructions (a load from
//! a device register, a subtract, a branch). The difference between `2n` and `n`
//! iterations cancels the cost of reading the clock. Without `-icount`, QEMU's clock
//! follows the host's and the device load alone takes tens of nanoseconds; on hardware an
//! iteration takes several cycles. Either way the figure is far from the board's constant,
//! and [`detect`] reports 0.

/// SCB CPUID, a read-only register of every Cortex-M: the device register the loop loads
/// (so that without `-icount` QEMU leaves its fast path on every iteration).
const CPUID: usize = 0xE000_ED00;

/// Instructions per iteration of [`spin`].
pub const INSTRUCTIONS_PER_LOOP: u64 = 3;

/// Runs `n` (≥ 1) iterations of a 3-instruction loop: `ldr` from a device register, `subs`, `bne`.
#[inline(never)]
pub fn spin(n: u32) {
    // Safety: loads from SCB CPUID (always readable); writes only the named registers.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {tmp}, [{reg}]",
            "subs {n}, #1",
            "bne 2b",
            n = inout(reg) n.max(1) => _,
            reg = in(reg) CPUID,
            tmp = out(reg) _,
            options(nostack, readonly),
        );
    }
}

/// Times `n` and `2n` iterations of [`spin`] with `ticks` and returns
/// (instructions, ticks) of the extra `n` iterations.
pub fn measure(ticks: impl Fn() -> u64, n: u32) -> (u64, u64) {
    let t0 = ticks();
    spin(n);
    let t1 = ticks();
    spin(2 * n);
    let t2 = ticks();
    let extra = (t2 - t1).saturating_sub(t1 - t0);
    (INSTRUCTIONS_PER_LOOP * n as u64, extra)
}

/// `expected` instructions per tick if a measurement agrees with it to within two ticks
/// (QEMU counting instructions), else 0.
pub fn detect(ticks: impl Fn() -> u64, expected: u32) -> u32 {
    let (instructions, t) = measure(ticks, 10_000);
    // 30 000 instructions: a 32-bit division (no 64-bit division routine on the device).
    let predicted = (instructions as u32 / expected) as u64;
    if t.abs_diff(predicted) <= 2 {
        expected
    } else {
        0
    }
}
