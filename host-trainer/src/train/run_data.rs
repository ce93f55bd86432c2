//! The data of one training run, for either task: vocabulary, labels, the split, the
//! encoded examples and the validation file's contents.

use std::path::Path;

use anyhow::{Context, Result};
use micrornn::format::Task;
use micrornn::vocab::Vocab;

use crate::data::labelled::load_labelled;
use crate::data::names::{load_names, split};
use crate::data::sequences::Sequences;
use crate::train::checkpoint::Checkpoint;
use crate::train::config::TrainConfig;

/// What a run trains and validates on.
#[derive(Clone, Debug)]
pub struct RunData {
    /// Sorted distinct characters.
    pub vocab: String,
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
}

/// Loads `path` for `config`'s task; a resumed run keeps its checkpoint's vocabulary and
/// labels (rows outside them are skipped and reported). Skipped rows are reported on
/// stderr.
pub fn load_run_data(
    path: &Path,
    config: &TrainConfig,
    resume: Option<&Checkpoint>,
) -> Result<RunData> {
    let fixed_vocab = resume.map(|c| Vocab::new(&c.vocab)).transpose()?;
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
                anyhow::bail!(
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
                train: Sequences::labelled(&train, &vocab),
                val: Sequences::labelled(&val, &vocab),
                val_file: val.to_csv(&config.label_column),
                vocab: vocab_chars,
                labels: loaded.labels,
                train_names: train.names,
            })
        }
    }
}

fn checked_vocab<'v>(chars: &'v str, path: &Path) -> Result<Vocab<'v>> {
    Vocab::new(chars).with_context(|| path.display().to_string())
}
