//! The serial ports of this computer, and which of them look like a micrornn board.
//!
//! A Pico or Pico 2 running micrornn is its own USB device: its product string is
//! `micrornn` (`firmware/boards/usb-serial`, [`PRODUCT`]). The micro:bits and the Nucleo
//! talk through their interface chip's USB serial port, recognised by its USB vendor and
//! product ID ([`INTERFACE_CHIPS`]); such a port may run other firmware, so it is a
//! candidate, not a certainty. `micrornn device` without `--port` takes the one candidate
//! there is ([`pick`]).

use anyhow::{bail, Result};

/// The USB product string of the micrornn firmware on the USB boards (Pico, Pico 2).
pub const PRODUCT: &str = "micrornn";

/// Interface chips whose USB serial port leads to a board's UART: (VID, PID, what).
pub const INTERFACE_CHIPS: &[(u16, u16, &str)] = &[
    (0x0D28, 0x0204, "micro:bit (DAPLink)"),
    (0x0483, 0x374B, "Nucleo (ST-LINK/V2-1)"),
    (0x0483, 0x374E, "Nucleo (STLINK-V3)"),
    (0x0483, 0x374F, "Nucleo (STLINK-V3)"),
    (0x0483, 0x3753, "Nucleo (STLINK-V3)"),
];

/// USB facts of a port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usb {
    /// Vendor ID.
    pub vid: u16,
    /// Product ID.
    pub pid: u16,
    /// Manufacturer string.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
    /// Serial number string.
    pub serial: Option<String>,
}

/// A serial port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// Its name for `--port` (e.g. `/dev/ttyACM0`, `COM3`).
    pub name: String,
    /// USB facts, for a USB port.
    pub usb: Option<Usb>,
    /// What kind of port it is when not USB (`pci`, `bluetooth`, `unknown`).
    pub kind: &'static str,
}

/// How much a port looks like a micrornn board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Likeness {
    /// A USB board running micrornn (product string `micrornn`).
    Micrornn,
    /// A board's interface chip (micro:bit, Nucleo): micrornn if that firmware is on it.
    InterfaceChip(&'static str),
    /// Anything else.
    Other,
}

impl Port {
    /// Whether the port looks like a micrornn board.
    pub fn likeness(&self) -> Likeness {
        let Some(usb) = &self.usb else {
            return Likeness::Other;
        };
        if usb.product.as_deref() == Some(PRODUCT) {
            return Likeness::Micrornn;
        }
        INTERFACE_CHIPS
            .iter()
            .find(|(vid, pid, _)| (*vid, *pid) == (usb.vid, usb.pid))
            .map_or(Likeness::Other, |(_, _, what)| {
                Likeness::InterfaceChip(what)
            })
    }

    /// One line: name, then `VID:PID manufacturer product serial` for USB ports.
    pub fn describe(&self) -> String {
        match &self.usb {
            None => format!("{}  ({})", self.name, self.kind),
            Some(u) => {
                let mut s = format!("{}  {:04x}:{:04x}", self.name, u.vid, u.pid);
                for (what, v) in [
                    ("", &u.manufacturer),
                    ("", &u.product),
                    ("serial ", &u.serial),
                ] {
                    if let Some(v) = v {
                        s.push_str(&format!("  {what}{v}"));
                    }
                }
                s
            }
        }
    }
}

/// The serial ports of this computer.
pub fn list() -> Result<Vec<Port>> {
    use serialport::SerialPortType;
    let ports = serialport::available_ports()
        .map_err(|e| anyhow::anyhow!("cannot list the serial ports: {e}"))?;
    let mut out: Vec<Port> = ports
        .into_iter()
        .map(|p| {
            let (usb, kind) = match p.port_type {
                SerialPortType::UsbPort(u) => (
                    Some(Usb {
                        vid: u.vid,
                        pid: u.pid,
                        manufacturer: u.manufacturer,
                        product: u.product,
                        serial: u.serial_number,
                    }),
                    "usb",
                ),
                SerialPortType::PciPort => (None, "pci"),
                SerialPortType::BluetoothPort => (None, "bluetooth"),
                SerialPortType::Unknown => (None, "unknown"),
            };
            Port {
                name: p.port_name,
                usb,
                kind,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The port to use when `--port` is left out: the one port that looks like a micrornn
/// board. Ports whose product string is `micrornn` come first: if there is exactly one,
/// it is taken even when interface chips are attached too. Otherwise exactly one
/// interface chip is taken. Zero or several: an error that lists what there is.
pub fn pick(ports: &[Port]) -> Result<String> {
    let of = |want: fn(Likeness) -> bool| -> Vec<&Port> {
        ports.iter().filter(|p| want(p.likeness())).collect()
    };
    let sure = of(|l| l == Likeness::Micrornn);
    let maybe = of(|l| matches!(l, Likeness::InterfaceChip(_)));
    match (sure.as_slice(), maybe.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one.name.clone()),
        ([], []) => {
            let listing = if ports.is_empty() {
                "this computer has no serial port".to_string()
            } else {
                format!("serial ports: {}", names(ports.iter()))
            };
            bail!("no micrornn board found ({listing}); plug one in, or pass --port")
        }
        ([], several) => bail!(
            "several boards may be micrornn devices: {}; pass --port",
            names(several.iter().copied())
        ),
        (several, _) => bail!(
            "several micrornn devices are attached: {}; pass --port",
            names(several.iter().copied())
        ),
    }
}

/// `a (what), b (what)`.
fn names<'a>(ports: impl Iterator<Item = &'a Port>) -> String {
    ports
        .map(|p| match p.likeness() {
            Likeness::Micrornn => format!("{} (micrornn)", p.name),
            Likeness::InterfaceChip(what) => format!("{} ({what})", p.name),
            Likeness::Other => p.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
