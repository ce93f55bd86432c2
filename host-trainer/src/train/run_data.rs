//! The data of one training run, for either task: vocabulary, labels, the split, the
//! encoded examples and the validation file's contents.

use std::path::Path;

use anyhow::{bail, Context, Result};
use micrornn::format::Task;
use micrornn::vocab::Vocab;
use micrornn::words::WordVocab;

use crate::data::labelled::load_labelled;
use crate::data::messages::{load_messages, Messages};
use crate::data::names::{load_names, split};
use crate::data::sequences::Sequences;
use crate::data::words::{build_vocab, coverage, encode};
use crate::train::checkpoint::Checkpoint;
use crate::train::config::TrainConfig;

/// What a run trains and validates on.
#[derive(Clone, Debug)]
pub struct RunData {
    /// Sorted distinct characters, or (word models) the words joined with `\n`.
    pub vocab: String,
    /// Number of input tokens `V` (characters or words, with the special tokens).
    pub tokens: usize,
    /// Label names (classification), empty for generation.
    pub labels: Vec<String>,
    /// Training names (their fingerprint tells a resumed run whether the data changed).
    pub train_names: Vec<String>,
    /// Encoded training examples.
    pub train: Sequences,
    /// Encoded validation examples.
    pub val: Sequences,
    /// The validation file: names one per line, or labelled names as CSV.
    pub val_file: String,
    /// A line on the data for the run's start (word classifiers: the split and the
    /// vocabulary's coverage); empty otherwise.
    pub summary: String,
}

/// Loads `path` for `config`'s task; a resumed run keeps its checkpoint's vocabulary and
/// labels (rows outside them are skipped and reported). Skipped rows are reported on
/// stderr.
pub fn load_run_data(
    path: &Path,
    config: &TrainConfig,
    resume: Option<&Checkpoint>,
) -> Result<RunData> {
    let fixed_vocab = match config.task {
        Task::ClassifyWords { .. } => None,
        _ => resume.map(|c| Vocab::new(&c.vocab)).transpose()?,
    };
    let vocab_of = |names: &[String]| match resume {
        Some(c) => c.vocab.clone(),
        None => crate::data::names::vocab_chars(names),
    };
    match config.task {
        Task::Generate => {
            let loaded = load_names(path, fixed_vocab.as_ref())?;
            for line in loaded.skip_report(path) {
                eprintln!("warning: {line}");
            }
            let vocab_chars = vocab_of(&loaded.names);
            let vocab = checked_vocab(&vocab_chars, path)?;
            let (train_names, val_names) = split(&loaded.names, config.val_frac, config.seed);
            Ok(RunData {
                summary: String::new(),
                tokens: vocab.tokens(),
                train: Sequences::names(&train_names, &vocab),
                val: Sequences::names(&val_names, &vocab),
                val_file: val_names.join("\n"),
                vocab: vocab_chars,
                labels: Vec::new(),
                train_names,
            })
        }
        Task::Classify => {
            let labels = resume.map(|c| c.labels.as_slice());
            let loaded = load_labelled(path, &config.label_column, fixed_vocab.as_ref(), labels)?;
            let report = crate::data::names::Names {
                skipped: loaded.skipped.clone(),
                ..Default::default()
            };
            for line in report.skip_report(path) {
                eprintln!("warning: {line}");
            }
            if loaded.ties > 0 {
                eprintln!(
                    "note: {} names whose labels tie (no majority) are left out",
                    loaded.ties
                );
            }
            if loaded.labels.len() < 2 {
                bail!(
                    "{}: column `{}` has {} distinct value(s); a classifier needs at least 2",
                    path.display(),
                    config.label_column,
                    loaded.labels.len()
                );
            }
            let vocab_chars = vocab_of(&loaded.names);
            let vocab = checked_vocab(&vocab_chars, path)?;
            let (train, val) = loaded.split(config.val_frac, config.seed);
            Ok(RunData {
                summary: String::new(),
                tokens: vocab.tokens(),
                train: Sequences::labelled(&train, &vocab),
                val: Sequences::labelled(&val, &vocab),
                val_file: val.to_csv(&config.label_column),
                vocab: vocab_chars,
                labels: loaded.labels,
                train_names: train.names,
            })
        }
        Task::ClassifyWords { max_words } => {
            load_messages_data(path, config, resume, max_words as usize)
        }
        Task::Seq2seq => bail!("this build does not train seq2seq models"),
    }
}

/// A word classifier's data: messages, a stratified split, the vocabulary of the
/// training part (or the checkpoint's), each message as the ids of its first
/// `max_words` tokens. Messages without a token are left out of training and
/// validation (reported; `classify` still answers for them).
fn load_messages_data(
    path: &Path,
    config: &TrainConfig,
    resume: Option<&Checkpoint>,
    max_words: usize,
) -> Result<RunData> {
    let labels = resume.map(|c| c.labels.as_slice());
    let loaded = load_messages(path, &config.text_column, &config.label_column, labels)?;
    for line in loaded.skip_report(path) {
        eprintln!("warning: {line}");
    }
    if loaded.labels.len() < 2 {
        bail!(
            "{}: column `{}` has {} distinct value(s); a classifier needs at least 2",
            path.display(),
            config.label_column,
            loaded.labels.len()
        );
    }
    let (train, val) = loaded.split(config.val_frac, config.seed);
    let words = match resume {
        Some(c) => c.vocab.clone(),
        None => build_vocab(&train.texts, config.vocab_size, max_words)?,
    };
    let vocab = WordVocab::new(&words).context("the word vocabulary")?;
    let mut empty = 0;
    let mut encode_all = |m: &Messages| {
        let rows: Vec<(Vec<u16>, u16)> = m
            .texts
            .iter()
            .zip(&m.label)
            .map(|(t, &l)| (encode(t, &vocab, max_words), l))
            .filter(|(ids, _)| !ids.is_empty())
            .collect();
        empty += m.len() - rows.len();
        Sequences::Classify(rows)
    };
    let (train_seqs, val_seqs) = (encode_all(&train), encode_all(&val));
    if empty > 0 {
        eprintln!("note: {empty} messages without a token are left out");
    }
    let counts = |m: &Messages| {
        m.labels
            .iter()
            .zip(m.per_label())
            .map(|(l, n)| format!("{n} {l}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = format!(
        "{} messages: {} for training ({}), {} for validation ({}; stratified, seed {}); {} words (+ PAD, UNK) cover {:.1}% of the training tokens (first {max_words} per message)",
        loaded.len(),
        train.len(),
        counts(&train),
        val.len(),
        counts(&val),
        config.seed,
        vocab.tokens() - micrornn::words::SPECIALS,
        100.0 * coverage(&train.texts, &vocab, max_words)
    );
    Ok(RunData {
        summary,
        tokens: vocab.tokens(),
        train: train_seqs,
        val: val_seqs,
        val_file: val.to_csv(&config.text_column, &config.label_column)?,
        labels: loaded.labels,
        train_names: train.texts,
        vocab: words,
    })
}

fn checked_vocab<'v>(chars: &'v str, path: &Path) -> Result<Vocab<'v>> {
    Vocab::new(chars).with_context(|| path.display().to_string())
}
