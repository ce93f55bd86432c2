//! The gated recurrent unit (PyTorch's equations), gate blocks `r, z, n`:
//! `r = σ(x_r + a_r)`, `z = σ(x_z + a_z)`, `n = tanh(x_n + r ⊙ a_n)`,
//! `h' = (1 - z) ⊙ n + z ⊙ h`.
//!
//! `x` is the layer's input term, `a = W_h·h + b_h` its recurrent term (see
//! [`super::weights`]); `n` needs `x_n` and `a_n` apart.

use super::gate_math::{gate_q16, mul_q15, sigmoid, sigmoid_q15, tanh_q15_i32};
use crate::kernels::{pack_lanes, unpack_lanes};

/// Integer step of a chunk of `k` units, in lane order ([`crate::kernels::lane_of`]).
/// `pre` (3k,) holds the Q16 pre-activations `x_r + a_r`, `x_z + a_z` and `a_n`
/// (gate-major), `xn` (k,) the input terms `x_n`, both scratch; `old` the units' old `h`,
/// packed. The units' new `h` (Q15) go to `new`, packed.
///
/// `h' = n + z ⊙ (h - n)`, the product rounded ([`mul_q15`]): the same value as
/// `(1 - z) ⊙ n + z ⊙ h` with one rounding, always between `n` and `h`.
#[inline(never)]
pub(crate) fn step_q(pre: &mut [i32], xn: &mut [i32], old: &[i32], new: &mut [i32]) {
    let k = xn.len();
    let (r, rest) = pre.split_at_mut(k);
    let (z, a_n) = rest.split_at_mut(k);
    // n, over x_n; then the old h, over r (no longer needed).
    for ((xn, &r), &a_n) in xn.iter_mut().zip(r.iter()).zip(a_n.iter()) {
        *xn = tanh_q15_i32(xn.saturating_add(gate_q16(sigmoid_q15(r), a_n)));
    }
    unpack_lanes(old, r);
    for ((z, &n), &h) in z.iter_mut().zip(xn.iter()).zip(r.iter()) {
        *z = n + mul_q15(sigmoid_q15(*z), h - n);
    }
    pack_lanes(new, z, |h| h);
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
