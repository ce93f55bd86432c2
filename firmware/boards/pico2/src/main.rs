//! micrornn on the Raspberry Pi Pico 2 (RP2350, Cortex-M33 at 150 MHz): the serial session on
//! the RP2350's own USB port (CDC-ACM), models in its flash (memory.x: the partition).
//! `cargo run --release` flashes it through a debug probe; README.md has the UF2 way.
//! What the Pico and the Pico 2 share is `micrornn_usb_serial::rp::run`.
#![no_std]
#![no_main]

use embassy_rp::flash::{Blocking, Flash};

/// Board name, as `info` shows it and `micrornn --board` takes it.
const NAME: &str = "pico2";
/// The Pico 2's flash: 4 MiB.
const FLASH_SIZE: usize = 4 * 1024 * 1024;

#[cortex_m_rt::entry]
fn main() -> ! {
    let p = embassy_rp::init(Default::default());
    let flash = Flash::<_, Blocking, FLASH_SIZE>::new_blocking(p.FLASH);
    // The chip's unique ID (from its OTP) names the USB device; 0 if it cannot be read.
    let id = embassy_rp::otp::get_chipid().unwrap_or(0);
    micrornn_usb_serial::rp::run(NAME, p.USB, flash, id)
}
