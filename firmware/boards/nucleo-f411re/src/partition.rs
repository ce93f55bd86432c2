//! The model partition: the flash sectors `memory.x` sets apart (`MODEL`, bounds
//! `__model_start` and `__model_end`: sectors 6 and 7, 128 KiB each; the program is linked
//! below it), erased and written through embassy-stm32's flash driver, read in place.

use embassy_stm32::flash::{Blocking, Error, Flash, FLASH_BASE, WRITE_SIZE};
use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};

extern "C" {
    static __model_start: u8;
    static __model_end: u8;
}

/// The erase unit of the partition: its sectors are 128 KiB each.
const SECTOR: usize = 128 * 1024;

/// The model partition over the flash driver. Offsets are from the partition's start.
pub struct ModelFlash {
    flash: Flash<'static, Blocking>,
    start: u32,
    len: u32,
}

impl ModelFlash {
    /// The partition `memory.x` defines.
    pub fn new(flash: Flash<'static, Blocking>) -> ModelFlash {
        let start = core::ptr::addr_of!(__model_start) as u32;
        let end = core::ptr::addr_of!(__model_end) as u32;
        ModelFlash {
            flash,
            start,
            len: end.saturating_sub(start),
        }
    }

    /// Address of the partition's first byte.
    pub fn address(&self) -> u32 {
        self.start
    }

    /// The driver's offset (from the start of flash) of `offset..offset + len` within the
    /// partition, if it is inside.
    fn at(&self, offset: u32, len: usize) -> Result<u32, Error> {
        let end = (offset as usize).checked_add(len).ok_or(Error::Size)?;
        if end > self.len as usize {
            return Err(Error::Size);
        }
        Ok(self.start - FLASH_BASE as u32 + offset)
    }
}

impl ErrorType for ModelFlash {
    type Error = Error;
}

impl ReadNorFlash for ModelFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Error> {
        let at = self.at(offset, bytes.len())?;
        self.flash.blocking_read(at, bytes)
    }

    fn capacity(&self) -> usize {
        self.len as usize
    }
}

impl NorFlash for ModelFlash {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = SECTOR;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Error> {
        if to < from {
            return Err(Error::Size);
        }
        if from as usize % SECTOR != 0 || to as usize % SECTOR != 0 {
            return Err(Error::Unaligned);
        }
        let at = self.at(from, (to - from) as usize)?;
        self.flash.blocking_erase(at, at + (to - from))
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
        let at = self.at(offset, bytes.len())?;
        self.flash.blocking_write(at, bytes)
    }
}

impl micrornn::store::Partition for ModelFlash {
    fn mapped(&self) -> &[u8] {
        // Safety: [start, start + len) is the MODEL region of memory.x: on-chip flash,
        // mapped and readable, in which the linker places nothing. It changes only through
        // `erase` and `write`, which take `&mut self`, so not while this borrow lives.
        unsafe { core::slice::from_raw_parts(self.start as *const u8, self.len as usize) }
    }
}
