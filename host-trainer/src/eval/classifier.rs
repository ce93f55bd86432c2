//! Scoring a classifier on labelled names: accuracy per distinct name, accuracy
//! weighted by births, and cross-entropy.

use anyhow::{Context, Result};
use micrornn::classify::{classify, Verdict};
use micrornn::words::{classify_text, WordVocab};
use rayon::prelude::*;

use crate::data::labelled::Labelled;
use crate::eval::host_model::HostModel;

/// Names per work item when classifying in parallel (each item has its own runner).
const CHUNK: usize = 256;

/// One name's answer: the verdict and the Q16 outputs it came from.
pub type Answer = (Verdict, Vec<i32>);

/// Classifies each name with `model` (integer or float path, as the file is): the verdict
/// and the Q16 outputs. A name with a character outside the vocabulary is an error
/// naming it. Parallel over names; the results do not depend on the thread count.
pub fn classify_names(model: &HostModel, names: &[String]) -> Result<Vec<Answer>> {
    let chunks: Vec<Result<Vec<Answer>>> = names
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut runner = model.runner();
            let n = runner.outputs();
            runner.with_net(|net, vocab| {
                chunk
                    .iter()
                    .map(|name| {
                        let mut out = vec![0; n];
                        let v = classify(net, vocab, name, &mut out)
                            .with_context(|| format!("{name:?}"))?;
                        Ok((v, out))
                    })
                    .collect()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(names.len());
    for c in chunks {
        all.extend(c?);
    }
    Ok(all)
}

/// Classifies each text with the word classifier `model` (integer or float path, as
/// the file is), as `micrornn::words::classify_text` does on the device: the verdict
/// and the Q16 outputs. Parallel over texts; the results do not depend on the thread
/// count. A character model is an error.
pub fn classify_texts(model: &HostModel, texts: &[String]) -> Result<Vec<Answer>> {
    let Some((words, max_words)) = model.word_vocab() else {
        anyhow::bail!("this model reads characters, not words");
    };
    let vocab = WordVocab::new(words)?;
    let chunks: Vec<Result<Vec<Answer>>> = texts
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut runner = model.runner();
            let n = runner.outputs();
            runner.with_net(|net, _| {
                chunk
                    .iter()
                    .map(|text| {
                        let mut out = vec![0; n];
                        let v = classify_text(net, &vocab, max_words, text, &mut out)?;
                        Ok((v, out))
                    })
                    .collect()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(texts.len());
    for c in chunks {
        all.extend(c?);
    }
    Ok(all)
}

/// How well a classifier does on a set of labelled names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassReport {
    /// Names scored.
    pub names: usize,
    /// Share of names whose majority label is the predicted one.
    pub accuracy: f64,
    /// Share of births whose recorded label is the predicted one (each name's births
    /// under the predicted label, over all births).
    pub weighted_accuracy: f64,
    /// Mean cross-entropy of the majority label, nats per name.
    pub xent: f64,
}

/// The predicted label of Q16 outputs: the first of the largest.
pub fn argmax(out: &[i32]) -> usize {
    let mut best = 0;
    for (i, &v) in out.iter().enumerate() {
        if v > out[best] {
            best = i;
        }
    }
    best
}

/// `-log softmax(out)[label]` for Q16 outputs, in nats.
pub fn nll_q16(out: &[i32], label: usize) -> f64 {
    let x: Vec<f64> = out.iter().map(|&v| v as f64 / 65536.0).collect();
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = max + x.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
    log_sum - x[label]
}

/// Scores `outputs` (one Q16 output vector per name of `data`, in order).
pub fn score<'o>(outputs: impl IntoIterator<Item = &'o [i32]>, data: &Labelled) -> ClassReport {
    let (mut right, mut births_right, mut births, mut nll) = (0usize, 0u64, 0u64, 0.0);
    let mut names = 0;
    for ((out, &label), counts) in outputs.into_iter().zip(&data.label).zip(&data.counts) {
        let pred = argmax(out);
        right += usize::from(pred == label as usize);
        births_right += counts.get(pred).copied().unwrap_or(0);
        births += counts.iter().sum::<u64>();
        nll += nll_q16(out, label as usize);
        names += 1;
    }
    let frac = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    ClassReport {
        names,
        accuracy: frac(right as f64, names as f64),
        weighted_accuracy: frac(births_right as f64, births as f64),
        xent: frac(nll, names as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_per_name_weighted_and_cross_entropy() {
        let data = Labelled {
            labels: vec!["F".into(), "M".into()],
            names: vec!["a".into(), "b".into(), "c".into()],
            label: vec![0, 1, 1],
            counts: vec![vec![90, 10], vec![0, 5], vec![30, 70]],
            ..Labelled::default()
        };
        // Predictions: F (right), F (wrong), M (right); logits 0 vs ±ln 3.
        let l = (3f64.ln() * 65536.0).round() as i32;
        let outs = [vec![l, 0], vec![l, 0], vec![0, l]];
        let r = score(outs.iter().map(|v| v.as_slice()), &data);
        assert_eq!(r.names, 3);
        assert!((r.accuracy - 2.0 / 3.0).abs() < 1e-12);
        // Births under the predicted label: 90 + 0 + 70 of 205.
        assert!((r.weighted_accuracy - 160.0 / 205.0).abs() < 1e-12);
        // Right ones have p = 3/4, the wrong one p = 1/4.
        let want = (2.0 * -(0.75f64.ln()) - 0.25f64.ln()) / 3.0;
        assert!((r.xent - want).abs() < 1e-5, "{} vs {want}", r.xent);
    }

    #[test]
    fn ties_go_to_the_first_label() {
        assert_eq!(argmax(&[3, 7, 7]), 1);
        assert_eq!(argmax(&[i32::MIN]), 0);
    }
}
