//! `micrornn train`.

use anyhow::{bail, Result};
use micrornn::format::{CellKind, Task};
use micrornn_trainer::train::checkpoint::Checkpoint;
use micrornn_trainer::train::config::TrainConfig;
use micrornn_trainer::train::run::{train, RunOptions, TrainPaths};

use crate::cli::args::TrainArgs;

pub fn run(a: TrainArgs) -> Result<()> {
    let resume = a.resume.as_deref().map(Checkpoint::read).transpose()?;
    let base = resume.as_ref().map_or_else(
        || {
            TrainConfig::for_task(
                a.task.map_or(Task::Generate, Task::from),
                a.cell.map(CellKind::from),
            )
        },
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
            ("--task", a.task.is_some_and(|t| Task::from(t) != c.task)),
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
    };
    let out = match (&a.out, &a.resume) {
        (Some(o), _) => o.clone(),
        (None, Some(r)) => r.with_extension("mrnn"),
        (None, None) => "model.mrnn".into(),
    };
    let task = config.task;
    let paths = TrainPaths { data: a.data, out };
    let s = train(
        &paths,
        config,
        resume,
        RunOptions {
            quiet: a.quiet,
            stop_after: None,
        },
    )?;
    let unit = match task {
        Task::Generate => "nats/char",
        Task::Classify => "nats/name",
    };
    println!(
        "best epoch {} (validation loss {:.4} {unit}); {:.0} chars/s; {:.1} s",
        s.best_epoch, s.best_val, s.chars_per_sec, s.seconds
    );
    println!(
        "wrote {} (int8), {} (float), {} (validation names)",
        paths.out.display(),
        paths.ckpt().display(),
        paths.val_file(task).display()
    );
    Ok(())
}
