//! Messages as word ids: the vocabulary of a training split and the encoding of a text,
//! through `shared`'s tokenizer (`micrornn::words`), so that the ids the trainer sees
//! are the ids the device feeds.
//!
//! - The vocabulary is the `size` most frequent tokens of the training texts, counted
//!   over the first `max_words` tokens of each text (what the model reads; ties by byte
//!   order), then sorted in byte order and joined with `\n`: a [`WordVocab`] string.
//!   Every other token becomes `UNK` (id 1).
//! - A text's sequence is the ids of its first `max_words` tokens, `UNK` included;
//!   no start token, and `PAD` (id 0) is never part of it (batches pad after it).

use std::collections::HashMap;

use anyhow::{bail, Result};
use micrornn::words::{tokenize, WordVocab};

/// The tokens of `text`, at most `max_words` of them.
pub fn tokens(text: &str, max_words: usize) -> Vec<String> {
    let mut out = Vec::new();
    tokenize(text.as_bytes(), |t| {
        if out.len() < max_words {
            out.push(t.to_string());
        }
    });
    out
}

/// The vocabulary string of `texts`: the `size` most frequent tokens among the first
/// `max_words` of each text, ties broken by byte order, sorted in byte order, joined
/// with `\n`. `<UNK>` (a token of bytes that are not UTF-8) is never a word.
pub fn build_vocab(texts: &[String], size: usize, max_words: usize) -> Result<String> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for text in texts {
        for t in tokens(text, max_words) {
            *counts.entry(t).or_insert(0) += 1;
        }
    }
    counts.remove(micrornn::words::UNK_TOKEN);
    let mut by_freq: Vec<(String, u64)> = counts.into_iter().collect();
    by_freq.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_freq.truncate(size);
    let mut words: Vec<String> = by_freq.into_iter().map(|(w, _)| w).collect();
    if words.is_empty() {
        bail!("the training texts have no words");
    }
    words.sort_unstable();
    let joined = words.join("\n");
    WordVocab::new(&joined)?;
    Ok(joined)
}

/// The ids of the first `max_words` tokens of `text` (unknown words are `UNK`).
pub fn encode(text: &str, vocab: &WordVocab<'_>, max_words: usize) -> Vec<u16> {
    let mut ids = Vec::new();
    tokenize(text.as_bytes(), |t| {
        if ids.len() < max_words {
            ids.push(vocab.id(t));
        }
    });
    ids
}

/// Share of the tokens (of the first `max_words` per text) that are in the vocabulary.
pub fn coverage(texts: &[String], vocab: &WordVocab<'_>, max_words: usize) -> f64 {
    let (mut known, mut all) = (0usize, 0usize);
    for text in texts {
        let ids = encode(text, vocab, max_words);
        all += ids.len();
        known += ids.iter().filter(|&&i| i != micrornn::words::UNK).count();
    }
    if all == 0 {
        0.0
    } else {
        known as f64 / all as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_by_frequency_then_byte_order_and_encoding() {
        let texts: Vec<String> = [
            "Free money! Free money!!! now",
            "free TIME, call 0800 now",
            "money money later",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Counts: money 4, free 3, ! 2, now 2, then 1 each: <NUM> call later time.
        let v = build_vocab(&texts, 5, 64).unwrap();
        assert_eq!(v, "!\n<NUM>\nfree\nmoney\nnow");
        let vocab = WordVocab::new(&v).unwrap();
        // free money ! later(UNK) <NUM>, cut at 4.
        assert_eq!(
            encode("FREE money! later 12", &vocab, 64),
            vec![4, 5, 2, 1, 3]
        );
        assert_eq!(encode("FREE money! later 12", &vocab, 4), vec![4, 5, 2, 1]);
        assert_eq!(encode("", &vocab, 4), Vec::<u16>::new());
        // Only the first two tokens of each text count:
        // "free money", "free time", "money money" -> money 3, free 2, time 1.
        assert_eq!(build_vocab(&texts, 2, 2).unwrap(), "free\nmoney");
        let cov = coverage(&texts[2..], &vocab, 64);
        assert!((cov - 2.0 / 3.0).abs() < 1e-12, "{cov}");
    }
}
