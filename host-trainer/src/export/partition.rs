//! A model in a board's partition, as the device's model store would leave it after an
//! upload: the bytes a flash file must write so that the board serves the model at boot.
//!
//! The device serves a model only with its commit record (`micrornn::store`), so a model
//! file cannot simply be copied to the partition's start. This module runs the store
//! itself — the same `micrornn::store::ModelStore` the firmware runs — on a host copy of
//! the partition with the board's flash geometry (erase page, write unit): `begin`,
//! `write`, `commit`. The image is every erase page the store touched, plus the commit
//! record's page of the *other* slot filled with 0xFF (erased): a model left there by an
//! earlier upload might carry a newer sequence number and would otherwise serve instead.
//!
//! A model larger than one slot takes the whole partition (the store's single-slot
//! layout), as `micrornn device upload --single-slot` would.

use std::collections::BTreeSet;

use anyhow::{bail, Context, Result};
use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};
use micrornn::store::{ModelStore, Partition, Slot};

use super::image::Image;
use crate::device::boards::BoardSpec;

/// A model placed in a board's partition.
#[derive(Clone, Debug)]
pub struct ModelImage {
    /// The pages to write, at their flash addresses (whole erase pages).
    pub image: Image,
    /// Where the store put the model (slot A, or the whole partition).
    pub slot: Slot,
    /// Bytes of the model file.
    pub model_len: usize,
}

/// The flash pages that make `spec`'s model store serve `model` (a `.mrnn` file, checked
/// to load and fit the board first).
pub fn model_image(spec: &BoardSpec, model: &[u8]) -> Result<ModelImage> {
    spec.check_fits(model)?;
    let len = spec.partition_len as usize;
    let (bytes, pages, slot, erase) = match (spec.erase_size, spec.write_size) {
        (1024, 4) => store::<1024, 4>(len, model)?,
        (4096, 1) => store::<4096, 1>(len, model)?,
        (4096, 4) => store::<4096, 4>(len, model)?,
        (131_072, 4) => store::<131_072, 4>(len, model)?,
        (e, w) => bail!(
            "{}: no model store layout for {e}-byte erase pages and {w}-byte write units",
            spec.name
        ),
    };
    let mut image = Image::new();
    for page in pages {
        let at = page * erase;
        let addr = spec.partition_addr + at as u32;
        image.add(addr, &bytes[at..at + erase])?;
    }
    Ok(ModelImage {
        image,
        slot,
        model_len: model.len(),
    })
}

/// The largest model `spec`'s store takes in one slot and in the whole partition
/// (`--single-slot`): what the device's `info` reports as `store slot S single P`.
pub fn store_capacity(spec: &BoardSpec) -> Result<(usize, usize)> {
    fn of<const E: usize, const W: usize>(len: usize) -> (usize, usize) {
        let mut flash = HostFlash::<E, W> {
            mem: vec![0xFF; len],
            touched: BTreeSet::new(),
        };
        let store = ModelStore::open(&mut flash);
        (store.slot_capacity(), store.partition_capacity())
    }
    let len = spec.partition_len as usize;
    Ok(match (spec.erase_size, spec.write_size) {
        (1024, 4) => of::<1024, 4>(len),
        (4096, 1) => of::<4096, 1>(len),
        (4096, 4) => of::<4096, 4>(len),
        (131_072, 4) => of::<131_072, 4>(len),
        (e, w) => bail!(
            "{}: no model store layout for {e}-byte erase pages and {w}-byte write units",
            spec.name
        ),
    })
}

/// Uploads `model` into an erased partition of `len` bytes with `E`-byte erase pages and
/// `W`-byte write units. Returns the partition's bytes, the pages to write (touched by
/// the store, and both slots' record pages), the slot, and `E`.
fn store<const E: usize, const W: usize>(
    len: usize,
    model: &[u8],
) -> Result<(Vec<u8>, BTreeSet<usize>, Slot, usize)> {
    if len % E != 0 || len < 2 * E {
        bail!("a model partition of {len} bytes is not at least two whole {E}-byte pages");
    }
    let mut flash = HostFlash::<E, W> {
        mem: vec![0xFF; len],
        touched: BTreeSet::new(),
    };
    let mut store = ModelStore::open(&mut flash);
    let single = model.len() > store.slot_capacity();
    // The slots are the partition's halves rounded down to whole pages; each one's
    // record sits in its last page.
    let half = store.slot_capacity().div_ceil(E) * E;
    let crc = micrornn::format::model_crc(model);
    store.begin(model.len() as u32, crc, single)?;
    store.write(0, model)?;
    let active = store
        .commit()
        .context("the model store refused the model")?;
    let mut pages = flash.touched;
    pages.insert(half / E - 1);
    pages.insert(2 * half / E - 1);
    Ok((flash.mem, pages, active.slot, E))
}

/// A partition in host memory with `E`-byte erase pages and `W`-byte write units, which
/// notes the pages the store erases or writes.
struct HostFlash<const E: usize, const W: usize> {
    mem: Vec<u8>,
    touched: BTreeSet<usize>,
}

impl<const E: usize, const W: usize> HostFlash<E, W> {
    /// The byte range `offset..offset + n`, if inside the partition.
    fn range(&self, offset: u32, n: usize) -> Option<std::ops::Range<usize>> {
        let from = offset as usize;
        let to = from.checked_add(n)?;
        (to <= self.mem.len()).then_some(from..to)
    }
}

impl<const E: usize, const W: usize> ErrorType for HostFlash<E, W> {
    type Error = embedded_storage::nor_flash::NorFlashErrorKind;
}

impl<const E: usize, const W: usize> ReadNorFlash for HostFlash<E, W> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let r = self
            .range(offset, bytes.len())
            .ok_or(Self::Error::OutOfBounds)?;
        bytes.copy_from_slice(&self.mem[r]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl<const E: usize, const W: usize> NorFlash for HostFlash<E, W> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let n = (to as usize).saturating_sub(from as usize);
        let r = self.range(from, n).ok_or(Self::Error::OutOfBounds)?;
        if r.start % E != 0 || r.end % E != 0 {
            return Err(Self::Error::NotAligned);
        }
        self.touched.extend(r.start / E..r.end / E);
        self.mem[r].fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let r = self
            .range(offset, bytes.len())
            .ok_or(Self::Error::OutOfBounds)?;
        if r.start % W != 0 || r.end % W != 0 {
            return Err(Self::Error::NotAligned);
        }
        if !r.is_empty() {
            self.touched.extend(r.start / E..=(r.end - 1) / E);
        }
        for (m, b) in self.mem[r].iter_mut().zip(bytes) {
            *m &= b;
        }
        Ok(())
    }
}

impl<const E: usize, const W: usize> Partition for HostFlash<E, W> {
    fn mapped(&self) -> &[u8] {
        &self.mem
    }
}
