//! The Nordic nRF51/nRF52 non-volatile memory controller (NVMC): the on-chip flash.
//!
//! The same controller on both families, at the same address, with the same registers;
//! only the erase page differs (1 KiB on the nRF51, 4 KiB on the nRF52), so it is a
//! parameter. To erase a page: CONFIG = erase enable, the page's address into ERASEPAGE,
//! wait for READY. To program: CONFIG = write enable, a 32-bit store to the flash word,
//! wait for READY. CONFIG goes back to read-only after each. The CPU stalls while the
//! controller works when it runs from flash, so the waits are short or not there at all on
//! hardware; QEMU's `microbit` does each at once and reports READY.

use super::{Medium, WORD};
use crate::reg;

reg!(
    READY = 0x4001_E400,
    "Safety: nRF51/nRF52 NVMC READY (read-only status)"
);
reg!(
    CONFIG = 0x4001_E504,
    "Safety: nRF51/nRF52 NVMC CONFIG (write/erase enable)"
);
reg!(
    ERASEPAGE = 0x4001_E508,
    "Safety: nRF51/nRF52 NVMC ERASEPAGE (erases the page written to it)"
);

/// CONFIG: read only.
const CONFIG_REN: u32 = 0;
/// CONFIG: write enable.
const CONFIG_WEN: u32 = 1;
/// CONFIG: erase enable.
const CONFIG_EEN: u32 = 2;
/// READY bit 0: the controller is idle.
const READY_READY: u32 = 1;

/// The NVMC with erase pages of `PAGE` bytes.
#[derive(Debug)]
pub struct Nvmc<const PAGE: usize>(());

/// The nRF51's NVMC (micro:bit v1): 1 KiB pages.
pub type Nrf51 = Nvmc<1024>;
/// The nRF52's NVMC (micro:bit v2): 4 KiB pages.
pub type Nrf52 = Nvmc<4096>;

impl<const PAGE: usize> Nvmc<PAGE> {
    /// The controller. Its methods only act through a [`super::Flash`] that owns a region.
    pub const fn new() -> Self {
        Nvmc(())
    }

    /// Sets CONFIG and waits until the controller is idle.
    fn configure(&mut self, mode: u32) {
        wait_ready();
        CONFIG.write(mode);
        wait_ready();
    }
}

impl<const PAGE: usize> Default for Nvmc<PAGE> {
    fn default() -> Self {
        Self::new()
    }
}

fn wait_ready() {
    while READY.read() & READY_READY == 0 {}
}

impl<const PAGE: usize> Medium for Nvmc<PAGE> {
    const PAGE: usize = PAGE;

    unsafe fn erase_page(&mut self, addr: usize) {
        self.configure(CONFIG_EEN);
        ERASEPAGE.write(addr as u32);
        self.configure(CONFIG_REN);
    }

    unsafe fn program(&mut self, addr: usize, data: &[u8]) {
        self.configure(CONFIG_WEN);
        for (i, word) in data.chunks_exact(WORD).enumerate() {
            let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            if word == u32::MAX {
                continue; // all ones: programming it changes nothing
            }
            let at = (addr + i * WORD) as *mut u32;
            // Safety: the caller's contract: a word-aligned flash word in a region it owns;
            // CONFIG is write-enable, so the controller programs it (a 32-bit store).
            unsafe { at.write_volatile(word) };
            wait_ready();
        }
        self.configure(CONFIG_REN);
    }
}
