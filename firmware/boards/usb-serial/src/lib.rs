//! micrornn on a board whose serial line is its own USB port (USB CDC-ACM) and whose model
//! partition is flash the CPU reads in place (XIP): the Raspberry Pi Pico and Pico 2.
//! Chip-independent but for `rp` (feature `rp2040` or `rp235xa`): a board supplies the
//! USB driver, the flash driver, a reset, and runs [`usb::run`] on an interrupt executor;
//! the partition, the session's buffers and its `Platform` are `micrornn-board`'s.
//!
//! - [`usb`]: the USB device (one CDC-ACM port) and the task that moves bytes between it and
//!   two pipes, and watches DTR (a terminal opening the port);
//! - [`serial`]: the session's end of the pipes, `embedded_io` `Read`, `ReadReady`, `Write`;
//!   writes give up when nobody is reading;
//! - [`serve`]: the main loop: banner when a terminal opens the port, then the session;
//! - `rp`: the Picos' firmware, `run`, given the chip's USB, flash and unique ID.
//!
//! No allocator and no `alloc`: buffers are statics, handed out once.
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "_rp")]
pub mod rp;
pub mod serial;
pub mod serve;
pub mod usb;

/// Firmware name and version, as `info` shows it.
pub const FIRMWARE: &str = concat!("micrornn-firmware ", env!("CARGO_PKG_VERSION"));
