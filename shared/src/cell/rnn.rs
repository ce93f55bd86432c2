//! The vanilla RNN cell: `h' = tanh(W_x·x + W_h·h + b)`, `logits = W_o·h' + b_o`, `h0 = 0`.
//!
//! `x` is one-hot, so `W_x·x` is the input row of the token (`w_in[x]`).

use super::Net;
use crate::error::{Error, Result};
use crate::fixed::{requant_q16, tanh_q15};
use crate::kernels::{dot_f32, dot_q8_q15};
use crate::model::Model;

// ---- integer path ----

/// Integer-only vanilla RNN over a validated [`Model`]: int8 weights, Q15 state,
/// int32 accumulators, Q16 pre-activations and logits. Buffers are the caller's.
#[derive(Debug)]
pub struct RnnQ<'a, 'w> {
    model: Model<'a>,
    /// (H,) hidden state, Q15.
    h: &'w mut [i16],
    /// (H,) pre-activation scratch, Q16.
    pre: &'w mut [i32],
}

impl<'a, 'w> RnnQ<'a, 'w> {
    /// Elements of state (`i16`) and scratch (`i32`) buffers this model needs.
    pub fn needs(model: &Model<'_>) -> (usize, usize) {
        (model.hidden(), model.hidden())
    }

    /// Binds a model to caller-given buffers; refuses buffers that are too small.
    pub fn new(model: Model<'a>, state: &'w mut [i16], scratch: &'w mut [i32]) -> Result<Self> {
        let (ns, na) = Self::needs(&model);
        check_buffers((ns, na), (state.len(), scratch.len()))?;
        let mut net = RnnQ {
            model,
            h: &mut state[..ns],
            pre: &mut scratch[..na],
        };
        net.reset();
        Ok(net)
    }

    /// The hidden state (Q15).
    pub fn hidden_state(&self) -> &[i16] {
        self.h
    }
}

impl Net for RnnQ<'_, '_> {
    fn vocab_size(&self) -> usize {
        self.model.vocab_size()
    }

    fn reset(&mut self) {
        self.h.fill(0);
    }

    fn step(&mut self, token: u16, logits: &mut [i32]) {
        let m = &self.model;
        let x = token as usize;
        // 1. pre (H,) = w_in[x] + w_hh (H,H) @ h (H,) + b_h          all in Q16
        //    The one-hot input is 1.0 = 2^15 in Q15, so its "accumulator" is w << 15.
        let in_scale = m.w_in.scale_bits(x);
        for (r, pre) in self.pre.iter_mut().enumerate() {
            let rec = requant_q16(dot_q8_q15(m.w_hh.row(r), self.h), m.w_hh.scale_bits(r));
            let inp = requant_q16((m.w_in.weight(x, r) as i32) << 15, in_scale);
            *pre = rec.saturating_add(inp).saturating_add(m.w_hh.bias_q16(r));
        }
        // 2. h (H,) = tanh(pre)                                      Q16 -> Q15
        for (h, &p) in self.h.iter_mut().zip(self.pre.iter()) {
            *h = tanh_q15(p);
        }
        // 3. logits (V,) = w_out (V,H) @ h (H,) + b_out              Q16
        for (t, logit) in logits[..m.vocab_size()].iter_mut().enumerate() {
            let acc = dot_q8_q15(m.w_out.row(t), self.h);
            *logit = requant_q16(acc, m.w_out.scale_bits(t)).saturating_add(m.w_out.bias_q16(t));
        }
    }
}

/// Refuses state or scratch buffers shorter than `needed`.
fn check_buffers(needed: (usize, usize), capacity: (usize, usize)) -> Result<()> {
    let check = |what, needed, capacity| {
        if capacity < needed {
            return Err(Error::BufferTooSmall {
                what,
                needed,
                capacity,
            });
        }
        Ok(())
    };
    check("state buffer", needed.0, capacity.0)?;
    check("scratch buffer", needed.1, capacity.1)
}

// ---- float path ----

/// Float weights of a vanilla RNN (row-major, borrowed), as the trainer stores them.
#[derive(Clone, Copy, Debug)]
pub struct RnnWeights<'a> {
    /// Number of tokens `V`.
    pub vocab: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// (V, H) input weights, one row per token.
    pub w_in: &'a [f32],
    /// (H, H) recurrent weights, one row per hidden unit.
    pub w_hh: &'a [f32],
    /// (H,) hidden bias.
    pub b_h: &'a [f32],
    /// (V, H) output weights, one row per token.
    pub w_out: &'a [f32],
    /// (V,) output bias.
    pub b_out: &'a [f32],
}

/// Float vanilla RNN (f32 everywhere, `libm` tanh) with caller-given buffers.
#[derive(Debug)]
pub struct RnnF<'a, 'w> {
    w: RnnWeights<'a>,
    /// (H,) hidden state.
    h: &'w mut [f32],
    /// (H,) pre-activations, then (V,) logits for [`Net::step`].
    scratch: &'w mut [f32],
}

impl<'a, 'w> RnnF<'a, 'w> {
    /// Elements of the state and scratch buffers these weights need.
    pub fn needs(w: &RnnWeights<'_>) -> (usize, usize) {
        (w.hidden, w.hidden + w.vocab)
    }

    /// Binds weights to buffers; refuses inconsistent weights or small buffers.
    pub fn new(w: RnnWeights<'a>, state: &'w mut [f32], scratch: &'w mut [f32]) -> Result<Self> {
        let (v, h) = (w.vocab, w.hidden);
        let lens = [
            w.w_in.len(),
            w.w_hh.len(),
            w.b_h.len(),
            w.w_out.len(),
            w.b_out.len(),
        ];
        if lens != [v * h, h * h, h, v * h, v] {
            return Err(Error::BadSetting {
                what: "float weight lengths do not match vocab and hidden",
            });
        }
        let (ns, na) = Self::needs(&w);
        check_buffers((ns, na), (state.len(), scratch.len()))?;
        let mut net = RnnF {
            w,
            h: &mut state[..ns],
            scratch: &mut scratch[..na],
        };
        net.reset();
        Ok(net)
    }

    /// Feeds `token` and writes `V` float logits.
    pub fn step_f32(&mut self, token: u16, logits: &mut [f32]) {
        let pre = &mut self.scratch[..self.w.hidden];
        forward_f32(&self.w, token, self.h, pre, logits);
    }

    /// The hidden state.
    pub fn hidden_state(&self) -> &[f32] {
        self.h
    }
}

/// One float step: `h` is read and updated, `pre` is scratch, `logits` gets `V` values.
fn forward_f32(w: &RnnWeights<'_>, token: u16, h: &mut [f32], pre: &mut [f32], logits: &mut [f32]) {
    let hn = w.hidden;
    let x = token as usize;
    // 1. pre (H,) = w_in[x] + w_hh (H,H) @ h (H,) + b_h
    for (r, p) in pre.iter_mut().enumerate() {
        *p = w.w_in[x * hn + r] + dot_f32(&w.w_hh[r * hn..(r + 1) * hn], h) + w.b_h[r];
    }
    // 2. h (H,) = tanh(pre)
    for (hi, &p) in h.iter_mut().zip(pre.iter()) {
        *hi = libm::tanhf(p);
    }
    // 3. logits (V,) = w_out (V,H) @ h (H,) + b_out
    for (t, l) in logits[..w.vocab].iter_mut().enumerate() {
        *l = dot_f32(&w.w_out[t * hn..(t + 1) * hn], h) + w.b_out[t];
    }
}

/// Float logit to Q16, rounded and saturated.
pub fn f32_to_q16(x: f32) -> i32 {
    let q = libm::roundf(x * 65536.0);
    if q >= i32::MAX as f32 {
        i32::MAX
    } else if q <= i32::MIN as f32 {
        i32::MIN
    } else {
        q as i32
    }
}

impl Net for RnnF<'_, '_> {
    fn vocab_size(&self) -> usize {
        self.w.vocab
    }

    fn reset(&mut self) {
        self.h.fill(0.0);
    }

    fn step(&mut self, token: u16, logits: &mut [i32]) {
        // The float logits go through the same Q16 sampler as the integer path.
        let (pre, out) = self.scratch.split_at_mut(self.w.hidden);
        forward_f32(&self.w, token, self.h, pre, out);
        for (q, &f) in logits.iter_mut().zip(out.iter()) {
            *q = f32_to_q16(f);
        }
    }
}
