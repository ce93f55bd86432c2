//! The training loop: split, batches, Adam with a cosine schedule, validation each
//! epoch, best-epoch keeping, atomic checkpoints, resume.
//!
//! It trains next-character models on names (generate) or name classifiers (classify,
//! see [`crate::data::labelled`]). The loop itself only sees [`Batch`]es and averages by
//! [`Batch::loss_count`], so both tasks go through the same code.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micrornn::format::Task;
use micrornn::vocab::Vocab;

use crate::data::batch::Batch;
use crate::data::names::shuffle;
use crate::data::sequences::Sequences;
use crate::engine::{init_params, Adam, Engine};
use crate::train::checkpoint::{fingerprint, Checkpoint, EpochLoss};
use crate::train::config::TrainConfig;
use crate::train::params::Dims;
use crate::train::run_data::load_run_data;

/// Rows per validation batch (validation has no gradient, so larger batches are cheaper).
const VAL_BATCH: usize = 512;

/// Where a run reads and writes.
#[derive(Clone, Debug)]
pub struct TrainPaths {
    /// Names to train on.
    pub data: PathBuf,
    /// The quantized model to write (`.mrnn`); the checkpoint goes beside it (`.ckpt`),
    /// and the validation names too (`.val.txt`).
    pub out: PathBuf,
}

impl TrainPaths {
    /// The float checkpoint beside the model.
    pub fn ckpt(&self) -> PathBuf {
        self.out.with_extension("ckpt")
    }

    /// The validation names beside the model (generation: one per line).
    pub fn val_names(&self) -> PathBuf {
        self.out.with_extension("val.txt")
    }

    /// The validation file of a run of `task`: names (`.val.txt`), or labelled names
    /// as CSV (`.val.csv`, readable by `eval`).
    pub fn val_file(&self, task: Task) -> PathBuf {
        match task {
            Task::Generate => self.val_names(),
            _ => self.out.with_extension("val.csv"),
        }
    }
}

/// What a finished run reports.
#[derive(Clone, Debug)]
pub struct TrainSummary {
    /// Best epoch (1-based).
    pub best_epoch: u32,
    /// Its validation loss (nats per character), or its training loss without a
    /// validation split (`validated` false).
    pub best_val: f64,
    /// Whether there was a validation split (else the training loss chose the best epoch).
    pub validated: bool,
    /// Mean training throughput over the epochs of this invocation, predicted characters/s.
    pub chars_per_sec: f64,
    /// Wall time of this invocation's epochs, seconds.
    pub seconds: f64,
    /// Whether the quantized model file was written (only models the export supports).
    pub model_written: bool,
}

/// How a run reports and how far it goes.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// No progress bar.
    pub quiet: bool,
    /// Stop after this many epochs in this invocation (the schedule still spans all
    /// `config.epochs`), as if the run had been interrupted; `None` runs to the end.
    pub stop_after: Option<u32>,
}

/// Trains from scratch (`resume = None`) or continues a checkpoint.
pub fn train(
    paths: &TrainPaths,
    config: TrainConfig,
    resume: Option<Checkpoint>,
    opts: RunOptions,
) -> Result<TrainSummary> {
    let quiet = opts.quiet;
    config.validate()?;
    // ---- data ----
    let data = load_run_data(&paths.data, &config, resume.as_ref())?;
    // Recorded absolute, so that `--resume` finds it from any folder.
    let mut config = config;
    config.data = std::fs::canonicalize(&paths.data)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !data.summary.is_empty() {
        println!("{}", data.summary);
    }
    let dims = Dims {
        cell: config.cell,
        task: config.task,
        layers: config.layers,
        hidden: config.hidden,
        embed: config.embed,
        vocab: data.tokens,
        outputs: match config.task {
            Task::Generate => data.tokens,
            _ => data.labels.len(),
        },
    };
    if let Some(ck) = &resume {
        if ck.dims() != dims {
            bail!(
                "the checkpoint's model ({:?}) differs from this run's ({dims:?})",
                ck.dims()
            );
        }
    }
    let val_batches = data.val.batches_in_order(VAL_BATCH);
    let print_fingerprint = fingerprint(&data.train_names);
    if let Some(ck) = &resume {
        if ck.data_fingerprint != print_fingerprint {
            eprintln!("warning: the training names differ from the checkpoint's run; the result will not match an uninterrupted run");
        }
    }
    crate::export::atomic::write_atomic(&paths.val_file(config.task), data.val_file.as_bytes())?;

    // ---- model and optimizer ----
    let mut ck = match resume {
        Some(mut ck) => {
            ck.config = config.clone();
            ck
        }
        None => {
            let params = init_params(dims, config.seed);
            Checkpoint {
                vocab: data.vocab.clone(),
                labels: data.labels.clone(),
                config: config.clone(),
                dims,
                data_fingerprint: print_fingerprint,
                epochs_done: 0,
                best_epoch: 0,
                best_val: f64::INFINITY,
                history: Vec::new(),
                best: params.clone(),
                adam_m: vec![0.0; params.len()],
                adam_v: vec![0.0; params.len()],
                last: params,
                adam_step: 0,
            }
        }
    };
    let mut params = std::mem::take(&mut ck.last);
    let mut adam = Adam::new(params.len());
    adam.m = std::mem::take(&mut ck.adam_m);
    adam.v = std::mem::take(&mut ck.adam_v);
    adam.step = ck.adam_step;
    adam.weight_decay = config.weight_decay;
    let mut engine = Engine::new(dims, config.threads);
    let steps_per_epoch = data.train.len().div_ceil(config.batch) as u64;
    let total_steps = steps_per_epoch * config.epochs as u64;

    let examples = match config.task {
        Task::ClassifyWords { .. } => "messages",
        _ => "names",
    };
    println!(
        "training {}: {} layer(s), hidden {}, {}, vocab {} tokens, {} parameters | {} train {examples}, {} validation | {} epochs, batch {}, lr {}, weight decay {}, clip {}, seed {}, {} threads",
        format!("{:?}", dims.cell).to_lowercase(),
        dims.layers,
        dims.hidden,
        dims.input_name(),
        dims.vocab,
        dims.param_count(),
        data.train.len(),
        data.val.len(),
        config.epochs,
        config.batch,
        config.lr,
        config.weight_decay,
        config.clip,
        config.seed,
        config.threads
    );
    let validated = !data.val.is_empty();
    if !validated {
        println!("no validation split (--val-frac {}): the best epoch is the one with the lowest training loss", config.val_frac);
    }
    if ck.epochs_done >= config.epochs {
        println!(
            "the checkpoint has already run {} of {} epochs; nothing to do",
            ck.epochs_done, config.epochs
        );
    }

    // ---- epochs ----
    let rate_unit = match config.task {
        Task::ClassifyWords { .. } => "words/s",
        _ => "chars/s",
    };
    let run_start = Instant::now();
    let mut run_tokens = 0usize;
    let mut run_train_secs = 0.0;
    let last_epoch = opts
        .stop_after
        .map_or(config.epochs, |n| config.epochs.min(ck.epochs_done + n));
    for epoch in ck.epochs_done..last_epoch {
        let batches = epoch_batches(&data.train, config.batch, config.seed, epoch);
        let bar = progress_bar(batches.len() as u64, epoch, config.epochs, quiet);
        let start = Instant::now();
        // `counted`: what the loss averages over (characters or names); `tokens`: characters
        // read, for the throughput.
        let (mut loss_sum, mut counted, mut tokens) = (0.0f64, 0usize, 0usize);
        for (i, b) in batches.iter().enumerate() {
            let lr = config.lr_at(adam.step, total_steps);
            loss_sum += engine
                .train_step(&mut params, b, &mut adam, lr, config.clip)
                .0;
            counted += b.loss_count();
            tokens += b.tokens();
            if i % 16 == 15 || i + 1 == batches.len() {
                let rate = tokens as f64 / start.elapsed().as_secs_f64();
                bar.set_position(i as u64 + 1);
                bar.set_message(format!(
                    "loss {:.4} | {} {rate_unit}",
                    loss_sum / counted as f64,
                    thousands(rate)
                ));
            }
        }
        let secs = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        if !params.iter().all(|p| p.is_finite()) {
            bail!("training diverged in epoch {} (non-finite weights); try a lower --lr. The last good checkpoint is {}", epoch + 1, paths.ckpt().display());
        }
        run_tokens += tokens;
        run_train_secs += secs;
        let train_loss = loss_sum / counted.max(1) as f64;
        let val_loss = validation_loss(&mut engine, &params, &val_batches);
        // Without a validation split the training loss picks the best epoch.
        let score = if val_loss.is_nan() {
            train_loss
        } else {
            val_loss
        };
        let improved = score < ck.best_val;
        ck.history.push(EpochLoss {
            train: train_loss,
            val: val_loss,
        });
        ck.epochs_done = epoch + 1;
        if improved {
            ck.best_val = score;
            ck.best_epoch = epoch + 1;
            ck.best.clone_from(&params);
        }
        let val = match validated {
            true => format!("{val_loss:.4}"),
            false => "-".to_string(),
        };
        println!(
            "epoch {:>3}/{}  train {:.4}  val {val}  {} {rate_unit}  {:.1} s{}",
            epoch + 1,
            config.epochs,
            train_loss,
            thousands(tokens as f64 / secs),
            secs,
            if improved { "  *best" } else { "" }
        );
        // Save: checkpoint every epoch; the quantized model when the best changes.
        ck.last = std::mem::take(&mut params);
        ck.adam_m = std::mem::take(&mut adam.m);
        ck.adam_v = std::mem::take(&mut adam.v);
        ck.adam_step = adam.step;
        ck.write(&paths.ckpt())?;
        if improved {
            write_model(&paths.out, &ck)?;
        }
        params = std::mem::take(&mut ck.last);
        adam.m = std::mem::take(&mut ck.adam_m);
        adam.v = std::mem::take(&mut ck.adam_v);
    }
    // Always, though an improving epoch wrote it: a run killed between its checkpoint and
    // its model file left an older model, and the resumed run may improve no more.
    write_model(&paths.out, &ck)?;
    let seconds = run_start.elapsed().as_secs_f64();
    Ok(TrainSummary {
        best_epoch: ck.best_epoch,
        best_val: ck.best_val,
        validated,
        chars_per_sec: run_tokens as f64 / run_train_secs.max(1e-9),
        seconds,
        model_written: true,
    })
}

/// Quantizes the checkpoint's best weights and writes the model file atomically.
pub fn write_model(out: &Path, ck: &Checkpoint) -> Result<()> {
    let bytes = crate::eval::host_model::export_checkpoint(ck)?;
    crate::export::atomic::write_atomic(out, &bytes)
}

/// The training batches of one epoch: the examples in an order fixed by `(seed, epoch)`.
pub fn epoch_batches(examples: &Sequences, batch: usize, seed: u64, epoch: u32) -> Vec<Batch> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let epoch_seed = seed ^ (epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    shuffle(&mut order, epoch_seed);
    order.chunks(batch).map(|idx| examples.batch(idx)).collect()
}

/// Batches of `names` in their order (for validation and evaluation of generation).
pub fn batches_in_order(names: &[String], vocab: &Vocab<'_>, rows: usize) -> Vec<Batch> {
    Sequences::names(names, vocab).batches_in_order(rows)
}

/// Mean NLL per prediction over the validation batches; NaN when there are none.
pub fn validation_loss(engine: &mut Engine, params: &[f32], batches: &[Batch]) -> f64 {
    let tokens: usize = batches.iter().map(Batch::loss_count).sum();
    if tokens == 0 {
        return f64::NAN;
    }
    batches.iter().map(|b| engine.loss(params, b)).sum::<f64>() / tokens as f64
}

fn progress_bar(len: u64, epoch: u32, epochs: u32, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(8));
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches  {msg}  ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("epoch {}/{}", epoch + 1, epochs));
    bar
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1234567.8), "1,234,568");
    }

    #[test]
    fn epoch_batches_cover_every_name_once_in_a_seeded_order() {
        let seqs = Sequences::Generate(
            (0..10u16)
                .map(|i| (vec![0, i + 2], vec![i + 2, 1]))
                .collect(),
        );
        let b = epoch_batches(&seqs, 4, 1, 0);
        assert_eq!(b.iter().map(|b| b.rows).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut seen: Vec<u16> = b
            .iter()
            .flat_map(|b| b.targets.chunks(2).map(|r| r[0]))
            .collect();
        assert_eq!(b, epoch_batches(&seqs, 4, 1, 0));
        assert_ne!(b, epoch_batches(&seqs, 4, 1, 1));
        seen.sort();
        assert_eq!(seen, (2..12).collect::<Vec<_>>());
    }
}
