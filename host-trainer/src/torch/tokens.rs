//! The token order of a PyTorch model and micrornn's: which PyTorch id each micrornn
//! token takes its rows from.
//!
//! A PyTorch model's ids are its own: the characters in any order, with a start and an
//! end token somewhere among them (the same id for both, as in a model that uses one
//! `.` token for both, is fine). micrornn's are fixed: `START` 0, `END` 1, then the
//! characters sorted. The characters are given in the model's id order, the start and
//! end ids left out: with `chars = "ab"`, start 2 and end 3, `a` is id 0 and `b` id 1.

use anyhow::{bail, Result};
use micrornn::vocab::{END, SPECIALS, START};

/// The correspondence between a PyTorch model's ids and micrornn's tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenMap {
    /// micrornn's characters, sorted (its vocabulary string).
    pub chars: String,
    /// `torch_id[t]` = the PyTorch id of micrornn token `t`.
    pub torch_id: Vec<usize>,
    /// Number of PyTorch ids.
    pub torch_tokens: usize,
    /// Whether the start and end tokens share one PyTorch id.
    pub shared_start_end: bool,
}

impl TokenMap {
    /// The map of a model whose characters, in id order, are `chars` (start and end ids
    /// left out), with start id `start` and end id `end`.
    pub fn new(chars: &str, start: usize, end: usize) -> Result<TokenMap> {
        let list: Vec<char> = chars.chars().collect();
        if list.is_empty() {
            bail!("the vocabulary has no characters");
        }
        let mut sorted = list.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            bail!("the character {:?} appears twice in the vocabulary", w[0]);
        }
        let n = list.len() + if start == end { 1 } else { 2 };
        for (what, id) in [("start", start), ("end", end)] {
            if id >= n {
                bail!(
                    "the {what} id {id} is outside the model's {n} ids ({} characters and the start/end token{})",
                    list.len(),
                    if start == end { "" } else { "s" }
                );
            }
        }
        // The ids left for the characters, in increasing order.
        let char_ids: Vec<usize> = (0..n).filter(|&i| i != start && i != end).collect();
        let mut torch_id = vec![0; sorted.len() + SPECIALS];
        torch_id[START as usize] = start;
        torch_id[END as usize] = end;
        for (c, id) in list.iter().zip(&char_ids) {
            let pos = sorted.binary_search(c).unwrap_or_default();
            torch_id[SPECIALS + pos] = *id;
        }
        let chars: String = sorted.into_iter().collect();
        micrornn::vocab::Vocab::new(&chars).map_err(|e| anyhow::anyhow!("vocabulary: {e}"))?;
        Ok(TokenMap {
            chars,
            torch_id,
            torch_tokens: n,
            shared_start_end: start == end,
        })
    }

    /// micrornn's number of tokens.
    pub fn tokens(&self) -> usize {
        self.torch_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_around_start_and_end_go_to_the_characters_in_order() {
        // Model ids: b=0, start=1, a=2, end=3, c=4.
        let m = TokenMap::new("bac", 1, 3).unwrap();
        assert_eq!(m.chars, "abc");
        assert_eq!(m.torch_id, vec![1, 3, 2, 0, 4]);
        assert_eq!(m.torch_tokens, 5);
        // One `.` token for both ends, id 0, as in makemore.
        let m = TokenMap::new("ab", 0, 0).unwrap();
        assert_eq!((m.torch_id.clone(), m.torch_tokens), (vec![0, 0, 1, 2], 3));
        assert!(m.shared_start_end);
    }

    #[test]
    fn refuses_repeats_empty_and_ids_out_of_range() {
        assert!(TokenMap::new("aba", 3, 4)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        assert!(TokenMap::new("", 0, 1).is_err());
        let e = TokenMap::new("ab", 0, 4).unwrap_err().to_string();
        assert!(e.contains("end id 4"), "{e}");
    }
}
