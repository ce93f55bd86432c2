//! `micrornn classify`.

use std::io::{BufRead, BufWriter, Write};

use anyhow::{bail, Context, Result};
use micrornn::format::Task;
use micrornn_trainer::device::client::escape_controls;
use micrornn_trainer::eval::classifier::{classify_names, classify_texts};
use micrornn_trainer::eval::host_model::HostModel;

use crate::cli::args::ClassifyArgs;

pub fn run(a: ClassifyArgs) -> Result<()> {
    let model = HostModel::open(&a.model)?;
    let task = model.task();
    if task == Task::Seq2seq {
        bail!(
            "{} pronounces words (an encoder–decoder): use micrornn pronounce; classify needs a classifier (train --task classify)",
            a.model.display()
        );
    }
    if !task.is_classifier() {
        bail!(
            "{} generates names; classify needs a classifier (train --task classify)",
            a.model.display()
        );
    }
    if let Task::ClassifyWords { .. } = task {
        return classify_messages(&a, &model);
    }
    if a.names.is_empty() || !a.text.is_empty() || a.file.is_some() {
        bail!(
            "{} classifies names: give them as arguments (--text and --file are for word classifiers)",
            a.model.display()
        );
    }
    let labels = model.labels();
    // Every name is checked before any answer, as on the device.
    let answers = classify_names(&model, &a.names)?;
    for (name, (v, _)) in a.names.iter().zip(answers) {
        let mut digits = [0; 6];
        // As the device writes it: a label's control characters escaped.
        let label = escape_controls(&labels[v.label]);
        println!("{name} {label} {}", v.prob_str(&mut digits));
    }
    Ok(())
}

/// A word classifier: one `<label> <prob>` line per `--text`, then per line of `--file`.
fn classify_messages(a: &ClassifyArgs, model: &HostModel) -> Result<()> {
    if !a.names.is_empty() {
        bail!(
            "{} classifies messages: give them with --text \"…\" or --file F",
            a.model.display()
        );
    }
    let mut texts = a.text.clone();
    if let Some(path) = &a.file {
        texts.extend(read_lines(path)?);
    } else if texts.is_empty() {
        bail!("nothing to classify: give --text \"…\" or --file F (one message a line)");
    }
    let labels = model.labels();
    let answers = classify_texts(model, &texts)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (v, _) in answers {
        let mut digits = [0; 6];
        writeln!(out, "{} {}", labels[v.label], v.prob_str(&mut digits))?;
    }
    out.flush()?;
    Ok(())
}

/// The lines of `path` (`-`: standard input), without their line ends.
pub fn read_lines(path: &std::path::Path) -> Result<Vec<String>> {
    let name = path.display();
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut lines = Vec::new();
    for (i, line) in reader.split(b'\n').enumerate() {
        let mut line = line.with_context(|| format!("cannot read {name}"))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let line = String::from_utf8(line)
            .map_err(|_| anyhow::anyhow!("{name}:{}: not UTF-8 text", i + 1))?;
        lines.push(line);
    }
    Ok(lines)
}
