//! The long short-term memory cell (PyTorch's equations), gate blocks `i, f, g, o`:
//! `i, f, o = σ(x + a)`, `g = tanh(x_g + a_g)`, `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
//!
//! `x` is the layer's input term, `a = W_h·h + b_h` its recurrent term (see
//! [`super::weights`]).
//!
//! **The cell state `c` of the integer path is `i32` Q16**, saturating, not Q15 like `h`:
//! `c` is a running sum (`f ≈ 1` keeps it, `i ⊙ g` adds up to 1 per step), so it leaves
//! [-1, 1] routinely and must not clip there; Q16 in `i32` holds ±32768 with the
//! resolution of the pre-activations (2^-16), and it is the format `tanh_q15` reads, so
//! `tanh(c')` needs no conversion. It costs 4 bytes per unit and layer.

use super::gate_math::{gate_q16, mul_q15, sigmoid, sigmoid_q15, tanh_q15_i32};
use crate::kernels::pack_lanes;

/// Integer step of a chunk of `k` units, in lane order ([`crate::kernels::lane_of`]).
/// `pre` (4k,) holds the Q16 pre-activations `x + a` of `i, f, g, o` (gate-major,
/// scratch); `c` (k,) the units' cell states (Q16), updated. The units' new `h` (Q15) go
/// to `new`, packed.
///
/// `f ⊙ c` is rounded to Q16 ([`gate_q16`]), `i ⊙ g` (Q15 · Q15) rounded to Q16, their
/// sum saturated; `h' = o ⊙ tanh(c')` rounded to Q15 ([`mul_q15`]).
#[inline(never)]
pub(crate) fn step_q(pre: &mut [i32], c: &mut [i32], new: &mut [i32]) {
    let k = c.len();
    let (i, rest) = pre.split_at_mut(k);
    let (f, rest) = rest.split_at_mut(k);
    let (g, o) = rest.split_at(k);
    // h', over i.
    let gates = f.iter().zip(g).zip(o);
    for ((i, c), ((&f, &g), &o)) in i.iter_mut().zip(c.iter_mut()).zip(gates) {
        let ig = (sigmoid_q15(*i) * tanh_q15_i32(g) + (1 << 13)) >> 14;
        *c = gate_q16(sigmoid_q15(f), *c).saturating_add(ig);
        *i = mul_q15(sigmoid_q15(o), tanh_q15_i32(*c));
    }
    pack_lanes(new, i, |h| h);
}

/// Float step of a whole layer: `x` and `a` are the (4H,) input and recurrent terms,
/// `h` and `c` (H,) are updated.
pub(crate) fn step_f32(x: &[f32], a: &[f32], h: &mut [f32], c: &mut [f32]) {
    let n_h = h.len();
    let pre = |g: usize, u: usize| x[g * n_h + u] + a[g * n_h + u];
    for (u, (h, c)) in h.iter_mut().zip(c.iter_mut()).enumerate() {
        let i = sigmoid(pre(0, u));
        let f = sigmoid(pre(1, u));
        let g = libm::tanhf(pre(2, u));
        let o = sigmoid(pre(3, u));
        *c = f * *c + i * g;
        *h = o * libm::tanhf(*c);
    }
}
