//! `micrornn classify`.

use anyhow::{bail, Result};
use micrornn::format::Task;
use micrornn_trainer::eval::classifier::classify_names;
use micrornn_trainer::eval::host_model::HostModel;

use crate::cli::args::ClassifyArgs;

pub fn run(a: ClassifyArgs) -> Result<()> {
    let model = HostModel::open(&a.model)?;
    if model.task() != Task::Classify {
        bail!(
            "{} generates names; classify needs a classifier (train --task classify)",
            a.model.display()
        );
    }
    let labels = model.labels();
    // Every name is checked before any answer, as on the device.
    let answers = classify_names(&model, &a.names)?;
    for (name, (v, _)) in a.names.iter().zip(answers) {
        let mut digits = [0; 6];
        println!("{name} {} {}", labels[v.label], v.prob_str(&mut digits));
    }
    Ok(())
}
