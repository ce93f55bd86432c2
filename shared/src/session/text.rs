//! Word classifiers on the serial line (feature `words`): `classify TEXT` classifies the
//! rest of its line as one text; `text` takes the lines that follow, up to an empty one, as
//! one text of any length. Either answers one line `<label> <probability>` (the digits of
//! the host's `micrornn classify`) and `ok`.
//!
//! A text is never held whole: its bytes go through the tokenizer in pieces (a line, or
//! [`MAX_LINE`](super::MAX_LINE) bytes of a longer one), and the token ids into the network, whose states
//! stay in the arena between pieces ([`NetQ::resume`]). Each piece loads the model again
//! from the store (no CRC pass), as every command does.

use embedded_io::{Read, ReadReady, Write};

use super::{fits, Console, GenFail, GenStats, Line, Platform, Session};
use crate::cell::NetQ;
use crate::error::Error;
use crate::format::Task;
use crate::model::Model;
use crate::store::Partition;
use crate::text::Text;
use crate::words::{WordStream, WordVocab};

/// A text being read: the tokenizer's state, the network's parity (its states are in the
/// arena), and the measurements so far.
#[derive(Debug)]
pub(super) struct TextMode {
    stream: WordStream,
    parity: u8,
    /// The model's word limit: once reached, the rest of the text is only counted.
    max_words: usize,
    stats: GenStats,
}

impl TextMode {
    /// Whether the network has read all the tokens it reads.
    fn full(&self) -> bool {
        self.stream.fed() >= self.max_words
    }
}

/// Whether `model` is a word classifier (then `classify` takes a text).
pub(super) fn is_words(model: &Result<&Model<'_>, Error>) -> bool {
    matches!(model, Ok(m) if matches!(m.task(), Task::ClassifyWords { .. }))
}

/// The word vocabulary and word limit of a word classifier.
fn words_of<'m>(model: &Model<'m>) -> Result<(WordVocab<'m>, usize), GenFail> {
    match (model.word_vocab(), model.max_words()) {
        (Some(v), Some(max)) => Ok((*v, max)),
        _ => Err(GenFail::Failed(Error::WrongTask(model.task()))),
    }
}

impl Console<'_> {
    /// `text`: checks the model and starts a text (reset network, fresh tokenizer).
    #[inline(never)]
    pub(super) fn text_begin<B: Platform>(
        &mut self,
        model: Result<&Model<'_>, Error>,
        board: &B,
    ) -> Result<(), GenFail> {
        let start = board.ticks();
        let model = model.map_err(GenFail::NoModel)?;
        let (vocab, max_words) = words_of(model)?;
        let b = &mut self.buffers;
        let mut net = NetQ::new(model, b.arena).map_err(GenFail::Failed)?;
        let stream =
            WordStream::begin(&mut net, &vocab, b.logits.len()).map_err(GenFail::Failed)?;
        let stats = GenStats {
            names: 1,
            ticks: board.ticks().wrapping_sub(start),
            ..GenStats::default()
        };
        self.text = Some(TextMode {
            stream,
            parity: net.parity(),
            max_words,
            stats,
        });
        Ok(())
    }

    /// Feeds the next bytes of the text begun with [`Console::text_begin`] (the caller
    /// counts them and the time).
    #[inline(never)]
    fn text_feed(&mut self, model: &Model<'_>, bytes: &[u8]) {
        let Some(t) = &mut self.text else { return };
        let Ok((vocab, max_words)) = words_of(model) else {
            return;
        };
        // The arena is the one `text_begin` checked, so `resume` cannot fail.
        if let Ok(mut net) = NetQ::resume(model, self.buffers.arena, t.parity) {
            t.stream.feed(&mut net, &vocab, max_words, bytes);
            t.parity = net.parity();
        }
    }

    /// Ends the text: its verdict line, and the measurements for `stats` (`names` 1,
    /// `chars` its bytes, `steps` the tokens fed, `ticks` the time spent on it since
    /// `text` — loading the model for each piece included, waiting for the lines not).
    /// `start`: the ticks when the caller began loading the model.
    #[inline(never)]
    fn text_end<IO: Write, B: Platform>(
        &mut self,
        model: &Model<'_>,
        io: &mut IO,
        board: &B,
        start: u64,
    ) -> Result<(), GenFail> {
        let Some(t) = self.text.take() else {
            return Ok(());
        };
        let (vocab, max_words) = words_of(model)?;
        let b = &mut self.buffers;
        let mut net = NetQ::resume(model, b.arena, t.parity).map_err(GenFail::Failed)?;
        let mut stream = t.stream;
        let verdict = stream.finish(&mut net, &vocab, max_words, b.logits);
        let mut digits = [0; 6];
        let mut l = Line::new();
        l.text(model.label(verdict.label).unwrap_or("?")).text(" ");
        l.text(verdict.prob_str(&mut digits)).send(io);
        let mut stats = t.stats;
        stats.steps = stream.fed() as u32;
        stats.ticks += board.ticks().wrapping_sub(start);
        self.stats = stats;
        Ok(())
    }

    /// `classify TEXT` on a word classifier: the text of one line, at once.
    #[inline(never)]
    pub(super) fn classify_text<IO: Write, B: Platform>(
        &mut self,
        model: Result<&Model<'_>, Error>,
        text: &str,
        io: &mut IO,
        board: &B,
    ) -> Result<(), GenFail> {
        let start = board.ticks();
        self.text_begin(model, board)?;
        let model = model.map_err(GenFail::NoModel)?;
        self.text_feed(model, text.as_bytes());
        if let Some(t) = &mut self.text {
            t.stats.chars = text.len() as u32;
        }
        self.text_end(model, io, board, start)
    }
}

impl<P: Partition> Session<'_, P> {
    /// A piece of a text's line (the line buffer is full): fed, and the buffer emptied.
    #[inline(never)]
    pub(super) fn text_piece<IO: Write, B: Platform>(&mut self, io: &mut IO, board: &B) {
        self.text_feed_line(false, io, board);
        self.line.clear();
        // The line goes on: it is not empty, whatever follows.
        self.overflow = true;
    }

    /// A whole line of a text: fed with its line end; an empty line ends the text.
    #[inline(never)]
    pub(super) fn text_line<IO: Read + Write + ReadReady, B: Platform>(
        &mut self,
        io: &mut IO,
        board: &B,
    ) {
        if !self.line.is_empty() || self.overflow {
            return self.text_feed_line(true, io, board);
        }
        let start = board.ticks();
        let loaded = self.store.model();
        let done = match fits(&loaded, &self.console.buffers) {
            Ok(m) => self.console.text_end(m, io, board, start),
            Err(e) => {
                self.console.text = None;
                Err(GenFail::NoModel(e))
            }
        };
        match done {
            Ok(()) => {
                let _ = io.write_all(b"ok\r\n");
            }
            Err(fail) => super::fail_line(fail, io),
        }
    }

    /// Feeds the line buffer (and a line end if `line_end`) to the text, loading the
    /// model only while the network still reads tokens; counts the bytes and the time.
    fn text_feed_line<IO: Write, B: Platform>(&mut self, line_end: bool, io: &mut IO, board: &B) {
        let start = board.ticks();
        if self.console.text.as_ref().is_some_and(|t| !t.full()) {
            let loaded = self.store.model();
            match fits(&loaded, &self.console.buffers) {
                Ok(m) => {
                    self.console.text_feed(m, &self.line);
                    if line_end {
                        self.console.text_feed(m, b"\n");
                    }
                }
                Err(e) => {
                    self.console.text = None;
                    return super::fail_line(GenFail::NoModel(e), io);
                }
            }
        }
        if let Some(t) = &mut self.console.text {
            let bytes = self.line.len() + line_end as usize;
            t.stats.chars = t.stats.chars.saturating_add(bytes as u32);
            t.stats.ticks += board.ticks().wrapping_sub(start);
        }
    }
}
