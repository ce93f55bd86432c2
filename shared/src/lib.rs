//! Character-level recurrent models for microcontrollers: a trained model file in flash,
//! an integer-only network in a few hundred bytes of RAM, names generated or classified
//! on a Cortex-M0 as on the host.
//!
//! `#![no_std]`, no `alloc`, no floating point on the device's path. A model file
//! (`.mrnn`, written by the `micrornn` trainer) is validated once and read in place:
//! the weights stay in flash, the network runs in an arena the caller owns, sized at
//! compile time with [`arena_words`].
//!
//! # Example
//!
//! From the bytes of a model file to a generated name:
//!
//! ```
//! use micrornn::{arena_words, generate, CellKind, Model, NetQ, Rng, Settings};
//!
//! // A 1-layer RNN of 48 units trained on names (on a device: `include_bytes!` it).
//! let bytes = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/names.mrnn"));
//! // RAM: the network's arena (any model up to 1 layer of 64 units) and one output per token.
//! let mut arena = [0i32; arena_words(CellKind::Rnn, 1, 64)];
//! let mut logits = [0i32; 64];
//!
//! let model = Model::load(bytes)?; // every byte checked, nothing copied
//! let mut net = NetQ::new(&model, &mut arena)?;
//! let mut rng = Rng::new(1); // the same seed gives the same names
//! let mut name = heapless::String::<24>::new();
//! generate(&mut net, &model.vocab, &Settings::default(), "", &mut rng, &mut logits, |c| {
//!     let _ = name.push(c);
//! })?;
//! assert!(!name.is_empty() && name.chars().all(|c| model.vocab.token(c).is_ok()));
//! # Ok::<(), micrornn::Error>(())
//! ```
//!
//! A classifier (a model trained with `--task classify`) answers with [`classify`]
//! instead. `examples/embedded_name.rs` has the same steps as a `no_std` Cortex-M program
//! (the model in flash with `include_bytes!`), to copy into a firmware.
//!
//! # What is here
//!
//! - [`Model`]: a validated model borrowed from its file ([`format`] describes the file);
//! - [`NetQ`]: the integer network over a caller's arena ([`arena_words`] sizes it);
//! - [`generate`] with [`Settings`] and [`Rng`], [`classify`]: what a model is for;
//! - [`seq2seq`]: encoder–decoders — a word's spelling in, its pronunciation out
//!   ([`seq2seq::Seq2seqQ`], [`seq2seq::greedy`], [`seq2seq::write_line`]; feature
//!   `seq2seq`, on by default);
//! - [`words`]: word classifiers — the tokenizer, the word vocabulary of a model file,
//!   [`words::classify_text`] (feature `words`, on by default);
//! - [`Error`]: every way a model, a setting or an input can be wrong, with a one-line
//!   message ([`Error::write_to`] writes it without `core::fmt`, through [`Text`]);
//! - [`session`]: the serial command loop a board runs (`gen`, `classify`, `info`,
//!   `upload`, …), over [`store`], a model store in flash that survives a power cut
//!   during an update, and [`upload`], the line protocol that fills it.
//!
//! The other modules (`cell`, `fixed`, `vocab`, `sampler`, …) are the trainer's and the
//! firmware's, hidden from these docs: not part of the API.
#![no_std]
#![deny(missing_docs)]

pub mod format;
#[cfg(feature = "seq2seq")]
pub mod seq2seq;
pub mod session;
pub mod store;
pub mod upload;
pub mod words;

// ---- internals: public for the trainer, the tests and the firmware, not documented ----
#[doc(hidden)]
pub mod cell;
#[doc(hidden)]
pub mod classify;
mod error;
#[doc(hidden)]
pub mod fixed;
#[doc(hidden)]
pub mod generate;
mod kernels;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod protocol;
#[doc(hidden)]
pub mod rng;
#[doc(hidden)]
pub mod sampler;
mod tensor;
#[doc(hidden)]
pub mod text;
#[doc(hidden)]
pub mod vocab;

pub use cell::{arena_words, Net, NetQ};
pub use classify::{classify, Verdict};
pub use error::{Error, Result};
pub use format::{CellKind, Task};
pub use generate::generate;
pub use model::{InputLayout, Labels, Model};
pub use protocol::GenSettings;
pub use rng::Rng;
pub use sampler::Settings;
pub use text::Text;
pub use vocab::Vocab;
