//! Forward pass over one shard: hidden states step by step, then logits for all tokens at once.

use super::gemm::{transpose, Backend, Mat, MatMut, Update};
use super::math::tanh_in_place;
use super::shard::Shard;
use crate::params::ParamsRef;

/// Fills `s.hs` with the hidden state after every packed token and `s.z` with the logits.
///
/// Per step `t`: `hs[t] = tanh(w_in[x] + b_h + hs[t-1][..active[t]] @ w_hh^T)`, with
/// `hs[-1] = 0`; then `z = hs @ w_out^T + b_out` over all `N` tokens in one product.
///
/// First refreshes the shard's transposed copies of `w_hh` and `w_out` (the
/// kernels want `B` operands with unit column stride). Each shard makes its own,
/// in parallel, rather than one thread making shared copies before the others start.
pub(crate) fn forward(backend: Backend, p: &ParamsRef<'_>, s: &mut Shard) {
    let (h, v) = (s.dims.hidden, s.dims.vocab);
    transpose(p.w_hh, h, h, &mut s.w_hh_t);
    transpose(p.w_out, v, h, &mut s.w_out_t);
    for t in 0..s.active.len() {
        let (a, step) = (s.active[t], s.step(t));
        let (past, rest) = s.hs.split_at_mut(step.start * h);
        let cur = &mut rest[..a * h];
        // Input projection (one row of w_in per one-hot token) plus bias.
        for (row, &x) in cur.chunks_exact_mut(h).zip(&s.x[step]) {
            let w_x = &p.w_in[x as usize * h..][..h];
            for ((o, &wx), &b) in row.iter_mut().zip(w_x).zip(p.b_h) {
                *o = wx + b;
            }
        }
        if t > 0 {
            // hs_prev (a,H) @ w_hh^T (H,H) -> (a,H), added.
            let prev = &past[s.start[t - 1] * h..][..a * h];
            backend.matmul(
                Mat::rows(prev, a, h),
                Mat::rows(&s.w_hh_t, h, h),
                MatMut::rows(cur, a, h),
                Update::Add,
            );
        }
        tanh_in_place(backend, cur);
    }
    // hs (N,H) @ w_out^T (H,V) -> z (N,V), then + b_out per row.
    let n = s.tokens();
    backend.matmul(
        Mat::rows(&s.hs, n, h),
        Mat::rows(&s.w_out_t, h, v),
        MatMut::rows(&mut s.z, n, v),
        Update::Write,
    );
    for row in s.z[..n * v].chunks_exact_mut(v) {
        for (o, &b) in row.iter_mut().zip(p.b_out) {
            *o += b;
        }
    }
}
