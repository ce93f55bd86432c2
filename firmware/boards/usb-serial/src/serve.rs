//! The main loop: the session on the USB port, greeting each terminal that opens it.
//!
//! A UART board prints its banner at reset, usually to nobody; here the banner waits for
//! someone to open the port (DTR rises), then [`SETTLE`] more, so that the terminal
//! program has set its port up (a port not yet in raw mode would echo the banner back as
//! input). A program that speaks first gets no banner: its first reply is not preceded by
//! one. Between bytes the core sleeps; the USB task's heartbeat wakes it regularly, so the
//! session still notices time passing (the upload's timeout).

use embassy_time::{Duration, Instant};
use micrornn::session::Session;
use micrornn::store::Partition;
use micrornn_board::Device;

use crate::serial::{input_waiting, sleep_while, Serial};
use crate::usb::opened;

/// Time between a terminal opening the port and the banner.
pub const SETTLE: Duration = Duration::from_millis(100);

/// Time to leave between the `reset` command's reply leaving the session and the reset:
/// the host collects a waiting packet within a few milliseconds (a 1 ms frame per
/// transaction).
pub const RESET_GRACE: Duration = Duration::from_millis(50);

/// Serves `session` on the USB port forever.
pub fn serve<P: Partition>(mut session: Session<'_, P>, device: &Device) -> ! {
    let mut serial = Serial::new();
    let mut connection = opened();
    let mut banner_due: Option<Instant> = None;
    loop {
        if opened() != connection {
            connection = opened();
            serial.answer(connection);
            banner_due = Some(Instant::now() + SETTLE);
        }
        if let Some(due) = banner_due {
            if input_waiting() {
                banner_due = None;
            } else if Instant::now() >= due {
                banner_due = None;
                session.banner(&mut serial);
            }
        }
        session.poll(&mut serial, device);
        sleep_while(|| !input_waiting());
    }
}
