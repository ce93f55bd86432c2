//! Backward pass over one shard: backpropagation through time into the shard's gradient.

use super::gemm::{Backend, Mat, MatMut, Update};
use super::shard::Shard;
use crate::params::ParamsRef;

/// Accumulates into `s.grad` (overwritten) the gradient of the loss whose logit
/// gradient is in `s.z` (as left by the cross-entropy), after [`super::forward::forward`].
///
/// With `dz = dL/dz` (N,V) and `da` = gradient of the pre-activations (N,H):
/// `db_out = Σ dz`, `dw_out = dz^T @ hs`, `dh = dz @ w_out`; then from the last
/// step down, `dh[t][..active[t+1]] += da[t+1] @ w_hh` and `da[t] = dh[t] ⊙ (1 - hs[t]²)`;
/// finally `dw_hh = da[1..]^T @ hs_prev` in one product, `dw_in[x] += da` per token
/// and `db_h = Σ da`.
pub(crate) fn backward(backend: Backend, p: &ParamsRef<'_>, s: &mut Shard) {
    let n = s.tokens();
    let Shard {
        dims,
        active,
        start,
        x,
        hs,
        prev,
        z,
        dh,
        grad,
        w_hh,
        w_out,
        ..
    } = s;
    let (h, v) = (dims.hidden, dims.vocab);
    // Cache-line-aligned copies of the B operands (see `Aligned`).
    w_hh.copy_from_slice(p.w_hh);
    w_out.copy_from_slice(p.w_out);
    let g = dims.split_mut(grad);
    let (hs, dz) = (&hs[..n * h], &z[..n * v]);

    // Output layer.
    column_sums(dz, v, g.b_out);
    // dz^T (V,N) @ hs (N,H) -> dw_out (V,H).
    backend.matmul(
        Mat::rows(dz, n, v).t(),
        Mat::rows(hs, n, h),
        MatMut::rows(g.w_out, v, h),
        Update::Write,
    );
    // dz (N,V) @ w_out (V,H) -> dh (N,H).
    backend.matmul(
        Mat::rows(dz, n, v),
        Mat::rows(w_out, v, h),
        MatMut::rows(dh, n, h),
        Update::Write,
    );

    // Through time: dh -> da, step by step from the last.
    let steps = active.len();
    for t in (0..steps).rev() {
        let step = start[t]..start[t + 1];
        let (upto, later) = dh.split_at_mut(step.end * h);
        let cur = &mut upto[step.start * h..];
        if t + 1 < steps {
            // da[t+1] (a,H) @ w_hh (H,H) -> dh[t][..a] (a,H), added.
            let a = active[t + 1];
            let next = Mat::rows(&later[..a * h], a, h);
            backend.matmul(
                next,
                Mat::rows(w_hh, h, h),
                MatMut::rows(&mut cur[..a * h], a, h),
                Update::Add,
            );
        }
        for (d, &y) in cur.iter_mut().zip(&hs[step.start * h..step.end * h]) {
            *d *= 1.0 - y * y;
        }
    }
    let da = &dh[..n * h];

    // Recurrent weights: gather the previous state of every token of steps >= 1
    // (the first active[t] rows of block t-1), then one product over all of them.
    let first = active.first().copied().unwrap_or(0);
    for t in 1..steps {
        let (a, dst) = (active[t], start[t] - first);
        let src = start[t - 1];
        prev[dst * h..(dst + a) * h].copy_from_slice(&hs[src * h..(src + a) * h]);
    }
    let k = n - first;
    // da[1..]^T (H,K) @ prev (K,H) -> dw_hh (H,H).
    let da_later = Mat::rows(&da[first * h..], k, h).t();
    backend.matmul(
        da_later,
        Mat::rows(prev, k, h),
        MatMut::rows(g.w_hh, h, h),
        Update::Write,
    );

    // Input weights: scatter-add by token; each da row lands in exactly one w_in
    // row, so the hidden bias gradient (Σ da) is the column sum of dw_in.
    g.w_in.fill(0.0);
    for (&x, row) in x.iter().zip(da.chunks_exact(h)) {
        for (o, &d) in g.w_in[x as usize * h..][..h].iter_mut().zip(row) {
            *o += d;
        }
    }
    column_sums(g.w_in, h, g.b_h);
}

/// `out (C,) = Σ_r m[r]` for the row-major `(R, C)` matrix `m`, `C = out.len()`.
fn column_sums(m: &[f32], cols: usize, out: &mut [f32]) {
    out.fill(0.0);
    for row in m.chunks_exact(cols) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}
