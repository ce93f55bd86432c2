//! Panics and faults end the run visibly: one line on the UART (`panic: …`,
//! `hardfault: pc=… …`, `fault: unexpected exception …`), then a semihosting exit with
//! failure, so QEMU (run with `-semihosting-config enable=on`) exits with status 1 and a
//! test fails instead of hanging. Without a debugger or semihosting the core stops.

use core::sync::atomic::{AtomicBool, Ordering};

use cortex_m_rt::{exception, ExceptionFrame};
use micrornn::text::Text;

use crate::board::current;
#[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
use crate::reg;

#[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
reg!(
    CFSR = 0xE000_ED28,
    "Safety: ARMv7-M/ARMv8-M SCB CFSR (fault status)"
);
#[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
reg!(
    HFSR = 0xE000_ED2C,
    "Safety: ARMv7-M/ARMv8-M SCB HFSR (hard fault status)"
);
#[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
reg!(
    BFAR = 0xE000_ED38,
    "Safety: ARMv7-M/ARMv8-M SCB BFAR (bus fault address)"
);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cortex_m::interrupt::disable();
    let mut out = Console;
    out.text("\r\npanic");
    describe(&mut out, info);
    out.push_str("\r\n");
    exit(false)
}

/// `: <message> at <file>:<line>`. The message only when it is plain text: formatting one
/// would keep `core::fmt` in the firmware for reports that should never be seen (the
/// location says where).
#[cfg(not(board = "microbit"))]
fn describe(out: &mut Console, info: &core::panic::PanicInfo) {
    out.text(": ")
        .push_str(info.message().as_str().unwrap_or("(formatted)"));
    if let Some(at) = info.location() {
        out.text(" at ")
            .text(at.file())
            .text(":")
            .num(at.line() as u64);
    }
}

/// Nothing on the micro:bit: with the panic's message and location unread, link-time
/// optimization drops them from every call site that could panic — 3.9 KB of its 40 KB of
/// code, and a size that no longer depends on where the checkout lies (the locations hold
/// absolute paths of `shared`'s files).
#[cfg(board = "microbit")]
fn describe(_: &mut Console, _: &core::panic::PanicInfo) {}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    if EXITING.load(Ordering::Relaxed) {
        // The semihosting call of `exit` faulted: no debugger is attached. Stop here.
        halt()
    }
    let mut out = Console;
    out.text("\r\nhardfault: pc=").hex(frame.pc(), 8);
    out.text(" lr=").hex(frame.lr(), 8);
    out.text(" xpsr=").hex(frame.xpsr(), 8);
    #[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
    {
        // ARMv7-M/ARMv8-M Mainline fault status: configurable (CFSR), hard (HFSR), bus
        // fault address (BFAR).
        out.text(" cfsr=").hex(CFSR.read(), 8);
        out.text(" hfsr=").hex(HFSR.read(), 8);
        out.text(" bfar=").hex(BFAR.read(), 8);
    }
    out.push_str("\r\n");
    exit(false)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if current::on_interrupt(irqn) {
        return;
    }
    cortex_m::interrupt::disable();
    let mut out = Console;
    out.text("\r\nfault: unexpected exception ");
    if irqn < 0 {
        out.push_str("-");
    }
    out.num(irqn.unsigned_abs() as u64).push_str("\r\n");
    exit(false)
}

/// Ends the run on a broken invariant of the firmware itself (never on input): prints
/// `fault: <what>`, then exits with failure like a panic.
pub fn fail(what: &str) -> ! {
    cortex_m::interrupt::disable();
    Console.text("\r\nfault: ").text(what).push_str("\r\n");
    exit(false)
}

/// Set once `exit` has started, so that a fault in its semihosting call does not recurse.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Ends the run: QEMU exits with status 0 (`success`) or 1. Needs semihosting.
pub fn exit(success: bool) -> ! {
    const SYS_EXIT: u32 = 0x18;
    const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x2_0026;
    const ADP_STOPPED_RUN_TIME_ERROR: u32 = 0x2_0023;
    cortex_m::interrupt::disable();
    if EXITING.load(Ordering::Relaxed) {
        halt()
    }
    EXITING.store(true, Ordering::Relaxed);
    let reason = if success {
        ADP_STOPPED_APPLICATION_EXIT
    } else {
        ADP_STOPPED_RUN_TIME_ERROR
    };
    // Safety: SYS_EXIT takes its reason code in r1 and does not return under QEMU; without
    // a debugger the `bkpt` faults and HardFault halts (EXITING is set).
    unsafe { cortex_m::asm::semihosting_syscall(SYS_EXIT, reason) };
    halt()
}

/// Stops for good: interrupts off, sleep forever.
fn halt() -> ! {
    cortex_m::interrupt::disable();
    loop {
        cortex_m::asm::wfi();
    }
}

/// The board's UART, (re)initialized, as a text sink for the fault reports.
struct Console;

impl Text for Console {
    fn push_str(&mut self, s: &str) {
        let mut uart = crate::board::Uart::init();
        let _ = embedded_io::Write::write_all(&mut uart, s.as_bytes());
    }
}
