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
//!
//! A word classifier ([`Task::ClassifyWords`]) may instead keep its embedding apart
//! ([`InputLayout::Apart`]): one more tensor, first, `emb` (V, E) without bias, and layer
//! 0's `w_x` is then (G·H, E) with the input bias, like the layers above (see
//! `docs/model-format.md`).

use crate::cell::{NetQ, MAX_LAYERS};
use crate::error::{Error, Result};
use crate::fixed::scale_is_valid;
use crate::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use crate::tensor::QTensor;
use crate::vocab::{Vocab, MAX_TOKENS};
use crate::words::WordVocab;

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

/// How a model's first layer reads its input token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputLayout {
    /// Layer 0's `w_x` is a (V, G·H) table: the token's row is its whole input term.
    Folded,
    /// An int8 embedding (V, E) and layer 0's input weights (G·H, E) stored apart: the
    /// token's embedding row times the weights (smaller when V is large).
    Apart {
        /// Embedding width `E`.
        embed: usize,
    },
}

/// Bytes of the first layer's input in each layout, weights, scales and biases:
/// `(folded, apart)` for `v` tokens, embedding width `e` and `gh` = G·H gate rows. A
/// writer keeps the smaller (the folded one on a tie).
pub const fn input_layout_bytes(v: usize, e: usize, gh: usize) -> (usize, usize) {
    let folded = v * gh + 4 * v;
    let apart = v * e + 4 * v + gh * e + 8 * gh;
    (folded, apart)
}

/// The quantized tensors of one recurrent layer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layer<'a> {
    /// Input weights: layer 0 a (V, G·H) token table without bias (or, with the
    /// embedding apart, (G·H, E) with the input bias); above, (G·H, H) with the input bias.
    pub w_x: QTensor<'a>,
    /// (G·H, H) recurrent weights with the recurrent bias.
    pub w_h: QTensor<'a>,
}

/// A stack of recurrent layers with its input and output tensors: what the integer
/// network ([`NetQ`]) runs. A model has one (a seq2seq model's is its decoder; its
/// encoders are more stacks, [`crate::seq2seq`]).
///
/// `repr(C)`, the small fields first: the Cortex-M0 reaches them with short offsets.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Stack<'a> {
    /// Hidden units per layer (at most [`MAX_HIDDEN`]; narrow, so that the compiler
    /// knows the sizes computed from it cannot overflow).
    pub hidden: u16,
    /// Layers in use, 1..=[`MAX_LAYERS`].
    pub n_layers: u8,
    /// Recurrent cell of every layer.
    pub cell: CellKind,
    /// The (V, E) embedding when it is stored apart; empty (0 × 0) when folded.
    pub emb: QTensor<'a>,
    /// (O, H) output weights with the output bias; empty (0 × 0) for a stack without one.
    pub w_out: QTensor<'a>,
    /// The recurrent layers, bottom first; `layers[n_layers..]` are empty.
    pub layers: [Layer<'a>; MAX_LAYERS],
}

impl<'a> Stack<'a> {
    /// Hidden units per layer.
    #[inline]
    pub fn hidden(&self) -> usize {
        self.hidden as usize
    }

    /// Layers in use.
    #[inline]
    pub fn layer_count(&self) -> usize {
        self.n_layers as usize
    }

    /// The recurrent layers' tensors, bottom first.
    pub fn layers(&self) -> &[Layer<'a>] {
        self.layers.get(..self.layer_count()).unwrap_or_default()
    }

    /// Layer `l`'s tensors (empty ones past the last layer).
    pub fn layer(&self, l: usize) -> &Layer<'a> {
        &self.layers[l.min(MAX_LAYERS - 1)]
    }

    /// The (V, E) embedding when it is stored apart.
    pub fn embedding(&self) -> Option<&QTensor<'a>> {
        (self.emb.rows > 0).then_some(&self.emb)
    }

    /// Tokens the stack reads: the embedding's rows, or layer 0's table's.
    pub fn inputs(&self) -> usize {
        match self.embedding() {
            Some(e) => e.rows,
            None => self.layer(0).w_x.rows,
        }
    }
}

/// A model whose every byte has been checked; the weights are borrowed, not copied.
///
/// Made by [`Model::load`] (or [`Model::load_without_crc`]) only, and read-only after:
/// everything that runs it can rely on its shapes.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Model<'a> {
    /// The network: layers, embedding apart (or empty), output layer (O, H). A seq2seq
    /// model's is its decoder, with the output layer's half that reads `h`. First, so
    /// that a network's pointer to it is the model's (`repr(C)`).
    net: Stack<'a>,
    /// Hyper-parameters.
    config: Config,
    /// The character vocabulary (empty, 2 tokens, for a word classifier).
    pub vocab: Vocab<'a>,
    /// The word vocabulary of a word classifier.
    words: Option<WordVocab<'a>>,
    /// Label names separated by `\n` (classification, the phonemes of a seq2seq model),
    /// empty (generation).
    labels: &'a str,
    /// The tensor table and data block, kept for the views that read more than one
    /// stack ([`crate::seq2seq`]); validated.
    #[cfg(feature = "seq2seq")]
    tensors: &'a [u8],
    #[cfg(feature = "seq2seq")]
    data: &'a [u8],
}

impl<'a> Model<'a> {
    /// Decodes and validates a model file: header, CRC, body, configuration, vocabulary,
    /// labels, every tensor's shape, span and scale. Any damage gives its [`Error`], never
    /// a panic.
    pub fn load(bytes: &'a [u8]) -> Result<Model<'a>> {
        let body = format::decode(bytes)?;
        Model::from_body(&body, true)
    }

    /// As [`Model::load`] with every check but the CRC comparison: for bytes whose CRC was
    /// checked when they were written and that cannot have changed since (a model in
    /// flash, validated by the model store when it was committed), so that opening them
    /// again does not read every byte. The CRC field must still be there (the length is
    /// checked); the rest of the validation — header, body, shapes, spans, scales — is the
    /// same, and any damage it finds gives its [`Error`], never a panic.
    pub fn load_without_crc(bytes: &'a [u8]) -> Result<Model<'a>> {
        let body = format::decode_with(bytes, false)?;
        Model::from_body(&body, true)
    }

    /// As [`Model::load_without_crc`], but a word vocabulary's words are only counted, not
    /// checked again for their order: for bytes that passed [`Model::load`] or
    /// [`Model::load_without_crc`] and cannot have changed since (the model store's served
    /// model, opened for every command: the check of thousands of words would cost more
    /// than the command). Any bytes still give a model or an [`Error`], never a panic;
    /// words out of order only give wrong ids.
    pub fn reopen(bytes: &'a [u8]) -> Result<Model<'a>> {
        let body = format::decode_with(bytes, false)?;
        Model::from_body(&body, false)
    }

    /// Validates a decoded body (a word vocabulary's order only if `word_order`).
    fn from_body(body: &Body<'a>, word_order: bool) -> Result<Model<'a>> {
        let c = body.config;
        let n_layers = c.layers as usize;
        check_range("layers", n_layers, MAX_LAYERS)?;
        check_range("hidden size", c.hidden as usize, MAX_HIDDEN)?;
        let (vocab, words) = match c.task {
            Task::ClassifyWords { max_words } => {
                check_range("max_words", max_words as usize, u16::MAX as usize)?;
                (Vocab::EMPTY, Some(word_vocab(body.vocab, word_order)?))
            }
            Task::Seq2seq => return seq2seq_model(body),
            Task::Generate | Task::Classify => (Vocab::new(body.vocab)?, None),
        };
        let v = words.map_or(vocab.tokens(), |w| w.tokens());
        check_vocab_size(v, c, words.is_some())?;
        let outputs = match c.task {
            Task::Generate if body.labels.is_empty() => vocab.tokens(),
            Task::Generate => {
                return Err(Error::BadLabels {
                    reason: "a generator has none",
                })
            }
            _ => check_labels(body.labels)?,
        };
        let Some(mut entries) = TensorEntry::table(body.tensors) else {
            return Err(Error::Malformed);
        };
        // A word classifier may have its embedding apart: one more tensor, first.
        let folded = 2 * n_layers + 1;
        let found = body.tensors.len() / TensorEntry::RECORD_LEN;
        let apart = words.is_some() && found == folded + 1;
        if found != folded && !apart {
            return Err(Error::TensorCount {
                expected: folded,
                found,
            });
        }
        let (h, gh) = (c.hidden as usize, c.cell.gates() * c.hidden as usize);
        let mut net = Stack::empty(c.cell, h, n_layers);
        if apart {
            let e = entries.next().ok_or(Error::Malformed)?;
            // The width is the configuration's `embed`, at most what an accumulator takes.
            let embed = c.embed as usize;
            check_range("embedding width", embed, MAX_HIDDEN)?;
            net.emb = tensor("emb", &e, (v, embed), false, body.data)?;
        }
        for (i, e) in entries.enumerate() {
            let (l, which) = (i / 2, i % 2);
            if l == n_layers {
                net.w_out = tensor("w_out", &e, (outputs, h), true, body.data)?;
            } else if which == 0 {
                let shape = match (l, apart) {
                    (0, false) => (v, gh),
                    (0, true) => (gh, net.emb.cols),
                    _ => (gh, h),
                };
                let bias = l > 0 || apart;
                net.layers[l].w_x = tensor(LAYER_TENSORS[l][0], &e, shape, bias, body.data)?;
            } else {
                net.layers[l].w_h = tensor(LAYER_TENSORS[l][1], &e, (gh, h), true, body.data)?;
            }
        }
        Ok(Model {
            config: c,
            vocab,
            words,
            labels: body.labels,
            net,
            #[cfg(feature = "seq2seq")]
            tensors: body.tensors,
            #[cfg(feature = "seq2seq")]
            data: body.data,
        })
    }

    /// How the first layer reads its input: a folded table, or the embedding apart.
    pub fn input_layout(&self) -> InputLayout {
        match self.net.emb.rows {
            0 => InputLayout::Folded,
            _ => InputLayout::Apart {
                embed: self.net.emb.cols,
            },
        }
    }

    /// The (V, E) embedding when it is stored apart ([`InputLayout::Apart`]).
    #[doc(hidden)]
    pub fn embedding(&self) -> Option<&QTensor<'a>> {
        self.net.embedding()
    }

    /// The network the integer path runs (a seq2seq model's decoder).
    #[doc(hidden)]
    pub fn stack(&self) -> &Stack<'a> {
        &self.net
    }

    /// The tensor table and the data block of the file (validated).
    #[doc(hidden)]
    #[cfg(feature = "seq2seq")]
    pub fn tensor_bytes(&self) -> (&'a [u8], &'a [u8]) {
        (self.tensors, self.data)
    }

    /// The label names as stored: `\n`-separated (classifiers, seq2seq's phonemes).
    pub fn labels_str(&self) -> &'a str {
        self.labels
    }

    /// The word vocabulary of a word classifier ([`Task::ClassifyWords`]).
    pub fn word_vocab(&self) -> Option<&WordVocab<'a>> {
        self.words.as_ref()
    }

    /// Most tokens of a text a word classifier reads ([`Task::ClassifyWords`]).
    pub fn max_words(&self) -> Option<usize> {
        match self.config.task {
            Task::ClassifyWords { max_words } => Some(max_words as usize),
            _ => None,
        }
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

    /// Number of tokens `V` (characters or words, with the specials).
    pub fn vocab_size(&self) -> usize {
        self.words.map_or(self.vocab.tokens(), |w| w.tokens())
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
        self.net.layers()
    }

    /// Layer `l`'s tensors (empty ones past the last layer).
    #[doc(hidden)]
    pub fn layer(&self, l: usize) -> &Layer<'a> {
        self.net.layer(l)
    }

    /// The output layer's tensor: (O, H) weights with the output bias.
    #[doc(hidden)]
    pub fn w_out(&self) -> &QTensor<'a> {
        &self.net.w_out
    }

    /// Outputs `O`: the vocabulary size (generation), the number of labels
    /// (classification), or the decoder's tokens `P` (seq2seq: phonemes + boundary).
    pub fn outputs(&self) -> usize {
        self.net.w_out.rows
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
        #[cfg(feature = "seq2seq")]
        if self.task() == Task::Seq2seq {
            return crate::seq2seq::layout::param_count(self.tensors);
        }
        let size = |t: &QTensor<'_>| t.rows * t.cols + t.bias.len() / 4;
        let layers: usize = self
            .layers()
            .iter()
            .map(|l| size(&l.w_x) + size(&l.w_h))
            .sum();
        layers + size(&self.net.w_out) + size(&self.net.emb)
    }

    /// Bytes of RAM the integer path needs for this model besides the weights (which stay
    /// in flash): the network's arena ([`NetQ::needs`] words of 4 bytes, for seq2seq
    /// `Seq2seqQ::needs`) and the outputs (4 bytes each).
    pub fn ram_bytes(&self) -> usize {
        let arena = match self.task() {
            #[cfg(feature = "seq2seq")]
            Task::Seq2seq => crate::seq2seq::Seq2seqQ::needs(self).unwrap_or(0),
            _ => NetQ::needs(self),
        };
        4 * (arena + self.outputs())
    }

    /// Multiply-accumulates per input token: every layer's recurrent matrix, the input
    /// matrices of the layers above the first (the first layer's input is a row lookup,
    /// or with the embedding apart, its (G·H, E) matrix), and for generation the output
    /// layer. For seq2seq: per decoder step, its layers and both halves of the output
    /// layer (the encoder's steps and the attention, `2·T·H`, are not counted).
    pub fn macs_per_char(&self) -> usize {
        let size = |t: &QTensor<'_>| t.rows * t.cols;
        let layers: usize = self
            .layers()
            .iter()
            .enumerate()
            .map(|(l, t)| {
                let input = l > 0 || self.net.emb.rows > 0;
                size(&t.w_h) + if input { size(&t.w_x) } else { 0 }
            })
            .sum();
        let out = match self.task() {
            Task::Generate => size(&self.net.w_out),
            #[cfg(feature = "seq2seq")]
            Task::Seq2seq => 2 * size(&self.net.w_out),
            _ => 0,
        };
        layers + out
    }
}

impl<'a> Stack<'a> {
    /// A stack of `n_layers` empty layers, no embedding, no output layer.
    pub(crate) fn empty(cell: CellKind, hidden: usize, n_layers: usize) -> Stack<'a> {
        Stack {
            cell,
            hidden: hidden as u16,
            n_layers: n_layers as u8,
            layers: [Layer::default(); MAX_LAYERS],
            emb: QTensor::default(),
            w_out: QTensor::default(),
        }
    }
}

/// The vocabulary's token count against the configuration's `vocab_size`.
fn check_vocab_size(v: usize, c: Config, words: bool) -> Result<()> {
    if v != c.vocab_size as usize {
        return Err(Error::BadVocab {
            reason: if words {
                "word count + 2 does not match vocab_size"
            } else {
                "character count does not match vocab_size"
            },
        });
    }
    Ok(())
}

/// A seq2seq model: validated by [`crate::seq2seq`]'s reader of its tensors, or refused
/// by a build without the feature.
fn seq2seq_model<'a>(body: &Body<'a>) -> Result<Model<'a>> {
    #[cfg(feature = "seq2seq")]
    {
        let c = body.config;
        let vocab = Vocab::new(body.vocab)?;
        check_vocab_size(vocab.tokens(), c, false)?;
        let parts =
            crate::seq2seq::layout::read(c, vocab.tokens(), body.labels, body.tensors, body.data)?;
        Ok(Model {
            config: c,
            vocab,
            words: None,
            labels: body.labels,
            net: parts.decoder_stack(),
            tensors: body.tensors,
            data: body.data,
        })
    }
    #[cfg(not(feature = "seq2seq"))]
    {
        let _ = body;
        Err(Error::UnsupportedTask { task: "seq2seq" })
    }
}

/// A word classifier's vocabulary, if this build reads them (feature `words`), its order
/// checked if `order`.
fn word_vocab(words: &str, order: bool) -> Result<WordVocab<'_>> {
    if cfg!(feature = "words") && order {
        WordVocab::new(words)
    } else if cfg!(feature = "words") {
        WordVocab::counted(words)
    } else {
        Err(Error::UnsupportedTask {
            task: "classify-words",
        })
    }
}

pub(crate) fn check_range(what: &'static str, value: usize, max: usize) -> Result<()> {
    if value == 0 || value > max {
        return Err(Error::DimensionOutOfRange { what, value, max });
    }
    Ok(())
}

/// The label names of a model, in output order: the `\n`-separated parts of the labels
/// string (none if it is empty).
#[derive(Clone, Debug)]
pub struct Labels<'a>(Option<&'a str>);

impl<'a> Labels<'a> {
    /// The parts of a `\n`-separated string (none if it is empty).
    pub fn of(labels: &'a str) -> Labels<'a> {
        Labels((!labels.is_empty()).then_some(labels))
    }
}

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
pub(crate) fn check_labels(labels: &str) -> Result<usize> {
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
pub(crate) fn tensor<'a>(
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
            _ => s.labels,
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
            _ => &LABELS[..3 * s.labels - 1],
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
            words: None,
            labels,
            net: Stack {
                cell: s.cell,
                hidden: h as u16,
                n_layers: s.layers as u8,
                layers,
                emb: QTensor::default(),
                w_out: t(2 * s.layers),
            },
            #[cfg(feature = "seq2seq")]
            tensors: &[],
            #[cfg(feature = "seq2seq")]
            data: &[],
        }
    }
}
