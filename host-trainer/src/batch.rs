//! Padded mini-batches of token sequences, the unit of work of the training engine.

/// A padded mini-batch of `rows` sequences, each at most `steps` long.
///
/// Row `n`, step `t` lives at index `n * steps + t` of `inputs` and `targets`.
/// A sequence for the name `abc` is `inputs = [START, a, b, c]`,
/// `targets = [a, b, c, END]`, so `lens[n] = name length + 1`. Positions at
/// `t >= lens[n]` are padding: their tokens are 0 and they carry no loss.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Number of sequences (`B`).
    pub rows: usize,
    /// Padded length (`T`) = the longest `lens[n]`.
    pub steps: usize,
    /// (B, T) input token ids.
    pub inputs: Vec<u16>,
    /// (B, T) target token ids.
    pub targets: Vec<u16>,
    /// (B,) number of real (non-padding) steps of each row.
    pub lens: Vec<usize>,
}

impl Batch {
    /// Builds a batch from `(inputs, targets)` pairs of equal length.
    pub fn from_sequences<'a>(seqs: impl IntoIterator<Item = (&'a [u16], &'a [u16])>) -> Batch {
        let seqs: Vec<_> = seqs.into_iter().collect();
        let steps = seqs.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
        let mut b = Batch {
            rows: seqs.len(),
            steps,
            inputs: vec![0; seqs.len() * steps],
            targets: vec![0; seqs.len() * steps],
            lens: Vec::with_capacity(seqs.len()),
        };
        for (n, (inp, tgt)) in seqs.iter().enumerate() {
            assert_eq!(
                inp.len(),
                tgt.len(),
                "inputs and targets of one row differ in length"
            );
            b.inputs[n * steps..n * steps + inp.len()].copy_from_slice(inp);
            b.targets[n * steps..n * steps + tgt.len()].copy_from_slice(tgt);
            b.lens.push(inp.len());
        }
        b
    }

    /// Number of predicted tokens (the sum of `lens`).
    pub fn tokens(&self) -> usize {
        self.lens.iter().sum()
    }

    /// A batch holding rows `range` of this one, with `steps` shrunk to their longest row.
    pub fn slice_rows(&self, range: std::ops::Range<usize>) -> Batch {
        let steps = self.lens[range.clone()].iter().copied().max().unwrap_or(0);
        let mut b = Batch {
            rows: range.len(),
            steps,
            inputs: Vec::with_capacity(range.len() * steps),
            targets: Vec::with_capacity(range.len() * steps),
            lens: self.lens[range.clone()].to_vec(),
        };
        for n in range {
            let row = n * self.steps;
            b.inputs.extend_from_slice(&self.inputs[row..row + steps]);
            b.targets.extend_from_slice(&self.targets[row..row + steps]);
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
        let second = batch.slice_rows(1..2);
        assert_eq!(second.steps, 2);
        assert_eq!(second.inputs, vec![0, 7]);
        assert_eq!(second.lens, vec![2]);
    }
}
