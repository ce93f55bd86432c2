//! What goes out to disk for a board.
//!
//! In: float weights (a checkpoint's best), a model file, a firmware ELF. Out: the int8
//! `.mrnn` model file ([`quantize`]; an encoder–decoder: [`seq2seq`]); a model placed in a board's partition as its model
//! store would leave it ([`partition`]); the files a board's owner drops onto it
//! ([`board_file`]): UF2 ([`uf2`]), Intel HEX ([`ihex`]) or raw binary ([`bin`]), all
//! written from one memory [`image`], firmware read from its ELF ([`elf`]). Every output
//! file of the trainer (model, checkpoint, validation list) is written with
//! [`atomic::write_atomic`], so a crash never leaves half a file.

pub mod atomic;
pub mod bin;
pub mod board_file;
pub mod elf;
pub mod ihex;
pub mod image;
pub mod partition;
pub mod quantize;
pub mod seq2seq;
pub mod uf2;
