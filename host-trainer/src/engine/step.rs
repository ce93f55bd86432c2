//! A whole optimisation step on the engine's threads: after the shards' forward
//! and backward passes, the sum of their gradients, its norm, the clipping and
//! the Adam update are split by parameter range over the same threads.
//!
//! Every parameter is computed by the same operations in the same order whatever
//! the split: the shards' gradients summed in shard order, then scaled, then Adam.
//! Only the norm's partial sums depend on the split (one per thread, added in
//! thread order), so a step is bit-identical run to run for a thread count.

use super::adam::{clip_scale, squared_norm};
use super::{on_threads, Adam, Engine, Pass};
use crate::data::batch::Batch;

/// Floats per cache line: parts of the parameter vector start on one, so two
/// threads never write the same line.
const LINE: usize = 16;

impl Engine {
    /// One training step on `batch`: the loss and gradient of
    /// [`Engine::loss_and_grad`], the gradient clipped to global norm `clip` as by
    /// [`super::clip_grad_norm`], then [`Adam::update`] of `params` at rate `lr`.
    ///
    /// Returns the loss (as `loss_and_grad`) and the gradient's norm before
    /// clipping. Without clipping (norm at most `clip`) the parameters come out
    /// bit-identical to those three calls in sequence; with it the norm's
    /// summation order differs in the last bits of an f64. A non-finite gradient
    /// is applied unscaled (the parameters become non-finite, which the caller
    /// detects).
    ///
    /// Panics as `loss_and_grad`, or if `params` and `adam` differ in length.
    pub fn train_step(
        &mut self,
        params: &mut [f32],
        batch: &Batch,
        adam: &mut Adam,
        lr: f32,
        clip: f32,
    ) -> (f64, f32) {
        let loss = self.run(params, batch, Pass::Grad);
        let norm = self.sum_gradients().sqrt() as f32;
        let scale = clip_scale(norm, clip);
        let step = adam.next_step(params.len(), lr);
        let part = self.part_len();
        let parts = params
            .chunks_mut(part)
            .zip(self.shards[0].grad.chunks(part))
            .zip(adam.m.chunks_mut(part).zip(adam.v.chunks_mut(part)));
        let avx2 = self.backend.has_avx2_fma();
        on_threads(self.pool.as_ref(), parts, |((p, g), (m, v))| {
            vectorised(avx2, || step.apply(p, g, scale, m, v));
        });
        (loss, norm)
    }

    /// Adds every shard's gradient into shard 0's, in shard order, split by
    /// parameter range over the threads; returns the squared norm of the sum.
    pub(super) fn sum_gradients(&mut self) -> f64 {
        let part = self.part_len();
        let (first, rest) = self.shards.split_first_mut().expect("at least one shard");
        let rest = &*rest;
        let parts = first
            .grad
            .chunks_mut(part)
            .zip(self.partials.iter_mut())
            .enumerate();
        let avx2 = self.backend.has_avx2_fma();
        on_threads(self.pool.as_ref(), parts, |(i, (sum, partial))| {
            let range = i * part..i * part + sum.len();
            vectorised(avx2, || {
                for shard in rest {
                    for (s, &g) in sum.iter_mut().zip(&shard.grad[range.clone()]) {
                        *s += g;
                    }
                }
                *partial = squared_norm(sum);
            });
        });
        let used = first.grad.len().div_ceil(part);
        self.partials[..used].iter().sum()
    }

    /// Parameters per thread in [`Engine::sum_gradients`] and
    /// [`Engine::train_step`]: an equal share, rounded up to whole cache lines.
    fn part_len(&self) -> usize {
        let n = self.dims.param_count();
        n.div_ceil(self.threads()).next_multiple_of(LINE).max(LINE)
    }
}

/// Runs `f`, compiled for AVX2 if `avx2` (the CPU has it, see
/// [`super::gemm::Backend::has_avx2_fma`]): the element-wise loops inlined into
/// it then work on 8 lanes instead of 4. Same operations (no fused
/// multiply-adds), so the same bits either way.
#[inline(always)]
fn vectorised(avx2: bool, f: impl FnOnce()) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // Safety: `avx2` is only true when the CPU has AVX2 (`Backend::detect`).
        unsafe { with_avx2(f) };
        return;
    }
    let _ = avx2;
    f()
}

/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2(f: impl FnOnce()) {
    f()
}
