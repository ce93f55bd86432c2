//! One thread's share of a batch of (spelling, pronunciation) pairs: the whole
//! encoder–decoder forward pass, the loss, and the backward pass into its gradient.
//!
//! 1. both encoder directions over the spelling (the backward one reads it reversed),
//!    from zero states (`stack.rs`);
//! 2. the decoder's initial state of layer `l` = `[fwd final h ; bwd final h]` (and
//!    the LSTM's `c` likewise), then the decoder over `BOUNDARY, p_1 .. p_n` (teacher
//!    forcing);
//! 3. per row, Luong dot attention: `S = Hd @ E^T`, `A = softmax(S)` by row,
//!    `C = A @ E`, with `E (T, H)` the row's encoder states `e_j = [f_j ; b_j]` and
//!    `Hd (U, H)` its decoder top states;
//! 4. `z = [Hd ; C] @ w_out^T + b_out` over all decoder tokens, cross-entropy against
//!    `p_1 .. p_n, BOUNDARY`; in training, with dropout, `[Hd ; C]` is first multiplied
//!    by a random mask ([`Dropout`]: each value kept with probability `1 - p` and then
//!    scaled by `1/(1 - p)`, so inference needs no change).
//!
//! Attention and output work on row-contiguous copies (`e`, `x`); the stacks on
//! their own time-major packing; the copies between them are gathers and scatters.

use micrornn::format::CellKind;

use super::dims::{Seq2seqDims, Weights};
use super::stack::{Pack, StackBufs, StackOps};
use crate::data::cmudict::Pair;
use crate::engine::aligned::Aligned;
use crate::engine::backward::column_sums;
use crate::engine::cells::saved_blocks;
use crate::engine::gemm::{Backend, Mat, MatMut, Update};
use crate::engine::math::softmax_xent;
use crate::engine::rng::SplitMix64;

/// The weights as kernel operands, shared by the shards.
#[derive(Debug, Default)]
pub(crate) struct Ops {
    /// Forward encoder.
    pub fwd: StackOps,
    /// Backward encoder.
    pub bwd: StackOps,
    /// Decoder.
    pub dec: StackOps,
    /// (2H, P) `w_out` transposed.
    pub w_out_t: Aligned,
}

impl Ops {
    /// Refreshes every copy from `w`.
    pub fn refresh(&mut self, d: &Seq2seqDims, w: &Weights<'_>) {
        self.fwd.refresh(d.encoder(), &w.fwd);
        self.bwd.refresh(d.encoder(), &w.bwd);
        self.dec.refresh(d.decoder(), &w.dec);
        let (p, h2) = (d.tokens_out(), 2 * d.hidden);
        self.w_out_t.resize(h2 * p);
        crate::engine::gemm::transpose_band(w.w_out, p, h2, 0..h2, &mut self.w_out_t);
    }
}

/// Dropout on the output layer's input `[Hd ; C]` for one batch. The mask of a value
/// depends only on `(key, row of the batch, token, position)`, not on the shards: the
/// same batch and key give the same mask on any number of threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dropout {
    /// Probability of zeroing a value, in `[0, 1)`.
    pub p: f32,
    /// The batch's key (the run's seed and the step).
    pub key: u64,
    /// The batch row of this shard's first row.
    pub row0: usize,
}

impl Dropout {
    /// Fills `keep` (`U` tokens of `n` values of batch row `row`) with `0` or `1/(1-p)`.
    pub(crate) fn fill(&self, row: usize, keep: &mut [f32], n: usize) {
        let scale = 1.0 / (1.0 - self.p);
        // Keep when 32 random bits are at or above p·2^32.
        let cut = (f64::from(self.p) * 4_294_967_296.0) as u64;
        for (t, values) in keep.chunks_exact_mut(n).enumerate() {
            let mut rng = SplitMix64::new(
                self.key ^ ((row as u64) << 20 | t as u64).wrapping_mul(0xd6e8_feb8_6659_fd93),
            );
            for pair in values.chunks_mut(2) {
                let bits = rng.next_u64();
                for (v, half) in pair.iter_mut().zip([bits & 0xffff_ffff, bits >> 32]) {
                    *v = if half >= cut { scale } else { 0.0 };
                }
            }
        }
    }
}

/// A shard's layout and workspaces. `R` rows, `Ne`/`Nd` encoder/decoder tokens.
#[derive(Debug)]
pub(crate) struct Work {
    d: Seq2seqDims,
    /// Encoder packing (both directions: same lengths).
    pub enc: Pack,
    /// Decoder packing.
    pub dec_pack: Pack,
    /// Forward encoder.
    pub fwd: StackBufs,
    /// Backward encoder.
    pub bwd: StackBufs,
    /// Decoder.
    pub dec: StackBufs,
    /// Per local row: first row of its encoder states in `e`, and their count `T`.
    e_off: Vec<usize>,
    e_len: Vec<usize>,
    /// Per local row: first row of its decoder tokens in `x`, and their count `U`.
    d_off: Vec<usize>,
    d_len: Vec<usize>,
    /// Per local row: first element of its `(U, T)` attention in `att`.
    a_off: Vec<usize>,
    /// (Ne, H) encoder states, row by row; backward: their gradient in `de`.
    e: Aligned,
    de: Aligned,
    /// (Nd, 2H) output-layer input `[h ; c]`, row by row; backward: gradient in `dx`.
    x: Aligned,
    dx: Aligned,
    /// With dropout: the mask's factors and `x` masked, (Nd, 2H) each.
    keep: Aligned,
    xd: Aligned,
    /// Dropout for the loaded batch (training only).
    pub dropout: Option<Dropout>,
    /// (Nd, H) context, then the decoder top states' gradient.
    ctx: Aligned,
    /// Attention probabilities of every row; scratch for one row's gradient.
    att: Aligned,
    datt: Aligned,
    /// (Nd, P) logits, then their gradient.
    pub z: Aligned,
    /// (Nd,) targets, row by row.
    y: Vec<u16>,
    scratch: Vec<f32>,
    /// This shard's gradient.
    pub grad: Aligned,
    /// This shard's summed negative log-likelihood.
    pub loss: f64,
}

impl Work {
    /// Empty workspaces for `d`.
    pub fn new(d: Seq2seqDims) -> Self {
        Work {
            d,
            enc: Pack::default(),
            dec_pack: Pack::default(),
            fwd: StackBufs::new(d.encoder()),
            bwd: StackBufs::new(d.encoder()),
            dec: StackBufs::new(d.decoder()),
            e_off: Vec::new(),
            e_len: Vec::new(),
            d_off: Vec::new(),
            d_len: Vec::new(),
            a_off: Vec::new(),
            e: Aligned::default(),
            de: Aligned::default(),
            x: Aligned::default(),
            dx: Aligned::default(),
            keep: Aligned::default(),
            xd: Aligned::default(),
            dropout: None,
            ctx: Aligned::default(),
            att: Aligned::default(),
            datt: Aligned::default(),
            z: Aligned::default(),
            y: Vec::new(),
            scratch: Vec::new(),
            grad: Aligned::zeros(d.param_count()),
            loss: 0.0,
        }
    }

    /// Lays out the spellings `inputs` and the encoder buffers.
    fn load_encoder<'a>(&mut self, inputs: impl Iterator<Item = &'a [u16]> + Clone) {
        self.e_len.clear();
        self.e_len.extend(inputs.clone().map(<[u16]>::len));
        self.enc.build(&self.e_len);
        offsets(&self.e_len, &mut self.e_off);
        self.fwd.resize(&self.enc);
        self.bwd.resize(&self.enc);
        for (k, row) in inputs.enumerate() {
            let (j, n) = (self.enc.pos[k], row.len());
            for (t, &c) in row.iter().enumerate() {
                self.fwd.x[self.enc.at(j, t)] = c;
                self.bwd.x[self.enc.at(j, n - 1 - t)] = c;
            }
        }
        let h = self.d.hidden;
        self.e.resize(self.enc.tokens() * h);
    }

    /// Lays out decoder rows of lengths `lens` and the attention and output buffers.
    fn load_decoder(&mut self, lens: impl Iterator<Item = usize>) {
        self.d_len.clear();
        self.d_len.extend(lens);
        self.dec_pack.build(&self.d_len);
        offsets(&self.d_len, &mut self.d_off);
        self.dec.resize(&self.dec_pack);
        self.a_off.clear();
        let mut a = 0;
        for (u, t) in self.d_len.iter().zip(&self.e_len) {
            self.a_off.push(a);
            a += u * t;
        }
        let (nd, h, p) = (self.dec_pack.tokens(), self.d.hidden, self.d.tokens_out());
        let max_ut = self.d_len.iter().zip(&self.e_len).map(|(u, t)| u * t).max();
        self.att.resize(a);
        self.datt.resize(max_ut.unwrap_or(0));
        self.x.resize(nd * 2 * h);
        self.dx.resize(nd * 2 * h);
        self.ctx.resize(nd * h);
        self.z.resize(nd * p);
        self.scratch.resize(nd, 0.0);
    }

    /// Lays out a batch of pairs for [`Work::forward`] (teacher forcing).
    pub fn load(&mut self, pairs: &[&Pair]) {
        self.load_encoder(pairs.iter().map(|p| &p.input[..]));
        self.load_decoder(pairs.iter().map(|p| p.output.len() + 1));
        let boundary = self.d.boundary();
        self.y.clear();
        for (k, p) in pairs.iter().enumerate() {
            let j = self.dec_pack.pos[k];
            self.dec.x[self.dec_pack.at(j, 0)] = boundary;
            for (t, &ph) in p.output.iter().enumerate() {
                self.dec.x[self.dec_pack.at(j, t + 1)] = ph;
            }
            self.y.extend(&p.output);
            self.y.push(boundary);
        }
        self.loss = 0.0;
    }

    /// The encoders, and the decoder's initial states from their final states.
    pub fn encode(&mut self, backend: Backend, w: &Weights<'_>, ops: &Ops) {
        self.fwd.forward(backend, &w.fwd, &ops.fwd, &self.enc);
        self.bwd.forward(backend, &w.bwd, &ops.bwd, &self.enc);
        let (h, he) = (self.d.hidden, self.d.hidden / 2);
        let (s, se) = (
            saved_blocks(self.d.cell) * h,
            saved_blocks(self.d.cell) * he,
        );
        let lstm = self.d.cell == CellKind::Lstm;
        let top = self.d.layers - 1;
        for j in 0..self.dec_pack.rows() {
            let k = self.dec_pack.order[j];
            let at = self.enc.last(self.enc.pos[k]);
            for l in 0..self.d.layers {
                let (f, b) = (&self.fwd.layers[l], &self.bwd.layers[l]);
                let dl = &mut self.dec.layers[l];
                let h0 = &mut dl.h0[j * h..][..h];
                h0[..he].copy_from_slice(&f.hs[at * he..][..he]);
                h0[he..].copy_from_slice(&b.hs[at * he..][..he]);
                if lstm {
                    // Block 0 of the saved values is the cell state.
                    let s0 = &mut dl.s0[j * s..][..h];
                    s0[..he].copy_from_slice(&f.saved[at * se..][..he]);
                    s0[he..].copy_from_slice(&b.saved[at * se..][..he]);
                }
            }
        }
        // e_j = [f_j ; b_j], row by row.
        for k in 0..self.e_len.len() {
            let (jj, n) = (self.enc.pos[k], self.e_len[k]);
            for t in 0..n {
                let row = &mut self.e[(self.e_off[k] + t) * h..][..h];
                let (f, b) = (self.enc.at(jj, t), self.enc.at(jj, n - 1 - t));
                row[..he].copy_from_slice(&self.fwd.layers[top].hs[f * he..][..he]);
                row[he..].copy_from_slice(&self.bwd.layers[top].hs[b * he..][..he]);
            }
        }
    }

    /// Decoder, attention and logits (in `z`) after [`Work::encode`].
    pub fn decode(&mut self, backend: Backend, w: &Weights<'_>, ops: &Ops) {
        self.dec.forward(backend, &w.dec, &ops.dec, &self.dec_pack);
        let h = self.d.hidden;
        let top = &self.dec.layers[self.d.layers - 1].hs;
        for k in 0..self.d_len.len() {
            let j = self.dec_pack.pos[k];
            for t in 0..self.d_len[k] {
                let at = self.dec_pack.at(j, t);
                self.x[(self.d_off[k] + t) * 2 * h..][..h].copy_from_slice(&top[at * h..][..h]);
            }
        }
        self.attend(backend);
        let (nd, p) = (self.dec_pack.tokens(), self.d.tokens_out());
        self.mask();
        let input = if self.dropout.is_some() {
            &self.xd
        } else {
            &self.x
        };
        // x (Nd,2H) @ w_out^T (2H,P) -> z (Nd,P), + b_out.
        backend.matmul(
            Mat::rows(input, nd, 2 * h),
            Mat::rows(&ops.w_out_t, 2 * h, p),
            MatMut::rows(&mut self.z, nd, p),
            Update::Write,
        );
        for row in self.z[..nd * p].chunks_exact_mut(p) {
            for (v, &b) in row.iter_mut().zip(w.b_out) {
                *v += b;
            }
        }
    }

    /// With dropout: the mask into `keep` and the masked `x` into `xd`.
    fn mask(&mut self) {
        let Some(drop) = self.dropout else {
            return;
        };
        let n = 2 * self.d.hidden;
        let nd = self.dec_pack.tokens();
        self.keep.resize(nd * n);
        self.xd.resize(nd * n);
        for k in 0..self.d_len.len() {
            let span = self.d_off[k] * n..(self.d_off[k] + self.d_len[k]) * n;
            drop.fill(drop.row0 + k, &mut self.keep[span], n);
        }
        for ((m, &x), &f) in self.xd[..nd * n]
            .iter_mut()
            .zip(&self.x[..nd * n])
            .zip(&self.keep[..nd * n])
        {
            *m = x * f;
        }
    }

    /// The output layer's input: `x`, or `xd` with dropout.
    fn out_input(&self) -> &[f32] {
        if self.dropout.is_some() {
            &self.xd
        } else {
            &self.x
        }
    }

    /// Per row: scores, softmax, context into the second half of `x`.
    fn attend(&mut self, backend: Backend) {
        let h = self.d.hidden;
        for k in 0..self.d_len.len() {
            let (u, t) = (self.d_len[k], self.e_len[k]);
            let hd = Mat::strided(&self.x[self.d_off[k] * 2 * h..], u, h, 2 * h, 1);
            let e = &self.e[self.e_off[k] * h..][..t * h];
            let att = &mut self.att[self.a_off[k]..][..u * t];
            // Hd (U,H) @ E^T (H,T) -> S (U,T).
            backend.matmul(
                hd,
                Mat::rows(e, t, h).t(),
                MatMut::rows(att, u, t),
                Update::Write,
            );
            for row in att.chunks_exact_mut(t) {
                softmax_row(row);
            }
            // A (U,T) @ E (T,H) -> C (U,H).
            let ctx = &mut self.ctx[self.d_off[k] * h..][..u * h];
            backend.matmul(
                Mat::rows(att, u, t),
                Mat::rows(e, t, h),
                MatMut::rows(ctx, u, h),
                Update::Write,
            );
            for (i, c) in ctx.chunks_exact(h).enumerate() {
                self.x[(self.d_off[k] + i) * 2 * h + h..][..h].copy_from_slice(c);
            }
        }
    }

    /// The summed cross-entropy of the loaded targets; with `grad_scale`, `z` becomes
    /// `grad_scale ·` its gradient.
    pub fn cross_entropy(&mut self, backend: Backend, grad_scale: Option<f32>) {
        let p = self.d.tokens_out();
        self.loss = softmax_xent(
            backend,
            &mut self.z,
            &self.y,
            p,
            &mut self.scratch,
            grad_scale,
        );
    }

    /// Backward from the logit gradient in `z` into `self.grad` (overwritten).
    pub fn backward(&mut self, backend: Backend, w: &Weights<'_>) {
        let mut grad = std::mem::take(&mut self.grad);
        let mut g = self.d.split_mut(&mut grad);
        let (h, p, nd) = (self.d.hidden, self.d.tokens_out(), self.dec_pack.tokens());
        let dz = &self.z[..nd * p];
        column_sums(dz, p, g.b_out);
        // dz^T (P,Nd) @ x (Nd,2H) -> dw_out; dz (Nd,P) @ w_out (P,2H) -> dx.
        backend.matmul(
            Mat::rows(dz, nd, p).t(),
            Mat::rows(self.out_input(), nd, 2 * h),
            MatMut::rows(g.w_out, p, 2 * h),
            Update::Write,
        );
        backend.matmul(
            Mat::rows(dz, nd, p),
            Mat::rows(w.w_out, p, 2 * h),
            MatMut::rows(&mut self.dx, nd, 2 * h),
            Update::Write,
        );
        if self.dropout.is_some() {
            for (d, &f) in self.dx[..nd * 2 * h]
                .iter_mut()
                .zip(&self.keep[..nd * 2 * h])
            {
                *d *= f;
            }
        }
        self.attend_backward(backend);
        // Decoder top states' gradient (in ctx) -> the decoder's packing.
        for k in 0..self.d_len.len() {
            let j = self.dec_pack.pos[k];
            for t in 0..self.d_len[k] {
                let at = self.dec_pack.at(j, t);
                self.dec.dh[at * h..][..h]
                    .copy_from_slice(&self.ctx[(self.d_off[k] + t) * h..][..h]);
            }
        }
        self.dec
            .backward(backend, &w.dec, &self.dec_pack, &mut g.dec);
        self.pass_to_encoders();
        self.fwd.backward(backend, &w.fwd, &self.enc, &mut g.fwd);
        self.bwd.backward(backend, &w.bwd, &self.enc, &mut g.bwd);
        self.grad = grad;
    }

    /// Attention backward, per row: from `dx` (`[dHd ; dC]`) to the decoder top
    /// states' gradient (into `ctx`) and the encoder states' (into `de`).
    fn attend_backward(&mut self, backend: Backend) {
        let h = self.d.hidden;
        self.de.resize(self.e.len());
        for k in 0..self.d_len.len() {
            let (u, t) = (self.d_len[k], self.e_len[k]);
            let (xo, eo) = (self.d_off[k] * 2 * h, self.e_off[k] * h);
            let dc = Mat::strided(&self.dx[xo + h..], u, h, 2 * h, 1);
            let hd = Mat::strided(&self.x[xo..], u, h, 2 * h, 1);
            let e = &self.e[eo..][..t * h];
            let de = &mut self.de[eo..][..t * h];
            let att = &self.att[self.a_off[k]..][..u * t];
            let datt = &mut self.datt[..u * t];
            // dC (U,H) @ E^T (H,T) -> dA (U,T); A^T (T,U) @ dC (U,H) -> dE (T,H).
            backend.matmul(
                dc,
                Mat::rows(e, t, h).t(),
                MatMut::rows(datt, u, t),
                Update::Write,
            );
            backend.matmul(
                Mat::rows(att, u, t).t(),
                dc,
                MatMut::rows(de, t, h),
                Update::Write,
            );
            // dS = A ⊙ (dA - Σ_j A_j dA_j), by row.
            for (da, a) in datt.chunks_exact_mut(t).zip(att.chunks_exact(t)) {
                let dot: f32 = da.iter().zip(a).map(|(x, y)| x * y).sum();
                for (x, &y) in da.iter_mut().zip(a) {
                    *x = y * (*x - dot);
                }
            }
            // dHd = dx[:, ..H] + dS (U,T) @ E (T,H); dE += dS^T (T,U) @ Hd (U,H).
            let dhd = &mut self.ctx[self.d_off[k] * h..][..u * h];
            for (i, row) in dhd.chunks_exact_mut(h).enumerate() {
                row.copy_from_slice(&self.dx[xo + i * 2 * h..][..h]);
            }
            backend.matmul(
                Mat::rows(datt, u, t),
                Mat::rows(e, t, h),
                MatMut::rows(dhd, u, h),
                Update::Add,
            );
            backend.matmul(
                Mat::rows(datt, u, t).t(),
                hd,
                MatMut::rows(de, t, h),
                Update::Add,
            );
        }
    }

    /// The encoder states' gradient (`de`) and the decoder's initial-state gradient
    /// to the two encoder directions.
    fn pass_to_encoders(&mut self) {
        let (h, he) = (self.d.hidden, self.d.hidden / 2);
        for k in 0..self.e_len.len() {
            let (jj, n) = (self.enc.pos[k], self.e_len[k]);
            for t in 0..n {
                let row = &self.de[(self.e_off[k] + t) * h..][..h];
                let (f, b) = (self.enc.at(jj, t), self.enc.at(jj, n - 1 - t));
                self.fwd.dh[f * he..][..he].copy_from_slice(&row[..he]);
                self.bwd.dh[b * he..][..he].copy_from_slice(&row[he..]);
            }
        }
        let lstm = self.d.cell == CellKind::Lstm;
        for j in 0..self.dec_pack.rows() {
            let jj = self.enc.pos[self.dec_pack.order[j]];
            for l in 0..self.d.layers {
                let dl = &self.dec.layers[l];
                let (dh, dc) = (&dl.dh0[j * h..][..h], &dl.dc0[j * h..][..h]);
                let (f, b) = (&mut self.fwd.layers[l], &mut self.bwd.layers[l]);
                f.dfin_h[jj * he..][..he].copy_from_slice(&dh[..he]);
                b.dfin_h[jj * he..][..he].copy_from_slice(&dh[he..]);
                if lstm {
                    f.dfin_c[jj * he..][..he].copy_from_slice(&dc[..he]);
                    b.dfin_c[jj * he..][..he].copy_from_slice(&dc[he..]);
                }
            }
        }
    }
}

/// `off[k]` = the sum of `lens[..k]`.
fn offsets(lens: &[usize], off: &mut Vec<usize>) {
    off.clear();
    let mut sum = 0;
    for &n in lens {
        off.push(sum);
        sum += n;
    }
}

/// Softmax of one row in place (exact `exp`: rows are short).
fn softmax_row(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

// ---- greedy decoding ----

impl Work {
    /// Greedy pronunciations of `inputs` (character tokens): per step the arg-max
    /// token (ties: the lowest id), until the boundary or `max_out` phonemes.
    pub fn greedy(
        &mut self,
        backend: Backend,
        w: &Weights<'_>,
        ops: &Ops,
        inputs: &[&[u16]],
        max_out: usize,
    ) -> Vec<Vec<u16>> {
        let r = inputs.len();
        let mut out = vec![Vec::new(); r];
        self.dropout = None;
        if r == 0 {
            return out;
        }
        self.load_encoder(inputs.iter().copied());
        // One decoder step at a time: every row one token long (pack order = rows).
        self.load_decoder(std::iter::repeat_n(1, r));
        self.encode(backend, w, ops);
        let boundary = self.d.boundary();
        let (h, p) = (self.d.hidden, self.d.tokens_out());
        let s = saved_blocks(self.d.cell) * h;
        self.dec.x.fill(boundary);
        let mut done = vec![false; r];
        loop {
            self.decode(backend, w, ops);
            for k in 0..r {
                if done[k] {
                    continue;
                }
                let tok = argmax(&self.z[k * p..][..p]) as u16;
                if tok == boundary || out[k].len() == max_out {
                    done[k] = true;
                } else {
                    out[k].push(tok);
                    self.dec.x[k] = tok;
                }
            }
            if done.iter().all(|&d| d) {
                return out;
            }
            for b in &mut self.dec.layers {
                b.h0[..r * h].copy_from_slice(&b.hs[..r * h]);
                b.s0[..r * s].copy_from_slice(&b.saved[..r * s]);
            }
        }
    }
}

/// Index of the largest value (the first of equal ones).
fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
