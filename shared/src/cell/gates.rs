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
/// of `w_x` (unless `input` is a row) and `w_h` (see the module docs), in lane order
/// ([`crate::kernels::lane_of`]: the order of their state's lanes); `hp` is the layer's
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
                term.apply_all(&row[r0..r0 + k], xs);
                if apart {
                    to_lanes(xs);
                    rows(w_h, r0, hp, pre, None, Order::Lanes);
                } else {
                    rows(w_h, r0, hp, pre, Some(xs), Order::Lanes);
                }
            }
            Input::Packed(xp) => {
                rows(w_x, r0, xp, xs, None, Order::Lanes);
                rows(w_h, r0, hp, pre, None, Order::Lanes);
                if !apart {
                    for (p, &x) in pre.iter_mut().zip(xs.iter()) {
                        *p = p.saturating_add(x);
                    }
                }
            }
        }
    }
}

/// The order in which [`rows`] writes its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Row `start + i` to `out[i]`.
    Natural,
    /// Row `start + i` to `out[lane_of(i, out.len())]`.
    Lanes,
}

/// Natural order to lane order, in place: the middle two of each whole group of 4 swap.
fn to_lanes(v: &mut [i32]) {
    v.chunks_exact_mut(4).for_each(|g| g.swap(1, 2));
}

/// `out.len()` rows of `t` from row `start`, in Q16, in `order`: the dot product of each
/// row with the packed `xp`, then `requant(acc, scale) ⊕ x[i] ⊕ bias` for `Some(x) = x`
/// (each sum saturated), `requant(acc, scale) ⊕ bias` for `None`. `t` has a bias: every
/// tensor but layer 0's table does.
#[inline(never)]
pub(crate) fn rows(
    t: &QTensor<'_>,
    start: usize,
    xp: &[i32],
    out: &mut [i32],
    x: Option<&[i32]>,
    order: Order,
) {
    let k = out.len();
    matvec_q8_packed(&t.weights[start * t.cols..], t.cols, xp, out);
    let (scales, bias) = (
        &t.scales[4 * start..][..4 * k],
        &t.bias[4 * start..][..4 * k],
    );
    match x {
        None => requant_rows(out, scales, bias, |_| 0),
        Some(x) => {
            let x = &x[..k];
            requant_rows(out, scales, bias, |i| x[i])
        }
    }
    if order == Order::Lanes {
        to_lanes(out);
    }
}

/// Each accumulator `out[i]` becomes `requant(out[i], scale) ⊕ x(i) ⊕ bias` (the scales
/// and biases: little-endian words, 4 bytes per row).
#[inline(always)]
fn requant_rows(out: &mut [i32], scales: &[u8], bias: &[u8], x: impl Fn(usize) -> i32) {
    let k = out.len();
    let (scales, bias) = (&scales[..4 * k], &bias[..4 * k]);
    for i in 0..k {
        let pre = requant(out[i], word(&scales[4 * i..4 * i + 4])).saturating_add(x(i));
        out[i] = pre.saturating_add(word(&bias[4 * i..4 * i + 4]) as i32);
    }
}

/// The little-endian word of 4 bytes (one unaligned load on the Cortex-M4).
#[inline(always)]
fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap_or_default())
}
