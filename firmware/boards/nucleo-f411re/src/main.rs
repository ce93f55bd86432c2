//! micrornn on the ST Nucleo-F411RE (STM32F411RE, Cortex-M4F at 100 MHz): the serial
//! session on the ST-LINK's virtual COM port, with the model store in on-chip flash. The
//! session, its buffers, the partition and the ticks are `micrornn_board`'s.
#![no_std]
#![no_main]

mod serial;

use embassy_stm32::flash::{Flash, FLASH_BASE};
use embassy_stm32::rcc::{
    AHBPrescaler, APBPrescaler, Pll, PllMul, PllPDiv, PllPreDiv, PllSource, Sysclk,
};
use micrornn_board::FlashPartition;

/// Board name, as `info` shows it and `--board` takes it.
const NAME: &str = "nucleo-f411re";
/// Firmware name and version, as `info` shows it.
const FIRMWARE: &str = concat!("micrornn-nucleo-f411re ", env!("CARGO_PKG_VERSION"));
/// Core clock ([`clocks`]), and so the tick rate (the ticks count core cycles).
const CORE_HZ: u32 = 100_000_000;

#[cortex_m_rt::entry]
fn main() -> ! {
    // cortex-m-rt hands each `static mut` here out once, as `&'static mut`.
    static mut RX_RING: [u8; 1024] = [0; 1024];
    static mut TX_RING: [u8; 256] = [0; 256];

    let p = embassy_stm32::init(clocks());
    let Some(mut serial) = serial::Serial::new(p.USART2, p.PA2, p.PA3, RX_RING, TX_RING) else {
        micrornn_board::reset() // 115200 baud from a 50 MHz APB1 clock: cannot fail
    };
    let partition = FlashPartition::new(Flash::new_blocking(p.FLASH), FLASH_BASE);
    micrornn_board::run(NAME, FIRMWARE, CORE_HZ, partition, &mut serial)
}

/// 100 MHz from the internal 16 MHz oscillator (no crystal is fitted on the Nucleo, and
/// the ST-LINK's clock output depends on solder bridges): PLL 16 / 8 × 100 / 2. APB1
/// (USART2) at 50 MHz, its maximum; APB2 at 100 MHz: [`CORE_HZ`].
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
