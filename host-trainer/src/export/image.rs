//! A memory image: bytes at addresses, in pieces, as a chip's flash will hold them.
//!
//! The one thing every flash file format is written from ([`super::uf2`],
//! [`super::ihex`], [`super::bin`]): firmware segments read from an ELF
//! ([`super::elf`]), a model in its partition ([`super::partition`]), or both.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

/// Bytes at addresses: non-overlapping segments, adjacent ones merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// Start address → bytes. No two overlap; none is empty; none ends past 4 GiB.
    segments: BTreeMap<u32, Vec<u8>>,
}

impl Image {
    /// An empty image.
    pub fn new() -> Self {
        Image::default()
    }

    /// Puts `bytes` at `addr`. Refuses bytes that overlap what is there or run past the
    /// 32-bit address space; empty `bytes` change nothing.
    pub fn add(&mut self, addr: u32, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let end = u64::from(addr) + bytes.len() as u64;
        if end > 1 << 32 {
            bail!(
                "{} bytes at {addr:#010x} run past the 32-bit address space",
                bytes.len()
            );
        }
        for (&a, b) in self.segments.range(..end as u32) {
            let b_end = u64::from(a) + b.len() as u64;
            if b_end > u64::from(addr) && (a as u64) < end {
                bail!(
                    "{addr:#010x}..{end:#010x} overlaps {a:#010x}..{b_end:#010x}, already in the image"
                );
            }
        }
        // Merge with the segment that ends where this one starts, and the one that
        // starts where this one ends.
        let mut start = addr;
        let mut data = bytes.to_vec();
        if let Some((&a, b)) = self.segments.range(..addr).next_back() {
            if u64::from(a) + b.len() as u64 == u64::from(addr) {
                let mut joined = self.segments.remove(&a).unwrap_or_default();
                joined.extend_from_slice(&data);
                start = a;
                data = joined;
            }
        }
        if end < 1 << 32 {
            if let Some(next) = self.segments.remove(&(end as u32)) {
                data.extend_from_slice(&next);
            }
        }
        self.segments.insert(start, data);
        Ok(())
    }

    /// Adds every segment of `other` (refused if any overlaps).
    pub fn merge(&mut self, other: &Image) -> Result<()> {
        for (addr, bytes) in other.segments() {
            self.add(addr, bytes)?;
        }
        Ok(())
    }

    /// The segments in address order: (start, bytes).
    pub fn segments(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.segments.iter().map(|(&a, b)| (a, b.as_slice()))
    }

    /// True if the image holds no byte.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The lowest address that holds a byte.
    pub fn start(&self) -> Option<u32> {
        self.segments.keys().next().copied()
    }

    /// One past the highest address that holds a byte (a `u64`: it may be 2^32).
    pub fn end(&self) -> Option<u64> {
        self.segments
            .iter()
            .next_back()
            .map(|(&a, b)| u64::from(a) + b.len() as u64)
    }

    /// Bytes the segments hold (gaps not counted).
    pub fn len(&self) -> usize {
        self.segments.values().map(Vec::len).sum()
    }

    /// The byte at `addr`, if the image holds one.
    pub fn byte(&self, addr: u32) -> Option<u8> {
        let (&a, b) = self.segments.range(..=addr).next_back()?;
        b.get((addr - a) as usize).copied()
    }

    /// The same bytes with every `unit`-byte block the image touches made whole, the
    /// missing bytes set to `fill` (e.g. whole flash sectors, padded with erased 0xFF).
    /// `unit` must be a power of two.
    pub fn padded(&self, unit: u32, fill: u8) -> Result<Image> {
        if !unit.is_power_of_two() {
            bail!("cannot pad to {unit}-byte blocks: not a power of two");
        }
        let unit = u64::from(unit);
        let mut blocks = std::collections::BTreeSet::new();
        for (a, b) in self.segments() {
            let first = u64::from(a) / unit;
            let last = (u64::from(a) + b.len() as u64 - 1) / unit;
            blocks.extend(first..=last);
        }
        let mut out = Image::new();
        for block in blocks {
            let lo = block * unit;
            let mut bytes = vec![fill; unit as usize];
            for (a, b) in self.segments() {
                let (a, e) = (u64::from(a), u64::from(a) + b.len() as u64);
                let (from, to) = (a.max(lo), e.min(lo + unit));
                if from < to {
                    bytes[(from - lo) as usize..(to - lo) as usize]
                        .copy_from_slice(&b[(from - a) as usize..(to - a) as usize]);
                }
            }
            out.add(lo as u32, &bytes)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_pieces_merge_and_overlaps_are_refused() {
        let mut im = Image::new();
        im.add(0x100, &[1, 2]).unwrap();
        im.add(0x104, &[5]).unwrap();
        im.add(0x102, &[3, 4]).unwrap();
        let segs: Vec<_> = im.segments().collect();
        assert_eq!(segs, vec![(0x100, &[1, 2, 3, 4, 5][..])]);
        assert!(im.add(0x0ff, &[0, 0]).is_err());
        assert!(im.add(0x104, &[0]).is_err());
        assert!(im.add(0x0f0, &[0; 0x20]).is_err());
        assert!(im.add(0xffff_ffff, &[0, 0]).is_err());
        im.add(0xffff_ffff, &[9]).unwrap();
        assert_eq!(im.end(), Some(1 << 32));
        assert_eq!(im.byte(0x103), Some(4));
        assert_eq!(im.byte(0x105), None);
        assert_eq!(im.len(), 6);
    }

    #[test]
    fn padding_makes_whole_blocks_without_touching_data() {
        let mut im = Image::new();
        im.add(0x1003, &[0xAA; 3]).unwrap();
        im.add(0x100E, &[0xBB; 4]).unwrap(); // crosses into the next 16-byte block
        im.add(0x1040, &[0xCC]).unwrap();
        let p = im.padded(16, 0xFF).unwrap();
        let segs: Vec<_> = p.segments().map(|(a, b)| (a, b.len())).collect();
        assert_eq!(segs, vec![(0x1000, 32), (0x1040, 16)]);
        assert_eq!(p.byte(0x1002), Some(0xFF));
        assert_eq!(p.byte(0x1003), Some(0xAA));
        assert_eq!(p.byte(0x1011), Some(0xBB));
        assert_eq!(p.byte(0x1012), Some(0xFF));
        assert_eq!(p.byte(0x1040), Some(0xCC));
        assert_eq!(p.byte(0x104F), Some(0xFF));
        assert!(im.padded(12, 0).is_err());
    }
}
