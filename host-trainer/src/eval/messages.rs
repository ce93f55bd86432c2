//! Scoring a word classifier on labelled messages: accuracy, precision and recall of
//! one label (the "positive" one, `spam`), the confusion matrix, cross-entropy, and
//! the agreement of two models' verdicts (int8 against float).

use serde::Serialize;

use crate::eval::classifier::{argmax, nll_q16};

/// How well a classifier does on labelled messages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageReport {
    /// Messages scored.
    pub messages: usize,
    /// Share of messages whose label is the predicted one.
    pub accuracy: f64,
    /// The label precision and recall are of.
    pub positive: String,
    /// Of the messages predicted `positive`, the share that are (1 when none are
    /// predicted: no false alarm).
    pub precision: f64,
    /// Of the messages that are `positive`, the share predicted so (1 when there are
    /// none).
    pub recall: f64,
    /// `confusion[true][predicted]`: messages per (label, predicted label), in label order.
    pub confusion: Vec<Vec<usize>>,
    /// Mean cross-entropy of the true label, nats per message.
    pub xent: f64,
}

/// Scores `outputs` (one Q16 output vector per message, in order) against `labels`
/// (the true label ids); `positive` is the id precision and recall are of, `names`
/// the label names.
pub fn score_messages<'o>(
    outputs: impl IntoIterator<Item = &'o [i32]>,
    labels: &[u16],
    names: &[String],
    positive: usize,
) -> MessageReport {
    let k = names.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let (mut n, mut nll) = (0usize, 0.0);
    for (out, &label) in outputs.into_iter().zip(labels) {
        let pred = argmax(out);
        if let Some(cell) = confusion
            .get_mut(label as usize)
            .and_then(|row| row.get_mut(pred))
        {
            *cell += 1;
        }
        nll += nll_q16(out, label as usize);
        n += 1;
    }
    let right: usize = (0..k).map(|i| confusion[i][i]).sum();
    let tp = confusion.get(positive).map_or(0, |r| r[positive]);
    let predicted: usize = confusion
        .iter()
        .map(|r| r.get(positive).unwrap_or(&0))
        .sum();
    let actual: usize = confusion.get(positive).map_or(0, |r| r.iter().sum());
    let frac = |a: usize, b: usize, empty: f64| {
        if b == 0 {
            empty
        } else {
            a as f64 / b as f64
        }
    };
    MessageReport {
        messages: n,
        accuracy: frac(right, n, 0.0),
        positive: names.get(positive).cloned().unwrap_or_default(),
        precision: frac(tp, predicted, 1.0),
        recall: frac(tp, actual, 1.0),
        confusion,
        xent: if n == 0 { 0.0 } else { nll / n as f64 },
    }
}

/// The id of the label precision and recall are of: `asked` if given (an error if it
/// is not a label), else `spam` if it is one, else the second label.
pub fn positive_label(names: &[String], asked: Option<&str>) -> anyhow::Result<usize> {
    let find = |l: &str| names.iter().position(|n| n == l);
    match asked {
        Some(l) => find(l).ok_or_else(|| {
            anyhow::anyhow!(
                "--positive {l:?} is not one of the model's labels ({})",
                names.join(", ")
            )
        }),
        None => Ok(find("spam").unwrap_or(1.min(names.len().saturating_sub(1)))),
    }
}

/// Share of messages on which two runs predict the same label.
pub fn agreement<'o>(
    a: impl IntoIterator<Item = &'o [i32]>,
    b: impl IntoIterator<Item = &'o [i32]>,
) -> f64 {
    let (mut same, mut n) = (0usize, 0usize);
    for (x, y) in a.into_iter().zip(b) {
        same += usize::from(argmax(x) == argmax(y));
        n += 1;
    }
    if n == 0 {
        1.0
    } else {
        same as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let names = vec!["ham".to_string(), "spam".to_string()];
        let (h, s) = (vec![1 << 16, 0], vec![0, 1 << 16]);
        // true:  ham ham ham spam spam spam spam
        // pred:  ham spam ham spam spam ham  spam
        let outs = [&h, &s, &h, &s, &s, &h, &s];
        let labels = [0, 0, 0, 1, 1, 1, 1];
        let r = score_messages(outs.iter().map(|v| v.as_slice()), &labels, &names, 1);
        assert_eq!(r.messages, 7);
        assert_eq!(r.confusion, vec![vec![2, 1], vec![1, 3]]);
        assert!((r.accuracy - 5.0 / 7.0).abs() < 1e-12);
        assert!((r.precision - 3.0 / 4.0).abs() < 1e-12);
        assert!((r.recall - 3.0 / 4.0).abs() < 1e-12);
        assert_eq!(r.positive, "spam");
        let ham = score_messages(outs.iter().map(|v| v.as_slice()), &labels, &names, 0);
        assert!((ham.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((ham.recall - 2.0 / 3.0).abs() < 1e-12);
        let flipped: Vec<&Vec<i32>> = outs
            .iter()
            .map(|&o| if o == &h { &s } else { &h })
            .collect();
        let agree = agreement(
            outs.iter().map(|v| v.as_slice()),
            flipped[..3]
                .iter()
                .map(|v| v.as_slice())
                .chain(outs[3..].iter().map(|v| v.as_slice())),
        );
        assert!((agree - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(positive_label(&names, None).unwrap(), 1);
        assert_eq!(positive_label(&names, Some("ham")).unwrap(), 0);
        assert!(positive_label(&names, Some("eggs")).is_err());
    }
}
