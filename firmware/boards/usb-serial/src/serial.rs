//! The session's end of the USB port: `embedded_io` over the two pipes of [`crate::usb`].
//!
//! Reads take what the host sent. Writes wait while the host reads more slowly than the
//! session writes, but not for a host that is gone: with DTR low (the terminal closed the
//! port) bytes are dropped at once, and a host that takes nothing for [`STALL`] (unplugged,
//! suspended, a program that stopped reading) is taken for gone until it sends again or
//! reopens the port. A reply to nobody thus never wedges the firmware. A reply still being
//! written when the terminal closes the port is not shown to the next one (but for the
//! one USB packet, at most 64 bytes, already on its way).

use core::convert::Infallible;
use core::sync::atomic::Ordering;

use embassy_time::{Duration, Instant};

use crate::usb::{opened, READER, RX, TX};

/// How long a write waits for the host to take bytes before it gives the host up.
pub const STALL: Duration = Duration::from_millis(1000);

/// The serial port the session talks on.
#[derive(Debug)]
pub struct Serial {
    /// The connection (a count of [`opened`]) the session is answering; bytes written while
    /// a newer one is open belong to a reply to a terminal that has gone, and are dropped,
    /// so that a terminal that opens the port mid-reply sees the banner first.
    connection: u32,
}

impl Serial {
    /// The port, answering the current connection.
    pub fn new() -> Serial {
        Serial {
            connection: opened(),
        }
    }

    /// From now on, answers connection `connection` (the main loop calls it when it greets
    /// a new one).
    pub fn answer(&mut self, connection: u32) {
        self.connection = connection;
    }

    /// Whether someone is reading what the session writes now.
    fn reader(&self) -> bool {
        READER.load(Ordering::Acquire) && opened() == self.connection
    }
}

impl Default for Serial {
    fn default() -> Self {
        Self::new()
    }
}

/// Sleeps until the next interrupt while `waiting()` holds. The check and the WFI run with
/// interrupts masked, so an interrupt that makes `waiting()` false just before the WFI
/// still ends it (WFI wakes on a pending interrupt even while masked).
pub fn sleep_while(waiting: impl Fn() -> bool) {
    cortex_m::interrupt::free(|_| {
        if waiting() {
            cortex_m::asm::wfi();
        }
    });
}

/// Whether the host sent bytes the session has not read.
pub fn input_waiting() -> bool {
    !RX.is_empty()
}

impl embedded_io::ErrorType for Serial {
    type Error = Infallible;
}

impl embedded_io::Read for Serial {
    /// Waits for at least one byte, then takes what is there (at most `buf.len()`).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Ok(n) = RX.try_read(buf) {
                return Ok(n);
            }
            sleep_while(|| RX.is_empty());
        }
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(input_waiting())
    }
}

impl embedded_io::Write for Serial {
    /// Queues bytes for the host; drops them when nobody reads (see the module).
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        let start = Instant::now();
        while self.reader() {
            if let Ok(n) = TX.try_write(buf) {
                return Ok(n);
            }
            if start.elapsed() >= STALL {
                READER.store(false, Ordering::Release);
                break;
            }
            sleep_while(|| TX.is_full());
        }
        Ok(buf.len())
    }

    /// Waits until every queued byte is handed to the USB port (or the host is given up).
    fn flush(&mut self) -> Result<(), Infallible> {
        let start = Instant::now();
        while self.reader() && !TX.is_empty() {
            if start.elapsed() >= STALL {
                READER.store(false, Ordering::Release);
                break;
            }
            sleep_while(|| !TX.is_empty());
        }
        Ok(())
    }
}
