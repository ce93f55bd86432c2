//! A simulated NOR flash for tests: enforces the rules of real NOR flash and can cut the
//! power after any number of operations.
//!
//! Rules: erase by whole aligned pages (to 0xFF); write whole aligned units; a unit is
//! written at most once after its erase (which also means bits only go from 1 to 0).
//! Breaking one returns an error, changes nothing, and counts a violation
//! ([`SimFlash::violations`]).
//!
//! Power cut: [`SimFlash::cut_after`]`(k)` lets `k` more operations happen — an operation
//! is the erase of one page or the write of one unit — and makes every later one fail
//! without touching the memory, until [`SimFlash::power_on`]. A cut inside a multi-page
//! erase or a multi-unit write leaves its first pages or units done.
//!
//! The memory is an array inside the value (`SIZE` bytes, plus one flag per byte): keep
//! large ones in a `Box` and lend the store `&mut` so that the flash outlives it.

use embedded_storage::nor_flash::ReadNorFlash;
use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashError, NorFlashErrorKind};

use super::Partition;

/// Why the simulated flash refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimError {
    /// Offset or length not a multiple of the page or unit size (a violation).
    NotAligned,
    /// Outside the memory (a violation).
    OutOfBounds,
    /// A unit written again since its erase (a violation).
    WrittenTwice,
    /// The power is cut.
    PowerCut,
}

impl NorFlashError for SimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            SimError::NotAligned => NorFlashErrorKind::NotAligned,
            SimError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// `SIZE` bytes of NOR flash with `ERASE`-byte pages and `WRITE`-byte write units.
#[derive(Clone)]
pub struct SimFlash<const SIZE: usize, const ERASE: usize, const WRITE: usize> {
    /// The bytes.
    mem: [u8; SIZE],
    /// Per byte: erased and not written since (only unit starts are used).
    fresh: [bool; SIZE],
    /// Operations done.
    ops: usize,
    /// Operations left before the cut, if one is set.
    left: Option<usize>,
    /// Rules broken.
    violations: usize,
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> Default
    for SimFlash<SIZE, ERASE, WRITE>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> SimFlash<SIZE, ERASE, WRITE> {
    /// Refuses (at compile time) a geometry that is not whole pages of whole units.
    const GEOMETRY: () = assert!(WRITE > 0 && ERASE % WRITE == 0 && SIZE % ERASE == 0);

    /// An erased flash (all 0xFF), power on.
    pub fn new() -> Self {
        let () = Self::GEOMETRY;
        SimFlash {
            mem: [0xFF; SIZE],
            fresh: [true; SIZE],
            ops: 0,
            left: None,
            violations: 0,
        }
    }

    /// The memory.
    pub fn memory(&self) -> &[u8] {
        &self.mem
    }

    /// The memory, to damage it (a flipped bit); the write rules do not see this.
    pub fn memory_mut(&mut self) -> &mut [u8] {
        &mut self.mem
    }

    /// Operations done so far (pages erased + units written).
    pub fn ops(&self) -> usize {
        self.ops
    }

    /// Rules broken so far.
    pub fn violations(&self) -> usize {
        self.violations
    }

    /// Lets `k` more operations happen, then cuts the power.
    pub fn cut_after(&mut self, k: usize) {
        self.left = Some(k);
    }

    /// Restores the power (the memory stays as the cut left it).
    pub fn power_on(&mut self) {
        self.left = None;
    }

    /// Counts a broken rule.
    fn violation(&mut self, e: SimError) -> SimError {
        self.violations += 1;
        e
    }

    /// Takes one operation from the budget.
    fn step(&mut self) -> Result<(), SimError> {
        match self.left {
            Some(0) => return Err(SimError::PowerCut),
            Some(k) => self.left = Some(k - 1),
            None => {}
        }
        self.ops += 1;
        Ok(())
    }

    /// Checks that `offset..offset + len` is inside and aligned to `align`.
    fn check(&mut self, offset: u32, len: usize, align: usize) -> Result<usize, SimError> {
        let at = offset as usize;
        if at > SIZE || len > SIZE - at {
            return Err(self.violation(SimError::OutOfBounds));
        }
        if at % align != 0 || len % align != 0 {
            return Err(self.violation(SimError::NotAligned));
        }
        Ok(at)
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> ErrorType
    for SimFlash<SIZE, ERASE, WRITE>
{
    type Error = SimError;
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> ReadNorFlash
    for SimFlash<SIZE, ERASE, WRITE>
{
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        let at = self.check(offset, bytes.len(), 1)?;
        bytes.copy_from_slice(&self.mem[at..at + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> NorFlash
    for SimFlash<SIZE, ERASE, WRITE>
{
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        let len = (to as usize).checked_sub(from as usize);
        let Some(len) = len else {
            return Err(self.violation(SimError::OutOfBounds));
        };
        let from = self.check(from, len, ERASE)?;
        for page in (from..from + len).step_by(ERASE) {
            self.step()?;
            self.mem[page..page + ERASE].fill(0xFF);
            self.fresh[page..page + ERASE].fill(true);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        let at = self.check(offset, bytes.len(), WRITE)?;
        if (at..at + bytes.len())
            .step_by(WRITE)
            .any(|u| !self.fresh[u])
        {
            return Err(self.violation(SimError::WrittenTwice));
        }
        for (i, unit) in bytes.chunks_exact(WRITE).enumerate() {
            self.step()?;
            let u = at + i * WRITE;
            self.fresh[u] = false;
            for (m, b) in self.mem[u..u + WRITE].iter_mut().zip(unit) {
                *m &= b;
            }
        }
        Ok(())
    }
}

impl<const SIZE: usize, const ERASE: usize, const WRITE: usize> Partition
    for SimFlash<SIZE, ERASE, WRITE>
{
    fn mapped(&self) -> &[u8] {
        &self.mem
    }
}
