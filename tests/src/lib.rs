//! Helpers for the end-to-end tests in `tests/`: small data sets and quickly trained models.

use std::path::{Path, PathBuf};

use micrornn_trainer::train::config::TrainConfig;
use micrornn_trainer::train::run::{train, RunOptions, TrainPaths, TrainSummary};

/// The repository's data set.
pub fn names_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/names.csv")
}

/// Writes every `step`-th name of the data set (up to `n`) to `dir/names.txt`, one per line.
pub fn small_names(dir: &Path, n: usize, step: usize) -> PathBuf {
    let text = std::fs::read_to_string(names_csv()).expect("data/names.csv");
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .step_by(step)
        .filter_map(|l| l.split(',').next())
        .take(n)
        .collect();
    let path = dir.join("names.txt");
    std::fs::write(&path, names.join("\n")).unwrap();
    path
}

/// Writes every `step`-th row of the data set (up to `n` rows, with its header) to
/// `dir/labelled.csv`: labelled names for classifiers.
pub fn small_labelled(dir: &Path, n: usize, step: usize) -> PathBuf {
    let text = std::fs::read_to_string(names_csv()).expect("data/names.csv");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let rows: Vec<&str> = lines.step_by(step).take(n).collect();
    let path = dir.join("labelled.csv");
    std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    path
}

/// A small, fast training configuration.
pub fn tiny_config(seed: u64, threads: usize, epochs: u32) -> TrainConfig {
    TrainConfig {
        hidden: 32,
        epochs,
        batch: 32,
        lr: 0.01,
        seed,
        threads,
        ..TrainConfig::default()
    }
}

/// Trains `config` on `data`, writing `dir/<stem>.mrnn` and its checkpoint.
pub fn train_tiny(
    dir: &Path,
    stem: &str,
    data: &Path,
    config: TrainConfig,
) -> (TrainPaths, TrainSummary) {
    let paths = TrainPaths {
        data: data.to_owned(),
        out: dir.join(format!("{stem}.mrnn")),
    };
    let summary = train(
        &paths,
        config,
        None,
        RunOptions {
            quiet: true,
            stop_after: None,
        },
    )
    .expect("training runs");
    (paths, summary)
}
