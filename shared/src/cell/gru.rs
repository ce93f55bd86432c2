//! The gated recurrent unit (PyTorch's equations), gate blocks `r, z, n`:
//! `r = σ(x_r + a_r)`, `z = σ(x_z + a_z)`, `n = tanh(x_n + r ⊙ a_n)`,
//! `h' = (1 - z) ⊙ n + z ⊙ h`.
//!
//! `x` is the layer's input term, `a = W_h·h + b_h` its recurrent term (see
//! [`super::weights`]); `n` needs `x_n` and `a_n` apart.

use super::gate_math::{gate_q16, mul_q15, sigmoid, sigmoid_all, tanh_q15_i32};
use crate::kernels::pack_q15_map;

/// Integer step of a chunk of `k` units. `pre` (3k,) holds the Q16 pre-activations
/// `x_r + a_r`, `x_z + a_z` and `a_n` (gate-major; the gates `r` and `z` are computed in
/// place), `xn` (k,) the input terms `x_n`, and `h(i)` is unit `i`'s old `h` (Q15). The
/// units' new `h` (Q15) go to `new`, packed.
///
/// `h' = n + z ⊙ (h - n)`, the product rounded ([`mul_q15`]): the same value as
/// `(1 - z) ⊙ n + z ⊙ h` with one rounding, always between `n` and `h`.
#[inline(never)]
pub(crate) fn step_q(pre: &mut [i32], xn: &[i32], h: impl Fn(usize) -> i32, new: &mut [i32]) {
    let k = xn.len();
    let (rz, a_n) = pre.split_at_mut(2 * k);
    sigmoid_all(rz);
    let (r, z) = rz.split_at(k);
    pack_q15_map(new, xn, |i, xn| {
        let n = tanh_q15_i32(xn.saturating_add(gate_q16(r[i], a_n[i])));
        n + mul_q15(z[i], h(i) - n)
    });
}

/// Float step of a whole layer: `x` and `a` are the (3H,) input and recurrent terms,
/// `h` is updated.
pub(crate) fn step_f32(x: &[f32], a: &[f32], h: &mut [f32]) {
    let n_h = h.len();
    for (i, h) in h.iter_mut().enumerate() {
        let r = sigmoid(x[i] + a[i]);
        let z = sigmoid(x[n_h + i] + a[n_h + i]);
        let n = libm::tanhf(x[2 * n_h + i] + r * a[2 * n_h + i]);
        *h = (1.0 - z) * n + z * *h;
    }
}
