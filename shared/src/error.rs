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
    /// The command needs the other task: `gen` on a classifier (`Classify`) or
    /// `classify` on a generator (`Generate`); holds the model's task.
    WrongTask(crate::format::Task),
    /// The vocabulary is not a sorted list of distinct characters of the stated size.
    BadVocab {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A word of a word vocabulary is empty, out of order, repeated or not a word.
    BadWord {
        /// The word's index in the vocabulary (0-based; its id is `index + 2`).
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The model's task is one this build does not run.
    UnsupportedTask {
        /// The task's name.
        task: &'static str,
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
    /// A caller-given buffer is too small for this model. Both sizes are in bytes,
    /// whatever the buffer's element type (an `i32` arena of `n` words holds `4 n` bytes).
    BufferTooSmall {
        /// Which buffer.
        what: &'static str,
        /// Bytes the model needs.
        needed: usize,
        /// Bytes the buffer has.
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
    /// A word to pronounce is longer than a seq2seq model reads.
    #[cfg(feature = "seq2seq")]
    InputTooLong {
        /// Characters in the word.
        len: usize,
        /// Most characters the model reads.
        max: usize,
    },
    /// A seq2seq model's configuration or phonemes do not fit together.
    #[cfg(feature = "seq2seq")]
    BadSeq2seq {
        /// What is wrong.
        reason: &'static str,
    },
    /// A setting is out of its range.
    BadSetting {
        /// Which setting.
        what: &'static str,
    },
    /// The model store holds no valid model (empty, or its upload was interrupted).
    NoModel,
    /// A two-slot upload is larger than one slot of the model store.
    TooBigForSlot {
        /// Bytes of the model.
        len: usize,
        /// Bytes one slot holds.
        slot: usize,
    },
    /// An upload is larger than the whole model partition.
    TooBigForPartition {
        /// Bytes of the model.
        len: usize,
        /// Bytes the partition holds.
        capacity: usize,
    },
    /// An upload step the model store cannot take (none begun, empty, incomplete, ...).
    Upload {
        /// What is wrong.
        reason: &'static str,
    },
    /// Upload data that does not continue where the previous data ended.
    UploadOffset {
        /// The offset the store expects next.
        expected: usize,
        /// The offset it was given.
        got: usize,
    },
    /// The flash refused an operation (`erase` or `write`).
    Flash {
        /// Which operation.
        op: &'static str,
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
        let char_quoted: [&str; 3];
        let (template, strs, nums): (&str, &[&str], &[usize]) = match *self {
            Error::Truncated { needed, got } => (
                "truncated model: needs %d bytes, has %d",
                &[],
                &[needed, got],
            ),
            Error::BadMagic => (
                "not a micrornn model (bad magic, expected \"MRNN\")",
                &[],
                &[],
            ),
            Error::UnsupportedVersion { found } => (
                "unsupported model format version %d",
                &[],
                &[found as usize],
            ),
            Error::BadFlags { found } => {
                t.text("reserved header flags are ").hex(found as u32, 4);
                (", expected 0", &[], &[])
            }
            Error::CrcMismatch { stored, computed } => {
                t.text("model is damaged: CRC-32 is ").hex(computed, 8);
                t.text(", file says ").hex(stored, 8);
                ("", &[], &[])
            }
            Error::Malformed => ("model body does not decode", &[], &[]),
            Error::TrailingBytes => ("model body has trailing bytes", &[], &[]),
            Error::WrongTask(crate::format::Task::Classify) => {
                ("this model is a classifier: use classify NAME", &[], &[])
            }
            Error::WrongTask(crate::format::Task::Generate) => (
                "this model generates names: classify needs a classifier",
                &[],
                &[],
            ),
            Error::WrongTask(crate::format::Task::ClassifyWords { .. }) => (
                "this model classifies text: use classify TEXT or text",
                &[],
                &[],
            ),
            #[cfg(feature = "seq2seq")]
            Error::WrongTask(crate::format::Task::Seq2seq) => (
                "this model is an encoder-decoder: use pronounce WORD",
                &[],
                &[],
            ),
            // Never said: a build without the feature does not load one.
            #[cfg(not(feature = "seq2seq"))]
            Error::WrongTask(crate::format::Task::Seq2seq) => {
                ("this model is an encoder-decoder", &[], &[])
            }
            Error::BadWord { index, reason } => {
                ("bad word vocabulary: word %d %s", &[reason], &[index])
            }
            Error::UnsupportedTask { task } => {
                ("%s models are not supported by this build", &[task], &[])
            }
            Error::BadVocab { reason } => ("bad vocabulary: %s", &[reason], &[]),
            Error::BadLabels { reason } => ("bad labels: %s", &[reason], &[]),
            Error::DimensionOutOfRange { what, value, max } => (
                "%s is %d, supported range is 1..=%d",
                &[what],
                &[value, max],
            ),
            Error::TensorCount { expected, found } => (
                "model has %d tensors, its cell needs %d",
                &[],
                &[found, expected],
            ),
            Error::ShapeMismatch {
                tensor,
                expected,
                found,
            } => (
                "tensor %s is %dx%d, configuration needs %dx%d",
                &[tensor],
                &[found.0, found.1, expected.0, expected.1],
            ),
            Error::SpanLength {
                tensor,
                field,
                expected,
                found,
            } => (
                "tensor %s %s: %d bytes, its shape needs %d",
                &[tensor, field],
                &[found, expected],
            ),
            Error::SpanOutOfRange {
                tensor,
                field,
                end,
                len,
            } => (
                "tensor %s %s: ends at byte %d, data block has %d",
                &[tensor, field],
                &[end, len],
            ),
            Error::BadScale { tensor, row } => ("tensor %s row %d: bad scale", &[tensor], &[row]),
            Error::BufferTooSmall {
                what,
                needed,
                capacity,
            } => (
                "%s too small: needs %d bytes, has %d bytes",
                &[what],
                &[needed, capacity],
            ),
            // 'c', or a control as U+XXXX (as `{:?}` would escape it, without its Unicode
            // tables).
            Error::UnknownChar { ch } => {
                char_quoted = if ch.is_control() {
                    ["U+", hex(ch as u32, 4, true, &mut hex_buf), ""]
                } else {
                    ["'", ch.encode_utf8(&mut char_buf), "'"]
                };
                (
                    "character %s%s%s is not in the vocabulary",
                    &char_quoted,
                    &[],
                )
            }
            Error::PrefixTooLong { len, max } => (
                "prefix has %d characters, maximum length is %d",
                &[],
                &[len, max],
            ),
            #[cfg(feature = "seq2seq")]
            Error::InputTooLong { len, max } => (
                "word has %d characters, the model reads at most %d",
                &[],
                &[len, max],
            ),
            #[cfg(feature = "seq2seq")]
            Error::BadSeq2seq { reason } => ("bad seq2seq model: %s", &[reason], &[]),
            Error::BadSetting { what } => ("bad setting: %s", &[what], &[]),
            Error::NoModel => ("no valid model", &[], &[]),
            Error::TooBigForSlot { len, slot } => (
                "model is %d bytes, a slot holds %d (--single-slot uses the whole partition)",
                &[],
                &[len, slot],
            ),
            Error::TooBigForPartition { len, capacity } => (
                "model is %d bytes, the partition holds %d",
                &[],
                &[len, capacity],
            ),
            Error::Upload { reason } => ("upload: %s", &[reason], &[]),
            Error::UploadOffset { expected, got } => (
                "upload: data at offset %d, expected offset %d",
                &[],
                &[got, expected],
            ),
            Error::Flash { op } => ("flash %s failed", &[op], &[]),
        };
        t.printf(template, strs, nums);
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Display` into a fixed buffer.
    fn message(e: Error) -> heapless::String<120> {
        let mut s = heapless::String::new();
        core::fmt::Write::write_fmt(&mut s, format_args!("{e}")).unwrap();
        s
    }

    #[test]
    fn messages_fill_in_every_field() {
        let cases = [
            (
                Error::UnknownChar { ch: 'é' },
                "character 'é' is not in the vocabulary",
            ),
            (
                Error::UnknownChar { ch: '\u{1b}' },
                "character U+001B is not in the vocabulary",
            ),
            (
                Error::ShapeMismatch {
                    tensor: "w_out",
                    expected: (4, 2),
                    found: (3, 5),
                },
                "tensor w_out is 3x5, configuration needs 4x2",
            ),
            (
                Error::CrcMismatch {
                    stored: 0xdead_beef,
                    computed: 0x0012_3456,
                },
                "model is damaged: CRC-32 is 0x00123456, file says 0xdeadbeef",
            ),
            (
                Error::BadFlags { found: 1 },
                "reserved header flags are 0x0001, expected 0",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(message(e), want);
        }
    }

    /// Every short buffer is reported in bytes, and the message says so.
    #[test]
    fn buffer_too_small_counts_bytes_everywhere() {
        use crate::cell::{FloatLayer, FloatWeights, NetF, NetQ};
        use crate::format::CellKind;
        let file = include_bytes!("../tests/fixtures/names.mrnn");
        let model = crate::model::Model::load(file).unwrap();
        let v = model.outputs();
        let mut arena = [0i32; 4096];
        let mut net = NetQ::new(&model, &mut arena).unwrap();
        let (mut short, mut rng) = ([0i32; 3], crate::rng::Rng::new(1));
        let settings = crate::sampler::Settings::default();
        let e = crate::generate::generate(
            &mut net,
            &model.vocab,
            &settings,
            "",
            &mut rng,
            &mut short,
            |_| {},
        )
        .unwrap_err();
        let bytes = |needed: usize, capacity: usize, what| Error::BufferTooSmall {
            what,
            needed,
            capacity,
        };
        assert_eq!(e, bytes(4 * v, 12, "logits buffer"));
        let e = crate::classify::classify(&mut net, &model.vocab, "ab", &mut short).unwrap_err();
        assert_eq!(e, bytes(4 * v, 12, "output buffer"));
        let mut small = [0i32; 2];
        let e = NetQ::new(&model, &mut small).unwrap_err();
        assert_eq!(e, bytes(4 * NetQ::needs(&model), 8, "RAM for the state"));

        // A one-unit vanilla RNN over two tokens: its float arena is 1 + 2 + 2 floats.
        let (one, two) = ([0.5f32; 1], [0.5f32; 2]);
        let layer = FloatLayer {
            w_x: &two,
            b_x: &one,
            w_h: &one,
            b_h: &one,
        };
        let mut layers = [FloatLayer::default(); crate::cell::MAX_LAYERS];
        layers[0] = layer;
        let w = FloatWeights {
            cell: CellKind::Rnn,
            vocab: 2,
            hidden: 1,
            embed: 0,
            outputs: 2,
            n_layers: 1,
            emb: &[],
            layers,
            w_out: &two,
            b_out: &two,
        };
        let mut floats = [0f32; 2];
        let e = NetF::new(w, &mut floats).unwrap_err();
        assert_eq!(e, bytes(4 * NetF::needs(&w), 8, "float arena"));

        assert_eq!(
            message(bytes(40, 12, "logits buffer")),
            "logits buffer too small: needs 40 bytes, has 12 bytes"
        );
    }
}
