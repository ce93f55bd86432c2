//! A training-throughput benchmark on synthetic name-like batches.

use std::time::{Duration, Instant};

use micrornn::format::Task;

use super::rng::SplitMix64;
use super::{init_params, Adam, Engine};
use crate::batch::Batch;
use crate::params::Dims;

/// Throughput benchmark: predicted tokens per second of full training steps.
///
/// Builds 16 random batches of `batch_rows` rows with name-like lengths of 3 to 16
/// tokens (inputs start with token 0, targets end with token 1, fixed seed; for a
/// classify model, a random label per row instead of targets), runs
/// a short warm-up, then timed [`Engine::train_step`]s (forward, backward,
/// clipping to norm `clip`, Adam) on `threads` threads for about `seconds`,
/// cycling through the batches.
/// Counts input tokens (the predicted characters of a generate model).
pub fn bench_train(dims: Dims, threads: usize, batch_rows: usize, clip: f32, seconds: f64) -> f64 {
    let mut rng = SplitMix64::new(0x6d69_6372_6f72_6e6e);
    let batches: Vec<Batch> = (0..16)
        .map(|_| name_like_batch(&mut rng, dims, batch_rows))
        .collect();
    let mut params = init_params(dims, 1);
    let mut adam = Adam::new(params.len());
    let mut engine = Engine::new(dims, threads);
    let mut step = |batch: &Batch| {
        engine.train_step(&mut params, batch, &mut adam, 1e-3, clip);
        batch.tokens()
    };
    let warm_up = Duration::from_secs_f64((seconds * 0.1).min(0.5));
    let begin = Instant::now();
    for batch in batches.iter().cycle() {
        step(batch);
        if begin.elapsed() >= warm_up {
            break;
        }
    }
    let (begin, mut tokens) = (Instant::now(), 0usize);
    for batch in batches.iter().cycle() {
        tokens += step(batch);
        if begin.elapsed().as_secs_f64() >= seconds {
            break;
        }
    }
    tokens as f64 / begin.elapsed().as_secs_f64()
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
        Task::Classify => {
            let labels: Vec<u16> = seqs
                .iter()
                .map(|_| rng.range(0, dims.outputs) as u16)
                .collect();
            Batch::from_labelled(seqs.iter().zip(labels).map(|((i, _), l)| (&i[..], l)))
        }
    }
}
