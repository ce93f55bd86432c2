//! The CMU Pronouncing Dictionary: spellings and their pronunciations, for seq2seq.
//!
//! In: a `.dict` file, one pronunciation a line: `word PH PH …` (ARPAbet phonemes with
//! stress digits, e.g. `IY0`); `word(2) PH …` is a further pronunciation of `word`.
//! Blank lines and `;;;` comments are skipped. Words are lower-cased (ASCII).
//! Out: [`Dict`], the words in file order each with its pronunciations, the
//! train/validation split by word ([`Dict::split`], a word's alternatives stay
//! together), the phoneme vocabulary ([`phoneme_vocab`]) and the training pairs as ids
//! ([`Pair`]).
//!
//! Bad input (a line without phonemes, a phoneme that is not upper-case letters with an
//! optional stress digit, a malformed `(N)` suffix) is an error naming the file and the
//! line. Words over [`MAX_INPUT`] characters and pronunciations over [`MAX_OUTPUT`]
//! phonemes are skipped and counted: the device could not read or say them.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use micrornn::vocab::Vocab;

use crate::data::names::shuffle;

/// Most characters of a word the model reads (longer words are skipped).
pub const MAX_INPUT: usize = 32;
/// Most phonemes of a pronunciation the model says (longer ones are skipped).
pub const MAX_OUTPUT: usize = 32;

/// One word and its pronunciations (each a list of phonemes), in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DictWord {
    /// The spelling, lower-cased.
    pub word: String,
    /// Its pronunciations, at least one, without duplicates.
    pub prons: Vec<Vec<String>>,
}

/// A pronunciation dictionary read from a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dict {
    /// The words, in order of first appearance.
    pub words: Vec<DictWord>,
    /// Words skipped for being longer than [`MAX_INPUT`] characters.
    pub skipped_long_words: usize,
    /// Pronunciations skipped for being longer than [`MAX_OUTPUT`] phonemes.
    pub skipped_long_prons: usize,
}

/// One training example as ids: spelling (character tokens of the char vocabulary,
/// never START/END) and pronunciation (phoneme ids `0..N`, without the boundary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Character tokens of the spelling.
    pub input: Vec<u16>,
    /// Phoneme ids of the pronunciation.
    pub output: Vec<u16>,
}

/// Reads and checks a `.dict` file.
pub fn read_dict(path: &Path) -> Result<Dict> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_dict(&text, &path.display().to_string())
}

/// Parses the text of a `.dict` file; `file` names it in errors (`file:line: reason`).
pub fn parse_dict(text: &str, file: &str) -> Result<Dict> {
    let mut dict = Dict::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut long_words: HashMap<String, ()> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(";;;") {
            continue;
        }
        let (word, pron) =
            parse_line(line).map_err(|e| anyhow::anyhow!("{file}:{}: {e}", n + 1))?;
        if word.chars().count() > MAX_INPUT {
            if long_words.insert(word, ()).is_none() {
                dict.skipped_long_words += 1;
            }
            continue;
        }
        if pron.len() > MAX_OUTPUT {
            dict.skipped_long_prons += 1;
            continue;
        }
        match index.get(&word) {
            Some(&i) => {
                let prons = &mut dict.words[i].prons;
                if !prons.contains(&pron) {
                    prons.push(pron);
                }
            }
            None => {
                index.insert(word.clone(), dict.words.len());
                dict.words.push(DictWord {
                    word,
                    prons: vec![pron],
                });
            }
        }
    }
    Ok(dict)
}

/// One line: the lower-cased word (its `(N)` suffix removed) and its phonemes.
fn parse_line(line: &str) -> std::result::Result<(String, Vec<String>), String> {
    let mut fields = line.split_whitespace();
    let head = fields.next().ok_or("empty line")?;
    let word = match head.find('(') {
        Some(open) if open > 0 => {
            let digits = head[open + 1..]
                .strip_suffix(')')
                .ok_or_else(|| format!("`{head}`: an alternative is written word(N)"))?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{head}`: an alternative is written word(N)"));
            }
            &head[..open]
        }
        _ => head,
    };
    let pron: Vec<String> = fields.map(str::to_string).collect();
    if pron.is_empty() {
        return Err(format!("`{head}` has no phonemes"));
    }
    for p in &pron {
        let letters = p.trim_end_matches(|c: char| c.is_ascii_digit());
        let stress = p.len() - letters.len();
        if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_uppercase()) || stress > 1 {
            return Err(format!(
                "`{p}` is not a phoneme (upper-case letters and an optional stress digit)"
            ));
        }
    }
    Ok((word.to_ascii_lowercase(), pron))
}

impl Dict {
    /// Number of pronunciations (training pairs) over all words.
    pub fn pairs(&self) -> usize {
        self.words.iter().map(|w| w.prons.len()).sum()
    }

    /// Splits the words into (train, validation), `val_frac` of the words in validation,
    /// chosen by `seed`; a word goes whole, with all its pronunciations. Both keep file
    /// order. At least one word stays in training.
    pub fn split(&self, val_frac: f64, seed: u64) -> (Dict, Dict) {
        let n = self.words.len();
        let mut idx: Vec<usize> = (0..n).collect();
        shuffle(&mut idx, seed);
        let n_val = ((n as f64 * val_frac).round() as usize).min(n.saturating_sub(1));
        let mut is_val = vec![false; n];
        for &i in &idx[..n_val] {
            is_val[i] = true;
        }
        let pick = |want: bool| Dict {
            words: self
                .words
                .iter()
                .zip(&is_val)
                .filter(|(_, &v)| v == want)
                .map(|(w, _)| w.clone())
                .collect(),
            ..Dict::default()
        };
        (pick(false), pick(true))
    }

    /// The sorted distinct characters of the spellings (a [`Vocab`] string).
    pub fn chars(&self) -> String {
        let mut chars: Vec<char> = self.words.iter().flat_map(|w| w.word.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        chars.into_iter().collect()
    }

    /// The file text: `word PH PH …` a line, further pronunciations as `word(2) …`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for w in &self.words {
            for (k, p) in w.prons.iter().enumerate() {
                out += &w.word;
                if k > 0 {
                    out += &format!("({})", k + 1);
                }
                for ph in p {
                    out.push(' ');
                    out += ph;
                }
                out.push('\n');
            }
        }
        out
    }

    /// The words every character and phoneme of which the vocabularies know, and how
    /// many were left out.
    pub fn known(&self, vocab: &Vocab<'_>, phonemes: &[String]) -> (Dict, usize) {
        let ok = |w: &DictWord| {
            w.word.chars().all(|c| vocab.token(c).is_ok())
                && w.prons
                    .iter()
                    .flatten()
                    .all(|p| phonemes.binary_search(p).is_ok())
        };
        let words: Vec<DictWord> = self.words.iter().filter(|w| ok(w)).cloned().collect();
        let dropped = self.words.len() - words.len();
        (
            Dict {
                words,
                ..Dict::default()
            },
            dropped,
        )
    }

    /// Every pronunciation as ids, words in order; the vocabularies must know every
    /// character and phoneme (see [`Dict::known`]).
    pub fn encode(&self, vocab: &Vocab<'_>, phonemes: &[String]) -> Result<Vec<Pair>> {
        let mut pairs = Vec::with_capacity(self.pairs());
        for w in &self.words {
            let input = encode_word(&w.word, vocab)?;
            for p in &w.prons {
                let output = p
                    .iter()
                    .map(|ph| match phonemes.binary_search(ph) {
                        Ok(i) => Ok(i as u16),
                        Err(_) => bail!("`{}`: unknown phoneme {ph}", w.word),
                    })
                    .collect::<Result<Vec<u16>>>()?;
                pairs.push(Pair {
                    input: input.clone(),
                    output,
                });
            }
        }
        Ok(pairs)
    }
}

/// The character tokens of a spelling (lower-cased first), or an error naming the
/// character the vocabulary lacks or a word that is empty or too long.
pub fn encode_word(word: &str, vocab: &Vocab<'_>) -> Result<Vec<u16>> {
    let word = word.to_ascii_lowercase();
    let n = word.chars().count();
    if n == 0 || n > MAX_INPUT {
        bail!("`{word}`: a word has 1 to {MAX_INPUT} characters");
    }
    word.chars()
        .map(|c| {
            vocab
                .token(c)
                .map_err(|_| anyhow::anyhow!("`{word}`: the model does not know `{c}`"))
        })
        .collect()
}

/// The sorted distinct phonemes of `dict`: phoneme id `i` is the `i`-th.
pub fn phoneme_vocab(dict: &Dict) -> Vec<String> {
    let mut all: Vec<String> = dict
        .words
        .iter()
        .flat_map(|w| w.prons.iter().flatten().cloned())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        ";;; comment\nabc EY1 B IY1\nABC(2) AE1 B K\nabc(3) EY1 B IY1\n\nxyz Z IY0\n";

    #[test]
    fn reads_alternatives_lower_case_and_dedupes() {
        let d = parse_dict(TEXT, "t.dict").unwrap();
        assert_eq!(d.words.len(), 2);
        assert_eq!(d.words[0].word, "abc");
        assert_eq!(d.words[0].prons.len(), 2);
        assert_eq!(d.pairs(), 3);
        assert_eq!(
            phoneme_vocab(&d),
            ["AE1", "B", "EY1", "IY0", "IY1", "K", "Z"]
        );
        let back = parse_dict(&d.to_text(), "u").unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        for (text, what) in [
            ("abc EY1\nabd\n", "t.dict:2: `abd` has no phonemes"),
            ("abc ey1\n", "t.dict:1: `ey1` is not a phoneme"),
            ("abc(x) EY1\n", "t.dict:1: `abc(x)`"),
            ("abc EY12\n", "t.dict:1: `EY12`"),
        ] {
            let e = parse_dict(text, "t.dict").unwrap_err().to_string();
            assert!(e.starts_with(what), "{e}");
        }
    }

    #[test]
    fn long_words_and_prons_are_skipped_and_counted() {
        let long = "a".repeat(33);
        let text = format!(
            "{long} EY1\n{long}(2) EY1\nab {}\nok OW1\n",
            "B ".repeat(33)
        );
        let d = parse_dict(&text, "t").unwrap();
        assert_eq!((d.skipped_long_words, d.skipped_long_prons), (1, 1));
        assert_eq!(d.words.len(), 1);
    }

    #[test]
    fn split_keeps_alternatives_together_and_is_seeded() {
        let text: String = (0..100).map(|i| format!("w{i} AA1\nw{i}(2) B\n")).collect();
        let d = parse_dict(&text, "t").unwrap();
        let (train, val) = d.split(0.2, 7);
        assert_eq!((train.words.len(), val.words.len()), (80, 20));
        assert!(val.words.iter().all(|w| w.prons.len() == 2));
        assert_eq!(d.split(0.2, 7), (train.clone(), val.clone()));
        assert_ne!(d.split(0.2, 8).1, val);
        let chars = train.chars();
        let vocab = Vocab::new(&chars).unwrap();
        let pairs = train.encode(&vocab, &phoneme_vocab(&train)).unwrap();
        assert_eq!(pairs.len(), 160);
        assert_eq!(pairs[1].output, vec![1]);
    }
}
