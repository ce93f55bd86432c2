//! One thread's share of a batch: its rows packed time-major without padding, and its buffers.
//!
//! Rows are sorted longest first, so at step `t` the rows still running are a
//! prefix of that order: `active[t]` of them. The tokens of step `t` are stored
//! as one block of `active[t]` consecutive rows, blocks in time order, so
//!
//! - every per-token matrix (`hs`, `z`, `dh`) is one dense `(N, ·)` matrix over
//!   the shard's `N` real tokens, with no padding anywhere: the output layer and
//!   its gradient are single big products, and padding positions are never
//!   computed, so they carry no loss and no hidden state can leak from them;
//! - the previous hidden states of the rows active at step `t` are the first
//!   `active[t]` rows of block `t - 1`: the recurrent product of a step reads one
//!   contiguous `(active[t], H)` matrix.
//!
//! The buffers only grow: after the first batches no step allocates. The float
//! buffers start on cache lines ([`Aligned`]), so do the rows the kernels load.

use std::cmp::Reverse;
use std::ops::Range;

use super::aligned::Aligned;
use crate::batch::Batch;
use crate::params::Dims;

/// A shard's layout and workspaces. Sizes: `N` = real tokens, `H` hidden, `V` vocabulary.
#[derive(Debug)]
pub(crate) struct Shard {
    pub dims: Dims,
    /// Batch rows of this shard, longest first (ties by row index).
    pub order: Vec<usize>,
    /// `active[t]`: rows with more than `t` real steps; non-increasing.
    pub active: Vec<usize>,
    /// `start[t]`: first packed token of step `t`; `start[steps] = N`.
    pub start: Vec<usize>,
    /// (N,) input token of each packed token.
    pub x: Vec<u16>,
    /// (N,) target token of each packed token.
    pub y: Vec<u16>,
    /// (N, H) hidden state after each token.
    pub hs: Aligned,
    /// (N - `active[0]`, H) hidden state before each token of steps >= 1.
    pub prev: Aligned,
    /// (N, V) logits, then their gradient.
    pub z: Aligned,
    /// (N,) scratch for the cross-entropy.
    pub scratch: Vec<f32>,
    /// (N, H) gradient of the hidden states, then of the pre-activations.
    pub dh: Aligned,
    /// (H, H) copy of `w_hh`, refreshed by every backward pass.
    pub w_hh: Aligned,
    /// (V, H) copy of `w_out`, refreshed by every backward pass.
    pub w_out: Aligned,
    /// (H, H) `w_hh` transposed, refreshed by every forward pass.
    pub w_hh_t: Aligned,
    /// (H, V) `w_out` transposed, refreshed by every forward pass.
    pub w_out_t: Aligned,
    /// (param_count,) this shard's gradient.
    pub grad: Aligned,
    /// This shard's summed negative log-likelihood.
    pub loss: f64,
}

impl Shard {
    /// Empty workspaces for a model of size `dims`.
    pub(crate) fn new(dims: Dims) -> Self {
        let (h, v) = (dims.hidden, dims.vocab);
        Shard {
            dims,
            order: Vec::new(),
            active: Vec::new(),
            start: vec![0],
            x: Vec::new(),
            y: Vec::new(),
            hs: Aligned::default(),
            prev: Aligned::default(),
            z: Aligned::default(),
            scratch: Vec::new(),
            dh: Aligned::default(),
            w_hh: Aligned::zeros(h * h),
            w_out: Aligned::zeros(v * h),
            w_hh_t: Aligned::zeros(h * h),
            w_out_t: Aligned::zeros(h * v),
            grad: Aligned::zeros(dims.param_count()),
            loss: 0.0,
        }
    }

    /// Number of real tokens `N` in the shard.
    pub(crate) fn tokens(&self) -> usize {
        self.start[self.active.len()]
    }

    /// Packed token range of step `t`.
    pub(crate) fn step(&self, t: usize) -> Range<usize> {
        self.start[t]..self.start[t + 1]
    }

    /// Lays out rows `rows` of `batch` (already validated) and sizes the buffers.
    pub(crate) fn pack(&mut self, batch: &Batch, rows: Range<usize>) {
        let lens = &batch.lens;
        self.order.clear();
        self.order.extend(rows);
        // Keys are unique, so the unstable (allocation-free) sort is deterministic.
        self.order.sort_unstable_by_key(|&r| (Reverse(lens[r]), r));
        let steps = self.order.first().map_or(0, |&r| lens[r]);
        self.active.clear();
        self.start.clear();
        self.start.push(0);
        let mut running = self.order.len();
        for t in 0..steps {
            while running > 0 && lens[self.order[running - 1]] <= t {
                running -= 1;
            }
            self.active.push(running);
            self.start.push(self.start[t] + running);
        }
        self.x.clear();
        self.y.clear();
        for t in 0..steps {
            for &r in &self.order[..self.active[t]] {
                self.x.push(batch.inputs[r * batch.steps + t]);
                self.y.push(batch.targets[r * batch.steps + t]);
            }
        }
        let (n, h, v) = (self.tokens(), self.dims.hidden, self.dims.vocab);
        let first = self.active.first().copied().unwrap_or(0);
        self.hs.resize(n * h);
        self.prev.resize((n - first) * h);
        self.z.resize(n * v);
        self.scratch.resize(n, 0.0);
        self.dh.resize(n * h);
        self.loss = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_time_major_longest_first() {
        let rows: [(&[u16], &[u16]); 4] = [
            (&[0, 5], &[5, 1]),
            (&[0, 6, 7], &[6, 7, 1]),
            (&[0], &[1]),
            (&[0, 8, 9], &[8, 9, 1]),
        ];
        let batch = Batch::from_sequences(rows);
        let mut s = Shard::new(Dims {
            vocab: 10,
            hidden: 2,
        });
        s.pack(&batch, 0..4);
        assert_eq!(s.order, vec![1, 3, 0, 2]);
        assert_eq!(s.active, vec![4, 3, 2]);
        assert_eq!(s.start, vec![0, 4, 7, 9]);
        assert_eq!(s.x, vec![0, 0, 0, 0, 6, 8, 5, 7, 9]);
        assert_eq!(s.y, vec![6, 8, 5, 1, 7, 9, 1, 1, 1]);
        assert_eq!(s.tokens(), batch.tokens());
        assert_eq!(s.prev.len(), 5 * 2);
        s.pack(&batch, 2..3);
        assert_eq!(
            (s.order.clone(), s.active.clone(), s.tokens()),
            (vec![2], vec![1], 1)
        );
        s.pack(&batch, 1..1);
        assert_eq!(s.tokens(), 0);
    }
}
