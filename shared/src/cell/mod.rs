//! Recurrent cells: one file per cell, each with its integer and float step.

pub mod rnn;
pub mod weights;

pub use weights::{FloatLayer, FloatWeights, MAX_LAYERS};

/// A network that reads one token at a time and produces next-token logits in Q16.
///
/// Both the integer path and the float path implement it, so generation and sampling
/// are written once.
pub trait Net {
    /// Number of tokens (length of the logits).
    fn vocab_size(&self) -> usize;
    /// Sets the hidden state to zero, as at the start of a name.
    fn reset(&mut self);
    /// Feeds `token` (< `vocab_size()`) and writes `vocab_size()` Q16 logits to `logits`.
    fn step(&mut self, token: u16, logits: &mut [i32]);
}
