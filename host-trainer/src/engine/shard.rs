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
//! Classify batches keep the same layout; the output layer reads the top layer's
//! state at each row's last token (`last`).
//!
//! The buffers only grow: after the first batches no step allocates. The float
//! buffers start on cache lines ([`Aligned`]), so do the rows the kernels load.

use std::cmp::Reverse;
use std::ops::Range;

use micrornn::format::Task;

use super::aligned::Aligned;
use super::cells::saved_blocks;
use crate::data::batch::Batch;
use crate::train::params::Dims;

/// Per-layer workspaces and weight copies. Sizes: `N` tokens, `G·H` gate rows,
/// `S·H` saved values per token ([`saved_blocks`]), `In` the layer's input width.
#[derive(Debug)]
pub(crate) struct LayerBufs {
    /// (N, H) state after each token.
    pub hs: Aligned,
    /// (N, G·H) input terms, then the pre-activations, then (LSTM) the gate
    /// activations (see `cells.rs`); in the backward pass their gradient.
    pub xp: Aligned,
    /// (N, S·H) what the backward pass needs of each token besides `xp`.
    pub saved: Aligned,
}

/// A shard's layout and workspaces. Sizes: `N` = real tokens, `R` = rows with at
/// least one token, `H` hidden, `G·H` gate rows, `E` embedding, `O` outputs.
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
    /// Targets of the output layer: (N,) next tokens (generate) or (R,) labels in
    /// `order` (classify).
    pub y: Vec<u16>,
    /// (R,) classify: packed index of each row's last token, in `order`.
    pub last: Vec<usize>,
    /// One set of buffers per layer.
    pub layers: Vec<LayerBufs>,
    /// (V, G·H) layer 0's input term of each token (forward), then (backward) the
    /// sum of the input-term gradients of each token; empty while the shard
    /// gathers (see [`Shard::gathers`]).
    pub table: Aligned,
    /// (N, E) when the shard gathers: the embedding row of each token (forward),
    /// then (backward) its gradient; empty otherwise.
    pub xe: Aligned,
    /// (active[0], G·H) GRU: recurrent product of one step.
    pub rec: Aligned,
    /// (G·H,) the bias of the current layer's input terms.
    pub bias: Vec<f32>,
    /// (N, G·H) GRU: gradient of the recurrent pre-activations (empty otherwise).
    pub da: Aligned,
    /// Zeros, (active[0], max(G, S)·H): the state before the first step.
    pub zero: Aligned,
    /// (N - active[0], H) state before each token of steps >= 1.
    pub prev: Aligned,
    /// (N, H) gradient of the current layer's states.
    pub dh: Aligned,
    /// (N, H) LSTM: gradient of the cell states from the next step.
    pub dc: Aligned,
    /// (R, H) classify: top layer's state after each row's last token, then its gradient.
    pub top: Aligned,
    /// (N or R, O) logits, then their gradient.
    pub z: Aligned,
    /// (N or R,) scratch for the cross-entropy.
    pub scratch: Vec<f32>,
    /// (param_count,) this shard's gradient.
    pub grad: Aligned,
    /// This shard's summed negative log-likelihood.
    pub loss: f64,
}

impl Shard {
    /// Empty workspaces for a model of size `dims`.
    pub(crate) fn new(dims: Dims) -> Self {
        let layers = (0..dims.layers)
            .map(|_| LayerBufs {
                hs: Aligned::default(),
                xp: Aligned::default(),
                saved: Aligned::default(),
            })
            .collect();
        Shard {
            dims,
            order: Vec::new(),
            active: Vec::new(),
            start: vec![0],
            x: Vec::new(),
            y: Vec::new(),
            last: Vec::new(),
            layers,
            table: Aligned::default(),
            xe: Aligned::default(),
            rec: Aligned::default(),
            bias: vec![0.0; dims.gates() * dims.hidden],
            da: Aligned::default(),
            zero: Aligned::default(),
            prev: Aligned::default(),
            dh: Aligned::default(),
            dc: Aligned::default(),
            top: Aligned::default(),
            z: Aligned::default(),
            scratch: Vec::new(),
            grad: Aligned::zeros(dims.param_count()),
            loss: 0.0,
        }
    }

    /// Number of real tokens `N` in the shard.
    pub(crate) fn tokens(&self) -> usize {
        self.start[self.active.len()]
    }

    /// Number of rows with at least one token (`R`).
    pub(crate) fn live_rows(&self) -> usize {
        self.active.first().copied().unwrap_or(0)
    }

    /// Whether layer 0 reads its input terms by gathering each token's embedding
    /// row and one `(N, E) @ (E, G·H)` product, rather than through a `(V, G·H)`
    /// table of every token's input term: with an embedding, when the shard has
    /// fewer tokens than the vocabulary (word vocabularies of thousands), where the
    /// table would cost more than it saves. The gradient then goes back the same
    /// way, into the embedding rows of the tokens read (padding is never read).
    pub(crate) fn gathers(&self) -> bool {
        self.dims.embed > 0 && self.tokens() < self.dims.vocab
    }

    /// Number of output-layer predictions: `N` (generate) or `R` (classify).
    pub(crate) fn predictions(&self) -> usize {
        match self.dims.task {
            Task::Generate => self.tokens(),
            _ => self.live_rows(),
        }
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
        self.last.clear();
        for t in 0..steps {
            for &r in &self.order[..self.active[t]] {
                self.x.push(batch.inputs[r * batch.steps + t]);
                if self.dims.task == Task::Generate {
                    self.y.push(batch.targets[r * batch.steps + t]);
                }
            }
        }
        let live = self.live_rows();
        if self.dims.task.is_classifier() {
            for (j, &r) in self.order[..live].iter().enumerate() {
                self.y.push(batch.labels[r]);
                self.last.push(self.start[lens[r] - 1] + j);
            }
        }
        let d = self.dims;
        let (n, h, o) = (self.tokens(), d.hidden, d.outputs);
        let (gh, sh) = (d.gates() * h, saved_blocks(d.cell) * h);
        let rows = self.predictions();
        for layer in &mut self.layers {
            layer.hs.resize(n * h);
            layer.xp.resize(n * gh);
            layer.saved.resize(n * sh);
        }
        if self.gathers() {
            self.xe.resize(n * d.embed);
        } else {
            self.table.resize(d.vocab * gh);
        }
        self.rec.resize(live * gh);
        self.da
            .resize(if d.cell == micrornn::format::CellKind::Gru {
                n * gh
            } else {
                0
            });
        self.zero.resize(live * gh.max(sh));
        self.zero.fill(0.0);
        self.prev.resize((n - live) * h);
        self.dh.resize(n * h);
        self.dc
            .resize(if d.cell == micrornn::format::CellKind::Lstm {
                n * h
            } else {
                0
            });
        self.top
            .resize(if d.task.is_classifier() { live * h } else { 0 });
        self.z.resize(rows * o);
        self.scratch.resize(rows, 0.0);
        self.loss = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use micrornn::format::CellKind;

    #[test]
    fn packs_time_major_longest_first() {
        let rows: [(&[u16], &[u16]); 4] = [
            (&[0, 5], &[5, 1]),
            (&[0, 6, 7], &[6, 7, 1]),
            (&[0], &[1]),
            (&[0, 8, 9], &[8, 9, 1]),
        ];
        let batch = Batch::from_sequences(rows);
        let mut s = Shard::new(Dims::generate(CellKind::Rnn, 1, 2, 10));
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

    #[test]
    fn classify_rows_point_at_their_last_token() {
        let rows: [(&[u16], u16); 3] = [(&[0, 5], 2), (&[0, 6, 7], 1), (&[0], 0)];
        let batch = Batch::from_labelled(rows);
        let dims = Dims {
            task: Task::Classify,
            outputs: 3,
            ..Dims::generate(CellKind::Gru, 2, 2, 10)
        };
        let mut s = Shard::new(dims);
        s.pack(&batch, 0..3);
        assert_eq!(s.order, vec![1, 0, 2]);
        assert_eq!(s.start, vec![0, 3, 5, 6]);
        assert_eq!(s.y, vec![1, 2, 0]);
        assert_eq!(s.last, vec![5, 4, 2]);
        assert_eq!((s.predictions(), s.z.len()), (3, 9));
    }
}
