//! Backward pass over one shard: backpropagation through time into the shard's gradient.

use micrornn::cell::FloatWeights;
use micrornn::format::CellKind;

use super::cells::{self, saved_blocks};
use super::gemm::{Backend, Mat, MatMut, Update};
use super::operands::Operands;
use super::output;
use super::shard::Shard;
use crate::train::params::ParamsMut;

/// Writes into `s.grad` (overwritten) the gradient of the loss whose logit
/// gradient is in `s.z` (as left by the cross-entropy), after [`super::forward::forward`].
///
/// The output layer gives `dh` (N,H), the gradient of the top layer's states.
/// Then per layer, top down:
/// 1. through time, from the last step: the cell's fused element-wise backward
///    turns `dh[t]` into the gradients `dx[t]` of the input terms and `da[t]` of
///    the recurrent pre-activations (equal except in the GRU's `n` block), and
///    `dh[t-1][..active[t]] += da[t] @ w_h` (plus the cell's direct paths: GRU
///    `dh ⊙ z`, LSTM the cell-state gradient `dc ⊙ f`);
/// 2. over all tokens at once: `db_x = Σ dx`, `db_h = Σ da`,
///    `dw_h = da[steps >= 1]^T @ h_prev` in one product, and for the input:
///    above layer 0, `dw_x = dx^T @ hs_below` and `dh_below = dx @ w_x`; for
///    layer 0, `D (V,G·H)` = the sum of the `dx` rows of each token, which is
///    `dw_x` for a one-hot input, and with an embedding `dw_x = D^T @ emb`,
///    `demb = D @ w_x` (products over `V` tokens rather than `N` positions);
///    a shard that gathers (large vocabularies, see [`Shard::gathers`]) instead
///    takes `dw_x = dx^T @ emb[x]` and adds the rows of `dx @ w_x` into the
///    embedding rows of the tokens read.
///
/// The products read the weights from `ops` (refreshed from `p`, backward included).
pub(crate) fn backward(backend: Backend, p: &FloatWeights<'_>, ops: &Operands, s: &mut Shard) {
    // The gradient buffer leaves the shard while its views are alive (no allocation).
    let mut grad = std::mem::take(&mut s.grad);
    let dims = s.dims;
    let mut g = dims.split_mut(&mut grad);
    output::backward(backend, ops, s, &mut g);
    for l in (0..dims.layers).rev() {
        through_time(backend, ops, s, l);
        layer_gradient(backend, p.emb, ops, s, l, &mut g);
    }
    s.grad = grad;
}

/// Layer `l`'s backpropagation through time: `s.dh` (the states' gradient from
/// above) becomes `dx` in the layer's `xp` and, for the GRU, `da` in `s.da`.
fn through_time(backend: Backend, ops: &Operands, s: &mut Shard, l: usize) {
    let d = s.dims;
    let (h, gh) = (d.hidden, d.gates() * d.hidden);
    let sh = saved_blocks(d.cell) * h;
    let (gru, lstm) = (d.cell == CellKind::Gru, d.cell == CellKind::Lstm);
    let n = s.tokens();
    if lstm {
        s.dc[..n * h].fill(0.0);
    }
    let layer = &mut s.layers[l];
    for t in (0..s.active.len()).rev() {
        let (a, step) = (s.active[t], s.start[t]..s.start[t + 1]);
        let prev = (t > 0).then(|| s.start[t - 1]);
        let (dh_before, dh_rest) = s.dh.split_at_mut(step.start * h);
        let (dc_prev, dc): (Option<&mut [f32]>, &[f32]) = if lstm {
            let (before, rest) = s.dc.split_at_mut(step.start * h);
            (prev.map(|p| &mut before[p * h..][..a * h]), &rest[..a * h])
        } else {
            (None, &[])
        };
        let (h_prev, saved_prev) = match prev {
            Some(p) => (
                &layer.hs[p * h..][..a * h],
                &layer.saved[p * sh..][..a * sh],
            ),
            None => (&s.zero[..a * h], &s.zero[..a * sh]),
        };
        let dx = &mut layer.xp[step.start * gh..step.end * gh];
        let da: &mut [f32] = if gru {
            &mut s.da[step.start * gh..step.end * gh]
        } else {
            &mut []
        };
        let mut dh_prev = prev.map(|p| &mut dh_before[p * h..][..a * h]);
        cells::backward(
            backend,
            d.cell,
            cells::Backward {
                h,
                dh: &dh_rest[..a * h],
                h_new: &layer.hs[step.start * h..step.end * h],
                h_prev,
                saved: &layer.saved[step.start * sh..step.end * sh],
                saved_prev,
                dc,
                dx,
                da,
                dh_prev: if gru { dh_prev.as_deref_mut() } else { None },
                dc_prev,
            },
        );
        if let Some(dh_prev) = dh_prev {
            // da[t] (a,G·H) @ w_h (G·H,H) -> dh[t-1][..a] (a,H), added.
            let da = if gru { &s.da[..] } else { &layer.xp[..] };
            backend.matmul(
                Mat::rows(&da[step.start * gh..step.end * gh], a, gh),
                Mat::rows(&ops.layers[l].w_h, gh, h),
                MatMut::rows(dh_prev, a, h),
                Update::Add,
            );
        }
    }
}

/// Layer `l`'s weight gradients from `dx` (its `xp`) and `da`, and the gradient of
/// its input: `s.dh` for layer `l - 1`, or the embedding's.
fn layer_gradient(
    backend: Backend,
    emb: &[f32],
    ops: &Operands,
    s: &mut Shard,
    l: usize,
    g: &mut ParamsMut<'_>,
) {
    let d = s.dims;
    let (h, gh) = (d.hidden, d.gates() * d.hidden);
    let n = s.tokens();
    let gl = &mut g.layers[l];
    let dx = &s.layers[l].xp[..n * gh];
    let da = if d.cell == CellKind::Gru {
        &s.da[..n * gh]
    } else {
        dx
    };
    column_sums(da, gh, gl.b_h);

    // Recurrent weights: gather the previous state of every token of steps >= 1
    // (the first active[t] rows of block t-1), then one product over all of them.
    let hs = &s.layers[l].hs;
    let first = s.live_rows();
    for t in 1..s.active.len() {
        let (a, dst, src) = (s.active[t], s.start[t] - first, s.start[t - 1]);
        s.prev[dst * h..(dst + a) * h].copy_from_slice(&hs[src * h..(src + a) * h]);
    }
    let k = n - first;
    // da[steps >= 1]^T (G·H,K) @ prev (K,H) -> dw_h (G·H,H).
    backend.matmul(
        Mat::rows(&da[first * gh..], k, gh).t(),
        Mat::rows(&s.prev, k, h),
        MatMut::rows(gl.w_h, gh, h),
        Update::Write,
    );

    if l > 0 {
        column_sums(dx, gh, gl.b_x);
        let below = &s.layers[l - 1].hs;
        // dx^T (G·H,N) @ hs (N,H) -> dw_x (G·H,H).
        backend.matmul(
            Mat::rows(dx, n, gh).t(),
            Mat::rows(below, n, h),
            MatMut::rows(gl.w_x, gh, h),
            Update::Write,
        );
        // dx (N,G·H) @ w_x (G·H,H) -> dh (N,H): the gradient of the layer below's states.
        backend.matmul(
            Mat::rows(dx, n, gh),
            Mat::rows(&ops.layers[l].w_x, gh, h),
            MatMut::rows(&mut s.dh, n, h),
            Update::Write,
        );
        return;
    }
    if s.gathers() {
        let e = d.embed;
        column_sums(dx, gh, gl.b_x);
        // dx^T (G·H,N) @ xe (N,E) -> dw_x (G·H,E).
        backend.matmul(
            Mat::rows(dx, n, gh).t(),
            Mat::rows(&s.xe, n, e),
            MatMut::rows(gl.w_x, gh, e),
            Update::Write,
        );
        // dx (N,G·H) @ w_x (G·H,E) -> dxe (N,E), over xe (no longer needed), then
        // added into the embedding row of each token: only rows read get a gradient.
        backend.matmul(
            Mat::rows(dx, n, gh),
            Mat::rows(&ops.layers[0].w_x, gh, e),
            MatMut::rows(&mut s.xe, n, e),
            Update::Write,
        );
        g.emb.fill(0.0);
        for (&x, row) in s.x.iter().zip(s.xe.chunks_exact(e)) {
            for (o, &v) in g.emb[x as usize * e..][..e].iter_mut().zip(row) {
                *o += v;
            }
        }
        return;
    }
    // Layer 0: sum the dx rows of each token into `table` (V,G·H): that is dw_x
    // for a one-hot input, and b_x's gradient is its column sum.
    let table = if d.embed == 0 {
        &mut *gl.w_x
    } else {
        &mut s.table[..]
    };
    table.fill(0.0);
    for (&x, row) in s.x.iter().zip(dx.chunks_exact(gh)) {
        for (o, &v) in table[x as usize * gh..][..gh].iter_mut().zip(row) {
            *o += v;
        }
    }
    column_sums(table, gh, gl.b_x);
    if d.embed > 0 {
        let (v, e) = (d.vocab, d.embed);
        // table^T (G·H,V) @ emb (V,E) -> dw_x (G·H,E).
        backend.matmul(
            Mat::rows(&s.table, v, gh).t(),
            Mat::rows(emb, v, e),
            MatMut::rows(gl.w_x, gh, e),
            Update::Write,
        );
        // table (V,G·H) @ w_x (G·H,E) -> demb (V,E).
        backend.matmul(
            Mat::rows(&s.table, v, gh),
            Mat::rows(&ops.layers[0].w_x, gh, e),
            MatMut::rows(g.emb, v, e),
            Update::Write,
        );
    }
}
/// `out (C,) = Σ_r m[r]` for the row-major `(R, C)` matrix `m`, `C = out.len()`.
pub(crate) fn column_sums(m: &[f32], cols: usize, out: &mut [f32]) {
    out.fill(0.0);
    for row in m.chunks_exact(cols) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}
