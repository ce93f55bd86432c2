//! Batched training engine.
