//! `micrornn generate`.

use std::io::{BufWriter, Write};

use anyhow::Result;
use micrornn::generate::generate;
use micrornn::rng::Rng;
use micrornn::sampler::Settings;
use micrornn_trainer::host_model::HostModel;

use crate::cli::GenerateArgs;

pub fn run(a: GenerateArgs) -> Result<()> {
    let model = HostModel::open(&a.model)?;
    let settings = Settings {
        temperature_milli: a.temperature,
        top_k: a.top_k,
        min_p_milli: a.min_p,
        max_len: a.max_len,
    };
    let mut runner = model.runner();
    let mut rng = Rng::new(a.seed);
    let mut out = BufWriter::new(std::io::stdout().lock());
    runner.with_net(|net, vocab| -> Result<()> {
        let mut logits = vec![0i32; vocab.tokens()];
        let mut name = String::new();
        for _ in 0..a.count {
            name.clear();
            generate(
                net,
                vocab,
                &settings,
                &a.prefix,
                &mut rng,
                &mut logits,
                |c| name.push(c),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            writeln!(out, "{name}")?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(())
}
