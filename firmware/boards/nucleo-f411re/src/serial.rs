//! The serial line: USART2 on PA2 (TX) and PA3 (RX), wired to the ST-LINK's virtual COM
//! port, 115200 baud 8N1, through embassy-stm32's buffered USART: its interrupt moves each
//! received byte into a ring buffer in RAM, and feeds transmitted bytes from another.
//!
//! [`Serial`] gives the blocking `embedded_io` traits the session uses, with the
//! semantics they promise: `read` waits for a byte (the driver's returns 0 at once when
//! its ring is empty), and `write` hands the driver at most one ring's worth at a time
//! (the driver's waits for room for all of it, which never comes if it is more than the
//! ring holds and the ring was idle).

use embassy_stm32::peripherals::{PA2, PA3, USART2};
use embassy_stm32::usart::{self, BufferedUart};
use embassy_stm32::{bind_interrupts, Peri};

bind_interrupts!(struct Irqs {
    USART2 => usart::BufferedInterruptHandler<USART2>;
});

/// The Nucleo's serial port to the laptop.
pub struct Serial {
    usart: BufferedUart<'static>,
    /// Size of the transmit ring.
    tx_len: usize,
}

/// An error of the driver's (its blocking reads and writes report none today: a lost or
/// garbled byte shows up as a bad line or a chunk that fails its CRC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineError;

impl embedded_io::Error for LineError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl Serial {
    /// Starts USART2 at 115200 baud 8N1 with the given ring buffers, or `None` if the
    /// clock cannot give that rate (it can: `main` runs USART2's bus at 50 MHz).
    pub fn new(
        usart: Peri<'static, USART2>,
        tx_pin: Peri<'static, PA2>,
        rx_pin: Peri<'static, PA3>,
        rx: &'static mut [u8],
        tx: &'static mut [u8],
    ) -> Option<Serial> {
        let mut config = usart::Config::default();
        config.baudrate = 115_200;
        let tx_len = tx.len();
        let usart = BufferedUart::new(usart, rx_pin, tx_pin, tx, rx, Irqs, config).ok()?;
        Some(Serial { usart, tx_len })
    }
}

impl embedded_io::ErrorType for Serial {
    type Error = LineError;
}

impl embedded_io::Read for Serial {
    /// Waits for at least one byte, then takes what is there (at most `buf.len()`).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, LineError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match embedded_io_07::Read::read(&mut self.usart, buf) {
                Ok(0) => continue,
                Ok(n) => return Ok(n),
                Err(_) => return Err(LineError),
            }
        }
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, LineError> {
        embedded_io_async::ReadReady::read_ready(&mut self.usart).map_err(|_| LineError)
    }
}

impl embedded_io::Write for Serial {
    /// Queues at most one transmit ring's worth, waiting for room.
    fn write(&mut self, buf: &[u8]) -> Result<usize, LineError> {
        let part = &buf[..buf.len().min(self.tx_len)];
        embedded_io_07::Write::write(&mut self.usart, part).map_err(|_| LineError)
    }

    /// Waits until every queued byte has left.
    fn flush(&mut self) -> Result<(), LineError> {
        embedded_io_07::Write::flush(&mut self.usart).map_err(|_| LineError)
    }
}
