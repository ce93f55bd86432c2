//! `micrornn generate` (with `--pronounce P.mrnn`, each name with its pronunciation).

use std::io::{BufWriter, Write};

use anyhow::{bail, Result};
use micrornn::generate::generate;
use micrornn::rng::Rng;
use micrornn::seq2seq::{Phonemes, Seq2seqNet};
use micrornn_trainer::eval::host_model::HostModel;
use micrornn_trainer::eval::seq2seq::{decode, is_seq2seq_file, line, Seq2seqModel};

use crate::cli::args::GenerateArgs;

pub fn run(a: GenerateArgs) -> Result<()> {
    if is_seq2seq_file(&a.model) {
        bail!(
            "{} is a seq2seq model (it pronounces words): use micrornn pronounce, or give it \
             to --pronounce",
            a.model.display()
        );
    }
    let model = HostModel::open(&a.model)?;
    match &a.pronounce {
        None => names(&a, &model, None),
        Some(path) => {
            let speaker = Seq2seqModel::open(path)?;
            speaker.with_net(|net, phonemes| names(&a, &model, Some((net, phonemes))))
        }
    }
}

/// Generates the names, each on its own line, followed by its pronunciation when a
/// seq2seq network is given (greedy, as the device decodes). A name the seq2seq model
/// cannot read is printed alone, with a warning.
fn names(
    a: &GenerateArgs,
    model: &HostModel,
    mut speaker: Option<(&mut dyn Seq2seqNet, &Phonemes<'_>)>,
) -> Result<()> {
    let settings = a.sampling.settings();
    let mut runner = model.runner();
    let mut rng = Rng::new(a.sampling.seed);
    let mut out = BufWriter::new(std::io::stdout().lock());
    runner.with_net(|net, vocab| -> Result<()> {
        let mut logits = vec![0i32; vocab.tokens()];
        let mut name = String::new();
        for _ in 0..a.count {
            name.clear();
            generate(
                net,
                vocab,
                &settings,
                &a.sampling.prefix,
                &mut rng,
                &mut logits,
                |c| name.push(c),
            )?;
            match speaker.as_mut() {
                None => writeln!(out, "{name}")?,
                Some(_) if name.is_empty() => writeln!(out)?,
                Some((s2s, phonemes)) => match decode(&mut **s2s, &name, 1) {
                    Ok(ids) => writeln!(out, "{}", line(&name, phonemes, &ids))?,
                    Err(e) => {
                        eprintln!("warning: {name:?} cannot be pronounced: {e:#}");
                        writeln!(out, "{name}")?;
                    }
                },
            }
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(())
}
