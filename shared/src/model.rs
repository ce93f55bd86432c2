//! A validated model borrowed from the bytes of a model file.

use crate::error::{Error, Result};
use crate::fixed::scale_is_valid;
use crate::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use crate::tensor::QTensor;
use crate::vocab::Vocab;

/// Largest supported hidden size (keeps every int32 accumulator from overflowing:
/// 511 columns × 128 × 32768 < 2^31).
pub const MAX_HIDDEN: usize = 511;

/// The tensors of a vanilla RNN, in file order: name, shape from the config, has bias.
const RNN_TENSORS: [&str; 3] = ["w_in", "w_hh", "w_out"];

/// A model whose every byte has been checked; the weights are borrowed, not copied.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    /// Hyper-parameters.
    pub config: Config,
    /// The vocabulary.
    pub vocab: Vocab<'a>,
    /// (V, H) input weights, one row per token; no bias.
    pub w_in: QTensor<'a>,
    /// (H, H) recurrent weights, one row per hidden unit; bias = hidden bias.
    pub w_hh: QTensor<'a>,
    /// (V, H) output weights, one row per token; bias = output bias.
    pub w_out: QTensor<'a>,
}

impl<'a> Model<'a> {
    /// Decodes and validates a model file: header, CRC, body, configuration, vocabulary,
    /// every tensor's shape, span and scale. Any damage gives its [`Error`], never a panic.
    pub fn load(bytes: &'a [u8]) -> Result<Model<'a>> {
        let body = format::decode(bytes)?;
        Model::from_body(&body)
    }

    /// Validates a decoded body.
    pub fn from_body(body: &Body<'a>) -> Result<Model<'a>> {
        let c = body.config;
        if c.cell != CellKind::Rnn {
            return Err(Error::UnsupportedCell);
        }
        if c.task != Task::Generate || !body.labels.is_empty() {
            return Err(Error::UnsupportedTask);
        }
        check_range("layers", c.layers as usize, 1)?;
        check_range("hidden size", c.hidden as usize, MAX_HIDDEN)?;
        if c.embed != 0 {
            return Err(Error::DimensionOutOfRange {
                what: "embedding width",
                value: c.embed as usize,
                max: 0,
            });
        }
        let vocab = Vocab::new(body.vocab)?;
        if vocab.tokens() != c.vocab_size as usize {
            return Err(Error::BadVocab {
                reason: "character count does not match vocab_size",
            });
        }
        let (v, h) = (vocab.tokens(), c.hidden as usize);
        let Some(entries) = TensorEntry::table(body.tensors) else {
            return Err(Error::Malformed);
        };
        let found = body.tensors.len() / TensorEntry::RECORD_LEN;
        if found != RNN_TENSORS.len() {
            return Err(Error::TensorCount {
                expected: RNN_TENSORS.len(),
                found,
            });
        }
        let shapes = [(v, h, false), (h, h, true), (v, h, true)];
        let mut t = [None; 3];
        for (i, (&(rows, cols, bias), entry)) in shapes.iter().zip(entries).enumerate() {
            t[i] = Some(tensor(
                RNN_TENSORS[i],
                &entry,
                (rows, cols),
                bias,
                body.data,
            )?);
        }
        let [Some(w_in), Some(w_hh), Some(w_out)] = t else {
            return Err(Error::TensorCount { expected: 3, found });
        };
        Ok(Model {
            config: c,
            vocab,
            w_in,
            w_hh,
            w_out,
        })
    }

    /// Number of tokens `V`.
    pub fn vocab_size(&self) -> usize {
        self.vocab.tokens()
    }

    /// Hidden units `H`.
    pub fn hidden(&self) -> usize {
        self.config.hidden as usize
    }

    /// Number of weights and biases.
    pub fn param_count(&self) -> usize {
        [self.w_in, self.w_hh, self.w_out]
            .iter()
            .map(|t| t.rows * t.cols + if t.has_bias() { t.rows } else { 0 })
            .sum()
    }

    /// Bytes of RAM the integer path needs for this model besides the weights (which stay
    /// in flash): hidden state (i16), pre-activation scratch (i32) and logits (i32).
    pub fn ram_bytes(&self) -> usize {
        self.hidden() * 2 + self.hidden() * 4 + self.vocab_size() * 4
    }

    /// Multiply-accumulates per generated character (recurrent and output matrices; the
    /// one-hot input is a row lookup).
    pub fn macs_per_char(&self) -> usize {
        self.w_hh.rows * self.w_hh.cols + self.w_out.rows * self.w_out.cols
    }
}

fn check_range(what: &'static str, value: usize, max: usize) -> Result<()> {
    if value == 0 || value > max {
        return Err(Error::DimensionOutOfRange { what, value, max });
    }
    Ok(())
}

/// Checks one tensor entry against its expected shape and borrows its bytes.
fn tensor<'a>(
    name: &'static str,
    e: &TensorEntry,
    shape: (usize, usize),
    with_bias: bool,
    data: &'a [u8],
) -> Result<QTensor<'a>> {
    let found = (e.rows as usize, e.cols as usize);
    if found != shape {
        return Err(Error::ShapeMismatch {
            tensor: name,
            expected: shape,
            found,
        });
    }
    let (rows, cols) = shape;
    let weights = span(name, "weights", e.weights, rows * cols, data)?;
    let scales = span(name, "scales", e.scales, rows * 4, data)?;
    let bias = span(
        name,
        "bias",
        e.bias,
        if with_bias { rows * 4 } else { 0 },
        data,
    )?;
    for r in 0..rows {
        let b = &scales[r * 4..r * 4 + 4];
        if !scale_is_valid(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) {
            return Err(Error::BadScale {
                tensor: name,
                row: r,
            });
        }
    }
    Ok(QTensor::new(rows, cols, weights, scales, bias))
}

/// Checks a span's length and bounds and returns its bytes.
fn span<'a>(
    tensor: &'static str,
    field: &'static str,
    s: Span,
    expected: usize,
    data: &'a [u8],
) -> Result<&'a [u8]> {
    let (offset, len) = (s.offset as usize, s.len as usize);
    if len != expected {
        return Err(Error::SpanLength {
            tensor,
            field,
            expected,
            found: len,
        });
    }
    let end = offset.checked_add(len).filter(|&e| e <= data.len());
    match end {
        Some(end) => Ok(&data[offset..end]),
        None => Err(Error::SpanOutOfRange {
            tensor,
            field,
            end: offset.saturating_add(len),
            len: data.len(),
        }),
    }
}
