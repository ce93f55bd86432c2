//! Beam search over an encoder–decoder ([`Seq2seqNet`]), on the host.
//!
//! In: a network (integer or float path), a word and a beam width `K`. Out: the phoneme
//! ids of the most probable pronunciation found, the boundary left out. Each hypothesis
//! keeps its decoder state (saved with [`Seq2seqNet::save_state`], restored before its
//! next step); its score is the sum of the log-probabilities (softmax of the step's Q16
//! logits, in f64) of its tokens, the final boundary included. At each step every live
//! hypothesis is extended by each token; of all the extensions, the `K` best survive (ties:
//! the earlier hypothesis, then the lower token id, so `K = 1` is exactly [`greedy`]).
//! An extension by the boundary is a finished pronunciation. The search ends when no live
//! hypothesis can beat the best finished one (scores only fall), or after
//! [`MAX_OUTPUT`] phonemes, when the live ones count as finished as greedy's would.
//!
//! [`greedy`]: micrornn::seq2seq::greedy

use anyhow::Result;
use micrornn::seq2seq::{Seq2seqNet, MAX_OUTPUT};

/// One hypothesis: its phonemes, score and the decoder state after its last token.
struct Hypothesis {
    ids: Vec<u16>,
    score: f64,
    state: Vec<i32>,
}

/// `log softmax(logits)` of Q16 logits, in f64, into `out`.
pub fn log_softmax_q16(logits: &[i32], out: &mut Vec<f64>) {
    out.clear();
    out.extend(logits.iter().map(|&l| l as f64 / 65536.0));
    let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = max + out.iter().map(|&x| (x - max).exp()).sum::<f64>().ln();
    for x in out.iter_mut() {
        *x -= log_sum;
    }
}

/// The best pronunciation of `word` found by a beam of `width` hypotheses (at least 1):
/// its phoneme ids, the boundary left out. Errors: those of [`Seq2seqNet::encode`].
pub fn beam_search<N: Seq2seqNet + ?Sized>(
    net: &mut N,
    word: &str,
    width: usize,
) -> Result<Vec<u16>> {
    let width = width.max(1);
    let p = net.out_tokens();
    let boundary = (p - 1) as u16;
    net.encode(word)?;
    net.start();
    let mut state = vec![0; net.state_words()];
    net.save_state(&mut state)?;
    let mut live = vec![Hypothesis {
        ids: Vec::new(),
        score: 0.0,
        state,
    }];
    let mut best: Option<(f64, Vec<u16>)> = None;
    let (mut logits, mut logp) = (vec![0i32; p], Vec::with_capacity(p));
    for _ in 0..MAX_OUTPUT {
        // (score, hypothesis index, token), in hypothesis order then token order.
        let mut candidates: Vec<(f64, usize, u16)> = Vec::with_capacity(live.len() * p);
        let mut after: Vec<Vec<i32>> = Vec::with_capacity(live.len());
        for (i, h) in live.iter().enumerate() {
            net.load_state(&h.state)?;
            net.step(h.ids.last().copied().unwrap_or(boundary), &mut logits)?;
            let mut s = vec![0; h.state.len()];
            net.save_state(&mut s)?;
            after.push(s);
            log_softmax_q16(&logits[..p], &mut logp);
            candidates.extend(
                logp.iter()
                    .enumerate()
                    .map(|(k, &lp)| (h.score + lp, i, k as u16)),
            );
        }
        // Stable: equal scores keep hypothesis-then-token order.
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut next = Vec::with_capacity(width);
        for &(score, i, k) in candidates.iter().take(width) {
            if k == boundary {
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, live[i].ids.clone()));
                }
            } else {
                let mut ids = live[i].ids.clone();
                ids.push(k);
                next.push(Hypothesis {
                    ids,
                    score,
                    state: after[i].clone(),
                });
            }
        }
        live = next;
        let best_live = live
            .iter()
            .map(|h| h.score)
            .fold(f64::NEG_INFINITY, f64::max);
        if live.is_empty() || best.as_ref().is_some_and(|(b, _)| *b >= best_live) {
            break;
        }
    }
    // Hypotheses still live after MAX_OUTPUT phonemes end there, as greedy's do.
    for h in live {
        if best.as_ref().is_none_or(|(b, _)| h.score > *b) {
            best = Some((h.score, h.ids));
        }
    }
    Ok(best.map(|(_, ids)| ids).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use micrornn::seq2seq::greedy;

    /// A made-up network: the logits depend only on the phonemes emitted so far, through a
    /// table, so that the best path is known by hand. Tokens 0, 1 = phonemes, 2 = boundary.
    struct Toy {
        /// Emitted so far (the state).
        path: Vec<u16>,
        /// Logits (in units) after a given path.
        table: fn(&[u16]) -> [f64; 3],
    }

    impl Seq2seqNet for Toy {
        fn out_tokens(&self) -> usize {
            3
        }
        fn encode(&mut self, word: &str) -> micrornn::Result<usize> {
            Ok(word.len())
        }
        fn start(&mut self) {
            self.path.clear();
        }
        fn step(&mut self, prev: u16, logits: &mut [i32]) -> micrornn::Result<()> {
            if prev != 2 {
                self.path.push(prev);
            }
            for (l, x) in logits.iter_mut().zip((self.table)(&self.path)) {
                *l = (x * 65536.0) as i32;
            }
            Ok(())
        }
        fn state_words(&self) -> usize {
            MAX_OUTPUT + 1
        }
        fn save_state(&self, out: &mut [i32]) -> micrornn::Result<()> {
            out[0] = self.path.len() as i32;
            for (o, &p) in out[1..].iter_mut().zip(&self.path) {
                *o = p as i32;
            }
            Ok(())
        }
        fn load_state(&mut self, saved: &[i32]) -> micrornn::Result<()> {
            let n = saved[0] as usize;
            self.path = saved[1..=n].iter().map(|&x| x as u16).collect();
            Ok(())
        }
    }

    /// First step: phoneme 0 a little more likely than 1. After `0`: unsure between all.
    /// After `1`: the boundary, almost surely. So greedy says `0 …`, the beam says `1`.
    fn garden_path(path: &[u16]) -> [f64; 3] {
        match path {
            [] => [1.0, 0.9, -5.0],
            [0] => [0.0, 0.0, 0.0],
            [1] => [-5.0, -5.0, 5.0],
            _ => [-5.0, -5.0, 5.0],
        }
    }

    #[test]
    fn a_wider_beam_finds_the_more_probable_pronunciation() {
        let mut net = Toy {
            path: vec![],
            table: garden_path,
        };
        let mut logits = [0; 3];
        let mut out = [0u16; MAX_OUTPUT];
        let n = greedy(&mut net, "ab", &mut logits, &mut out).unwrap();
        // Greedy after [0]: a three-way tie, the lowest id (0) wins; then [0,0] → boundary.
        assert_eq!(&out[..n], &[0, 0]);
        assert_eq!(beam_search(&mut net, "ab", 1).unwrap(), vec![0, 0]);
        assert_eq!(beam_search(&mut net, "ab", 2).unwrap(), vec![1]);
        assert_eq!(beam_search(&mut net, "ab", 5).unwrap(), vec![1]);
    }

    #[test]
    fn no_boundary_stops_after_max_output_as_greedy_does() {
        let mut net = Toy {
            path: vec![],
            table: |_| [2.0, 1.0, -9.0],
        };
        let mut logits = [0; 3];
        let mut out = [0u16; MAX_OUTPUT + 4];
        let n = greedy(&mut net, "x", &mut logits, &mut out).unwrap();
        assert_eq!(n, MAX_OUTPUT);
        assert_eq!(beam_search(&mut net, "x", 1).unwrap(), out[..n].to_vec());
        assert_eq!(beam_search(&mut net, "x", 3).unwrap(), vec![0; MAX_OUTPUT]);
    }

    #[test]
    fn log_softmax_sums_to_one() {
        let mut out = Vec::new();
        log_softmax_q16(&[65536, 0, -65536], &mut out);
        let total: f64 = out.iter().map(|x| x.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert!((out[0] - out[1] - 1.0).abs() < 1e-12);
    }
}
