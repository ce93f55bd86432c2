//! Words: the tokenizer, the word vocabulary of a model file, and the classification of a
//! text by a word classifier ([`crate::Task::ClassifyWords`]).
//!
//! The same code runs on the host (vocabulary building, training, `classify`) and on the
//! device, so both read a text as the same token ids:
//!
//! ```
//! use micrornn::words::{tokenize, WordVocab, UNK};
//!
//! let vocab = WordVocab::new("!\n<NUM>\n<URL>\nfree\nwin")?;
//! let mut ids = heapless::Vec::<u16, 16>::new();
//! tokenize(b"WIN $1000 now!!! http://x.example/free", |t| {
//!     let _ = ids.push(vocab.id(t));
//! });
//! // win, $ (unknown), <NUM>, now (unknown), !, <URL>
//! assert_eq!(ids, [6, UNK, 3, UNK, 2, 4]);
//! # Ok::<(), micrornn::Error>(())
//! ```

mod classify;
mod tokenizer;
mod vocab;

pub use classify::{classify_text, WordStream};
pub use tokenizer::{
    tokenize, Tokenizer, EMAIL, LONG, MAX_ADDRESS_LEN, MAX_WORD_LEN, NUM, UNK as UNK_TOKEN, URL,
};
pub use vocab::{WordVocab, MAX_WORD_TOKENS, PAD, SPECIALS, UNK};
