//! UF2, the file the Raspberry Pi Picos' boot ROM takes on its USB drive
//! (<https://github.com/microsoft/uf2>).
//!
//! A UF2 file is a run of 512-byte blocks, each self-contained: a 32-byte header
//! (magic numbers, flags, target address, payload size, block number, block count, family
//! ID), 476 bytes of data of which the first `payload size` count, and an end magic. All
//! fields are little-endian. This writer puts 256 bytes (one flash page) in each block,
//! sets the family-ID flag, numbers the blocks 0..n in address order and gives each the
//! count n.
//!
//! Two boot-ROM facts shape the output:
//!
//! - **RP2040**: its boot ROM decides which flash sector to erase from the *block number*
//!   (block k belongs to erase group k·256/4096), not from the address. So a file must
//!   cover whole 4 KiB sectors, each sector's 16 blocks numbered consecutively from a
//!   multiple of 16: [`Options::sector`] pads every touched sector to a whole one (with
//!   0xFF, erased flash). Sectors need not be adjacent (the block numbers are).
//! - **RP2350, erratum RP2350-E10** (drag-and-drop misplaces a UF2 when the flash holds a
//!   partition table): picotool puts one extra block first, of the `absolute` family, 256
//!   bytes of 0xEF at an unused flash page, block 0 of 2, tagged with the extension
//!   `RP2_IGNORE_BLOCK` so that boot ROMs without the erratum skip it
//!   ([`Options::e10_block`]). A boot ROM with the erratum writes it, so it must go to a
//!   page nothing else uses: the writer refuses one inside a sector of the image.

use anyhow::{bail, Result};

use super::image::Image;

/// First magic number, "UF2\n".
pub const MAGIC_START0: u32 = 0x0A32_4655;
/// Second magic number.
pub const MAGIC_START1: u32 = 0x9E5D_5157;
/// Magic number at the end of every block.
pub const MAGIC_END: u32 = 0x0AB1_6F30;
/// Flag: the header's last word is a family ID (not a file size).
pub const FLAG_FAMILY_ID_PRESENT: u32 = 0x0000_2000;
/// Flag: extension tags follow the payload.
pub const FLAG_EXTENSION_TAGS_PRESENT: u32 = 0x0000_8000;
/// Bytes of a block.
pub const BLOCK_LEN: usize = 512;
/// Payload bytes per block (one flash page of the Picos).
pub const PAYLOAD: usize = 256;
/// The extension tag (size 4, type 0x9957E3) asking an RP2350 boot ROM to skip a block.
pub const TAG_RP2_IGNORE_BLOCK: u32 = 0x9957_E304;

/// UF2 family IDs (microsoft/uf2 `utils/uf2families.json`, RP2350 datasheet).
pub mod family {
    /// Raspberry Pi RP2040.
    pub const RP2040: u32 = 0xE48B_FF56;
    /// Raspberry Pi RP2040/RP2350 "absolute": written at its addresses as they are.
    pub const ABSOLUTE: u32 = 0xE48B_FF57;
    /// Raspberry Pi RP2350 "data" (for data partitions of a partition table).
    pub const DATA: u32 = 0xE48B_FF58;
    /// Raspberry Pi RP2350, Arm cores, secure.
    pub const RP2350_ARM_S: u32 = 0xE48B_FF59;
}

/// Where picotool puts the RP2350-E10 block by default: the last page of the 16 MiB
/// flash window (on a smaller flash chip it wraps to the chip's last page).
pub const PICOTOOL_E10_ADDR: u32 = 0x10FF_FF00;

/// How to write a UF2 file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Family ID of every block (but the E10 block).
    pub family: u32,
    /// Pad every touched flash sector of this many bytes to a whole one (0xFF), e.g.
    /// 4096 for the RP2040's boot ROM; `None`: only whole 256-byte pages.
    pub sector: Option<u32>,
    /// Put the RP2350-E10 block first, at this page address.
    pub e10_block: Option<u32>,
}

/// The UF2 file holding `image`. Refuses an empty image and an E10 block that is not a
/// page address or lies in a sector (page, if no sector) of the image.
pub fn encode(image: &Image, opts: &Options) -> Result<Vec<u8>> {
    if image.is_empty() {
        bail!("nothing to write: the image is empty");
    }
    let unit = opts.sector.unwrap_or(PAYLOAD as u32).max(PAYLOAD as u32);
    if unit % PAYLOAD as u32 != 0 {
        bail!("a UF2 sector must be a whole number of {PAYLOAD}-byte pages, not {unit}");
    }
    let whole = image.padded(unit, 0xFF)?;
    let blocks = whole.len() / PAYLOAD;
    let Ok(count) = u32::try_from(blocks) else {
        bail!("the image needs {blocks} UF2 blocks, more than a UF2 file can count");
    };
    let mut out = Vec::with_capacity((blocks + 1) * BLOCK_LEN);
    if let Some(at) = opts.e10_block {
        if at % PAYLOAD as u32 != 0 {
            bail!("the RP2350-E10 block's address {at:#010x} is not a page address");
        }
        if whole.byte(at & !(unit - 1)).is_some() {
            bail!("the RP2350-E10 block's page {at:#010x} lies in a flash sector the image writes");
        }
        let mut data = [0xEF; PAYLOAD + 4];
        data[PAYLOAD..].copy_from_slice(&TAG_RP2_IGNORE_BLOCK.to_le_bytes());
        let flags = FLAG_FAMILY_ID_PRESENT | FLAG_EXTENSION_TAGS_PRESENT;
        out.extend_from_slice(&block(flags, at, 0, 2, family::ABSOLUTE, &data));
    }
    let mut number = 0u32;
    for (addr, bytes) in whole.segments() {
        for (i, page) in bytes.chunks(PAYLOAD).enumerate() {
            let at = addr + (i * PAYLOAD) as u32;
            out.extend_from_slice(&block(
                FLAG_FAMILY_ID_PRESENT,
                at,
                number,
                count,
                opts.family,
                page,
            ));
            number += 1;
        }
    }
    Ok(out)
}

/// One block: header, `data` (the payload, then any extension tags) zero-padded to 476
/// bytes, end magic. The payload size is [`PAYLOAD`] (`data` is one page, or one page
/// and its tags).
fn block(flags: u32, addr: u32, number: u32, count: u32, family: u32, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(BLOCK_LEN);
    for word in [
        MAGIC_START0,
        MAGIC_START1,
        flags,
        addr,
        PAYLOAD as u32,
        number,
        count,
        family,
    ] {
        b.extend_from_slice(&word.to_le_bytes());
    }
    b.extend_from_slice(data);
    b.resize(BLOCK_LEN - 4, 0);
    b.extend_from_slice(&MAGIC_END.to_le_bytes());
    b
}
