//! The float network over [`FloatWeights`]: f32 everywhere, `libm` `tanhf`/`expf`, the
//! plain forward pass of [`super::weights`] (the reference the trainer is tested against).
//!
//! Arena layout (f32; `H` hidden, `L` layers, `G` gate blocks, `O` outputs): each layer's
//! `h` (`L·H`), each layer's `c` (`L·H`, LSTM only), the input and recurrent terms of a
//! layer (`G·H` each), the outputs (`O`).

use super::weights::FloatWeights;
use super::{gru, lstm, rnn, Net};
use crate::error::{Error, Result};
use crate::format::CellKind;
use crate::kernels::dot_f32;

/// Float network with a caller-given arena.
#[derive(Debug)]
pub struct NetF<'n> {
    w: FloatWeights<'n>,
    arena: &'n mut [f32],
}

impl<'n> NetF<'n> {
    /// Elements of arena these weights need.
    pub fn needs(w: &FloatWeights<'_>) -> usize {
        let (h, l) = (w.hidden, w.n_layers);
        let c = if w.cell == CellKind::Lstm { l * h } else { 0 };
        l * h + c + 2 * w.cell.gates() * h + w.outputs
    }

    /// Binds weights to an arena, all states zero; refuses inconsistent weights
    /// ([`FloatWeights::is_consistent`]) or a short arena.
    pub fn new(w: FloatWeights<'n>, arena: &'n mut [f32]) -> Result<Self> {
        let mut net = Self::resume(w, arena)?;
        net.reset();
        Ok(net)
    }

    /// As [`NetF::new`], keeping the states a previous network of the same weights and
    /// arena left there.
    pub fn resume(w: FloatWeights<'n>, arena: &'n mut [f32]) -> Result<Self> {
        if !w.is_consistent() {
            return Err(Error::BadSetting {
                what: "float weight lengths do not match the sizes",
            });
        }
        let needed = Self::needs(&w);
        if arena.len() < needed {
            return Err(Error::BufferTooSmall {
                what: "float arena",
                needed: 4 * needed,
                capacity: 4 * arena.len(),
            });
        }
        Ok(NetF {
            w,
            arena: &mut arena[..needed],
        })
    }

    /// Every layer's `h` (`L·H`, layer by layer) and `c` (`L·H`, LSTM; else empty), to
    /// read and write.
    pub fn states_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        let (h, l) = (self.w.hidden, self.w.n_layers);
        let c = if self.w.cell == CellKind::Lstm {
            l * h
        } else {
            0
        };
        let (hs, rest) = self.arena.split_at_mut(l * h);
        (hs, &mut rest[..c])
    }

    /// Layer `l`'s state `h` (empty past the last layer).
    pub fn hidden_state(&self, l: usize) -> &[f32] {
        if l >= self.w.n_layers {
            return &[];
        }
        &self.arena[l * self.w.hidden..(l + 1) * self.w.hidden]
    }

    /// Writes the `O` float outputs of the top layer's `h` to `out`.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than `O` ([`Net::outputs`]).
    pub fn output_f32(&self, out: &mut [f32]) {
        let top = self.hidden_state(self.w.n_layers - 1);
        affine(self.w.w_out, self.w.b_out, top, &mut out[..self.w.outputs]);
    }

    /// [`Net::feed`] then [`NetF::output_f32`].
    ///
    /// # Panics
    ///
    /// As [`Net::feed`] and [`NetF::output_f32`].
    pub fn step_f32(&mut self, token: u16, out: &mut [f32]) {
        self.feed(token);
        self.output_f32(out);
    }
}

/// `out[r] = w[r] · x + b[r]` for the rows of the row-major `w`.
fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    let n = x.len();
    for (r, o) in out.iter_mut().enumerate() {
        *o = dot_f32(&w[r * n..(r + 1) * n], x) + b[r];
    }
}

impl Net for NetF<'_> {
    fn outputs(&self) -> usize {
        self.w.outputs
    }

    fn inputs(&self) -> usize {
        self.w.vocab
    }

    fn reset(&mut self) {
        self.arena.fill(0.0);
    }

    fn feed(&mut self, token: u16) {
        let w = &self.w;
        let (h, n_layers, gh) = (w.hidden, w.n_layers, w.cell.gates() * w.hidden);
        let (hs, rest) = self.arena.split_at_mut(n_layers * h);
        let c_len = if w.cell == CellKind::Lstm {
            n_layers * h
        } else {
            0
        };
        let (cs, rest) = rest.split_at_mut(c_len);
        let (x_term, rest) = rest.split_at_mut(gh);
        let a_term = &mut rest[..gh];
        let t = token as usize;
        for l in 0..n_layers {
            let layer = &w.layers[l];
            let (below, own) = hs.split_at_mut(l * h);
            let own = &mut own[..h];
            // x (G·H) = W_x · input + b_x: a row of the table for a one-hot layer 0.
            match (l, w.embed) {
                (0, 0) => {
                    let row = &layer.w_x[t * gh..(t + 1) * gh];
                    for ((x, &r), &b) in x_term.iter_mut().zip(row).zip(layer.b_x) {
                        *x = r + b;
                    }
                }
                (0, e) => affine(layer.w_x, layer.b_x, &w.emb[t * e..(t + 1) * e], x_term),
                _ => affine(layer.w_x, layer.b_x, &below[(l - 1) * h..], x_term),
            }
            // a (G·H) = W_h · h + b_h, then the cell.
            affine(layer.w_h, layer.b_h, own, a_term);
            match w.cell {
                CellKind::Rnn => rnn::step_f32(x_term, a_term, own),
                CellKind::Gru => gru::step_f32(x_term, a_term, own),
                CellKind::Lstm => lstm::step_f32(x_term, a_term, own, &mut cs[l * h..][..h]),
            }
        }
    }

    fn output(&mut self, out: &mut [i32]) {
        // The float outputs go through the same Q16 sampler as the integer path.
        let (w, h) = (&self.w, self.w.hidden);
        let (state, f_out) = self.arena.split_at_mut(self.arena.len() - w.outputs);
        let top = &state[(w.n_layers - 1) * h..w.n_layers * h];
        affine(w.w_out, w.b_out, top, f_out);
        for (q, &f) in out.iter_mut().zip(f_out.iter()) {
            *q = f32_to_q16(f);
        }
    }
}

/// Float value to Q16, rounded and saturated.
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
