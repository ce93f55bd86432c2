//! The tensors of a seq2seq model file, in order, and their validation.
//!
//! `G = cell.gates()`, `L` layers, `H` the decoder's width (even), `He = H / 2` each
//! encoder's, `E` the embedding width, `V` the input tokens (characters + 2), `P` the
//! decoder tokens (phonemes + boundary). Three stacks, in this order: the forward encoder
//! (`V` tokens, `He` units), the backward encoder (the same), the decoder (`P` tokens, `H`
//! units); each is
//!
//! | tensor | shape | bias |
//! |---|---|---|
//! | `emb` | (V or P, E) | no |
//! | layer 0 `w_x` | (G·Hs, E) | yes (`b_x`) |
//! | layer `l > 0` `w_x` | (G·Hs, Hs) | yes (`b_x`) |
//! | layer `l` `w_h` | (G·Hs, Hs) | yes (`b_h`) |
//!
//! then the output layer in two halves: `w_out_h` (P, H) with the output bias (columns
//! `0..H` of the float `W_out`, over the decoder's `h`), `w_out_c` (P, H) without bias
//! (columns `H..2H`, over the attention's context). `3·(1 + 2L) + 2` tensors.

use crate::cell::MAX_LAYERS;
use crate::error::{Error, Result};
use crate::format::{Config, TensorEntry};
use crate::model::{check_range, tensor, Stack, MAX_HIDDEN};
use crate::tensor::QTensor;

use super::Phonemes;

/// The tensors of a validated seq2seq model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parts<'a> {
    /// The forward and backward encoders (no output layer).
    pub enc: [Stack<'a>; 2],
    /// The decoder, its output layer the half over `h` (`w_out_h`, with the bias).
    pub dec: Stack<'a>,
    /// The output layer's half over the context (P, H), no bias.
    pub w_out_c: QTensor<'a>,
}

impl<'a> Parts<'a> {
    /// The decoder stack (a model's [`crate::Model::stack`]).
    pub fn decoder_stack(&self) -> Stack<'a> {
        self.dec
    }
}

/// Tensor names of each stack, as errors name them: the embedding, then `w_x`, `w_h` of
/// each layer.
const NAMES: [[&str; 1 + 2 * MAX_LAYERS]; 3] = [
    [
        "enc_fwd emb",
        "enc_fwd layer 0 w_x",
        "enc_fwd layer 0 w_h",
        "enc_fwd layer 1 w_x",
        "enc_fwd layer 1 w_h",
        "enc_fwd layer 2 w_x",
        "enc_fwd layer 2 w_h",
        "enc_fwd layer 3 w_x",
        "enc_fwd layer 3 w_h",
    ],
    [
        "enc_bwd emb",
        "enc_bwd layer 0 w_x",
        "enc_bwd layer 0 w_h",
        "enc_bwd layer 1 w_x",
        "enc_bwd layer 1 w_h",
        "enc_bwd layer 2 w_x",
        "enc_bwd layer 2 w_h",
        "enc_bwd layer 3 w_x",
        "enc_bwd layer 3 w_h",
    ],
    [
        "dec emb",
        "dec layer 0 w_x",
        "dec layer 0 w_h",
        "dec layer 1 w_x",
        "dec layer 1 w_h",
        "dec layer 2 w_x",
        "dec layer 2 w_h",
        "dec layer 3 w_x",
        "dec layer 3 w_h",
    ],
];

/// Weights and biases of every tensor of a (validated) tensor table.
pub(crate) fn param_count(tensors: &[u8]) -> usize {
    TensorEntry::table(tensors).map_or(0, |entries| {
        entries
            .map(|e| e.rows as usize * e.cols as usize + e.bias.len as usize / 4)
            .sum()
    })
}

/// Tensors in a seq2seq file of `layers` layers.
pub const fn tensor_count(layers: usize) -> usize {
    3 * (1 + 2 * layers) + 2
}

/// Checks the seq2seq dimensions of a configuration: layers, an even hidden size, the
/// embedding width.
pub(crate) fn check_config(c: &Config) -> Result<()> {
    check_range("layers", c.layers as usize, MAX_LAYERS)?;
    check_range("hidden size", c.hidden as usize, MAX_HIDDEN)?;
    if c.hidden % 2 != 0 {
        return Err(Error::BadSeq2seq {
            reason: "the hidden size is odd (the encoder has two halves)",
        });
    }
    check_range("embedding width", c.embed as usize, MAX_HIDDEN)
}

/// Validates the tensors of a seq2seq model (configuration `c`, `in_tokens` = V, the
/// phonemes in `labels`) and borrows them.
pub(crate) fn read<'a>(
    c: Config,
    in_tokens: usize,
    labels: &'a str,
    tensors: &'a [u8],
    data: &'a [u8],
) -> Result<Parts<'a>> {
    check_config(&c)?;
    let (n_layers, h, e) = (c.layers as usize, c.hidden as usize, c.embed as usize);
    let p = Phonemes::new(labels)?.tokens();
    let mut entries = TensorEntry::table(tensors).ok_or(Error::Malformed)?;
    let (expected, found) = (
        tensor_count(n_layers),
        tensors.len() / TensorEntry::RECORD_LEN,
    );
    if found != expected {
        return Err(Error::TensorCount { expected, found });
    }
    let mut next = || entries.next().ok_or(Error::Malformed);
    let mut stacks = [Stack::empty(c.cell, h / 2, n_layers); 3];
    for (s, stack) in stacks.iter_mut().enumerate() {
        let (v, hs) = if s < 2 { (in_tokens, h / 2) } else { (p, h) };
        let (names, gh) = (&NAMES[s], c.cell.gates() * hs);
        stack.hidden = hs as u16;
        stack.emb = tensor(names[0], &next()?, (v, e), false, data)?;
        for l in 0..n_layers {
            let cols = if l == 0 { e } else { hs };
            let layer = &mut stack.layers[l];
            layer.w_x = tensor(names[1 + 2 * l], &next()?, (gh, cols), true, data)?;
            layer.w_h = tensor(names[2 + 2 * l], &next()?, (gh, hs), true, data)?;
        }
    }
    let [fwd, bwd, mut dec] = stacks;
    dec.w_out = tensor("w_out_h", &next()?, (p, h), true, data)?;
    let w_out_c = tensor("w_out_c", &next()?, (p, h), false, data)?;
    Ok(Parts {
        enc: [fwd, bwd],
        dec,
        w_out_c,
    })
}
