//! `micrornn eval` of a seq2seq model: phoneme and word error rates on a `.dict` file.

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micrornn_trainer::data::cmudict::read_dict;
use micrornn_trainer::eval::seq2seq::{evaluate, Entry, Seq2seqModel};

use crate::cli::args::EvalArgs;

/// Words from which on a progress bar is shown (on a terminal).
const PROGRESS_FROM: usize = 2000;

pub fn run(a: &EvalArgs) -> Result<()> {
    if a.compare.is_some() || a.positive.is_some() || a.label_column.is_some() {
        bail!("--compare, --positive and --label-column are for classifiers");
    }
    let model = Seq2seqModel::open(&a.model)?;
    let dict = read_dict(&a.data)?;
    let entries: Vec<Entry> = dict.words.into_iter().map(|w| (w.word, w.prons)).collect();
    if entries.is_empty() {
        bail!("{}: no words to score", a.data.display());
    }
    let bar = progress_bar(entries.len());
    let r = evaluate(&model, &entries, a.beam.into(), &|n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    let long = dict.skipped_long_words;
    if r.skipped > 0 {
        eprintln!(
            "warning: {} word(s) left out: the model cannot read them (e.g. {})",
            r.skipped,
            r.skipped_examples.join(", ")
        );
    }
    let rates = r.counts.rates();
    let decoding = if a.beam > 1 {
        format!("beam {}", a.beam)
    } else {
        "greedy".to_string()
    };
    if a.json {
        let mut v = serde_json::to_value(rates)?;
        v["model"] = a.model.display().to_string().into();
        v["path"] = model.path_kind().into();
        v["beam"] = a.beam.into();
        v["skipped"] = (r.skipped + long).into();
        println!("{v}");
        return Ok(());
    }
    println!(
        "model             {} ({})",
        a.model.display(),
        model.path_kind()
    );
    println!(
        "words             {} ({} left out), {decoding}",
        rates.words,
        r.skipped + long
    );
    println!(
        "PER               {:.4}  (phoneme edits / reference phonemes)",
        rates.per
    );
    println!(
        "WER               {:.4}  (words not exactly right)",
        rates.wer
    );
    println!("PER (no stress)   {:.4}", rates.per_nostress);
    println!("WER (no stress)   {:.4}", rates.wer_nostress);
    Ok(())
}

/// A bar on stderr for long runs (hidden when stderr is not a terminal).
fn progress_bar(len: usize) -> ProgressBar {
    if len < PROGRESS_FROM {
        return ProgressBar::hidden();
    }
    let bar =
        ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template(
            "pronouncing [{bar:30}] {pos}/{len} words  ({elapsed}, {eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}
