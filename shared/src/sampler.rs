//! Choosing the next token from Q16 logits: temperature, top-k, min-p, in integers only.
//!
//! With temperature `T`, the probability of token `i` is `p_i = exp(l_i / T) / Σ exp(l_j / T)`
//! over the allowed tokens. Top-k keeps the `k` most probable tokens (ties: lower id
//! first); min-p keeps the tokens with `p_i ≥ P`. Both filters look at the same
//! distribution `p`, the kept set is the tokens that pass both, and the draw is from `p`
//! renormalized over that set. If no token has `p ≥ P`, the most probable one is kept.
//! Temperature 0 is greedy: the most probable allowed token (ties: lower id).

use crate::error::{Error, Result};
use crate::fixed::exp_q22;
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
/// Returns `None` only when no token is allowed.
pub fn sample(
    logits: &[i32],
    allowed: impl Fn(usize) -> bool,
    s: &Settings,
    rng: &mut Rng,
) -> Option<u16> {
    // Most probable allowed token (ties: lowest id).
    let best = (0..logits.len())
        .filter(|&i| allowed(i))
        .fold(None, |best: Option<usize>, i| match best {
            Some(b) if logits[b] >= logits[i] => Some(b),
            _ => Some(i),
        })?;
    if s.temperature_milli == 0 {
        return Some(best as u16);
    }
    let max = logits[best];
    // Unnormalized probability in Q22: exp((l - max) / T), 2^22 for the best token.
    let weight = |i: usize| -> u64 {
        let d = (logits[i] as i64 - max as i64) * 1000 / s.temperature_milli as i64;
        exp_q22(d.max(-64 << 16) as i32) as u64
    };
    let total: u64 = (0..logits.len()).filter(|&i| allowed(i)).map(weight).sum();
    // Without top-k and min-p every allowed token is kept: no second pass.
    let filtering = s.top_k != 0 || s.min_p_milli != 0;
    let kth = top_k_threshold(logits, &allowed, s.top_k as usize);
    let in_top_k =
        |i: usize| kth.is_none_or(|(kl, ki)| logits[i] > kl || (logits[i] == kl && i <= ki));
    let passes_min_p = |i: usize| weight(i) * 1000 >= s.min_p_milli as u64 * total;
    // The best token is in every top-k and has the largest weight: if it fails min-p,
    // every token does, and the best one alone is kept.
    let best_passes = passes_min_p(best);
    let kept = |i: usize| {
        allowed(i)
            && (!filtering
                || if best_passes {
                    in_top_k(i) && passes_min_p(i)
                } else {
                    i == best
                })
    };
    let kept_total: u64 = if filtering {
        (0..logits.len()).filter(|&i| kept(i)).map(weight).sum()
    } else {
        total
    };
    // Draw r uniformly in 0..kept_total and walk the cumulative weights.
    let r = rng.below(kept_total);
    let mut cum = 0;
    for i in (0..logits.len()).filter(|&i| kept(i)) {
        cum += weight(i);
        if r < cum {
            return Some(i as u16);
        }
    }
    Some(best as u16)
}

/// The `k`-th allowed token in the order (logit descending, id ascending), as
/// `(logit, id)`, or `None` when `k` is 0 or keeps every token.
fn top_k_threshold(
    logits: &[i32],
    allowed: &impl Fn(usize) -> bool,
    k: usize,
) -> Option<(i32, usize)> {
    let n_allowed = (0..logits.len()).filter(|&i| allowed(i)).count();
    if k == 0 || k >= n_allowed {
        return None;
    }
    // `a` comes before `b` in the order.
    let before = |a: usize, b: usize| logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    let mut cur: Option<usize> = None;
    for _ in 0..k {
        // The first token (in the order) after `cur`.
        cur = (0..logits.len())
            .filter(|&i| allowed(i) && cur.is_none_or(|c| before(c, i)))
            .fold(None, |acc: Option<usize>, i| match acc {
                Some(a) if before(a, i) => Some(a),
                _ => Some(i),
            });
    }
    cur.map(|i| (logits[i], i))
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: i32 = 1 << 16;

    fn draw_counts(logits: &[i32], s: &Settings, n: usize) -> [usize; 4] {
        let mut rng = Rng::new(3);
        let mut c = [0; 4];
        for _ in 0..n {
            c[sample(logits, |i| i != 0, s, &mut rng).unwrap() as usize] += 1;
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
            sample(&[9 * Q, Q, 3 * Q, 3 * Q], |i| i != 0, &s, &mut rng),
            Some(2)
        );
        assert_eq!(sample(&[Q, Q], |_| false, &s, &mut rng), None);
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
