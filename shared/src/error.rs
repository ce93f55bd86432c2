//! The one error type of the crate: every way a model file, a setting or an input can be wrong.

use core::fmt;

use crate::text::{hex, Fmt, Text};

/// Result alias used across the crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Everything that can be wrong with a model file, a workspace, a setting or an input.
///
/// Each variant names what was wrong; `Display` gives a one-line message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the model does.
    Truncated {
        /// Bytes the header says the model needs.
        needed: usize,
        /// Bytes that are there.
        got: usize,
    },
    /// The first four bytes are not `MRNN`.
    BadMagic,
    /// The format version is one this code does not read.
    UnsupportedVersion {
        /// Version found in the header.
        found: u16,
    },
    /// The reserved header flags are not zero.
    BadFlags {
        /// Flags found in the header.
        found: u16,
    },
    /// The CRC-32 stored after the body does not match the bytes.
    CrcMismatch {
        /// CRC stored in the file.
        stored: u32,
        /// CRC computed over header and body.
        computed: u32,
    },
    /// The body does not decode (it is not a postcard-encoded model body).
    Malformed,
    /// The body decodes but is followed by extra bytes inside its stated length.
    TrailingBytes,
    /// The cell kind is known but this build cannot run it.
    UnsupportedCell,
    /// The task is known but this build cannot run it.
    UnsupportedTask,
    /// The command needs the other task: `gen` on a classifier (`Classify`) or
    /// `classify` on a generator (`Generate`); holds the model's task.
    WrongTask(crate::format::Task),
    /// The vocabulary is not a sorted list of distinct characters of the stated size.
    BadVocab {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The label names do not suit the task (classification needs two or more distinct,
    /// non-empty names; generation none).
    BadLabels {
        /// What is wrong with them.
        reason: &'static str,
    },
    /// A dimension is zero or larger than this code supports.
    DimensionOutOfRange {
        /// Which dimension.
        what: &'static str,
        /// Its value.
        value: usize,
        /// The largest supported value.
        max: usize,
    },
    /// The model has a different number of tensors than its cell needs.
    TensorCount {
        /// Tensors the cell needs.
        expected: usize,
        /// Tensors in the file.
        found: usize,
    },
    /// A tensor's shape does not match the configuration.
    ShapeMismatch {
        /// Which tensor.
        tensor: &'static str,
        /// Shape (rows, columns) the configuration implies.
        expected: (usize, usize),
        /// Shape stored in the file.
        found: (usize, usize),
    },
    /// A tensor's byte range has the wrong length for its shape.
    SpanLength {
        /// Which tensor.
        tensor: &'static str,
        /// Which part of it (`weights`, `scales`, `bias`).
        field: &'static str,
        /// Bytes the shape needs.
        expected: usize,
        /// Bytes the span holds.
        found: usize,
    },
    /// A tensor's byte range points outside the data block.
    SpanOutOfRange {
        /// Which tensor.
        tensor: &'static str,
        /// Which part of it.
        field: &'static str,
        /// End offset of the span.
        end: usize,
        /// Length of the data block.
        len: usize,
    },
    /// A row scale is negative, not finite, or outside the supported range.
    BadScale {
        /// Which tensor.
        tensor: &'static str,
        /// Which row.
        row: usize,
    },
    /// A caller-given buffer is too small for this model.
    BufferTooSmall {
        /// Which buffer.
        what: &'static str,
        /// Elements the model needs.
        needed: usize,
        /// Elements the buffer has.
        capacity: usize,
    },
    /// A character is not in the model's vocabulary.
    UnknownChar {
        /// The character.
        ch: char,
    },
    /// The prefix is longer than the maximum name length.
    PrefixTooLong {
        /// Characters in the prefix.
        len: usize,
        /// Maximum name length.
        max: usize,
    },
    /// A setting is out of its range.
    BadSetting {
        /// Which setting.
        what: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Fmt(f, Ok(()));
        self.write_to(&mut out);
        out.1
    }
}

impl Error {
    /// Writes the one-line message (the `Display` text) to `t`, without `core::fmt`.
    pub fn write_to(&self, t: &mut impl Text) {
        let (mut hex_buf, mut char_buf) = ([0; 8], [0; 4]);
        let (template, strs, nums): (&str, &[&str], &[usize]) = match *self {
            Error::Truncated { needed, got } => {
                ("truncated model: needs # bytes, has #", &[], &[needed, got])
            }
            Error::BadMagic => (
                "not a micrornn model (bad magic, expected \"MRNN\")",
                &[],
                &[],
            ),
            Error::UnsupportedVersion { found } => {
                ("unsupported model format version #", &[], &[found as usize])
            }
            Error::BadFlags { found } => {
                t.s("reserved header flags are ").hex(found as u32, 4);
                (", expected 0", &[], &[])
            }
            Error::CrcMismatch { stored, computed } => {
                t.s("model is damaged: CRC-32 is ").hex(computed, 8);
                t.s(", file says ").hex(stored, 8);
                ("", &[], &[])
            }
            Error::Malformed => ("model body does not decode", &[], &[]),
            Error::TrailingBytes => ("model body has trailing bytes", &[], &[]),
            Error::UnsupportedCell => ("cell kind not supported by this build", &[], &[]),
            Error::UnsupportedTask => ("task not supported by this build", &[], &[]),
            Error::WrongTask(crate::format::Task::Classify) => {
                ("this model is a classifier: use classify NAME", &[], &[])
            }
            Error::WrongTask(crate::format::Task::Generate) => (
                "this model generates names: classify needs a classifier",
                &[],
                &[],
            ),
            Error::BadVocab { reason } => ("bad vocabulary: @", &[reason], &[]),
            Error::BadLabels { reason } => ("bad labels: @", &[reason], &[]),
            Error::DimensionOutOfRange { what, value, max } => {
                ("@ is #, supported range is 1..=#", &[what], &[value, max])
            }
            Error::TensorCount { expected, found } => (
                "model has # tensors, its cell needs #",
                &[],
                &[found, expected],
            ),
            Error::ShapeMismatch {
                tensor,
                expected,
                found,
            } => (
                "tensor @ is #x#, configuration needs #x#",
                &[tensor],
                &[found.0, found.1, expected.0, expected.1],
            ),
            Error::SpanLength {
                tensor,
                field,
                expected,
                found,
            } => (
                "tensor @ @: # bytes, its shape needs #",
                &[tensor, field],
                &[found, expected],
            ),
            Error::SpanOutOfRange {
                tensor,
                field,
                end,
                len,
            } => (
                "tensor @ @: ends at byte #, data block has #",
                &[tensor, field],
                &[end, len],
            ),
            Error::BadScale { tensor, row } => ("tensor @ row #: bad scale", &[tensor], &[row]),
            Error::BufferTooSmall {
                what,
                needed,
                capacity,
            } => (
                "@ too small: model needs #, capacity is #",
                &[what],
                &[needed, capacity],
            ),
            // Controls as U+XXXX (as `{:?}` would escape them, without its Unicode tables).
            Error::UnknownChar { ch } if ch.is_control() => (
                "character U+@ is not in the vocabulary",
                &[hex(ch as u32, 4, true, &mut hex_buf)],
                &[],
            ),
            Error::UnknownChar { ch } => (
                "character '@' is not in the vocabulary",
                &[ch.encode_utf8(&mut char_buf)],
                &[],
            ),
            Error::PrefixTooLong { len, max } => (
                "prefix has # characters, maximum length is #",
                &[],
                &[len, max],
            ),
            Error::BadSetting { what } => ("bad setting: @", &[what], &[]),
        };
        t.fill(template, strs, nums);
    }
}

impl core::error::Error for Error {}
