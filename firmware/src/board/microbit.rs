//! BBC micro:bit v1 and QEMU `microbit`: nRF51822 (Cortex-M0, 16 MHz, 16 KB RAM), UART0
//! on the USB-serial pins at 115200 baud, TIMER0 at 8 MHz as the tick counter (the
//! nRF51's M0 has no SysTick).

use core::sync::atomic::{AtomicU32, Ordering};

use micrornn::session::Buffers;
use micrornn::{arena_words, CellKind};

use crate::flash::nvmc::Nrf51;
use crate::reg;

/// Board name, as `info` shows it.
pub const NAME: &str = "microbit";
/// The network's arena (`i32` words): states and scratch, sized with
/// [`micrornn::arena_words`] for one layer of 88 LSTM units: 256 words, 1 KB. It holds one
/// layer of RNN up to hidden 224 (hidden 128 in chunks of 64 units), GRU up to 192 (128:
/// chunks of 32), LSTM up to 88 (64: chunks of 24); two layers of RNN up to 112, GRU 96,
/// LSTM 44 (checked below).
pub const ARENA_LEN: usize = arena_words(CellKind::Lstm, 1, 88);

/// Whether a model of `layers` × `hidden` units of `cell` fits [`ARENA_LEN`].
const fn fits(cell: CellKind, layers: usize, hidden: usize) -> bool {
    arena_words(cell, layers, hidden) <= ARENA_LEN
}

const _: () = {
    assert!(fits(CellKind::Rnn, 1, 224) && fits(CellKind::Gru, 1, 192));
    assert!(fits(CellKind::Rnn, 2, 112) && fits(CellKind::Gru, 2, 96));
    assert!(fits(CellKind::Lstm, 2, 44) && !fits(CellKind::Rnn, 1, 240));
};
/// Outputs capacity (`i32`): vocabulary size or labels.
pub const LOGITS_LEN: usize = 96;

/// Ticks per second: TIMER0 at 16 MHz / 2.
pub const TICKS_PER_SECOND: u32 = 8_000_000;
/// A tick is 125 ns; under `-icount shift=0` an instruction is 1 ns.
pub const INSTRUCTIONS_PER_TICK: u32 = 1_000_000_000 / TICKS_PER_SECOND;

/// The model partition is on-chip flash, erased and programmed by the NVMC (1 KiB pages).
pub type PartitionMedium = Nrf51;

/// The partition's medium.
pub const fn partition_medium() -> PartitionMedium {
    Nrf51::new()
}

/// Sets up the UART and the tick counter, then serves the session on the model partition.
pub fn run(buffers: Buffers<'static>) -> ! {
    let mut uart = super::Uart::init();
    let device = super::Device::start();
    super::serve(&mut uart, &device, buffers)
}

// ---- UART0: tasks, events, and a receive FIFO of 6 bytes ----

const UART0: usize = 0x4000_2000;
reg!(TASKS_STARTRX = UART0, "Safety: nRF51 UART0 TASKS_STARTRX");
reg!(
    TASKS_STARTTX = UART0 + 0x008,
    "Safety: nRF51 UART0 TASKS_STARTTX"
);
reg!(
    EVENTS_RXDRDY = UART0 + 0x108,
    "Safety: nRF51 UART0 EVENTS_RXDRDY"
);
reg!(
    EVENTS_TXDRDY = UART0 + 0x11C,
    "Safety: nRF51 UART0 EVENTS_TXDRDY"
);
reg!(INTENSET = UART0 + 0x304, "Safety: nRF51 UART0 INTENSET");
reg!(INTENCLR = UART0 + 0x308, "Safety: nRF51 UART0 INTENCLR");
reg!(ENABLE = UART0 + 0x500, "Safety: nRF51 UART0 ENABLE");
reg!(PSELTXD = UART0 + 0x50C, "Safety: nRF51 UART0 PSELTXD");
reg!(PSELRXD = UART0 + 0x514, "Safety: nRF51 UART0 PSELRXD");
reg!(RXD = UART0 + 0x518, "Safety: nRF51 UART0 RXD");
reg!(TXD = UART0 + 0x51C, "Safety: nRF51 UART0 TXD");
reg!(BAUDRATE = UART0 + 0x524, "Safety: nRF51 UART0 BAUDRATE");

const ENABLE_UART: u32 = 4;
const BAUD_115200: u32 = 0x01D7_E000;
/// The micro:bit's USB-serial pins: P0.24 (TX), P0.25 (RX).
const TX_PIN: u32 = 24;
const RX_PIN: u32 = 25;
const INTEN_RXDRDY: u32 = 1 << 2;
const UART0_IRQ: u16 = 2;

/// Enables transmit and receive at 115200 baud (again: the panic report does).
pub fn init_uart() {
    PSELTXD.write(TX_PIN);
    PSELRXD.write(RX_PIN);
    BAUDRATE.write(BAUD_115200);
    ENABLE.write(ENABLE_UART);
    TASKS_STARTTX.write(1);
    TASKS_STARTRX.write(1);
    super::unmask(UART0_IRQ);
}

/// Sleeps until a byte has arrived (at once if one is there).
pub fn wait_for_input() {
    super::sleep_until(rx_ready, arm_rx);
}

/// Sleeps until a byte has arrived or 2^22 ticks (0.52 s) have passed (TIMER0's COMPARE2).
pub fn wait_for_input_or_tick() {
    TIMER_CC2.write(capture().wrapping_add(WAKE_TICKS));
    TIMER_COMPARE2.write(0);
    TIMER_INTENSET.write(INTEN_COMPARE2);
    super::sleep_once(rx_ready, arm_rx);
}

/// Enables the receive interrupt (its handler disables it again).
fn arm_rx() {
    INTENSET.write(INTEN_RXDRDY);
}

/// A received byte is waiting.
pub fn rx_ready() -> bool {
    EVENTS_RXDRDY.read() != 0
}

/// Takes one received byte. The event is cleared before RXD is read: reading RXD raises
/// it again if the FIFO holds more (hardware and QEMU alike).
pub fn take_byte() -> u8 {
    EVENTS_RXDRDY.write(0);
    RXD.read() as u8
}

/// Sends a byte: TXD, then wait for TXDRDY (QEMU ignores TXD while a byte is pending, so
/// the wait is needed there too).
pub fn send_byte(b: u8) {
    EVENTS_TXDRDY.write(0);
    TXD.write(b as u32);
    while EVENTS_TXDRDY.read() == 0 {}
}

/// Waits until the last byte has left: at once, `send_byte` waits for each.
pub fn wait_tx_free() {}

// ---- ticks: TIMER0 (32 bits at 8 MHz) plus a count of its wraps ----

const TIMER0: usize = 0x4000_8000;
reg!(TIMER_START = TIMER0, "Safety: nRF51 TIMER0 TASKS_START");
reg!(
    TIMER_CLEAR = TIMER0 + 0x00C,
    "Safety: nRF51 TIMER0 TASKS_CLEAR"
);
reg!(
    TIMER_CAPTURE1 = TIMER0 + 0x044,
    "Safety: nRF51 TIMER0 TASKS_CAPTURE[1]"
);
reg!(
    TIMER_COMPARE0 = TIMER0 + 0x140,
    "Safety: nRF51 TIMER0 EVENTS_COMPARE[0]"
);
reg!(
    TIMER_INTENSET = TIMER0 + 0x304,
    "Safety: nRF51 TIMER0 INTENSET"
);
reg!(TIMER_MODE = TIMER0 + 0x504, "Safety: nRF51 TIMER0 MODE");
reg!(
    TIMER_BITMODE = TIMER0 + 0x508,
    "Safety: nRF51 TIMER0 BITMODE"
);
reg!(
    TIMER_PRESCALER = TIMER0 + 0x510,
    "Safety: nRF51 TIMER0 PRESCALER"
);
reg!(TIMER_CC0 = TIMER0 + 0x540, "Safety: nRF51 TIMER0 CC[0]");
reg!(TIMER_CC1 = TIMER0 + 0x544, "Safety: nRF51 TIMER0 CC[1]");
reg!(TIMER_CC2 = TIMER0 + 0x548, "Safety: nRF51 TIMER0 CC[2]");
reg!(
    TIMER_COMPARE2 = TIMER0 + 0x148,
    "Safety: nRF51 TIMER0 EVENTS_COMPARE[2]"
);
reg!(
    TIMER_INTENCLR = TIMER0 + 0x308,
    "Safety: nRF51 TIMER0 INTENCLR"
);

const MODE_TIMER: u32 = 0;
/// Counter width: 32 bits (BITMODE 3), a wrap every 2^32 ticks (537 s). Set it to 16 to
/// see wraps handled within seconds (the self-test's `w`).
const COUNTER_BITS: u32 = 32;
const BITMODE: u32 = match COUNTER_BITS {
    8 => 1,
    16 => 0,
    24 => 2,
    _ => 3,
};
/// 16 MHz / 2^1 = 8 MHz.
const PRESCALER_8MHZ: u32 = 1;
const INTEN_COMPARE0: u32 = 1 << 16;
const INTEN_COMPARE2: u32 = 1 << 18;
/// Longest sleep of [`wait_for_input_or_tick`]: 2^22 ticks, 0.52 s.
const WAKE_TICKS: u32 = 1 << 22;
const TIMER0_IRQ: u16 = 8;

/// TIMER0 wraps so far (written only by its interrupt).
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Starts TIMER0 as a free-running counter; COMPARE0 at 0 marks each wrap.
pub fn start_ticks() {
    TIMER_MODE.write(MODE_TIMER);
    TIMER_BITMODE.write(BITMODE);
    TIMER_PRESCALER.write(PRESCALER_8MHZ);
    TIMER_CC0.write(0);
    TIMER_CLEAR.write(1);
    TIMER_START.write(1);
    // QEMU's model raises COMPARE0 at once when CC0 equals the counter at START: wait for
    // the first tick, then drop that event (on hardware there is none to drop).
    while capture() == 0 {}
    TIMER_COMPARE0.write(0);
    TIMER_INTENSET.write(INTEN_COMPARE0);
    super::unmask(TIMER0_IRQ);
}

fn capture() -> u32 {
    TIMER_CAPTURE1.write(1);
    TIMER_CC1.read()
}

/// 8 MHz ticks since `start_ticks`.
pub fn ticks() -> u64 {
    cortex_m::interrupt::free(|_| {
        let mut wraps = WRAPS.load(Ordering::Relaxed) as u64;
        let now = capture();
        // A wrap whose interrupt has not run yet (interrupts are masked here): count it if
        // the counter was read after it.
        if TIMER_COMPARE0.read() != 0 && now < 1 << (COUNTER_BITS - 1) {
            wraps += 1;
        }
        (wraps << COUNTER_BITS) | now as u64
    })
}

/// This board's device interrupts; `false` for any other.
pub fn on_interrupt(irqn: i16) -> bool {
    match irqn {
        i if i == UART0_IRQ as i16 => {
            // A byte arrived: disarm (the reader re-arms before it sleeps again).
            INTENCLR.write(INTEN_RXDRDY);
            true
        }
        i if i == TIMER0_IRQ as i16 => {
            if TIMER_COMPARE2.read() != 0 {
                // The wake-up of `wait_for_input_or_tick`: once.
                TIMER_COMPARE2.write(0);
                TIMER_INTENCLR.write(INTEN_COMPARE2);
            }
            if TIMER_COMPARE0.read() != 0 {
                TIMER_COMPARE0.write(0);
                WRAPS.store(
                    WRAPS.load(Ordering::Relaxed).wrapping_add(1),
                    Ordering::Relaxed,
                );
            }
            true
        }
        _ => false,
    }
}
