//! Recurrent networks: one file per cell (its integer chunk step and its float layer
//! step), the shared gate machinery, and the two networks that chain layers and the
//! output layer: [`NetQ`] (integer-only, the device's) and [`NetF`] (float).

mod gate_math;
mod gates;
mod requant;

mod float;
mod gru;
mod lstm;
mod network;
mod rnn;
pub mod weights;

#[cfg(test)]
mod reference;

pub use float::{f32_to_q16, NetF};
pub use network::{arena_words, NetQ};
pub use weights::{FloatLayer, FloatWeights, MAX_LAYERS};

/// A network that reads one token at a time and gives Q16 outputs (next-token logits for
/// generation, label scores for classification) for its top layer's state.
///
/// The integer and the float networks implement it, so generation, classification and
/// evaluation are written once.
pub trait Net {
    /// Number of outputs (the length [`Net::output`] writes).
    fn outputs(&self) -> usize;
    /// Number of tokens [`Net::feed`] accepts (its model's vocabulary size), so that
    /// [`crate::generate`] and [`crate::classify`] refuse a vocabulary that does not fit
    /// instead of feeding it. The default, no limit, is for wrappers of a network.
    fn inputs(&self) -> usize {
        usize::MAX
    }
    /// Sets every state to zero, as at the start of a sequence.
    fn reset(&mut self);
    /// Feeds `token`: advances every layer, not the output layer.
    ///
    /// # Panics
    ///
    /// If `token` is not below [`Net::inputs`].
    fn feed(&mut self, token: u16);
    /// Writes the `outputs()` Q16 outputs of the top layer's state to `out`.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than [`Net::outputs`].
    fn output(&mut self, out: &mut [i32]);
    /// [`Net::feed`] then [`Net::output`].
    ///
    /// # Panics
    ///
    /// As [`Net::feed`] and [`Net::output`].
    fn step(&mut self, token: u16, out: &mut [i32]) {
        self.feed(token);
        self.output(out);
    }
}
