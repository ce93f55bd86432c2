//! micrornn on the Raspberry Pi Pico (RP2040, Cortex-M0+ at 125 MHz): the serial session on
//! the RP2040's own USB port (CDC-ACM), models in its flash (memory.x: the partition).
//! `cargo run --release` flashes it through a debug probe; README.md has the UF2 way.
#![no_std]
#![no_main]

use embassy_executor::{InterruptExecutor, Spawner};
use embassy_rp::flash::{Blocking, Flash, FLASH_BASE};
use embassy_rp::interrupt;
use embassy_rp::interrupt::{InterruptExt, Priority};
use embassy_rp::peripherals::USB;
use embassy_rp::usb::{Driver, InterruptHandler};
use embassy_rp::watchdog::Watchdog;
use embedded_storage::nor_flash::ReadNorFlash;
use micrornn::cell::MAX_LAYERS;
use micrornn::model::MAX_HIDDEN;
use micrornn::session::{BoardInfo, Buffers, Session};
use micrornn::store::ModelStore;
use micrornn::{arena_words, CellKind};
use micrornn_usb_serial::device::Device;
use micrornn_usb_serial::partition::FlashPartition;
use micrornn_usb_serial::{serve::serve, usb, FIRMWARE};

/// Board name, as `info` shows it and `micrornn --board` takes it.
const NAME: &str = "pico";
/// The Pico's flash: 2 MiB.
const FLASH_SIZE: usize = 2 * 1024 * 1024;
/// The network's arena (`i32` words, 26 KiB of the RAM): the largest model the format
/// allows (4 layers of LSTM, hidden 511) needs `arena_words` = 4,172 words, and runs every
/// layer in one chunk (the fastest) with 6,647.
const ARENA_LEN: usize = 6656;
const _: () = assert!(ARENA_LEN >= arena_words(CellKind::Lstm, MAX_LAYERS, MAX_HIDDEN));
/// Outputs capacity (`i32`): the largest vocabulary, or labels.
const LOGITS_LEN: usize = 1024;

embassy_rp::bind_interrupts!(struct Irqs {
    USBCTRL_IRQ => InterruptHandler<USB>;
});

/// Runs the USB task above thread mode, where the session computes.
static USB_EXECUTOR: InterruptExecutor = InterruptExecutor::new();

#[interrupt]
unsafe fn SWI_IRQ_1() {
    // Safety: SWI_IRQ_1 is the interrupt USB_EXECUTOR was started on, and nothing else
    // uses it.
    unsafe { USB_EXECUTOR.on_interrupt() }
}

/// Starts the USB device on USB_EXECUTOR. The device is built here, inside the executor,
/// because it cannot move between execution contexts once built (it is not `Send`).
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

#[cortex_m_rt::entry]
fn main() -> ! {
    // cortex-m-rt hands each `static mut` here out once, as `&'static mut`.
    static mut SERIAL_NUMBER: [u8; 16] = [0; 16];
    static mut ARENA: [i32; ARENA_LEN] = [0; ARENA_LEN];
    static mut LOGITS: [i32; LOGITS_LEN] = [0; LOGITS_LEN];

    let p = embassy_rp::init(Default::default());
    let mut flash = Flash::<_, Blocking, FLASH_SIZE>::new_blocking(p.FLASH);
    let mut id = [0u8; 8];
    let _ = flash.blocking_unique_id(&mut id); // zeros if it fails: still a valid name

    let serial_number = usb::serial_number(u64::from_be_bytes(id), SERIAL_NUMBER);
    interrupt::SWI_IRQ_1.set_priority(Priority::P3);
    let spawner = USB_EXECUTOR.start(interrupt::SWI_IRQ_1);
    if let Ok(task) = start_usb(Driver::new(p.USB, Irqs), serial_number) {
        spawner.spawn(task);
    }

    let partition = FlashPartition::new(flash, FLASH_BASE as usize);
    let info = BoardInfo {
        board: NAME,
        firmware: FIRMWARE,
        partition_addr: partition.address(),
        partition_len: partition.capacity() as u32,
    };
    let buffers = Buffers {
        arena: ARENA,
        logits: LOGITS,
    };
    let session = Session::new(ModelStore::open(partition), buffers, info);
    serve(session, &Device::new(reset))
}

/// Resets the whole chip through the watchdog (the USB device too: the host sees it leave
/// and come back). A core-only reset (`SCB::sys_reset`) would keep the USB peripheral.
fn reset() -> ! {
    // Safety: the watchdog is used nowhere else in this firmware; taking it here, on the
    // way to a reset, cannot disturb another user.
    let watchdog = unsafe { embassy_rp::peripherals::WATCHDOG::steal() };
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
