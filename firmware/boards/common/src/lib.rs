//! What every real Cortex-M board of micrornn shares around `micrornn::session`, so that a
//! board crate holds only what its chip needs: clocks, serial port, flash driver, IDs.
//!
//! - [`session`]: the session's buffers (sized for the largest model the format allows, the
//!   same on every board) and the session on a model partition; with the `cycle-counter`
//!   feature, [`run`]: the whole firmware of a board whose serial port is a UART;
//! - [`partition`]: the model partition, the `MODEL` region of the board's `memory.x` on
//!   flash the CPU reads in place (`micrornn::store::Partition`);
//! - [`device`]: the session's `Platform`: ticks from a clock the board picks, stack and RAM
//!   figures, a reset;
//! - [`stack`]: the stack and RAM figures, from cortex-m-rt's stack paint;
//! - [`cycles`] (feature `cycle-counter`): a 64-bit tick count from the core's cycle counter;
//! - [`reset`]: the chip's reset (SYSRESETREQ); feature `panic-reset`: a panic resets.
//!
//! No allocator and no `alloc`: the buffers are statics, handed out once.
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "cycle-counter")]
pub mod cycles;
pub mod device;
pub mod partition;
pub mod reset;
pub mod session;
pub mod stack;

pub use device::Device;
pub use partition::FlashPartition;
pub use reset::reset;
#[cfg(feature = "cycle-counter")]
pub use session::run;
pub use session::session;
