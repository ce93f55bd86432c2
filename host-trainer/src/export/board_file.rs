//! The files a board's owner puts on the board: a model for its partition, its
//! firmware, or both in one file, in the board's own format (UF2, Intel HEX, raw binary).
//!
//! In: a board's facts ([`BoardSpec`]), a model file and/or a firmware ELF. Out: the
//! bytes of the file. The model goes in as the board's model store would leave it
//! ([`super::partition`]); the firmware as its ELF's loadable segments ([`super::elf`]),
//! checked to lie in the chip's flash and clear of the model partition.

use anyhow::{bail, Context, Result};

use super::image::Image;
use super::partition::{model_image, ModelImage};
use super::{bin, elf, ihex, uf2};
use crate::device::boards::{BoardSpec, FlashFormat};

/// A flash file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// UF2 (the Picos' boot ROM).
    Uf2,
    /// Intel HEX (the micro:bits' drive, probe-rs, pyOCD, QEMU's loader).
    Hex,
    /// Raw binary from a base address (the Nucleo's drive, at the flash start).
    Bin,
}

impl FileFormat {
    /// The board's own drag-and-drop format (Intel HEX for a board QEMU only emulates).
    pub fn native(spec: &BoardSpec) -> FileFormat {
        match spec.flash_format {
            Some(FlashFormat::Uf2 { .. }) => FileFormat::Uf2,
            Some(FlashFormat::Bin { .. }) => FileFormat::Bin,
            Some(FlashFormat::Hex { .. }) | None => FileFormat::Hex,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Uf2 => "uf2",
            FileFormat::Hex => "hex",
            FileFormat::Bin => "bin",
        }
    }
}

/// A model file for `spec`'s partition in `format`: its bytes and where the model went.
/// A `.bin` starts at the partition's address.
pub fn model_file(
    spec: &BoardSpec,
    model: &[u8],
    format: FileFormat,
) -> Result<(Vec<u8>, ModelImage)> {
    let placed = model_image(spec, model)?;
    let bytes = match format {
        FileFormat::Uf2 => {
            let Some(FlashFormat::Uf2 {
                model_family,
                sector,
                ..
            }) = spec.flash_format
            else {
                bail!(
                    "--format uf2 is for boards whose boot ROM reads UF2 (pico, pico2); the {} takes .{}",
                    spec.name,
                    FileFormat::native(spec).extension()
                );
            };
            let opts = uf2::Options {
                family: model_family,
                sector: Some(sector),
                e10_block: None,
            };
            uf2::encode(&placed.image, &opts)?
        }
        FileFormat::Hex => ihex::encode_image(&placed.image).into_bytes(),
        FileFormat::Bin => bin::flatten(&placed.image, spec.partition_addr)?,
    };
    Ok((bytes, placed))
}

/// A firmware (and, with `model`, its model) ready to flash.
#[derive(Clone, Debug)]
pub struct FirmwareFile {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: FileFormat,
    /// Bytes of firmware it writes (the ELF's loadable bytes).
    pub firmware_len: usize,
    /// The model placed with it.
    pub model: Option<ModelImage>,
}

/// The firmware ELF `elf_file` (and `model`, if given) as the one file `spec`'s owner drops
/// onto the board: UF2 (firmware family, E10 block first where the chip needs one), Intel
/// HEX, or a `.bin` from the flash start. Refuses firmware outside the chip's flash, over
/// the model partition, or over the E10 block's page.
pub fn firmware_file(
    spec: &BoardSpec,
    elf_file: &[u8],
    model: Option<&[u8]>,
) -> Result<FirmwareFile> {
    let fw = elf::read(elf_file)?;
    check_placement(spec, &fw.image)?;
    let mut image = fw.image.clone();
    let placed = match model {
        Some(m) => {
            let placed = model_image(spec, m)?;
            image
                .merge(&placed.image)
                .context("the model's pages overlap the firmware")?;
            Some(placed)
        }
        None => None,
    };
    let format = FileFormat::native(spec);
    let bytes = match spec.flash_format {
        Some(FlashFormat::Uf2 {
            firmware_family,
            sector,
            e10_block,
            ..
        }) => uf2::encode(
            &image,
            &uf2::Options {
                family: firmware_family,
                sector: Some(sector),
                e10_block,
            },
        )?,
        Some(FlashFormat::Bin { .. }) => bin::flatten(&image, spec.flash_addr)?,
        Some(FlashFormat::Hex { .. }) | None => ihex::encode_image(&image).into_bytes(),
    };
    Ok(FirmwareFile {
        bytes,
        format,
        firmware_len: fw.image.len(),
        model: placed,
    })
}

/// Checks that the firmware's bytes lie in the chip's flash, outside the model partition
/// and outside the sector of the board's RP2350-E10 block.
pub fn check_placement(spec: &BoardSpec, firmware: &Image) -> Result<()> {
    let flash = (
        u64::from(spec.flash_addr),
        u64::from(spec.flash_addr) + u64::from(spec.flash_len),
    );
    let part = (
        u64::from(spec.partition_addr),
        u64::from(spec.partition_addr) + u64::from(spec.partition_len),
    );
    let overlaps = |a: u64, e: u64, (lo, hi): (u64, u64)| a < hi && lo < e;
    for (addr, bytes) in firmware.segments() {
        let (a, e) = (u64::from(addr), u64::from(addr) + bytes.len() as u64);
        if a < flash.0 || e > flash.1 {
            bail!(
                "the firmware writes {a:#010x}..{e:#010x}, outside the {}'s flash ({:#010x}..{:#010x})",
                spec.name,
                flash.0,
                flash.1
            );
        }
        if overlaps(a, e, part) {
            bail!(
                "the firmware writes {a:#010x}..{e:#010x}, inside the model partition \
                 ({:#010x}..{:#010x}): it has outgrown its flash region",
                part.0,
                part.1
            );
        }
        if let Some(FlashFormat::Uf2 {
            sector,
            e10_block: Some(page),
            ..
        }) = spec.flash_format
        {
            let lo = u64::from(page) / u64::from(sector) * u64::from(sector);
            if overlaps(a, e, (lo, lo + u64::from(sector))) {
                bail!(
                    "the firmware writes {a:#010x}..{e:#010x}, over the sector of the UF2's \
                     RP2350-E10 block at {page:#010x}: it has outgrown its flash region"
                );
            }
        }
    }
    Ok(())
}
