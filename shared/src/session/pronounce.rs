//! Encoder–decoders on the serial line (feature `seq2seq`): `pronounce WORD...` answers one
//! line `word PH PH …` per word — greedy decoding on the integer network, written by
//! [`write_line`], the function the host's `micrornn pronounce` prints with, so that both
//! give the same bytes — then `ok`. Every word is checked (length, characters) before the
//! first answer, as `classify` checks its names.

use embedded_io::Write;

use super::{Console, GenFail, GenStats, Platform};
use crate::error::Error;
use crate::format::Task;
use crate::model::Model;
use crate::seq2seq::{greedy, word_ids, write_line, Seq2seqQ, MAX_INPUT, MAX_OUTPUT};

/// A serial line as a [`core::fmt::Write`], for [`write_line`] (which writes only
/// characters and strings: no formatting machinery comes with it).
struct SerialText<'a, IO>(&'a mut IO);

impl<IO: Write> core::fmt::Write for SerialText<'_, IO> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

impl Console<'_> {
    /// `pronounce WORD...`: one line `word PH PH …` per word (space-separated words).
    #[inline(never)]
    pub(super) fn pronounce<IO: Write, B: Platform>(
        &mut self,
        model: Result<&Model<'_>, Error>,
        words: &str,
        io: &mut IO,
        board: &B,
    ) -> Result<(), GenFail> {
        let model = model.map_err(GenFail::NoModel)?;
        if model.task() != Task::Seq2seq {
            return Err(GenFail::NotSeq2seq(model.task()));
        }
        let mut chars = [0u16; MAX_INPUT];
        for word in words.split_ascii_whitespace() {
            word_ids(&model.vocab, word, &mut chars).map_err(GenFail::Failed)?;
        }
        let b = &mut self.buffers;
        let mut net = Seq2seqQ::new(model, b.arena).map_err(GenFail::Failed)?;
        let phonemes = net.phonemes();
        let mut ids = [0u16; MAX_OUTPUT];
        let mut stats = GenStats::default();
        let start = board.ticks();
        for word in words.split_ascii_whitespace() {
            let n = greedy(&mut net, word, b.logits, &mut ids).map_err(GenFail::Failed)?;
            // Written straight out, not through a `Line`: a word may be as long as an
            // input line, and the answer is the host's whole line.
            let _ = write_line(&mut SerialText(io), word, &phonemes, &ids[..n]);
            let _ = io.write_all(b"\r\n");
            stats.names += 1;
            stats.chars += net.encoded_len() as u32;
            // The decoder's steps: one per phoneme, and the one that chose the boundary
            // (unless cut at the maximum).
            stats.steps += n as u32 + (n < MAX_OUTPUT) as u32;
        }
        stats.ticks = board.ticks().wrapping_sub(start);
        self.stats = stats;
        Ok(())
    }
}
