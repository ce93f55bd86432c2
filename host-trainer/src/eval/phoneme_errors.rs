//! Phoneme and word error rates of pronunciations, as usual for CMUdict.
//!
//! In: for each word, the predicted phonemes and the dictionary's pronunciations of it
//! (one or more alternatives). Out: the phoneme error rate (edit distance to the closest
//! listed pronunciation, summed, over the summed lengths of those closest pronunciations)
//! and the word error rate (share of words whose prediction equals none of the listed
//! pronunciations), each with the stress digits kept and with them stripped
//! (`IY0` → `IY`), so that `AH0` for `AH1` is an error only in the first pair.

use serde::Serialize;

/// Levenshtein distance between two sequences: the fewest insertions, deletions and
/// substitutions (each costing 1) that turn `a` into `b`. One row of memory.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    // row[j] = distance between a[..i] and b[..j], for the current i.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0]; // distance a[..i], b[..0]
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(x != y);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(diagonal + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// A phoneme without its stress digit: `IY0` → `IY`, `K` → `K`.
pub fn strip_stress(phoneme: &str) -> &str {
    phoneme.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// One word scored against its listed pronunciations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WordScore {
    /// Edit distance to the closest listed pronunciation.
    pub errors: usize,
    /// Phonemes in that closest pronunciation (the first listed of the closest ones).
    pub reference_len: usize,
}

impl WordScore {
    /// Whether the prediction equals one of the listed pronunciations.
    pub fn right(&self) -> bool {
        self.errors == 0
    }
}

/// Scores `predicted` against the pronunciations `references` (at least one): the
/// errors count against the closest one; of equally close ones, the first listed.
pub fn score_word<P: AsRef<str>, R: AsRef<str>>(
    predicted: &[P],
    references: &[Vec<R>],
) -> WordScore {
    let predicted: Vec<&str> = predicted.iter().map(AsRef::as_ref).collect();
    let mut best: Option<WordScore> = None;
    for r in references {
        let r: Vec<&str> = r.iter().map(AsRef::as_ref).collect();
        let s = WordScore {
            errors: edit_distance(&predicted, &r),
            reference_len: r.len(),
        };
        if best.is_none_or(|b| s.errors < b.errors) {
            best = Some(s);
        }
    }
    best.expect("a word has at least one pronunciation")
}

/// [`score_word`] with the stress digits stripped from every phoneme.
pub fn score_word_nostress<P: AsRef<str>, R: AsRef<str>>(
    predicted: &[P],
    references: &[Vec<R>],
) -> WordScore {
    let predicted: Vec<&str> = predicted.iter().map(|p| strip_stress(p.as_ref())).collect();
    let references: Vec<Vec<&str>> = references
        .iter()
        .map(|r| r.iter().map(|x| strip_stress(x.as_ref())).collect())
        .collect();
    score_word(&predicted, &references)
}

/// Error counts summed over words, with and without stress digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// Words scored.
    pub words: usize,
    /// Words not exactly right (stress digits included).
    pub wrong_words: usize,
    /// Phoneme edits to the closest pronunciations (stress digits included).
    pub phoneme_errors: usize,
    /// Phonemes of those closest pronunciations.
    pub reference_phonemes: usize,
    /// Words not right once stress digits are stripped.
    pub wrong_words_nostress: usize,
    /// Phoneme edits without stress digits.
    pub phoneme_errors_nostress: usize,
    /// Phonemes of the closest pronunciations without stress digits.
    pub reference_phonemes_nostress: usize,
}

impl ErrorCounts {
    /// Adds one word: its prediction and its listed pronunciations (at least one).
    pub fn add<P: AsRef<str>, R: AsRef<str>>(&mut self, predicted: &[P], references: &[Vec<R>]) {
        let s = score_word(predicted, references);
        let n = score_word_nostress(predicted, references);
        self.words += 1;
        self.wrong_words += usize::from(!s.right());
        self.phoneme_errors += s.errors;
        self.reference_phonemes += s.reference_len;
        self.wrong_words_nostress += usize::from(!n.right());
        self.phoneme_errors_nostress += n.errors;
        self.reference_phonemes_nostress += n.reference_len;
    }

    /// The sum of two counts (e.g. of two threads' shares of the words).
    pub fn merge(mut self, o: ErrorCounts) -> ErrorCounts {
        self.words += o.words;
        self.wrong_words += o.wrong_words;
        self.phoneme_errors += o.phoneme_errors;
        self.reference_phonemes += o.reference_phonemes;
        self.wrong_words_nostress += o.wrong_words_nostress;
        self.phoneme_errors_nostress += o.phoneme_errors_nostress;
        self.reference_phonemes_nostress += o.reference_phonemes_nostress;
        self
    }

    /// The rates.
    pub fn rates(&self) -> ErrorRates {
        let frac = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        ErrorRates {
            per: frac(self.phoneme_errors, self.reference_phonemes),
            wer: frac(self.wrong_words, self.words),
            per_nostress: frac(
                self.phoneme_errors_nostress,
                self.reference_phonemes_nostress,
            ),
            wer_nostress: frac(self.wrong_words_nostress, self.words),
            words: self.words,
        }
    }
}

/// Phoneme and word error rates, as fractions (the keys of `eval --json`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ErrorRates {
    /// Phoneme error rate: edits over reference phonemes, stress digits included.
    pub per: f64,
    /// Word error rate: share of words not exactly right, stress digits included.
    pub wer: f64,
    /// Phoneme error rate with stress digits stripped.
    pub per_nostress: f64,
    /// Word error rate with stress digits stripped.
    pub wer_nostress: f64,
    /// Words scored.
    pub words: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        assert_eq!(edit_distance::<u8>(&[], &[]), 0);
        assert_eq!(edit_distance(b"abc", b""), 3);
        assert_eq!(edit_distance(b"", b"ab"), 2);
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"flaw", b"lawn"), 2);
        assert_eq!(edit_distance(b"abc", b"abc"), 0);
        // Symmetric.
        assert_eq!(edit_distance(b"sitting", b"kitten"), 3);
        // One swap of neighbours = two edits (no transpositions).
        assert_eq!(edit_distance(b"ab", b"ba"), 2);
    }

    #[test]
    fn stress_digits_are_stripped() {
        assert_eq!(strip_stress("IY0"), "IY");
        assert_eq!(strip_stress("AH1"), "AH");
        assert_eq!(strip_stress("K"), "K");
        assert_eq!(strip_stress(""), "");
    }

    #[test]
    fn a_word_counts_against_its_closest_pronunciation() {
        // "either": IY1 DH ER0 | AY1 DH ER0.
        let refs = vec![ph("IY1 DH ER0"), ph("AY1 DH ER0")];
        // Equal to the second: right, no errors, length of the second.
        let s = score_word(&ph("AY1 DH ER0"), &refs);
        assert_eq!(
            s,
            WordScore {
                errors: 0,
                reference_len: 3
            }
        );
        assert!(s.right());
        // One substitution from the first, two from the second.
        let s = score_word(&ph("IY1 DH ER1"), &refs);
        assert_eq!((s.errors, s.reference_len, s.right()), (1, 3, false));
        // Closest is the longer one: its length is the denominator.
        let refs = vec![ph("T AH0"), ph("T AH0 M EY1 T OW2")];
        let s = score_word(&ph("T AH0 M EY1 T"), &refs);
        assert_eq!((s.errors, s.reference_len), (1, 6));
        // Equally close: the first listed counts.
        let refs = vec![ph("A B"), ph("A B C D")];
        let s = score_word(&ph("A B C"), &refs);
        assert_eq!((s.errors, s.reference_len), (1, 2));
    }

    #[test]
    fn rates_with_and_without_stress() {
        let mut c = ErrorCounts::default();
        // Right with stress.
        c.add(&ph("K AE1 T"), &[ph("K AE1 T")]);
        // Wrong stress only: 1 error of 4 with stress, right without.
        c.add(&ph("D AA1 G IY1"), &[ph("D AA1 G IY0")]);
        // A deletion and a substitution against the closer alternative (3 phonemes):
        // `B ER1` vs `B ER0 D` = 2 errors, 1 without stress; vs `B IH1 R D` = 3.
        c.add(&ph("B ER1"), &[ph("B IH1 R D"), ph("B ER0 D")]);
        assert_eq!(
            c,
            ErrorCounts {
                words: 3,
                wrong_words: 2,
                phoneme_errors: 3,
                reference_phonemes: 3 + 4 + 3,
                wrong_words_nostress: 1,
                phoneme_errors_nostress: 1,
                reference_phonemes_nostress: 10,
            }
        );
        let r = c.rates();
        assert_eq!(r.words, 3);
        assert!((r.per - 0.3).abs() < 1e-12, "{r:?}");
        assert!((r.wer - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.per_nostress - 0.1).abs() < 1e-12);
        assert!((r.wer_nostress - 1.0 / 3.0).abs() < 1e-12);
        // Merging two halves gives the whole.
        let mut a = ErrorCounts::default();
        a.add(&ph("K AE1 T"), &[ph("K AE1 T")]);
        let mut b = ErrorCounts::default();
        b.add(&ph("D AA1 G IY1"), &[ph("D AA1 G IY0")]);
        b.add(&ph("B ER1"), &[ph("B IH1 R D"), ph("B ER0 D")]);
        assert_eq!(a.merge(b), c);
    }

    #[test]
    fn nostress_closest_may_differ_from_the_stressed_one() {
        // With stress both are one edit away (the first listed counts, 2 phonemes);
        // without, the second is exact.
        let refs = vec![ph("AA0 B"), ph("AA1 B C")];
        let s = score_word(&ph("AA0 B C"), &refs);
        assert_eq!((s.errors, s.reference_len), (1, 2));
        let n = score_word_nostress(&ph("AA0 B C"), &refs);
        assert_eq!((n.errors, n.reference_len), (0, 3));
    }

    #[test]
    fn empty_prediction_costs_the_whole_reference() {
        let mut c = ErrorCounts::default();
        c.add::<&str, &str>(&[], &[ph("HH AH0 L OW1")]);
        assert_eq!(c.rates().per, 1.0);
        assert_eq!(c.rates().wer, 1.0);
    }
}
