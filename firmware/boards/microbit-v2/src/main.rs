//! micrornn on the BBC micro:bit v2 (nRF52833, Cortex-M4F at 64 MHz): the serial session
//! on the interface chip's USB serial port, with the model store in on-chip flash.
#![no_std]
#![no_main]

mod device;
mod partition;
mod serial;
mod stack;
mod ticks;

use embassy_nrf::config::{Config, HfclkSource};
use embassy_nrf::nvmc::Nvmc;
use micrornn::cell::MAX_LAYERS;
use micrornn::model::MAX_HIDDEN;
use micrornn::session::{BoardInfo, Buffers, Session};
use micrornn::store::{ModelStore, Partition};
use micrornn::{arena_words, CellKind};

/// Board name, as `info` shows it and `--board` takes it.
const NAME: &str = "microbit-v2";
/// Firmware name and version, as `info` shows it.
const FIRMWARE: &str = concat!("micrornn-microbit-v2 ", env!("CARGO_PKG_VERSION"));
/// The network's arena (`i32` words): 32 KiB of the 128 KiB of RAM. The largest model the
/// format allows (4 layers of LSTM, hidden 511) needs `arena_words` = 4,172 words, and
/// runs every layer in one chunk (the fastest) with 6,647.
const ARENA_LEN: usize = 8192;
const _: () = assert!(ARENA_LEN >= arena_words(CellKind::Lstm, MAX_LAYERS, MAX_HIDDEN));
/// Outputs capacity (`i32`): the largest vocabulary, or labels.
const LOGITS_LEN: usize = 1024;

#[cortex_m_rt::entry]
fn main() -> ! {
    // cortex-m-rt hands each `static mut` here out once, as `&'static mut`.
    static mut ARENA: [i32; ARENA_LEN] = [0; ARENA_LEN];
    static mut LOGITS: [i32; LOGITS_LEN] = [0; LOGITS_LEN];
    static mut RX_RING: [u8; 1024] = [0; 1024];
    static mut TX_RING: [u8; 256] = [0; 256];

    let mut config = Config::default();
    config.hfclk_source = HfclkSource::ExternalXtal; // the board's 32 MHz crystal: exact baud
    let p = embassy_nrf::init(config);
    let Some(core) = cortex_m::Peripherals::take() else {
        device::reset() // taken once, here: cannot happen
    };
    let device = device::Device::start(core);
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
    let flash = partition::ModelFlash::new(Nvmc::new(p.NVMC));
    let info = BoardInfo {
        board: NAME,
        firmware: FIRMWARE,
        partition_addr: flash.address(),
        partition_len: flash.mapped().len() as u32,
    };
    let buffers = Buffers {
        arena: ARENA,
        logits: LOGITS,
    };
    Session::new(ModelStore::open(flash), buffers, info).run(&mut serial, &device)
}

/// A panic resets the chip: the board comes back with its banner. (The session answers
/// bad input with `err …`; a panic is a bug.)
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    device::reset()
}
