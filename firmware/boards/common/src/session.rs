//! The session's buffers, and the session on a board's model partition.
//!
//! The buffers are the same on every real board: an arena for the largest model the
//! format allows (what the host's board table and the QEMU boards use too), and room for
//! the largest vocabulary. Statics, each handed out once.

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use micrornn::session::{BoardInfo, Buffers, Session};
use micrornn::store::ModelStore;
use static_cell::ConstStaticCell;

use crate::partition::FlashPartition;

/// The network's arena (`i32` words): states and scratch for the largest model the format
/// allows, [`micrornn::session::FULL_ARENA_WORDS`]: the largest encoder–decoder's 18,648
/// words (72.8 KiB; without feature `seq2seq`, the 4 layers of 511 LSTM units' 4,172).
pub const ARENA_LEN: usize = micrornn::session::FULL_ARENA_WORDS;
/// Outputs capacity (`i32`): the largest vocabulary, or labels.
pub const LOGITS_LEN: usize = 1024;

static ARENA: ConstStaticCell<[i32; ARENA_LEN]> = ConstStaticCell::new([0; ARENA_LEN]);
static LOGITS: ConstStaticCell<[i32; LOGITS_LEN]> = ConstStaticCell::new([0; LOGITS_LEN]);

/// The session of board `board` running firmware `firmware`, with its models in
/// `partition`; `None` if called before (the buffers are handed out once).
pub fn session<F: NorFlash>(
    board: &'static str,
    firmware: &'static str,
    partition: FlashPartition<F>,
) -> Option<Session<'static, FlashPartition<F>>> {
    let buffers = Buffers {
        arena: ARENA.try_take()?,
        logits: LOGITS.try_take()?,
    };
    let info = BoardInfo {
        board,
        firmware,
        partition_addr: partition.address(),
        partition_len: partition.capacity() as u32,
    };
    Some(Session::new(ModelStore::open(partition), buffers, info))
}

/// The firmware of a board whose serial port is a UART (blocking reads, bytes buffered
/// while the session computes): the session of [`session`] on `serial`, forever. Its ticks
/// are core cycles at `core_hz` ([`crate::cycles`]); the `reset` command and a second call
/// reset the chip ([`crate::reset`]). Inlined into `main`, so that the chip's start there is
/// compiled with the constants of its configuration (as a call, the code grows by 200 bytes).
#[cfg(feature = "cycle-counter")]
#[inline(always)]
pub fn run<F, IO>(
    board: &'static str,
    firmware: &'static str,
    core_hz: u32,
    partition: FlashPartition<F>,
    serial: &mut IO,
) -> !
where
    F: NorFlash,
    IO: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
{
    let Some(core) = cortex_m::Peripherals::take() else {
        crate::reset() // the core's peripherals are taken once, here
    };
    crate::cycles::start(core.DCB, core.DWT, core.SYST);
    let device = crate::Device::new(crate::cycles::now, core_hz, crate::reset);
    let Some(mut session) = session(board, firmware, partition) else {
        crate::reset()
    };
    session.run(serial, &device)
}
