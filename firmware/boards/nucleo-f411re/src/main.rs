//! micrornn on the ST Nucleo-F411RE (STM32F411RE, Cortex-M4F at 100 MHz): the serial
//! session on the ST-LINK's virtual COM port, with the model store in on-chip flash.
#![no_std]
#![no_main]

mod device;
mod partition;
mod serial;
mod stack;
mod ticks;

use embassy_stm32::flash::Flash;
use embassy_stm32::rcc::{
    AHBPrescaler, APBPrescaler, Pll, PllMul, PllPDiv, PllPreDiv, PllSource, Sysclk,
};
use micrornn::cell::MAX_LAYERS;
use micrornn::model::MAX_HIDDEN;
use micrornn::session::{BoardInfo, Buffers, Session};
use micrornn::store::{ModelStore, Partition};
use micrornn::{arena_words, CellKind};

/// Board name, as `info` shows it and `--board` takes it.
const NAME: &str = "nucleo-f411re";
/// Firmware name and version, as `info` shows it.
const FIRMWARE: &str = concat!("micrornn-nucleo-f411re ", env!("CARGO_PKG_VERSION"));
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

    let p = embassy_stm32::init(clocks());
    let Some(core) = cortex_m::Peripherals::take() else {
        device::reset() // taken once, here: cannot happen
    };
    let device = device::Device::start(core);
    let Some(mut serial) = serial::Serial::new(p.USART2, p.PA2, p.PA3, RX_RING, TX_RING) else {
        device::reset() // 115200 baud from a 50 MHz APB1 clock: cannot fail
    };
    let flash = partition::ModelFlash::new(Flash::new_blocking(p.FLASH));
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

/// 100 MHz from the internal 16 MHz oscillator (no crystal is fitted on the Nucleo, and
/// the ST-LINK's clock output depends on solder bridges): PLL 16 / 8 × 100 / 2. APB1
/// (USART2) at 50 MHz, its maximum; APB2 at 100 MHz. `device::CORE_HZ` is this clock.
fn clocks() -> embassy_stm32::Config {
    let mut config = embassy_stm32::Config::default();
    config.rcc.pll_src = PllSource::HSI;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV8,
        mul: PllMul::MUL100,
        divp: Some(PllPDiv::DIV2),
        divq: None,
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV2;
    config.rcc.apb2_pre = APBPrescaler::DIV1;
    config
}

/// A panic resets the chip: the board comes back with its banner. (The session answers
/// bad input with `err …`; a panic is a bug.)
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    device::reset()
}
