//! Encoder–decoder models (`Task::Seq2seq`): a word's spelling in, its pronunciation
//! out (grapheme-to-phoneme), with Luong dot attention.
//!
//! The model (the float math every part agrees on):
//!
//! - **Encoder**, bidirectional: a forward and a backward stack of `L` layers of
//!   `H / 2` units, each with its own embedding (width `E`) of the spelling's characters.
//!   `f_j` = the forward stack's top `h` after `x_1..x_j`, `b_j` = the backward stack's
//!   after `x_T..x_j`; `e_j = [f_j ; b_j]` (width `H`). Words are ASCII-lower-cased, at
//!   most [`MAX_INPUT`] characters, read as character ids only (never start or end).
//! - **Decoder**: a stack of `L` layers of `H` units over the `P` decoder tokens
//!   ([`Phonemes`]: the phonemes, then the boundary). Layer `l` starts from
//!   `h = [forward layer l's final h ; backward layer l's final h]` (LSTM: `c` likewise).
//!   Step `t` reads `y_{t-1}` (`y_0` = boundary) and gives the top `h_t`.
//! - **Attention**: `s_j = h_t · e_j`, `a = softmax(s)`, `c_t = Σ_j a_j e_j`.
//! - **Output**: `logits = W_out [h_t ; c_t] + b_out`, `W_out` (P, 2H).
//! - **Greedy**: the arg-max (ties: the lowest id) until the boundary or [`MAX_OUTPUT`]
//!   phonemes.
//!
//! Two networks implement it behind [`Seq2seqNet`]: [`Seq2seqQ`], integer-only over a
//! model file (the device's; the same bits on every target), and [`Seq2seqF`], f32 over
//! the trainer's [`Seq2seqWeights`]. [`greedy`], [`write_line`] and [`pronounce`] work on
//! either; a beam search drives [`Seq2seqNet::save_state`] / [`Seq2seqNet::load_state`].
//!
//! ```
//! # fn demo(bytes: &[u8]) -> micrornn::Result<()> {
//! use micrornn::seq2seq::{pronounce, Seq2seqQ};
//! let model = micrornn::Model::load(bytes)?;
//! let mut arena = [0i32; 8192];
//! let mut net = Seq2seqQ::new(&model, &mut arena)?;
//! let phonemes = net.phonemes();
//! let (mut logits, mut ids) = ([0i32; 128], [0u16; 32]);
//! let mut line = heapless::String::<256>::new();
//! pronounce(&mut net, &phonemes, "Hello", &mut logits, &mut ids, &mut line)?;
//! // line: "hello HH AH0 L OW1"
//! # Ok(()) }
//! ```

mod attention;
mod float;
pub(crate) mod layout;
mod phonemes;
mod quant;
mod weights;

pub use float::Seq2seqF;
pub use layout::tensor_count;
pub use phonemes::Phonemes;
pub use quant::{arena_words, Seq2seqQ};
pub use weights::{FloatStack, Seq2seqShape, Seq2seqWeights};

use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// Most characters of a word the encoder reads.
pub const MAX_INPUT: usize = 32;
/// Most phonemes greedy decoding emits (the boundary not counted).
pub const MAX_OUTPUT: usize = 32;

/// An encoder–decoder, integer ([`Seq2seqQ`]) or float ([`Seq2seqF`]).
pub trait Seq2seqNet {
    /// Decoder tokens `P` (phonemes + boundary): the logits [`Seq2seqNet::step`] writes.
    fn out_tokens(&self) -> usize;
    /// Reads a word (ASCII-lower-cased) into the encoder's memory; returns its length.
    /// An empty word ([`Error::BadSetting`]), one longer than [`MAX_INPUT`]
    /// ([`Error::InputTooLong`]) or with a character outside the vocabulary
    /// ([`Error::UnknownChar`]) is refused before anything runs.
    fn encode(&mut self, word: &str) -> Result<usize>;
    /// Sets the decoder's state from the encoder's final states (call after
    /// [`Seq2seqNet::encode`]; again to decode the same word again).
    fn start(&mut self);
    /// Feeds `prev` (the boundary first, then each chosen phoneme) and writes the `P`
    /// logits (Q16) to `logits`. A short buffer or a token out of range is an error.
    fn step(&mut self, prev: u16, logits: &mut [i32]) -> Result<()>;
    /// Words of the decoder's state (what a beam keeps per hypothesis).
    fn state_words(&self) -> usize;
    /// Copies the decoder's state into `out` (at least [`Seq2seqNet::state_words`]).
    fn save_state(&self, out: &mut [i32]) -> Result<()>;
    /// Restores a state [`Seq2seqNet::save_state`] gave (of the same network and word).
    fn load_state(&mut self, saved: &[i32]) -> Result<()>;
}

/// The arg-max of `logits` (the lowest id on a tie; 0 if empty).
pub fn argmax(logits: &[i32]) -> u16 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u16
}

/// Greedy decoding of `word`: encode, start, then the arg-max of each step's logits until
/// the boundary or [`MAX_OUTPUT`] phonemes (or `out.len()`). The phoneme ids go to `out`
/// (the boundary not included); returns their count. `logits` is scratch of at least `P`.
pub fn greedy<N: Seq2seqNet + ?Sized>(
    net: &mut N,
    word: &str,
    logits: &mut [i32],
    out: &mut [u16],
) -> Result<usize> {
    let p = net.out_tokens();
    if logits.len() < p {
        return Err(Error::BufferTooSmall {
            what: "logits buffer",
            needed: 4 * p,
            capacity: 4 * logits.len(),
        });
    }
    net.encode(word)?;
    net.start();
    let boundary = p.saturating_sub(1) as u16;
    let (mut prev, mut n) = (boundary, 0);
    while n < MAX_OUTPUT.min(out.len()) {
        net.step(prev, logits)?;
        let best = argmax(&logits[..p]);
        if best == boundary {
            break;
        }
        out[n] = best;
        n += 1;
        prev = best;
    }
    Ok(n)
}

/// Writes one pronunciation line, `word PH PH …`: the word as the model read it
/// (ASCII-lower-cased), then each phoneme's name after one space (`?` for an id that is
/// not a phoneme). No line ending: the host adds `\n`, the device its own. The host's
/// `pronounce` and the device's print their lines with this function.
pub fn write_line<W: core::fmt::Write + ?Sized>(
    w: &mut W,
    word: &str,
    phonemes: &Phonemes<'_>,
    ids: &[u16],
) -> core::fmt::Result {
    for c in word.chars() {
        w.write_char(c.to_ascii_lowercase())?;
    }
    for &id in ids {
        w.write_char(' ')?;
        w.write_str(phonemes.name(id).unwrap_or("?"))?;
    }
    Ok(())
}

/// [`greedy`], then [`write_line`] of the result into `w`; returns the phoneme count.
/// `ids` is scratch for the phoneme ids ([`MAX_OUTPUT`] is enough). A writer that refuses
/// the line gives [`Error::BadSetting`].
pub fn pronounce<N: Seq2seqNet + ?Sized, W: core::fmt::Write + ?Sized>(
    net: &mut N,
    phonemes: &Phonemes<'_>,
    word: &str,
    logits: &mut [i32],
    ids: &mut [u16],
    w: &mut W,
) -> Result<usize> {
    let n = greedy(net, word, logits, ids)?;
    write_line(w, word, phonemes, &ids[..n]).map_err(|_| Error::BadSetting {
        what: "the pronunciation does not fit the output",
    })?;
    Ok(n)
}

/// The character ids of `word`, ASCII-lower-cased, into `ids`; returns their count. An
/// empty word, one longer than [`MAX_INPUT`], or a character outside `vocab` is an error.
pub fn word_ids(vocab: &Vocab<'_>, word: &str, ids: &mut [u16; MAX_INPUT]) -> Result<usize> {
    let len = word.chars().count();
    if len == 0 {
        return Err(Error::BadSetting { what: "empty word" });
    }
    if len > MAX_INPUT {
        return Err(Error::InputTooLong {
            len,
            max: MAX_INPUT,
        });
    }
    for (id, c) in ids.iter_mut().zip(word.chars()) {
        *id = vocab
            .token(c.to_ascii_lowercase())
            .map_err(|_| Error::UnknownChar { ch: c })?;
    }
    Ok(len)
}
