//! The vanilla (Elman) RNN cell: `h' = tanh(x + a)`, one gate block.
//!
//! `x` is the layer's input term, `a = W_h·h + b_h` its recurrent term (see
//! [`super::weights`]).

use super::gate_math::tanh_q15_i32;
use crate::kernels::pack_lanes;

/// Integer step of a chunk of `k` units, in lane order ([`crate::kernels::lane_of`]):
/// `pre` (k,) holds the Q16 pre-activations `x + a`; the units' new `h` (Q15) go to
/// `new`, packed.
#[inline(never)]
pub(crate) fn step_q(pre: &[i32], new: &mut [i32]) {
    pack_lanes(new, pre, tanh_q15_i32);
}

/// Float step of a whole layer: `x` and `a` are the (H,) input and recurrent terms, `h`
/// gets the new state.
pub(crate) fn step_f32(x: &[f32], a: &[f32], h: &mut [f32]) {
    for ((h, &x), &a) in h.iter_mut().zip(x).zip(a) {
        *h = libm::tanhf(x + a);
    }
}
