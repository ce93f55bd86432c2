//! The Raspberry Pi boards (embassy-rp; feature `rp2040` for the Pico, `rp235xa` for the
//! Pico 2): the whole firmware but for what differs between them — the chip's start, its
//! flash size and its unique ID — which the board crate's `main` hands to [`run`].
//!
//! The USB device runs on an interrupt executor (SWI_IRQ_1, above thread mode, where the
//! session computes). It is built inside that executor, because it cannot move between
//! execution contexts once built (it is not `Send`): a first task builds it there and
//! spawns the task that runs it. A reset (the `reset` command, a panic) goes through the
//! watchdog, which restarts the whole chip, the USB device too (the host sees it leave and
//! come back); a core-only reset (`SCB::sys_reset`) would keep the USB peripheral.

use embassy_executor::{InterruptExecutor, Spawner};
use embassy_rp::flash::FLASH_BASE;
use embassy_rp::interrupt;
use embassy_rp::interrupt::{InterruptExt, Priority};
use embassy_rp::peripherals::{USB, WATCHDOG};
use embassy_rp::usb::{Driver, InterruptHandler};
use embassy_rp::watchdog::Watchdog;
use embassy_rp::Peri;
use embassy_time::{Instant, TICK_HZ};
use embedded_storage::nor_flash::NorFlash;
use micrornn_board::{Device, FlashPartition};
use static_cell::ConstStaticCell;

use crate::serve::{serve, RESET_GRACE};
use crate::{usb, FIRMWARE};

embassy_rp::bind_interrupts!(struct Irqs {
    USBCTRL_IRQ => InterruptHandler<USB>;
});

/// Runs the USB task above thread mode, where the session computes.
static USB_EXECUTOR: InterruptExecutor = InterruptExecutor::new();

/// The USB serial number's digits.
static SERIAL_NUMBER: ConstStaticCell<[u8; 16]> = ConstStaticCell::new([0; 16]);

#[interrupt]
unsafe fn SWI_IRQ_1() {
    // Safety: SWI_IRQ_1 is the interrupt USB_EXECUTOR was started on, and nothing else
    // uses it.
    unsafe { USB_EXECUTOR.on_interrupt() }
}

/// Builds the USB device on USB_EXECUTOR (see the module), then spawns [`run_usb`].
#[embassy_executor::task]
async fn start_usb(driver: Driver<'static, USB>, serial_number: &'static str) {
    // Safety: awaited in a task of USB_EXECUTOR, with the context that executor made (the
    // way embassy-executor documents for getting an interrupt executor's `Spawner`).
    let spawner = unsafe { Spawner::for_current_executor() }.await;
    if let Some(usb) = usb::Usb::new(driver, serial_number) {
        if let Ok(task) = run_usb(usb) {
            spawner.spawn(task);
        }
    }
}

/// The USB device, forever.
#[embassy_executor::task]
async fn run_usb(usb: usb::Usb<Driver<'static, USB>>) -> ! {
    usb::run(usb).await
}

/// Serves the session of board `board` on the chip's USB port, forever, with its models
/// in `flash` (the chip's flash driver; the partition is `memory.x`'s) and `chip_id` (the
/// chip's or its flash's unique ID) as the USB serial number. Inlined into `main`, so that
/// the chip's start there is compiled with the constants of its configuration (as a call,
/// the Pico's code grows by 2.4 KB).
#[inline(always)]
pub fn run<F: NorFlash>(board: &'static str, usb: Peri<'static, USB>, flash: F, chip_id: u64) -> ! {
    let Some(digits) = SERIAL_NUMBER.try_take() else {
        reset() // called once, from `main`
    };
    let serial_number = usb::serial_number(chip_id, digits);
    interrupt::SWI_IRQ_1.set_priority(Priority::P3);
    let spawner = USB_EXECUTOR.start(interrupt::SWI_IRQ_1);
    if let Ok(task) = start_usb(Driver::new(usb, Irqs), serial_number) {
        spawner.spawn(task);
    }

    let partition = FlashPartition::new(flash, FLASH_BASE as usize);
    let Some(session) = micrornn_board::session(board, FIRMWARE, partition) else {
        reset()
    };
    serve(
        session,
        &Device::new(ticks, TICK_HZ as u32, reset_after_reply),
    )
}

/// Ticks of embassy-time's clock (the chip's 1 MHz timer) since boot.
fn ticks() -> u64 {
    Instant::now().as_ticks()
}

/// The `reset` command: gives the USB port [`RESET_GRACE`] to hand the last reply (the
/// session's `ok`, flushed) to the host, then resets.
fn reset_after_reply() -> ! {
    embassy_time::block_for(RESET_GRACE);
    reset()
}

/// Resets the whole chip through the watchdog.
fn reset() -> ! {
    // Safety: the watchdog is used nowhere else in this firmware; taking it here, on the
    // way to a reset, cannot disturb another user.
    let watchdog = unsafe { WATCHDOG::steal() };
    Watchdog::new(watchdog).trigger_reset();
    loop {
        cortex_m::asm::nop();
    }
}

/// A panic (a bug: no input causes one) resets the board, so that it comes back on the
/// USB bus instead of hanging off it.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    reset()
}
