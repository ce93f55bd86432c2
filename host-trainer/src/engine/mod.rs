//! The batched training engine: loss and gradient of the vanilla RNN over a padded
//! mini-batch, on a fixed number of threads, deterministically.
//!
//! How a batch is computed ([`Engine::loss_and_grad`]):
//! 1. the rows are split into one contiguous shard per thread, balanced by real
//!    token count;
//! 2. each shard packs its rows time-major without padding (`shard.rs`), runs the
//!    forward pass (`forward.rs`: a `(rows, H) @ (H, H)` product per time step,
//!    one big product for all logits), the softmax cross-entropy (`math.rs`) and
//!    backpropagation through time (`backward.rs`: again one product per step, and
//!    one big product each for `dw_out`, `dh` and `dw_hh`) into its own gradient
//!    buffer;
//! 3. the shard gradients are summed in shard order.
//!
//! Every step of this is sequential within its shard, and the shards are fixed by
//! the batch and the thread count, so the result is bit-identical run to run for
//! the same thread count (not across thread counts: the summation order differs).
//! All products go through `gemm.rs`, single-threaded per shard.

mod adam;
mod aligned;
mod backward;
mod bench;
mod forward;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
#[cfg(target_arch = "x86_64")]
mod gemm_avx512;
mod init;
mod math;
mod rng;
mod shard;
#[cfg(test)]
mod tests;

use std::ops::Range;

pub use adam::{clip_grad_norm, Adam};
pub use bench::bench_train;
pub use init::init_params;

use crate::batch::Batch;
use crate::params::Dims;
use gemm::Backend;
use shard::Shard;

/// The training engine for one model size: a thread pool and reusable workspaces.
///
/// Computes the masked mean cross-entropy of a batch and its gradient. The rows of
/// a batch are split into contiguous shards, one per thread; each thread computes
/// its shard's gradient into its own buffer and the buffers are summed in shard
/// order, so results are bit-identical for the same thread count.
///
/// With `threads = N` the engine owns a rayon pool of `N - 1` workers and the
/// calling thread computes shard 0 itself (no pool at all for `N = 1`): N threads
/// compute, and a batch costs one worker wake-up rather than a hand-off of the
/// whole call. Buffers grow to the largest batch seen and are then reused:
/// steady-state calls do not allocate.
#[derive(Debug)]
pub struct Engine {
    dims: Dims,
    backend: Backend,
    /// `threads - 1` workers (none for one thread): the calling thread runs shard 0.
    pool: Option<rayon::ThreadPool>,
    /// One workspace per thread.
    shards: Vec<Shard>,
    /// Batch rows of each shard for the current call.
    ranges: Vec<Range<usize>>,
}

/// What a call computes after the forward pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Loss,
    Grad,
}

impl Engine {
    /// An engine for models of size `dims` using `threads` threads (at least 1).
    ///
    /// Panics if `threads` is 0, a dimension is 0, the vocabulary exceeds the `u16`
    /// token range, or the thread pool cannot be created.
    pub fn new(dims: Dims, threads: usize) -> Engine {
        Self::with_backend(dims, threads, Backend::detect())
    }

    fn with_backend(dims: Dims, threads: usize, backend: Backend) -> Engine {
        assert!(threads >= 1, "the engine needs at least one thread");
        assert!(
            dims.vocab >= 1 && dims.hidden >= 1,
            "empty model dimensions {dims:?}"
        );
        assert!(
            dims.vocab <= 1 << 16,
            "vocabulary of {} exceeds u16 tokens",
            dims.vocab
        );
        let pool = (threads > 1).then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .thread_name(|i| format!("micrornn-engine-{}", i + 1))
                .build()
                .expect("cannot start the engine's threads")
        });
        Engine {
            dims,
            backend,
            pool,
            shards: (0..threads).map(|_| Shard::new(dims)).collect(),
            ranges: vec![0..0; threads],
        }
    }

    /// Number of threads (and shards) used per batch.
    pub fn threads(&self) -> usize {
        self.shards.len()
    }

    /// Masked mean cross-entropy over the batch's real tokens, and its gradient.
    ///
    /// Writes into `grad` (overwritten, `param_count` long) the gradient of the
    /// MEAN loss over `batch.tokens()`; returns the SUM of the per-token negative
    /// log-likelihoods in nats, so callers can average across batches. A batch
    /// without tokens gives 0 and a zero gradient.
    ///
    /// Panics if `params` or `grad` has the wrong length or the batch is malformed
    /// (inconsistent sizes, a length beyond `steps`, a token outside the vocabulary).
    pub fn loss_and_grad(&mut self, params: &[f32], batch: &Batch, grad: &mut [f32]) -> f64 {
        assert_eq!(
            grad.len(),
            self.dims.param_count(),
            "gradient vector length"
        );
        let loss = self.run(params, batch, Pass::Grad);
        let (first, rest) = self.shards.split_first().expect("at least one shard");
        grad.copy_from_slice(&first.grad);
        for shard in rest {
            for (g, &s) in grad.iter_mut().zip(shard.grad.iter()) {
                *g += s;
            }
        }
        loss
    }

    /// Forward only: the sum of the negative log-likelihoods over the batch's real
    /// tokens (for validation), on the engine's threads.
    ///
    /// Panics as [`Engine::loss_and_grad`].
    pub fn loss(&mut self, params: &[f32], batch: &Batch) -> f64 {
        self.run(params, batch, Pass::Loss)
    }

    /// Forward only, on the calling thread: the logits of every position, `B * T * V`
    /// long, row `n` step `t` at `((n * T) + t) * V`. Padding positions hold 0.
    ///
    /// Panics as [`Engine::loss_and_grad`].
    pub fn logits(&mut self, params: &[f32], batch: &Batch) -> Vec<f32> {
        self.check(params, batch);
        let p = self.dims.split(params);
        let s = &mut self.shards[0];
        s.pack(batch, 0..batch.rows);
        forward::forward(self.backend, &p, s);
        let v = self.dims.vocab;
        let mut out = vec![0.0; batch.rows * batch.steps * v];
        for t in 0..s.active.len() {
            for (j, &row) in s.order[..s.active[t]].iter().enumerate() {
                let src = (s.start[t] + j) * v;
                let dst = (row * batch.steps + t) * v;
                out[dst..dst + v].copy_from_slice(&s.z[src..src + v]);
            }
        }
        out
    }

    /// Panics unless the parameters and the batch fit this engine.
    fn check(&self, params: &[f32], batch: &Batch) {
        assert_eq!(
            params.len(),
            self.dims.param_count(),
            "parameter vector length"
        );
        validate(batch, self.dims.vocab);
    }

    /// Runs every shard (in parallel) and returns the summed loss, in shard order.
    fn run(&mut self, params: &[f32], batch: &Batch, pass: Pass) -> f64 {
        self.check(params, batch);
        split_rows(&batch.lens, &mut self.ranges);
        let Engine {
            dims,
            backend,
            pool,
            shards,
            ranges,
        } = self;
        let p = dims.split(params);
        let grad_scale = (pass == Pass::Grad).then_some(1.0 / batch.tokens().max(1) as f32);
        let (backend, vocab) = (*backend, dims.vocab);
        let work = |(s, rows): (&mut Shard, &Range<usize>)| {
            s.pack(batch, rows.clone());
            forward::forward(backend, &p, s);
            let n = s.tokens();
            s.loss = math::softmax_xent(
                backend,
                &mut s.z,
                &s.y[..n],
                vocab,
                &mut s.scratch,
                grad_scale,
            );
            if pass == Pass::Grad {
                backward::backward(backend, &p, s);
            }
        };
        let (first, rest) = shards.split_first_mut().expect("at least one shard");
        match pool {
            None => work((first, &ranges[0])),
            // Shards 1.. go to the workers; the caller computes shard 0 meanwhile
            // (one wake-up per batch, no hand-off of the caller's own share).
            Some(pool) => pool.in_place_scope(|scope| {
                let work = &work;
                for (s, rows) in rest.iter_mut().zip(&ranges[1..]) {
                    scope.spawn(move |_| work((s, rows)));
                }
                work((first, &ranges[0]));
            }),
        }
        shards.iter().map(|s| s.loss).sum()
    }
}

/// Panics unless `batch` is consistent and its tokens are below `vocab`.
fn validate(batch: &Batch, vocab: usize) {
    let cells = batch.rows * batch.steps;
    assert_eq!(
        batch.inputs.len(),
        cells,
        "batch inputs are not rows x steps"
    );
    assert_eq!(
        batch.targets.len(),
        cells,
        "batch targets are not rows x steps"
    );
    assert_eq!(
        batch.lens.len(),
        batch.rows,
        "batch lens are not one per row"
    );
    for (n, &len) in batch.lens.iter().enumerate() {
        assert!(
            len <= batch.steps,
            "row {n} is {len} long, beyond {} steps",
            batch.steps
        );
        let real = n * batch.steps..n * batch.steps + len;
        let max = batch.inputs[real.clone()]
            .iter()
            .chain(&batch.targets[real])
            .max();
        assert!(
            max.is_none_or(|&m| (m as usize) < vocab),
            "row {n} has a token outside the vocabulary of {vocab}"
        );
    }
}

/// Splits rows into `ranges.len()` contiguous shards of about equal token count
/// (a row goes to the shard its middle token falls in). Deterministic.
fn split_rows(lens: &[usize], ranges: &mut [Range<usize>]) {
    let parts = ranges.len();
    let total: usize = lens.iter().sum();
    let (mut row, mut done) = (0, 0);
    for (k, range) in ranges.iter_mut().enumerate() {
        let begin = row;
        if k + 1 == parts {
            row = lens.len();
        } else {
            // Take rows while their midpoint is within this shard's share.
            let target = total * (k + 1);
            while row < lens.len() && (2 * done + lens[row]) * parts <= 2 * target {
                done += lens[row];
                row += 1;
            }
        }
        *range = begin..row;
    }
}
