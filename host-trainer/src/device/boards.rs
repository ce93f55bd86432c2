//! The boards the firmware runs on: where the model partition is, what fits, how the
//! firmware is built and how its owner flashes it.
//!
//! These numbers mirror the firmware: the partition of `firmware/memory/*.x` (QEMU boards)
//! and `firmware/boards/*/memory.x` (real boards), the buffer sizes in the board files,
//! the flash geometry of each board's partition driver. `tests/tests/board_facts.rs`
//! boots each emulated board and checks them against what its `info` reports;
//! `host-trainer/tests/board_memory.rs` reads every board's linker script and checks the
//! partition and flash numbers.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use micrornn::{arena_words, CellKind, Model, Task};

use crate::export::uf2::family;

/// A board the host can build firmware for, export to and emulate: the value of
/// `--board` on the command line.
///
/// Only a name and a table of facts ([`BoardSpec`]) on the host side; the board support
/// itself (serial port, flash, clocks) lives in the firmware's board files, and the
/// statistics source a session reads is `micrornn::session::Platform`, a different thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BoardKind {
    /// QEMU `mps2-an386`: Cortex-M4F, CMSDK UART0.
    #[value(name = "mps2-an386")]
    Mps2An386,
    /// BBC micro:bit v1 (nRF51822 Cortex-M0, 16 KB RAM, 256 KB flash), also QEMU `microbit`.
    #[value(name = "microbit")]
    Microbit,
    /// QEMU `mps2-an505`: Cortex-M33 with the DSP extension, CMSDK UART0.
    #[value(name = "mps2-an505")]
    Mps2An505,
    /// Raspberry Pi Pico: RP2040 (Cortex-M0+), USB serial, UF2 drag-and-drop.
    #[value(name = "pico")]
    Pico,
    /// Raspberry Pi Pico 2: RP2350 (Cortex-M33), USB serial, UF2 drag-and-drop.
    #[value(name = "pico2")]
    Pico2,
    /// BBC micro:bit v2: nRF52833 (Cortex-M4F), UART through the interface chip, .hex.
    #[value(name = "microbit-v2")]
    MicrobitV2,
    /// ST Nucleo-F411RE: STM32F411 (Cortex-M4F), USART2 through the ST-LINK, .bin.
    #[value(name = "nucleo-f411re")]
    NucleoF411re,
}

impl BoardKind {
    /// Every board.
    pub const ALL: [BoardKind; 7] = [
        BoardKind::Mps2An386,
        BoardKind::Microbit,
        BoardKind::Mps2An505,
        BoardKind::Pico,
        BoardKind::Pico2,
        BoardKind::MicrobitV2,
        BoardKind::NucleoF411re,
    ];
}

/// How a board's owner puts a file onto it without a debug probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashFormat {
    /// UF2 dropped onto the boot ROM's USB drive (hold BOOTSEL while plugging in).
    Uf2 {
        /// The drive's name.
        drive: &'static str,
        /// Family ID of the firmware's blocks (and of a file holding firmware and model).
        firmware_family: u32,
        /// Family ID of a model-only file's blocks.
        model_family: u32,
        /// Every touched flash sector is written whole (bytes).
        sector: u32,
        /// Page of the RP2350-E10 block put first in a firmware file (a page of the
        /// program's region that the program does not use), if the chip needs one.
        e10_block: Option<u32>,
    },
    /// Intel HEX dropped onto the interface chip's drive, which erases the whole flash
    /// first: a model and its firmware go in one file.
    Hex {
        /// The drive's name.
        drive: &'static str,
    },
    /// Raw binary dropped onto the ST-LINK's drive, written at the start of flash: a
    /// model and its firmware go in one file.
    Bin {
        /// The drive's name.
        drive: &'static str,
    },
}

impl FlashFormat {
    /// The file extension: `uf2`, `hex` or `bin`.
    pub fn extension(&self) -> &'static str {
        match self {
            FlashFormat::Uf2 { .. } => "uf2",
            FlashFormat::Hex { .. } => "hex",
            FlashFormat::Bin { .. } => "bin",
        }
    }

    /// The name of the USB drive the file is dropped onto.
    pub fn drive(&self) -> &'static str {
        match self {
            FlashFormat::Uf2 { drive, .. }
            | FlashFormat::Hex { drive }
            | FlashFormat::Bin { drive } => drive,
        }
    }
}

/// Facts about a board.
#[derive(Clone, Copy, Debug)]
pub struct BoardSpec {
    /// Name used on the command line and by the firmware.
    pub name: &'static str,
    /// Rust target of its firmware.
    pub target: &'static str,
    /// QEMU machine, for a board QEMU emulates.
    pub machine: Option<&'static str>,
    /// Its firmware's cargo project, from the repository's root.
    pub firmware_dir: &'static str,
    /// The binary to build in it (`None`: its only one).
    pub firmware_bin: Option<&'static str>,
    /// Cargo profile its firmware is built with (`release`, or `release-size` where
    /// flash is tight).
    pub profile: &'static str,
    /// The chip's flash: start address.
    pub flash_addr: u32,
    /// The chip's flash: size in bytes.
    pub flash_len: u32,
    /// Start of the model partition.
    pub partition_addr: u32,
    /// Size of the model partition in bytes.
    pub partition_len: u32,
    /// Erase page of the partition's flash driver (`NorFlash::ERASE_SIZE`).
    pub erase_size: u32,
    /// Write unit of the partition's flash driver (`NorFlash::WRITE_SIZE`).
    pub write_size: u32,
    /// Words (`i32`) of the firmware's network arena (`ARENA_LEN` in its board file).
    pub arena_words: usize,
    /// Outputs the firmware's logits buffer holds (`LOGITS_LEN`).
    pub logits_len: usize,
    /// Whether its firmware reads word classifiers (`micrornn`'s feature `words`; the
    /// micro:bit v1's is built without it, for want of flash).
    pub words: bool,
    /// Whether its firmware runs encoder–decoders (`micrornn`'s feature `seq2seq`: the
    /// `pronounce` command; the micro:bit v1's is built without it, for want of flash).
    pub seq2seq: bool,
    /// How its owner flashes a file without a probe (QEMU-only boards: `None`).
    pub flash_format: Option<FlashFormat>,
    /// The chip's name for `probe-rs --chip` (QEMU-only boards: `None`).
    pub probe_chip: Option<&'static str>,
}

/// The arena of every board but the micro:bit v1: the largest model the format allows
/// (the constant `firmware/src/board/mps2.rs` and `firmware/boards/common/src/session.rs`
/// use).
const FULL_ARENA_WORDS: usize = micrornn::session::FULL_ARENA_WORDS;
/// The micro:bit's arena: one layer of 88 LSTM units (`firmware/src/board/microbit.rs`).
const MICROBIT_ARENA_WORDS: usize = arena_words(CellKind::Lstm, 1, 88);

impl BoardKind {
    /// The board's facts.
    pub fn spec(self) -> BoardSpec {
        match self {
            BoardKind::Mps2An386 => BoardSpec {
                name: "mps2-an386",
                target: "thumbv7em-none-eabihf",
                machine: Some("mps2-an386"),
                firmware_dir: "firmware",
                firmware_bin: Some("firmware"),
                profile: "release",
                flash_addr: 0x0000_0000,
                flash_len: 0x0040_0000,
                partition_addr: 0x0020_0000,
                partition_len: 0x0010_0000,
                erase_size: 4096,
                write_size: 4,
                arena_words: FULL_ARENA_WORDS,
                logits_len: 1024,
                words: true,
                seq2seq: true,
                flash_format: None,
                probe_chip: None,
            },
            BoardKind::Microbit => BoardSpec {
                name: "microbit",
                target: "thumbv6m-none-eabi",
                machine: Some("microbit"),
                firmware_dir: "firmware",
                firmware_bin: Some("firmware"),
                profile: "release-size",
                flash_addr: 0x0000_0000,
                flash_len: 0x0004_0000,
                partition_addr: 0x0001_0000,
                partition_len: 0x0003_0000,
                erase_size: 1024,
                write_size: 4,
                arena_words: MICROBIT_ARENA_WORDS,
                logits_len: 96,
                words: false,
                seq2seq: false,
                flash_format: Some(FlashFormat::Hex { drive: "MICROBIT" }),
                probe_chip: Some("nRF51822_xxAA"),
            },
            // The same machine as the mps2-an386 but for the core, the target and where the
            // program is linked (SSRAM1's secure alias; the partition keeps its plain
            // address: firmware/memory/mps2-an505.x).
            BoardKind::Mps2An505 => BoardSpec {
                name: "mps2-an505",
                target: "thumbv8m.main-none-eabihf",
                machine: Some("mps2-an505"),
                flash_addr: 0x1000_0000,
                ..BoardKind::Mps2An386.spec()
            },
            BoardKind::Pico => BoardSpec {
                name: "pico",
                target: "thumbv6m-none-eabi",
                machine: None,
                firmware_dir: "firmware/boards/pico",
                firmware_bin: None,
                profile: "release",
                flash_addr: 0x1000_0000,
                flash_len: 0x0020_0000,
                partition_addr: 0x1008_0000,
                partition_len: 0x0018_0000,
                erase_size: 4096,
                write_size: 1,
                arena_words: FULL_ARENA_WORDS,
                logits_len: 1024,
                words: true,
                seq2seq: true,
                flash_format: Some(FlashFormat::Uf2 {
                    drive: "RPI-RP2",
                    firmware_family: family::RP2040,
                    model_family: family::RP2040,
                    sector: 4096,
                    e10_block: None,
                }),
                probe_chip: Some("RP2040"),
            },
            BoardKind::Pico2 => BoardSpec {
                name: "pico2",
                target: "thumbv8m.main-none-eabihf",
                machine: None,
                firmware_dir: "firmware/boards/pico2",
                firmware_bin: None,
                profile: "release",
                flash_addr: 0x1000_0000,
                flash_len: 0x0040_0000,
                partition_addr: 0x1010_0000,
                partition_len: 0x0030_0000,
                erase_size: 4096,
                write_size: 1,
                arena_words: FULL_ARENA_WORDS,
                logits_len: 1024,
                words: true,
                seq2seq: true,
                flash_format: Some(FlashFormat::Uf2 {
                    drive: "RP2350",
                    firmware_family: family::RP2350_ARM_S,
                    model_family: family::ABSOLUTE,
                    sector: 4096,
                    // The last page of the program's 1 MiB (memory.x FLASH), not
                    // picotool's default 0x10FF_FF00, which on the Pico 2's 4 MiB chip is
                    // the last page of the model partition.
                    e10_block: Some(0x100F_FF00),
                }),
                probe_chip: Some("RP235x"),
            },
            BoardKind::MicrobitV2 => BoardSpec {
                name: "microbit-v2",
                target: "thumbv7em-none-eabihf",
                machine: None,
                firmware_dir: "firmware/boards/microbit-v2",
                firmware_bin: None,
                profile: "release",
                flash_addr: 0x0000_0000,
                flash_len: 0x0008_0000,
                partition_addr: 0x0004_0000,
                partition_len: 0x0004_0000,
                erase_size: 4096,
                write_size: 4,
                arena_words: FULL_ARENA_WORDS,
                logits_len: 1024,
                words: true,
                seq2seq: true,
                flash_format: Some(FlashFormat::Hex { drive: "MICROBIT" }),
                probe_chip: Some("nRF52833_xxAA"),
            },
            BoardKind::NucleoF411re => BoardSpec {
                name: "nucleo-f411re",
                target: "thumbv7em-none-eabihf",
                machine: None,
                firmware_dir: "firmware/boards/nucleo-f411re",
                firmware_bin: None,
                profile: "release",
                flash_addr: 0x0800_0000,
                flash_len: 0x0008_0000,
                partition_addr: 0x0804_0000,
                partition_len: 0x0004_0000,
                erase_size: 0x0002_0000,
                write_size: 4,
                arena_words: FULL_ARENA_WORDS,
                logits_len: 1024,
                words: true,
                seq2seq: true,
                flash_format: Some(FlashFormat::Bin {
                    drive: "NODE_F411RE",
                }),
                probe_chip: Some("STM32F411RETx"),
            },
        }
    }
}

impl BoardSpec {
    /// Refuses a model file that does not fit this board, naming what does not fit.
    pub fn check_fits(&self, model_file: &[u8]) -> Result<()> {
        let m = Model::load(model_file)?;
        if matches!(m.task(), Task::ClassifyWords { .. }) && !self.words {
            bail!(
                "model does not fit {}: its firmware is built without word classifiers \
                 (no room in its flash)",
                self.name
            );
        }
        if m.task() == Task::Seq2seq && !self.seq2seq {
            bail!(
                "model does not fit {}: its firmware is built without encoder-decoders \
                 (no room in its flash)",
                self.name
            );
        }
        if model_file.len() > self.partition_len as usize {
            bail!(
                "model does not fit {}: the file is {} bytes, the model partition holds {}",
                self.name,
                model_file.len(),
                self.partition_len
            );
        }
        micrornn::session::check_fits(&m, self.arena_words, self.logits_len)
            .with_context(|| format!("model does not fit {}", self.name))?;
        Ok(())
    }

    /// The QEMU machine, or an error for a board QEMU does not emulate.
    pub fn qemu_machine(&self) -> Result<&'static str> {
        match self.machine {
            Some(m) => Ok(m),
            None => bail!(
                "QEMU does not emulate the {} (a real board): build its firmware with \
                 `micrornn firmware --board {}`",
                self.name,
                self.name
            ),
        }
    }
}
