//! The model partition: a window of the board's flash that the CPU also reads in place
//! (on-chip flash, or a QSPI chip behind execute-in-place), as `micrornn::store::Partition`.
//!
//! The board's `memory.x` places it: the region `MODEL`, bounds `__model_start` and
//! `__model_end`, in which the linker puts nothing. Offsets here are within the partition;
//! the chip's flash driver (any `embedded-storage` `NorFlash` whose offset 0 the CPU reads
//! at a known address) erases and programs. An erase is done one erase unit at a time, so
//! that interrupts (the USB device, a UART) are served between them.

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashError, NorFlashErrorKind,
    ReadNorFlash,
};

extern "C" {
    static __model_start: u8;
    static __model_end: u8;
}

/// The model partition on the board's flash driver `F`.
#[derive(Debug)]
pub struct FlashPartition<F> {
    flash: F,
    /// Offset of the partition in `flash`.
    offset: u32,
    /// Where the CPU reads the partition's first byte.
    start: *const u8,
    /// Bytes in the partition.
    len: usize,
}

impl<F: NorFlash> FlashPartition<F> {
    /// The partition `memory.x` defines, on `flash`, whose first byte (offset 0) the CPU
    /// reads at address `flash_base` (where the chip maps its flash).
    pub fn new(flash: F, flash_base: usize) -> Self {
        let start = core::ptr::addr_of!(__model_start);
        let end = core::ptr::addr_of!(__model_end) as usize;
        FlashPartition {
            flash,
            offset: (start as usize).wrapping_sub(flash_base) as u32,
            start,
            len: end.saturating_sub(start as usize),
        }
    }

    /// Address of the partition, as the CPU reads it.
    pub fn address(&self) -> u32 {
        self.start as u32
    }
}

impl<F: NorFlash> micrornn::store::Partition for FlashPartition<F> {
    fn mapped(&self) -> &[u8] {
        // Safety: [__model_start, __model_end) is the MODEL region of memory.x: flash the
        // chip maps, always readable, in which the linker places nothing. It changes only
        // through `erase` and `write`, which take `&mut self`, so it cannot change while
        // the returned borrow of `self` lives.
        unsafe { core::slice::from_raw_parts(self.start, self.len) }
    }
}

impl<F: NorFlash> ErrorType for FlashPartition<F> {
    type Error = NorFlashErrorKind;
}

impl<F: NorFlash> ReadNorFlash for FlashPartition<F> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        check_read(self, offset, bytes.len())?;
        let from = offset as usize;
        let mapped = micrornn::store::Partition::mapped(self);
        let src = mapped
            .get(from..from + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len
    }
}

impl<F: NorFlash> NorFlash for FlashPartition<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        let sector = F::ERASE_SIZE as u32;
        for at in (from..to).step_by(F::ERASE_SIZE) {
            let at = self.offset + at;
            self.flash.erase(at, at + sector).map_err(|e| e.kind())?;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        let at = self.offset + offset;
        self.flash.write(at, bytes).map_err(|e| e.kind())
    }
}
