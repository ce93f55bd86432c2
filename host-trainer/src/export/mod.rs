//! What goes out to disk for a board.
//!
//! In: float weights (a checkpoint's best). Out: the int8 `.mrnn` model file
//! ([`quantize`]), and the same bytes as Intel HEX at a board's partition address
//! ([`ihex`]). Every output file of the trainer (model, checkpoint, validation list) is
//! written with [`atomic::write_atomic`], so a crash never leaves half a file.

pub mod atomic;
pub mod ihex;
pub mod quantize;
