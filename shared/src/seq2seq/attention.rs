//! Luong dot attention over the encoder's states, integer and float:
//! `s_j = h · e_j` (no scaling), `a = softmax(s)`, `c = Σ_j a_j e_j`.
//!
//! Integer formats: `h`, `e_j` and `c` are Q15 vectors of `H` values in the packed layout
//! of [`crate::kernels`] (two lanes per word; the dot product and the weighted sum are
//! taken lane by lane, so the order of the lanes does not matter as long as every vector
//! has the same). Scores are Q16 (`i64` products, rounded); the weights `exp(s_j - max)`
//! are Q22 ([`exp_q22`]); the probabilities `a_j` Q15, through one reciprocal of their
//! sum; the context sums `a_j · e_j` in `i32` (`Σ a_j ≤ 2^15 + T/2`, so at most `2^30 + 2^20`
//! in magnitude) and rounds to Q15.

use crate::fixed::exp_q22;
use crate::kernels::dot_f32;

/// `h · e` of two packed Q15 vectors, as Q16 rounded half up (and saturated).
fn score_q16(h: &[i32], e: &[i32]) -> i32 {
    let mut acc = 0i64;
    for (&a, &b) in h.iter().zip(e) {
        acc += (a as i16 as i64) * (b as i16 as i64) + ((a >> 16) as i64) * ((b >> 16) as i64);
    }
    ((acc + (1 << 13)) >> 14).clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// The attention of the packed Q15 `h` (`p` words) over the encoder states `mem`
/// (`T` vectors of `p` words each, `T = mem.len() / p = probs.len()`): the probabilities
/// (Q15) in `probs`, the context (packed Q15) in `ctx` (`p` words; zero when `T` is 0).
pub(crate) fn attend_q(h: &[i32], mem: &[i32], probs: &mut [i32], ctx: &mut [i32]) {
    let p = ctx.len();
    if p == 0 || probs.is_empty() {
        ctx.fill(0);
        return;
    }
    // Scores, then their maximum.
    for (s, e) in probs.iter_mut().zip(mem.chunks_exact(p)) {
        *s = score_q16(h, e);
    }
    let max = probs.iter().copied().max().unwrap_or(0);
    // exp(s - max) in Q22 (the largest is exactly 2^22, so sum ≥ 2^22; T ≤ 2^9 terms fit).
    let mut sum = 0u32;
    for s in probs.iter_mut() {
        let w = exp_q22(s.saturating_sub(max));
        sum = sum.saturating_add(w);
        *s = w as i32;
    }
    // a_j = w_j / sum in Q15 = w_j · (2^46 / sum) / 2^31, rounded (w_j · 2^46/sum ≤ 2^46).
    let recip = (1u64 << 46) / (sum.max(1) as u64);
    for s in probs.iter_mut() {
        *s = ((*s as u64 * recip + (1 << 30)) >> 31) as i32;
    }
    // c = Σ a_j e_j, lane by lane.
    for (k, c) in ctx.iter_mut().enumerate() {
        let (mut lo, mut hi) = (0i32, 0i32);
        for (&a, e) in probs.iter().zip(mem.chunks_exact(p)) {
            let w = e[k];
            lo = lo.wrapping_add(a.wrapping_mul(w as i16 as i32));
            hi = hi.wrapping_add(a.wrapping_mul(w >> 16));
        }
        let q15 = |v: i32| ((v + (1 << 14)) >> 15).clamp(i16::MIN as i32, i16::MAX as i32);
        *c = (q15(lo) & 0xffff) | q15(hi) << 16;
    }
}

/// The float attention of `h` (H,) over `mem` (`T` rows of `H`): the probabilities in
/// `probs` (T,), the context in `ctx` (H,; zero when `T` is 0).
pub(crate) fn attend_f32(h: &[f32], mem: &[f32], probs: &mut [f32], ctx: &mut [f32]) {
    let n = h.len();
    ctx.fill(0.0);
    if n == 0 || probs.is_empty() {
        return;
    }
    for (s, e) in probs.iter_mut().zip(mem.chunks_exact(n)) {
        *s = dot_f32(h, e);
    }
    let max = probs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in probs.iter_mut() {
        *s = libm::expf(*s - max);
        sum += *s;
    }
    for (a, e) in probs.iter_mut().zip(mem.chunks_exact(n)) {
        *a /= sum;
        let a = *a;
        for (c, &x) in ctx.iter_mut().zip(e) {
            *c += a * x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Packed words of Q15 pairs.
    fn pack(v: &[f32]) -> [i32; 16] {
        let q = |x: f32| ((x * 32768.0).round() as i32).clamp(-32768, 32767);
        core::array::from_fn(|k| {
            let (lo, hi) = (v.get(2 * k).copied(), v.get(2 * k + 1).copied());
            (q(lo.unwrap_or(0.0)) & 0xffff) | q(hi.unwrap_or(0.0)) << 16
        })
    }

    #[test]
    fn the_integer_attention_follows_the_float_one() {
        let mut rng = Rng::new(7);
        let mut f = || (rng.next_u32() as i32 as f32) / 2.2e9;
        for t in [1usize, 2, 5, 32] {
            let n = 32;
            let h: [f32; 32] = core::array::from_fn(|_| f());
            let mut mem = [0f32; 32 * 32];
            mem.iter_mut().for_each(|x| *x = f());
            let mut mem_q = [0i32; 32 * 16];
            for j in 0..t {
                mem_q[16 * j..16 * j + 16].copy_from_slice(&pack(&mem[n * j..n * j + n]));
            }
            let (mut pf, mut cf) = ([0f32; 32], [0f32; 32]);
            attend_f32(&h, &mem[..n * t], &mut pf[..t], &mut cf);
            let (mut pq, mut cq) = ([0i32; 32], [0i32; 16]);
            attend_q(&pack(&h), &mem_q[..16 * t], &mut pq[..t], &mut cq);
            for j in 0..t {
                assert!((pq[j] as f32 / 32768.0 - pf[j]).abs() < 2e-3, "t={t} j={j}");
            }
            for i in 0..n {
                let w = cq[i / 2];
                let q = if i % 2 == 0 {
                    w as i16
                } else {
                    (w >> 16) as i16
                };
                assert!((q as f32 / 32768.0 - cf[i]).abs() < 2e-3, "t={t} i={i}");
            }
        }
    }

    #[test]
    fn extremes_neither_overflow_nor_panic() {
        let h = [i32::from_ne_bytes([0, 0x80, 0, 0x80]); 256];
        let mem = [i32::from_ne_bytes([0, 0x80, 0, 0x80]); 256 * 32];
        let (mut probs, mut ctx) = ([0i32; 32], [0i32; 256]);
        attend_q(&h, &mem, &mut probs, &mut ctx);
        assert!(probs.iter().all(|&a| a == 1024), "{probs:?}");
        assert!(ctx
            .iter()
            .all(|&c| c == i32::from_ne_bytes([0, 0x80, 0, 0x80])));
        attend_q(&h, &[], &mut [], &mut ctx);
        assert!(ctx.iter().all(|&c| c == 0));
    }
}
