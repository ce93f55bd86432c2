//! The word vocabulary of a model, borrowed from its file: the words sorted in byte order
//! and joined with `\n`, found by binary search over the bytes (no index, no heap).
//!
//! Ids: [`PAD`] = 0 (padding on the host, never fed), [`UNK`] = 1 (a token not in the
//! vocabulary), `2 + i` = the `i`-th word in sorted order.

use crate::error::{Error, Result};

/// Id of the padding token (training batches; never fed to a network).
pub const PAD: u16 = 0;
/// Id of every token that is not in the vocabulary.
pub const UNK: u16 = 1;
/// Ids before the first word.
pub const SPECIALS: usize = 2;
/// Largest number of ids (words + specials): they are `u16`.
pub const MAX_WORD_TOKENS: usize = u16::MAX as usize;

/// A word vocabulary: sorted, distinct, non-empty words separated by `\n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WordVocab<'a> {
    words: &'a str,
    count: usize,
}

impl<'a> WordVocab<'a> {
    /// Checks `words` (see the module docs) and wraps it. Refusals name the word's index
    /// (0-based): an empty word (also an empty string or a leading, trailing or doubled
    /// `\n`), a word not after the one before it in byte order, a duplicate, a word with
    /// ASCII whitespace or control bytes, `<PAD>` or `<UNK>` as a word (they are ids), or
    /// more than [`MAX_WORD_TOKENS`] ids.
    pub fn new(words: &'a str) -> Result<WordVocab<'a>> {
        // One pass over the bytes (a device checks its model's words at every load).
        let b = words.as_bytes();
        let (mut count, mut start) = (0, 0);
        let mut prev: &[u8] = &[];
        for i in 0..=b.len() {
            let c = b.get(i).copied().unwrap_or(b'\n');
            if c != b'\n' {
                // Whitespace and control bytes: all of 0x00..=0x20, and 0x7f.
                if c <= b' ' || c == 0x7f {
                    return bad_word(count, "has whitespace or a control byte");
                }
                continue;
            }
            let w = &b[start..i];
            if w.is_empty() {
                return bad_word(count, "is empty");
            }
            if w == b"<PAD>" || w == b"<UNK>" {
                return bad_word(count, "is <PAD> or <UNK>, which are ids 0 and 1, not words");
            }
            if count > 0 {
                match prev.cmp(w) {
                    core::cmp::Ordering::Equal => return bad_word(count, "is a duplicate"),
                    core::cmp::Ordering::Greater => return bad_word(count, "is out of byte order"),
                    core::cmp::Ordering::Less => {}
                }
            }
            (prev, start, count) = (w, i + 1, count + 1);
        }
        if count + SPECIALS > MAX_WORD_TOKENS {
            return Err(Error::DimensionOutOfRange {
                what: "word vocabulary size",
                value: count + SPECIALS,
                max: MAX_WORD_TOKENS,
            });
        }
        Ok(WordVocab { words, count })
    }

    /// Wraps `words` checked by [`WordVocab::new`] before (a model reopened): counts them
    /// and checks their number only. On any string `id` and `word` still never panic.
    pub(crate) fn counted(words: &'a str) -> Result<WordVocab<'a>> {
        let count = count_newlines(words.as_bytes()) + 1;
        if words.is_empty() {
            return bad_word(0, "is empty");
        }
        if count + SPECIALS > MAX_WORD_TOKENS {
            return Err(Error::DimensionOutOfRange {
                what: "word vocabulary size",
                value: count + SPECIALS,
                max: MAX_WORD_TOKENS,
            });
        }
        Ok(WordVocab { words, count })
    }

    /// The words as stored: sorted, joined with `\n`.
    pub fn as_str(&self) -> &'a str {
        self.words
    }

    /// Number of ids: words + [`SPECIALS`].
    pub fn tokens(&self) -> usize {
        self.count + SPECIALS
    }

    /// The id of `token`: `2 + i` for the `i`-th word, [`UNK`] if it is not a word here.
    ///
    /// A binary search over the bytes: each probe finds the word around its middle byte;
    /// the id of the word found is then its count of `\n`s from the nearer end.
    pub fn id(&self, token: &str) -> u16 {
        let (b, token) = (self.words.as_bytes(), token.as_bytes());
        // b[lo..hi] is a whole number of words (lo at a word's start, hi at a word's end).
        let (mut lo, mut hi) = (0, b.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let start = b[lo..mid]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(lo, |p| lo + p + 1);
            let end = b[start..hi]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(hi, |p| start + p);
            match b[start..end].cmp(token) {
                core::cmp::Ordering::Equal => return (SPECIALS + self.index_at(start)) as u16,
                core::cmp::Ordering::Less => lo = end + 1,
                core::cmp::Ordering::Greater => hi = start.saturating_sub(1).max(lo),
            }
        }
        UNK
    }

    /// The index of the word starting at byte `start`.
    fn index_at(&self, start: usize) -> usize {
        let b = self.words.as_bytes();
        if start <= b.len() / 2 {
            count_newlines(&b[..start])
        } else {
            self.count - 1 - count_newlines(&b[start..])
        }
    }

    /// The word of id `id`, or `None` for [`PAD`], [`UNK`] and ids past the last word.
    pub fn word(&self, id: u16) -> Option<&'a str> {
        (id as usize)
            .checked_sub(SPECIALS)
            .and_then(|i| self.words.split('\n').nth(i))
    }

    /// The words in id order (from id 2).
    pub fn words(&self) -> impl Iterator<Item = &'a str> {
        self.words.split('\n')
    }
}

/// The error of word `index`.
fn bad_word<T>(index: usize, reason: &'static str) -> Result<T> {
    Err(Error::BadWord { index, reason })
}

/// Number of `\n` bytes in `b`, four bytes at a time: a byte of `y = x ^ 0x0a0a0a0a` is
/// zero exactly where `x` has a `\n`, and `!((y & 0x7f..) + 0x7f.. | y) >> 7 & 0x01..` has a
/// 1 in exactly those bytes (no carry crosses a byte). The 1s are summed lane by lane (at
/// most 255 words at a time, so no lane overflows), then the four lanes.
fn count_newlines(b: &[u8]) -> usize {
    let mut words = b.chunks_exact(4);
    let mut n = 0;
    loop {
        let mut lanes = 0u32;
        let mut taken = 0;
        for c in words.by_ref().take(255) {
            let y = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ 0x0a0a_0a0a;
            let t = !((y & 0x7f7f_7f7f).wrapping_add(0x7f7f_7f7f) | y);
            lanes += t >> 7 & 0x0101_0101;
            taken += 1;
        }
        let pairs = (lanes & 0x00ff_00ff) + (lanes >> 8 & 0x00ff_00ff);
        n += ((pairs & 0xffff) + (pairs >> 16)) as usize;
        if taken < 255 {
            break;
        }
    }
    n + words.remainder().iter().filter(|&&c| c == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_found_and_others_are_unk() {
        let s = "!\n$\n<NUM>\n<URL>\na\nab\nabc\nb\nfree\nz\nzz\ncafé";
        // "café" > "zz" in byte order? 'c' < 'z': not sorted, refused.
        assert!(WordVocab::new(s).is_err());
        let s = "!\n$\n<NUM>\n<URL>\na\nab\nabc\nb\ncafé\nfree\nz\nzz";
        let v = WordVocab::new(s).unwrap();
        assert_eq!(v.tokens(), 14);
        for (i, w) in s.split('\n').enumerate() {
            assert_eq!(v.id(w), (i + 2) as u16, "{w}");
            assert_eq!(v.word((i + 2) as u16), Some(w));
        }
        for w in [
            "", "0", "aa", "abcd", "c", "caf", "zzz", "<UNK>", "\n", "a\nab",
        ] {
            assert_eq!(v.id(w), UNK, "{w:?}");
        }
        assert_eq!((v.word(PAD), v.word(UNK), v.word(14)), (None, None, None));
        let one = WordVocab::new("x").unwrap();
        assert_eq!((one.id("x"), one.id("w"), one.id("y")), (2, UNK, UNK));
        // Counted without the checks (a reopened model): the same ids.
        let c = WordVocab::counted(s).unwrap();
        assert_eq!(c, v);
        // Words in any order: ids may be wrong, nothing panics.
        let bad = WordVocab::counted("zz\n\n\na\nb\n").unwrap();
        for w in ["", "a", "b", "zz", "q", "\n"] {
            assert!(bad.id(w) < bad.tokens() as u16, "{w:?}");
        }
    }

    #[test]
    fn newlines_are_counted_in_every_alignment() {
        let text = b"a\n\nbc\n\n\n\nd\ne\n\n\nfgh\ni\n";
        for s in 0..text.len() {
            for e in s..=text.len() {
                let want = text[s..e].iter().filter(|&&c| c == b'\n').count();
                assert_eq!(count_newlines(&text[s..e]), want);
            }
        }
    }

    #[test]
    fn newlines_are_counted_past_the_lane_limit() {
        // Over 255 words of four bytes: the lanes are summed in batches; all newlines too.
        let mut rng = crate::rng::Rng::new(4);
        let mut text = [0u8; 5000];
        for (i, b) in text.iter_mut().enumerate() {
            *b = if i > 3000 || rng.below(5) == 0 {
                b'\n'
            } else {
                b'a'
            };
        }
        for len in [1019, 1020, 1021, 1024, 2040, 2041, 4999, 5000] {
            let want = text[..len].iter().filter(|&&c| c == b'\n').count();
            assert_eq!(count_newlines(&text[..len]), want, "{len}");
        }
    }

    #[test]
    fn refusals_name_the_word() {
        let bad = |s, index| match WordVocab::new(s) {
            Err(Error::BadWord { index: i, reason }) => {
                assert_eq!(i, index, "{s:?}: {reason}");
                reason
            }
            other => panic!("{s:?}: {other:?}"),
        };
        assert_eq!(bad("", 0), "is empty");
        assert_eq!(bad("a\n\nb", 1), "is empty");
        assert_eq!(bad("a\nb\n", 2), "is empty");
        assert_eq!(bad("a\nc\nb", 2), "is out of byte order");
        assert_eq!(bad("a\nb\nb", 2), "is a duplicate");
        assert_eq!(bad("a b", 0), "has whitespace or a control byte");
        assert_eq!(bad("a\nb\r", 1), "has whitespace or a control byte");
        assert!(bad("<PAD>\na", 0).contains("ids 0 and 1"));
        assert!(bad("<NUM>\n<UNK>", 1).contains("ids 0 and 1"));
    }
}
