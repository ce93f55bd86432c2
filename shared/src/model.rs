//! A validated model borrowed from the bytes of a model file.
//!
//! The tensor table holds, for each layer `l` in `0..layers`, `w_x` then `w_h`, and last
//! the output layer `w_out` (`G = cell.gates()`, `H` hidden, `V` tokens, `O` outputs):
//!
//! | tensor | shape | bias | meaning |
//! |---|---|---|---|
//! | layer 0 `w_x` | (V, G·H) | no | row `t` = the whole input term of token `t` (input bias and any embedding folded in): a lookup |
//! | layer `l > 0` `w_x` | (G·H, H) | yes | input weights from layer `l - 1`'s new `h` |
//! | layer `l` `w_h` | (G·H, H) | yes | recurrent weights |
//! | `w_out` | (O, H) | yes | output weights (`O` = V to generate, the labels to classify) |
//!
//! Gate blocks of `H` rows each, in the order of [`CellKind::gates`]. A 1-layer RNN is
//! `w_in` (V, H), `w_hh` (H, H), `w_out` (V, H): the first format's three tensors.

use crate::cell::{NetQ, MAX_LAYERS};
use crate::error::{Error, Result};
use crate::fixed::scale_is_valid;
use crate::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use crate::tensor::QTensor;
use crate::vocab::{Vocab, MAX_TOKENS};

/// Largest supported hidden size (keeps every int32 accumulator from overflowing:
/// 511 columns × 128 × 32768 < 2^31).
pub const MAX_HIDDEN: usize = 511;

/// Most labels a classifier may have.
pub const MAX_LABELS: usize = MAX_TOKENS;

/// Names of the recurrent layers' tensors in file order, as errors name them.
const LAYER_TENSORS: [[&str; 2]; MAX_LAYERS] = [
    ["layer 0 w_x", "layer 0 w_h"],
    ["layer 1 w_x", "layer 1 w_h"],
    ["layer 2 w_x", "layer 2 w_h"],
    ["layer 3 w_x", "layer 3 w_h"],
];

/// The quantized tensors of one recurrent layer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layer<'a> {
    /// Input weights: layer 0 a (V, G·H) token table without bias; above, (G·H, H) with
    /// the input bias.
    pub w_x: QTensor<'a>,
    /// (G·H, H) recurrent weights with the recurrent bias.
    pub w_h: QTensor<'a>,
}

/// A model whose every byte has been checked; the weights are borrowed, not copied.
///
/// Made by [`Model::load`] (or [`Model::load_without_crc`]) only, and read-only after:
/// everything that runs it can rely on its shapes.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    /// Hyper-parameters.
    config: Config,
    /// The vocabulary.
    pub vocab: Vocab<'a>,
    /// Label names separated by `\n` (classification), empty (generation).
    labels: &'a str,
    /// The recurrent layers, bottom first; `layers[config.layers..]` are empty.
    layers: [Layer<'a>; MAX_LAYERS],
    /// (O, H) output weights, one row per output; bias = output bias.
    w_out: QTensor<'a>,
}

impl<'a> Model<'a> {
    /// Decodes and validates a model file: header, CRC, body, configuration, vocabulary,
    /// labels, every tensor's shape, span and scale. Any damage gives its [`Error`], never
    /// a panic.
    pub fn load(bytes: &'a [u8]) -> Result<Model<'a>> {
        let body = format::decode(bytes)?;
        Model::from_body(&body)
    }

    /// As [`Model::load`] with every check but the CRC comparison: for bytes whose CRC was
    /// checked when they were written and that cannot have changed since (a model in
    /// flash, validated by the model store when it was committed), so that opening them
    /// again does not read every byte. The CRC field must still be there (the length is
    /// checked); the rest of the validation — header, body, shapes, spans, scales — is the
    /// same, and any damage it finds gives its [`Error`], never a panic.
    pub fn load_without_crc(bytes: &'a [u8]) -> Result<Model<'a>> {
        let body = format::decode_with(bytes, false)?;
        Model::from_body(&body)
    }

    /// Validates a decoded body.
    fn from_body(body: &Body<'a>) -> Result<Model<'a>> {
        let c = body.config;
        let n_layers = c.layers as usize;
        check_range("layers", n_layers, MAX_LAYERS)?;
        check_range("hidden size", c.hidden as usize, MAX_HIDDEN)?;
        let vocab = Vocab::new(body.vocab)?;
        if vocab.tokens() != c.vocab_size as usize {
            return Err(Error::BadVocab {
                reason: "character count does not match vocab_size",
            });
        }
        let outputs = match c.task {
            Task::Generate if body.labels.is_empty() => vocab.tokens(),
            Task::Generate => {
                return Err(Error::BadLabels {
                    reason: "a generator has none",
                })
            }
            Task::Classify => check_labels(body.labels)?,
        };
        let Some(entries) = TensorEntry::table(body.tensors) else {
            return Err(Error::Malformed);
        };
        let expected = 2 * n_layers + 1;
        let found = body.tensors.len() / TensorEntry::RECORD_LEN;
        if found != expected {
            return Err(Error::TensorCount { expected, found });
        }
        let (v, h, gh) = (
            vocab.tokens(),
            c.hidden as usize,
            c.cell.gates() * c.hidden as usize,
        );
        let mut layers = [Layer::default(); MAX_LAYERS];
        let mut w_out = QTensor::default();
        for (i, e) in entries.enumerate() {
            let (l, which) = (i / 2, i % 2);
            if l == n_layers {
                w_out = tensor("w_out", &e, (outputs, h), true, body.data)?;
            } else if which == 0 {
                let (name, shape) = (LAYER_TENSORS[l][0], if l == 0 { (v, gh) } else { (gh, h) });
                layers[l].w_x = tensor(name, &e, shape, l > 0, body.data)?;
            } else {
                layers[l].w_h = tensor(LAYER_TENSORS[l][1], &e, (gh, h), true, body.data)?;
            }
        }
        Ok(Model {
            config: c,
            vocab,
            labels: body.labels,
            layers,
            w_out,
        })
    }

    /// The hyper-parameters: cell, task, layers, hidden size, embedding, vocabulary size.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The recurrent cell of every layer.
    pub fn cell(&self) -> CellKind {
        self.config.cell
    }

    /// The task: generation or classification.
    pub fn task(&self) -> Task {
        self.config.task
    }

    /// Number of tokens `V`.
    pub fn vocab_size(&self) -> usize {
        self.vocab.tokens()
    }

    /// Hidden units `H` per layer.
    pub fn hidden(&self) -> usize {
        self.config.hidden as usize
    }

    /// Number of recurrent layers.
    pub fn layer_count(&self) -> usize {
        self.config.layers as usize
    }

    /// The recurrent layers' tensors, bottom first.
    #[doc(hidden)]
    pub fn layers(&self) -> &[Layer<'a>] {
        self.layers.get(..self.layer_count()).unwrap_or_default()
    }

    /// Layer `l`'s tensors (empty ones past the last layer).
    #[doc(hidden)]
    pub fn layer(&self, l: usize) -> &Layer<'a> {
        &self.layers[l.min(MAX_LAYERS - 1)]
    }

    /// The output layer's tensor: (O, H) weights with the output bias.
    #[doc(hidden)]
    pub fn w_out(&self) -> &QTensor<'a> {
        &self.w_out
    }

    /// Outputs `O`: the vocabulary size (generation) or the number of labels.
    pub fn outputs(&self) -> usize {
        self.w_out.rows
    }

    /// The label names, in output order (none for generation).
    pub fn labels(&self) -> Labels<'a> {
        Labels(if self.labels.is_empty() {
            None
        } else {
            Some(self.labels)
        })
    }

    /// Label `i`'s name, if there is one.
    pub fn label(&self, i: usize) -> Option<&'a str> {
        self.labels().nth(i)
    }

    /// Number of weights and biases in the file.
    pub fn param_count(&self) -> usize {
        let size = |t: &QTensor<'_>| t.rows * t.cols + t.bias.len() / 4;
        let layers: usize = self
            .layers()
            .iter()
            .map(|l| size(&l.w_x) + size(&l.w_h))
            .sum();
        layers + size(&self.w_out)
    }

    /// Bytes of RAM the integer path needs for this model besides the weights (which stay
    /// in flash): the network's arena ([`NetQ::needs`] words of 4 bytes) and the
    /// outputs (4 bytes each).
    pub fn ram_bytes(&self) -> usize {
        4 * (NetQ::needs(self) + self.outputs())
    }

    /// Multiply-accumulates per input character: every layer's recurrent matrix, the input
    /// matrices of the layers above the first (the first layer's input is a row lookup),
    /// and for generation the output layer.
    pub fn macs_per_char(&self) -> usize {
        let size = |t: &QTensor<'_>| t.rows * t.cols;
        let layers: usize = self
            .layers()
            .iter()
            .enumerate()
            .map(|(l, t)| size(&t.w_h) + if l > 0 { size(&t.w_x) } else { 0 })
            .sum();
        let out = match self.task() {
            Task::Generate => size(&self.w_out),
            Task::Classify => 0,
        };
        layers + out
    }
}

fn check_range(what: &'static str, value: usize, max: usize) -> Result<()> {
    if value == 0 || value > max {
        return Err(Error::DimensionOutOfRange { what, value, max });
    }
    Ok(())
}

/// The label names of a model, in output order: the `\n`-separated parts of the labels
/// string (none if it is empty).
#[derive(Clone, Debug)]
pub struct Labels<'a>(Option<&'a str>);

impl<'a> Iterator for Labels<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        // A byte search: '\n' is never part of a longer UTF-8 sequence.
        match rest.bytes().position(|b| b == b'\n') {
            Some(at) => {
                self.0 = rest.get(at + 1..);
                rest.get(..at)
            }
            None => self.0.take(),
        }
    }
}

/// Checks a classifier's labels (two or more, distinct, non-empty, no carriage return)
/// and returns how many there are.
fn check_labels(labels: &str) -> Result<usize> {
    let bad = |reason| Err(Error::BadLabels { reason });
    let all = Labels(Some(labels));
    let mut count = 0;
    for (i, name) in all.clone().enumerate() {
        if name.is_empty() || name.bytes().any(|b| b == b'\r') {
            return bad("a name is empty or has a carriage return");
        }
        if all.clone().take(i).any(|other| other == name) {
            return bad("two have the same name");
        }
        count += 1;
        if count > MAX_LABELS {
            return Err(Error::DimensionOutOfRange {
                what: "labels",
                value: all.count(),
                max: MAX_LABELS,
            });
        }
    }
    if count < 2 {
        return bad("a classifier needs two or more");
    }
    Ok(count)
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

#[cfg(test)]
pub(crate) mod tests {
    //! Random valid models of any shape, for the networks' tests.

    use super::*;
    use crate::rng::Rng;

    const CHARS: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

    /// The shape of a random model.
    #[derive(Clone, Copy, Debug)]
    pub struct Shape {
        pub cell: CellKind,
        pub task: Task,
        pub layers: usize,
        pub vocab: usize,
        pub hidden: usize,
        /// Labels for classification (ignored for generation).
        pub labels: usize,
    }

    const LABELS: &str = "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9";

    /// A random valid model of `shape` in `data`, its weights starting `offset` bytes in
    /// (rows at every alignment). `exotic` draws some scales outside the fast paths'
    /// ranges (zero, large, tiny) and some extreme biases; else scales are 2^-10..2^-4
    /// and biases within ±2.
    pub fn random_model<'a>(
        data: &'a mut [u8],
        s: Shape,
        offset: usize,
        exotic: bool,
        rng: &mut Rng,
    ) -> Model<'a> {
        let (v, h, gh) = (s.vocab, s.hidden, s.cell.gates() * s.hidden);
        let outputs = match s.task {
            Task::Generate => v,
            Task::Classify => s.labels,
        };
        // (rows, cols, bias) per tensor in file order.
        let mut shapes = [(0, 0, false); 2 * MAX_LAYERS + 1];
        for l in 0..s.layers {
            shapes[2 * l] = if l == 0 {
                (v, gh, false)
            } else {
                (gh, h, true)
            };
            shapes[2 * l + 1] = (gh, h, true);
        }
        shapes[2 * s.layers] = (outputs, h, true);
        let shapes = &shapes[..2 * s.layers + 1];
        let total: usize = shapes
            .iter()
            .map(|&(r, c, b)| r * c + 4 * r + if b { 4 * r } else { 0 })
            .sum();
        let data = &mut data[..offset + total];
        data.iter_mut().for_each(|b| *b = rng.next_u32() as u8);
        // Scales and biases.
        let mut at = offset;
        let mut parts = [(0, 0, 0, 0); 2 * MAX_LAYERS + 1];
        for (i, &(r, c, b)) in shapes.iter().enumerate() {
            let (w, sc, bi) = (at, at + r * c, at + r * c + 4 * r);
            for (k, chunk) in data[sc..bi + if b { 4 * r } else { 0 }]
                .chunks_exact_mut(4)
                .enumerate()
            {
                let x = rng.next_u32();
                let word = if k < r {
                    if !exotic || x % 8 != 0 {
                        (117 + x % 7) << 23 | (rng.next_u32() & 0x7f_ffff)
                    } else {
                        [0, 124 << 23, 125 << 23, 134 << 23 | 0x7f_ffff, 87 << 23]
                            [x as usize / 8 % 5]
                    }
                } else if exotic && x % 16 == 0 {
                    [i32::MAX, i32::MIN][x as usize / 16 % 2] as u32
                } else {
                    (rng.next_u32() as i32 >> 14) as u32
                };
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            parts[i] = (w, sc, bi, if b { bi + 4 * r } else { bi });
            at = parts[i].3;
        }
        let data: &'a [u8] = data;
        let t = |i: usize| {
            let (r, c, _) = shapes[i];
            let (w, sc, bi, end) = parts[i];
            QTensor::new(r, c, &data[w..sc], &data[sc..bi], &data[bi..end])
        };
        let mut layers = [Layer::default(); MAX_LAYERS];
        for (l, layer) in layers.iter_mut().enumerate().take(s.layers) {
            layer.w_x = t(2 * l);
            layer.w_h = t(2 * l + 1);
        }
        let labels = match s.task {
            Task::Generate => "",
            Task::Classify => &LABELS[..3 * s.labels - 1],
        };
        Model {
            config: Config {
                cell: s.cell,
                task: s.task,
                layers: s.layers as u8,
                hidden: h as u16,
                embed: 0,
                vocab_size: v as u16,
            },
            vocab: Vocab::new(&CHARS[..v - 2]).unwrap(),
            labels,
            layers,
            w_out: t(2 * s.layers),
        }
    }
}
