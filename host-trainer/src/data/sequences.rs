//! Training examples as token sequences, for either task, and their batches.

use micrornn::vocab::Vocab;

use crate::data::batch::Batch;
use crate::data::labelled::Labelled;
use crate::data::names::encode;

/// Encoded examples: next-character sequences, or names with a label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sequences {
    /// `([START, c1..cn], [c1..cn, END])` per name.
    Generate(Vec<(Vec<u16>, Vec<u16>)>),
    /// `([START, c1..cn], label)` per name.
    Classify(Vec<(Vec<u16>, u16)>),
}

impl Sequences {
    /// Next-character examples of `names` (every character must be in `vocab`).
    pub fn names(names: &[String], vocab: &Vocab<'_>) -> Sequences {
        Sequences::Generate(names.iter().map(|n| encode(n, vocab)).collect())
    }

    /// Classification examples of labelled names (every character must be in `vocab`).
    pub fn labelled(data: &Labelled, vocab: &Vocab<'_>) -> Sequences {
        Sequences::Classify(
            data.names
                .iter()
                .zip(&data.label)
                .map(|(n, &label)| (classify_inputs(n, vocab), label))
                .collect(),
        )
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Sequences::Generate(s) => s.len(),
            Sequences::Classify(s) => s.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A batch of the examples at `idx`, in that order.
    pub fn batch(&self, idx: &[usize]) -> Batch {
        match self {
            Sequences::Generate(s) => {
                Batch::from_sequences(idx.iter().map(|&i| (&s[i].0[..], &s[i].1[..])))
            }
            Sequences::Classify(s) => {
                Batch::from_labelled(idx.iter().map(|&i| (&s[i].0[..], s[i].1)))
            }
        }
    }

    /// The examples in their order, `rows` per batch (validation, evaluation).
    pub fn batches_in_order(&self, rows: usize) -> Vec<Batch> {
        let idx: Vec<usize> = (0..self.len()).collect();
        idx.chunks(rows.max(1)).map(|c| self.batch(c)).collect()
    }
}

/// `[START, c1..cn]`: what a classifier reads for a name.
pub fn classify_inputs(name: &str, vocab: &Vocab<'_>) -> Vec<u16> {
    encode(name, vocab).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use micrornn::vocab::START;

    #[test]
    fn both_tasks_batch_in_the_asked_order() {
        let v = Vocab::new("abc").unwrap();
        let names: Vec<String> = ["ab", "c", "bca"].iter().map(|s| s.to_string()).collect();
        let g = Sequences::names(&names, &v);
        let b = g.batch(&[2, 0]);
        assert_eq!((b.rows, b.steps, b.lens.clone()), (2, 4, vec![4, 3]));
        assert_eq!(&b.inputs[..4], &[START, 3, 4, 2]);
        let data = Labelled {
            labels: vec!["F".into(), "M".into()],
            names,
            label: vec![1, 0, 1],
            counts: vec![vec![0, 1]; 3],
            ..Labelled::default()
        };
        let c = Sequences::labelled(&data, &v);
        assert!(c.batch(&[0]).is_labelled());
        let all = c.batches_in_order(2);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].labels, vec![1, 0]);
        assert_eq!(all[1].lens, vec![4]);
        assert_eq!(all[1].inputs[0], START);
    }
}
