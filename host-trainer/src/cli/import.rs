//! `micrornn import`: a PyTorch state_dict (safetensors) → M.mrnn (int8) and M.ckpt (float).

use anyhow::{bail, Context, Result};
use micrornn::format::{CellKind, Task};
use micrornn_trainer::eval::host_model::export_checkpoint;
use micrornn_trainer::export::atomic::write_atomic;
use micrornn_trainer::torch::import::{cell_name, import, ImportOptions};
use micrornn_trainer::torch::layout::Choices;
use micrornn_trainer::torch::safetensors::parse;

use crate::cli::args::ImportArgs;

pub fn run(a: ImportArgs) -> Result<()> {
    if a.out.extension().is_some_and(|e| e == "ckpt") {
        bail!("--out is the int8 model (M.mrnn); the checkpoint M.ckpt is written beside it");
    }
    let bytes =
        std::fs::read(&a.from).with_context(|| format!("cannot read {}", a.from.display()))?;
    let file = parse(&bytes).with_context(|| a.from.display().to_string())?;
    let opts = ImportOptions {
        choices: Choices {
            rnn: a.rnn,
            linear: a.linear,
            embedding: a.embedding,
            cell: a.cell.map(CellKind::from),
        },
        chars: a.chars,
        start: a.start,
        end: a.end,
        labels: a.labels,
    };
    let got = import(&file, &opts).with_context(|| a.from.display().to_string())?;
    let (ck, l) = (&got.ckpt, &got.layout);
    let mrnn = export_checkpoint(ck).context("quantizing the imported weights")?;
    let ckpt_path = a.out.with_extension("ckpt");
    ck.write(&ckpt_path)?;
    write_atomic(&a.out, &mrnn)?;
    let input = match &l.embedding {
        Some(e) => format!("embedding {} ({e})", l.input),
        None => "one-hot input".to_string(),
    };
    let shown = |p: &str| {
        if p.is_empty() {
            "(top level)".to_string()
        } else {
            p.trim_end_matches('.').to_string()
        }
    };
    println!(
        "imported {}: {}, {} layer(s), hidden {}, {input}; recurrent module {}, output {}; {} tokens{}",
        a.from.display(),
        cell_name(l.cell),
        l.layers,
        l.hidden,
        shown(&l.rnn),
        shown(&l.linear),
        got.tokens.tokens(),
        match ck.dims().task {
            Task::Classify => format!(", labels {}", ck.labels.join(", ")),
            _ => String::new(),
        }
    );
    println!(
        "wrote {} (int8, {} bytes), {} (float)",
        a.out.display(),
        mrnn.len(),
        ckpt_path.display()
    );
    Ok(())
}
