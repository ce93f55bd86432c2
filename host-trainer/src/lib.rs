//! The laptop side of micrornn: data, training, evaluation, quantization, export, generation.

pub mod batch;
pub mod boards;
pub mod checkpoint;
pub mod client;
pub mod data;
pub mod emulator;
pub mod engine;
pub mod eval;
pub mod eval_classify;
pub mod examples;
pub mod fsutil;
pub mod host_model;
pub mod ihex;
pub mod labelled;
pub mod params;
pub mod quantize;
pub mod train;
pub mod train_config;
pub mod train_data;
