//! Talking to a board, real or emulated.
//!
//! In: a `.mrnn` model and a board name. Out: the board's facts ([`boards`]: where its
//! model partition is, what fits), a QEMU machine booted with the model in its
//! partition ([`emulator`]), the reply lines of the serial protocol ([`client`]), a
//! model put into the device's flash over that line ([`upload`]), a real board's firmware
//! built ([`build`]) and its serial port found ([`ports`]).

pub mod boards;
pub mod build;
pub mod client;
pub mod emulator;
pub mod ports;
pub mod stop;
pub mod upload;
