//! Running a trained model on the host.
//!
//! In: a `.mrnn` model file (run with the chip's integer arithmetic) or a `.ckpt`
//! checkpoint (run in float), opened by [`host_model`], and names. Out: generated
//! names, a class per name, and scores: cross-entropy per character of a generator
//! ([`generator`]), accuracy and cross-entropy of a classifier ([`classifier`]).

pub mod classifier;
pub mod generator;
pub mod host_model;
