//! The commit record: the few bytes, written last, that make a slot's model active.
//!
//! ```text
//! offset  size  field (u32 little-endian)
//! 0       4     magic "MRSR"
//! 4       4     sequence number (the newest valid record serves)
//! 8       4     model start, bytes from the partition's start
//! 12      4     model length in bytes
//! 16      4     CRC-32 of the model's bytes (as the upload announced it)
//! 20      4     CRC-32 of bytes 0..20 of this record
//! ```
//!
//! On flash the record is padded with 0xFF to a whole number of write units.

use crate::format::crc32;

/// Bytes of a record (before padding).
pub const LEN: usize = 24;

/// The four bytes a record starts with.
const MAGIC: [u8; 4] = *b"MRSR";

/// The fields of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Sequence number.
    pub seq: u32,
    /// Model start, from the partition's start.
    pub start: u32,
    /// Model length.
    pub len: u32,
    /// The model's CRC ([`crate::format::model_crc`]: of every byte but the last four).
    pub crc: u32,
}

impl Record {
    /// The record's bytes, its own CRC last.
    pub fn encode(&self) -> [u8; LEN] {
        let mut out = [0; LEN];
        let words = [self.seq, self.start, self.len, self.crc];
        out[..4].copy_from_slice(&MAGIC);
        for (slot, word) in out[4..20].chunks_exact_mut(4).zip(words) {
            slot.copy_from_slice(&word.to_le_bytes());
        }
        let own = crc32(&out[..20]);
        out[20..].copy_from_slice(&own.to_le_bytes());
        out
    }

    /// The record in `bytes`, if its magic and its own CRC hold.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let bytes = bytes.get(..LEN)?;
        let word = |i: usize| {
            let b = bytes.get(4 * i..4 * i + 4)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        if bytes.get(..4)? != MAGIC || word(5)? != crc32(bytes.get(..20)?) {
            return None;
        }
        Some(Record {
            seq: word(1)?,
            start: word(2)?,
            len: word(3)?,
            crc: word(4)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_any_flipped_bit_is_refused() {
        let r = Record {
            seq: 7,
            start: 0x8000,
            len: 1234,
            crc: 0xdead_beef,
        };
        let bytes = r.encode();
        assert_eq!(Record::decode(&bytes), Some(r));
        for bit in 0..8 * LEN {
            let mut damaged = bytes;
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Record::decode(&damaged), None, "bit {bit}");
        }
        assert_eq!(Record::decode(&[0xff; LEN]), None);
        assert_eq!(Record::decode(&bytes[..LEN - 1]), None);
    }
}
