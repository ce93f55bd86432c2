//! Element-wise math of the engine: fast `tanh` and `exp`, and the softmax cross-entropy.
//!
//! (`cells.rs` inlines `tanh` into its fused loops.)
//!
//! The approximations are branch-free straight-line `f32` code so the loops over
//! slices vectorise; [`Backend::has_avx2_fma`](super::gemm::Backend) selects a copy
//! of each loop compiled for AVX2 + FMA (8 lanes instead of 4).

use super::gemm::Backend;

/// `tanh(x)` for `f32`, absolute error below 1e-6 everywhere (a few ulp).
///
/// A 13/6 odd/even rational minimax approximation on `[-9, 9]` (the one Eigen uses);
/// beyond that `tanh` is ±1 to `f32` precision.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const A: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const B: [f32; 4] = [4.893_525e-3, 2.268_434_7e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = A[6];
    for &a in A[..6].iter().rev() {
        p = p.mul_add(x2, a);
    }
    let mut q = B[3];
    for &b in B[..3].iter().rev() {
        q = q.mul_add(x2, b);
    }
    x * p / q
}

/// `e^x` for `f32`, relative error about 2e-7, flushed to 0 below `e^-69` (1e-30).
///
/// The flush keeps the softmax and its gradient (probabilities times 1/tokens)
/// free of subnormal floats, which are very slow in the products; a probability
/// below 1e-30 changes neither the loss nor the gradient at f32 precision.
///
/// Cephes `expf`: `e^x = 2^n · e^r` with `n = round(x / ln 2)`, `|r| <= ln 2 / 2`,
/// and a degree-6 polynomial for `e^r`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // Adding then subtracting 1.5 · 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const FLUSH: f32 = -69.0;
    let tiny = x < FLUSH;
    let x = x.clamp(FLUSH, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // r = x - n ln 2, with ln 2 split in two for precision.
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * (r * r) + r + 1.0;
    // 2^n built from the integer n sitting in the low mantissa bits of `shifted`
    // (bits(shifted) = bits(ROUND) + n): integer ops only, so the loop vectorises
    // (a saturating `as i32` would not).
    let biased = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let e = er * f32::from_bits(biased << 23);
    if tiny {
        0.0
    } else {
        e
    }
}

/// Replaces every element of `xs` with its `exp` ([`exp`]).
pub(crate) fn exp_in_place(backend: Backend, xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if backend.has_avx2_fma() {
        // Safety: the backend reports AVX2 + FMA only when the CPU has them.
        unsafe { avx2::exp_in_place(xs) };
        return;
    }
    let _ = backend;
    exp_loop(xs);
}

#[inline(always)]
fn exp_loop(xs: &mut [f32]) {
    for x in xs {
        *x = exp(*x);
    }
}

/// The element-wise loops compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    /// # Safety
    /// The CPU supports AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn exp_in_place(xs: &mut [f32]) {
        super::exp_loop(xs)
    }
}

/// Softmax cross-entropy of `rows` tokens: `z` (rows, V) logits, `targets` (rows,).
///
/// Returns the sum over rows of `-ln softmax(z_r)[y_r]` (nats, accumulated in f64).
/// `z` is clobbered: with `grad_scale = Some(s)` it ends holding
/// `s · (softmax(z_r) - onehot(y_r))`, the gradient of `s ·` the summed loss with
/// respect to the logits; otherwise its contents are unspecified.
/// `scratch` needs `rows` elements.
pub(crate) fn softmax_xent(
    backend: Backend,
    z: &mut [f32],
    targets: &[u16],
    vocab: usize,
    scratch: &mut [f32],
    grad_scale: Option<f32>,
) -> f64 {
    let rows = targets.len();
    let z = &mut z[..rows * vocab];
    let scratch = &mut scratch[..rows];
    // Shift each row by its max (so exp cannot overflow); keep the shifted target logit.
    for ((row, &y), zy) in z
        .chunks_exact_mut(vocab)
        .zip(targets)
        .zip(scratch.iter_mut())
    {
        let max = lanes_reduce(row, f32::NEG_INFINITY, |m, v| if v > m { v } else { m });
        for v in row.iter_mut() {
            *v -= max;
        }
        *zy = row[y as usize];
    }
    exp_in_place(backend, z);
    let mut loss = 0.0f64;
    for ((row, &y), &zy) in z.chunks_exact_mut(vocab).zip(targets).zip(scratch.iter()) {
        let sum = lanes_reduce(row, 0.0, |a, v| a + v);
        loss += (sum as f64).ln() - zy as f64;
        if let Some(s) = grad_scale {
            let k = s / sum;
            for v in row.iter_mut() {
                *v *= k;
            }
            row[y as usize] -= s;
        }
    }
    loss
}

/// Folds `xs` with `f` in 8 interleaved lanes, then folds the lanes: a fixed order
/// (so deterministic) that vectorises, unlike one sequential chain of `f32` ops.
#[inline(always)]
fn lanes_reduce(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 8;
    let mut acc = [init; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = f(*a, x);
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a = f(*a, x);
    }
    acc.into_iter().fold(init, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_is_accurate_to_1e6() {
        let mut worst = 0.0f64;
        let mut xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 1e-4).collect();
        xs.extend([-100.0, -9.0, 9.0, 100.0, 1e-30, -1e-30, 0.0]);
        for &x in &xs {
            let y = tanh(x);
            worst = worst.max((y as f64 - (x as f64).tanh()).abs());
        }
        assert!(worst < 1e-6, "tanh error {worst}");
        assert_eq!(tanh(0.0), 0.0);
    }

    #[test]
    fn exp_is_accurate() {
        let xs: Vec<f32> = (-68_900..=10_000).map(|i| i as f32 * 1e-3).collect();
        let mut ys = xs.clone();
        exp_in_place(Backend::detect(), &mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let want = (x as f64).exp();
            assert!(
                ((y as f64 - want) / want).abs() < 5e-7,
                "exp({x}) = {y}, want {want}"
            );
        }
        assert_eq!(exp(-69.5), 0.0);
        assert_eq!(exp(-1e4), 0.0);
        assert!(exp(-68.9) > 1e-30);
    }

    #[test]
    fn softmax_xent_matches_f64() {
        let vocab = 5;
        let logits = [1.0f32, -2.0, 0.5, 3.0, 0.0, -1.0, -1.0, 2.0, 0.0, 100.0];
        let targets = [3u16, 0];
        let mut z = logits.to_vec();
        let mut scratch = [0.0; 2];
        let loss = softmax_xent(
            Backend::detect(),
            &mut z,
            &targets,
            vocab,
            &mut scratch,
            Some(0.5),
        );
        let mut want_loss = 0.0;
        for (r, &y) in targets.iter().enumerate() {
            let row: Vec<f64> = logits[r * vocab..][..vocab]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let max = row.iter().cloned().fold(f64::MIN, f64::max);
            let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
            want_loss += sum.ln() + max - row[y as usize];
            for (c, &v) in row.iter().enumerate() {
                let g = 0.5 * ((v - max).exp() / sum - if c == y as usize { 1.0 } else { 0.0 });
                assert!((z[r * vocab + c] as f64 - g).abs() < 1e-6);
            }
        }
        assert!((loss - want_loss).abs() < 1e-5, "{loss} vs {want_loss}");
    }
}
