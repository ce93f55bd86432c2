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

use super::gate_math::{gate_q16, mul_q15, sigmoid, sigmoid_q15};
use crate::fixed::tanh_q15;
use crate::kernels::pack_q15_map;

/// Integer step of a chunk of `k` units. `pre` (4k,) holds the Q16 pre-activations
/// `x + a` of `i, f, g, o` (gate-major); `c` (k,) the units' cell states (Q16), updated.
/// The units' new `h` (Q15) go to `new`, packed.
///
/// `f ⊙ c` is rounded to Q16 ([`gate_q16`]), `i ⊙ g` (Q15 · Q15) rounded to Q16, their
/// sum saturated; `h' = o ⊙ tanh(c')` rounded to Q15 ([`mul_q15`]).
#[inline(never)]
pub(crate) fn step_q(pre: &[i32], c: &mut [i32], new: &mut [i32]) {
    let k = c.len();
    let (i_gate, rest) = pre.split_at(k);
    let (f_gate, rest) = rest.split_at(k);
    let (g_gate, o_gate) = rest.split_at(k);
    pack_q15_map(new, o_gate, |u, o| {
        let i = sigmoid_q15(i_gate[u]);
        let f = sigmoid_q15(f_gate[u]);
        let g = tanh_q15(g_gate[u]) as i32;
        let o = sigmoid_q15(o);
        c[u] = gate_q16(f, c[u]).saturating_add((i * g + (1 << 13)) >> 14);
        mul_q15(o, tanh_q15(c[u]) as i32)
    });
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
