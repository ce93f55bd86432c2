//! The vocabulary: the sorted distinct characters of the training data plus two special tokens.
//!
//! Token 0 is [`START`] (fed before the first character, never emitted), token 1 is
//! [`END`] (predicted after the last character, never fed), and token `2 + i` is the
//! `i`-th character in sorted order. Characters are Unicode scalar values.

use crate::error::{Error, Result};

/// Token fed to the model before the first character.
pub const START: u16 = 0;
/// Token the model predicts after the last character.
pub const END: u16 = 1;
/// Number of special tokens before the first character.
pub const SPECIALS: usize = 2;
/// Largest supported number of tokens (characters + specials).
pub const MAX_TOKENS: usize = 1024;

/// A vocabulary borrowed from a UTF-8 string of sorted, distinct characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vocab<'a> {
    chars: &'a str,
    len: usize,
}

impl<'a> Vocab<'a> {
    /// No characters, only the two special tokens: the character vocabulary a word
    /// model's [`crate::Model::vocab`] holds (its tokens are words:
    /// [`crate::Model::word_vocab`]).
    pub const EMPTY: Vocab<'static> = Vocab { chars: "", len: 0 };

    /// Checks that `chars` holds strictly increasing characters and wraps it.
    pub fn new(chars: &'a str) -> Result<Vocab<'a>> {
        let mut prev: Option<char> = None;
        let mut len = 0;
        for c in chars.chars() {
            if prev.is_some_and(|p| p >= c) {
                return Err(Error::BadVocab {
                    reason: "characters not sorted and distinct",
                });
            }
            prev = Some(c);
            len += 1;
        }
        if len == 0 {
            return Err(Error::BadVocab {
                reason: "no characters",
            });
        }
        if len + SPECIALS > MAX_TOKENS {
            return Err(Error::DimensionOutOfRange {
                what: "vocabulary size",
                value: len + SPECIALS,
                max: MAX_TOKENS,
            });
        }
        Ok(Vocab { chars, len })
    }

    /// The characters, sorted, as one string.
    pub fn chars(&self) -> &'a str {
        self.chars
    }

    /// Number of tokens: characters + start + end.
    pub fn tokens(&self) -> usize {
        self.len + SPECIALS
    }

    /// The token of character `c`, or [`Error::UnknownChar`].
    pub fn token(&self, c: char) -> Result<u16> {
        // Vocabularies are small (tens of characters); a linear scan of the sorted
        // string needs no table in RAM and stops early.
        for (i, v) in self.chars.chars().enumerate() {
            if v == c {
                return Ok((i + SPECIALS) as u16);
            }
            if v > c {
                break;
            }
        }
        Err(Error::UnknownChar { ch: c })
    }

    /// The character of token `t`, or `None` for the special tokens and out-of-range ids.
    pub fn char_of(&self, t: u16) -> Option<char> {
        (t as usize)
            .checked_sub(SPECIALS)
            .and_then(|i| self.chars.chars().nth(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_chars_both_ways() {
        let v = Vocab::new("abzé").unwrap();
        assert_eq!(v.tokens(), 6);
        assert_eq!(v.token('a'), Ok(2));
        assert_eq!(v.token('é'), Ok(5));
        assert_eq!(v.char_of(4), Some('z'));
        assert_eq!(v.char_of(START), None);
        assert_eq!(v.char_of(END), None);
        assert_eq!(v.char_of(6), None);
        assert_eq!(v.token('c'), Err(Error::UnknownChar { ch: 'c' }));
    }

    #[test]
    fn refuses_unsorted_or_repeated() {
        assert!(matches!(Vocab::new("ba"), Err(Error::BadVocab { .. })));
        assert!(matches!(Vocab::new("aa"), Err(Error::BadVocab { .. })));
        assert!(matches!(Vocab::new(""), Err(Error::BadVocab { .. })));
    }
}
