//! The model partition: the flash pages `memory.x` sets apart (`MODEL`, bounds
//! `__model_start` and `__model_end`; the program is linked below it), erased and written
//! through the NVMC, read in place by the CPU.

use embassy_nrf::nvmc::{Error, Nvmc, PAGE_SIZE};
use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};

extern "C" {
    static __model_start: u8;
    static __model_end: u8;
}

/// The model partition over the NVMC. Offsets are from the partition's start.
pub struct ModelFlash {
    nvmc: Nvmc<'static>,
    start: u32,
    len: u32,
}

impl ModelFlash {
    /// The partition `memory.x` defines.
    pub fn new(nvmc: Nvmc<'static>) -> ModelFlash {
        let start = core::ptr::addr_of!(__model_start) as u32;
        let end = core::ptr::addr_of!(__model_end) as u32;
        ModelFlash {
            nvmc,
            start,
            len: end.saturating_sub(start),
        }
    }

    /// Address of the partition's first byte.
    pub fn address(&self) -> u32 {
        self.start
    }

    /// The flash address of `offset..offset + len` within the partition, if it is inside.
    fn at(&self, offset: u32, len: usize) -> Result<u32, Error> {
        let end = (offset as usize)
            .checked_add(len)
            .ok_or(Error::OutOfBounds)?;
        if end > self.len as usize {
            return Err(Error::OutOfBounds);
        }
        Ok(self.start + offset)
    }
}

impl ErrorType for ModelFlash {
    type Error = Error;
}

impl ReadNorFlash for ModelFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Error> {
        let at = self.at(offset, bytes.len())?;
        self.nvmc.read(at, bytes)
    }

    fn capacity(&self) -> usize {
        self.len as usize
    }
}

impl NorFlash for ModelFlash {
    const WRITE_SIZE: usize = <Nvmc<'static> as NorFlash>::WRITE_SIZE;
    const ERASE_SIZE: usize = PAGE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Error> {
        if to < from {
            return Err(Error::OutOfBounds);
        }
        let at = self.at(from, (to - from) as usize)?;
        self.nvmc.erase(at, at + (to - from))
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
        let at = self.at(offset, bytes.len())?;
        self.nvmc.write(at, bytes)
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
