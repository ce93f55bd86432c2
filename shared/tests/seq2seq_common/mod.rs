//! Seq2seq model files for the tests: one writer of the tensor layout (random int8
//! weights, or any given tensors), and the float weights a file's integers stand for.

#![allow(dead_code)]

use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::rng::Rng;

/// The sizes of a test model.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub cell: CellKind,
    pub layers: usize,
    /// The decoder's `H` (the encoders have `H / 2`).
    pub hidden: usize,
    pub embed: usize,
    /// Input characters (the vocabulary's first ones of `CHARS`).
    pub chars: usize,
    /// Phonemes (the decoder has one more token).
    pub phonemes: usize,
}

pub const CHARS: &str = "'abcdefghijklmnopqrstuvwxyz";
pub const PHONEMES: [&str; 12] = [
    "AA0", "AA1", "AH0", "B", "D", "EH1", "IY0", "K", "L", "N", "S", "T",
];

/// One tensor: shape, int8 weights, scales (f32), Q16 bias (empty for none).
#[derive(Clone, Debug)]
pub struct Tensor {
    pub rows: usize,
    pub cols: usize,
    pub weights: Vec<i8>,
    pub scales: Vec<f32>,
    pub bias: Vec<i32>,
}

impl Shape {
    pub fn vocab(&self) -> &'static str {
        &CHARS[..self.chars]
    }

    pub fn labels(&self) -> String {
        PHONEMES[..self.phonemes].join("\n")
    }

    /// (rows, cols, bias) of every tensor in file order.
    pub fn tensor_shapes(&self) -> Vec<(usize, usize, bool)> {
        let (h, e, g) = (self.hidden, self.embed, self.cell.gates());
        let (v, p) = (self.chars + 2, self.phonemes + 1);
        let mut out = Vec::new();
        for (tokens, hs) in [(v, h / 2), (v, h / 2), (p, h)] {
            out.push((tokens, e, false));
            for l in 0..self.layers {
                out.push((g * hs, if l == 0 { e } else { hs }, true));
                out.push((g * hs, hs, true));
            }
        }
        out.push((p, h, true));
        out.push((p, h, false));
        out
    }

    pub fn config(&self) -> Config {
        Config {
            cell: self.cell,
            task: Task::Seq2seq,
            layers: self.layers as u8,
            hidden: self.hidden as u16,
            embed: self.embed as u16,
            vocab_size: (self.chars + 2) as u16,
        }
    }
}

/// Random tensors of `shape`: int8 weights, row scales that give pre-activations of
/// about ±1 (embeddings within [-1, 1)), biases within ±0.5.
pub fn random_tensors(s: &Shape, rng: &mut Rng) -> Vec<Tensor> {
    let shapes = s.tensor_shapes();
    shapes
        .iter()
        .enumerate()
        .map(|(i, &(rows, cols, bias))| {
            let emb = !bias && i + 1 != shapes.len();
            let weights = (0..rows * cols)
                .map(|_| (rng.next_u32() % 255) as i8 as i16 as i8)
                .map(|w| w.max(-127))
                .collect();
            let scales = (0..rows)
                .map(|_| {
                    let jitter = 0.5 + (rng.next_u32() % 1000) as f32 / 1000.0;
                    if emb {
                        0.9 * jitter / (1.5 * 128.0)
                    } else {
                        2.5 * jitter / (127.0 * (cols as f32).sqrt())
                    }
                })
                .collect();
            let bias = if bias {
                (0..rows)
                    .map(|_| (rng.next_u32() % 65536) as i32 - 32768)
                    .collect()
            } else {
                Vec::new()
            };
            Tensor {
                rows,
                cols,
                weights,
                scales,
                bias,
            }
        })
        .collect()
}

/// The model file of these tensors.
pub fn file(config: Config, vocab: &str, labels: &str, tensors: &[Tensor]) -> Vec<u8> {
    let (mut data, mut table) = (Vec::new(), Vec::new());
    let put = |bytes: Vec<u8>, data: &mut Vec<u8>| {
        let span = Span {
            offset: data.len() as u32,
            len: bytes.len() as u32,
        };
        data.extend(bytes);
        span
    };
    for t in tensors {
        let entry = TensorEntry {
            rows: t.rows as u16,
            cols: t.cols as u16,
            weights: put(t.weights.iter().map(|&w| w as u8).collect(), &mut data),
            scales: put(
                t.scales.iter().flat_map(|s| s.to_le_bytes()).collect(),
                &mut data,
            ),
            bias: if t.bias.is_empty() {
                Span::default()
            } else {
                put(
                    t.bias.iter().flat_map(|b| b.to_le_bytes()).collect(),
                    &mut data,
                )
            },
        };
        table.extend(entry.to_record());
    }
    let body = Body {
        config,
        vocab,
        labels,
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; data.len() + table.len() + labels.len() + vocab.len() + 64];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}

/// A random valid model file of `shape`.
pub fn random_file(s: &Shape, rng: &mut Rng) -> Vec<u8> {
    file(s.config(), s.vocab(), &s.labels(), &random_tensors(s, rng))
}

/// The flat float parameter vector (PLAN14's order) the tensors stand for: weights
/// `q · scale`, biases `q / 2^16`; the output layer's two halves joined row by row.
pub fn float_params(s: &Shape, tensors: &[Tensor]) -> Vec<f32> {
    let deq = |t: &Tensor, r: usize, c: usize| t.weights[r * t.cols + c] as f32 * t.scales[r];
    let mut out = Vec::new();
    let n = tensors.len();
    for t in &tensors[..n - 2] {
        for r in 0..t.rows {
            out.extend((0..t.cols).map(|c| deq(t, r, c)));
        }
        if !t.bias.is_empty() {
            // The file has one bias per matrix (b_x with w_x, b_h with w_h).
            out.extend(t.bias.iter().map(|&b| b as f32 / 65536.0));
        }
    }
    let (oh, oc) = (&tensors[n - 2], &tensors[n - 1]);
    for r in 0..oh.rows {
        out.extend((0..oh.cols).map(|c| deq(oh, r, c)));
        out.extend((0..oc.cols).map(|c| deq(oc, r, c)));
    }
    out.extend(oh.bias.iter().map(|&b| b as f32 / 65536.0));
    assert_eq!(out.len(), float_shape(s).param_count());
    out
}

/// The float shape of a test shape.
pub fn float_shape(s: &Shape) -> micrornn::seq2seq::Seq2seqShape {
    micrornn::seq2seq::Seq2seqShape {
        cell: s.cell,
        layers: s.layers,
        hidden: s.hidden,
        embed: s.embed,
        in_tokens: s.chars + 2,
        out_tokens: s.phonemes + 1,
    }
}

/// A random word of 1..=max characters of the shape's vocabulary.
pub fn random_word(s: &Shape, max: usize, rng: &mut Rng) -> String {
    let chars: Vec<char> = s.vocab().chars().collect();
    let len = 1 + rng.next_u32() as usize % max;
    (0..len)
        .map(|_| chars[rng.next_u32() as usize % chars.len()])
        .collect()
}
