//! Putting a model on the device over its serial line: verified chunks in text lines.
//!
//! ```text
//! host                                   device
//! upload <len> <crc> [single]      →     (checks the size, erases the target slot)
//!                                  ←     ready <chunk>            or  err <why>
//! :<base64 of chunk at offset 0>   →     (decodes into the network arena, checks, writes)
//!                                  ←     ack 0                    or  nak <offset> <reason>
//! :<base64 of chunk at offset C>   →
//! ...                                    (after the last chunk's ack: verifies, commits)
//!                                  ←     ack <last>, model …, ok  or  err <why>
//! ```
//!
//! - `<len>` is the model's length in bytes (decimal), `<crc>` the model's CRC as 8 hex
//!   digits: the CRC-32 (ISO-HDLC, as in the model file) of every byte but the last four —
//!   for a valid `.mrnn` file, the value it carries there
//!   ([`model_crc`](crate::format::model_crc)). The device checks it on what it wrote, the
//!   store records it, and `info`'s `slot` line names the model by it.
//!   `single` lets a model larger than one slot take the whole partition (the old model is
//!   erased first: an interrupted upload leaves none).
//! - `<chunk>` is the data bytes per chunk: a power of two from [`MIN_CHUNK`] to
//!   [`MAX_CHUNK`] that fits the device's network arena with [`CHUNK_OVERHEAD`] bytes
//!   ([`chunk_size`]). Every chunk holds exactly `<chunk>` bytes but the last.
//! - A chunk line is `:` and the base64 (RFC 4648, padded) of `offset (u32 LE) ‖ data ‖
//!   crc32(offset ‖ data) (u32 LE)`, ended by CR LF (or CR, or LF). Chunks go in order,
//!   each after the previous one's `ack`; the device echoes nothing during an upload.
//! - `ack <offset>`: the chunk is written (a chunk sent again after its `ack` is
//!   acknowledged again, not rewritten). `nak <offset> <reason>`: the chunk was refused
//!   (`base64`, `length`, `crc`, `offset`); `<offset>` is the one the device expects next,
//!   to be sent again. The host sends a chunk at most [`MAX_TRIES`] more times.
//! - The device gives up, answers `err upload abandoned: <why>` and goes back to the
//!   command loop with the old model on: no byte for [`TIMEOUT_SECONDS`], a line that does
//!   not start with `:` (an empty one included), or [`MAX_BAD_IN_ROW`] bad chunks in a row.
//!
//! Wire cost: `(chunk + 8) · 4/3 + 3` bytes per `chunk` model bytes, 1.37 for 512-byte
//! chunks and 1.34 for 4096 ([`wire_bytes`]).

mod base64;
mod host;
mod receiver;
mod scratch;

pub use base64::{encode as base64_encode, encoded_len, DecodeError, Decoder};
pub use host::{
    chunk_line, chunk_line_len, command, parse_reply, wire_bytes, Event, Reply, Sender,
};
pub use receiver::{Abandon, Nak, Receiver, Step, Target};
pub use scratch::Scratch;

/// Smallest chunk a device offers (smaller ones would cost more than 1.4 wire bytes per
/// model byte).
pub const MIN_CHUNK: u32 = 256;
/// Largest chunk a device offers.
pub const MAX_CHUNK: u32 = 4096;
/// Bytes of a decoded chunk besides its data: the offset and the CRC.
pub const CHUNK_OVERHEAD: u32 = 8;
/// Bad chunks in a row after which the device gives up.
pub const MAX_BAD_IN_ROW: u8 = 4;
/// Times the host sends a refused chunk again before it gives up.
pub const MAX_TRIES: u8 = 3;
/// Seconds without a byte after which the device gives up.
pub const TIMEOUT_SECONDS: u32 = 3;

/// The chunk size a device with `scratch_bytes` of scratch memory offers: the largest
/// power of two ≤ [`MAX_CHUNK`] with its [`CHUNK_OVERHEAD`] in the scratch, or `None`
/// below [`MIN_CHUNK`].
pub fn chunk_size(scratch_bytes: usize) -> Option<u32> {
    let room = scratch_bytes.saturating_sub(CHUNK_OVERHEAD as usize);
    let mut chunk = MAX_CHUNK;
    while chunk as usize > room && chunk >= MIN_CHUNK {
        chunk /= 2;
    }
    (chunk >= MIN_CHUNK).then_some(chunk)
}

/// What the host asks for with `upload <len> <crc> [single]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Model length in bytes.
    pub len: u32,
    /// CRC-32 of the model.
    pub crc: u32,
    /// Take the whole partition (the old model is erased first).
    pub single: bool,
}

impl Request {
    /// The request in the words after `upload`, or `None` when they are not
    /// `<len> <8 hex digits> [single]`.
    pub fn parse<'a>(mut words: impl Iterator<Item = &'a str>) -> Option<Request> {
        let len = parse_u32(words.next()?, 10)?;
        let crc = words.next().filter(|w| w.len() == 8)?;
        let crc = parse_u32(crc, 16)?;
        let single = match words.next() {
            None => false,
            Some("single") => true,
            Some(_) => return None,
        };
        words
            .next()
            .is_none()
            .then_some(Request { len, crc, single })
    }
}

/// Digits in base `radix` as a `u32`, `None` if empty, not digits, or too large (by
/// hand: `str::parse` and `from_str_radix` cost the micro:bit 450 bytes of code).
fn parse_u32(w: &str, radix: u32) -> Option<u32> {
    if w.is_empty() {
        return None;
    }
    w.bytes().try_fold(0u32, |n, b| {
        let d = (b as char).to_digit(radix)?;
        n.checked_mul(radix)?.checked_add(d)
    })
}

/// Adds `b` to a CRC-32 (ISO-HDLC, reflected, bit by bit: no table, little code) whose
/// register is `crc`; start with `!0`, end with `!crc`.
pub(crate) fn crc_step(mut crc: u32, b: u8) -> u32 {
    crc ^= b as u32;
    for _ in 0..8 {
        crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
    }
    crc
}

/// CRC-32 (ISO-HDLC, as in the model file) of bytes `0..n` of `s`.
fn crc_of<S: Scratch + ?Sized>(s: &S, n: usize) -> u32 {
    !(0..n).fold(!0, |crc, i| crc_step(crc, s.get(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_fit_the_arena() {
        assert_eq!(chunk_size(1024), Some(512));
        assert_eq!(chunk_size(1032), Some(1024));
        assert_eq!(chunk_size(1031), Some(512));
        assert_eq!(chunk_size(264), Some(256));
        assert_eq!(chunk_size(263), None);
        assert_eq!(chunk_size(0), None);
        assert_eq!(chunk_size(1 << 20), Some(4096));
        assert_eq!(chunk_size(usize::MAX), Some(4096));
    }

    #[test]
    fn requests_parse_strictly() {
        let p = |s: &str| Request::parse(s.split_ascii_whitespace());
        let want = Request {
            len: 1234,
            crc: 0x00ab_cdef,
            single: false,
        };
        assert_eq!(p("1234 00abcdef"), Some(want));
        let single = Request {
            single: true,
            ..want
        };
        assert_eq!(p("1234 00ABCDEF single"), Some(single));
        let max = p("4294967295 ffffffff").unwrap();
        assert_eq!((max.len, max.crc), (u32::MAX, u32::MAX));
        for bad in [
            "",
            "1234",
            "1234 abcdef",
            "1234 00abcdefg",
            "1234 +0abcdef",
            "-1 00abcdef",
            "x 00abcdef",
            "1234 00abcdef twice",
            "1234 00abcdef single more",
            "99999999999 00abcdef",
            "4294967296 00abcdef",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(crc_of(&b"123456789"[..], 9), 0xCBF4_3926);
        assert_eq!(crc_of(&[0i32; 1][..], 0), 0);
    }
}
