//! The laptop side of micrornn: data, training, evaluation, quantization, export, generation.

pub mod batch;
pub mod engine;
pub mod params;
