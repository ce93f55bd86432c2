//! The USB device: one CDC-ACM port (a USB serial port the host's own driver serves:
//! `/dev/ttyACM*`, `/dev/cu.usbmodem*`, `COM*`), and the task that moves its bytes to and
//! from two pipes for the session ([`crate::serial`]).
//!
//! The task runs on an interrupt executor, so it keeps the port going while the session
//! computes in thread mode. It also watches DTR, which a terminal raises when it opens the
//! port and lowers when it closes it: each rise counts as a new connection ([`opened`];
//! the pipes are emptied and the session greets the newcomer), each fall makes the
//! session's writes drop their bytes instead of waiting for a reader that is gone.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use embassy_futures::join::join5;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::pipe::Pipe;
use embassy_time::Timer;
use embassy_usb::class::cdc_acm::{CdcAcmClass, ControlChanged, Receiver, Sender, State};
use embassy_usb::driver::Driver;
use embassy_usb::{Builder, Config, UsbDevice};
use static_cell::StaticCell;

/// USB vendor ID: pid.codes, the open-source hardware vendor ID.
pub const VID: u16 = 0x1209;
/// USB product ID: pid.codes' test PID (for testing, not for products sold; a device is
/// recognized by its [`PRODUCT`] string, which `micrornn ports` matches).
pub const PID: u16 = 0x0001;
/// USB manufacturer string.
pub const MANUFACTURER: &str = "micrornn";
/// USB product string: what `micrornn ports` looks for.
pub const PRODUCT: &str = "micrornn";

/// Bytes per bulk packet (full speed).
const PACKET: usize = 64;
/// Bytes received and not yet read by the session; when full, the host is held off
/// (the endpoint answers NAK) until the session reads.
const RX_LEN: usize = 512;
/// Bytes written by the session and not yet sent.
const TX_LEN: usize = 512;
/// How often the task wakes the core even when the bus is quiet, so that the session
/// notices time passing (the upload's timeout, the banner's delay) while it sleeps.
const HEARTBEAT_MS: u64 = 10;

/// Host → session.
pub(crate) static RX: Pipe<CriticalSectionRawMutex, RX_LEN> = Pipe::new();
/// Session → host.
pub(crate) static TX: Pipe<CriticalSectionRawMutex, TX_LEN> = Pipe::new();
/// Connections so far: DTR rises (written only by the USB task).
static OPENED: AtomicU32 = AtomicU32::new(0);
/// Someone is reading: DTR is high, or the host sent bytes since the session last gave up
/// waiting for it to read (see [`crate::serial`]).
pub(crate) static READER: AtomicBool = AtomicBool::new(false);

/// Connections so far: the count goes up each time a terminal opens the port (DTR rises).
pub fn opened() -> u32 {
    OPENED.load(Ordering::Acquire)
}

/// The USB serial number: the chip's (or its flash's) unique `id` as 16 hex digits in
/// `buf`, so that two boards on one computer have different names (`/dev/serial/by-id`).
pub fn serial_number(id: u64, buf: &'static mut [u8; 16]) -> &'static str {
    for (i, digit) in buf.iter_mut().enumerate() {
        let nibble = (id >> (60 - 4 * i)) & 0xF;
        *digit = b"0123456789ABCDEF"[nibble as usize];
    }
    core::str::from_utf8(buf).unwrap_or("0")
}

/// Memory the USB stack keeps for the life of the device: descriptors, control requests,
/// the CDC-ACM class's state.
struct Buffers {
    config_descriptor: [u8; 256],
    bos_descriptor: [u8; 64],
    control: [u8; 64],
    state: State<'static>,
}

static BUFFERS: StaticCell<Buffers> = StaticCell::new();

/// The USB device and its one CDC-ACM port, ready for [`run`].
pub struct Usb<D: Driver<'static>> {
    device: UsbDevice<'static, D>,
    class: CdcAcmClass<'static, D>,
}

impl<D: Driver<'static>> Usb<D> {
    /// Describes the device ([`VID`], [`PID`], [`MANUFACTURER`], [`PRODUCT`] and
    /// `serial_number`) with one CDC-ACM port on the chip's USB `driver`. There is one
    /// device: `None` if called again.
    pub fn new(driver: D, serial_number: &'static str) -> Option<Self> {
        let buffers = BUFFERS.try_init(Buffers {
            config_descriptor: [0; 256],
            bos_descriptor: [0; 64],
            control: [0; 64],
            state: State::new(),
        })?;
        let mut config = Config::new(VID, PID);
        config.manufacturer = Some(MANUFACTURER);
        config.product = Some(PRODUCT);
        config.serial_number = Some(serial_number);
        config.max_power = 100;
        config.max_packet_size_0 = PACKET as u8;
        let mut builder = Builder::new(
            driver,
            config,
            &mut buffers.config_descriptor,
            &mut buffers.bos_descriptor,
            &mut [], // no Microsoft OS descriptors: Windows binds usbser.sys to CDC-ACM itself
            &mut buffers.control,
        );
        let class = CdcAcmClass::new(&mut builder, &mut buffers.state, PACKET as u16);
        Some(Usb {
            device: builder.build(),
            class,
        })
    }
}

/// Runs the device forever: the bus, the two directions, DTR, and a heartbeat.
pub async fn run<D: Driver<'static>>(usb: Usb<D>) -> ! {
    let Usb { mut device, class } = usb;
    let (mut tx, mut rx, control) = class.split_with_control();
    let all = join5(
        device.run(),
        receive(&mut rx),
        send(&mut tx),
        watch_dtr(&control),
        heartbeat(),
    );
    all.await.0
}

/// Host → [`RX`]. A full pipe holds the host off (flow control for uploads).
async fn receive<D: Driver<'static>>(rx: &mut Receiver<'static, D>) -> ! {
    let mut packet = [0u8; PACKET];
    loop {
        rx.wait_connection().await;
        while let Ok(n) = rx.read_packet(&mut packet).await {
            READER.store(true, Ordering::Release);
            RX.write_all(packet.get(..n).unwrap_or_default()).await;
        }
    }
}

/// [`TX`] → host, a packet at a time. A full packet that empties the pipe is followed by a
/// zero-length one, so that the host hands the data over at once instead of waiting for
/// the transfer to end.
async fn send<D: Driver<'static>>(tx: &mut Sender<'static, D>) -> ! {
    let mut packet = [0u8; PACKET];
    loop {
        tx.wait_connection().await;
        loop {
            let n = TX.read(&mut packet).await;
            if tx
                .write_packet(packet.get(..n).unwrap_or_default())
                .await
                .is_err()
            {
                break; // the port went away: this packet is lost with it
            }
            if n == PACKET && TX.is_empty() && tx.write_packet(&[]).await.is_err() {
                break;
            }
        }
    }
}

/// DTR rises: a new connection, with empty pipes. DTR falls (or the bus resets): nobody
/// reads any more.
async fn watch_dtr(control: &ControlChanged<'static>) -> ! {
    let mut dtr = false;
    loop {
        control.control_changed().await;
        let now = control.dtr();
        if now && !dtr {
            RX.clear();
            TX.clear();
            READER.store(true, Ordering::Release);
            // The only writer of OPENED: no read-modify-write race (the M0+ has no atomic add).
            OPENED.store(
                OPENED.load(Ordering::Relaxed).wrapping_add(1),
                Ordering::Release,
            );
        } else if dtr && !now {
            READER.store(false, Ordering::Release);
        }
        dtr = now;
    }
}

/// Wakes the core every [`HEARTBEAT_MS`] (the timer's interrupt ends its WFI).
async fn heartbeat() -> ! {
    loop {
        Timer::after_millis(HEARTBEAT_MS).await;
    }
}
