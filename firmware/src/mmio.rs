//! A 32-bit memory-mapped device register.

/// A device register at a fixed address, read and written with volatile 32-bit accesses.
#[derive(Clone, Copy, Debug)]
pub struct Reg(usize);

impl Reg {
    /// The register at `addr`.
    ///
    /// # Safety
    /// `addr` must be a 4-byte aligned device register that may be read and written at any
    /// time with 32-bit accesses (no access to it breaks memory safety).
    pub const unsafe fn at(addr: usize) -> Reg {
        Reg(addr)
    }

    /// Reads the register.
    #[inline(always)]
    pub fn read(self) -> u32 {
        // Safety: `at`'s contract: a register that is always readable.
        unsafe { (self.0 as *const u32).read_volatile() }
    }

    /// Writes the register.
    #[inline(always)]
    pub fn write(self, value: u32) {
        // Safety: `at`'s contract: a register that is always writable.
        unsafe { (self.0 as *mut u32).write_volatile(value) }
    }
}
