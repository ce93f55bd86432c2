//! The model file (`.mrnn`): a fixed header, a postcard body, a CRC-32.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "MRNN"
//! 4       2     format version, u16 little-endian (= FORMAT_VERSION)
//! 6       2     flags, u16 little-endian, reserved (= 0)
//! 8       4     body length N, u32 little-endian
//! 12      N     body: postcard encoding of `Body`
//! 12+N    4     CRC-32 (ISO-HDLC, as zlib) of bytes 0..12+N, u32 little-endian
//! ```
//!
//! Bytes after the CRC are ignored, so a model can sit at the start of a larger flash
//! partition. The body holds the configuration, the vocabulary, the label names, a table
//! of tensors (fixed-size little-endian records, see [`TensorEntry::RECORD_LEN`]) and one
//! data block; each tensor entry points into the data block with byte spans, so the table
//! and the int8 weights are borrowed from the file without copying, and decoding needs
//! only a few hundred bytes of stack.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The four bytes every model file starts with.
pub const MAGIC: [u8; 4] = *b"MRNN";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes before the body.
pub const HEADER_LEN: usize = 12;
/// Bytes after the body (the CRC).
pub const TRAILER_LEN: usize = 4;

/// CRC-32 (ISO-HDLC) computed bit by bit: no table, so it costs the device's flash only
/// its loop (the byte-wise table would take 1 KB); models are checked once, at load.
const CRC: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// The recurrent cell a model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellKind {
    /// Vanilla (Elman) RNN: `h' = tanh(W_x x + W_h h + b)`.
    Rnn,
    /// Gated recurrent unit.
    Gru,
    /// Long short-term memory.
    Lstm,
}

impl CellKind {
    /// Gate blocks per layer, each `hidden` rows: RNN 1 (`h`), GRU 3 (`r, z, n`),
    /// LSTM 4 (`i, f, g, o`), in that order (PyTorch's).
    pub const fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }
}

/// What the model's output means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Next-character prediction: the output layer has one row per token.
    Generate,
    /// Many-to-one classification: the output layer has one row per label.
    Classify,
    /// Encoder–decoder (spelling → phonemes). Declared so that the variants' postcard
    /// indices are fixed; this build's loader refuses it ([`crate::Error::UnsupportedTask`]).
    Seq2seq,
    /// Many-to-one classification of a text read as words (`crate::words`): the file's
    /// vocabulary is a word list, the output layer has one row per label, and at most
    /// `max_words` tokens of a text are read (the rest is ignored).
    ClassifyWords {
        /// Tokens read from a text, at least 1.
        max_words: u16,
    },
}

impl Task {
    /// The task's name as `info` and `inspect` print it.
    pub const fn name(self) -> &'static str {
        match self {
            Task::Generate => "generate",
            Task::Classify => "classify",
            Task::Seq2seq => "seq2seq",
            Task::ClassifyWords { .. } => "classify-words",
        }
    }

    /// Whether the output layer has one row per label (either classifier).
    pub const fn is_classifier(self) -> bool {
        matches!(self, Task::Classify | Task::ClassifyWords { .. })
    }
}

/// Hyper-parameters that fix every tensor's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Recurrent cell.
    pub cell: CellKind,
    /// Task.
    pub task: Task,
    /// Number of stacked recurrent layers.
    pub layers: u8,
    /// Hidden units per layer.
    pub hidden: u16,
    /// Width of the learned character embedding; 0 = one-hot input.
    pub embed: u16,
    /// Number of tokens: characters + start + end.
    pub vocab_size: u16,
}

/// A byte range inside the body's data block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Offset from the start of the data block.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
}

/// One quantized matrix: shape and where its bytes are.
///
/// Stored in the body's tensor table as a [`TensorEntry::RECORD_LEN`]-byte record:
/// `rows u16, cols u16, weights.offset u32, weights.len u32, scales.offset u32,
/// scales.len u32, bias.offset u32, bias.len u32`, all little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorEntry {
    /// Rows (output units).
    pub rows: u16,
    /// Columns (inputs per row).
    pub cols: u16,
    /// `rows * cols` int8 weights, row-major.
    pub weights: Span,
    /// `rows` f32 little-endian scales: weight = int8 * scale.
    pub scales: Span,
    /// `rows` i32 little-endian Q16 biases, or empty.
    pub bias: Span,
}

impl TensorEntry {
    /// Bytes of one record in the tensor table.
    pub const RECORD_LEN: usize = 28;

    /// The record of this entry.
    pub fn to_record(&self) -> [u8; Self::RECORD_LEN] {
        let mut r = [0u8; Self::RECORD_LEN];
        r[0..2].copy_from_slice(&self.rows.to_le_bytes());
        r[2..4].copy_from_slice(&self.cols.to_le_bytes());
        let spans = [self.weights, self.scales, self.bias];
        for (i, s) in spans.iter().enumerate() {
            r[4 + 8 * i..8 + 8 * i].copy_from_slice(&s.offset.to_le_bytes());
            r[8 + 8 * i..12 + 8 * i].copy_from_slice(&s.len.to_le_bytes());
        }
        r
    }

    /// Decodes one record.
    pub fn from_record(r: &[u8; Self::RECORD_LEN]) -> TensorEntry {
        let u16_at = |i: usize| u16::from_le_bytes([r[i], r[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
        let span = |i: usize| Span {
            offset: u32_at(i),
            len: u32_at(i + 4),
        };
        TensorEntry {
            rows: u16_at(0),
            cols: u16_at(2),
            weights: span(4),
            scales: span(12),
            bias: span(20),
        }
    }

    /// The entries of a tensor table; `None` if its length is not a whole number of records.
    pub fn table(bytes: &[u8]) -> Option<impl Iterator<Item = TensorEntry> + '_> {
        if bytes.len() % Self::RECORD_LEN != 0 {
            return None;
        }
        Some(bytes.chunks_exact(Self::RECORD_LEN).map(|c| {
            let mut r = [0u8; Self::RECORD_LEN];
            r.copy_from_slice(c);
            TensorEntry::from_record(&r)
        }))
    }
}

/// The postcard-encoded body of a model file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body<'a> {
    /// Hyper-parameters.
    pub config: Config,
    /// Sorted distinct characters, as UTF-8.
    #[serde(borrow)]
    pub vocab: &'a str,
    /// Label names separated by `\n` (classification), empty for generation.
    #[serde(borrow)]
    pub labels: &'a str,
    /// The tensor table: one [`TensorEntry::RECORD_LEN`]-byte record per tensor, in the
    /// order the cell defines (see [`TensorEntry::table`]).
    #[serde(borrow)]
    pub tensors: &'a [u8],
    /// All tensor bytes.
    #[serde(borrow)]
    pub data: &'a [u8],
}

/// CRC-32 (ISO-HDLC, the zlib/PNG polynomial) of `bytes`, as stored in the model file.
pub fn crc32(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}

/// The CRC-32 that identifies a model file: over every byte but its last four, which is
/// the value a valid file carries there. (The CRC-32 of a whole model file is the same
/// `2144df1c` for every valid file: the residue of bytes that end with their own CRC.)
/// The `upload` command announces it, the model store records it, `info` reports it.
pub fn model_crc(file: &[u8]) -> u32 {
    crc32(
        file.get(..file.len().saturating_sub(TRAILER_LEN))
            .unwrap_or_default(),
    )
}

/// Writes a complete model file (header, body, CRC) into `out`; returns its length.
pub fn encode(body: &Body<'_>, out: &mut [u8]) -> Result<usize> {
    if out.len() < HEADER_LEN + TRAILER_LEN {
        return Err(Error::BufferTooSmall {
            what: "output buffer",
            needed: HEADER_LEN + TRAILER_LEN,
            capacity: out.len(),
        });
    }
    let capacity = out.len();
    let body_end = out.len() - TRAILER_LEN;
    let body_len = postcard::to_slice(body, &mut out[HEADER_LEN..body_end])
        .map_err(|_| Error::BufferTooSmall {
            what: "output buffer",
            needed: capacity + 1,
            capacity,
        })?
        .len();
    out[0..4].copy_from_slice(&MAGIC);
    out[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[6..8].copy_from_slice(&0u16.to_le_bytes());
    out[8..12].copy_from_slice(&(body_len as u32).to_le_bytes());
    let end = HEADER_LEN + body_len;
    let crc = crc32(&out[..end]);
    out[end..end + TRAILER_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(end + TRAILER_LEN)
}

/// Checks header and CRC and decodes the body, borrowing from `bytes`.
///
/// This validates the container only; [`crate::Model::load`] validates the contents.
pub fn decode(bytes: &[u8]) -> Result<Body<'_>> {
    decode_with(bytes, true)
}

/// As [`decode`], comparing the stored CRC with the bytes only if `check_crc`.
pub(crate) fn decode_with(bytes: &[u8], check_crc: bool) -> Result<Body<'_>> {
    let got = bytes.len();
    if got < 4 {
        return Err(Error::Truncated {
            needed: HEADER_LEN + TRAILER_LEN,
            got,
        });
    }
    if bytes[0..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    if got < HEADER_LEN {
        return Err(Error::Truncated {
            needed: HEADER_LEN + TRAILER_LEN,
            got,
        });
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion { found: version });
    }
    let flags = u16::from_le_bytes([bytes[6], bytes[7]]);
    if flags != 0 {
        return Err(Error::BadFlags { found: flags });
    }
    let body_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let needed = HEADER_LEN
        .saturating_add(body_len)
        .saturating_add(TRAILER_LEN);
    if got < needed {
        return Err(Error::Truncated { needed, got });
    }
    let end = HEADER_LEN + body_len;
    if check_crc {
        let stored =
            u32::from_le_bytes([bytes[end], bytes[end + 1], bytes[end + 2], bytes[end + 3]]);
        let computed = crc32(&bytes[..end]);
        if stored != computed {
            return Err(Error::CrcMismatch { stored, computed });
        }
    }
    let (body, rest) = postcard::take_from_bytes::<Body<'_>>(&bytes[HEADER_LEN..end])
        .map_err(|_| Error::Malformed)?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes);
    }
    Ok(body)
}

/// Total length of the model file at the start of `bytes`, read from its header, if the
/// header is there and valid. Useful to cut a model out of a flash partition.
pub fn file_len(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < HEADER_LEN || bytes[0..4] != MAGIC {
        return None;
    }
    let body_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    body_len.checked_add(HEADER_LEN + TRAILER_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_iso_hdlc() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }
}
