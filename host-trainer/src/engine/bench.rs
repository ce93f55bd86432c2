//! A training-throughput benchmark on synthetic name-like batches.

use std::time::Instant;

use micrornn::format::Task;

use super::rng::SplitMix64;
use super::{init_params, Adam, Engine};
use crate::data::batch::Batch;
use crate::train::params::Dims;

/// Length of one measuring window of [`bench_train`], seconds.
const WINDOW: f64 = 0.25;

/// What [`bench_train`] measured: predicted tokens per second of whole training
/// steps, per window of about a quarter of a second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throughput {
    /// The median window.
    pub median: f64,
    /// The slowest window.
    pub slowest: f64,
    /// The fastest window.
    pub fastest: f64,
    /// Number of windows.
    pub windows: usize,
}

/// Throughput benchmark: predicted tokens per second of full training steps.
///
/// Builds 16 random batches of `batch_rows` rows with name-like lengths of 3 to 16
/// tokens (inputs start with token 0, targets end with token 1, fixed seed; for a
/// classify model, a random label per row instead of targets), runs a short
/// warm-up, then timed [`Engine::train_step`]s (forward, backward, clipping to norm
/// `clip`, Adam) on `threads` threads for about `seconds`, cycling through the
/// batches. Counts input tokens (the predicted characters of a generate model).
///
/// The time is cut into windows of about 0.25 s (at least 4) and the
/// median window is the figure: on a shared machine a window where another
/// tenant takes a core is an outlier, shown apart as the slowest.
pub fn bench_train(
    dims: Dims,
    threads: usize,
    batch_rows: usize,
    clip: f32,
    seconds: f64,
) -> Throughput {
    let mut rng = SplitMix64::new(0x6d69_6372_6f72_6e6e);
    let batches: Vec<Batch> = (0..16)
        .map(|_| name_like_batch(&mut rng, dims, batch_rows))
        .collect();
    let mut params = init_params(dims, 1);
    let mut adam = Adam::new(params.len());
    let mut engine = Engine::new(dims, threads);
    let mut steps = batches.iter().cycle().map(|batch| {
        engine.train_step(&mut params, batch, &mut adam, 1e-3, clip);
        batch.tokens()
    });
    // Runs steps for about `secs`; returns tokens per second.
    let mut measure = |secs: f64| {
        let (begin, mut tokens) = (Instant::now(), 0usize);
        while begin.elapsed().as_secs_f64() < secs {
            tokens += steps.next().expect("an endless cycle");
        }
        tokens as f64 / begin.elapsed().as_secs_f64()
    };
    measure((seconds * 0.1).min(0.5));
    let windows = ((seconds / WINDOW).round() as usize).max(4);
    let mut rates: Vec<f64> = (0..windows)
        .map(|_| measure(seconds / windows as f64))
        .collect();
    rates.sort_by(f64::total_cmp);
    let mid = windows / 2;
    Throughput {
        median: if windows % 2 == 1 {
            rates[mid]
        } else {
            (rates[mid - 1] + rates[mid]) / 2.0
        },
        slowest: rates[0],
        fastest: rates[windows - 1],
        windows,
    }
}

/// `rows` sequences of 3 to 16 tokens: `[0, c, c, ...]` -> `[c, c, ..., 1]` (generate)
/// or a random label (classify).
fn name_like_batch(rng: &mut SplitMix64, dims: Dims, rows: usize) -> Batch {
    let vocab = dims.vocab;
    let (lo, hi) = if vocab > 2 { (2, vocab) } else { (0, vocab) };
    let seqs: Vec<(Vec<u16>, Vec<u16>)> = (0..rows)
        .map(|_| {
            let len = rng.range(3, 17);
            let chars: Vec<u16> = (0..len - 1).map(|_| rng.range(lo, hi) as u16).collect();
            let inputs = [&[0u16][..], &chars].concat();
            let targets = [&chars[..], &[1u16.min(vocab as u16 - 1)]].concat();
            (inputs, targets)
        })
        .collect();
    match dims.task {
        Task::Generate => Batch::from_sequences(seqs.iter().map(|(i, t)| (&i[..], &t[..]))),
        _ => {
            let labels: Vec<u16> = seqs
                .iter()
                .map(|_| rng.range(0, dims.outputs) as u16)
                .collect();
            Batch::from_labelled(seqs.iter().zip(labels).map(|((i, _), l)| (&i[..], l)))
        }
    }
}
