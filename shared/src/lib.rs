//! micrornn: character-level recurrent models for microcontrollers.
//!
//! `#![no_std]`, no `alloc`: everything here runs on a Cortex-M0 as well as on the host.
//!
//! - [`vocab`]: characters ↔ tokens (start, end, sorted characters);
//! - [`format`] and [`model`]: the `.mrnn` model file, validated and borrowed zero-copy;
//! - [`cell`]: the recurrent cells (RNN, GRU, LSTM), stacked into an integer-only network
//!   ([`cell::NetQ`]) and a float one ([`cell::NetF`]);
//! - [`fixed`]: fixed-point formats, requantization, tanh and exp without floating point;
//! - [`rng`], [`sampler`], [`generate`]: seeded sampling with temperature, top-k, min-p, prefix;
//! - [`protocol`] and [`session`]: the serial command loop, generic over byte I/O;
//! - [`text`]: plain text without `core::fmt` (the session's replies, error messages).
#![no_std]
#![deny(missing_docs)]

pub mod cell;
pub mod classify;
pub mod error;
pub mod fixed;
pub mod format;
pub mod generate;
pub mod kernels;
pub mod model;
pub mod protocol;
pub mod rng;
pub mod sampler;
pub mod session;
pub mod store;
pub mod tensor;
pub mod text;
pub mod upload;
pub mod vocab;

pub use cell::Net;
pub use error::{Error, Result};
pub use model::Model;
