//! Float weights of a seq2seq model, borrowed from one flat parameter vector (the
//! trainer's), in this order (`G` gate blocks, `L` layers, `H` decoder width, `He = H / 2`,
//! `E` embedding width, `V` input tokens, `P` decoder tokens):
//!
//! ```text
//! enc_fwd: emb (V, E); per layer w_x (G·He, In), b_x (G·He), w_h (G·He, He), b_h (G·He)
//! enc_bwd: the same
//! dec:     emb (P, E); per layer w_x (G·H, In),  b_x (G·H),  w_h (G·H, H),   b_h (G·H)
//! w_out (P, 2H): row k = [H weights on h_t ; H weights on the context c_t]
//! b_out (P)
//! ```
//!
//! `In` = E for layer 0, the stack's width above. Each stack's tensors mean exactly what
//! they mean in [`crate::cell::weights`] (gate order, PyTorch's equations).

use crate::cell::{FloatLayer, FloatWeights, MAX_LAYERS};
use crate::error::{Error, Result};
use crate::format::CellKind;
use crate::model::{MAX_HIDDEN, MAX_LABELS};

/// One stack of a seq2seq model: [`FloatWeights`] without output layer (`outputs` 0,
/// `w_out` and `b_out` empty), `vocab` its input tokens, `embed` > 0.
pub type FloatStack<'a> = FloatWeights<'a>;

/// The sizes that fix every tensor of a seq2seq model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seq2seqShape {
    /// Recurrent cell of every layer of the three stacks.
    pub cell: CellKind,
    /// Layers per stack, 1..=4.
    pub layers: usize,
    /// The decoder's width `H` (even); each encoder direction has `H / 2`.
    pub hidden: usize,
    /// Embedding width `E` of the three stacks, at least 1.
    pub embed: usize,
    /// Input tokens `V`: the spelling's characters + 2 (start, end; never read).
    pub in_tokens: usize,
    /// Decoder tokens `P`: the phonemes + 1 (the boundary).
    pub out_tokens: usize,
}

impl Seq2seqShape {
    /// Units of each encoder direction, `H / 2`.
    pub fn encoder_hidden(&self) -> usize {
        self.hidden / 2
    }

    /// Checks every size's range (as the model loader does).
    pub fn check(&self) -> Result<()> {
        let range = |what, value: usize, min: usize, max: usize| {
            if value < min || value > max {
                return Err(Error::DimensionOutOfRange { what, value, max });
            }
            Ok(())
        };
        range("layers", self.layers, 1, MAX_LAYERS)?;
        range("hidden size", self.hidden, 2, MAX_HIDDEN)?;
        if self.hidden % 2 != 0 {
            return Err(Error::BadSeq2seq {
                reason: "the hidden size is odd (the encoder has two halves)",
            });
        }
        range("embedding width", self.embed, 1, MAX_HIDDEN)?;
        range(
            "vocabulary size",
            self.in_tokens,
            3,
            crate::vocab::MAX_TOKENS,
        )?;
        range("decoder tokens", self.out_tokens, 3, MAX_LABELS + 1)
    }

    /// Floats of one stack of `hs` units over `v` tokens.
    fn stack_len(&self, v: usize, hs: usize) -> usize {
        let gh = self.cell.gates() * hs;
        let layers: usize = (0..self.layers)
            .map(|l| {
                let input = if l == 0 { self.embed } else { hs };
                gh * input + gh + gh * hs + gh
            })
            .sum();
        v * self.embed + layers
    }

    /// Length of the flat parameter vector.
    pub fn param_count(&self) -> usize {
        let (h, p) = (self.hidden, self.out_tokens);
        2 * self.stack_len(self.in_tokens, h / 2) + self.stack_len(p, h) + p * 2 * h + p
    }
}

/// Float weights of a seq2seq model (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct Seq2seqWeights<'a> {
    /// The sizes.
    pub shape: Seq2seqShape,
    /// The forward encoder: `V` tokens, `H / 2` units.
    pub enc_fwd: FloatStack<'a>,
    /// The backward encoder: `V` tokens, `H / 2` units.
    pub enc_bwd: FloatStack<'a>,
    /// The decoder: `P` tokens, `H` units.
    pub dec: FloatStack<'a>,
    /// (P, 2H) output weights: row `k` = `H` weights on `h_t`, then `H` on the context.
    pub w_out: &'a [f32],
    /// (P,) output bias.
    pub b_out: &'a [f32],
}

impl<'a> Seq2seqWeights<'a> {
    /// Borrows the tensors of `shape` from the flat vector `params` (the module docs'
    /// order), whose length must be `shape.param_count()`.
    pub fn from_flat(shape: Seq2seqShape, params: &'a [f32]) -> Result<Self> {
        shape.check()?;
        if params.len() != shape.param_count() {
            return Err(Error::BadSetting {
                what: "the parameter vector's length does not match the seq2seq shape",
            });
        }
        let mut rest = params;
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head
        };
        let mut stack = |v: usize, hs: usize| {
            let gh = shape.cell.gates() * hs;
            let emb = take(v * shape.embed);
            let mut layers = [FloatLayer::default(); MAX_LAYERS];
            for (l, layer) in layers.iter_mut().enumerate().take(shape.layers) {
                let input = if l == 0 { shape.embed } else { hs };
                layer.w_x = take(gh * input);
                layer.b_x = take(gh);
                layer.w_h = take(gh * hs);
                layer.b_h = take(gh);
            }
            FloatWeights {
                cell: shape.cell,
                vocab: v,
                hidden: hs,
                embed: shape.embed,
                outputs: 0,
                n_layers: shape.layers,
                emb,
                layers,
                w_out: &[],
                b_out: &[],
            }
        };
        let (he, h, p) = (shape.hidden / 2, shape.hidden, shape.out_tokens);
        let enc_fwd = stack(shape.in_tokens, he);
        let enc_bwd = stack(shape.in_tokens, he);
        let dec = stack(p, h);
        let w_out = take(p * 2 * h);
        let b_out = take(p);
        Ok(Seq2seqWeights {
            shape,
            enc_fwd,
            enc_bwd,
            dec,
            w_out,
            b_out,
        })
    }

    /// Whether every slice has the length of the shape (true for [`Self::from_flat`]'s).
    pub fn is_consistent(&self) -> bool {
        let s = &self.shape;
        let (h, p) = (s.hidden, s.out_tokens);
        let stack_ok = |w: &FloatStack<'_>, v: usize, hs: usize| {
            w.is_consistent()
                && w.cell == s.cell
                && (w.vocab, w.hidden, w.embed, w.outputs, w.n_layers)
                    == (v, hs, s.embed, 0, s.layers)
        };
        s.check().is_ok()
            && stack_ok(&self.enc_fwd, s.in_tokens, h / 2)
            && stack_ok(&self.enc_bwd, s.in_tokens, h / 2)
            && stack_ok(&self.dec, p, h)
            && self.w_out.len() == p * 2 * h
            && self.b_out.len() == p
    }
}
