//! QEMU's MPS2 machines: `mps2-an386` (Cortex-M4F, SYSCLK 25 MHz) and `mps2-an505`
//! (Cortex-M33 with the DSP extension, SYSCLK 20 MHz). Both have a CMSDK APB UART0 (at
//! 115200 baud) and SysTick on the core clock as the tick counter, and stand RAM (ZBT
//! SSRAM1) in for flash; they differ in a few addresses and numbers, set below per board.
//!
//! The AN505 boots in secure state with the SAU off, so every access is secure and its
//! memory protection controllers (reset: every block secure) let them through: the
//! firmware uses the non-secure addresses (code and model in SSRAM1 at 0x0, RAM in SSRAM2
//! at 0x2800_0000, UART0 at 0x4020_0000), and the reset vector, read from the secure alias
//! 0x1000_0000 of SSRAM1, finds the vector table there.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::{syst::SystClkSource, SCB, SYST};
use cortex_m_rt::exception;
use micrornn::cell::MAX_LAYERS;
use micrornn::model::MAX_HIDDEN;
use micrornn::session::Buffers;
use micrornn::{arena_words, CellKind};

use crate::flash::ram::RamNor;
use crate::reg;

// ---- what differs between the two boards ----

/// Board name, as `info` shows it.
#[cfg(board = "mps2-an386")]
pub const NAME: &str = "mps2-an386";
/// Board name, as `info` shows it.
#[cfg(board = "mps2-an505")]
pub const NAME: &str = "mps2-an505";

/// Core clock (SYSCLK), which clocks SysTick and the UART.
#[cfg(board = "mps2-an386")]
const SYSCLK_HZ: u32 = 25_000_000;
/// Core clock (SYSCLK), which clocks SysTick and the UART.
#[cfg(board = "mps2-an505")]
const SYSCLK_HZ: u32 = 20_000_000;

/// Base of UART0's registers.
#[cfg(board = "mps2-an386")]
const UART0: usize = 0x4000_4000;
/// Base of UART0's registers (AN505: on the APB expansion, non-secure address).
#[cfg(board = "mps2-an505")]
const UART0: usize = 0x4020_0000;

/// UART0's receive interrupt.
#[cfg(board = "mps2-an386")]
const UART0_RX_IRQ: u16 = 0;
/// UART0's receive interrupt (AN505: expansion interrupt 0, after the SSE's own 32).
#[cfg(board = "mps2-an505")]
const UART0_RX_IRQ: u16 = 32;

// ---- the same on both ----

/// The network's arena (`i32` words): states and scratch for the largest model the format
/// allows, [`micrornn::session::FULL_ARENA_WORDS`]: 18,648 words (72.8 KiB), what the
/// largest encoder–decoder needs (4 layers of 510 LSTM units, its encoder's memory of 32
/// states). The largest one-stack model (4 layers of 511 LSTM units) needs 4,172 of them,
/// and every such model that fits the 1 MiB partition (an LSTM of 490 units, 2 layers of
/// 295, 4 of 193, …) at most 3,430 to compute each layer in one chunk, so it runs at full
/// speed. The default encoder–decoder (GRU, H 256, E 32) needs about 5,100.
pub const ARENA_LEN: usize = micrornn::session::FULL_ARENA_WORDS;
const _: () = assert!(ARENA_LEN >= arena_words(CellKind::Lstm, MAX_LAYERS, MAX_HIDDEN));
/// Outputs capacity (`i32`): the largest vocabulary, or labels.
pub const LOGITS_LEN: usize = 1024;

/// Ticks per second: a tick is a core clock cycle.
pub const TICKS_PER_SECOND: u32 = SYSCLK_HZ;
/// Under `-icount shift=0` an instruction is 1 ns: 40 per tick at 25 MHz, 50 at 20 MHz.
pub const INSTRUCTIONS_PER_TICK: u32 = 1_000_000_000 / SYSCLK_HZ;

/// The model partition is RAM under QEMU; it keeps NOR rules with 4 KiB pages (the erase
/// sector of the flash chips that boards with a Cortex-M33 or M4F have).
pub type PartitionMedium = RamNor<4096>;

/// The partition's medium.
pub const fn partition_medium() -> PartitionMedium {
    RamNor::new()
}

/// Sets up the UART and the tick counter, then serves the session on the model partition.
pub fn run(buffers: Buffers<'static>) -> ! {
    let mut uart = super::Uart::init();
    let device = super::Device::start();
    super::serve(&mut uart, &device, buffers)
}

// ---- UART0 (CMSDK APB UART): a one-byte buffer each way ----

reg!(
    DATA = UART0,
    "Safety: CMSDK APB UART0 DATA (this board's UART0 base)"
);
reg!(STATE = UART0 + 0x04, "Safety: CMSDK APB UART0 STATE");
reg!(CTRL = UART0 + 0x08, "Safety: CMSDK APB UART0 CTRL");
reg!(
    INTSTATUS = UART0 + 0x0C,
    "Safety: CMSDK APB UART0 INTSTATUS (write 1 to clear)"
);
reg!(BAUDDIV = UART0 + 0x10, "Safety: CMSDK APB UART0 BAUDDIV");

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INTEN: u32 = 1 << 3;
const INTSTATUS_RX: u32 = 1 << 1;
const BAUD: u32 = 115_200;

/// Enables transmit and receive at 115200 baud (again: the panic report does).
pub fn init_uart() {
    BAUDDIV.write(SYSCLK_HZ / BAUD);
    CTRL.write(CTRL_TX_EN | CTRL_RX_EN);
    super::unmask(UART0_RX_IRQ);
}

/// Sleeps until a byte has arrived (at once if one is there).
pub fn wait_for_input() {
    super::sleep_until(rx_ready, arm_rx);
}

/// Sleeps until a byte has arrived or SysTick wraps (every 2^24 cycles: 0.67 s at 25 MHz,
/// 0.84 s at 20 MHz).
pub fn wait_for_input_or_tick() {
    super::sleep_once(rx_ready, arm_rx);
}

/// Enables the receive interrupt (its handler disables it again).
fn arm_rx() {
    CTRL.write(CTRL.read() | CTRL_RX_INTEN);
}

/// A received byte is waiting.
pub fn rx_ready() -> bool {
    STATE.read() & STATE_RX_FULL != 0
}

/// Takes the received byte.
pub fn take_byte() -> u8 {
    DATA.read() as u8
}

/// Sends a byte once the transmit buffer is free.
pub fn send_byte(b: u8) {
    wait_tx_free();
    DATA.write(b as u32);
}

/// Waits until the last byte has left the transmit buffer.
pub fn wait_tx_free() {
    while STATE.read() & STATE_TX_FULL != 0 {}
}

// ---- ticks: SysTick (24 bits) plus a count of its wraps ----

const RELOAD: u32 = 0x00FF_FFFF;
/// SysTick wraps so far (written only by the SysTick handler).
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Starts SysTick on the core clock, interrupting at every wrap.
pub fn start_ticks() {
    let Some(mut core) = cortex_m::Peripherals::take() else {
        return; // already started
    };
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(RELOAD);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();
    // The counter reads 0 until it loads RELOAD, which would look like the end of a wrap.
    while SYST::get_current() == 0 {}
}

/// Core clock cycles since `start_ticks`.
pub fn ticks() -> u64 {
    cortex_m::interrupt::free(|_| {
        let mut wraps = WRAPS.load(Ordering::Relaxed) as u64;
        let elapsed = RELOAD - SYST::get_current();
        // A wrap whose interrupt has not run yet (interrupts are masked here): count it if
        // the value was read after it.
        if SCB::is_pendst_pending() && elapsed < RELOAD / 2 {
            wraps += 1;
        }
        wraps * (RELOAD as u64 + 1) + elapsed as u64
    })
}

#[exception]
fn SysTick() {
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// This board's device interrupts; `false` for any other.
pub fn on_interrupt(irqn: i16) -> bool {
    if irqn == UART0_RX_IRQ as i16 {
        // A byte arrived: disarm (the reader re-arms before it sleeps again).
        CTRL.write(CTRL.read() & !CTRL_RX_INTEN);
        INTSTATUS.write(INTSTATUS_RX);
        return true;
    }
    false
}
