//! `micrornn firmware`: build a board's firmware, write the file its owner drops onto the
//! board (with a model, if given) and the ELF for probe-rs, and say what to do next.

use anyhow::{Context, Result};
use micrornn_trainer::device::boards::{BoardSpec, FlashFormat};
use micrornn_trainer::device::build::build;
use micrornn_trainer::export::atomic::write_atomic;
use micrornn_trainer::export::board_file::firmware_file;

use crate::cli::args::FirmwareArgs;

pub fn run(a: FirmwareArgs) -> Result<()> {
    let spec = a.board.spec();
    let model = match &a.model {
        Some(m) => {
            let bytes = std::fs::read(m).with_context(|| format!("cannot read {}", m.display()))?;
            spec.check_fits(&bytes)
                .with_context(|| m.display().to_string())?;
            Some(bytes)
        }
        None => None,
    };
    eprintln!(
        "building the {} firmware ({}, {}, in {})",
        spec.name, spec.target, spec.profile, spec.firmware_dir
    );
    let built = build(&spec)?;
    let elf = std::fs::read(&built).with_context(|| format!("cannot read {}", built.display()))?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let stem = format!("micrornn-{}", spec.name);
    let elf_out = a.out.join(format!("{stem}.elf"));
    write_atomic(&elf_out, &elf)?;

    let file = firmware_file(&spec, &elf, model.as_deref())?;
    let name = match &a.model {
        Some(m) => format!(
            "{stem}+{}.{}",
            m.file_stem()
                .map_or("model".into(), |s| s.to_string_lossy()),
            file.format.extension()
        ),
        None => format!("{stem}.{}", file.format.extension()),
    };
    let out = a.out.join(name);
    if spec.flash_format.is_some() {
        write_atomic(&out, &file.bytes)?;
    }
    println!(
        "wrote {} (the ELF, for probe-rs; {} bytes of firmware)",
        elf_out.display(),
        file.firmware_len
    );
    if spec.flash_format.is_some() {
        let with = match &file.model {
            Some(m) => format!(
                " and the model ({} bytes, slot {})",
                m.model_len,
                m.slot.name()
            ),
            None => String::new(),
        };
        println!(
            "wrote {} ({} bytes: the firmware{with})",
            out.display(),
            file.bytes.len()
        );
    }
    let model_arg = a.model.as_ref().map(|m| m.display().to_string());
    print_next(
        &spec,
        &out.display().to_string(),
        &elf_out.display().to_string(),
        model_arg.as_deref(),
    );
    Ok(())
}

/// What to do with the files.
fn print_next(spec: &BoardSpec, file: &str, elf: &str, model: Option<&str>) {
    let with_model = model.is_some();
    let name = spec.name;
    println!("next:");
    let Some(flash) = spec.flash_format else {
        let model = model.unwrap_or("M.mrnn");
        println!("  micrornn emulate --board {name} --elf {elf} --model {model}");
        return;
    };
    let drive = flash.drive();
    match flash {
        FlashFormat::Uf2 { .. } => {
            println!("  1. hold the BOOTSEL button while you plug the {name} into USB: a drive named {drive} appears");
            println!("  2. copy {file} onto {drive}; the board restarts running micrornn");
        }
        FlashFormat::Hex { .. } => {
            println!("  1. plug the micro:bit into USB: a drive named {drive} appears");
            println!("  2. copy {file} onto {drive} (its interface chip erases the whole flash, then writes this file); the board restarts running micrornn");
        }
        FlashFormat::Bin { .. } => {
            println!("  1. plug the Nucleo's ST-LINK USB port into the computer: a drive named {drive} appears");
            println!("  2. copy {file} onto {drive} (written from the start of flash); the board restarts running micrornn");
        }
    }
    if let Some(chip) = spec.probe_chip {
        match model {
            Some(m) => println!(
                "     (or with a debug probe: probe-rs run --chip {chip} {elf}, the firmware \
                 only; then micrornn device upload {m})"
            ),
            None => println!("     (or with a debug probe: probe-rs run --chip {chip} {elf})"),
        }
    }
    println!("  3. micrornn ports                      # the board's serial port");
    if !with_model {
        println!(
            "  4. micrornn device upload M.mrnn       # put a model in its flash over USB serial"
        );
    }
    println!(
        "  {}. micrornn device gen 5               # names from the board",
        if with_model { 4 } else { 5 }
    );
}
