//! The model partition: a linker region apart from the program (`MODEL` in `memory/*.x`,
//! bounds `__model_start` and `__model_end`), erased and written through the board's flash
//! driver ([`crate::flash`]). The program puts nothing there; what it holds is read by the
//! model store (`micrornn::store`): an erased or empty partition gives "no valid model".

use core::sync::atomic::{AtomicBool, Ordering};

use crate::board::current;
use crate::flash::Flash;

extern "C" {
    static __model_start: u8;
    static __model_end: u8;
}

/// The partition's driver on this board.
pub type Partition = Flash<current::PartitionMedium>;

/// Start address of the partition.
pub fn start() -> usize {
    core::ptr::addr_of!(__model_start) as usize
}

/// Bytes of the partition.
pub fn len() -> usize {
    core::ptr::addr_of!(__model_end) as usize - start()
}

/// Set once the partition has been handed out.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The partition's driver, the first time; `None` after (one owner only).
pub fn take() -> Option<Partition> {
    // A load and a store with interrupts off: the Cortex-M0 has no atomic swap.
    let taken = cortex_m::interrupt::free(|_| {
        let taken = TAKEN.load(Ordering::Relaxed);
        TAKEN.store(true, Ordering::Relaxed);
        taken
    });
    if taken {
        return None;
    }
    // Safety: memory.x defines [__model_start, __model_end) as the MODEL region, page
    // aligned (its ASSERTs), mapped memory in which the linker places nothing; the board's
    // medium erases and programs it; and TAKEN makes this the only owner.
    Some(unsafe { Flash::new(current::partition_medium(), start(), len()) })
}
