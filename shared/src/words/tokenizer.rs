//! The word tokenizer: bytes in, token strings out, in pieces of any size, with a fixed
//! buffer of [`MAX_ADDRESS_LEN`] bytes and no heap. The host (vocabulary, training,
//! `classify`) and the device run this same code, so they see the same tokens.
//!
//! # Rules
//!
//! The input is bytes (UTF-8 text; other bytes are tolerated, never an error):
//!
//! 1. **Case**: ASCII letters are lower-cased. Bytes ≥ 0x80 (non-ASCII UTF-8) are kept as
//!    they are, not lower-cased: `Café` → `café`, `ÉTÉ` → `ÉtÉ`.
//! 2. **Words**: a word is a longest run of ASCII letters, ASCII digits and bytes ≥ 0x80.
//!    Every other byte separates words and is dropped — ASCII whitespace, punctuation,
//!    control bytes — except as rules 3 to 7 say. `don't` → `don`, `t`.
//! 3. **Symbols**: `!` and `$` are tokens of their own; a run of the same one (`!!!`) is
//!    one token.
//! 4. **Numbers**: a word of ASCII digits only is [`NUM`] (`2002`, `0800`); a word that
//!    mixes letters and digits is a word (`mp3`, `4u`). `1,000.50` is three [`NUM`]s.
//! 5. **Long words**: a word longer than [`MAX_WORD_LEN`] bytes (digits or not) is
//!    [`LONG`]; words are never cut.
//! 6. **URLs**: a *chunk* is a longest run of bytes other than ASCII whitespace. If the
//!    chunk's first run of address bytes (rule 7) is `http`, `https` or `ftp` followed by
//!    `://`, or begins with `www.`, it is one [`URL`] and the rest of the chunk is skipped.
//!    Leading punctuation other than `!` and `$` is allowed: `<http://x.org/a?b=c>` is one
//!    [`URL`]; `see:http://x` is `see`, `http`, `x` (not at the chunk's start).
//! 7. **E-mail addresses**: address bytes are word bytes and `.` `_` `-` `+` `@`. A longest
//!    run of address bytes, trailing `.` `_` `-` `+` `@` dropped, with exactly one `@` that
//!    is neither its first byte nor followed by a non-word byte, and a `.` after the `@`,
//!    is one [`EMAIL`]: `<John.Doe@example.com>` → [`EMAIL`]. Otherwise the run is split
//!    into words (rule 2). A run longer than [`MAX_ADDRESS_LEN`] bytes is never an
//!    address: its words are given as it goes.
//! 8. A word that is not valid UTF-8 (only from input that is not) is [`UNK`].
//!
//! Special tokens are written in capitals between `<` and `>`, which no word can be (rules
//! 1 and 2), so they never clash with a word of the text.
//!
//! # Streaming
//!
//! [`Tokenizer::feed`] takes the input in pieces of any size (a piece may end inside a
//! word or a UTF-8 sequence); [`Tokenizer::finish`] ends the last token. The tokens are the
//! same however the input is cut: the tokenizer is a byte-by-byte state machine.

/// Token of a word of ASCII digits.
pub const NUM: &str = "<NUM>";
/// Token of a URL.
pub const URL: &str = "<URL>";
/// Token of an e-mail address.
pub const EMAIL: &str = "<EMAIL>";
/// Token of a word longer than [`MAX_WORD_LEN`] bytes.
pub const LONG: &str = "<LONG>";
/// Token of a word that is not valid UTF-8 (its id is always `UNK`).
pub const UNK: &str = "<UNK>";

/// Longest word, in bytes, given as itself; longer ones are [`LONG`].
pub const MAX_WORD_LEN: usize = 24;
/// Longest run of address bytes that can be an e-mail address (the tokenizer's buffer).
pub const MAX_ADDRESS_LEN: usize = 64;

/// What the tokenizer is doing with the current chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Reading runs and separators.
    Normal,
    /// After `http`/`https`/`ftp` at the chunk's start: `n` bytes of `://` seen.
    Scheme(u8),
    /// A URL was given: skipping to the end of the chunk.
    SkipChunk,
}

/// A streaming word tokenizer (see the module docs for its rules): a fixed buffer, no heap.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    /// The current run of address bytes, lower-cased; once `spilled`, the current word.
    run: [u8; MAX_ADDRESS_LEN],
    /// Bytes in `run`.
    len: u8,
    /// The run outgrew `run`: its words so far were given, it is no address.
    spilled: bool,
    /// The current word is longer than [`MAX_WORD_LEN`] (its bytes are dropped).
    long_word: bool,
    /// No run or symbol has ended in this chunk yet (a URL may start).
    chunk_start: bool,
    mode: Mode,
    /// The symbol just given (`!` or `$`), so that a run of it is one token; 0 if none.
    last_symbol: u8,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `b` can be part of a word.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Whether `b` can be part of an address but not of a word.
fn is_address_only(b: u8) -> bool {
    matches!(b, b'.' | b'_' | b'-' | b'+' | b'@')
}

/// The token of a word: [`LONG`], [`NUM`], [`UNK`] or the word itself.
fn word_token(w: &[u8]) -> &str {
    if w.len() > MAX_WORD_LEN {
        LONG
    } else if w.iter().all(u8::is_ascii_digit) {
        NUM
    } else {
        core::str::from_utf8(w).unwrap_or(UNK)
    }
}

/// Gives the words of `run` (address bytes separate them).
fn split_words(run: &[u8], emit: &mut impl FnMut(&str)) {
    run.split(|&b| is_address_only(b))
        .filter(|w| !w.is_empty())
        .for_each(|w| emit(word_token(w)));
}

/// Whether a whole run of address bytes is an e-mail address (rule 7).
fn is_email(run: &[u8]) -> bool {
    let end = run
        .iter()
        .rposition(|&b| is_word_byte(b))
        .map_or(0, |p| p + 1);
    let run = &run[..end];
    let mut ats = run.iter().enumerate().filter(|&(_, &b)| b == b'@');
    let (Some((at, _)), None) = (ats.next(), ats.next()) else {
        return false;
    };
    let domain = &run[at + 1..];
    at > 0 && domain.first().is_some_and(|&b| is_word_byte(b)) && domain.contains(&b'.')
}

impl Tokenizer {
    /// A tokenizer at the start of a text.
    pub const fn new() -> Self {
        Tokenizer {
            run: [0; MAX_ADDRESS_LEN],
            len: 0,
            spilled: false,
            long_word: false,
            chunk_start: true,
            mode: Mode::Normal,
            last_symbol: 0,
        }
    }

    /// Reads `bytes`, giving each token that ends in them to `emit`.
    pub fn feed(&mut self, bytes: &[u8], mut emit: impl FnMut(&str)) {
        for &b in bytes {
            self.byte(b.to_ascii_lowercase(), &mut emit);
        }
    }

    /// Ends the text: gives its last token, if any, and starts afresh.
    pub fn finish(&mut self, mut emit: impl FnMut(&str)) {
        if self.mode != Mode::SkipChunk {
            self.end_run(&mut emit);
        }
        *self = Tokenizer::new();
    }

    /// One (lower-cased) byte.
    fn byte(&mut self, b: u8, emit: &mut impl FnMut(&str)) {
        match self.mode {
            Mode::SkipChunk => {
                if b.is_ascii_whitespace() {
                    self.mode = Mode::Normal;
                    self.chunk_start = true;
                }
                return;
            }
            Mode::Scheme(n) => {
                if b == b"://"[n as usize] {
                    self.mode = if n == 2 {
                        self.url(emit);
                        Mode::SkipChunk
                    } else {
                        Mode::Scheme(n + 1)
                    };
                    return;
                }
                // Not a URL: the scheme is a word, what followed it separators.
                self.mode = Mode::Normal;
                self.end_run(emit);
            }
            Mode::Normal => {}
        }
        if is_word_byte(b) || is_address_only(b) {
            self.last_symbol = 0;
            self.push(b, emit);
            if self.chunk_start && !self.spilled && self.current() == b"www." {
                self.url(emit);
                self.mode = Mode::SkipChunk;
            }
        } else if b == b':'
            && self.chunk_start
            && !self.spilled
            && matches!(self.current(), b"http" | b"https" | b"ftp")
        {
            self.mode = Mode::Scheme(1);
        } else {
            self.end_run(emit);
            if b.is_ascii_whitespace() {
                self.chunk_start = true;
                self.last_symbol = 0;
            } else if b == b'!' || b == b'$' {
                if self.last_symbol != b {
                    emit(if b == b'!' { "!" } else { "$" });
                }
                self.last_symbol = b;
                self.chunk_start = false;
            } else {
                self.last_symbol = 0;
            }
        }
    }

    /// The bytes of the current run (or word, once spilled).
    fn current(&self) -> &[u8] {
        &self.run[..self.len as usize]
    }

    /// Gives [`URL`] and forgets the run.
    fn url(&mut self, emit: &mut impl FnMut(&str)) {
        emit(URL);
        self.len = 0;
        self.chunk_start = false;
    }

    /// Appends an address byte to the run.
    fn push(&mut self, b: u8, emit: &mut impl FnMut(&str)) {
        if !self.spilled && self.len as usize == MAX_ADDRESS_LEN {
            self.spill(emit);
        }
        if self.spilled {
            // Word by word: an address byte ends the word, a word byte extends it.
            if is_address_only(b) {
                self.end_word(emit);
            } else if !self.long_word {
                if self.len as usize == MAX_WORD_LEN {
                    self.long_word = true;
                    self.len = 0;
                } else {
                    self.run[self.len as usize] = b;
                    self.len += 1;
                }
            }
            return;
        }
        self.run[self.len as usize] = b;
        self.len += 1;
    }

    /// The run is too long to be an address: gives its complete words and keeps the
    /// last, unfinished one (or marks it long).
    fn spill(&mut self, emit: &mut impl FnMut(&str)) {
        self.spilled = true;
        let run = self.current();
        let tail_start = run
            .iter()
            .rposition(|&b| is_address_only(b))
            .map_or(0, |p| p + 1);
        split_words(&run[..tail_start], emit);
        let tail = self.len as usize - tail_start;
        if tail > MAX_WORD_LEN {
            self.long_word = true;
            self.len = 0;
        } else {
            self.run.copy_within(tail_start..self.len as usize, 0);
            self.len = tail as u8;
        }
    }

    /// Gives the current word of a spilled run.
    fn end_word(&mut self, emit: &mut impl FnMut(&str)) {
        if self.long_word {
            emit(LONG);
        } else if self.len > 0 {
            emit(word_token(self.current()));
        }
        self.long_word = false;
        self.len = 0;
    }

    /// Ends the current run: an address, or its words.
    fn end_run(&mut self, emit: &mut impl FnMut(&str)) {
        let had_run = self.len > 0 || self.spilled;
        if self.spilled {
            self.end_word(emit);
        } else if is_email(self.current()) {
            emit(EMAIL);
        } else {
            split_words(self.current(), emit);
        }
        self.len = 0;
        self.spilled = false;
        if had_run {
            self.chunk_start = false;
        }
    }
}

/// Every token of `text`, in order: [`Tokenizer::feed`] and [`Tokenizer::finish`] at once.
pub fn tokenize(text: &[u8], mut emit: impl FnMut(&str)) {
    let mut t = Tokenizer::new();
    t.feed(text, &mut emit);
    t.finish(&mut emit);
}
