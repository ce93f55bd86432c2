//! The one error type of the crate: every way a model file, a setting or an input can be wrong.

use core::fmt;

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
        match *self {
            Error::Truncated { needed, got } => {
                write!(f, "truncated model: needs {needed} bytes, has {got}")
            }
            Error::BadMagic => write!(f, "not a micrornn model (bad magic, expected \"MRNN\")"),
            Error::UnsupportedVersion { found } => {
                write!(f, "unsupported model format version {found}")
            }
            Error::BadFlags { found } => {
                write!(f, "reserved header flags are {found:#06x}, expected 0")
            }
            Error::CrcMismatch { stored, computed } => write!(
                f,
                "model is damaged: CRC-32 is {computed:#010x}, file says {stored:#010x}"
            ),
            Error::Malformed => write!(f, "model body does not decode"),
            Error::TrailingBytes => write!(f, "model body has trailing bytes"),
            Error::UnsupportedCell => write!(f, "cell kind not supported by this build"),
            Error::UnsupportedTask => write!(f, "task not supported by this build"),
            Error::WrongTask(crate::format::Task::Classify) => {
                write!(f, "this model is a classifier: use classify NAME")
            }
            Error::WrongTask(crate::format::Task::Generate) => {
                write!(f, "this model generates names: classify needs a classifier")
            }
            Error::BadVocab { reason } => write!(f, "bad vocabulary: {reason}"),
            Error::BadLabels { reason } => write!(f, "bad labels: {reason}"),
            Error::DimensionOutOfRange { what, value, max } => {
                write!(f, "{what} is {value}, supported range is 1..={max}")
            }
            Error::TensorCount { expected, found } => {
                write!(f, "model has {found} tensors, its cell needs {expected}")
            }
            Error::ShapeMismatch {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {tensor} is {}x{}, configuration needs {}x{}",
                found.0, found.1, expected.0, expected.1
            ),
            Error::SpanLength {
                tensor,
                field,
                expected,
                found,
            } => write!(
                f,
                "tensor {tensor} {field}: {found} bytes, its shape needs {expected}"
            ),
            Error::SpanOutOfRange {
                tensor,
                field,
                end,
                len,
            } => write!(
                f,
                "tensor {tensor} {field}: ends at byte {end}, data block has {len}"
            ),
            Error::BadScale { tensor, row } => write!(f, "tensor {tensor} row {row}: bad scale"),
            Error::BufferTooSmall {
                what,
                needed,
                capacity,
            } => {
                write!(
                    f,
                    "{what} too small: model needs {needed}, capacity is {capacity}"
                )
            }
            // `{:?}` would pull Unicode escape tables into the firmware: print controls as U+XXXX.
            Error::UnknownChar { ch } if ch.is_control() => {
                write!(f, "character U+{:04X} is not in the vocabulary", ch as u32)
            }
            Error::UnknownChar { ch } => write!(f, "character '{ch}' is not in the vocabulary"),
            Error::PrefixTooLong { len, max } => {
                write!(f, "prefix has {len} characters, maximum length is {max}")
            }
            Error::BadSetting { what } => write!(f, "bad setting: {what}"),
        }
    }
}

impl core::error::Error for Error {}
