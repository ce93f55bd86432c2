//! The vanilla RNN cell: `h' = tanh(W_x·x + W_h·h + b)`, `logits = W_o·h' + b_o`, `h0 = 0`.
//!
//! `x` is one-hot, so `W_x·x` is the input row of the token (`w_in[x]`).

use super::Net;
use crate::error::{Error, Result};
use crate::fixed::{requant_q16, tanh_q15};
use crate::kernels::{dot_f32, matvec_q8_packed, pack_q15, packed_len};
use crate::model::Model;
use crate::tensor::QTensor;

// ---- integer path ----

/// Integer-only vanilla RNN over a validated [`Model`]: int8 weights, Q15 state,
/// int32 accumulators, Q16 pre-activations and logits. Buffers are the caller's.
///
/// The scratch buffer holds a copy of the hidden state in the kernels' packed layout
/// ([`crate::kernels::pack_q15`]), which every dot product reads, and the pre-activations
/// of the rows being computed; the state buffer keeps the state in natural order
/// ([`RnnQ::hidden_state`]).
#[derive(Debug)]
pub struct RnnQ<'a, 'w> {
    model: Model<'a>,
    /// (H,) hidden state, Q15, natural order.
    h: &'w mut [i16],
    /// (H,): the same state packed for the kernels (`packed_len(H)` words), then room for
    /// the pre-activations of `H - packed_len(H)` rows.
    scratch: &'w mut [i32],
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
            scratch: &mut scratch[..na],
        };
        net.reset();
        Ok(net)
    }

    /// The hidden state (Q15), in natural order.
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
        self.scratch.fill(0);
    }

    fn step(&mut self, token: u16, logits: &mut [i32]) {
        let m = &self.model;
        let n = m.hidden();
        // 1. h (H,) = tanh(w_in[x] + w_hh (H,H) @ h (H,) + b_h)        Q16 -> Q15
        //    The one-hot input is 1.0 = 2^15 in Q15, so its "accumulator" is w << 15.
        //    The old h is read from the packed copy and the new one written to the state
        //    buffer, as many rows at a time as the rest of the scratch buffer holds (their
        //    pre-activations wait there), then packed for the next step.
        let (packed, rest) = self.scratch.split_at_mut(packed_len(n));
        let mut one = [0];
        let pre = if rest.is_empty() { &mut one[..] } else { rest };
        let chunk = pre.len();
        let input = InputTerm::new(m.w_in.scale_bits(token as usize));
        let x_row = m.w_in.row(token as usize);
        let mut start = 0;
        while start < n {
            let pre = &mut pre[..(n - start).min(chunk)];
            layer_rows(&m.w_hh, start, packed, &input, &x_row[start..], pre);
            for (h, &p) in self.h[start..].iter_mut().zip(pre.iter()) {
                *h = tanh_q15(p);
            }
            start += pre.len();
        }
        pack_q15(self.h, packed);
        // 2. logits (V,) = w_out (V,H) @ h (H,) + b_out                Q16
        //    No input term: the mantissa of `NONE` is 0, so any V bytes do as its weights.
        let logits = &mut logits[..m.vocab_size()];
        layer_rows(
            &m.w_out,
            0,
            packed,
            &InputTerm::NONE,
            m.w_out.scales,
            logits,
        );
    }
}

/// `out.len()` rows of a layer, from row `start` of `t`, in Q16: the dot product of each
/// row with the packed `xp`, then `requant_q16(acc, scale) ⊕ input.apply(x[i]) ⊕ bias`,
/// each sum saturated, the bias 0 if `t` has none (as [`QTensor::bias_q16`]).
#[inline(never)]
fn layer_rows(
    t: &QTensor<'_>,
    start: usize,
    xp: &[i32],
    input: &InputTerm,
    x: &[u8],
    out: &mut [i32],
) {
    let k = out.len();
    matvec_q8_packed(&t.weights[start * t.cols..], t.cols, xp, out);
    let (scales, x) = (&t.scales[4 * start..4 * (start + k)], &x[..k]);
    // Without a bias the scales stand in for it, masked to 0: one loop for both cases.
    let (bias, mask) = match t.bias.get(4 * start..4 * (start + k)) {
        Some(bias) => (bias, !0),
        None => (scales, 0),
    };
    // (Opaque to the optimizer: one AND per row, rather than a test of the bias's length.)
    let mask = core::hint::black_box(mask);
    for i in 0..k {
        let scale = word(&scales[4 * i..4 * i + 4]);
        let bias = word(&bias[4 * i..4 * i + 4]) as i32 & mask;
        let pre = requant(out[i], scale).saturating_add(input.apply(x[i]));
        out[i] = pre.saturating_add(bias);
    }
}

/// The little-endian word of 4 bytes (one unaligned load on the Cortex-M4).
#[inline(always)]
fn word(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap_or_default())
}

/// [`requant_q16`], bit for bit, with a shortcut for the usual scales.
///
/// `requant_q16` computes `floor((acc · m + 2^(s-1)) / 2^s)` (`m` the 24-bit mantissa,
/// `s = 149 - exp`) and clamps it. For a biased exponent in 94..=124 (scales in
/// [2^-33, 2^-2): every row of a trained model so far) `s` is in 25..=55, the result is
/// below 2^30 (no clamping), and it equals `(floor(acc · m · 2^8 / 2^(s+7)) + 1) >> 1`:
/// the high word of `acc · (m << 8)` (one `SMMLA` on the Cortex-M4, with `m << 8` taken as
/// signed and corrected by adding `acc`), shifted right by `u = s - 25`, plus one, halved.
/// Other scales (zero, large, tiny) go to `requant_q16`.
#[inline(always)]
fn requant(acc: i32, scale_bits: u32) -> i32 {
    // A sign bit makes `exp` 256 or more: out of range, so `requant_q16` decides.
    let exp = scale_bits >> 23;
    if exp.wrapping_sub(94) <= 30 {
        // m << 8 with the implicit bit at bit 31; as i32 it is m·2^8 - 2^32.
        let m8 = (scale_bits << 8 | 1 << 31) as i32;
        let hi = (((acc as i64 * m8 as i64) >> 32) as i32).wrapping_add(acc);
        ((hi >> (124 - exp)) + 1) >> 1
    } else {
        requant_slow(acc, scale_bits)
    }
}

/// [`requant_q16`], out of line: the rare scales outside [`requant`]'s shortcut.
#[inline(never)]
fn requant_slow(acc: i32, scale_bits: u32) -> i32 {
    requant_q16(acc, scale_bits)
}

/// The input term of one step, `requant_q16(w << 15, scale)` for the weights `w` of the
/// token's row of `w_in`, with the scale taken apart once per step.
///
/// For a shift `s = 149 - exp` in 16..=39 (scales in [2^-17, 2^7)) the factor 2^15 cancels:
/// `floor((w · 2^15 · m + 2^(s-1)) / 2^s) = (w · m + 2^(s-16)) >> (s - 15)`, exactly, in
/// 32 bits (`w · m` is in `-2^31 + 128 ..= 2^31 - 2^24`, the rounding term at most 2^23).
/// Other scales go to `requant_q16`.
struct InputTerm {
    scale_bits: u32,
    /// The 24-bit mantissa, `2^(s-16)` and `s - 15`; `shift == 0`: use `requant_q16`.
    mantissa: i32,
    round: i32,
    shift: u32,
}

impl InputTerm {
    /// No input term: 0 for every weight.
    const NONE: InputTerm = InputTerm {
        scale_bits: 0,
        mantissa: 0,
        round: 0,
        shift: 1,
    };

    fn new(scale_bits: u32) -> Self {
        let exp = (scale_bits >> 23) & 0xff;
        let s = 149u32.wrapping_sub(exp);
        let fast = exp != 0 && s.wrapping_sub(16) <= 39 - 16;
        InputTerm {
            scale_bits,
            mantissa: ((scale_bits & 0x7f_ffff) | 0x80_0000) as i32,
            round: if fast { 1 << (s - 16) } else { 0 },
            shift: if fast { s - 15 } else { 0 },
        }
    }

    /// `requant_q16((w as i8 as i32) << 15, scale)`.
    #[inline(always)]
    fn apply(&self, w: u8) -> i32 {
        if self.shift != 0 {
            (w as i8 as i32 * self.mantissa + self.round) >> self.shift
        } else {
            self.slow(w)
        }
    }

    #[inline(never)]
    fn slow(&self, w: u8) -> i32 {
        requant_q16((w as i8 as i32) << 15, self.scale_bits)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{CellKind, Config, Task};
    use crate::kernels::dot_q8_q15_portable;
    use crate::rng::Rng;
    use crate::vocab::Vocab;

    /// Scale exponents (biased) around and beyond the shortcuts' ranges.
    fn exponents() -> impl Iterator<Item = u32> {
        (0..=255).chain([256, 300, 383, 384, 511])
    }

    #[test]
    fn requant_matches_requant_q16() {
        let mut rng = Rng::new(11);
        let accs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
        ];
        for exp in exponents() {
            for i in 0..400 {
                let mantissa = match i {
                    0 => 0,
                    1 => 0x7f_ffff,
                    _ => rng.next_u32() & 0x7f_ffff,
                };
                let bits = exp << 23 | mantissa;
                for j in 0..40 {
                    let acc = match accs.get(j) {
                        Some(&a) => a,
                        None => rng.next_u32() as i32 >> (rng.next_u32() % 32),
                    };
                    let want = requant_q16(acc, bits);
                    assert_eq!(requant(acc, bits), want, "acc={acc} bits={bits:#x}");
                }
            }
        }
    }

    #[test]
    fn input_term_matches_requant_q16() {
        let mut rng = Rng::new(12);
        for exp in exponents() {
            for i in 0..40 {
                let mantissa = match i {
                    0 => 0,
                    1 => 0x7f_ffff,
                    _ => rng.next_u32() & 0x7f_ffff,
                };
                let bits = exp << 23 | mantissa;
                let term = InputTerm::new(bits);
                for w in 0..=255u8 {
                    let want = requant_q16((w as i8 as i32) << 15, bits);
                    assert_eq!(term.apply(w), want, "w={w} bits={bits:#x}");
                    assert_eq!(InputTerm::NONE.apply(w), 0);
                }
            }
        }
    }

    const CHARS: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

    /// A random model of `v` tokens and `h` hidden units in `data`, its weights starting
    /// `offset` bytes in (rows at every alignment). `exotic` draws some scales outside the
    /// shortcuts' ranges (zero, large, tiny) and some extreme biases.
    fn random_model<'a>(
        data: &'a mut [u8],
        v: usize,
        h: usize,
        offset: usize,
        exotic: bool,
        rng: &mut Rng,
    ) -> Model<'a> {
        // w_in, its scales, w_hh, its scales and bias, w_out, its scales and bias.
        let sizes = [v * h, 4 * v, h * h, 4 * h, 4 * h, v * h, 4 * v, 4 * v];
        let mut starts = [offset; 9];
        for k in 0..8 {
            starts[k + 1] = starts[k] + sizes[k];
        }
        let data = &mut data[..starts[8]];
        data.iter_mut().for_each(|b| *b = rng.next_u32() as u8);
        for k in [1, 3, 4, 6, 7] {
            for c in data[starts[k]..starts[k + 1]].chunks_exact_mut(4) {
                let r = rng.next_u32();
                let word = match k {
                    // Scales: 2^-10 .. 2^-4 mostly; zero, large and tiny ones when exotic.
                    1 | 3 | 6 if !exotic || r % 8 != 0 => {
                        (117 + r % 7) << 23 | (rng.next_u32() & 0x7f_ffff)
                    }
                    1 | 3 | 6 => [0, 124 << 23, 125 << 23, 134 << 23 | 0x7f_ffff, 87 << 23]
                        [r as usize / 8 % 5],
                    // Biases: up to ±2 in Q16, or extreme when exotic.
                    _ if exotic && r % 16 == 0 => [i32::MAX, i32::MIN][r as usize / 16 % 2] as u32,
                    _ => (rng.next_u32() as i32 >> 14) as u32,
                };
                c.copy_from_slice(&word.to_le_bytes());
            }
        }
        let data: &'a [u8] = data;
        let part = |k: usize| &data[starts[k]..starts[k + 1]];
        Model {
            config: Config {
                cell: CellKind::Rnn,
                task: Task::Generate,
                layers: 1,
                hidden: h as u16,
                embed: 0,
                vocab_size: v as u16,
            },
            vocab: Vocab::new(&CHARS[..v - 2]).unwrap(),
            w_in: QTensor::new(v, h, part(0), part(1), &[]),
            w_hh: QTensor::new(h, h, part(2), part(3), part(4)),
            w_out: QTensor::new(v, h, part(5), part(6), part(7)),
        }
    }

    /// The integer step as first written (natural order, one row at a time, `requant_q16`).
    fn reference_step(m: &Model<'_>, h: &mut [i16], token: u16, logits: &mut [i32]) {
        let x = token as usize;
        let mut pre = [0i32; 511];
        for (r, pre) in pre[..m.hidden()].iter_mut().enumerate() {
            let rec = requant_q16(dot_q8_q15_portable(m.w_hh.row(r), h), m.w_hh.scale_bits(r));
            let inp = requant_q16((m.w_in.weight(x, r) as i32) << 15, m.w_in.scale_bits(x));
            *pre = rec.saturating_add(inp).saturating_add(m.w_hh.bias_q16(r));
        }
        for (h, &p) in h.iter_mut().zip(pre.iter()) {
            *h = tanh_q15(p);
        }
        for (t, logit) in logits[..m.vocab_size()].iter_mut().enumerate() {
            let acc = dot_q8_q15_portable(m.w_out.row(t), h);
            *logit = requant_q16(acc, m.w_out.scale_bits(t)).saturating_add(m.w_out.bias_q16(t));
        }
    }

    #[test]
    fn step_matches_the_reference_bit_for_bit() {
        let mut rng = Rng::new(13);
        let mut data = [0u8; 40_000];
        let hidden = [
            1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 48, 64, 65, 100, 128, 131,
        ];
        for (case, &h) in hidden.iter().enumerate() {
            let v = [3, 4, 7, 28, 29][case % 5];
            let exotic = case % 2 == 1;
            let model = random_model(&mut data, v, h, case % 4, exotic, &mut rng);
            let (mut state, mut scratch) = ([0i16; 131], [0i32; 131]);
            let mut net = RnnQ::new(model, &mut state[..h], &mut scratch[..h]).unwrap();
            let mut h_ref = [0i16; 131];
            for step in 0..40 {
                if step % 13 == 0 {
                    net.reset();
                    h_ref = [0; 131];
                }
                let token = (rng.next_u32() % v as u32) as u16;
                let (mut logits, mut want) = ([0i32; 29], [0i32; 29]);
                net.step(token, &mut logits);
                reference_step(&model, &mut h_ref[..h], token, &mut want);
                assert_eq!(net.hidden_state(), &h_ref[..h], "h={h} step={step}");
                assert_eq!(logits, want, "h={h} v={v} step={step}");
            }
        }
    }

    #[test]
    fn a_missing_bias_counts_as_zero() {
        let mut rng = Rng::new(14);
        let mut data = [0u8; 4000];
        let mut model = random_model(&mut data, 5, 8, 1, false, &mut rng);
        model.w_out = QTensor::new(5, 8, model.w_out.weights, model.w_out.scales, &[]);
        let (mut state, mut scratch) = ([0i16; 8], [0i32; 8]);
        let mut net = RnnQ::new(model, &mut state, &mut scratch).unwrap();
        let mut h = [0i16; 8];
        for token in [0, 3, 4, 1] {
            let (mut logits, mut want) = ([0i32; 5], [0i32; 5]);
            net.step(token, &mut logits);
            reference_step(&model, &mut h, token, &mut want);
            assert_eq!(logits, want);
        }
    }
}
