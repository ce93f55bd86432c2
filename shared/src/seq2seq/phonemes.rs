//! The decoder's vocabulary: the phonemes of a seq2seq model (its file's `labels`), then
//! the boundary token.

use crate::error::{Error, Result};
use crate::model::{check_labels, Labels};

/// The phonemes of a seq2seq model, borrowed from its `\n`-separated labels string: ids
/// `0..N` are the phonemes in stored (sorted) order, id `N` is the boundary token (the
/// decoder's first input, and the output that ends a pronunciation); `P = N + 1` tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phonemes<'a> {
    labels: &'a str,
    count: usize,
}

impl<'a> Phonemes<'a> {
    /// Checks the names (two or more, distinct, non-empty, no space and no control
    /// character: a pronunciation is written with one space between names, as it is, by
    /// the host and the device) and wraps them.
    pub fn new(labels: &'a str) -> Result<Phonemes<'a>> {
        // '\n' separates the names; any other control character (and space) is refused.
        if labels
            .chars()
            .any(|c| c == ' ' || (c.is_control() && c != '\n'))
        {
            return Err(Error::BadLabels {
                reason: "a phoneme name has a space or a control character",
            });
        }
        let count = check_labels(labels)?;
        Ok(Phonemes { labels, count })
    }

    /// Number of phonemes `N`.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Number of decoder tokens `P = N + 1` (the phonemes and the boundary).
    pub fn tokens(&self) -> usize {
        self.count + 1
    }

    /// The boundary token's id, `N`.
    pub fn boundary(&self) -> u16 {
        self.count as u16
    }

    /// Phoneme `id`'s name; `None` for the boundary and ids out of range.
    pub fn name(&self, id: u16) -> Option<&'a str> {
        self.names().nth(id as usize)
    }

    /// The id of the phoneme called `name`, if there is one.
    pub fn id_of(&self, name: &str) -> Option<u16> {
        self.names().position(|n| n == name).map(|i| i as u16)
    }

    /// The names, in id order.
    pub fn names(&self) -> Labels<'a> {
        Labels::of(self.labels)
    }

    /// The labels string: the names separated by `\n`.
    pub fn as_str(&self) -> &'a str {
        self.labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_both_ways() {
        let p = Phonemes::new("AA0\nAA1\nB\nIY0").unwrap();
        assert_eq!((p.count(), p.tokens(), p.boundary()), (4, 5, 4));
        assert_eq!(p.name(0), Some("AA0"));
        assert_eq!(p.name(3), Some("IY0"));
        assert_eq!(p.name(4), None);
        assert_eq!(p.name(u16::MAX), None);
        assert_eq!(p.id_of("B"), Some(2));
        assert_eq!(p.id_of("C"), None);
        assert_eq!(p.id_of(""), None);
    }

    #[test]
    fn refuses_bad_names() {
        for bad in [
            "",
            "A",
            "A\nA",
            "A B\nC",
            "A\n\nB",
            "A\r\nB",
            "A\tB\nC",
            "A\u{1b}\nB",
            "A\u{85}\nB",
        ] {
            assert!(
                matches!(Phonemes::new(bad), Err(Error::BadLabels { .. })),
                "{bad:?}"
            );
        }
    }
}
