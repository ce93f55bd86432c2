//! `micrornn export`.

use anyhow::Result;
use micrornn_trainer::checkpoint::Checkpoint;
use micrornn_trainer::train::write_model;

use crate::cli::ExportArgs;

pub fn run(a: ExportArgs) -> Result<()> {
    let ck = Checkpoint::read(&a.model)?;
    write_model(&a.out, &ck)?;
    let len = std::fs::metadata(&a.out)?.len();
    println!(
        "wrote {} ({len} bytes, int8, best epoch {})",
        a.out.display(),
        ck.best_epoch
    );
    Ok(())
}
