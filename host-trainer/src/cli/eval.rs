//! `micrornn eval`.

use anyhow::{bail, Result};
use micrornn::format::Task;
use micrornn::vocab::Vocab;
use micrornn_trainer::data::labelled::load_labelled;
use micrornn_trainer::data::messages::load_messages;
use micrornn_trainer::data::names::load_names;
use micrornn_trainer::eval::classifier::{classify_names, classify_texts, score};
use micrornn_trainer::eval::generator::evaluate;
use micrornn_trainer::eval::host_model::HostModel;
use micrornn_trainer::eval::messages::{agreement, positive_label, score_messages, MessageReport};
use micrornn_trainer::eval::seq2seq::is_seq2seq_file;
use micrornn_trainer::train::config::{DEFAULT_LABEL_COLUMN, WORDS_LABEL_COLUMN};

use crate::cli::args::EvalArgs;

pub fn run(a: EvalArgs) -> Result<()> {
    if is_seq2seq_file(&a.model) {
        return super::eval_seq2seq::run(&a);
    }
    if a.beam > 1 {
        bail!("--beam is for seq2seq models");
    }
    let model = HostModel::open(&a.model)?;
    if let Task::ClassifyWords { .. } = model.task() {
        return eval_messages(&a, &model);
    }
    if a.compare.is_some() || a.positive.is_some() {
        bail!("--compare and --positive are for word classifiers");
    }
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
    let label_column = a.label_column.as_deref().unwrap_or(DEFAULT_LABEL_COLUMN);
    let data = load_labelled(&a.data, label_column, Some(vocab), Some(&labels))?;
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

/// Accuracy, precision and recall of the positive label, the confusion matrix and
/// cross-entropy of a word classifier; with `--compare`, the other model's too and how
/// often the two agree.
fn eval_messages(a: &EvalArgs, model: &HostModel) -> Result<()> {
    let labels = model.labels();
    let positive = positive_label(&labels, a.positive.as_deref())?;
    let label_column = a.label_column.as_deref().unwrap_or(WORDS_LABEL_COLUMN);
    let data = load_messages(&a.data, &a.text_column, label_column, Some(&labels))?;
    for line in data.skip_report(&a.data) {
        eprintln!("warning: {line}");
    }
    let answers = classify_texts(model, &data.texts)?;
    let outs = || answers.iter().map(|(_, o)| o.as_slice());
    let r = score_messages(outs(), &data.label, &labels, positive);
    let other = match &a.compare {
        Some(path) => {
            let m = HostModel::open(path)?;
            if m.labels() != labels || m.word_vocab() != model.word_vocab() {
                bail!(
                    "{} is not the same word classifier as {} (labels or words differ)",
                    path.display(),
                    a.model.display()
                );
            }
            let ans = classify_texts(&m, &data.texts)?;
            let agree = agreement(outs(), ans.iter().map(|(_, o)| o.as_slice()));
            let rep = score_messages(
                ans.iter().map(|(_, o)| o.as_slice()),
                &data.label,
                &labels,
                positive,
            );
            Some((path.display().to_string(), m.path_kind(), rep, agree))
        }
        None => None,
    };
    if a.json {
        let mut v = serde_json::to_value(&r)?;
        v["model"] = a.model.display().to_string().into();
        v["path"] = model.path_kind().into();
        v["labels"] = serde_json::to_value(&labels)?;
        v["skipped"] = data.skipped.len().into();
        if let Some((path, kind, rep, agree)) = &other {
            let mut c = serde_json::to_value(rep)?;
            c["model"] = path.clone().into();
            c["path"] = (*kind).into();
            v["compare"] = c;
            v["agreement"] = (*agree).into();
        }
        println!("{v}");
        return Ok(());
    }
    println!("model        {} ({})", a.model.display(), model.path_kind());
    println!(
        "messages     {} ({} skipped)",
        r.messages,
        data.skipped.len()
    );
    print_report(&r, &labels);
    if let Some((path, kind, rep, agree)) = &other {
        println!();
        println!("compared to  {path} ({kind})");
        print_report(rep, &labels);
        println!("agreement    {:.4} (same predicted label)", agree);
    }
    Ok(())
}

/// The text form of a [`MessageReport`].
fn print_report(r: &MessageReport, labels: &[String]) {
    println!("accuracy     {:.4}", r.accuracy);
    println!("precision    {:.4} ({})", r.precision, r.positive);
    println!("recall       {:.4} ({})", r.recall, r.positive);
    println!("xent         {:.4} nats/message", r.xent);
    let width = labels.iter().map(String::len).max().unwrap_or(0).max(9);
    print!("{:width$}", "true\\pred");
    for l in labels {
        print!("  {l:>width$}");
    }
    println!();
    for (l, row) in labels.iter().zip(&r.confusion) {
        print!("{l:width$}");
        for n in row {
            print!("  {n:>width$}");
        }
        println!();
    }
}
