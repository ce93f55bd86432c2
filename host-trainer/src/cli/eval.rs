//! `micrornn eval`.

use anyhow::Result;
use micrornn::format::Task;
use micrornn::vocab::Vocab;
use micrornn_trainer::data::labelled::load_labelled;
use micrornn_trainer::data::names::load_names;
use micrornn_trainer::eval::classifier::{classify_names, score};
use micrornn_trainer::eval::generator::evaluate;
use micrornn_trainer::eval::host_model::HostModel;

use crate::cli::args::EvalArgs;

pub fn run(a: EvalArgs) -> Result<()> {
    let model = HostModel::open(&a.model)?;
    let vocab = Vocab::new(model.vocab_chars())?;
    if model.task() == Task::Classify {
        return eval_classifier(&a, &model, &vocab);
    }
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

/// Accuracy (per name and weighted by births) and cross-entropy of a classifier.
fn eval_classifier(a: &EvalArgs, model: &HostModel, vocab: &Vocab<'_>) -> Result<()> {
    let labels = model.labels();
    let data = load_labelled(&a.data, &a.label_column, Some(vocab), Some(&labels))?;
    let report = micrornn_trainer::data::names::Names {
        skipped: data.skipped.clone(),
        ..Default::default()
    };
    for line in report.skip_report(&a.data) {
        eprintln!("warning: {line}");
    }
    let answers = classify_names(model, &data.names)?;
    let r = score(answers.iter().map(|(_, out)| out.as_slice()), &data);
    if a.json {
        let v = serde_json::json!({
            "model": a.model.display().to_string(),
            "path": model.path_kind(),
            "names": r.names,
            "skipped": data.skipped.len(),
            "ties": data.ties,
            "accuracy": r.accuracy,
            "weighted_accuracy": r.weighted_accuracy,
            "xent": r.xent,
        });
        println!("{v}");
    } else {
        println!(
            "model              {} ({})",
            a.model.display(),
            model.path_kind()
        );
        println!("labels             {}", labels.join(", "));
        println!(
            "names              {} ({} skipped, {} tied left out)",
            r.names,
            data.skipped.len(),
            data.ties
        );
        println!("accuracy           {:.4} (per distinct name)", r.accuracy);
        println!("weighted accuracy  {:.4} (per birth)", r.weighted_accuracy);
        println!("cross-entropy      {:.4} nats/name", r.xent);
    }
    Ok(())
}
