//! The device half of micrornn: board start-up, the UART, the model partition, tick and
//! stack measurements, and panic/fault reports. The command loop itself is
//! [`micrornn::session`], shared with the host tests.
//!
//! - [`board`]: one small module per board (UART, tick counter, `run`); the build target
//!   picks the board (`build.rs`), and [`board::current`] is it;
//! - [`partition`]: the model partition, a linker region apart from the program, and
//!   [`flash`]: its NOR flash driver (the nRF NVMC, or RAM with NOR rules);
//! - [`stack`]: stack use from the paint cortex-m-rt lays down before `main`;
//! - [`icount`]: instructions per tick under QEMU's `-icount shift=0`;
//! - [`fault`]: panic, HardFault and unexpected-interrupt handlers (one UART line, then a
//!   semihosting exit with failure);
//! - [`mmio`]: device registers ([`reg!`] declares one with its safety argument).
//!
//! No allocator and no `alloc`: every buffer is a `static` sized by the board.
#![no_std]
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod board;
pub mod fault;
pub mod flash;
pub mod icount;
pub mod mmio;
pub mod partition;
/// Stack use from the paint cortex-m-rt lays down before `main` (shared with the real boards).
pub use micrornn_board::stack;

/// Firmware name and version, as `info` shows it.
pub const FIRMWARE: &str = concat!("micrornn-firmware ", env!("CARGO_PKG_VERSION"));
