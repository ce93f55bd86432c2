//! The chunked gate machinery every integer cell shares: the Q16 pre-activations of a
//! chunk of units, in every gate block, from int8 rows and packed Q15 vectors.
//!
//! For units `start..start + k` of a layer with `G` gate blocks of `H` rows, gate block
//! `g`'s rows are `g·H + start ..`; their pre-activations `x + a` (input term `x`,
//! recurrent term `a = requant(W_h·h) + b_h`) go to `pre[g·k..(g+1)·k]`. Each sum
//! saturates: layer 0 adds its looked-up `x` before the bias,
//! `(requant(W_h·h) ⊕ x) ⊕ b_h` (the first format's order); the layers above add the
//! two terms, `(requant(W_h·h) ⊕ b_h) ⊕ (requant(W_x·x) ⊕ b_x)`. A cell may ask
//! for the last gate block's input term apart (the GRU's `n`): then `pre` gets `a` only and
//! `xs` gets `x`. Only `k` rows of each gate block are in flight, so the scratch is
//! `(G + 1)·k` words whatever `H` is.

use super::requant::{requant, InputTerm};
use crate::kernels::matvec_q8_packed;
use crate::tensor::QTensor;

/// The input of a layer at one step.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Input<'x> {
    /// Layer 0: the token's row of the (V, G·H) lookup table and its term.
    Row {
        /// The row's scale, taken apart.
        term: InputTerm,
        /// The row's G·H int8 weights.
        row: &'x [u8],
    },
    /// Layers above: the new `h` of the layer below, packed.
    Packed(&'x [i32]),
}

/// The pre-activations of units `start..start + xs.len()` of a layer in every gate block
/// of `w_x` (unless `input` is a row) and `w_h` (see the module docs); `hp` is the layer's
/// packed state, `split_last` keeps the last gate block's input term apart in `xs`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gate_rows(
    w_x: &QTensor<'_>,
    w_h: &QTensor<'_>,
    hidden: usize,
    input: &Input<'_>,
    hp: &[i32],
    start: usize,
    pre: &mut [i32],
    xs: &mut [i32],
    split_last: bool,
) {
    let k = xs.len();
    let last = pre.len().saturating_sub(k);
    for (g, pre) in pre.chunks_exact_mut(k.max(1)).enumerate() {
        let r0 = g * hidden + start;
        let apart = split_last && g * k == last;
        match *input {
            Input::Row { term, row } => {
                let x = &row[r0..r0 + k];
                if apart {
                    xs.iter_mut().zip(x).for_each(|(o, &w)| *o = term.apply(w));
                    rows(w_h, r0, hp, pre, none(w_h));
                } else {
                    rows(w_h, r0, hp, pre, (x, term));
                }
            }
            Input::Packed(xp) => {
                rows(w_x, r0, xp, xs, none(w_x));
                rows(w_h, r0, hp, pre, none(w_h));
                if !apart {
                    for (p, &x) in pre.iter_mut().zip(xs.iter()) {
                        *p = p.saturating_add(x);
                    }
                }
            }
        }
    }
}

/// No added term for [`rows`] of `t`: [`InputTerm::NONE`] (0 for every weight) over its
/// scales (as many bytes as it has rows, and more).
pub(crate) fn none<'t>(t: &QTensor<'t>) -> (&'t [u8], InputTerm) {
    (t.scales, InputTerm::NONE)
}

/// `out.len()` rows of `t` from row `start`, in Q16: the dot product of each row with the
/// packed `xp`, then `requant(acc, scale) ⊕ term.apply(x[i]) ⊕ bias` for
/// `(x, term) = input` (each sum saturated). `t` has a bias: every tensor but layer 0's
/// table does.
#[inline(never)]
pub(crate) fn rows(
    t: &QTensor<'_>,
    start: usize,
    xp: &[i32],
    out: &mut [i32],
    input: (&[u8], InputTerm),
) {
    let k = out.len();
    matvec_q8_packed(&t.weights[start * t.cols..], t.cols, xp, out);
    let (x, term) = (&input.0[..k], input.1);
    let (scales, bias) = (
        &t.scales[4 * start..][..4 * k],
        &t.bias[4 * start..][..4 * k],
    );
    for i in 0..k {
        let scale = word(&scales[4 * i..4 * i + 4]);
        let pre = requant(out[i], scale).saturating_add(term.apply(x[i]));
        out[i] = pre.saturating_add(word(&bias[4 * i..4 * i + 4]) as i32);
    }
}

/// The little-endian word of 4 bytes (one unaligned load on the Cortex-M4).
#[inline(always)]
fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap_or_default())
}
