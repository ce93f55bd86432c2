//! Classifying one name (many-to-one): feed start and the name, read the output layer
//! once, and give the most likely label with its probability in exact integer steps, so
//! that the host and the device print the same digits.

use crate::cell::Net;
use crate::error::{Error, Result};
use crate::fixed::exp_q22;
use crate::vocab::{Vocab, START};

/// Probabilities are given in units of 1/`PROB_DENOM` (four decimal places).
pub const PROB_DENOM: u32 = 10_000;

/// The answer for one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Index of the most likely label (the first one on a tie).
    pub label: usize,
    /// Its softmax probability in 1/[`PROB_DENOM`], rounded to nearest.
    pub prob: u32,
}

impl Verdict {
    /// The probability as `0.dddd` (or `1.0000`), written into `buf`.
    pub fn prob_str(self, buf: &mut [u8; 6]) -> &str {
        let p = self.prob.min(PROB_DENOM);
        buf[0] = b'0' + (p / PROB_DENOM) as u8;
        buf[1] = b'.';
        let mut rest = p % PROB_DENOM;
        for i in (2..6).rev() {
            buf[i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        core::str::from_utf8(buf).unwrap_or("?")
    }
}

/// Classifies `name` with `net`: reset, feed start and each character, read the output
/// layer into `out` (scratch of at least `net.outputs()` Q16 values).
///
/// A character outside `vocab`, an empty name or a short buffer is an error, reported
/// before the network runs.
pub fn classify<N: Net + ?Sized>(
    net: &mut N,
    vocab: &Vocab<'_>,
    name: &str,
    out: &mut [i32],
) -> Result<Verdict> {
    let n = net.outputs();
    if n < 2 {
        return Err(Error::WrongTask(crate::format::Task::Generate));
    }
    if out.len() < n {
        return Err(Error::BufferTooSmall {
            what: "output buffer",
            needed: 4 * n,
            capacity: 4 * out.len(),
        });
    }
    if name.is_empty() {
        return Err(Error::BadSetting { what: "empty name" });
    }
    if vocab.tokens() > net.inputs() {
        return Err(Error::BadVocab {
            reason: "it has more tokens than the network reads",
        });
    }
    for c in name.chars() {
        vocab.token(c)?;
    }
    net.reset();
    net.feed(START);
    for c in name.chars() {
        net.feed(vocab.token(c)?);
    }
    let out = &mut out[..n];
    net.output(out);
    Ok(verdict(out))
}

/// The arg-max of Q16 logits and its softmax probability `2^22 / Σ exp_q22(l - max)` in
/// 1/[`PROB_DENOM`], in 32-bit integer steps (the same digits on every target).
pub fn verdict(logits: &[i32]) -> Verdict {
    let mut label = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[label] {
            label = i;
        }
    }
    let best = logits.get(label).copied().unwrap_or(0);
    // Σ exp(l - max) in Q22: the best term is 2^22, so the sum is at least that.
    let sum: u64 = logits
        .iter()
        .map(|&l| exp_q22((l as i64 - best as i64).max(i32::MIN as i64) as i32) as u64)
        .sum();
    // p = 2^22 / sum in 1/10^4: both scaled by 2^-6 so that one 32-bit division does
    // (10^4 · 2^16 < 2^32; the denominator keeps at least 16 bits, so p is within 0.2 of
    // a unit of the exact quotient).
    let den = (sum >> 6).clamp(1, u32::MAX as u64 / 2) as u32;
    let prob = (PROB_DENOM * (1 << 16) + den / 2) / den;
    Verdict { label, prob }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_is_the_argmax_with_its_softmax_probability() {
        // Two labels, logits 0 and ln 3 (Q16): p = 3/4.
        let ln3 = (1.0986123f64 * 65536.0).round() as i32;
        let v = verdict(&[0, ln3]);
        assert_eq!(v.label, 1);
        assert!((v.prob as i32 - 7500).abs() <= 1, "{v:?}");
        // Equal logits: the first wins, p = 1/3.
        let v = verdict(&[5, 5, 5]);
        assert_eq!((v.label, v.prob), (0, 3333));
        // A single output, or extremes: probability 1, no overflow.
        assert_eq!(verdict(&[i32::MIN]).prob, 10_000);
        assert_eq!(
            verdict(&[i32::MIN, i32::MAX]),
            Verdict {
                label: 1,
                prob: 10_000
            }
        );
    }

    #[test]
    fn probability_is_within_a_unit_of_the_exact_softmax() {
        let mut rng = crate::rng::Rng::new(3);
        for case in 0..2000 {
            let n = 2 + case % 40;
            let logits: [i32; 41] =
                core::array::from_fn(|_| (rng.next_u32() as i32) >> (8 + case % 12));
            let logits = &logits[..n];
            let v = verdict(logits);
            let max = *logits.iter().max().unwrap();
            assert_eq!(logits[v.label], max);
            let sum: f64 = logits
                .iter()
                .map(|&l| libm::exp((l - max) as f64 / 65536.0))
                .sum();
            let exact = 10_000.0 / sum;
            assert!(
                (v.prob as f64 - exact).abs() <= 1.0,
                "{logits:?}: {v:?} vs {exact}"
            );
        }
    }

    #[test]
    fn probability_digits() {
        let mut buf = [0; 6];
        let v = |prob| Verdict { label: 0, prob };
        assert_eq!(v(9732).prob_str(&mut buf), "0.9732");
        assert_eq!(v(5).prob_str(&mut buf), "0.0005");
        assert_eq!(v(10_000).prob_str(&mut buf), "1.0000");
    }
}
