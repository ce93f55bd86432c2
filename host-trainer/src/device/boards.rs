//! The boards the firmware runs on: where the model partition is and what fits.
//!
//! These numbers mirror `firmware/memory/*.x` (the partition) and the buffer sizes in
//! the firmware's board files (the capacity); `tests/tests/board_facts.rs` boots each
//! emulated board and checks them against what its `info` reports.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use micrornn::Model;

/// A board the host can build firmware for, export to and emulate: the value of
/// `--board` on the command line.
///
/// Only a name and a table of facts ([`BoardSpec`]) on the host side; the board support
/// itself (serial port, flash, clocks) lives in the firmware's board files, and the
/// statistics source a session reads is `micrornn::session::Board`, a different thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BoardKind {
    /// QEMU `mps2-an386`: Cortex-M4F, CMSDK UART0.
    #[value(name = "mps2-an386")]
    Mps2An386,
    /// QEMU `microbit`: nRF51822 Cortex-M0, 16 KB RAM, 256 KB flash.
    #[value(name = "microbit")]
    Microbit,
    /// QEMU `mps2-an505`: Cortex-M33 with the DSP extension, CMSDK UART0.
    #[value(name = "mps2-an505")]
    Mps2An505,
}

/// Facts about a board.
#[derive(Clone, Copy, Debug)]
pub struct BoardSpec {
    /// Name used on the command line and by the firmware.
    pub name: &'static str,
    /// Rust target of its firmware.
    pub target: &'static str,
    /// QEMU machine.
    pub machine: &'static str,
    /// Cargo profile its firmware is built with (`release`, or `release-size` where
    /// flash is tight).
    pub profile: &'static str,
    /// Start of the model partition.
    pub partition_addr: u32,
    /// Size of the model partition in bytes.
    pub partition_len: u32,
    /// Words (`i32`) of the firmware's network arena (`ARENA_LEN` in its board file).
    pub arena_words: usize,
    /// Outputs the firmware's logits buffer holds (`LOGITS_LEN`).
    pub logits_len: usize,
}

impl BoardKind {
    /// The board's facts.
    pub fn spec(self) -> BoardSpec {
        match self {
            BoardKind::Mps2An386 => BoardSpec {
                name: "mps2-an386",
                target: "thumbv7em-none-eabihf",
                machine: "mps2-an386",
                profile: "release",
                partition_addr: 0x0020_0000,
                partition_len: 0x0010_0000,
                arena_words: 6656,
                logits_len: 1024,
            },
            BoardKind::Microbit => BoardSpec {
                name: "microbit",
                target: "thumbv6m-none-eabi",
                machine: "microbit",
                profile: "release-size",
                partition_addr: 0x0001_0000,
                partition_len: 0x0003_0000,
                arena_words: 256,
                logits_len: 96,
            },
            BoardKind::Mps2An505 => BoardSpec {
                name: "mps2-an505",
                target: "thumbv8m.main-none-eabihf",
                machine: "mps2-an505",
                profile: "release",
                partition_addr: 0x0020_0000,
                partition_len: 0x0010_0000,
                arena_words: 6656,
                logits_len: 1024,
            },
        }
    }
}

impl BoardSpec {
    /// Refuses a model file that does not fit this board, naming what does not fit.
    pub fn check_fits(&self, model_file: &[u8]) -> Result<()> {
        let m = Model::load(model_file)?;
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
}
