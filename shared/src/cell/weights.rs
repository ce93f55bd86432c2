//! Float weights of a whole network, borrowed row-major slices: the layout the trainer
//! keeps its parameters in, so they feed `shared`'s float inference as they are.
//!
//! For `G = cell.gates()` gate blocks of `H` rows each (order: RNN `h`; GRU `r, z, n`;
//! LSTM `i, f, g, o`), and `In` = the layer's input width:
//!
//! | tensor | shape | meaning |
//! |---|---|---|
//! | `emb` | (V, E) | row `t` = embedding of token `t`; empty when `embed == 0` |
//! | layer 0 `w_x`, one-hot (`embed == 0`) | (V, G·H) | row `t` = input term of token `t` (a lookup) |
//! | layer `l` `w_x`, otherwise | (G·H, In) | row `r` = input weights of gate row `r`; `In = E` for layer 0, `H` above |
//! | `b_x` | (G·H,) | input bias |
//! | `w_h` | (G·H, H) | row `r` = recurrent weights of gate row `r` |
//! | `b_h` | (G·H,) | recurrent bias |
//! | `w_out` | (O, H) | row `k` = output weights of output `k` (`O` = V, or the labels) |
//! | `b_out` | (O,) | output bias |
//!
//! The cells (`x` = the layer's input term `W_x·x + b_x` split in gate blocks, `a` =
//! `W_h·h + b_h` likewise, `σ` the logistic function):
//! - RNN: `h' = tanh(x_h + a_h)`;
//! - GRU: `r = σ(x_r + a_r)`, `z = σ(x_z + a_z)`, `n = tanh(x_n + r ⊙ a_n)`,
//!   `h' = (1 - z) ⊙ n + z ⊙ h`;
//! - LSTM: `i, f, o = σ(x + a)`, `g = tanh(x_g + a_g)`, `c' = f ⊙ c + i ⊙ g`,
//!   `h' = o ⊙ tanh(c')`.
//!
//! Every state starts at zero. Layer `l > 0` reads layer `l - 1`'s new `h`; the output
//! layer reads the top layer's `h`.

use crate::format::CellKind;

/// Most stacked layers a model may have.
pub const MAX_LAYERS: usize = 4;

/// The float tensors of one recurrent layer (see the module table).
#[derive(Clone, Copy, Debug, Default)]
pub struct FloatLayer<'a> {
    /// Input weights: (V, G·H) token-major for a one-hot layer 0, else (G·H, In).
    pub w_x: &'a [f32],
    /// (G·H,) input bias.
    pub b_x: &'a [f32],
    /// (G·H, H) recurrent weights.
    pub w_h: &'a [f32],
    /// (G·H,) recurrent bias.
    pub b_h: &'a [f32],
}

/// The float tensors and sizes of a whole network (see the module table).
#[derive(Clone, Copy, Debug)]
pub struct FloatWeights<'a> {
    /// Recurrent cell of every layer.
    pub cell: CellKind,
    /// Number of tokens `V`.
    pub vocab: usize,
    /// Hidden units `H` per layer.
    pub hidden: usize,
    /// Embedding width `E`; 0 = one-hot input.
    pub embed: usize,
    /// Outputs `O`: `V` for generation, the number of labels for classification; 0 for a
    /// stack without output layer (`w_out`, `b_out` empty: a seq2seq model's encoders and
    /// decoder).
    pub outputs: usize,
    /// Number of layers in use (1..=[`MAX_LAYERS`]); `layers[n_layers..]` are empty.
    pub n_layers: usize,
    /// (V, E) embedding; empty when `embed == 0`.
    pub emb: &'a [f32],
    /// The recurrent layers, bottom first.
    pub layers: [FloatLayer<'a>; MAX_LAYERS],
    /// (O, H) output weights.
    pub w_out: &'a [f32],
    /// (O,) output bias.
    pub b_out: &'a [f32],
}

impl FloatWeights<'_> {
    /// Input width of layer `l`: `V` (one-hot), `E` (embedding) or `H`.
    pub fn input_width(&self, l: usize) -> usize {
        match (l, self.embed) {
            (0, 0) => self.vocab,
            (0, e) => e,
            _ => self.hidden,
        }
    }

    /// The expected length of every tensor, in the flat order
    /// `emb, (w_x, b_x, w_h, b_h) per layer, w_out, b_out`.
    fn expected_lens(&self) -> impl Iterator<Item = usize> + '_ {
        let gh = self.cell.gates() * self.hidden;
        let layers = (0..self.n_layers)
            .flat_map(move |l| [self.input_width(l) * gh, gh, self.hidden * gh, gh]);
        core::iter::once(self.vocab * self.embed)
            .chain(layers)
            .chain([self.outputs * self.hidden, self.outputs])
    }

    /// Whether every slice has its expected length and the sizes are in range.
    pub fn is_consistent(&self) -> bool {
        let layers = self.layers[..self.n_layers.min(MAX_LAYERS)]
            .iter()
            .flat_map(|l| [l.w_x.len(), l.b_x.len(), l.w_h.len(), l.b_h.len()]);
        let found = core::iter::once(self.emb.len())
            .chain(layers)
            .chain([self.w_out.len(), self.b_out.len()]);
        (1..=MAX_LAYERS).contains(&self.n_layers)
            && self.hidden > 0
            && self.layers[self.n_layers..]
                .iter()
                .all(|l| l.w_x.is_empty())
            && found.eq(self.expected_lens())
    }
}
