//! The model store: models uploaded into NOR flash, two slots, and no lost model on a
//! power cut.
//!
//! # Layout
//!
//! The partition (any [`Partition`]: `embedded-storage` NOR flash the CPU can also read
//! in place) is cut into two slots, its two halves rounded down to whole erase pages
//! (`half = capacity / 2` rounded down to `ERASE_SIZE`; a last odd page is unused):
//!
//! ```text
//! 0                                half                              2·half
//! | slot A: model ...  0xFF | rec A | slot B: model ...  0xFF | rec B |
//! | single: model ...                                     0xFF | rec B |
//! ```
//!
//! Each slot ends with its commit record ([`record`]: magic, sequence number, model
//! start, length, CRC-32 of the model, CRC-32 of the record) in the last
//! `24 bytes rounded up to WRITE_SIZE` of the slot. A model starts at its slot's start and
//! may fill the slot up to its record: [`ModelStore::slot_capacity`]. A single-slot model
//! (`--single-slot`, for a model larger than a slot) starts at 0, may fill the whole
//! partition up to slot B's record ([`ModelStore::partition_capacity`]), and its record
//! sits where slot B's does, with start 0.
//!
//! A record is valid when its magic and its own CRC hold, its model lies inside its slot,
//! the CRC-32 of the model's bytes is the recorded one, and those bytes load as a model.
//! [`ModelStore::open`] serves the valid record with the highest sequence number (compared
//! with wrap-around), else the other valid one, else nothing.
//!
//! # An upload, and what a power cut leaves at each step
//!
//! The new model goes to the slot that is not serving (slot A if none or a single-slot
//! model serves). Say the old model serves from slot O with sequence number `n`, and the
//! target is T:
//!
//! 1. [`begin`](ModelStore::begin) erases T's record page, then the pages the new model
//!    needs. Cut: T has no record (or a record whose model no longer checks), so O's
//!    model — not touched — serves.
//! 2. [`write`](ModelStore::write) programs the model into T, in order. Cut: T has no
//!    record; O serves.
//! 3. [`commit`](ModelStore::commit) reads T back through [`Partition::mapped`] and checks
//!    it (CRC-32 of the announced bytes, [`Model::load`]), then writes T's record with
//!    sequence `n + 1`, its own CRC last. Cut before the record's last write unit: the
//!    record's CRC does not hold; O serves. After: T is whole, valid and newest; it serves.
//!
//! So at every instant one of the two is whole and recorded: never neither, never a mix.
//! Every record covers its model's bytes with a CRC-32, so damage found later (a flipped
//! bit) makes boot fall back to the other slot.
//!
//! The price of `--single-slot`: the upload overwrites the only model, so `begin` first
//! erases both records (then the pages the model needs), and a cut before the new record
//! is written leaves "no valid model" (never a damaged one) until the next upload. The
//! upload after a single-slot model also destroys it (it erases slot A), so that one is
//! not protected either.
//!
//! # Writes
//!
//! Data comes in order; every write but the last must be a whole number of `WRITE_SIZE`
//! units (the upload's chunks are), and the last partial unit is padded with 0xFF. Every
//! unit is written once after its erase, as NOR flash requires. `WRITE_SIZE` up to 256
//! bytes and any `ERASE_SIZE` that is a multiple of it are supported.

use embedded_storage::nor_flash::NorFlash;

use crate::error::{Error, Result};
use crate::format::model_crc;
use crate::Model;

pub mod record;
#[doc(hidden)]
pub mod sim;

use record::Record;

/// Largest supported `WRITE_SIZE` (the padding buffer of the last unit).
pub const MAX_WRITE_SIZE: usize = 256;

/// A model partition: NOR flash (embedded-storage) that the CPU can also read in place.
pub trait Partition: NorFlash {
    /// The whole partition as the CPU reads it (memory-mapped / XIP), for zero-copy models.
    fn mapped(&self) -> &[u8];
}

impl<T: Partition> Partition for &mut T {
    fn mapped(&self) -> &[u8] {
        T::mapped(self)
    }
}

/// Where a model lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The partition's first half.
    A,
    /// The partition's second half.
    B,
    /// The whole partition (a `--single-slot` upload).
    Single,
}

impl Slot {
    /// The name `info` reports: `a`, `b` or `single`.
    pub fn name(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
            Slot::Single => "single",
        }
    }
}

/// The model a store serves: its slot and its commit record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActiveSlot {
    /// Where it is.
    pub slot: Slot,
    /// Its sequence number (one more at every upload).
    pub seq: u32,
    /// The model's CRC ([`crate::format::model_crc`]: of every byte but the last four,
    /// the value a `.mrnn` file carries there).
    pub crc: u32,
    /// Its length in bytes.
    pub len: u32,
}

/// An upload in progress.
#[derive(Clone, Copy, Debug)]
struct Upload {
    /// Where it goes.
    slot: Slot,
    /// Announced length.
    len: u32,
    /// Announced CRC-32.
    crc: u32,
    /// Bytes written so far.
    next: u32,
}

/// Models in a flash partition: the one serving, and an upload into the other slot.
pub struct ModelStore<P: Partition> {
    /// The partition.
    flash: P,
    /// The model served, validated.
    active: Option<ActiveSlot>,
    /// The newest sequence number of a record whose own CRC holds.
    last_seq: Option<u32>,
    /// The upload in progress.
    upload: Option<Upload>,
}

/// True if sequence number `a` is newer than `b` (with wrap-around).
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl<P: Partition> ModelStore<P> {
    /// Opens the store: reads both records, validates their models (CRC-32 of the bytes,
    /// every check of [`Model::load`]) and serves the newest valid one.
    pub fn open(flash: P) -> Self {
        let mut store = ModelStore {
            flash,
            active: None,
            last_seq: None,
            upload: None,
        };
        for at in [Slot::A, Slot::B] {
            let Some(found) = store.record(at) else {
                continue;
            };
            if store.last_seq.is_none_or(|s| newer(found.seq, s)) {
                store.last_seq = Some(found.seq);
            }
            let newest = store.active.is_none_or(|a| newer(found.seq, a.seq));
            if newest && store.check(&found, false, |_| Ok(())).is_ok() {
                store.active = Some(found);
            }
        }
        store
    }

    /// The model served, if any.
    pub fn active(&self) -> Option<ActiveSlot> {
        self.active
    }

    /// The model served, borrowed from flash; [`Error::NoModel`] if there is none. Checked
    /// whole when it was opened or committed, it is opened again with [`Model::reopen`].
    pub fn model(&self) -> Result<Model<'_>> {
        Model::reopen(self.model_bytes()?)
    }

    /// The bytes of the model served (the whole `.mrnn` file as uploaded).
    pub fn model_bytes(&self) -> Result<&[u8]> {
        self.bytes(&self.active.ok_or(Error::NoModel)?)
    }

    /// Largest model for a two-slot upload.
    pub fn slot_capacity(&self) -> usize {
        let (start, end) = self.bounds(Slot::A);
        end - start
    }

    /// Largest model for a single-slot upload.
    pub fn partition_capacity(&self) -> usize {
        let (start, end) = self.bounds(Slot::Single);
        end - start
    }

    /// The partition, for the caller to use again (the store is gone).
    pub fn into_partition(self) -> P {
        self.flash
    }

    /// Starts an upload of `len` bytes whose [`model_crc`] is `crc`: picks the slot that is not
    /// serving (or the whole partition for `single_slot`) and erases what the model needs,
    /// its record first. Refuses an empty model, a model larger than a slot (unless
    /// `single_slot`) and a model larger than the partition. Drops an upload in progress.
    pub fn begin(&mut self, len: u32, crc: u32, single_slot: bool) -> Result<()> {
        self.upload = None;
        let slot = match (single_slot, self.active) {
            (true, _) => Slot::Single,
            (false, Some(ActiveSlot { slot: Slot::A, .. })) => Slot::B,
            _ => Slot::A,
        };
        let (start, rec) = self.bounds(slot);
        let n = len as usize;
        if n == 0 {
            return Err(Error::Upload {
                reason: "empty model",
            });
        }
        if n > self.partition_capacity() {
            return Err(Error::TooBigForPartition {
                len: n,
                capacity: self.partition_capacity(),
            });
        }
        if n > rec - start {
            return Err(Error::TooBigForSlot {
                len: n,
                slot: rec - start,
            });
        }
        let e = P::ERASE_SIZE.max(1);
        let page = |at: usize| at / e * e;
        // The served model is lost if the upload overwrites it: forget it first, and
        // erase its record with the target's, before any of its bytes.
        if slot == Slot::Single || self.active.is_some_and(|a| a.slot == Slot::Single) {
            self.active = None;
            let other = if slot == Slot::A { Slot::B } else { Slot::A };
            let (_, other_rec) = self.bounds(other);
            self.erase(page(other_rec), page(other_rec) + e)?;
        }
        self.erase(page(rec), page(rec) + e)?;
        let end = (start + n).div_ceil(e) * e;
        self.erase(start, end.min(page(rec)))?;
        self.upload = Some(Upload {
            slot,
            len,
            crc,
            next: 0,
        });
        Ok(())
    }

    /// Writes `data` at `offset` of the model being uploaded. Data must come in order
    /// (`offset` = bytes written so far), inside the announced length, and every write but
    /// the last must be a whole number of `WRITE_SIZE` units. A flash failure ends the
    /// upload.
    pub fn write(&mut self, offset: u32, data: &[u8]) -> Result<()> {
        let Some(up) = self.upload else {
            return Err(Error::Upload {
                reason: "no upload in progress",
            });
        };
        if offset != up.next {
            return Err(Error::UploadOffset {
                expected: up.next as usize,
                got: offset as usize,
            });
        }
        let end = (offset as usize).saturating_add(data.len());
        if end > up.len as usize {
            return Err(Error::Upload {
                reason: "data past the announced length",
            });
        }
        if end < up.len as usize && data.len() % P::WRITE_SIZE.max(1) != 0 {
            return Err(Error::Upload {
                reason: "data is not a whole number of flash write units",
            });
        }
        let (start, _) = self.bounds(up.slot);
        if let Err(e) = self.program(start + offset as usize, data) {
            self.upload = None;
            return Err(e);
        }
        self.upload = Some(Upload {
            next: end as u32,
            ..up
        });
        Ok(())
    }

    /// Ends the upload: reads the model back from flash, checks the announced [`model_crc`] and
    /// [`Model::load`], then writes the commit record, which makes it the model served.
    /// On any failure the model served before stays served.
    pub fn commit(&mut self) -> Result<ActiveSlot> {
        self.commit_if(|_| Ok(()))
    }

    /// [`commit`](Self::commit), with one more check before the record is written:
    /// `accept` sees the model read back (the session checks that it fits its RAM).
    pub fn commit_if(
        &mut self,
        accept: impl FnOnce(&Model<'_>) -> Result<()>,
    ) -> Result<ActiveSlot> {
        let up = self.upload.take().ok_or(Error::Upload {
            reason: "no upload in progress",
        })?;
        if up.next != up.len {
            return Err(Error::Upload {
                reason: "upload ended before the announced length",
            });
        }
        let seq = self.last_seq.map_or(1, |s| s.wrapping_add(1));
        let new = ActiveSlot {
            slot: up.slot,
            seq,
            crc: up.crc,
            len: up.len,
        };
        self.check(&new, true, accept)?;
        let (start, rec) = self.bounds(up.slot);
        let record = Record {
            seq,
            start: start as u32,
            len: up.len,
            crc: up.crc,
        };
        self.program(rec, &record.encode())?;
        let at = if up.slot == Slot::A { Slot::A } else { Slot::B };
        if self.record(at) != Some(new) {
            return Err(Error::Flash { op: "write" });
        }
        self.active = Some(new);
        self.last_seq = Some(seq);
        Ok(new)
    }

    /// Drops the upload in progress; the model served stays served.
    pub fn abort(&mut self) {
        self.upload = None;
    }

    // ---- layout ----

    /// Where `slot`'s model starts and where its record is (= where the model must end).
    fn bounds(&self, slot: Slot) -> (usize, usize) {
        let (e, w) = (P::ERASE_SIZE.max(1), P::WRITE_SIZE.max(1));
        let usable = w <= MAX_WRITE_SIZE && e % w == 0;
        let half = if usable {
            self.flash.capacity() / 2 / e * e
        } else {
            0
        };
        let start = if slot == Slot::B { half } else { 0 };
        let end = if slot == Slot::A { half } else { 2 * half };
        let rec = end.saturating_sub(record::LEN.div_ceil(w) * w);
        (start, rec.max(start))
    }

    /// The record at the end of slot `at` (A or B), if its own CRC holds and it describes
    /// a model inside its slot; a record at B's place that starts at 0 is a single-slot one.
    fn record(&self, at: Slot) -> Option<ActiveSlot> {
        let (b_start, _) = self.bounds(Slot::B);
        let (_, rec) = self.bounds(at);
        let r = Record::decode(self.flash.mapped().get(rec..)?)?;
        let slot = match (at, r.start as usize) {
            (Slot::A, 0) => Slot::A,
            (Slot::B, 0) => Slot::Single,
            (Slot::B, s) if s == b_start => Slot::B,
            _ => return None,
        };
        let (start, end) = self.bounds(slot);
        let fits = r.len > 0 && r.len as usize <= end - start;
        fits.then_some(ActiveSlot {
            slot,
            seq: r.seq,
            crc: r.crc,
            len: r.len,
        })
    }

    /// The bytes of a slot's model.
    fn bytes(&self, a: &ActiveSlot) -> Result<&[u8]> {
        let (start, _) = self.bounds(a.slot);
        let end = start + a.len as usize;
        self.flash.mapped().get(start..end).ok_or(Error::NoModel)
    }

    /// Checks a slot's model: the CRC-32 of its bytes, then the model (with its own CRC
    /// if `full`; else the first check covers it), then `accept` (the caller's check, on
    /// the one model loaded: the micro:bit's stack is small). Not inlined: its model
    /// would stay in the caller's frame under the record writes.
    #[inline(never)]
    fn check(
        &self,
        a: &ActiveSlot,
        full: bool,
        accept: impl FnOnce(&Model<'_>) -> Result<()>,
    ) -> Result<()> {
        let bytes = self.bytes(a)?;
        let computed = model_crc(bytes);
        if computed != a.crc {
            return Err(Error::CrcMismatch {
                stored: a.crc,
                computed,
            });
        }
        let model = if full {
            Model::load(bytes)
        } else {
            Model::load_without_crc(bytes)
        }?;
        // The CRC the file carries in its last four bytes is the one computed: with the
        // check above every byte is covered (at boot, where the CRC is not recomputed), and
        // a file with bytes after its own CRC, which would load now but not at the next
        // boot, is refused.
        let carried = bytes.len().checked_sub(4).and_then(|at| bytes.get(at..));
        let carried = carried
            .and_then(|c| c.try_into().ok())
            .map(u32::from_le_bytes);
        if carried != Some(computed) {
            return Err(Error::CrcMismatch {
                stored: carried.unwrap_or(0),
                computed,
            });
        }
        accept(&model)
    }

    // ---- flash ----

    /// Erases `from..to` (whole pages; nothing if empty).
    fn erase(&mut self, from: usize, to: usize) -> Result<()> {
        if from >= to {
            return Ok(());
        }
        self.flash
            .erase(from as u32, to as u32)
            .map_err(|_| Error::Flash { op: "erase" })
    }

    /// Writes `data` at `at` (a unit boundary), the last partial unit padded with 0xFF.
    fn program(&mut self, at: usize, data: &[u8]) -> Result<()> {
        let whole = data.len() / P::WRITE_SIZE.max(1) * P::WRITE_SIZE.max(1);
        let (body, tail) = data.split_at(whole);
        if !body.is_empty() {
            self.flash
                .write(at as u32, body)
                .map_err(|_| Error::Flash { op: "write" })?;
        }
        match tail.len() {
            0 => Ok(()),
            _ if P::WRITE_SIZE <= 16 => pad::<P, 16>(&mut self.flash, at + whole, tail),
            _ => pad::<P, MAX_WRITE_SIZE>(&mut self.flash, at + whole, tail),
        }
    }
}

/// Writes one unit at `at`: `tail` then 0xFF (an `N`-byte buffer on the stack, `N` ≥
/// `WRITE_SIZE`; two sizes so that small units do not cost 256 bytes of stack).
fn pad<P: NorFlash, const N: usize>(flash: &mut P, at: usize, tail: &[u8]) -> Result<()> {
    let fail = Error::Flash { op: "write" };
    let mut buf = [0xFF; N];
    let unit = buf.get_mut(..P::WRITE_SIZE).ok_or(fail)?;
    unit.get_mut(..tail.len())
        .ok_or(fail)?
        .copy_from_slice(tail);
    flash.write(at as u32, unit).map_err(|_| fail)
}
