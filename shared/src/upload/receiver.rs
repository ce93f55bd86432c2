//! The device's side of an upload: chunk lines in, `ack`/`nak` decisions out, good chunks
//! written to a [`Target`] (the model store).

use super::base64::{DecodeError, Decoder};
use super::scratch::{copy_out, u32_at, Scratch};
use super::{crc_of, CHUNK_OVERHEAD, MAX_BAD_IN_ROW};
use crate::error::Error;

/// Where the chunks go: the model store, or a buffer in tests.
pub trait Target {
    /// Writes `data` at `offset` of the model being uploaded.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error>;

    /// Every write but the last is a whole number of these bytes (the flash's write
    /// unit, a power of two ≤ 256).
    fn unit(&self) -> usize {
        1
    }
}

/// Why a chunk was refused (the `nak` line's reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nak {
    /// The line is not base64.
    Base64,
    /// The chunk is too long or too short for its place.
    Length,
    /// The chunk's CRC does not match its bytes.
    Crc,
    /// The chunk is not the one expected next.
    Offset,
}

impl Nak {
    /// The reason as sent in `nak <offset> <reason>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Nak::Base64 => "base64",
            Nak::Length => "length",
            Nak::Crc => "crc",
            Nak::Offset => "offset",
        }
    }
}

/// Why an upload is given up (the old model keeps serving).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abandon {
    /// No byte arrived for [`super::TIMEOUT_SECONDS`].
    Timeout,
    /// A line did not start with `:`.
    NotAChunk,
    /// [`MAX_BAD_IN_ROW`] bad chunks in a row.
    TooManyBadChunks,
    /// Writing to the store failed.
    Store(Error),
}

/// What to answer after a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing yet (inside a line).
    Wait,
    /// `ack <offset>`: the chunk at `offset` is written (or was already).
    Ack(u32),
    /// `nak <offset> <reason>`: send the chunk at `offset` (the next expected) again.
    Nak(u32, Nak),
    /// `ack <offset>` for the last chunk: every byte is written, commit now.
    Complete(u32),
    /// Give up the upload.
    Abandon(Abandon),
}

/// The receiving state of one upload.
#[derive(Clone, Copy, Debug)]
pub struct Receiver {
    /// Model length in bytes.
    len: u32,
    /// Data bytes per chunk (a power of two); the last chunk has the rest.
    chunk: u32,
    /// Bytes written so far = the offset of the next chunk.
    next: u32,
    /// Bad chunks since the last good one.
    bad: u8,
    /// Inside a chunk line (after its `:`).
    in_line: bool,
    /// The last byte was CR (a following LF is its line end, not an empty line).
    after_cr: bool,
    decoder: Decoder,
}

impl Receiver {
    /// Ready for the first chunk of a `len`-byte model in chunks of `chunk` data bytes (a
    /// power of two, see [`super::chunk_size`]).
    /// `after_cr`: the command line ended with CR.
    pub fn new(len: u32, chunk: u32, after_cr: bool) -> Receiver {
        Receiver {
            len,
            chunk: chunk.max(1),
            next: 0,
            bad: 0,
            in_line: false,
            after_cr,
            decoder: Decoder::new(0),
        }
    }

    /// Bytes written so far.
    pub fn received(&self) -> u32 {
        self.next
    }

    /// Data bytes per chunk.
    pub fn chunk(&self) -> u32 {
        self.chunk
    }

    /// Takes one received byte. A chunk is decoded into `scratch` (at least
    /// `chunk + 8` bytes) and, once its line ends and it checks, written to `target`.
    pub fn feed<S, T>(&mut self, b: u8, scratch: &mut S, target: &mut T) -> Step
    where
        S: Scratch + ?Sized,
        T: Target + ?Sized,
    {
        let was_cr = core::mem::replace(&mut self.after_cr, b == b'\r');
        let line_end = b == b'\r' || b == b'\n';
        if b == b'\n' && was_cr {
            Step::Wait
        } else if !self.in_line {
            if b != b':' {
                return Step::Abandon(Abandon::NotAChunk);
            }
            self.in_line = true;
            self.decoder = Decoder::new(self.chunk.saturating_add(CHUNK_OVERHEAD) as usize);
            Step::Wait
        } else if !line_end {
            self.decoder.push(b, scratch);
            Step::Wait
        } else {
            self.in_line = false;
            match self.check(scratch) {
                Ok((offset, None)) => {
                    self.bad = 0;
                    Step::Ack(offset)
                }
                Ok((offset, Some(n))) => self.write(offset, n, scratch, target),
                Err(why) => self.bad(why),
            }
        }
    }

    /// The chunk in `scratch` checked: its offset and `Some(data bytes)` to write, or
    /// `None` for a chunk already written.
    fn check<S: Scratch + ?Sized>(&self, scratch: &S) -> Result<(u32, Option<usize>), Nak> {
        let n = self.decoder.finish().map_err(|e| match e {
            DecodeError::TooLong => Nak::Length,
            _ => Nak::Base64,
        })?;
        let Some(data) = n.checked_sub(CHUNK_OVERHEAD as usize).filter(|&d| d > 0) else {
            return Err(Nak::Length);
        };
        if crc_of(scratch, 4 + data) != u32_at(scratch, 4 + data) {
            return Err(Nak::Crc);
        }
        let offset = u32_at(scratch, 0);
        if offset < self.next && offset & (self.chunk - 1) == 0 {
            return Ok((offset, None));
        }
        if offset != self.next {
            return Err(Nak::Offset);
        }
        if data as u32 != self.chunk.min(self.len.saturating_sub(self.next)) {
            return Err(Nak::Length);
        }
        Ok((offset, Some(data)))
    }

    /// Writes the checked chunk's `n` data bytes to `target`, through a buffer on the
    /// stack of 64 bytes, or 256 for a flash with a larger write unit.
    fn write<S, T>(&mut self, offset: u32, n: usize, scratch: &S, target: &mut T) -> Step
    where
        S: Scratch + ?Sized,
        T: Target + ?Sized,
    {
        let written = match target.unit() {
            u if 64 % u.max(1) == 0 => pieces::<S, T, 64>(offset, n, scratch, target),
            _ => pieces::<S, T, 256>(offset, n, scratch, target),
        };
        if let Err(e) = written {
            return Step::Abandon(Abandon::Store(e));
        }
        self.next += n as u32;
        self.bad = 0;
        match self.next >= self.len {
            true => Step::Complete(offset),
            false => Step::Ack(offset),
        }
    }

    fn bad(&mut self, why: Nak) -> Step {
        self.bad = self.bad.saturating_add(1);
        if self.bad >= MAX_BAD_IN_ROW {
            return Step::Abandon(Abandon::TooManyBadChunks);
        }
        Step::Nak(self.next, why)
    }
}

/// Copies bytes `4..4 + n` of `scratch` to `target` at `offset`, `N` at a time.
fn pieces<S, T, const N: usize>(
    offset: u32,
    n: usize,
    scratch: &S,
    target: &mut T,
) -> Result<(), Error>
where
    S: Scratch + ?Sized,
    T: Target + ?Sized,
{
    let mut piece = [0u8; N];
    let mut done = 0;
    while done < n {
        let k = N.min(n - done);
        let piece = piece.get_mut(..k).unwrap_or_default();
        copy_out(scratch, 4 + done, piece);
        target.write(offset + done as u32, piece)?;
        done += k;
    }
    Ok(())
}

impl<P: crate::store::Partition> Target for crate::store::ModelStore<P> {
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        crate::store::ModelStore::write(self, offset, data)
    }
    fn unit(&self) -> usize {
        P::WRITE_SIZE
    }
}
