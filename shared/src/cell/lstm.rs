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

use super::gate_math::{gate_q16, mul_q15, sigmoid, sigmoid_all, tanh_all, tanh_q15_i32};
use crate::kernels::pack_q15_map;

/// Integer step of a chunk of `k` units. `pre` (4k,) holds the Q16 pre-activations
/// `x + a` of `i, f, g, o` (gate-major; the gates are computed in place); `c` (k,) the
/// units' cell states (Q16), updated. The units' new `h` (Q15) go to `new`, packed.
///
/// `f ⊙ c` is rounded to Q16 ([`gate_q16`]), `i ⊙ g` (Q15 · Q15) rounded to Q16, their
/// sum saturated; `h' = o ⊙ tanh(c')` rounded to Q15 ([`mul_q15`]).
#[inline(never)]
pub(crate) fn step_q(pre: &mut [i32], c: &mut [i32], new: &mut [i32]) {
    let k = c.len();
    let (ifg, o) = pre.split_at_mut(3 * k);
    let (i_f, g) = ifg.split_at_mut(2 * k);
    sigmoid_all(i_f);
    tanh_all(g);
    sigmoid_all(o);
    let (i, f) = i_f.split_at(k);
    pack_q15_map(new, o, |u, o| {
        c[u] = gate_q16(f[u], c[u]).saturating_add((i[u] * g[u] + (1 << 13)) >> 14);
        mul_q15(o, tanh_q15_i32(c[u]))
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
