//! micrornn on the BBC micro:bit v2 (nRF52833, Cortex-M4F at 64 MHz): the serial session
//! on the interface chip's USB serial port, with the model store in on-chip flash. The
//! session, its buffers, the partition and the ticks are `micrornn_board`'s.
#![no_std]
#![no_main]

mod serial;

use embassy_nrf::config::{Config, HfclkSource};
use embassy_nrf::nvmc::Nvmc;
use micrornn_board::FlashPartition;

/// Board name, as `info` shows it and `--board` takes it.
const NAME: &str = "microbit-v2";
/// Firmware name and version, as `info` shows it.
const FIRMWARE: &str = concat!("micrornn-microbit-v2 ", env!("CARGO_PKG_VERSION"));
/// Core clock, and so the tick rate (the ticks count core cycles).
const CORE_HZ: u32 = 64_000_000;
/// Where the CPU reads the flash's first byte: the nRF52833 maps it from address 0.
const FLASH_BASE: usize = 0;

#[cortex_m_rt::entry]
fn main() -> ! {
    // cortex-m-rt hands each `static mut` here out once, as `&'static mut`.
    static mut RX_RING: [u8; 1024] = [0; 1024];
    static mut TX_RING: [u8; 256] = [0; 256];

    let mut config = Config::default();
    config.hfclk_source = HfclkSource::ExternalXtal; // the board's 32 MHz crystal: exact baud
    let p = embassy_nrf::init(config);
    let mut serial = serial::Serial::new(
        serial::Parts {
            uarte: p.UARTE0,
            timer: p.TIMER1,
            ppi_ch1: p.PPI_CH0,
            ppi_ch2: p.PPI_CH1,
            ppi_group: p.PPI_GROUP0,
            rx: p.P1_08,
            tx: p.P0_06,
        },
        RX_RING,
        TX_RING,
    );
    let partition = FlashPartition::new(Nvmc::new(p.NVMC), FLASH_BASE);
    micrornn_board::run(NAME, FIRMWARE, CORE_HZ, partition, &mut serial)
}
