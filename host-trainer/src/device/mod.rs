//! Talking to a board, real or emulated.
//!
//! In: a `.mrnn` model and a board name. Out: the board's facts ([`boards`]: where its
//! model partition is, what fits), a QEMU machine booted with the model in its
//! partition ([`emulator`]), and the reply lines of the serial protocol ([`client`]).

pub mod boards;
pub mod client;
pub mod emulator;
