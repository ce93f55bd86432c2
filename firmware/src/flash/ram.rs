//! RAM that behaves like NOR flash: the model partition of the boards where it is RAM under
//! QEMU (`mps2-an386`, `mps2-an505`), so that the model store runs there as on a chip with
//! flash. An erase sets a page to 0xFF; a write can only clear bits (each word becomes its
//! old value AND the new one), as NOR flash does.

use super::{Medium, WORD};

/// RAM with NOR flash rules and erase pages of `PAGE` bytes.
#[derive(Debug)]
pub struct RamNor<const PAGE: usize>(());

impl<const PAGE: usize> RamNor<PAGE> {
    /// The rules. They only act through a [`super::Flash`] that owns a region.
    pub const fn new() -> Self {
        RamNor(())
    }
}

impl<const PAGE: usize> Default for RamNor<PAGE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const PAGE: usize> Medium for RamNor<PAGE> {
    const PAGE: usize = PAGE;

    unsafe fn erase_page(&mut self, addr: usize) {
        let page = addr as *mut u32;
        for i in 0..PAGE / WORD {
            // Safety: the caller's contract: a page-aligned page of RAM that it owns.
            unsafe { page.add(i).write_volatile(u32::MAX) };
        }
    }

    unsafe fn program(&mut self, addr: usize, data: &[u8]) {
        for (i, word) in data.chunks_exact(WORD).enumerate() {
            let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            let at = (addr + i * WORD) as *mut u32;
            // Safety: the caller's contract: a word-aligned word of RAM that it owns.
            unsafe { at.write_volatile(at.read_volatile() & word) };
        }
    }
}
