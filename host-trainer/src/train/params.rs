//! The float parameters of a recurrent network, as one flat `Vec<f32>`.
//!
//! One flat vector keeps the optimizer, gradient clipping and the reduction of
//! per-thread gradients trivial: they are loops over `&[f32]`. [`Dims`] knows
//! where each tensor starts; [`Dims::split`] gives the named read-only view
//! (`shared`'s [`FloatWeights`], so the trainer's parameters feed `shared`'s
//! float inference as they are) and [`Dims::split_mut`] a mutable one.
//!
//! Layout, row-major, in this order (`G` = gate blocks of the cell, `In` = the
//! layer's input width; see `micrornn::cell::weights` for the math):
//!
//! | tensor | shape | meaning |
//! |---|---|---|
//! | `emb` | (V, E) | token embeddings; empty when `E = 0` (one-hot input) |
//! | per layer `w_x` | (V, G·H) one-hot layer 0, else (G·H, In) | input weights |
//! | per layer `b_x` | (G·H,) | input bias |
//! | per layer `w_h` | (G·H, H) | recurrent weights |
//! | per layer `b_h` | (G·H,) | recurrent bias |
//! | `w_out` | (O, H) | output weights |
//! | `b_out` | (O,) | output bias |

use micrornn::cell::{FloatLayer, FloatWeights, MAX_LAYERS};
use micrornn::format::{CellKind, Task};
use serde::{Deserialize, Serialize};

/// Everything that fixes the shape of a network's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dims {
    /// Recurrent cell of every layer.
    pub cell: CellKind,
    /// What the output layer predicts: the next token, or one label per sequence.
    pub task: Task,
    /// Stacked recurrent layers (1..=[`MAX_LAYERS`]).
    pub layers: usize,
    /// Hidden units `H` per layer.
    pub hidden: usize,
    /// Embedding width `E`; 0 = one-hot input.
    pub embed: usize,
    /// Number of tokens `V` (distinct characters + start + end).
    pub vocab: usize,
    /// Outputs `O`: `V` for generation, the number of labels for classification.
    pub outputs: usize,
}

/// Mutable views of one layer's tensors (see [`FloatLayer`]).
#[derive(Debug, Default)]
pub struct LayerMut<'a> {
    /// Input weights.
    pub w_x: &'a mut [f32],
    /// Input bias.
    pub b_x: &'a mut [f32],
    /// Recurrent weights.
    pub w_h: &'a mut [f32],
    /// Recurrent bias.
    pub b_h: &'a mut [f32],
}

/// Mutable named views into a flat parameter (or gradient) vector.
#[derive(Debug)]
pub struct ParamsMut<'a> {
    /// (V, E) embedding; empty when `embed == 0`.
    pub emb: &'a mut [f32],
    /// The recurrent layers, bottom first; `layers[dims.layers..]` are empty.
    pub layers: [LayerMut<'a>; MAX_LAYERS],
    /// (O, H) output weights.
    pub w_out: &'a mut [f32],
    /// (O,) output bias.
    pub b_out: &'a mut [f32],
}

impl Dims {
    /// A next-token model over `vocab` tokens: one-hot input, `outputs = vocab`.
    pub fn generate(cell: CellKind, layers: usize, hidden: usize, vocab: usize) -> Dims {
        Dims {
            cell,
            task: Task::Generate,
            layers,
            hidden,
            embed: 0,
            vocab,
            outputs: vocab,
        }
    }

    /// Gate blocks per layer (`G`).
    pub fn gates(&self) -> usize {
        self.cell.gates()
    }

    /// How characters enter the network, for messages: `one-hot input` or `embedding E`.
    pub fn input_name(&self) -> String {
        if self.embed == 0 {
            "one-hot input".to_string()
        } else {
            format!("embedding {}", self.embed)
        }
    }

    /// Input width of layer `l`: `V` (one-hot), `E` (embedding) or `H`.
    pub fn input_width(&self, l: usize) -> usize {
        match (l, self.embed) {
            (0, 0) => self.vocab,
            (0, e) => e,
            _ => self.hidden,
        }
    }

    /// Whether the sizes can make a network: an error message naming the bad size if not.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_LAYERS).contains(&self.layers) {
            return Err(format!("layers must be in 1..={MAX_LAYERS}"));
        }
        if self.hidden == 0 || self.vocab == 0 || self.outputs == 0 {
            return Err(format!("empty model dimensions {self:?}"));
        }
        if self.vocab > 1 << 16 || self.outputs > 1 << 16 {
            return Err(format!(
                "vocabulary or outputs beyond u16 tokens in {self:?}"
            ));
        }
        if self.task == Task::Generate && self.outputs != self.vocab {
            return Err("a generate model has one output per token".into());
        }
        Ok(())
    }

    /// Lengths of every tensor in layout order: `emb`, `(w_x, b_x, w_h, b_h)` per
    /// layer, `w_out`, `b_out`.
    fn lens(&self) -> impl Iterator<Item = usize> + '_ {
        let gh = self.gates() * self.hidden;
        let layers = (0..self.layers)
            .flat_map(move |l| [self.input_width(l) * gh, gh, self.hidden * gh, gh]);
        std::iter::once(self.vocab * self.embed)
            .chain(layers)
            .chain([self.outputs * self.hidden, self.outputs])
    }

    /// Total number of parameters.
    pub fn param_count(&self) -> usize {
        self.lens().sum()
    }

    /// Splits a flat vector of `param_count()` floats into named views.
    ///
    /// Panics if `flat` has the wrong length or `layers` exceeds [`MAX_LAYERS`]
    /// (programming errors, never user input).
    pub fn split<'a>(&self, flat: &'a [f32]) -> FloatWeights<'a> {
        assert_eq!(flat.len(), self.param_count(), "parameter vector length");
        assert!(self.layers <= MAX_LAYERS, "too many layers");
        let mut lens = self.lens();
        let mut rest = flat;
        let mut take = || {
            let (a, b) = rest.split_at(lens.next().expect("a length per tensor"));
            rest = b;
            a
        };
        let emb = take();
        let mut layers = [FloatLayer::default(); MAX_LAYERS];
        for layer in &mut layers[..self.layers] {
            *layer = FloatLayer {
                w_x: take(),
                b_x: take(),
                w_h: take(),
                b_h: take(),
            };
        }
        let (w_out, b_out) = (take(), take());
        FloatWeights {
            cell: self.cell,
            vocab: self.vocab,
            hidden: self.hidden,
            embed: self.embed,
            outputs: self.outputs,
            n_layers: self.layers,
            emb,
            layers,
            w_out,
            b_out,
        }
    }

    /// Mutable version of [`Dims::split`].
    pub fn split_mut<'a>(&self, flat: &'a mut [f32]) -> ParamsMut<'a> {
        assert_eq!(flat.len(), self.param_count(), "parameter vector length");
        assert!(self.layers <= MAX_LAYERS, "too many layers");
        let mut lens = self.lens();
        let mut rest = flat;
        let mut take = || {
            let (a, b) = std::mem::take(&mut rest).split_at_mut(lens.next().expect("a length"));
            rest = b;
            a
        };
        let emb = take();
        let mut layers: [LayerMut<'a>; MAX_LAYERS] = Default::default();
        for layer in &mut layers[..self.layers] {
            *layer = LayerMut {
                w_x: take(),
                b_x: take(),
                w_h: take(),
                b_h: take(),
            };
        }
        let (w_out, b_out) = (take(), take());
        ParamsMut {
            emb,
            layers,
            w_out,
            b_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_parameter_once_and_matches_shared_layout() {
        let dims = Dims {
            cell: CellKind::Gru,
            task: Task::Classify,
            layers: 2,
            hidden: 3,
            embed: 2,
            vocab: 5,
            outputs: 4,
        };
        let gh = 9;
        let want = 5 * 2 + (2 * gh + gh + 3 * gh + gh) + (3 * gh + gh + 3 * gh + gh) + 4 * 3 + 4;
        assert_eq!(dims.param_count(), want);
        let flat: Vec<f32> = (0..want).map(|i| i as f32).collect();
        let p = dims.split(&flat);
        assert!(p.is_consistent());
        assert_eq!(p.emb[9], 9.0);
        assert_eq!(p.layers[0].w_x[0], 10.0);
        assert_eq!(p.layers[1].w_x.len(), 3 * gh);
        let b = (want - 4) as f32;
        assert_eq!(p.b_out, &[b, b + 1.0, b + 2.0, b + 3.0]);
        let mut copy = flat.clone();
        let m = dims.split_mut(&mut copy);
        assert_eq!(m.layers[1].b_h.len(), gh);
        assert_eq!(m.layers[1].b_h[0], p.layers[1].b_h[0]);
        assert!(m.layers[2].w_x.is_empty());
        assert_eq!(m.w_out[0], p.w_out[0]);
    }

    #[test]
    fn check_refuses_bad_sizes() {
        let ok = Dims::generate(CellKind::Lstm, 4, 8, 10);
        assert!(ok.check().is_ok());
        assert!(Dims { layers: 5, ..ok }.check().is_err());
        assert!(Dims { layers: 0, ..ok }.check().is_err());
        assert!(Dims { outputs: 3, ..ok }.check().is_err());
        assert!(Dims { hidden: 0, ..ok }.check().is_err());
    }
}
