//! One recurrent stack (an encoder direction or the decoder) over a shard's rows
//! packed time-major, from given initial states, forward and backward.
//!
//! The layout is that of the main engine (`shard.rs`): rows sorted longest first, the
//! tokens of step `t` one block of `active[t]` consecutive rows, so each step's
//! recurrent product reads one contiguous matrix. Unlike there, every layer starts from
//! a state given per row (`h0`, and the LSTM's cell state in block 0 of `s0`), and the
//! backward pass takes gradients of each row's final states (`dfin_h`, `dfin_c`) and
//! gives those of the initial ones (`dh0`, `dc0`): what joins encoder and decoder.
//! The element-wise work is `cells.rs`, the products `gemm.rs`.

use std::cmp::Reverse;

use micrornn::format::CellKind;

use super::dims::{StackDims, StackGrads, StackWeights};
use crate::engine::aligned::Aligned;
use crate::engine::backward::column_sums;
use crate::engine::cells::{self, saved_blocks, separate_recurrent};
use crate::engine::gemm::{transpose_band, Backend, Mat, MatMut, Update};

/// Rows packed time-major, longest first.
#[derive(Debug, Default)]
pub(crate) struct Pack {
    /// Local rows, longest first (ties by index).
    pub order: Vec<usize>,
    /// `pos[k]`: where local row `k` is in `order`.
    pub pos: Vec<usize>,
    /// Length of each row of `order`.
    pub len: Vec<usize>,
    /// `active[t]`: rows longer than `t`.
    pub active: Vec<usize>,
    /// `start[t]`: first packed token of step `t`; `start[steps]` = tokens.
    pub start: Vec<usize>,
}

impl Pack {
    /// Lays out rows of lengths `lens` (each at least 1).
    pub fn build(&mut self, lens: &[usize]) {
        self.order.clear();
        self.order.extend(0..lens.len());
        self.order.sort_unstable_by_key(|&r| (Reverse(lens[r]), r));
        self.pos.resize(lens.len(), 0);
        for (j, &r) in self.order.iter().enumerate() {
            self.pos[r] = j;
        }
        self.len.clear();
        self.len.extend(self.order.iter().map(|&r| lens[r]));
        let steps = self.len.first().copied().unwrap_or(0);
        self.active.clear();
        self.start.clear();
        self.start.push(0);
        let mut running = self.order.len();
        for t in 0..steps {
            while running > 0 && self.len[running - 1] <= t {
                running -= 1;
            }
            self.active.push(running);
            self.start.push(self.start[t] + running);
        }
    }

    /// Packed tokens `N`.
    pub fn tokens(&self) -> usize {
        *self.start.last().expect("start holds 0")
    }

    /// Rows `R`.
    pub fn rows(&self) -> usize {
        self.order.len()
    }

    /// Packed index of step `t` of the row at `j` in `order`.
    pub fn at(&self, j: usize, t: usize) -> usize {
        self.start[t] + j
    }

    /// Packed index of the last step of the row at `j` in `order`.
    pub fn last(&self, j: usize) -> usize {
        self.at(j, self.len[j] - 1)
    }
}

/// A stack's weights as the forward products read them: transposed copies.
#[derive(Debug, Default)]
pub(crate) struct StackOps {
    /// Per layer: (In, G·H) `w_x` transposed, (H, G·H) `w_h` transposed.
    layers: Vec<(Aligned, Aligned)>,
}

impl StackOps {
    /// Refreshes the copies from `w`.
    pub fn refresh(&mut self, d: StackDims, w: &StackWeights<'_>) {
        let gh = d.gh();
        self.layers.resize_with(d.layers, Default::default);
        for (l, (wx_t, wh_t)) in self.layers.iter_mut().enumerate() {
            let input = d.input_width(l);
            wx_t.resize(input * gh);
            wh_t.resize(d.hidden * gh);
            transpose_band(w.layers[l].w_x, gh, input, 0..input, wx_t);
            transpose_band(w.layers[l].w_h, gh, d.hidden, 0..d.hidden, wh_t);
        }
    }
}

/// Per-layer workspaces: `N` tokens, `R` rows, `S·H` saved values per token.
#[derive(Debug, Default)]
pub(crate) struct LayerBufs {
    /// (N, H) state after each token.
    pub hs: Aligned,
    /// (N, G·H) input terms, pre-activations, gates; backward: their gradient.
    pub xp: Aligned,
    /// (N, S·H) what the backward pass needs (LSTM: block 0 is the cell state).
    pub saved: Aligned,
    /// (R, H) initial state of each row, in pack order.
    pub h0: Aligned,
    /// (R, S·H) initial saved values (LSTM: block 0 = initial cell state).
    pub s0: Aligned,
    /// (R, H) gradient of each row's final state (added to what comes from above).
    pub dfin_h: Aligned,
    /// (R, H) LSTM: gradient of each row's final cell state.
    pub dfin_c: Aligned,
    /// (R, H) out: gradient of the initial state.
    pub dh0: Aligned,
    /// (R, H) out, LSTM: gradient of the initial cell state.
    pub dc0: Aligned,
}

/// One stack's workspaces for one shard.
#[derive(Debug)]
pub(crate) struct StackBufs {
    /// The stack's shape.
    pub d: StackDims,
    /// (N,) input token of each packed token (set by the caller).
    pub x: Vec<u16>,
    /// Per layer.
    pub layers: Vec<LayerBufs>,
    /// (N, H) gradient of the current layer's states; the caller writes the top
    /// layer's before [`StackBufs::backward`].
    pub dh: Aligned,
    /// (V, G·H) layer 0's input term per token, then their gradients.
    table: Aligned,
    /// (R, G·H) GRU: one step's recurrent product.
    rec: Aligned,
    /// (N, G·H) GRU: gradient of the recurrent pre-activations.
    da: Aligned,
    /// (N, H) LSTM: cell-state gradient from the next step.
    dc: Aligned,
    /// (N, H) the state before each token.
    prev: Aligned,
    /// (G·H,) the current layer's input-term bias.
    bias: Vec<f32>,
}

impl StackBufs {
    /// Empty workspaces for a stack of shape `d`.
    pub fn new(d: StackDims) -> Self {
        StackBufs {
            d,
            x: Vec::new(),
            layers: (0..d.layers).map(|_| LayerBufs::default()).collect(),
            dh: Aligned::default(),
            table: Aligned::default(),
            rec: Aligned::default(),
            da: Aligned::default(),
            dc: Aligned::default(),
            prev: Aligned::default(),
            bias: vec![0.0; d.gh()],
        }
    }

    /// Sizes the buffers for `pack`; initial states and final-state gradients are zero.
    pub fn resize(&mut self, pack: &Pack) {
        let d = self.d;
        let (n, r, h, gh) = (pack.tokens(), pack.rows(), d.hidden, d.gh());
        let sh = saved_blocks(d.cell) * h;
        for b in &mut self.layers {
            b.hs.resize(n * h);
            b.xp.resize(n * gh);
            b.saved.resize(n * sh);
            for (buf, len) in [
                (&mut b.h0, r * h),
                (&mut b.s0, r * sh),
                (&mut b.dfin_h, r * h),
                (&mut b.dfin_c, r * h),
                (&mut b.dh0, r * h),
                (&mut b.dc0, r * h),
            ] {
                buf.resize(len);
                buf.fill(0.0);
            }
        }
        self.x.resize(n, 0);
        self.dh.resize(n * h);
        self.table.resize(d.vocab * gh);
        self.rec.resize(r * gh);
        let gru = d.cell == CellKind::Gru;
        self.da.resize(if gru { n * gh } else { 0 });
        self.dc.resize(n * h);
        self.prev.resize(n * h);
    }

    /// Every layer's states over the packed tokens `self.x`, from `h0`/`s0`.
    pub fn forward(&mut self, backend: Backend, w: &StackWeights<'_>, ops: &StackOps, pack: &Pack) {
        for l in 0..self.d.layers {
            self.input_terms(backend, w, ops, pack, l);
            self.recurrence(backend, w, ops, pack, l);
        }
    }

    /// `xp (N, G·H) = X @ w_x^T + b_x` (`+ b_h` unless the GRU); layer 0 by a
    /// `(V, G·H)` table of `emb @ w_x^T + bias` looked up per token.
    fn input_terms(
        &mut self,
        backend: Backend,
        w: &StackWeights<'_>,
        ops: &StackOps,
        pack: &Pack,
        l: usize,
    ) {
        let d = self.d;
        let (n, gh) = (pack.tokens(), d.gh());
        let lw = &w.layers[l];
        self.bias.copy_from_slice(lw.b_x);
        if !separate_recurrent(d.cell) {
            for (b, &bh) in self.bias.iter_mut().zip(lw.b_h) {
                *b += bh;
            }
        }
        let (below, this) = self.layers.split_at_mut(l);
        let xp = &mut this[0].xp[..n * gh];
        if l > 0 {
            for row in xp.chunks_exact_mut(gh) {
                row.copy_from_slice(&self.bias);
            }
            // hs (N,H) @ w_x^T (H,G·H) -> xp, added to the bias.
            backend.matmul(
                Mat::rows(&below[l - 1].hs, n, d.hidden),
                Mat::rows(&ops.layers[l].0, d.hidden, gh),
                MatMut::rows(xp, n, gh),
                Update::Add,
            );
            return;
        }
        // emb (V,E) @ w_x^T (E,G·H) -> table (V,G·H), + bias; then one row per token.
        let table = &mut self.table[..];
        backend.matmul(
            Mat::rows(w.emb, d.vocab, d.embed),
            Mat::rows(&ops.layers[0].0, d.embed, gh),
            MatMut::rows(table, d.vocab, gh),
            Update::Write,
        );
        for row in table.chunks_exact_mut(gh) {
            for (t, &b) in row.iter_mut().zip(&self.bias) {
                *t += b;
            }
        }
        for (row, &x) in xp.chunks_exact_mut(gh).zip(&self.x) {
            row.copy_from_slice(&table[x as usize * gh..][..gh]);
        }
    }

    /// Layer `l`'s recurrence over the steps, from its `xp` and initial state.
    fn recurrence(
        &mut self,
        backend: Backend,
        w: &StackWeights<'_>,
        ops: &StackOps,
        pack: &Pack,
        l: usize,
    ) {
        let d = self.d;
        let (h, gh) = (d.hidden, d.gh());
        let sh = saved_blocks(d.cell) * h;
        let separate = separate_recurrent(d.cell);
        let b_h: &[f32] = if separate { w.layers[l].b_h } else { &[] };
        let b = &mut self.layers[l];
        for t in 0..pack.active.len() {
            let (a, s0, s1) = (pack.active[t], pack.start[t], pack.start[t + 1]);
            let (hs_past, hs_rest) = b.hs.split_at_mut(s0 * h);
            let (saved_past, saved_rest) = b.saved.split_at_mut(s0 * sh);
            let xp = &mut b.xp[s0 * gh..s1 * gh];
            let (h_prev, saved_prev): (&[f32], &[f32]) = if t == 0 {
                (&b.h0[..a * h], &b.s0[..a * sh])
            } else {
                let p = pack.start[t - 1];
                (&hs_past[p * h..][..a * h], &saved_past[p * sh..][..a * sh])
            };
            // h_prev (a,H) @ w_h^T (H,G·H) -> rec (GRU), or added onto xp.
            let (out, update) = if separate {
                (&mut self.rec[..a * gh], Update::Write)
            } else {
                (&mut xp[..], Update::Add)
            };
            backend.matmul(
                Mat::rows(h_prev, a, h),
                Mat::rows(&ops.layers[l].1, h, gh),
                MatMut::rows(out, a, gh),
                update,
            );
            let rec: &[f32] = if separate { &self.rec[..a * gh] } else { &[] };
            cells::forward(
                backend,
                d.cell,
                cells::Forward {
                    h,
                    xp,
                    rec,
                    b_h,
                    h_prev,
                    saved_prev,
                    h_new: &mut hs_rest[..a * h],
                    saved: &mut saved_rest[..a * sh],
                },
            );
        }
    }

    /// Backpropagation through the stack into `g` (overwritten), after
    /// [`StackBufs::forward`], from the top layer's state gradient in `self.dh` and
    /// the final-state gradients `dfin_*`; leaves `dh0`/`dc0`.
    pub fn backward(
        &mut self,
        backend: Backend,
        w: &StackWeights<'_>,
        pack: &Pack,
        g: &mut StackGrads<'_>,
    ) {
        let d = self.d;
        let (n, h) = (pack.tokens(), d.hidden);
        let lstm = d.cell == CellKind::Lstm;
        for l in (0..d.layers).rev() {
            let b = &self.layers[l];
            if lstm {
                self.dc[..n * h].fill(0.0);
            }
            for j in 0..pack.rows() {
                let at = pack.last(j) * h;
                for (o, &v) in self.dh[at..at + h].iter_mut().zip(&b.dfin_h[j * h..][..h]) {
                    *o += v;
                }
                if lstm {
                    self.dc[at..at + h].copy_from_slice(&b.dfin_c[j * h..][..h]);
                }
            }
            self.through_time(backend, w, pack, l);
            self.layer_gradient(backend, w, pack, l, g);
        }
    }

    /// Layer `l` through time: `dh` becomes `dx` in `xp` (and `da` for the GRU).
    fn through_time(&mut self, backend: Backend, w: &StackWeights<'_>, pack: &Pack, l: usize) {
        let d = self.d;
        let (h, gh) = (d.hidden, d.gh());
        let sh = saved_blocks(d.cell) * h;
        let (gru, lstm) = (d.cell == CellKind::Gru, d.cell == CellKind::Lstm);
        let b = &mut self.layers[l];
        b.dh0.fill(0.0);
        for t in (0..pack.active.len()).rev() {
            let (a, s0, s1) = (pack.active[t], pack.start[t], pack.start[t + 1]);
            let prev = (t > 0).then(|| pack.start[t - 1]);
            let (dh_before, dh_rest) = self.dh.split_at_mut(s0 * h);
            let (dc_before, dc_rest) = self.dc.split_at_mut(s0 * h);
            let (h_prev, saved_prev, dh_prev, dc_prev): (&[f32], &[f32], &mut [f32], &mut [f32]) =
                match prev {
                    Some(p) => (
                        &b.hs[p * h..][..a * h],
                        &b.saved[p * sh..][..a * sh],
                        &mut dh_before[p * h..][..a * h],
                        &mut dc_before[p * h..][..a * h],
                    ),
                    None => (
                        &b.h0[..a * h],
                        &b.s0[..a * sh],
                        &mut b.dh0[..a * h],
                        &mut b.dc0[..a * h],
                    ),
                };
            let dx = &mut b.xp[s0 * gh..s1 * gh];
            let da: &mut [f32] = if gru {
                &mut self.da[s0 * gh..s1 * gh]
            } else {
                &mut []
            };
            cells::backward(
                backend,
                d.cell,
                cells::Backward {
                    h,
                    dh: &dh_rest[..a * h],
                    h_new: &b.hs[s0 * h..s1 * h],
                    h_prev,
                    saved: &b.saved[s0 * sh..s1 * sh],
                    saved_prev,
                    dc: &dc_rest[..a * h],
                    dx,
                    da,
                    dh_prev: if gru { Some(&mut *dh_prev) } else { None },
                    dc_prev: if lstm { Some(dc_prev) } else { None },
                },
            );
            // da[t] (a,G·H) @ w_h (G·H,H) -> dh[t-1] (a,H), added.
            let da = if gru { &self.da[..] } else { &b.xp[..] };
            backend.matmul(
                Mat::rows(&da[s0 * gh..s1 * gh], a, gh),
                Mat::rows(w.layers[l].w_h, gh, h),
                MatMut::rows(dh_prev, a, h),
                Update::Add,
            );
        }
    }

    /// Layer `l`'s weight gradients, and the gradient of its input (`dh` of the
    /// layer below, or the embedding's).
    fn layer_gradient(
        &mut self,
        backend: Backend,
        w: &StackWeights<'_>,
        pack: &Pack,
        l: usize,
        g: &mut StackGrads<'_>,
    ) {
        let d = self.d;
        let (h, gh, n) = (d.hidden, d.gh(), pack.tokens());
        let gl = &mut g.layers[l];
        let b = &self.layers[l];
        let dx = &b.xp[..n * gh];
        let da = if d.cell == CellKind::Gru {
            &self.da[..n * gh]
        } else {
            dx
        };
        column_sums(da, gh, gl.b_h);
        // The state before every token: h0 for step 0, else the step before's.
        for t in 0..pack.active.len() {
            let (a, s0) = (pack.active[t], pack.start[t]);
            let src = match t {
                0 => &b.h0[..a * h],
                _ => &b.hs[pack.start[t - 1] * h..][..a * h],
            };
            self.prev[s0 * h..(s0 + a) * h].copy_from_slice(src);
        }
        // da^T (G·H,N) @ prev (N,H) -> dw_h.
        backend.matmul(
            Mat::rows(da, n, gh).t(),
            Mat::rows(&self.prev, n, h),
            MatMut::rows(gl.w_h, gh, h),
            Update::Write,
        );
        if l > 0 {
            column_sums(dx, gh, gl.b_x);
            let below = &self.layers[l - 1].hs;
            // dx^T (G·H,N) @ hs (N,H) -> dw_x; dx (N,G·H) @ w_x (G·H,H) -> dh below.
            backend.matmul(
                Mat::rows(dx, n, gh).t(),
                Mat::rows(below, n, h),
                MatMut::rows(gl.w_x, gh, h),
                Update::Write,
            );
            backend.matmul(
                Mat::rows(dx, n, gh),
                Mat::rows(w.layers[l].w_x, gh, h),
                MatMut::rows(&mut self.dh, n, h),
                Update::Write,
            );
            return;
        }
        // Layer 0: the dx rows summed per token into table (V,G·H).
        let (v, e) = (d.vocab, d.embed);
        let table = &mut self.table[..v * gh];
        table.fill(0.0);
        for (&x, row) in self.x.iter().zip(dx.chunks_exact(gh)) {
            for (o, &val) in table[x as usize * gh..][..gh].iter_mut().zip(row) {
                *o += val;
            }
        }
        column_sums(table, gh, gl.b_x);
        // table^T (G·H,V) @ emb (V,E) -> dw_x; table (V,G·H) @ w_x (G·H,E) -> demb.
        backend.matmul(
            Mat::rows(table, v, gh).t(),
            Mat::rows(w.emb, v, e),
            MatMut::rows(gl.w_x, gh, e),
            Update::Write,
        );
        backend.matmul(
            Mat::rows(table, v, gh),
            Mat::rows(w.layers[0].w_x, gh, e),
            MatMut::rows(g.emb, v, e),
            Update::Write,
        );
    }
}
