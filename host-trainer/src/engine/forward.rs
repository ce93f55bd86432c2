//! Forward pass over one shard: per layer, the input terms of all tokens at once,
//! then the recurrence step by step; then the output layer (`output.rs`).

use micrornn::cell::FloatWeights;

use super::cells::{self, saved_blocks};
use super::gemm::{transpose, Backend, Mat, MatMut, Update};
use super::output;
use super::shard::Shard;

/// Fills every layer's states (`hs`) and saved values, and the logits `s.z`.
///
/// Per layer `l`: `xp (N, G·H) = X @ w_x^T + b_x` over all `N` tokens in one product
/// (layer 0 one-hot: row `w_x[x]` per token; with an embedding `X` = the gathered
/// `emb` rows; above: layer `l - 1`'s states), then per step `t`:
/// `rec = hs[t-1][..active[t]] @ w_h^T` and the cell's fused element-wise work
/// (`cells.rs`). State before the first step: zero.
///
/// First refreshes the shard's transposed weight copies (the kernels want `B`
/// operands with unit column stride); each shard makes its own, in parallel.
pub(crate) fn forward(backend: Backend, p: &FloatWeights<'_>, s: &mut Shard) {
    let d = s.dims;
    let (h, gh) = (d.hidden, d.gates() * d.hidden);
    for (l, (layer, w)) in s.layers.iter_mut().zip(&p.layers).enumerate() {
        transpose(w.w_h, gh, h, &mut layer.w_h_t);
        if !layer.w_x_t.is_empty() {
            transpose(w.w_x, gh, d.input_width(l), &mut layer.w_x_t);
        }
    }
    transpose(p.w_out, d.outputs, h, &mut s.w_out_t);
    for l in 0..d.layers {
        input_terms(backend, p, s, l);
        recurrence(backend, p, s, l);
    }
    output::forward(backend, p, s);
}

/// `s.xp (N, G·H) = X @ w_x^T + b_x` for layer `l`.
fn input_terms(backend: Backend, p: &FloatWeights<'_>, s: &mut Shard, l: usize) {
    let d = s.dims;
    let n = s.tokens();
    let gh = d.gates() * d.hidden;
    let w = &p.layers[l];
    let xp = &mut s.xp[..n * gh];
    if l == 0 && d.embed == 0 {
        // One-hot: a row lookup per token.
        for (row, &x) in xp.chunks_exact_mut(gh).zip(&s.x) {
            let w_x = &w.w_x[x as usize * gh..][..gh];
            for ((o, &wx), &b) in row.iter_mut().zip(w_x).zip(w.b_x) {
                *o = wx + b;
            }
        }
        return;
    }
    for row in xp.chunks_exact_mut(gh) {
        row.copy_from_slice(w.b_x);
    }
    let input: &[f32] = if l == 0 {
        // Gather the embedding of every token.
        let e = d.embed;
        for (row, &x) in s.xe.chunks_exact_mut(e).zip(&s.x) {
            row.copy_from_slice(&p.emb[x as usize * e..][..e]);
        }
        &s.xe
    } else {
        &s.layers[l - 1].hs
    };
    let k = d.input_width(l);
    // X (N,In) @ w_x^T (In,G·H) -> xp (N,G·H), added to the bias.
    backend.matmul(
        Mat::rows(input, n, k),
        Mat::rows(&s.layers[l].w_x_t, k, gh),
        MatMut::rows(xp, n, gh),
        Update::Add,
    );
}

/// Runs layer `l`'s recurrence over the steps, from `s.xp`.
fn recurrence(backend: Backend, p: &FloatWeights<'_>, s: &mut Shard, l: usize) {
    let d = s.dims;
    let (h, gh) = (d.hidden, d.gates() * d.hidden);
    let sh = saved_blocks(d.cell) * h;
    let b_h = p.layers[l].b_h;
    let layer = &mut s.layers[l];
    for t in 0..s.active.len() {
        let (a, step) = (s.active[t], s.start[t]..s.start[t + 1]);
        let (hs_past, hs_rest) = layer.hs.split_at_mut(step.start * h);
        let (saved_past, saved_rest) = layer.saved.split_at_mut(step.start * sh);
        let (h_prev, saved_prev, rec): (&[f32], &[f32], &[f32]) = if t == 0 {
            (&s.zero[..a * h], &s.zero[..a * sh], &s.zero[..a * gh])
        } else {
            let prev = s.start[t - 1];
            let h_prev = &hs_past[prev * h..][..a * h];
            // h_prev (a,H) @ w_h^T (H,G·H) -> rec (a,G·H).
            backend.matmul(
                Mat::rows(h_prev, a, h),
                Mat::rows(&layer.w_h_t, h, gh),
                MatMut::rows(&mut s.rec, a, gh),
                Update::Write,
            );
            (h_prev, &saved_past[prev * sh..], &s.rec[..a * gh])
        };
        cells::forward(
            backend,
            d.cell,
            cells::Forward {
                h,
                xp: &s.xp[step.start * gh..step.end * gh],
                rec,
                b_h,
                h_prev,
                saved_prev,
                h_new: &mut hs_rest[..a * h],
                saved: &mut saved_rest[..a * sh],
            },
        );
    }
}
