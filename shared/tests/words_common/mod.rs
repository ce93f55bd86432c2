//! Random word classifiers (both input layouts) as model files, and their float
//! counterparts (the same int8 weights, dequantized) for the tests.
#![allow(dead_code)]

use micrornn::cell::{FloatLayer, FloatWeights, MAX_LAYERS};
use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::{Model, Rng};

/// The shape of a random word classifier.
#[derive(Clone, Copy, Debug)]
pub struct WordShape {
    pub cell: CellKind,
    pub layers: usize,
    pub hidden: usize,
    /// Embedding width (stored apart when `apart`).
    pub embed: usize,
    pub apart: bool,
    pub max_words: u16,
}

/// The words of the random models' vocabulary, sorted in byte order.
pub const WORDS: &str = "!\n$\n<EMAIL>\n<LONG>\n<NUM>\n<URL>\nbuy\nclick\nfree\nhello\nmeeting\nmoney\nnow\nthe\ntoday\nwin\nyou";
/// Their labels.
pub const LABELS: &str = "ham\nspam";

/// A random word classifier file: weights uniform int8, row scales in 2^-9..2^-6
/// (embedding rows at most 1/127: its values stay in [-1, 1]), biases within ±0.5.
pub fn word_model_file(s: WordShape, rng: &mut Rng) -> Vec<u8> {
    let v = WORDS.split('\n').count() + 2;
    let (h, gh) = (s.hidden, s.cell.gates() * s.hidden);
    // (rows, cols, bias, max scale exponent) per tensor, in file order.
    let mut shapes = Vec::new();
    if s.apart {
        shapes.push((v, s.embed, false, true));
    }
    for l in 0..s.layers {
        shapes.push(match (l, s.apart) {
            (0, false) => (v, gh, false, false),
            (0, true) => (gh, s.embed, true, false),
            _ => (gh, h, true, false),
        });
        shapes.push((gh, h, true, false));
    }
    shapes.push((2, h, true, false));
    let (mut data, mut entries) = (Vec::new(), Vec::new());
    for &(rows, cols, bias, emb) in &shapes {
        let span = |data: &Vec<u8>, len: usize| Span {
            offset: data.len() as u32,
            len: len as u32,
        };
        let weights = span(&data, rows * cols);
        data.extend((0..rows * cols).map(|_| rng.next_u32() as u8));
        let scales = span(&data, 4 * rows);
        for _ in 0..rows {
            let scale = if emb {
                (1.0 + rng.below(100) as f32 / 100.0) / 256.0
            } else {
                (1 << rng.below(4)) as f32 / 512.0
            };
            data.extend(scale.to_le_bytes());
        }
        let bias_span = span(&data, if bias { 4 * rows } else { 0 });
        if bias {
            for _ in 0..rows {
                data.extend(((rng.next_u32() as i32) >> 15).to_le_bytes());
            }
        }
        entries.push(TensorEntry {
            rows: rows as u16,
            cols: cols as u16,
            weights,
            scales,
            bias: if bias { bias_span } else { Span::default() },
        });
    }
    let table: Vec<u8> = entries.iter().flat_map(|e| e.to_record()).collect();
    let body = Body {
        config: Config {
            cell: s.cell,
            task: Task::ClassifyWords {
                max_words: s.max_words,
            },
            layers: s.layers as u8,
            hidden: h as u16,
            embed: s.embed as u16,
            vocab_size: v as u16,
        },
        vocab: WORDS,
        labels: LABELS,
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; data.len() + table.len() + 1024];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}

/// The float tensors of a loaded model: its int8 weights times their scales.
pub struct Dequantized {
    pub emb: Vec<f32>,
    /// Per layer: w_x, b_x, w_h, b_h.
    pub layers: Vec<[Vec<f32>; 4]>,
    pub w_out: Vec<f32>,
    pub b_out: Vec<f32>,
    pub embed: usize,
}

/// (weights, bias) of rows × cols as f32 (the bias is zero where the file has none).
pub fn dequantize_rows(
    rows: usize,
    cols: usize,
    weight: impl Fn(usize, usize) -> i8,
    scale: impl Fn(usize) -> f32,
    bias: impl Fn(usize) -> i32,
) -> (Vec<f32>, Vec<f32>) {
    let mut w = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        w.extend((0..cols).map(|c| weight(r, c) as f32 * scale(r)));
    }
    let b = (0..rows).map(|r| bias(r) as f32 / 65536.0).collect();
    (w, b)
}

macro_rules! deq_tensor {
    ($t:expr) => {{
        let t = $t;
        dequantize_rows(
            t.rows,
            t.cols,
            |r, c| t.weight(r, c),
            |r| t.scale(r),
            |r| t.bias_q16(r),
        )
    }};
}

impl Dequantized {
    /// The float tensors of `m`.
    pub fn of(m: &Model<'_>) -> Dequantized {
        let (emb, embed) = match m.embedding() {
            Some(e) => (deq_tensor!(e).0, e.cols),
            None => (Vec::new(), 0),
        };
        let layers = m
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (w_x, mut b_x) = deq_tensor!(&l.w_x);
                if i == 0 && embed == 0 {
                    // The folded table: one row per token, the bias is in the rows.
                    b_x = vec![0.0; l.w_x.cols];
                }
                let (w_h, b_h) = deq_tensor!(&l.w_h);
                [w_x, b_x, w_h, b_h]
            })
            .collect();
        let (w_out, b_out) = deq_tensor!(m.w_out());
        Dequantized {
            emb,
            layers,
            w_out,
            b_out,
            embed,
        }
    }

    /// The float network's weights, borrowed.
    pub fn weights(&self, m: &Model<'_>) -> FloatWeights<'_> {
        let mut layers = [FloatLayer::default(); MAX_LAYERS];
        for (l, t) in self.layers.iter().enumerate() {
            layers[l] = FloatLayer {
                w_x: &t[0],
                b_x: &t[1],
                w_h: &t[2],
                b_h: &t[3],
            };
        }
        FloatWeights {
            cell: m.cell(),
            vocab: m.vocab_size(),
            hidden: m.hidden(),
            embed: self.embed,
            outputs: m.outputs(),
            n_layers: m.layer_count(),
            emb: &self.emb,
            layers,
            w_out: &self.w_out,
            b_out: &self.b_out,
        }
    }
}

/// A character classifier (one RNN layer of 4 units over "abc", labels x and y).
pub fn char_classifier() -> Vec<u8> {
    let (v, h) = (5usize, 4usize);
    let shapes = [(v, h, false), (h, h, true), (2, h, true)];
    let (mut data, mut entries) = (Vec::new(), Vec::new());
    for (rows, cols, bias) in shapes {
        let at = |d: &Vec<u8>, len: usize| Span {
            offset: d.len() as u32,
            len: len as u32,
        };
        let weights = at(&data, rows * cols);
        data.extend((0..rows * cols).map(|i| i as u8));
        let scales = at(&data, 4 * rows);
        (0..rows).for_each(|_| data.extend((1.0f32 / 64.0).to_le_bytes()));
        let b = at(&data, if bias { 4 * rows } else { 0 });
        if bias {
            (0..rows).for_each(|_| data.extend(0i32.to_le_bytes()));
        }
        entries.push(TensorEntry {
            rows: rows as u16,
            cols: cols as u16,
            weights,
            scales,
            bias: b,
        });
    }
    let table: Vec<u8> = entries.iter().flat_map(|e| e.to_record()).collect();
    let body = Body {
        config: Config {
            cell: CellKind::Rnn,
            task: Task::Classify,
            layers: 1,
            hidden: h as u16,
            embed: 0,
            vocab_size: v as u16,
        },
        vocab: "abc",
        labels: "x\ny",
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; 1024];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}
