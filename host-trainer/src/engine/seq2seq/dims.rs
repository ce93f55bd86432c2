//! The shape of an encoder–decoder and its flat float parameter layout.
//!
//! Flat order (the contract between trainer, `shared`'s float path and the export):
//! `enc_fwd [emb (V_in,E); per layer w_x (G·He, In), b_x, w_h (G·He, He), b_h]`,
//! `enc_bwd [same]`, `dec [emb (P,E); per layer w_x (G·H, In), b_x, w_h (G·H, H), b_h]`,
//! `w_out (P, 2H)`, `b_out (P)`; `He = H / 2`, `P` = phonemes + 1 (the boundary), `In`
//! = `E` for layer 0 and the stack's hidden width above. Per layer the tensors mean
//! exactly what they mean in `micrornn::cell::weights` (gate order, PyTorch equations).

use micrornn::cell::{FloatLayer, MAX_LAYERS};
use micrornn::format::CellKind;
use serde::{Deserialize, Serialize};

use crate::train::params::LayerMut;

/// Everything that fixes the shape of an encoder–decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seq2seqDims {
    /// Recurrent cell of every layer of all three stacks.
    pub cell: CellKind,
    /// Layers `L` of each stack.
    pub layers: usize,
    /// Decoder width `H` (even); each encoder direction has `H / 2` units.
    pub hidden: usize,
    /// Embedding width `E` of the encoder and decoder inputs (at least 1).
    pub embed: usize,
    /// Character tokens `V_in` (the char vocabulary's tokens, START and END included).
    pub vocab: usize,
    /// Phonemes `N`; the decoder has `P = N + 1` tokens (the last is the boundary).
    pub phonemes: usize,
}

/// The shape of one recurrent stack (an encoder direction or the decoder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StackDims {
    /// Cell of every layer.
    pub cell: CellKind,
    /// Layers.
    pub layers: usize,
    /// Units per layer.
    pub hidden: usize,
    /// Embedding width.
    pub embed: usize,
    /// Tokens of the embedding table.
    pub vocab: usize,
}

impl StackDims {
    /// Gate rows `G·H`.
    pub fn gh(&self) -> usize {
        self.cell.gates() * self.hidden
    }

    /// Input width of layer `l`.
    pub fn input_width(&self, l: usize) -> usize {
        if l == 0 {
            self.embed
        } else {
            self.hidden
        }
    }

    /// Tensor lengths in order: `emb`, then `w_x, b_x, w_h, b_h` per layer.
    fn lens(&self) -> impl Iterator<Item = usize> + '_ {
        let gh = self.gh();
        std::iter::once(self.vocab * self.embed).chain(
            (0..self.layers)
                .flat_map(move |l| [self.input_width(l) * gh, gh, self.hidden * gh, gh]),
        )
    }

    /// Parameters of the stack.
    pub fn param_count(&self) -> usize {
        self.lens().sum()
    }
}

/// Read-only views of one stack's tensors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StackWeights<'a> {
    /// (V, E) embedding.
    pub emb: &'a [f32],
    /// Layers, bottom first; `layers[L..]` are empty.
    pub layers: [FloatLayer<'a>; MAX_LAYERS],
}

/// Mutable views of one stack's tensors (a gradient).
#[derive(Debug)]
pub(crate) struct StackGrads<'a> {
    /// (V, E) embedding.
    pub emb: &'a mut [f32],
    /// Layers, bottom first.
    pub layers: [LayerMut<'a>; MAX_LAYERS],
}

/// Read-only views of every tensor of an encoder–decoder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Weights<'a> {
    /// Forward encoder.
    pub fwd: StackWeights<'a>,
    /// Backward encoder.
    pub bwd: StackWeights<'a>,
    /// Decoder.
    pub dec: StackWeights<'a>,
    /// (P, 2H) output weights: row k = `[H on h ; H on c]`.
    pub w_out: &'a [f32],
    /// (P,) output bias.
    pub b_out: &'a [f32],
}

/// Mutable views of every tensor (a gradient).
#[derive(Debug)]
pub(crate) struct Grads<'a> {
    /// Forward encoder.
    pub fwd: StackGrads<'a>,
    /// Backward encoder.
    pub bwd: StackGrads<'a>,
    /// Decoder.
    pub dec: StackGrads<'a>,
    /// (P, 2H).
    pub w_out: &'a mut [f32],
    /// (P,).
    pub b_out: &'a mut [f32],
}

impl Seq2seqDims {
    /// Decoder tokens `P` (phonemes + boundary), inputs and outputs alike.
    pub fn tokens_out(&self) -> usize {
        self.phonemes + 1
    }

    /// The boundary token: the decoder's first input and its end-of-word output.
    pub fn boundary(&self) -> u16 {
        self.phonemes as u16
    }

    /// One encoder direction.
    pub(crate) fn encoder(&self) -> StackDims {
        StackDims {
            cell: self.cell,
            layers: self.layers,
            hidden: self.hidden / 2,
            embed: self.embed,
            vocab: self.vocab,
        }
    }

    /// The decoder.
    pub(crate) fn decoder(&self) -> StackDims {
        StackDims {
            cell: self.cell,
            layers: self.layers,
            hidden: self.hidden,
            embed: self.embed,
            vocab: self.tokens_out(),
        }
    }

    /// Total number of parameters.
    pub fn param_count(&self) -> usize {
        let p = self.tokens_out();
        2 * self.encoder().param_count() + self.decoder().param_count() + p * 2 * self.hidden + p
    }

    /// Whether the sizes make a model: a message naming the bad size if not.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_LAYERS).contains(&self.layers) {
            return Err(format!("layers must be in 1..={MAX_LAYERS}"));
        }
        if self.hidden < 2 || self.hidden % 2 != 0 {
            return Err(format!(
                "a seq2seq model's hidden width is even (two encoder halves), not {}",
                self.hidden
            ));
        }
        if self.embed == 0 {
            return Err("a seq2seq model needs an embedding (--embed 1 or more)".into());
        }
        if self.vocab == 0 || self.phonemes == 0 || self.tokens_out() > 1 << 16 {
            return Err(format!("bad vocabulary sizes in {self:?}"));
        }
        Ok(())
    }

    /// Splits a flat vector of [`Seq2seqDims::param_count`] floats into named views.
    ///
    /// Panics if `flat` has the wrong length.
    pub(crate) fn split<'a>(&self, flat: &'a [f32]) -> Weights<'a> {
        assert_eq!(flat.len(), self.param_count(), "parameter vector length");
        let mut rest = flat;
        let mut take = |n: usize| {
            let (a, b) = rest.split_at(n);
            rest = b;
            a
        };
        let mut stack = |d: StackDims| {
            let mut lens = d.lens();
            let emb = take(lens.next().expect("emb"));
            let mut layers = [FloatLayer::default(); MAX_LAYERS];
            for layer in &mut layers[..d.layers] {
                let mut t = || take(lens.next().expect("a tensor"));
                *layer = FloatLayer {
                    w_x: t(),
                    b_x: t(),
                    w_h: t(),
                    b_h: t(),
                };
            }
            StackWeights { emb, layers }
        };
        let (fwd, bwd, dec) = (
            stack(self.encoder()),
            stack(self.encoder()),
            stack(self.decoder()),
        );
        let p = self.tokens_out();
        let w_out = take(p * 2 * self.hidden);
        let b_out = take(p);
        Weights {
            fwd,
            bwd,
            dec,
            w_out,
            b_out,
        }
    }

    /// Mutable version of [`Seq2seqDims::split`].
    pub(crate) fn split_mut<'a>(&self, flat: &'a mut [f32]) -> Grads<'a> {
        assert_eq!(flat.len(), self.param_count(), "parameter vector length");
        let mut rest = flat;
        let mut take = |n: usize| {
            let (a, b) = std::mem::take(&mut rest).split_at_mut(n);
            rest = b;
            a
        };
        let mut stack = |d: StackDims| {
            let mut lens = d.lens();
            let emb = take(lens.next().expect("emb"));
            let mut layers: [LayerMut<'a>; MAX_LAYERS] = Default::default();
            for layer in &mut layers[..d.layers] {
                let (wx, bx, wh, bh) = (
                    lens.next().expect("w_x"),
                    lens.next().expect("b_x"),
                    lens.next().expect("w_h"),
                    lens.next().expect("b_h"),
                );
                *layer = LayerMut {
                    w_x: take(wx),
                    b_x: take(bx),
                    w_h: take(wh),
                    b_h: take(bh),
                };
            }
            StackGrads { emb, layers }
        };
        let fwd = stack(self.encoder());
        let bwd = stack(self.encoder());
        let dec = stack(self.decoder());
        let p = self.tokens_out();
        let w_out = take(p * 2 * self.hidden);
        let b_out = take(p);
        Grads {
            fwd,
            bwd,
            dec,
            w_out,
            b_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_parameter_in_the_plan_order() {
        let d = Seq2seqDims {
            cell: CellKind::Gru,
            layers: 2,
            hidden: 4,
            embed: 3,
            vocab: 5,
            phonemes: 6,
        };
        // enc: emb 15; l0 w_x 6*3, b_x 6, w_h 6*2, b_h 6; l1 w_x 6*2, 6, 12, 6.
        let enc = 15 + (18 + 6 + 12 + 6) + (12 + 6 + 12 + 6);
        // dec: emb 7*3; l0 w_x 12*3, 12, 12*4, 12; l1 12*4, 12, 48, 12.
        let dec = 21 + (36 + 12 + 48 + 12) + (48 + 12 + 48 + 12);
        let want = 2 * enc + dec + 7 * 8 + 7;
        assert_eq!(d.param_count(), want);
        let flat: Vec<f32> = (0..want).map(|i| i as f32).collect();
        let w = d.split(&flat);
        assert_eq!(w.bwd.emb[0], enc as f32);
        assert_eq!(w.dec.emb[0], (2 * enc) as f32);
        assert_eq!(w.dec.layers[1].b_h.len(), 12);
        assert_eq!(w.b_out[6], (want - 1) as f32);
        let mut copy = flat.clone();
        let g = d.split_mut(&mut copy);
        assert_eq!(g.dec.layers[1].w_x[0], w.dec.layers[1].w_x[0]);
        assert_eq!(g.w_out.len(), 56);
        assert!(d.check().is_ok());
        assert!(Seq2seqDims { hidden: 5, ..d }.check().is_err());
        assert!(Seq2seqDims { embed: 0, ..d }.check().is_err());
    }
}
