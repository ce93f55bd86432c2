//! The serial line: UARTE0 on the pins to the interface chip (its USB serial port), 115200
//! baud 8N1, through embassy-nrf's buffered UARTE. Received bytes go by EasyDMA into a
//! ring buffer in RAM, counted by a timer through PPI, so they keep arriving while the CPU
//! is busy or halted by a flash erase; transmitted bytes wait in a ring of their own.
//!
//! The driver's reads and writes are futures; [`Serial`] runs them to completion on the
//! spot (`block_on`), which gives the blocking `embedded_io` traits the session uses.

use embassy_futures::block_on;
use embassy_nrf::buffered_uarte::{self, BufferedUarte};
use embassy_nrf::peripherals::{P0_06, P1_08, PPI_CH0, PPI_CH1, PPI_GROUP0, TIMER1, UARTE0};
use embassy_nrf::{bind_interrupts, uarte, Peri};

bind_interrupts!(struct Irqs {
    UARTE0 => buffered_uarte::InterruptHandler<UARTE0>;
});

/// The micro:bit's serial port to the laptop.
pub struct Serial {
    uarte: BufferedUarte<'static>,
}

/// Receive failed: the ring buffer was full and bytes were lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overrun;

impl embedded_io::Error for Overrun {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

/// The peripherals the serial port takes.
pub struct Parts {
    /// The UART.
    pub uarte: Peri<'static, UARTE0>,
    /// Counts received bytes (the driver's receive ring).
    pub timer: Peri<'static, TIMER1>,
    /// PPI channel: byte received → timer count.
    pub ppi_ch1: Peri<'static, PPI_CH0>,
    /// PPI channel: end of a receive buffer half → start of the next.
    pub ppi_ch2: Peri<'static, PPI_CH1>,
    /// PPI group of the two.
    pub ppi_group: Peri<'static, PPI_GROUP0>,
    /// P1.08, the interface chip's transmit line (our receive).
    pub rx: Peri<'static, P1_08>,
    /// P0.06, the interface chip's receive line (our transmit).
    pub tx: Peri<'static, P0_06>,
}

impl Serial {
    /// Starts the UART at 115200 baud 8N1 with the given ring buffers (`rx` of even length).
    pub fn new(parts: Parts, rx: &'static mut [u8], tx: &'static mut [u8]) -> Serial {
        let config = uarte::Config::default(); // 115200 baud, no parity
        let uarte = BufferedUarte::new(
            parts.uarte,
            parts.timer,
            parts.ppi_ch1,
            parts.ppi_ch2,
            parts.ppi_group,
            parts.rx,
            parts.tx,
            Irqs,
            config,
            rx,
            tx,
        );
        Serial { uarte }
    }
}

impl embedded_io::ErrorType for Serial {
    type Error = Overrun;
}

impl embedded_io::Read for Serial {
    /// Waits for at least one byte, then takes what is there (at most `buf.len()`).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Overrun> {
        if buf.is_empty() {
            return Ok(0);
        }
        block_on(self.uarte.read(buf)).map_err(|_| Overrun)
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Overrun> {
        embedded_io_async::ReadReady::read_ready(&mut self.uarte).map_err(|_| Overrun)
    }
}

impl embedded_io::Write for Serial {
    /// Waits for room in the transmit ring, then queues what fits (at least one byte).
    fn write(&mut self, buf: &[u8]) -> Result<usize, Overrun> {
        if buf.is_empty() {
            return Ok(0);
        }
        block_on(self.uarte.write(buf)).map_err(|_| Overrun)
    }

    /// Waits until every queued byte has left.
    fn flush(&mut self) -> Result<(), Overrun> {
        block_on(self.uarte.flush()).map_err(|_| Overrun)
    }
}
