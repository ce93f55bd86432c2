//! Evaluation: mean cross-entropy per predicted character over a list of names.

use micrornn::vocab::{END, START};
use rayon::prelude::*;
use serde::Serialize;

use crate::eval::host_model::HostModel;

/// Names per parallel work item (fixed, so the sum is the same on any machine).
const CHUNK: usize = 256;

/// Loss figures of a model on a set of names.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    /// Mean negative log-likelihood, nats per predicted token (characters and end).
    pub nll: f64,
    /// `nll / ln 2`.
    pub bits_per_char: f64,
    /// `exp(nll)`.
    pub perplexity: f64,
    /// Names evaluated.
    pub names: usize,
    /// Predicted tokens (characters + one end per name).
    pub tokens: usize,
}

impl EvalReport {
    /// Builds the report from a summed NLL and counts.
    pub fn from_sums(nll_sum: f64, names: usize, tokens: usize) -> EvalReport {
        let nll = nll_sum / tokens.max(1) as f64;
        EvalReport {
            nll,
            bits_per_char: nll / std::f64::consts::LN_2,
            perplexity: nll.exp(),
            names,
            tokens,
        }
    }
}

/// Negative log-likelihood of every name (start + characters + end; the model predicts
/// each character and the end). Names must use only the model's characters.
pub fn evaluate(model: &HostModel, names: &[String]) -> EvalReport {
    let sums: Vec<(f64, usize)> = names
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut runner = model.runner();
            let vocab = runner.vocab();
            let mut logits = vec![0i32; vocab.tokens()];
            let mut targets = Vec::new();
            let (mut nll, mut tokens) = (0.0, 0);
            runner.with_net(|net, vocab| {
                for name in chunk {
                    targets.clear();
                    targets.extend(
                        name.chars()
                            .map(|c| vocab.token(c).expect("names checked against vocabulary")),
                    );
                    targets.push(END);
                    net.reset();
                    let mut input = START;
                    for &t in &targets {
                        net.step(input, &mut logits);
                        nll += nll_q16(&logits, t);
                        input = t;
                    }
                    tokens += targets.len();
                }
            });
            (nll, tokens)
        })
        .collect();
    let (nll, tokens) = sums.iter().fold((0.0, 0), |(a, b), &(x, y)| (a + x, b + y));
    EvalReport::from_sums(nll, names.len(), tokens)
}

/// `-log softmax(logits)[target]` for Q16 logits, in f64.
pub fn nll_q16(logits: &[i32], target: u16) -> f64 {
    let max = logits.iter().copied().max().unwrap_or(0) as f64 / 65536.0;
    let sum: f64 = logits
        .iter()
        .map(|&l| (l as f64 / 65536.0 - max).exp())
        .sum();
    max + sum.ln() - logits[target as usize] as f64 / 65536.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nll_of_uniform_logits_is_ln_v() {
        assert!((nll_q16(&[0; 4], 2) - 4f64.ln()).abs() < 1e-12);
        let l = [0, 65536 * 3, 0];
        let want = -(3f64.exp() / (2.0 + 3f64.exp())).ln();
        assert!((nll_q16(&l, 1) - want).abs() < 1e-12);
    }
}
