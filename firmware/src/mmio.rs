//! 32-bit memory-mapped device registers, and [`reg!`](crate::reg) to declare them.

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

/// Declares a device register: `reg!(NAME = address, "Safety: chip, peripheral and
/// register at that address");`. The text is the register's safety argument — which
/// datasheet register the address is, so that `Reg::at`'s contract holds — and its doc.
///
/// ```ignore
/// reg!(DATA = UART0, "Safety: CMSDK APB UART0 DATA, at the block's base");
/// ```
#[macro_export]
macro_rules! reg {
    ($vis:vis $name:ident = $addr:expr, $safety:literal) => {
        #[doc = $safety]
        $vis const $name: $crate::mmio::Reg = {
            const _: () = assert!(
                $crate::mmio::is_safety_text($safety),
                "a register's text starts with \"Safety: \""
            );
            const ADDR: usize = $addr;
            // Safety: the macro's text argument, written next to the address, names the
            // device register there (chip, peripheral, register): `Reg::at`'s contract.
            unsafe { $crate::mmio::Reg::at(ADDR) }
        };
    };
}

/// Whether `text` starts with `Safety: ` (checked at compile time by [`reg!`](crate::reg)).
#[doc(hidden)]
pub const fn is_safety_text(text: &str) -> bool {
    let (text, prefix) = (text.as_bytes(), b"Safety: ");
    if text.len() <= prefix.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if text[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}
