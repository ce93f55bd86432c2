//! Classifying a text with a word classifier: reset, feed the ids of its first
//! `max_words` tokens (no start token; unknown words are [`UNK`](super::UNK)), read the
//! output layer once, and give the same integer [`Verdict`] as a character classifier.
//! A text without tokens is classified from the zero state (nothing fed).
//!
//! [`WordStream`] does it in pieces (a device reads a text line by line, never holding it
//! whole); [`classify_text`] at once. Both give the same verdict for the same bytes.

use super::tokenizer::Tokenizer;
use super::vocab::WordVocab;
use crate::cell::Net;
use crate::classify::{verdict, Verdict};
use crate::error::{Error, Result};
use crate::format::Task;

/// A text being read by a word classifier: the tokenizer's state and the tokens fed.
#[derive(Clone, Debug, Default)]
pub struct WordStream {
    tokenizer: Tokenizer,
    fed: usize,
}

impl WordStream {
    /// Checks that `net` classifies (two outputs or more), reads every id of `vocab` and
    /// that `out_len` outputs fit; then resets `net` and starts a text.
    pub fn begin<N: Net + ?Sized>(
        net: &mut N,
        vocab: &WordVocab<'_>,
        out_len: usize,
    ) -> Result<WordStream> {
        let n = net.outputs();
        if n < 2 {
            return Err(Error::WrongTask(Task::Generate));
        }
        if out_len < n {
            return Err(Error::BufferTooSmall {
                what: "output buffer",
                needed: n,
                capacity: out_len,
            });
        }
        if vocab.tokens() > net.inputs() {
            return Err(Error::BadVocab {
                reason: "it has more tokens than the network reads",
            });
        }
        net.reset();
        Ok(WordStream::default())
    }

    /// Tokens fed so far (at most `max_words`).
    pub fn fed(&self) -> usize {
        self.fed
    }

    /// Reads the next bytes of the text, feeding each token's id until `max_words` are
    /// fed (the rest of the text is not even tokenized). `net` and `vocab` must be the
    /// ones given to [`WordStream::begin`].
    pub fn feed<N: Net + ?Sized>(
        &mut self,
        net: &mut N,
        vocab: &WordVocab<'_>,
        max_words: usize,
        bytes: &[u8],
    ) {
        let WordStream { tokenizer, fed } = self;
        // Byte by byte, so that the rest of a long text is not tokenized once it is full.
        for b in bytes.chunks(1) {
            if *fed >= max_words {
                return;
            }
            tokenizer.feed(b, |t| {
                if *fed < max_words {
                    net.feed(vocab.id(t));
                    *fed += 1;
                }
            });
        }
    }

    /// Ends the text (its last token), reads the output layer into `out` (at least
    /// `net.outputs()` long, as checked by [`WordStream::begin`]) and gives the verdict.
    /// [`WordStream::fed`] then counts every token fed.
    pub fn finish<N: Net + ?Sized>(
        &mut self,
        net: &mut N,
        vocab: &WordVocab<'_>,
        max_words: usize,
        out: &mut [i32],
    ) -> Verdict {
        let WordStream { tokenizer, fed } = self;
        if *fed < max_words {
            tokenizer.finish(|t| {
                if *fed < max_words {
                    net.feed(vocab.id(t));
                    *fed += 1;
                }
            });
        }
        let n = net.outputs().min(out.len());
        let out = &mut out[..n];
        net.output(out);
        verdict(out)
    }
}

/// Classifies `text` with `net` (see the module docs): the ids of its first `max_words`
/// tokens, then the output layer into `out` (scratch of at least `net.outputs()`).
pub fn classify_text<N: Net + ?Sized>(
    net: &mut N,
    vocab: &WordVocab<'_>,
    max_words: usize,
    text: &str,
    out: &mut [i32],
) -> Result<Verdict> {
    let mut s = WordStream::begin(net, vocab, out.len())?;
    s.feed(net, vocab, max_words, text.as_bytes());
    Ok(s.finish(net, vocab, max_words, out))
}
