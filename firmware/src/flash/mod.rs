//! The model partition as NOR flash (`embedded-storage`'s [`NorFlash`]), the interface the
//! model store (`micrornn::store`) writes through, whatever the memory behind it is.
//!
//! [`Flash`] does what every NOR flash driver does alike: bounds and alignment, reads from
//! the memory map, and a read-back after each erase and write (so a write that would need
//! a bit to go from 0 to 1, which NOR flash cannot do, is an error instead of a silent
//! AND). A [`Medium`] does what differs: how a page is erased and how words are
//! programmed. Two of them:
//!
//! - [`nvmc::Nvmc`]: the nRF51/nRF52 flash controller (micro:bit; QEMU's `microbit` emulates
//!   it, so the real driver runs in CI);
//! - [`ram::RamNor`]: RAM that obeys NOR rules (erase sets a page to 0xFF, a write can only
//!   clear bits), for the boards whose partition is RAM under QEMU.

pub mod nvmc;
pub mod ram;

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// Bytes of a programmed word: the unit of [`Medium::program`] and [`Flash`]'s `WRITE_SIZE`.
pub const WORD: usize = 4;

/// How one kind of memory erases a page and programs words: the part of a flash driver
/// that touches the hardware.
pub trait Medium {
    /// Bytes of an erase page (a power of two, a multiple of [`WORD`]).
    const PAGE: usize;

    /// Sets every byte of the page at `addr` to 0xFF.
    ///
    /// # Safety
    /// `addr` is page aligned, and the page lies in memory that the caller owns (nothing
    /// else reads or writes it meanwhile, no reference to it is alive).
    unsafe fn erase_page(&mut self, addr: usize);

    /// Programs `data` (a whole number of words) at `addr`: each word becomes its old value
    /// AND the new one, as NOR flash does.
    ///
    /// # Safety
    /// `addr` is word aligned, and `addr .. addr + data.len()` lies in memory that the
    /// caller owns (as for [`Medium::erase_page`]).
    unsafe fn program(&mut self, addr: usize, data: &[u8]);
}

/// A region of memory-mapped NOR flash (or of memory that behaves like it), owned by this
/// value: offsets are relative to its start, `capacity()` bytes in all.
#[derive(Debug)]
pub struct Flash<M> {
    medium: M,
    start: usize,
    len: usize,
}

impl<M: Medium> Flash<M> {
    /// The region `start .. start + len` written through `medium`.
    ///
    /// # Safety
    /// The region is mapped, readable memory that `medium` erases and programs; `start` and
    /// `len` are multiples of `M::PAGE`; and the returned value owns the region: nothing
    /// else reads or writes it while the value lives (no other `Flash` over it, no linker
    /// section in it).
    pub unsafe fn new(medium: M, start: usize, len: usize) -> Self {
        Flash { medium, start, len }
    }

    /// Address of the region's first byte.
    pub fn address(&self) -> usize {
        self.start
    }

    /// The whole region as the CPU reads it.
    pub fn mapped(&self) -> &[u8] {
        // Safety: `new`'s contract: mapped, readable, owned by `self`. It changes only
        // through `&mut self` (erase, write), so not while this borrow of `self` lives.
        unsafe { core::slice::from_raw_parts(self.start as *const u8, self.len) }
    }

    /// Whether the bytes at `offset` read back as `expected`.
    fn reads_back(&self, offset: usize, expected: impl Iterator<Item = u8>) -> bool {
        let tail = self.mapped().get(offset..).unwrap_or(&[]);
        let mut got = tail.iter();
        expected.into_iter().all(|b| got.next() == Some(&b))
    }
}

impl<M: Medium> micrornn::store::Partition for Flash<M> {
    fn mapped(&self) -> &[u8] {
        Flash::mapped(self)
    }
}

impl<M> ErrorType for Flash<M> {
    type Error = NorFlashErrorKind;
}

impl<M: Medium> ReadNorFlash for Flash<M> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len())?;
        let start = offset as usize;
        let src = self.mapped().get(start..start + bytes.len());
        bytes.copy_from_slice(src.ok_or(NorFlashErrorKind::OutOfBounds)?);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len
    }
}

impl<M: Medium> NorFlash for Flash<M> {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = M::PAGE;

    /// Erases the pages `from .. to` and checks that they read back as 0xFF.
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to)?;
        for page in (from as usize..to as usize).step_by(M::PAGE) {
            // Safety: check_erase: page aligned (the region starts on a page) and inside the
            // region, which `self` owns; `&mut self`: no borrow of `mapped()` is alive.
            unsafe { self.medium.erase_page(self.start + page) };
        }
        let erased = core::iter::repeat_n(0xFF, (to - from) as usize);
        if !self.reads_back(from as usize, erased) {
            return Err(NorFlashErrorKind::Other);
        }
        Ok(())
    }

    /// Programs `bytes` at `offset` (word aligned, whole words) and checks that they read
    /// back: a word that was not erased where `bytes` has a 1 bit is an error.
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len())?;
        // Safety: check_write: word aligned, a whole number of words, inside the region,
        // which `self` owns; `&mut self`: no borrow of `mapped()` is alive.
        unsafe { self.medium.program(self.start + offset as usize, bytes) };
        if !self.reads_back(offset as usize, bytes.iter().copied()) {
            return Err(NorFlashErrorKind::Other);
        }
        Ok(())
    }
}
