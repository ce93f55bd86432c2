//! The boards. The build target picks one (`build.rs` sets `cfg(board = …)`), and
//! [`current`] is it.
//!
//! A board module is small and does only board things. Each has the same items:
//! `NAME`; the session's buffer sizes `ARENA_LEN`, `LOGITS_LEN`;
//! `INSTRUCTIONS_PER_TICK` (under QEMU `-icount shift=0`); a `Uart` with `init()` and the
//! `embedded_io` traits; `start_ticks()` and `ticks()`; `on_interrupt(irqn)` for its
//! interrupts; and `run(buffers)`, which sets up the UART and ticks, takes the model
//! partition and serves the session forever.

#[cfg(board = "microbit")]
pub mod microbit;
#[cfg(board = "mps2-an386")]
pub mod mps2_an386;

#[cfg(board = "microbit")]
pub use microbit as current;
#[cfg(board = "mps2-an386")]
pub use mps2_an386 as current;

use micrornn::session::{BoardInfo, Buffers, Session};

use crate::{icount, partition, stack};

/// The session's view of the board: the tick counter and the stack and RAM figures.
#[derive(Debug)]
pub struct Device {
    instructions_per_tick: u32,
}

impl Device {
    /// Starts the tick counter and checks whether the emulator counts instructions.
    pub fn start() -> Device {
        current::start_ticks();
        Device {
            instructions_per_tick: icount::detect(current::ticks, current::INSTRUCTIONS_PER_TICK),
        }
    }
}

impl micrornn::session::Board for Device {
    fn ticks(&self) -> u64 {
        current::ticks()
    }
    fn instructions_per_tick(&self) -> u32 {
        self.instructions_per_tick
    }
    fn stack_peak(&self) -> usize {
        stack::stack_peak()
    }
    fn stack_size(&self) -> usize {
        stack::stack_size()
    }
    fn static_ram(&self) -> usize {
        stack::static_ram()
    }
}

/// Serves the session on `uart` with the model partition: the end of every board's `run`.
pub fn serve<IO>(uart: &mut IO, device: &Device, buffers: Buffers<'static>) -> !
where
    IO: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
{
    let model = partition::bytes();
    let info = BoardInfo {
        board: current::NAME,
        firmware: crate::FIRMWARE,
        partition_addr: model.as_ptr() as u32,
        partition_len: model.len() as u32,
    };
    Session::new(model, buffers, info).run(uart, device)
}

// ---- interrupts ----

/// A device interrupt number, for the NVIC.
#[derive(Clone, Copy, Debug)]
struct Irq(u16);

// Safety: `number` returns the interrupt number it was made with, which the boards take
// from their datasheets (all below the NVIC's 32 lines on both boards).
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// Lets device interrupt `irq` through the NVIC (its handler: the board's `on_interrupt`).
fn unmask(irq: u16) {
    // Safety: no critical section in this firmware relies on a device interrupt staying
    // masked; critical sections disable interrupts globally (PRIMASK).
    unsafe { cortex_m::peripheral::NVIC::unmask(Irq(irq)) }
}

/// Sleeps until `ready()` holds, without spinning: `arm` enables a device interrupt that
/// fires when it does (the board's `on_interrupt` disarms it again). Arming before
/// checking, with interrupts masked, means no event is missed between the two: WFI wakes
/// on a pending interrupt even while PRIMASK masks it, and the handler runs after.
fn sleep_until(ready: impl Fn() -> bool, arm: impl Fn()) {
    loop {
        let done = cortex_m::interrupt::free(|_| {
            arm();
            if ready() {
                return true;
            }
            cortex_m::asm::wfi();
            false
        });
        if done {
            return;
        }
    }
}
