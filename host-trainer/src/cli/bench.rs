//! `micrornn bench`: training throughput and host sampling speed.

use std::time::Instant;

use anyhow::{bail, Result};
use micrornn::format::Task;
use micrornn::generate::generate;
use micrornn::rng::Rng;
use micrornn::sampler::Settings;
use micrornn_trainer::engine::{bench_train, init_params};
use micrornn_trainer::eval::host_model::float_weights;
use micrornn_trainer::eval::host_model::HostModel;
use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::config::TrainConfig;
use micrornn_trainer::train::params::Dims;
use micrornn_trainer::train::run::thousands;

use crate::cli::args::BenchArgs;

const AZ: &str = "abcdefghijklmnopqrstuvwxyz";

pub fn run(a: BenchArgs) -> Result<()> {
    if !(a.seconds > 0.0 && a.seconds.is_finite()) || a.batch_size == 0 {
        bail!("--seconds and --batch-size must be positive");
    }
    // The same limits as `train`.
    let limits = TrainConfig {
        cell: a.cell.into(),
        layers: a.layers,
        hidden: a.hidden,
        embed: a.embed,
        ..TrainConfig::default()
    };
    limits.validate()?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    let dims = Dims {
        embed: a.embed,
        ..Dims::generate(
            a.cell.into(),
            a.layers,
            a.hidden,
            AZ.len() + micrornn::vocab::SPECIALS,
        )
    };
    println!(
        "training: {:?}, {} layer(s), hidden {}, {}, vocab {}, batch {}, {} thread(s), names of 3-16 tokens",
        dims.cell,
        dims.layers,
        a.hidden,
        dims.input_name(),
        dims.vocab,
        a.batch_size,
        threads
    );
    let rate = bench_train(
        dims,
        threads,
        a.batch_size,
        TrainConfig::default().clip,
        a.seconds,
    );
    println!(
        "  {} predicted chars/s (forward + backward + clipping + Adam; median of {} windows, slowest {}, fastest {})",
        thousands(rate.median),
        rate.windows,
        thousands(rate.slowest),
        thousands(rate.fastest)
    );

    // Sampling: one name at a time through the integer path, as `generate` does.
    let host = match &a.model {
        Some(p) => HostModel::open(p)?,
        None => {
            if dims.task != Task::Generate {
                println!("sampling: skipped (a classifier does not sample)");
                return Ok(());
            }
            let params = init_params(dims, 1);
            let bytes = export(&float_weights(dims, &params), dims.task, AZ, &[])?;
            HostModel::Quantized {
                path: "untrained".into(),
                bytes,
            }
        }
    };
    let label = a
        .model
        .as_ref()
        .map_or("an untrained a-z model".to_string(), |p| {
            p.display().to_string()
        });
    let mut runner = host.runner();
    let settings = Settings::default();
    let mut rng = Rng::new(1);
    let (names, chars, secs) = runner.with_net(|net, vocab| {
        let mut logits = vec![0i32; vocab.tokens()];
        let (mut names, mut chars) = (0u64, 0u64);
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < a.seconds {
            for _ in 0..100 {
                chars += generate(net, vocab, &settings, "", &mut rng, &mut logits, |_| {})
                    .expect("valid settings") as u64;
            }
            names += 100;
        }
        (names, chars, start.elapsed().as_secs_f64())
    });
    println!(
        "sampling: {label}, {}, one name at a time, 1 thread",
        host.path_kind()
    );
    println!(
        "  {} names/s ({} chars/s, {:.1} chars/name)",
        thousands(names as f64 / secs),
        thousands(chars as f64 / secs),
        chars as f64 / names as f64
    );
    Ok(())
}
