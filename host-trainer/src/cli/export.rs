//! `micrornn export`.

use anyhow::{bail, Result};
use micrornn_trainer::eval::host_model::{export_checkpoint, HostModel};
use micrornn_trainer::export::atomic::write_atomic;
use micrornn_trainer::export::ihex;

use crate::cli::args::{ExportArgs, ExportFormat};

pub fn run(a: ExportArgs) -> Result<()> {
    // The model file: quantized from a checkpoint, or as it is.
    let (bytes, what) = match HostModel::open(&a.model)? {
        HostModel::Float { ckpt, .. } => (
            export_checkpoint(&ckpt)?,
            format!("int8, best epoch {}", ckpt.best_epoch),
        ),
        HostModel::Quantized { bytes, .. } => (bytes, "int8".to_string()),
    };
    let spec = a.board.map(|b| b.spec());
    if let Some(spec) = &spec {
        spec.check_fits(&bytes)?;
    }
    let out = match (a.format, &spec) {
        (ExportFormat::Mrnn | ExportFormat::Bin, _) => bytes.clone(),
        (ExportFormat::Hex, Some(spec)) => ihex::encode(spec.partition_addr, &bytes).into_bytes(),
        (ExportFormat::Hex, None) => {
            bail!("--format hex needs --board (the hex file carries the partition address)")
        }
    };
    write_atomic(&a.out, &out)?;
    match &spec {
        Some(s) => println!(
            "wrote {} ({} bytes, {what}; model {} of {} partition bytes at {:#010x} on {})",
            a.out.display(),
            out.len(),
            bytes.len(),
            s.partition_len,
            s.partition_addr,
            s.name
        ),
        None => println!("wrote {} ({} bytes, {what})", a.out.display(), out.len()),
    }
    Ok(())
}
