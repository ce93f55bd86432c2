//! `micrornn export`: a model file, or a model as a flash file for a board's partition.

use anyhow::{bail, Result};
use micrornn_trainer::device::boards::{BoardSpec, FlashFormat};
use micrornn_trainer::eval::host_model::{export_checkpoint, HostModel};
use micrornn_trainer::eval::seq2seq::Seq2seqModel;
use micrornn_trainer::export::atomic::write_atomic;
use micrornn_trainer::export::board_file::{model_file, FileFormat};
use micrornn_trainer::train::seq2seq_ckpt::is_seq2seq_checkpoint;

use crate::cli::args::{ExportArgs, ExportFormat};

pub fn run(a: ExportArgs) -> Result<()> {
    if a.format == Some(ExportFormat::Safetensors) {
        return safetensors(&a);
    }
    // The model file: quantized from a checkpoint, or as it is.
    let (bytes, what) = if is_seq2seq_checkpoint_file(&a.model) {
        let model = Seq2seqModel::open(&a.model)?;
        (
            model.model_bytes()?.into_owned(),
            "int8 encoder–decoder, the checkpoint's best epoch".to_string(),
        )
    } else {
        match HostModel::open(&a.model)? {
            HostModel::Float { ckpt, .. } => (
                export_checkpoint(&ckpt)?,
                format!("int8, best epoch {}", ckpt.best_epoch),
            ),
            HostModel::Quantized { bytes, .. } => (bytes, "int8".to_string()),
        }
    };
    let Some(spec) = a.board.map(|b| b.spec()) else {
        if matches!(a.format, Some(f) if f != ExportFormat::Mrnn) {
            bail!("--format uf2, hex and bin need --board (the file is for its model partition)");
        }
        write_atomic(&a.out, &bytes)?;
        println!("wrote {} ({} bytes, {what})", a.out.display(), bytes.len());
        return Ok(());
    };
    let format = match a.format {
        Some(ExportFormat::Mrnn) => None,
        Some(ExportFormat::Uf2) => Some(FileFormat::Uf2),
        Some(ExportFormat::Hex) => Some(FileFormat::Hex),
        Some(ExportFormat::Bin) => Some(FileFormat::Bin),
        Some(ExportFormat::Safetensors) => bail!("--format safetensors takes no --board"),
        None => Some(FileFormat::native(&spec)),
    };
    let Some(format) = format else {
        spec.check_fits(&bytes)?;
        write_atomic(&a.out, &bytes)?;
        println!(
            "wrote {} ({} bytes, {what}; fits {})",
            a.out.display(),
            bytes.len(),
            spec.name
        );
        return Ok(());
    };
    let (out, placed) = model_file(&spec, &bytes, format)?;
    write_atomic(&a.out, &out)?;
    println!(
        "wrote {} ({} bytes, {}; model {} bytes, {what}, in slot {} of the {} partition at {:#010x}, {} bytes)",
        a.out.display(),
        out.len(),
        format.extension(),
        bytes.len(),
        placed.slot.name(),
        spec.name,
        spec.partition_addr,
        spec.partition_len
    );
    print_how(
        &spec,
        format,
        &a.out.display().to_string(),
        &a.model.display().to_string(),
    );
    Ok(())
}

/// A checkpoint's float weights as a PyTorch state_dict.
fn safetensors(a: &ExportArgs) -> Result<()> {
    if a.board.is_some() {
        bail!("--format safetensors is for PyTorch, not a board: drop --board");
    }
    let HostModel::Float { ckpt, .. } = HostModel::open(&a.model)? else {
        bail!(
            "--format safetensors needs a float checkpoint (.ckpt); {} is an int8 model file",
            a.model.display()
        );
    };
    let bytes = micrornn_trainer::torch::export::to_safetensors(&ckpt);
    write_atomic(&a.out, &bytes)?;
    let weights = match ckpt.best_epoch {
        0 => "the checkpoint's weights".to_string(),
        n => format!("the weights of epoch {n}, the best"),
    };
    println!(
        "wrote {} ({} bytes: a float32 state_dict of {weights}; load it in PyTorch as docs/pytorch.md shows)",
        a.out.display(),
        bytes.len(),
    );
    Ok(())
}

/// How to put the file on the board.
fn print_how(spec: &BoardSpec, format: FileFormat, file: &str, model: &str) {
    let Some(flash) = spec.flash_format else {
        return; // emulated only: `micrornn emulate` takes the model file itself
    };
    match (flash, format) {
        (FlashFormat::Uf2 { drive, .. }, FileFormat::Uf2) => println!(
            "next: hold BOOTSEL while you plug the {} in; copy {file} onto the {drive} drive; \
             the board restarts with the model (if the drive stays, unplug and plug it back in)",
            spec.name
        ),
        (FlashFormat::Hex { drive }, FileFormat::Hex) => println!(
            "note: not for the {drive} drive, which erases the whole flash (the firmware too) \
             before it writes a .hex; for drag-and-drop: micrornn firmware --board {} --model {model}",
            spec.name
        ),
        (FlashFormat::Bin { drive }, FileFormat::Bin) => println!(
            "note: not for the {drive} drive: a .bin has no address and the drive writes it at \
             the start of flash, over the firmware; for drag-and-drop: \
             micrornn firmware --board {} --model {model}",
            spec.name
        ),
        _ => {}
    }
    if let Some(chip) = spec.probe_chip {
        match format {
            FileFormat::Uf2 => {}
            FileFormat::Hex => println!(
                "with a debug probe: probe-rs download --chip {chip} --binary-format hex {file}"
            ),
            FileFormat::Bin => println!(
                "with a debug probe: probe-rs download --chip {chip} --binary-format bin \
                 --base-address {:#010x} {file}",
                spec.partition_addr
            ),
        }
    }
    let model = if model.ends_with(".mrnn") {
        model
    } else {
        "M.mrnn"
    };
    println!("or over the serial line, the firmware running: micrornn device upload {model}");
}

/// Whether `path` starts as an encoder–decoder checkpoint does (its own magic); an
/// unreadable file is left for the model reader to name.
fn is_seq2seq_checkpoint_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && is_seq2seq_checkpoint(&head)
}
