//! The optimizer: Adam with bias correction, and global gradient-norm clipping.

/// Adam (Kingma & Ba) with bias correction and optional decoupled weight decay (AdamW).
///
/// All state is public so a checkpoint can save and restore it exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// First-moment estimates, one per parameter.
    pub m: Vec<f32>,
    /// Second-moment estimates, one per parameter.
    pub v: Vec<f32>,
    /// Number of updates applied so far (the bias correction uses it).
    pub step: u64,
    /// Decay of the first moment (default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (default 0.999).
    pub beta2: f32,
    /// Added to the root of the second moment (default 1e-8).
    pub eps: f32,
    /// Decoupled weight decay per unit learning rate, applied to every parameter (default 0).
    pub weight_decay: f32,
}

impl Adam {
    /// Fresh state for `n` parameters with the default hyper-parameters.
    pub fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            step: 0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// One update with learning rate `lr`:
    /// `p -= lr * (m̂ / (sqrt(v̂) + eps) + weight_decay * p)`.
    ///
    /// Panics if `params`, `grad` and the state differ in length.
    pub fn update(&mut self, params: &mut [f32], grad: &[f32], lr: f32) {
        assert_eq!(
            grad.len(),
            self.m.len(),
            "Adam state and gradient differ in length"
        );
        let step = self.next_step(params.len(), lr);
        step.apply(params, grad, 1.0, &mut self.m, &mut self.v);
    }

    /// Counts one more update and returns its constants, to be applied to every
    /// parameter (in any split) by [`AdamStep::apply`].
    ///
    /// Panics if `params` (the parameter count) differs from the state's length.
    pub(crate) fn next_step(&mut self, params: usize, lr: f32) -> AdamStep {
        assert_eq!(
            params,
            self.m.len(),
            "Adam state and parameters differ in length"
        );
        self.step += 1;
        let t = self.step.min(i32::MAX as u64) as i32;
        let (b1, b2) = (self.beta1, self.beta2);
        // Bias corrections in f64: 1 - beta^t loses digits in f32 for beta2 near 1.
        AdamStep {
            b1,
            b2,
            c1: (1.0 / (1.0 - (b1 as f64).powi(t))) as f32,
            c2: (1.0 / (1.0 - (b2 as f64).powi(t))) as f32,
            eps: self.eps,
            lr,
            decay: lr * self.weight_decay,
        }
    }
}

/// The constants of one Adam update ([`Adam::next_step`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamStep {
    b1: f32,
    b2: f32,
    /// Bias corrections `1 / (1 - beta^t)`.
    c1: f32,
    c2: f32,
    eps: f32,
    lr: f32,
    /// `lr * weight_decay`.
    decay: f32,
}

impl AdamStep {
    /// Updates `params` from `grad * scale` (`scale` 1 leaves the gradient as is,
    /// bit for bit) and the matching slices of the moments.
    #[inline(always)]
    pub(crate) fn apply(
        &self,
        params: &mut [f32],
        grad: &[f32],
        scale: f32,
        m: &mut [f32],
        v: &mut [f32],
    ) {
        let n = params.len();
        assert!(
            grad.len() == n && m.len() == n && v.len() == n,
            "Adam slices differ in length"
        );
        let AdamStep {
            b1,
            b2,
            c1,
            c2,
            eps,
            lr,
            decay,
        } = *self;
        let it = params.iter_mut().zip(grad).zip(m.iter_mut().zip(v));
        for ((p, &g), (m, v)) in it {
            let g = g * scale;
            *m = flush(b1 * *m + (1.0 - b1) * g);
            *v = flush(b2 * *v + (1.0 - b2) * g * g);
            let step = (*m * c1) / ((*v * c2).sqrt() + eps);
            *p -= lr * step + decay * *p;
        }
    }
}

/// Moments below 1e-30 become 0: a parameter whose gradient stays 0 (a character
/// missing from many batches) would otherwise decay its moments into subnormal
/// floats, which are very slow; at that size they do not change the update.
#[inline(always)]
fn flush(x: f32) -> f32 {
    if x.abs() < 1e-30 {
        0.0
    } else {
        x
    }
}

/// Scales `grad` in place so its global L2 norm is at most `max_norm`; returns the norm before.
///
/// The norm is accumulated in f64. A non-finite norm (NaN or infinite gradient)
/// is returned as is and `grad` is left untouched, so the caller can skip the step.
pub fn clip_grad_norm(grad: &mut [f32], max_norm: f32) -> f32 {
    let norm = squared_norm(grad).sqrt() as f32;
    let k = clip_scale(norm, max_norm);
    if k != 1.0 {
        grad.iter_mut().for_each(|g| *g *= k);
    }
    norm
}

/// The factor [`clip_grad_norm`] scales a gradient of norm `norm` by: 1 unless
/// the norm is finite and above `max_norm`.
pub(crate) fn clip_scale(norm: f32, max_norm: f32) -> f32 {
    if norm.is_finite() && norm > max_norm {
        max_norm / norm
    } else {
        1.0
    }
}

/// `Σ g²` in f64, in eight interleaved partial sums: a fixed order (deterministic)
/// that vectorises.
#[inline(always)]
pub(crate) fn squared_norm(grad: &[f32]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = grad.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (s, &g) in lanes.iter_mut().zip(chunk) {
            *s += g as f64 * g as f64;
        }
    }
    for (s, &g) in lanes.iter_mut().zip(rest) {
        *s += g as f64 * g as f64;
    }
    lanes.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_scales_only_above_the_threshold() {
        let mut g = vec![3.0f32, 4.0];
        assert_eq!(clip_grad_norm(&mut g, 10.0), 5.0);
        assert_eq!(g, vec![3.0, 4.0]);
        assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-7 && (g[1] - 0.8).abs() < 1e-7);
        let norm_after = (g[0] * g[0] + g[1] * g[1]).sqrt();
        assert!((norm_after - 1.0).abs() < 1e-6);
        let mut bad = vec![f32::NAN, 1.0];
        assert!(clip_grad_norm(&mut bad, 1.0).is_nan());
        assert_eq!(bad[1], 1.0);
        assert_eq!(clip_grad_norm(&mut [], 1.0), 0.0);
    }

    #[test]
    fn first_adam_step_moves_each_parameter_by_lr_against_its_gradient() {
        let mut adam = Adam::new(3);
        let mut p = vec![1.0f32, 1.0, 1.0];
        adam.update(&mut p, &[0.5, -2.0, 0.0], 0.1);
        assert!(
            (p[0] - 0.9).abs() < 1e-6 && (p[1] - 1.1).abs() < 1e-6 && p[2] == 1.0,
            "{p:?}"
        );
        assert_eq!(adam.step, 1);
        // Weight decay shrinks even with a zero gradient.
        adam.weight_decay = 0.5;
        adam.update(&mut p, &[0.0; 3], 0.1);
        assert!((p[2] - 0.95).abs() < 1e-6);
    }

    #[test]
    fn adam_minimises_a_quadratic() {
        let mut adam = Adam::new(2);
        let mut p = vec![3.0f32, -2.0];
        for _ in 0..2000 {
            let g = [2.0 * (p[0] - 1.0), 2.0 * (p[1] + 0.5)];
            adam.update(&mut p, &g, 0.01);
        }
        assert!(
            (p[0] - 1.0).abs() < 1e-2 && (p[1] + 0.5).abs() < 1e-2,
            "{p:?}"
        );
    }
}
