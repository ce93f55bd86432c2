//! Forward pass over one shard: per layer, the input terms of all tokens at once,
//! then the recurrence step by step; then the output layer (`output.rs`).

use micrornn::cell::FloatWeights;

use super::cells::{self, saved_blocks, separate_recurrent};
use super::gemm::{Backend, Mat, MatMut, Update};
use super::operands::Operands;
use super::output;
use super::shard::Shard;

/// Fills every layer's states (`hs`) and saved values, and the logits `s.z`.
///
/// Per layer `l`: `xp (N, G·H) = X @ w_x^T + b_x` over all `N` tokens (layer 0:
/// a lookup in a per-batch table of its `V` possible rows; above: one product with
/// layer `l - 1`'s states), then per step `t`:
/// `rec = hs[t-1][..active[t]] @ w_h^T` and the cell's fused element-wise work
/// (`cells.rs`). State before the first step: zero.
///
/// The products read the weights from `ops` (refreshed from `p`).
pub(crate) fn forward(backend: Backend, p: &FloatWeights<'_>, ops: &Operands, s: &mut Shard) {
    for l in 0..s.dims.layers {
        input_terms(backend, p, ops, s, l);
        recurrence(backend, p, ops, s, l);
    }
    output::forward(backend, p, ops, s);
}

/// `xp (N, G·H) = X @ w_x^T + b_x` for layer `l` (`+ b_h` too unless the cell
/// needs the recurrent term apart, see [`separate_recurrent`]).
///
/// Layer 0 reads one of `V` inputs per token, so its input terms are rows of a
/// `(V, G·H)` table made once per batch: `w_x + b_x` (one-hot) or
/// `emb @ w_x^T + b_x` (embedding), then looked up per token; or, for a large
/// vocabulary (see [`Shard::gathers`]), `emb[x] @ w_x^T + b_x` over the tokens.
fn input_terms(backend: Backend, p: &FloatWeights<'_>, ops: &Operands, s: &mut Shard, l: usize) {
    let d = s.dims;
    let n = s.tokens();
    let gathers = l == 0 && s.gathers();
    let gh = d.gates() * d.hidden;
    let w = &p.layers[l];
    // The bias of the input terms: b_x, or b_x + b_h where the cell only needs x + a.
    let bias = &mut s.bias[..];
    bias.copy_from_slice(w.b_x);
    if !separate_recurrent(d.cell) {
        for (b, &bh) in bias.iter_mut().zip(w.b_h) {
            *b += bh;
        }
    }
    let bias = &s.bias[..];
    let (below, this) = s.layers.split_at_mut(l);
    let layer = &mut this[0];
    let xp = &mut layer.xp[..n * gh];
    if l > 0 {
        for row in xp.chunks_exact_mut(gh) {
            row.copy_from_slice(bias);
        }
        // hs (N,H) @ w_x^T (H,G·H) -> xp (N,G·H), added to the bias.
        let h = d.hidden;
        backend.matmul(
            Mat::rows(&below[l - 1].hs, n, h),
            Mat::rows(&ops.layers[l].w_x_t, h, gh),
            MatMut::rows(xp, n, gh),
            Update::Add,
        );
        return;
    }
    if gathers {
        // emb[x] for every token -> xe (N,E); xe @ w_x^T (E,G·H) -> xp, added to the bias.
        let e = d.embed;
        for (row, &x) in s.xe.chunks_exact_mut(e).zip(&s.x) {
            row.copy_from_slice(&p.emb[x as usize * e..][..e]);
        }
        for row in xp.chunks_exact_mut(gh) {
            row.copy_from_slice(bias);
        }
        backend.matmul(
            Mat::rows(&s.xe, n, e),
            Mat::rows(&ops.layers[0].w_x_t, e, gh),
            MatMut::rows(xp, n, gh),
            Update::Add,
        );
        return;
    }
    let table = &mut s.table[..];
    if d.embed == 0 {
        table.copy_from_slice(w.w_x);
    } else {
        // emb (V,E) @ w_x^T (E,G·H) -> table (V,G·H).
        backend.matmul(
            Mat::rows(p.emb, d.vocab, d.embed),
            Mat::rows(&ops.layers[0].w_x_t, d.embed, gh),
            MatMut::rows(table, d.vocab, gh),
            Update::Write,
        );
    }
    for row in table.chunks_exact_mut(gh) {
        for (t, &b) in row.iter_mut().zip(bias) {
            *t += b;
        }
    }
    for (row, &x) in xp.chunks_exact_mut(gh).zip(&s.x) {
        row.copy_from_slice(&table[x as usize * gh..][..gh]);
    }
}

/// Runs layer `l`'s recurrence over the steps, from its `xp`.
///
/// Per step, the recurrent product goes to `s.rec` for the GRU, else straight onto
/// the input terms in `xp`, which then hold the whole pre-activations.
fn recurrence(backend: Backend, p: &FloatWeights<'_>, ops: &Operands, s: &mut Shard, l: usize) {
    let d = s.dims;
    let (h, gh) = (d.hidden, d.gates() * d.hidden);
    let sh = saved_blocks(d.cell) * h;
    let separate = separate_recurrent(d.cell);
    let b_h: &[f32] = if separate { p.layers[l].b_h } else { &[] };
    let layer = &mut s.layers[l];
    for t in 0..s.active.len() {
        let (a, step) = (s.active[t], s.start[t]..s.start[t + 1]);
        let (hs_past, hs_rest) = layer.hs.split_at_mut(step.start * h);
        let (saved_past, saved_rest) = layer.saved.split_at_mut(step.start * sh);
        let xp = &mut layer.xp[step.start * gh..step.end * gh];
        let (h_prev, saved_prev, rec): (&[f32], &[f32], &[f32]) = if t == 0 {
            let rec = if separate { &s.zero[..a * gh] } else { &[] };
            (&s.zero[..a * h], &s.zero[..a * sh], rec)
        } else {
            let prev = s.start[t - 1];
            let h_prev = &hs_past[prev * h..][..a * h];
            // h_prev (a,H) @ w_h^T (H,G·H) -> rec (a,G·H), or added onto xp.
            let (out, update) = if separate {
                (&mut s.rec[..a * gh], Update::Write)
            } else {
                (&mut xp[..], Update::Add)
            };
            backend.matmul(
                Mat::rows(h_prev, a, h),
                Mat::rows(&ops.layers[l].w_h_t, h, gh),
                MatMut::rows(out, a, gh),
                update,
            );
            let rec = if separate { &s.rec[..a * gh] } else { &[] };
            (h_prev, &saved_past[prev * sh..], rec)
        };
        cells::forward(
            backend,
            d.cell,
            cells::Forward {
                h,
                xp,
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
