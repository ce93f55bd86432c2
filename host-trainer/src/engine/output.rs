//! The output layer of one shard, both tasks: logits, and backward into the top
//! layer's state gradient.
//!
//! - generate: one prediction per token, `z (N,O) = hs_top @ w_out^T + b_out`;
//! - classify (characters or words): one per row, read from the top state after the row's last token:
//!   `top (R,H)` gathered from `hs_top`, `z (R,O) = top @ w_out^T + b_out`.

use micrornn::cell::FloatWeights;
use micrornn::format::Task;

use super::gemm::{Backend, Mat, MatMut, Update};
use super::operands::Operands;
use super::shard::Shard;
use crate::train::params::ParamsMut;

/// Fills `s.z` with the logits of every prediction (after `forward`'s recurrence).
pub(crate) fn forward(backend: Backend, p: &FloatWeights<'_>, ops: &Operands, s: &mut Shard) {
    let (h, o) = (s.dims.hidden, s.dims.outputs);
    let rows = s.predictions();
    let hs = &s.layers[s.dims.layers - 1].hs;
    let input: &[f32] = match s.dims.task {
        Task::Generate => hs,
        _ => {
            for (row, &at) in s.top.chunks_exact_mut(h).zip(&s.last) {
                row.copy_from_slice(&hs[at * h..][..h]);
            }
            &s.top
        }
    };
    // input (rows,H) @ w_out^T (H,O) -> z (rows,O), then + b_out per row.
    backend.matmul(
        Mat::rows(input, rows, h),
        Mat::rows(&ops.w_out_t, h, o),
        MatMut::rows(&mut s.z, rows, o),
        Update::Write,
    );
    for row in s.z[..rows * o].chunks_exact_mut(o) {
        for (v, &b) in row.iter_mut().zip(p.b_out) {
            *v += b;
        }
    }
}

/// From the logit gradient in `s.z`: `g.w_out`, `g.b_out`, and `s.dh` (overwritten,
/// `(N, H)`) = the gradient of the top layer's states.
pub(crate) fn backward(backend: Backend, ops: &Operands, s: &mut Shard, g: &mut ParamsMut<'_>) {
    let (h, o) = (s.dims.hidden, s.dims.outputs);
    let (n, rows) = (s.tokens(), s.predictions());
    let dz = &s.z[..rows * o];
    super::backward::column_sums(dz, o, g.b_out);
    let input: &[f32] = match s.dims.task {
        Task::Generate => &s.layers[s.dims.layers - 1].hs,
        _ => &s.top,
    };
    // dz^T (O,rows) @ input (rows,H) -> dw_out (O,H).
    backend.matmul(
        Mat::rows(dz, rows, o).t(),
        Mat::rows(input, rows, h),
        MatMut::rows(g.w_out, o, h),
        Update::Write,
    );
    match s.dims.task {
        Task::Generate => {
            // dz (N,O) @ w_out (O,H) -> dh (N,H).
            backend.matmul(
                Mat::rows(dz, n, o),
                Mat::rows(&ops.w_out, o, h),
                MatMut::rows(&mut s.dh, n, h),
                Update::Write,
            );
        }
        _ => {
            // dz (R,O) @ w_out (O,H) -> dtop (R,H), scattered to each row's last token.
            backend.matmul(
                Mat::rows(dz, rows, o),
                Mat::rows(&ops.w_out, o, h),
                MatMut::rows(&mut s.top, rows, h),
                Update::Write,
            );
            s.dh[..n * h].fill(0.0);
            for (row, &at) in s.top.chunks_exact(h).zip(&s.last) {
                s.dh[at * h..][..h].copy_from_slice(row);
            }
        }
    }
}
