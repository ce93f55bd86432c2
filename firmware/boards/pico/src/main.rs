//! micrornn on the Raspberry Pi Pico (RP2040, Cortex-M0+ at 125 MHz): the serial session on
//! the RP2040's own USB port (CDC-ACM), models in its flash (memory.x: the partition).
//! `cargo run --release` flashes it through a debug probe; README.md has the UF2 way.
//! What the Pico and the Pico 2 share is `micrornn_usb_serial::rp::run`.
#![no_std]
#![no_main]

use embassy_rp::flash::{Blocking, Flash};

/// Board name, as `info` shows it and `micrornn --board` takes it.
const NAME: &str = "pico";
/// The Pico's flash: 2 MiB.
const FLASH_SIZE: usize = 2 * 1024 * 1024;

#[cortex_m_rt::entry]
fn main() -> ! {
    let p = embassy_rp::init(Default::default());
    let mut flash = Flash::<_, Blocking, FLASH_SIZE>::new_blocking(p.FLASH);
    // The flash chip's unique ID names the USB device; zeros if it cannot be read.
    let mut id = [0u8; 8];
    let _ = flash.blocking_unique_id(&mut id);
    micrornn_usb_serial::rp::run(NAME, p.USB, flash, u64::from_be_bytes(id))
}
