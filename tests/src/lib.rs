//! Helpers for the end-to-end tests in `tests/`: small data sets, quickly trained models,
//! random-weight models of a given shape, and a TCP proxy that damages a serial line ([`proxy`]).

use std::path::{Path, PathBuf};

pub mod proxy;

use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::config::TrainConfig;
use micrornn_trainer::train::params::Dims;
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

/// A model with random weights (no training), of the shape `dims` over the characters
/// `chars` (sorted, `dims.vocab - 2` of them), for tests that need a model of a given
/// size or shape at once. Weights are uniform in ±1.5/√fan-in.
pub fn random_model(dims: Dims, chars: &str, labels: &[String], seed: u64) -> Vec<u8> {
    let mut rng = micrornn::rng::Rng::new(seed);
    let a = 1.5 / (dims.hidden as f32).sqrt();
    let flat: Vec<f32> = (0..dims.param_count())
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * a)
        .collect();
    export(&dims.split(&flat), dims.task, chars, labels).expect("random weights export")
}
