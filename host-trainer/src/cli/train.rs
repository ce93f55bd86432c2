//! `micrornn train`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use micrornn::format::{CellKind, Task};
use std::path::Path;

use micrornn_trainer::data::sequences::Sequences;
use micrornn_trainer::export::atomic::write_atomic;
use micrornn_trainer::train::checkpoint::Checkpoint;
use micrornn_trainer::train::config::{TrainConfig, WORDS_MAX_WORDS};
use micrornn_trainer::train::run::{train, RunOptions, TrainPaths};
use micrornn_trainer::train::run_data::load_run_data;

use crate::cli::args::{TaskArg, TokensArg, TrainArgs};

pub fn run(a: TrainArgs) -> Result<()> {
    if a.task == Some(TaskArg::Seq2seq) || resumes_seq2seq(a.resume.as_deref()) {
        return run_seq2seq(a);
    }
    if a.dropout.is_some() {
        bail!("--dropout is only for --task seq2seq");
    }
    let resume = a.resume.as_deref().map(Checkpoint::read).transpose()?;
    let resumed_words = resume.as_ref().and_then(|c| match c.config.task {
        Task::ClassifyWords { max_words } => Some(max_words),
        _ => None,
    });
    let asked = asked_task(&a, resumed_words)?;
    let base = resume.as_ref().map_or_else(
        || TrainConfig::for_task(asked.unwrap_or(Task::Generate), a.cell.map(CellKind::from)),
        |c| c.config.clone(),
    );
    if let Some(ck) = &resume {
        // These fix the model and the split: changing them would not continue the run.
        let c = &ck.config;
        let fixed = [
            (
                "--cell",
                a.cell.is_some_and(|x| CellKind::from(x) != c.cell),
            ),
            (
                "--task/--tokens/--max-words",
                asked.is_some_and(|t| t != c.task),
            ),
            (
                "--text-column",
                a.text_column.as_ref().is_some_and(|t| *t != c.text_column),
            ),
            (
                "--vocab-size",
                a.vocab_size.is_some_and(|v| v != c.vocab_size),
            ),
            (
                "--label-column",
                a.label_column
                    .as_ref()
                    .is_some_and(|l| *l != c.label_column),
            ),
            ("--layers", a.layers.is_some_and(|l| l != c.layers)),
            ("--hidden", a.hidden.is_some_and(|h| h != c.hidden)),
            ("--embed", a.embed.is_some_and(|e| e != c.embed)),
            ("--seed", a.seed.is_some_and(|s| s != ck.config.seed)),
            (
                "--val-frac",
                a.val_frac.is_some_and(|v| v != ck.config.val_frac),
            ),
        ];
        if let Some((flag, _)) = fixed.iter().find(|(_, changed)| *changed) {
            bail!("{flag} cannot change when resuming (the checkpoint's run uses its own)");
        }
        if a.threads.is_some_and(|t| t != ck.config.threads) {
            eprintln!("warning: a different --threads than the checkpoint's run gives different (equally valid) bytes");
        }
    }
    let config = TrainConfig {
        task: base.task,
        label_column: a.label_column.unwrap_or(base.label_column),
        cell: a.cell.map_or(base.cell, CellKind::from),
        layers: a.layers.unwrap_or(base.layers),
        hidden: a.hidden.unwrap_or(base.hidden),
        embed: a.embed.unwrap_or(base.embed),
        epochs: a.epochs.unwrap_or(base.epochs),
        batch: a.batch_size.unwrap_or(base.batch),
        lr: a.lr.unwrap_or(base.lr),
        weight_decay: a.weight_decay.unwrap_or(base.weight_decay),
        clip: a.clip.unwrap_or(base.clip),
        seed: a.seed.unwrap_or(base.seed),
        threads: a.threads.unwrap_or(base.threads),
        val_frac: a.val_frac.unwrap_or(base.val_frac),
        // Set by the run from the data it reads.
        data: base.data,
        text_column: a.text_column.unwrap_or(base.text_column),
        vocab_size: a.vocab_size.unwrap_or(base.vocab_size),
    };
    let out = match (&a.out, &a.resume) {
        (Some(o), _) => o.clone(),
        (None, Some(r)) => r.with_extension("mrnn"),
        (None, None) => "model.mrnn".into(),
    };
    let task = config.task;
    let data = data_path(a.data, resume.as_ref())?;
    if let Some(path) = &a.save_ids {
        save_ids(path, &data, &config, resume.as_ref())?;
    }
    let paths = TrainPaths { data, out };
    let s = train(
        &paths,
        config,
        resume,
        RunOptions {
            quiet: a.quiet,
            stop_after: None,
        },
    )?;
    let (unit, rate) = match task {
        Task::Generate => ("nats/char", "chars/s"),
        Task::ClassifyWords { .. } => ("nats/message", "words/s"),
        _ => ("nats/name", "chars/s"),
    };
    let loss = match s.validated {
        true => "validation loss",
        false => "training loss; no validation split",
    };
    println!(
        "best epoch {} ({loss} {:.4} {unit}); {:.0} {rate}; {:.1} s",
        s.best_epoch, s.best_val, s.chars_per_sec, s.seconds
    );
    println!(
        "wrote {} (int8), {} (float), {} (validation split)",
        paths.out.display(),
        paths.ckpt().display(),
        paths.val_file(task).display()
    );
    Ok(())
}

/// The data to read: `--data`, else the data the checkpoint's run read (its absolute
/// path), else `data/names.csv`. A resumed run whose data is not where the checkpoint
/// says is refused with the flag that points at it.
fn data_path(given: Option<PathBuf>, resume: Option<&Checkpoint>) -> Result<PathBuf> {
    if let Some(d) = given {
        return Ok(d);
    }
    let Some(ck) = resume else {
        return Ok(DEFAULT_DATA.into());
    };
    let (path, known) = match ck.config.data.as_str() {
        "" => (PathBuf::from(DEFAULT_DATA), false),
        d => (PathBuf::from(d), true),
    };
    if !path.is_file() {
        let why = match known {
            true => "the data the checkpoint's run read is not there",
            false => "the checkpoint (an older version) does not record its data",
        };
        bail!(
            "cannot read {}: {why}; give the training data with --data PATH",
            path.display()
        );
    }
    Ok(path)
}

/// What `train` reads without `--data` (and without a checkpoint that says).
const DEFAULT_DATA: &str = "data/names.csv";

/// The task the flags ask for, if any: `--task` with `--tokens` and `--max-words`
/// (by default that of the word run being resumed, `resumed_words`, else
/// [`WORDS_MAX_WORDS`]).
fn asked_task(a: &TrainArgs, resumed_words: Option<u16>) -> Result<Option<Task>> {
    let words = a.tokens == Some(TokensArg::Word);
    if !words && (a.text_column.is_some() || a.vocab_size.is_some() || a.max_words.is_some()) {
        bail!("--text-column, --vocab-size and --max-words are for --tokens word");
    }
    if !words {
        return Ok(a.task.map(Task::from));
    }
    if a.task != Some(TaskArg::Classify) {
        bail!("--tokens word needs --task classify (word models classify messages)");
    }
    Ok(Some(Task::ClassifyWords {
        max_words: a.max_words.or(resumed_words).unwrap_or(WORDS_MAX_WORDS),
    }))
}

/// Writes the training examples of `config` on `data` as ids: label (classifiers; the
/// next-token targets are left out for generators) then inputs, one example a line.
fn save_ids(
    path: &Path,
    data: &Path,
    config: &TrainConfig,
    resume: Option<&Checkpoint>,
) -> Result<()> {
    let run = load_run_data(data, config, resume)?;
    let mut out = String::new();
    let join = |ids: &[u16]| ids.iter().map(u16::to_string).collect::<Vec<_>>().join(" ");
    match &run.train {
        Sequences::Classify(rows) => {
            for (ids, label) in rows {
                out += &format!("{label} {}\n", join(ids));
            }
        }
        Sequences::Generate(rows) => {
            for (ids, _) in rows {
                out += &format!("{}\n", join(ids));
            }
        }
    }
    write_atomic(path, out.as_bytes())
}

/// Whether `--resume` names a seq2seq checkpoint (by its first bytes; anything else,
/// an unreadable file included, goes the character models' way and its errors).
fn resumes_seq2seq(resume: Option<&std::path::Path>) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    resume
        .and_then(|p| std::fs::File::open(p).ok())
        .is_some_and(|mut f| f.read_exact(&mut head).is_ok())
        && micrornn_trainer::train::seq2seq_ckpt::is_seq2seq_checkpoint(&head)
}

/// `train --task seq2seq`: an encoder–decoder on a pronunciation dictionary.
fn run_seq2seq(a: TrainArgs) -> Result<()> {
    use micrornn_trainer::train::seq2seq::{
        train_seq2seq, Seq2seqShapeArgs, SEQ2SEQ_DATA, SEQ2SEQ_OUT,
    };
    use micrornn_trainer::train::seq2seq_ckpt::{Seq2seqCheckpoint, Seq2seqConfig};
    if a.task.is_some_and(|t| t != TaskArg::Seq2seq) {
        bail!("--resume names a seq2seq checkpoint: its run is --task seq2seq");
    }
    let unsupported = [
        ("--tokens", a.tokens.is_some()),
        ("--label-column", a.label_column.is_some()),
        ("--text-column", a.text_column.is_some()),
        ("--vocab-size", a.vocab_size.is_some()),
        ("--max-words", a.max_words.is_some()),
        ("--save-ids", a.save_ids.is_some()),
    ];
    if let Some((flag, _)) = unsupported.iter().find(|(_, given)| *given) {
        bail!("{flag} is not available with --task seq2seq");
    }
    let resume = a
        .resume
        .as_deref()
        .map(Seq2seqCheckpoint::read)
        .transpose()?;
    let (s, c) = match &resume {
        None => (Seq2seqShapeArgs::default(), Seq2seqConfig::default()),
        Some(ck) => {
            let (d, c) = (&ck.dims, &ck.config);
            // These fix the model and the split: changing them would not continue the run.
            let fixed = [
                (
                    "--cell",
                    a.cell.is_some_and(|x| CellKind::from(x) != d.cell),
                ),
                ("--layers", a.layers.is_some_and(|l| l != d.layers)),
                ("--hidden", a.hidden.is_some_and(|h| h != d.hidden)),
                ("--embed", a.embed.is_some_and(|e| e != d.embed)),
                ("--seed", a.seed.is_some_and(|s| s != c.seed)),
                ("--val-frac", a.val_frac.is_some_and(|v| v != c.val_frac)),
            ];
            if let Some((flag, _)) = fixed.iter().find(|(_, changed)| *changed) {
                bail!("{flag} cannot change when resuming (the checkpoint's run uses its own)");
            }
            if a.threads.is_some_and(|t| t != c.threads) {
                eprintln!("warning: a different --threads than the checkpoint's run gives different (equally valid) bytes");
            }
            let shape = Seq2seqShapeArgs {
                cell: d.cell,
                layers: d.layers,
                hidden: d.hidden,
                embed: d.embed,
            };
            (shape, c.clone())
        }
    };
    let shape = Seq2seqShapeArgs {
        cell: a.cell.map_or(s.cell, CellKind::from),
        layers: a.layers.unwrap_or(s.layers),
        hidden: a.hidden.unwrap_or(s.hidden),
        embed: a.embed.unwrap_or(s.embed),
    };
    let config = Seq2seqConfig {
        epochs: a.epochs.unwrap_or(c.epochs),
        batch: a.batch_size.unwrap_or(c.batch),
        lr: a.lr.unwrap_or(c.lr),
        weight_decay: a.weight_decay.unwrap_or(c.weight_decay),
        clip: a.clip.unwrap_or(c.clip),
        dropout: a.dropout.unwrap_or(c.dropout),
        seed: a.seed.unwrap_or(c.seed),
        threads: a.threads.unwrap_or(c.threads),
        val_frac: a.val_frac.unwrap_or(c.val_frac),
        data: String::new(),
    };
    let data = match (a.data, &resume) {
        (Some(d), _) => d,
        (None, None) => SEQ2SEQ_DATA.into(),
        (None, Some(ck)) => {
            let d = std::path::PathBuf::from(&ck.config.data);
            if ck.config.data.is_empty() || !d.is_file() {
                bail!(
                    "cannot read {}: the data the checkpoint's run read is not there; give the training data with --data PATH",
                    d.display()
                );
            }
            d
        }
    };
    let out = match (a.out, &a.resume) {
        (Some(o), _) => o,
        (None, Some(r)) => r.with_extension("mrnn"),
        (None, None) => SEQ2SEQ_OUT.into(),
    };
    let s = train_seq2seq(&data, &out, shape, config, a.quiet, resume)?;
    println!(
        "best epoch {} (float greedy WER {:.2}%, PER {:.2}%, validation loss {:.4} nats/phoneme); training {:.0} phonemes/s, greedy decoding {:.0} phonemes/s; {:.1} s",
        s.best_epoch,
        100.0 * s.best.wer,
        100.0 * s.best.per,
        s.best.val,
        s.tokens_per_sec,
        s.decode_per_sec,
        s.seconds
    );
    println!(
        "wrote {} (int8), {} (float), {} (validation words)",
        out.display(),
        s.ckpt.display(),
        s.val_dict.display()
    );
    Ok(())
}
