//! Training: from a data file and a configuration to a checkpoint.
//!
//! In: a data file and a [`config::TrainConfig`] (or a checkpoint to resume).
//! Out: a `.ckpt` checkpoint ([`checkpoint`]) holding the best float weights, the
//! optimizer state and the loss history, and optionally the exported `.mrnn` model.
//!
//! [`run_data`] loads and splits the run's data; [`run`] is the loop (Adam, cosine
//! schedule, validation each epoch, best-epoch keeping, resume); [`params`] lays the
//! float weights out as one flat vector. The gradient of each batch comes from
//! [`crate::engine`].

pub mod checkpoint;
pub mod config;
pub mod params;
pub mod run;
pub mod run_data;
pub mod seq2seq;
pub mod seq2seq_ckpt;
pub mod seq2seq_int8;
