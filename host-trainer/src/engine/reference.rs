//! The model written as plainly as possible, straight from `micrornn::cell::weights`:
//! one sequence at a time, one step at a time, plain loops in f64. The engine's
//! tests compare against it.

use micrornn::format::{CellKind, Task};

use crate::data::batch::Batch;
use crate::train::params::Dims;

/// One layer's tensors.
struct Layer<'a> {
    w_x: &'a [f64],
    b_x: &'a [f64],
    w_h: &'a [f64],
    b_h: &'a [f64],
}

/// The next `n` values of `rest`.
fn take<'a>(rest: &mut &'a [f64], n: usize) -> &'a [f64] {
    let (a, b) = rest.split_at(n);
    *rest = b;
    a
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `m (rows, cols) · v + b`, `m` row-major.
fn affine(m: &[f64], v: &[f64], b: &[f64]) -> Vec<f64> {
    let cols = v.len();
    b.iter()
        .enumerate()
        .map(|(r, &b)| b + (0..cols).map(|j| m[r * cols + j] * v[j]).sum::<f64>())
        .collect()
}

/// Summed negative log-likelihood of the batch's predictions, and the logits in the
/// layout of [`super::Engine::logits`] (generate `B * T * O`, classify `B * O`;
/// padding 0).
pub(super) fn reference(dims: Dims, params: &[f64], batch: &Batch) -> (f64, Vec<f64>) {
    let (h, e, v, o) = (dims.hidden, dims.embed, dims.vocab, dims.outputs);
    let gh = dims.cell.gates() * h;
    // Flat order: emb, (w_x, b_x, w_h, b_h) per layer, w_out, b_out.
    let mut rest = params;
    let emb = take(&mut rest, v * e);
    let layers: Vec<Layer<'_>> = (0..dims.layers)
        .map(|l| {
            let input = match (l, e) {
                (0, 0) => v,
                (0, e) => e,
                _ => h,
            };
            Layer {
                w_x: take(&mut rest, gh * input),
                b_x: take(&mut rest, gh),
                w_h: take(&mut rest, gh * h),
                b_h: take(&mut rest, gh),
            }
        })
        .collect();
    let w_out = take(&mut rest, o * h);
    let b_out = take(&mut rest, o);
    assert!(rest.is_empty(), "parameter vector length");

    let generate = dims.task == Task::Generate;
    let per_row = if generate { batch.steps * o } else { o };
    let mut logits = vec![0.0; batch.rows * per_row];
    let mut nll = 0.0;
    // Adds the loss of the logits `z` against `target`.
    let mut score = |z: &[f64], target: usize| {
        let max = z.iter().cloned().fold(f64::MIN, f64::max);
        let lse = max + z.iter().map(|&zo| (zo - max).exp()).sum::<f64>().ln();
        nll += lse - z[target];
    };
    for n in 0..batch.rows {
        let mut hs = vec![vec![0.0f64; h]; dims.layers];
        let mut cs = vec![vec![0.0f64; h]; dims.layers];
        for t in 0..batch.lens[n] {
            let tok = batch.inputs[n * batch.steps + t] as usize;
            let mut below: Vec<f64> = Vec::new();
            for (l, w) in layers.iter().enumerate() {
                // x = W_x·input + b_x (one-hot: the token's row of w_x).
                let x: Vec<f64> = if l == 0 && e == 0 {
                    (0..gh).map(|r| w.w_x[tok * gh + r] + w.b_x[r]).collect()
                } else if l == 0 {
                    affine(w.w_x, &emb[tok * e..(tok + 1) * e], w.b_x)
                } else {
                    affine(w.w_x, &below, w.b_x)
                };
                let a = affine(w.w_h, &hs[l], w.b_h);
                let (hp, cp) = (&hs[l], &cs[l]);
                let (new_h, new_c): (Vec<f64>, Vec<f64>) = match dims.cell {
                    CellKind::Rnn => ((0..h).map(|i| (x[i] + a[i]).tanh()).collect(), vec![]),
                    CellKind::Gru => (0..h)
                        .map(|i| {
                            let r = sigmoid(x[i] + a[i]);
                            let z = sigmoid(x[h + i] + a[h + i]);
                            let nn = (x[2 * h + i] + r * a[2 * h + i]).tanh();
                            ((1.0 - z) * nn + z * hp[i], 0.0)
                        })
                        .unzip(),
                    CellKind::Lstm => (0..h)
                        .map(|k| {
                            let i = sigmoid(x[k] + a[k]);
                            let f = sigmoid(x[h + k] + a[h + k]);
                            let g = (x[2 * h + k] + a[2 * h + k]).tanh();
                            let og = sigmoid(x[3 * h + k] + a[3 * h + k]);
                            let c = f * cp[k] + i * g;
                            (og * c.tanh(), c)
                        })
                        .unzip(),
                };
                hs[l] = new_h;
                cs[l] = new_c;
                below.clone_from(&hs[l]);
            }
            if generate {
                let z = affine(w_out, &below, b_out);
                score(&z, batch.targets[n * batch.steps + t] as usize);
                logits[n * per_row + t * o..][..o].copy_from_slice(&z);
            }
        }
        if !generate && batch.lens[n] > 0 {
            let z = affine(w_out, &hs[dims.layers - 1], b_out);
            score(&z, batch.labels[n] as usize);
            logits[n * o..][..o].copy_from_slice(&z);
        }
    }
    (nll, logits)
}
