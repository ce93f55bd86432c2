//! Forward pass over one shard: hidden states step by step, then logits for all tokens at once.

use super::gemm::{Backend, Mat, MatMut, Update};
use super::math::tanh_in_place;
use super::shard::Shard;
use crate::params::ParamsRef;

/// The parameters plus the transposed copies the products read (the kernel wants
/// `B` operands with unit column stride). Shared read-only by all shards.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Weights<'a> {
    /// Named views of the flat parameters.
    pub p: ParamsRef<'a>,
    /// (H, H) `w_hh` transposed.
    pub w_hh_t: &'a [f32],
    /// (H, V) `w_out` transposed.
    pub w_out_t: &'a [f32],
}

/// Fills `s.hs` with the hidden state after every packed token and `s.z` with the logits.
///
/// Per step `t`: `hs[t] = tanh(w_in[x] + b_h + hs[t-1][..active[t]] @ w_hh^T)`, with
/// `hs[-1] = 0`; then `z = hs @ w_out^T + b_out` over all `N` tokens in one product.
pub(crate) fn forward(backend: Backend, w: &Weights<'_>, s: &mut Shard) {
    let (h, v) = (s.dims.hidden, s.dims.vocab);
    for t in 0..s.active.len() {
        let (a, step) = (s.active[t], s.step(t));
        let (past, rest) = s.hs.split_at_mut(step.start * h);
        let cur = &mut rest[..a * h];
        // Input projection (one row of w_in per one-hot token) plus bias.
        for (row, &x) in cur.chunks_exact_mut(h).zip(&s.x[step]) {
            let w_x = &w.p.w_in[x as usize * h..][..h];
            for ((o, &wx), &b) in row.iter_mut().zip(w_x).zip(w.p.b_h) {
                *o = wx + b;
            }
        }
        if t > 0 {
            // hs_prev (a,H) @ w_hh^T (H,H) -> (a,H), added.
            let prev = &past[s.start[t - 1] * h..][..a * h];
            backend.matmul(
                Mat::rows(prev, a, h),
                Mat::rows(w.w_hh_t, h, h),
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
        Mat::rows(w.w_out_t, h, v),
        MatMut::rows(&mut s.z, n, v),
        Update::Write,
    );
    for row in s.z[..n * v].chunks_exact_mut(v) {
        for (o, &b) in row.iter_mut().zip(w.p.b_out) {
            *o += b;
        }
    }
}
