//! Running a trained model on the host.
//!
//! In: a `.mrnn` model file (run with the chip's integer arithmetic) or a `.ckpt`
//! checkpoint (run in float), opened by [`host_model`], and names. Out: generated
//! names, a class per name, and scores: cross-entropy per character of a generator
//! ([`generator`]), accuracy and cross-entropy of a classifier ([`classifier`]),
//! accuracy, precision, recall and confusion of a word classifier ([`messages`]);
//! pronunciations of an encoder–decoder ([`seq2seq`], [`beam`]) and their phoneme and
//! word error rates ([`phoneme_errors`]).

pub mod beam;
pub mod classifier;
pub mod generator;
pub mod host_model;
pub mod messages;
pub mod phoneme_errors;
pub mod seq2seq;
