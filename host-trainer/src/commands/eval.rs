//! `micrornn eval`.

use anyhow::{bail, Result};
use micrornn::format::Task;
use micrornn::vocab::Vocab;
use micrornn_trainer::data::load_names;
use micrornn_trainer::eval::evaluate;
use micrornn_trainer::host_model::HostModel;

use crate::cli::EvalArgs;

pub fn run(a: EvalArgs) -> Result<()> {
    let model = HostModel::open(&a.model)?;
    if model.task() != Task::Generate {
        bail!(
            "eval measures next-character prediction: {} is a classifier",
            a.model.display()
        );
    }
    let vocab = Vocab::new(model.vocab_chars()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let names = load_names(&a.data, Some(&vocab))?;
    for line in names.skip_report(&a.data) {
        eprintln!("warning: {line}");
    }
    let r = evaluate(&model, &names.names);
    if a.json {
        let mut v = serde_json::to_value(r)?;
        v["model"] = a.model.display().to_string().into();
        v["path"] = model.path_kind().into();
        v["skipped"] = names.skipped.len().into();
        println!("{v}");
    } else {
        println!("model       {} ({})", a.model.display(), model.path_kind());
        println!("names       {} ({} skipped)", r.names, names.skipped.len());
        println!("tokens      {}", r.tokens);
        println!("nll         {:.4} nats/char", r.nll);
        println!("bits/char   {:.4}", r.bits_per_char);
        println!("perplexity  {:.3}", r.perplexity);
    }
    Ok(())
}
