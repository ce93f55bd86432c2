//! The loadable bytes of a firmware ELF: what a flasher writes to the chip.
//!
//! A minimal reader of 32-bit little-endian ELF files (every Cortex-M target): the file
//! header, then each program header of type `PT_LOAD` whose file size is not zero, its
//! bytes placed at its *physical* address (the load address in flash: initialised data
//! is stored in flash and copied to RAM at start-up, so its virtual address is in RAM).
//! The rest of a segment (memory size past file size: `.bss`) is zeroed by the firmware
//! and not loaded. Sections, symbols and debug information are not read.

use anyhow::{bail, Context, Result};

use super::image::Image;

/// `PT_LOAD`: a segment that is loaded.
const PT_LOAD: u32 = 1;
/// Bytes of an ELF32 file header.
const EHDR_LEN: usize = 52;
/// Bytes of an ELF32 program header.
const PHDR_LEN: usize = 32;
/// `EM_ARM`.
pub const EM_ARM: u16 = 40;

/// A firmware ELF's loadable bytes and header facts.
#[derive(Clone, Debug)]
pub struct Firmware {
    /// The `PT_LOAD` segments' file bytes at their physical addresses.
    pub image: Image,
    /// Entry point (`e_entry`).
    pub entry: u32,
    /// Machine (`e_machine`; 40 = Arm).
    pub machine: u16,
}

/// Reads the loadable segments of the ELF file `bytes`. Refuses anything that is not a
/// 32-bit little-endian executable, truncated headers or segments, and overlapping
/// segments.
pub fn read(bytes: &[u8]) -> Result<Firmware> {
    if bytes.len() < EHDR_LEN || bytes[..4] != *b"\x7fELF" {
        bail!("not an ELF file");
    }
    if bytes[4] != 1 || bytes[5] != 1 {
        bail!("not a 32-bit little-endian ELF file (a Cortex-M firmware is one)");
    }
    let u16_at = |at: usize| -> Result<u16> {
        let b = bytes.get(at..at + 2).context("truncated ELF file")?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| -> Result<u32> {
        let b = bytes.get(at..at + 4).context("truncated ELF file")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let kind = u16_at(16)?;
    if kind != 2 {
        bail!("not an executable ELF file (type {kind}, expected 2)");
    }
    let machine = u16_at(18)?;
    let entry = u32_at(24)?;
    let phoff = u32_at(28)? as usize;
    let phentsize = u16_at(42)? as usize;
    let phnum = u16_at(44)? as usize;
    if phnum > 0 && phentsize < PHDR_LEN {
        bail!("ELF program headers of {phentsize} bytes (expected {PHDR_LEN})");
    }
    let mut image = Image::new();
    for i in 0..phnum {
        let ph = phoff
            .checked_add(i * phentsize)
            .context("ELF program header table out of range")?;
        if u32_at(ph)? != PT_LOAD {
            continue;
        }
        let offset = u32_at(ph + 4)? as usize;
        let paddr = u32_at(ph + 12)?;
        let filesz = u32_at(ph + 16)? as usize;
        if filesz == 0 {
            continue;
        }
        let data = offset
            .checked_add(filesz)
            .and_then(|end| bytes.get(offset..end))
            .with_context(|| {
                format!("ELF segment {i} ({filesz} bytes at file offset {offset}) is truncated")
            })?;
        image
            .add(paddr, data)
            .with_context(|| format!("ELF segment {i} at {paddr:#010x}"))?;
    }
    if image.is_empty() {
        bail!("the ELF file has no loadable bytes");
    }
    Ok(Firmware {
        image,
        entry,
        machine,
    })
}
