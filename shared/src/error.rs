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
        let n = |x: usize| x as u64;
        match *self {
            Error::Truncated { needed, got } => {
                t.s("truncated model: needs ")
                    .n(n(needed))
                    .s(" bytes, has ")
                    .n(n(got));
            }
            Error::BadMagic => t.str("not a micrornn model (bad magic, expected \"MRNN\")"),
            Error::UnsupportedVersion { found } => {
                t.s("unsupported model format version ").n(found as u64);
            }
            Error::BadFlags { found } => {
                t.s("reserved header flags are ")
                    .hex(found as u32, 4)
                    .s(", expected 0");
            }
            Error::CrcMismatch { stored, computed } => {
                t.s("model is damaged: CRC-32 is ")
                    .hex(computed, 8)
                    .s(", file says ")
                    .hex(stored, 8);
            }
            Error::Malformed => t.str("model body does not decode"),
            Error::TrailingBytes => t.str("model body has trailing bytes"),
            Error::UnsupportedCell => t.str("cell kind not supported by this build"),
            Error::UnsupportedTask => t.str("task not supported by this build"),
            Error::WrongTask(crate::format::Task::Classify) => {
                t.str("this model is a classifier: use classify NAME")
            }
            Error::WrongTask(crate::format::Task::Generate) => {
                t.str("this model generates names: classify needs a classifier")
            }
            Error::BadVocab { reason } => t.s("bad vocabulary: ").str(reason),
            Error::BadLabels { reason } => t.s("bad labels: ").str(reason),
            Error::DimensionOutOfRange { what, value, max } => {
                t.s(what)
                    .s(" is ")
                    .n(n(value))
                    .s(", supported range is 1..=")
                    .n(n(max));
            }
            Error::TensorCount { expected, found } => {
                t.s("model has ")
                    .n(n(found))
                    .s(" tensors, its cell needs ")
                    .n(n(expected));
            }
            Error::ShapeMismatch {
                tensor,
                expected,
                found,
            } => {
                t.s("tensor ")
                    .s(tensor)
                    .s(" is ")
                    .n(n(found.0))
                    .s("x")
                    .n(n(found.1));
                t.s(", configuration needs ")
                    .n(n(expected.0))
                    .s("x")
                    .n(n(expected.1));
            }
            Error::SpanLength {
                tensor,
                field,
                expected,
                found,
            } => {
                t.s("tensor ").s(tensor).s(" ").s(field).s(": ").n(n(found));
                t.s(" bytes, its shape needs ").n(n(expected));
            }
            Error::SpanOutOfRange {
                tensor,
                field,
                end,
                len,
            } => {
                t.s("tensor ")
                    .s(tensor)
                    .s(" ")
                    .s(field)
                    .s(": ends at byte ");
                t.n(n(end)).s(", data block has ").n(n(len));
            }
            Error::BadScale { tensor, row } => {
                t.s("tensor ")
                    .s(tensor)
                    .s(" row ")
                    .n(n(row))
                    .s(": bad scale");
            }
            Error::BufferTooSmall {
                what,
                needed,
                capacity,
            } => {
                t.s(what)
                    .s(" too small: model needs ")
                    .n(n(needed))
                    .s(", capacity is ")
                    .n(n(capacity));
            }
            // Controls as U+XXXX (as `{:?}` would escape them, without its Unicode tables).
            Error::UnknownChar { ch } if ch.is_control() => {
                let mut buf = [0; 8];
                t.s("character U+")
                    .s(hex(ch as u32, 4, true, &mut buf))
                    .s(" is not in the vocabulary");
            }
            Error::UnknownChar { ch } => {
                t.s("character '").c(ch).s("' is not in the vocabulary");
            }
            Error::PrefixTooLong { len, max } => {
                t.s("prefix has ")
                    .n(n(len))
                    .s(" characters, maximum length is ")
                    .n(n(max));
            }
            Error::BadSetting { what } => t.s("bad setting: ").str(what),
        }
    }
}

impl core::error::Error for Error {}
