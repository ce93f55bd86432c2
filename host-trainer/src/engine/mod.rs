//! The batched training engine: loss and gradient of a stacked recurrent network
//! (RNN, GRU or LSTM cells; one-hot or embedded input; next-token or per-sequence
//! output) over a padded mini-batch, on a fixed number of threads, deterministically.
//!
//! How a batch is computed ([`Engine::loss_and_grad`]):
//! 1. the rows are split into one contiguous shard per thread, balanced by real
//!    token count, and the weights are transposed and copied for the kernels once,
//!    a piece of each matrix per thread (`operands.rs`);
//! 2. each shard packs its rows time-major without padding (`shard.rs`), runs the
//!    forward pass (`forward.rs`: per layer one big product for the input terms of
//!    all tokens, then a `(rows, H) @ (H, G·H)` product and the fused gate work of
//!    `cells.rs` per time step; `output.rs`: one big product for all logits), the
//!    softmax cross-entropy (`math.rs`) and backpropagation through time
//!    (`backward.rs`: again one product per step and layer, and one big product
//!    each for the weight gradients) into its own gradient buffer;
//! 3. the shard gradients are summed in shard order, split by parameter range
//!    over the threads; [`Engine::train_step`] goes on to clip and apply Adam the
//!    same way (`step.rs`).
//!
//! Every step of this is sequential within its shard, and the shards are fixed by
//! the batch and the thread count, so the result is bit-identical run to run for
//! the same thread count (not across thread counts: the summation order differs).
//! All products go through `gemm.rs`, single-threaded per shard.

mod adam;
mod aligned;
mod backward;
mod bench;
mod cells;
mod forward;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
#[cfg(target_arch = "x86_64")]
mod gemm_avx512;
mod init;
mod math;
mod operands;
mod output;
#[cfg(test)]
mod reference;
mod rng;
pub mod seq2seq;
mod shard;
mod step;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod transpose_avx;

use std::ops::Range;

pub use adam::{clip_grad_norm, Adam};
pub use bench::{bench_train, Throughput};
pub use init::init_params;

use micrornn::format::Task;

use crate::data::batch::Batch;
use crate::train::params::Dims;
use gemm::Backend;
use operands::Operands;
use shard::Shard;

/// The training engine for one model size: a thread pool and reusable workspaces.
///
/// Computes the mean cross-entropy of a batch and its gradient. The rows of
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
    /// The weights as the kernels read them, shared by the shards.
    operands: Operands,
    /// One workspace per thread.
    shards: Vec<Shard>,
    /// Batch rows of each shard for the current call.
    ranges: Vec<Range<usize>>,
    /// Per thread: its part of the gradient's squared norm (`step.rs`).
    partials: Vec<f64>,
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
    /// Panics if `threads` is 0, the dimensions fail [`Dims::check`], or the thread
    /// pool cannot be created.
    pub fn new(dims: Dims, threads: usize) -> Engine {
        Self::with_backend(dims, threads, Backend::detect())
    }

    fn with_backend(dims: Dims, threads: usize, backend: Backend) -> Engine {
        assert!(threads >= 1, "the engine needs at least one thread");
        if let Err(e) = dims.check() {
            panic!("{e}");
        }
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
            operands: Operands::new(dims),
            shards: (0..threads).map(|_| Shard::new(dims)).collect(),
            ranges: vec![0..0; threads],
            partials: vec![0.0; threads],
        }
    }

    /// Number of threads (and shards) used per batch.
    pub fn threads(&self) -> usize {
        self.shards.len()
    }

    /// Mean cross-entropy over the batch's predictions, and its gradient.
    ///
    /// The predictions are [`Batch::loss_count`] many: every real token (generate)
    /// or every row's label (classify). Writes into `grad` (overwritten,
    /// `param_count` long) the gradient of the MEAN loss over them; returns the SUM
    /// of their negative log-likelihoods in nats, so callers can average across
    /// batches. A batch without predictions gives 0 and a zero gradient.
    ///
    /// Panics if `params` or `grad` has the wrong length or the batch is malformed
    /// (inconsistent sizes, a length beyond `steps`, a token outside the vocabulary,
    /// labels missing for a classify model or present for a generate one, a label
    /// outside the outputs).
    pub fn loss_and_grad(&mut self, params: &[f32], batch: &Batch, grad: &mut [f32]) -> f64 {
        assert_eq!(
            grad.len(),
            self.dims.param_count(),
            "gradient vector length"
        );
        let loss = self.run(params, batch, Pass::Grad);
        self.sum_gradients();
        grad.copy_from_slice(&self.shards[0].grad);
        loss
    }

    /// Forward only: the sum of the negative log-likelihoods over the batch's
    /// predictions (for validation), on the engine's threads.
    ///
    /// Panics as [`Engine::loss_and_grad`].
    pub fn loss(&mut self, params: &[f32], batch: &Batch) -> f64 {
        self.run(params, batch, Pass::Loss)
    }

    /// Forward only, on the calling thread: the logits of every prediction.
    ///
    /// Generate: `B * T * O` values, row `n` step `t` at `((n * T) + t) * O`.
    /// Classify: `B * O` values, row `n` at `n * O`. Padding (and empty rows) hold 0.
    ///
    /// Panics as [`Engine::loss_and_grad`].
    pub fn logits(&mut self, params: &[f32], batch: &Batch) -> Vec<f32> {
        self.check(params, batch);
        let p = self.dims.split(params);
        self.operands.refresh(None, 1, &p, false);
        let s = &mut self.shards[0];
        s.pack(batch, 0..batch.rows);
        forward::forward(self.backend, &p, &self.operands, s);
        let (o, task) = (self.dims.outputs, self.dims.task);
        let per_row = if task == Task::Generate {
            batch.steps
        } else {
            1
        };
        let mut out = vec![0.0; batch.rows * per_row * o];
        let mut put = |src: usize, dst: usize| {
            out[dst * o..][..o].copy_from_slice(&s.z[src * o..][..o]);
        };
        match task {
            Task::Generate => {
                for t in 0..s.active.len() {
                    for (j, &row) in s.order[..s.active[t]].iter().enumerate() {
                        put(s.start[t] + j, row * batch.steps + t);
                    }
                }
            }
            _ => {
                for (j, &row) in s.order[..s.live_rows()].iter().enumerate() {
                    put(j, row);
                }
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
        validate(batch, &self.dims);
    }

    /// Runs every shard (in parallel) and returns the summed loss, in shard order.
    fn run(&mut self, params: &[f32], batch: &Batch, pass: Pass) -> f64 {
        self.check(params, batch);
        split_rows(&batch.lens, &mut self.ranges);
        let Engine {
            dims,
            backend,
            pool,
            operands,
            shards,
            ranges,
            ..
        } = self;
        let p = dims.split(params);
        operands.refresh(pool.as_ref(), shards.len(), &p, pass == Pass::Grad);
        let operands = &*operands;
        let grad_scale = (pass == Pass::Grad).then_some(1.0 / batch.loss_count().max(1) as f32);
        let (backend, outputs) = (*backend, dims.outputs);
        let work = |(s, rows): (&mut Shard, &Range<usize>)| {
            s.pack(batch, rows.clone());
            forward::forward(backend, &p, operands, s);
            let n = s.predictions();
            s.loss = math::softmax_xent(
                backend,
                &mut s.z,
                &s.y[..n],
                outputs,
                &mut s.scratch,
                grad_scale,
            );
            if pass == Pass::Grad {
                backward::backward(backend, &p, operands, s);
            }
        };
        on_threads(pool.as_ref(), shards.iter_mut().zip(ranges.iter()), work);
        shards.iter().map(|s| s.loss).sum()
    }
}

/// Runs `f` on every item in parallel: the first on the calling thread, the
/// others on the pool's workers (all on the caller without a pool).
///
/// The caller computes a share itself, so a call costs one worker wake-up rather
/// than a hand-off of all the work.
fn on_threads<T: Send>(
    pool: Option<&rayon::ThreadPool>,
    items: impl Iterator<Item = T>,
    f: impl Fn(T) + Sync,
) {
    let Some(pool) = pool else {
        items.for_each(f);
        return;
    };
    let mut items = items;
    let Some(first) = items.next() else {
        return;
    };
    pool.in_place_scope(|scope| {
        let f = &f;
        for item in items {
            scope.spawn(move |_| f(item));
        }
        f(first);
    });
}

/// Panics unless `batch` is consistent, its tokens are below the vocabulary and it
/// has labels (below the outputs) exactly when the model classifies.
fn validate(batch: &Batch, dims: &Dims) {
    let cells = batch.rows * batch.steps;
    assert_eq!(
        batch.inputs.len(),
        cells,
        "batch inputs are not rows x steps"
    );
    assert_eq!(
        batch.lens.len(),
        batch.rows,
        "batch lens are not one per row"
    );
    let generate = dims.task == Task::Generate;
    if generate {
        assert!(
            batch.labels.is_empty(),
            "a labelled batch given to a generate model"
        );
        assert_eq!(
            batch.targets.len(),
            cells,
            "batch targets are not rows x steps"
        );
    } else {
        assert_eq!(
            batch.labels.len(),
            batch.rows,
            "a classify model needs one label per row"
        );
        assert!(
            batch.labels.iter().all(|&l| (l as usize) < dims.outputs),
            "a label outside the {} outputs",
            dims.outputs
        );
    }
    let vocab = dims.vocab;
    for (n, &len) in batch.lens.iter().enumerate() {
        assert!(
            len <= batch.steps,
            "row {n} is {len} long, beyond {} steps",
            batch.steps
        );
        let real = n * batch.steps..n * batch.steps + len;
        let targets = if generate {
            &batch.targets[real.clone()]
        } else {
            &[]
        };
        let max = batch.inputs[real].iter().chain(targets).max();
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
