//! The boards. The build target picks one (`build.rs` sets `cfg(board = …)`), and
//! [`current`] is it.
//!
//! A board module is small and does only board things. Each has the same items:
//! `NAME`; the session's buffer sizes `ARENA_LEN`, `LOGITS_LEN`; `TICKS_PER_SECOND` and
//! `INSTRUCTIONS_PER_TICK` (under QEMU `-icount shift=0`); its UART's bytes —
//! `init_uart()`, `rx_ready()`, `take_byte()`, `send_byte(b)`, `wait_tx_free()`,
//! `wait_for_input()` (sleeps until a byte has arrived) and `wait_for_input_or_tick()`
//! (also wakes within a second) — which [`Uart`] turns into embedded-io; `start_ticks()`
//! and `ticks()`; `on_interrupt(irqn)` for its interrupts; `PartitionMedium` and
//! `partition_medium()`, how its model partition is erased and written
//! ([`crate::flash`]); and `run(buffers)`, which sets up the UART and ticks, takes the
//! model partition and serves the session forever.
//!
//! | board | module | target |
//! |---|---|---|
//! | `mps2-an386` | `mps2` | `thumbv7em-none-eabihf` |
//! | `mps2-an505` | `mps2` | `thumbv8m.main-none-eabihf` |
//! | `microbit` | `microbit` | `thumbv6m-none-eabi` |

#[cfg(board = "microbit")]
pub mod microbit;
#[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
pub mod mps2;

#[cfg(board = "microbit")]
pub use microbit as current;
#[cfg(any(board = "mps2-an386", board = "mps2-an505"))]
pub use mps2 as current;

use micrornn::session::{BoardInfo, Buffers, Session};
use micrornn::store::ModelStore;

use crate::{icount, partition, stack};

/// The session's view of the board: the tick counter, the stack and RAM figures, reset.
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

impl micrornn::session::Platform for Device {
    fn ticks(&self) -> u64 {
        current::ticks()
    }
    fn ticks_per_second(&self) -> u32 {
        current::TICKS_PER_SECOND
    }
    fn instructions_per_tick(&self) -> u32 {
        self.instructions_per_tick
    }
    fn stack_peak(&self) -> usize {
        stack::peak()
    }
    fn stack_size(&self) -> usize {
        stack::size()
    }
    fn static_ram(&self) -> usize {
        stack::static_ram()
    }
    /// The core's system reset (SYSRESETREQ): the chip starts again from its reset vector,
    /// the model partition as it was (QEMU resets the machine the same way).
    fn reset(&self) {
        cortex_m::peripheral::SCB::sys_reset()
    }
}

/// Serves the session on `uart` with the model store in the partition: the end of every
/// board's `run`. Between commands the core sleeps until a byte arrives; during an upload
/// it also wakes up within a second, so that the session sees the upload's timeout pass.
/// (Polling instead would keep QEMU's UART waiting for its lock: several times slower.)
pub fn serve<IO>(uart: &mut IO, device: &Device, buffers: Buffers<'static>) -> !
where
    IO: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
{
    let info = BoardInfo {
        board: current::NAME,
        firmware: crate::FIRMWARE,
        partition_addr: partition::start() as u32,
        partition_len: partition::len() as u32,
    };
    let Some(flash) = partition::take() else {
        crate::fault::fail("the model partition is taken twice")
    };
    let mut session = Session::new(ModelStore::open(flash), buffers, info);
    session.banner(uart);
    loop {
        if session.uploading() {
            current::wait_for_input_or_tick();
        } else {
            current::wait_for_input();
        }
        session.poll(uart, device);
    }
}

// ---- the serial line ----

/// The board's UART (QEMU: `-serial stdio`) as embedded-io, over its byte functions.
#[derive(Debug)]
pub struct Uart(());

impl Uart {
    /// Enables transmit and receive at 115200 baud. Safe to call again (the panic report does).
    pub fn init() -> Uart {
        current::init_uart();
        Uart(())
    }
}

impl embedded_io::ErrorType for Uart {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Uart {
    /// Sleeps until a byte arrives, then takes what is there (at most `buf.len()`).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        current::wait_for_input();
        let mut n = 0;
        for slot in buf.iter_mut() {
            if !current::rx_ready() {
                break;
            }
            *slot = current::take_byte();
            n += 1;
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(current::rx_ready())
    }
}

impl embedded_io::Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for &b in buf {
            current::send_byte(b);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        current::wait_tx_free();
        Ok(())
    }
}

// ---- interrupts ----

/// A device interrupt number, for the NVIC.
#[derive(Clone, Copy, Debug)]
struct Irq(u16);

// Safety: `number` returns the interrupt number it was made with, which the boards take
// from their datasheets (each below its NVIC's number of lines).
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

/// Sleeps until `ready()` holds or an interrupt arrives (the board's tick counter has one
/// at least every second), as [`sleep_until`] without the loop.
fn sleep_once(ready: impl Fn() -> bool, arm: impl Fn()) {
    cortex_m::interrupt::free(|_| {
        arm();
        if !ready() {
            cortex_m::asm::wfi();
        }
    });
}
