//! Choosing the next token from Q16 logits: temperature, top-k, min-p, in integers only.
//!
//! With temperature `T`, the probability of token `i` is `p_i = exp(l_i / T) / Σ exp(l_j / T)`
//! over the allowed tokens. Top-k keeps the `k` most probable tokens (ties: lower id
//! first); min-p keeps the tokens with `p_i ≥ P`. Both filters look at the same
//! distribution `p`, the kept set is the tokens that pass both, and the draw is from `p`
//! renormalized over that set. If no token has `p ≥ P`, the most probable one is kept.
//! Temperature 0 is greedy: the most probable allowed token (ties: lower id).

use crate::error::{Error, Result};
use crate::fixed::{exp_neg_q22, EXP_NEG_Q22_ZERO};
use crate::rng::Rng;

/// Sampling settings, in exact decimal fixed point so that host and device agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Temperature in thousandths (1000 = 1.0); 0 = greedy.
    pub temperature_milli: u32,
    /// Keep only the `k` most probable tokens; 0 = no limit.
    pub top_k: u16,
    /// Drop tokens whose probability is below this, in thousandths; 0 = off.
    pub min_p_milli: u32,
    /// Maximum characters in a name, prefix included.
    pub max_len: u16,
}

/// Largest temperature accepted (100.0).
pub const MAX_TEMPERATURE_MILLI: u32 = 100_000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            temperature_milli: 1000,
            top_k: 0,
            min_p_milli: 0,
            max_len: 24,
        }
    }
}

impl Settings {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        if self.temperature_milli > MAX_TEMPERATURE_MILLI {
            return Err(Error::BadSetting {
                what: "temperature must be in 0..=100",
            });
        }
        if self.min_p_milli > 1000 {
            return Err(Error::BadSetting {
                what: "min-p must be in 0..=1",
            });
        }
        if self.max_len == 0 {
            return Err(Error::BadSetting {
                what: "max length must be at least 1",
            });
        }
        Ok(())
    }
}

/// Picks a token from `logits` (Q16) among the tokens for which `allowed` is true.
///
/// Returns `None` only when no token is allowed. `logits` doubles as the sampler's
/// scratch (each token's weight is computed once, into its own slot): its contents are
/// unspecified afterwards. `allowed` must give the same answer every time it is asked.
pub fn sample(
    logits: &mut [i32],
    allowed: impl Fn(usize) -> bool,
    s: &Settings,
    rng: &mut Rng,
) -> Option<u16> {
    let best = best_allowed(logits, &allowed)?;
    if s.temperature_milli == 0 {
        return Some(best as u16);
    }
    let max = logits[best];
    let kth = top_k_threshold(logits, &allowed, s.top_k as usize);
    // Unnormalized probability in Q22: exp(-q) with q = ⌊(max - l)·1000 / T⌋ (Q16), 2^22
    // for the best token, into each allowed token's slot (0 for the others).
    let t = s.temperature_milli;
    let total = match kth {
        // The default temperature, without top-k: q = max - l.
        None if t == 1000 => weigh(logits, &allowed, max, |u| u, |_, _| false),
        // Everything else. (Without top-k, (kl, ki) marks no token.)
        _ => {
            let (kl, ki) = kth.unwrap_or((i32::MIN, usize::MAX));
            weigh(logits, &allowed, max, scaling(t), |l, i| {
                l < kl || (l == kl && i > ki)
            })
        }
    };
    // Without top-k and min-p every allowed token is kept: the slots are ready.
    let kept_total = if kth.is_none() && s.min_p_milli == 0 {
        total
    } else {
        // Min-p: p_i ≥ P ⇔ w_i·1000 ≥ P·total. The best token is in every top-k and has
        // the largest weight, 2^22: if it fails min-p, every token does, and the best one
        // alone is kept (the draw below 2^22 still takes one number from the generator).
        let threshold = s.min_p_milli as u64 * total;
        if threshold > 1000 << 22 {
            rng.below(1 << 22);
            return Some(best as u16);
        }
        keep(logits, threshold as u32)
    };
    // Draw r uniformly in 0..kept_total and walk the cumulative weights.
    Some(pick(logits, rng.below(kept_total)).unwrap_or(best) as u16)
}

/// The most probable allowed token (ties: lowest id), or `None` if none is allowed.
#[inline(never)]
// An index loop after the first allowed token: the compiler sees through generation's
// `allowed` (every later token is allowed), which it does not with the iterator forms.
#[allow(clippy::needless_range_loop)]
fn best_allowed(logits: &[i32], allowed: &impl Fn(usize) -> bool) -> Option<usize> {
    let first = (0..logits.len()).find(|&i| allowed(i))?;
    let (mut best, mut max) = (first, logits[first]);
    for i in first + 1..logits.len() {
        let l = logits[i];
        if l > max && allowed(i) {
            (best, max) = (i, l);
        }
    }
    Some(best)
}

/// `u ↦ ⌊u·1000 / t⌋` for `t > 0`, exactly, or a value ≥ [`EXP_NEG_Q22_ZERO`] when that
/// is (weight 0). 32-bit arithmetic.
#[inline(always)]
fn scaling(t: u32) -> impl Fn(u32) -> u32 {
    // When t divides 1000 (0.5, 0.25, 0.2, 0.1, …): a multiplication, no division; from
    // `cut` on, the product reaches EXP_NEG_Q22_ZERO (and cut·a < 2^32).
    let a = if 1000 % t == 0 { 1000 / t } else { 0 };
    let cut = if a != 0 {
        EXP_NEG_Q22_ZERO.div_ceil(a)
    } else {
        0
    };
    move |u| {
        if a != 0 {
            u.min(cut) * a
        } else if u <= u32::MAX / 1000 {
            u * 1000 / t
        } else {
            // Beyond 65 nats (rare): a division in 32-bit steps, no 64-bit division
            // routine on the device.
            let t = core::num::NonZeroU32::new(t).unwrap_or(core::num::NonZeroU32::MIN);
            let q = crate::text::div_rem(u as u64 * 1000, t).0;
            q.min(EXP_NEG_Q22_ZERO as u64) as u32
        }
    }
}

/// Marks, in a weight's slot, an allowed token outside the top-k.
const OUTSIDE_TOP_K: u32 = 1 << 31;

/// Replaces each logit `l` by its token's weight `exp(-q(max - l))` (Q22) if the token is
/// allowed, with [`OUTSIDE_TOP_K`] if `outside(l, id)`, else by 0; returns the sum of the
/// allowed tokens' weights.
#[inline(always)]
fn weigh(
    logits: &mut [i32],
    allowed: &impl Fn(usize) -> bool,
    max: i32,
    q: impl Fn(u32) -> u32,
    outside: impl Fn(i32, usize) -> bool,
) -> u64 {
    // Weights are at most 2^22, so the sum over 1023 tokens fits 32 bits.
    let mut total = 0u64;
    let mut start = 0;
    while start < logits.len() {
        let end = logits.len().min(start + 1023);
        total += weigh_range(&mut logits[..end], start, allowed, max, &q, &outside) as u64;
        start = end;
    }
    total
}

/// [`weigh`] on the tokens from `start` on.
// Not inlined: the loop needs its registers (inlined into a large caller, such as the
// firmware's session loop, it spills).
#[inline(never)]
#[allow(clippy::needless_range_loop)] // as in `best_allowed`
fn weigh_range(
    logits: &mut [i32],
    start: usize,
    allowed: &impl Fn(usize) -> bool,
    max: i32,
    q: &impl Fn(u32) -> u32,
    outside: &impl Fn(i32, usize) -> bool,
) -> u32 {
    // Starting the loop at the first allowed token lets the compiler see through
    // `allowed` (for generation's "neither start nor, at first, end", every later token
    // is allowed: no test in the loop).
    let end = logits.len();
    let first = (start..end).find(|&i| allowed(i)).unwrap_or(end);
    logits[start.min(first)..first].fill(0);
    let mut total = 0u32;
    for i in first..end {
        let l = logits[i];
        let mut w = 0;
        if allowed(i) {
            w = exp_neg_q22(q(max.wrapping_sub(l) as u32));
            total += w;
            if outside(l, i) {
                w |= OUTSIDE_TOP_K;
            }
        }
        logits[i] = w as i32;
    }
    total
}

/// Keeps the weights in the top-k with `w·1000 ≥ threshold` (min-p), zeroes the others;
/// returns the sum of the kept ones.
#[inline(never)]
fn keep(weights: &mut [i32], threshold: u32) -> u64 {
    let mut kept_total = 0u64;
    for slot in weights.iter_mut() {
        let w = *slot as u32;
        // A weight is at most 2^22: w·1000 fits 32 bits.
        let kept = if w & OUTSIDE_TOP_K == 0 && w * 1000 >= threshold {
            w
        } else {
            0
        };
        kept_total += kept as u64;
        *slot = kept as i32;
    }
    kept_total
}

/// The token where the cumulative weights first exceed `r` (a token of weight 0 is never
/// picked), or `None` if they never do.
#[inline(never)]
fn pick(weights: &[i32], r: u64) -> Option<usize> {
    match u32::try_from(r) {
        Ok(mut r) => {
            for (i, &w) in weights.iter().enumerate() {
                let w = w as u32;
                if r < w {
                    return Some(i);
                }
                r -= w;
            }
        }
        Err(_) => {
            let mut r = r;
            for (i, &w) in weights.iter().enumerate() {
                let w = w as u32 as u64;
                if r < w {
                    return Some(i);
                }
                r -= w;
            }
        }
    }
    None
}

/// The `k`-th allowed token in the order (logit descending, id ascending), as
/// `(logit, id)`, or `None` when `k` is 0 or keeps every token.
#[inline(never)]
fn top_k_threshold(
    logits: &[i32],
    allowed: &impl Fn(usize) -> bool,
    k: usize,
) -> Option<(i32, usize)> {
    if k == 0 {
        return None;
    }
    let n_allowed = (0..logits.len()).filter(|&i| allowed(i)).count();
    if k >= n_allowed {
        return None;
    }
    // Ranks in the order as keys: a larger key comes first.
    let key = |i: usize| (logits[i], core::cmp::Reverse(i));
    let allowed_keys = || (0..logits.len()).filter(|&i| allowed(i)).map(key);
    let mut cur = None;
    if k <= n_allowed - k {
        // The k-th from the top: k times the largest key below the previous one.
        for _ in 0..k {
            cur = allowed_keys().filter(|&x| cur.is_none_or(|c| x < c)).max();
        }
    } else {
        // The (n - k + 1)-th from the bottom: the smallest key above the previous one.
        for _ in 0..n_allowed - k + 1 {
            cur = allowed_keys().filter(|&x| cur.is_none_or(|c| x > c)).min();
        }
    }
    cur.map(|(l, core::cmp::Reverse(i))| (l, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: i32 = 1 << 16;

    fn draw_counts(logits: &[i32], s: &Settings, n: usize) -> [usize; 4] {
        let mut rng = Rng::new(3);
        let mut c = [0; 4];
        for _ in 0..n {
            let mut scratch = logits.to_vec();
            c[sample(&mut scratch, |i| i != 0, s, &mut rng).unwrap() as usize] += 1;
        }
        c
    }

    #[test]
    fn greedy_takes_the_best_allowed() {
        let s = Settings {
            temperature_milli: 0,
            ..Settings::default()
        };
        let mut rng = Rng::new(1);
        // Token 0 is best but not allowed.
        assert_eq!(
            sample(&mut [9 * Q, Q, 3 * Q, 3 * Q], |i| i != 0, &s, &mut rng),
            Some(2)
        );
        assert_eq!(sample(&mut [Q, Q], |_| false, &s, &mut rng), None);
    }

    #[test]
    fn follows_softmax_probabilities() {
        // ln 1, ln 2, ln 3 → probabilities 1/6, 2/6, 3/6 among tokens 1..=3.
        let l = [
            0,
            0,
            (core::f64::consts::LN_2 * 65536.0) as i32,
            (libm::log(3.0) * 65536.0) as i32,
        ];
        let c = draw_counts(&l, &Settings::default(), 60_000);
        assert_eq!(c[0], 0);
        for (i, want) in [(1, 10_000), (2, 20_000), (3, 30_000)] {
            assert!((c[i] as i64 - want).abs() < 700, "{c:?}");
        }
    }

    #[test]
    fn top_k_and_min_p_filter() {
        let l = [
            0,
            0,
            (core::f64::consts::LN_2 * 65536.0) as i32,
            (libm::log(3.0) * 65536.0) as i32,
        ];
        let top2 = draw_counts(
            &l,
            &Settings {
                top_k: 2,
                ..Settings::default()
            },
            10_000,
        );
        assert_eq!(top2[1], 0);
        assert!(top2[2] > 3_000 && top2[3] > 5_000, "{top2:?}");
        // p = 1/6, 1/3, 1/2: min-p 0.34 keeps only token 3.
        let minp = draw_counts(
            &l,
            &Settings {
                min_p_milli: 340,
                ..Settings::default()
            },
            1_000,
        );
        assert_eq!(minp, [0, 0, 0, 1_000]);
        // Nothing reaches 0.9: the best token is kept.
        let none = draw_counts(
            &l,
            &Settings {
                min_p_milli: 900,
                ..Settings::default()
            },
            100,
        );
        assert_eq!(none, [0, 0, 0, 100]);
    }

    #[test]
    fn temperature_sharpens() {
        let l = [0, 0, 0, Q];
        let hot = draw_counts(&l, &Settings::default(), 10_000)[3];
        let cold = draw_counts(
            &l,
            &Settings {
                temperature_milli: 250,
                ..Settings::default()
            },
            10_000,
        )[3];
        assert!(cold > hot + 2_000, "hot {hot} cold {cold}");
    }

    #[test]
    fn scaling_is_exact() {
        let mut rng = Rng::new(11);
        for i in 0..200_000u32 {
            let t = (rng.next_u32() >> (i % 32)).max(1);
            let u = rng.next_u32() >> (i % 32);
            let want = (u as u64 * 1000 / t as u64).min(EXP_NEG_Q22_ZERO as u64) as u32;
            let got = scaling(t)(u);
            assert!(
                got == want || (got >= EXP_NEG_Q22_ZERO && want >= EXP_NEG_Q22_ZERO),
                "u={u} t={t}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn settings_ranges() {
        assert!(Settings::default().validate().is_ok());
        assert!(Settings {
            min_p_milli: 1001,
            ..Settings::default()
        }
        .validate()
        .is_err());
        assert!(Settings {
            max_len: 0,
            ..Settings::default()
        }
        .validate()
        .is_err());
        assert!(Settings {
            temperature_milli: 100_001,
            ..Settings::default()
        }
        .validate()
        .is_err());
    }
}
