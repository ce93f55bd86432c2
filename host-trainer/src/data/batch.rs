//! Padded mini-batches of token sequences, the unit of work of the training engine.

/// A padded mini-batch of `rows` sequences, each at most `steps` long.
///
/// Row `n`, step `t` lives at index `n * steps + t` of `inputs` (and `targets`).
/// Positions at `t >= lens[n]` are padding: their tokens are 0 and they carry no loss.
///
/// Two kinds, told apart by `labels`:
/// - generate (`labels` empty): for the name `abc`, `inputs = [START, a, b, c]`,
///   `targets = [a, b, c, END]`, `lens[n] = name length + 1`; every real step is
///   one predicted token;
/// - classify (`labels` one per row): `inputs = [START, c1..cn]`, `targets` empty;
///   the row is one prediction, of its label, after its last real step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Number of sequences (`B`).
    pub rows: usize,
    /// Padded length (`T`) = the longest `lens[n]`.
    pub steps: usize,
    /// (B, T) input token ids.
    pub inputs: Vec<u16>,
    /// (B, T) target token ids (generate); empty for classify.
    pub targets: Vec<u16>,
    /// (B,) number of real (non-padding) steps of each row.
    pub lens: Vec<usize>,
    /// (B,) label of each row (classify); empty for generate.
    pub labels: Vec<u16>,
}

impl Batch {
    /// Builds a generate batch from `(inputs, targets)` pairs of equal length.
    pub fn from_sequences<'a>(seqs: impl IntoIterator<Item = (&'a [u16], &'a [u16])>) -> Batch {
        let seqs: Vec<_> = seqs.into_iter().collect();
        let mut b = Self::padded(seqs.iter().map(|(i, _)| *i));
        b.targets = vec![0; b.rows * b.steps];
        for (n, (inp, tgt)) in seqs.iter().enumerate() {
            assert_eq!(
                inp.len(),
                tgt.len(),
                "inputs and targets of one row differ in length"
            );
            b.targets[n * b.steps..n * b.steps + tgt.len()].copy_from_slice(tgt);
        }
        b
    }

    /// Builds a classify batch from `(inputs, label)` pairs.
    pub fn from_labelled<'a>(rows: impl IntoIterator<Item = (&'a [u16], u16)>) -> Batch {
        let rows: Vec<_> = rows.into_iter().collect();
        let mut b = Self::padded(rows.iter().map(|(i, _)| *i));
        b.labels = rows.iter().map(|&(_, label)| label).collect();
        b
    }

    /// The inputs padded to the longest row; no targets, no labels.
    fn padded<'a>(inputs: impl ExactSizeIterator<Item = &'a [u16]> + Clone) -> Batch {
        let rows = inputs.len();
        let steps = inputs.clone().map(<[u16]>::len).max().unwrap_or(0);
        let mut b = Batch {
            rows,
            steps,
            inputs: vec![0; rows * steps],
            lens: Vec::with_capacity(rows),
            ..Batch::default()
        };
        for (n, inp) in inputs.enumerate() {
            b.inputs[n * steps..n * steps + inp.len()].copy_from_slice(inp);
            b.lens.push(inp.len());
        }
        b
    }

    /// Whether this is a classify batch (one label per row).
    pub fn is_labelled(&self) -> bool {
        !self.labels.is_empty()
    }

    /// Number of real input steps (the sum of `lens`).
    pub fn tokens(&self) -> usize {
        self.lens.iter().sum()
    }

    /// Number of predictions the loss sums over: labelled rows with at least one step
    /// (classify) or real tokens (generate). Divide a summed loss by it for the mean;
    /// the engine's gradient is that of the mean over this count.
    pub fn loss_count(&self) -> usize {
        if self.is_labelled() {
            self.lens.iter().filter(|&&len| len > 0).count()
        } else {
            self.tokens()
        }
    }

    /// A batch holding rows `range` of this one, with `steps` shrunk to their longest row.
    pub fn slice_rows(&self, range: std::ops::Range<usize>) -> Batch {
        let steps = self.lens[range.clone()].iter().copied().max().unwrap_or(0);
        let mut b = Batch {
            rows: range.len(),
            steps,
            inputs: Vec::with_capacity(range.len() * steps),
            targets: Vec::new(),
            lens: self.lens[range.clone()].to_vec(),
            labels: if self.is_labelled() {
                self.labels[range.clone()].to_vec()
            } else {
                Vec::new()
            },
        };
        for n in range {
            let row = n * self.steps;
            b.inputs.extend_from_slice(&self.inputs[row..row + steps]);
            if !self.targets.is_empty() {
                b.targets.extend_from_slice(&self.targets[row..row + steps]);
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_slices() {
        let a: (&[u16], &[u16]) = (&[0, 5, 6], &[5, 6, 1]);
        let b: (&[u16], &[u16]) = (&[0, 7], &[7, 1]);
        let batch = Batch::from_sequences([a, b]);
        assert_eq!(batch.steps, 3);
        assert_eq!(batch.inputs, vec![0, 5, 6, 0, 7, 0]);
        assert_eq!(batch.targets, vec![5, 6, 1, 7, 1, 0]);
        assert_eq!(batch.tokens(), 5);
        assert_eq!(batch.loss_count(), 5);
        assert!(!batch.is_labelled());
        let second = batch.slice_rows(1..2);
        assert_eq!(second.steps, 2);
        assert_eq!(second.inputs, vec![0, 7]);
        assert_eq!(second.targets, vec![7, 1]);
        assert_eq!(second.lens, vec![2]);
    }

    #[test]
    fn labelled_rows_count_once_each() {
        let rows: [(&[u16], u16); 3] = [(&[0, 5, 6], 2), (&[0], 0), (&[0, 7], 1)];
        let batch = Batch::from_labelled(rows);
        assert_eq!(batch.inputs, vec![0, 5, 6, 0, 0, 0, 0, 7, 0]);
        assert!(batch.targets.is_empty());
        assert_eq!(batch.labels, vec![2, 0, 1]);
        assert_eq!((batch.tokens(), batch.loss_count()), (6, 3));
        let tail = batch.slice_rows(1..3);
        assert_eq!((tail.steps, tail.labels.clone()), (2, vec![0, 1]));
        assert_eq!(tail.inputs, vec![0, 0, 0, 7]);
    }
}
