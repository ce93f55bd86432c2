//! `micrornn pronounce`.

use std::io::{BufWriter, Write};

use anyhow::Result;
use micrornn_trainer::eval::seq2seq::{decode, line, Seq2seqModel};

use crate::cli::args::PronounceArgs;

pub fn run(a: PronounceArgs) -> Result<()> {
    let model = Seq2seqModel::open(&a.model)?;
    // Every word is pronounced before any line is printed: a word the model cannot read
    // is one error line naming it, and nothing else.
    let lines = model.with_net(|net, phonemes| {
        a.words
            .iter()
            .map(|word| {
                let ids =
                    decode(net, word, a.beam.into()).map_err(|e| e.context(format!("{word:?}")))?;
                Ok(line(word, phonemes, &ids))
            })
            .collect::<Result<Vec<String>>>()
    })?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for l in lines {
        writeln!(out, "{l}")?;
    }
    out.flush()?;
    Ok(())
}
