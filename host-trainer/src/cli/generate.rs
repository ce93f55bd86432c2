//! `micrornn generate`.

use std::io::{BufWriter, Write};

use anyhow::Result;
use micrornn::generate::generate;
use micrornn::rng::Rng;
use micrornn_trainer::eval::host_model::HostModel;

use crate::cli::args::GenerateArgs;

pub fn run(a: GenerateArgs) -> Result<()> {
    let model = HostModel::open(&a.model)?;
    let settings = a.sampling.settings();
    let mut runner = model.runner();
    let mut rng = Rng::new(a.sampling.seed);
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
                &a.sampling.prefix,
                &mut rng,
                &mut logits,
                |c| name.push(c),
            )?;
            writeln!(out, "{name}")?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(())
}
