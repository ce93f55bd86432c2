//! The batched training engine of the encoder–decoder (spelling → pronunciation):
//! loss and gradient of a batch of pairs, the Adam step, greedy decoding, on a fixed
//! number of threads, deterministically.
//!
//! The model (`dims.rs` has the flat parameter order): a bidirectional encoder of
//! two stacks of `H/2` units, a decoder of `H` units whose layer `l` starts from
//! `[fwd final ; bwd final]` of layer `l`, Luong dot attention of the decoder's top
//! state over the encoder states `e_j = [f_j ; b_j]`, and logits `W_out [h ; c] + b`.
//!
//! As in the main engine, the rows of a batch are split into one contiguous shard per
//! thread (balanced by tokens); each shard runs the whole forward and backward pass
//! (`work.rs`, the stacks in `stack.rs` through the shared cell kernels and gemm) into
//! its own gradient; the gradients are summed in shard order. Same batch, seed and
//! thread count: the same bits.

mod dims;
mod stack;
#[cfg(test)]
mod tests;
mod work;

pub use dims::Seq2seqDims;

use std::ops::Range;

use micrornn::format::CellKind;

use super::adam::{clip_scale, squared_norm};
use super::gemm::Backend;
use super::rng::SplitMix64;
use super::{on_threads, split_rows, Adam};
use crate::data::cmudict::{Pair, MAX_OUTPUT};
use work::{Dropout, Ops, Work};

/// The seq2seq training engine for one model size: threads and reusable workspaces.
#[derive(Debug)]
pub struct Seq2seqEngine {
    dims: Seq2seqDims,
    backend: Backend,
    /// `threads - 1` workers; the calling thread runs shard 0.
    pool: Option<rayon::ThreadPool>,
    ops: Ops,
    works: Vec<Work>,
    ranges: Vec<Range<usize>>,
    /// Dropout probability on the output layer's input in training, and its seed.
    dropout: f32,
    dropout_seed: u64,
}

impl Seq2seqEngine {
    /// An engine for models of shape `dims` on `threads` threads (at least 1).
    ///
    /// Panics if `threads` is 0 or the shape fails [`Seq2seqDims::check`].
    pub fn new(dims: Seq2seqDims, threads: usize) -> Self {
        assert!(threads >= 1, "the engine needs at least one thread");
        if let Err(e) = dims.check() {
            panic!("{e}");
        }
        let pool = (threads > 1).then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .thread_name(|i| format!("micrornn-s2s-{}", i + 1))
                .build()
                .expect("cannot start the engine's threads")
        });
        Seq2seqEngine {
            dims,
            backend: Backend::detect(),
            pool,
            ops: Ops::default(),
            works: (0..threads).map(|_| Work::new(dims)).collect(),
            ranges: vec![0..0; threads],
            dropout: 0.0,
            dropout_seed: 0,
        }
    }

    /// Dropout `p` (in `[0, 1)`; 0 = none) on the output layer's input `[h ; c]` in
    /// [`Seq2seqEngine::train_step`], masks drawn from `seed` and the step number.
    ///
    /// Panics if `p` is outside `[0, 1)`.
    pub fn set_dropout(&mut self, p: f32, seed: u64) {
        assert!((0.0..1.0).contains(&p), "dropout must be in [0, 1)");
        self.dropout = p;
        self.dropout_seed = seed;
    }

    /// The dropout mask key of training step `step`; `None` without dropout.
    fn mask_key(&self, step: u64) -> Option<u64> {
        (self.dropout > 0.0).then(|| {
            SplitMix64::new(self.dropout_seed ^ step.wrapping_mul(0x9e37_79b9_7f4a_7c15)).next_u64()
        })
    }

    /// The model shape.
    pub fn dims(&self) -> Seq2seqDims {
        self.dims
    }

    /// Sum of the negative log-likelihoods (nats) of every predicted token of the
    /// batch (each phoneme and each final boundary), and into `grad` (overwritten)
    /// the gradient of their MEAN.
    ///
    /// Panics if `params` or `grad` has the wrong length or a pair holds a token
    /// outside the vocabularies or is empty.
    pub fn loss_and_grad(&mut self, params: &[f32], batch: &[&Pair], grad: &mut [f32]) -> f64 {
        self.masked_loss_and_grad(params, batch, grad, None)
    }

    /// [`Seq2seqEngine::loss_and_grad`] with the dropout mask that
    /// [`Seq2seqEngine::train_step`] uses at step `step` (`None`: no dropout).
    pub fn masked_loss_and_grad(
        &mut self,
        params: &[f32],
        batch: &[&Pair],
        grad: &mut [f32],
        step: Option<u64>,
    ) -> f64 {
        assert_eq!(grad.len(), self.dims.param_count(), "gradient length");
        let key = step.and_then(|s| self.mask_key(s));
        let loss = self.run(params, batch, true, key);
        self.sum_gradients();
        grad.copy_from_slice(&self.works[0].grad);
        loss
    }

    /// Forward only: the summed negative log-likelihood of the batch's predictions.
    pub fn loss(&mut self, params: &[f32], batch: &[&Pair]) -> f64 {
        self.masked_loss(params, batch, None)
    }

    /// [`Seq2seqEngine::loss`] with the dropout mask of step `step` (`None`: none).
    pub fn masked_loss(&mut self, params: &[f32], batch: &[&Pair], step: Option<u64>) -> f64 {
        let key = step.and_then(|s| self.mask_key(s));
        self.run(params, batch, false, key)
    }

    /// One training step: gradient of the mean loss, clipped to global norm `clip`,
    /// then Adam at rate `lr`. Returns the summed loss and the gradient norm.
    pub fn train_step(
        &mut self,
        params: &mut [f32],
        batch: &[&Pair],
        adam: &mut Adam,
        lr: f32,
        clip: f32,
    ) -> (f64, f32) {
        let key = self.mask_key(adam.step);
        let loss = self.run(params, batch, true, key);
        let norm = self.sum_gradients().sqrt() as f32;
        let scale = clip_scale(norm, clip);
        let step = adam.next_step(params.len(), lr);
        let grad = &self.works[0].grad;
        step.apply(params, grad, scale, &mut adam.m, &mut adam.v);
        (loss, norm)
    }

    /// Greedy pronunciations (phoneme ids) of `words` (character tokens, each 1 to
    /// 32 long), on the engine's threads.
    pub fn greedy(&mut self, params: &[f32], words: &[&[u16]]) -> Vec<Vec<u16>> {
        self.check(params, words.iter().copied());
        let lens: Vec<usize> = words.iter().map(|w| w.len()).collect();
        split_rows(&lens, &mut self.ranges);
        let Seq2seqEngine {
            dims,
            backend,
            pool,
            ops,
            works,
            ranges,
            ..
        } = self;
        let w = dims.split(params);
        ops.refresh(dims, &w);
        let (ops, backend) = (&*ops, *backend);
        let mut outs: Vec<Vec<Vec<u16>>> = vec![Vec::new(); works.len()];
        let items = works.iter_mut().zip(ranges.iter()).zip(outs.iter_mut());
        on_threads(pool.as_ref(), items, |((work, rows), out)| {
            *out = work.greedy(backend, &w, ops, &words[rows.clone()], MAX_OUTPUT);
        });
        outs.into_iter().flatten().collect()
    }

    /// Panics unless the parameters and the spellings fit this engine.
    fn check<'a>(&self, params: &[f32], inputs: impl Iterator<Item = &'a [u16]>) {
        assert_eq!(params.len(), self.dims.param_count(), "parameter length");
        for (n, x) in inputs.enumerate() {
            assert!(!x.is_empty(), "row {n} has an empty spelling");
            assert!(
                x.iter().all(|&c| (c as usize) < self.dims.vocab),
                "row {n} has a character outside the vocabulary"
            );
        }
    }

    /// Runs every shard (in parallel), with dropout when `key` is given; returns the
    /// summed loss in shard order.
    fn run(&mut self, params: &[f32], batch: &[&Pair], grad: bool, key: Option<u64>) -> f64 {
        self.check(params, batch.iter().map(|p| &p.input[..]));
        let boundary = self.dims.boundary();
        for (n, p) in batch.iter().enumerate() {
            assert!(
                p.output.iter().all(|&t| t < boundary),
                "row {n} has a phoneme outside the vocabulary"
            );
        }
        let lens: Vec<usize> = batch
            .iter()
            .map(|p| p.input.len() + p.output.len() + 1)
            .collect();
        split_rows(&lens, &mut self.ranges);
        let count: usize = batch.iter().map(|p| p.output.len() + 1).sum();
        let Seq2seqEngine {
            dims,
            backend,
            pool,
            ops,
            works,
            ranges,
            dropout,
            ..
        } = self;
        let w = dims.split(params);
        ops.refresh(dims, &w);
        let (ops, backend) = (&*ops, *backend);
        let scale = grad.then_some(1.0 / count.max(1) as f32);
        for (work, rows) in works.iter_mut().zip(ranges.iter()) {
            work.dropout = key.map(|key| Dropout {
                p: *dropout,
                key,
                row0: rows.start,
            });
        }
        on_threads(
            pool.as_ref(),
            works.iter_mut().zip(ranges.iter()),
            |(work, rows)| {
                work.load(&batch[rows.clone()]);
                work.encode(backend, &w, ops);
                work.decode(backend, &w, ops);
                work.cross_entropy(backend, scale);
                if grad {
                    work.backward(backend, &w);
                }
            },
        );
        works.iter().map(|w| w.loss).sum()
    }

    /// Adds every shard's gradient into shard 0's, in shard order; returns the
    /// squared norm of the sum.
    fn sum_gradients(&mut self) -> f64 {
        let (first, rest) = self.works.split_first_mut().expect("a shard");
        for w in rest.iter() {
            for (s, &g) in first.grad.iter_mut().zip(w.grad.iter()) {
                *s += g;
            }
        }
        squared_norm(&first.grad)
    }
}

/// Deterministic initial parameters for `dims` from `seed`, like PyTorch's modules:
/// embeddings standard normal; each stack's recurrent tensors uniform in
/// `±1/sqrt(units)` (the LSTM forget gate's `b_x` at
/// the engine's `LSTM_FORGET_BIAS`); `w_out` uniform in `±1/sqrt(2H)`,
/// `b_out` zero. Drawn in layout order from one stream.
pub fn init_seq2seq(dims: Seq2seqDims, seed: u64) -> Vec<f32> {
    let mut flat = vec![0.0f32; dims.param_count()];
    let mut rng = SplitMix64::new(seed);
    let mut g = dims.split_mut(&mut flat);
    let stacks = [
        (&mut g.fwd, dims.encoder()),
        (&mut g.bwd, dims.encoder()),
        (&mut g.dec, dims.decoder()),
    ];
    for (s, d) in stacks {
        s.emb.iter_mut().for_each(|x| *x = rng.normal());
        let scale = 1.0 / (d.hidden as f32).sqrt();
        for layer in &mut s.layers[..d.layers] {
            for t in [
                &mut *layer.w_x,
                &mut *layer.b_x,
                &mut *layer.w_h,
                &mut *layer.b_h,
            ] {
                t.iter_mut().for_each(|x| *x = rng.uniform(scale));
            }
            if d.cell == CellKind::Lstm {
                let h = d.hidden;
                layer.b_x[h..2 * h].fill(super::init::LSTM_FORGET_BIAS);
            }
        }
    }
    let scale = 1.0 / (2.0 * dims.hidden as f32).sqrt();
    g.w_out.iter_mut().for_each(|x| *x = rng.uniform(scale));
    flat
}
