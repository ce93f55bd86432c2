//! The seq2seq model file: golden bytes of a tiny one, and a typed error (never a panic)
//! for every inconsistency.
#![cfg(feature = "seq2seq")]

mod seq2seq_common;

use micrornn::format::{self, CellKind, Task, TensorEntry, HEADER_LEN};
use micrornn::rng::Rng;
use micrornn::seq2seq::{greedy, tensor_count, Seq2seqQ};
use micrornn::{Error, Model};
use seq2seq_common::{file, random_file, random_tensors, Shape, Tensor};

/// The tiny model: RNN, 1 layer, H 2 (each encoder 1 unit), E 1, characters "ab"
/// (4 tokens), phonemes "A", "B" (3 decoder tokens).
fn tiny_shape() -> Shape {
    Shape {
        cell: CellKind::Rnn,
        layers: 1,
        hidden: 2,
        embed: 1,
        chars: 2,
        phonemes: 2,
    }
}

/// Hand-picked tensors: weights 1, 2, 3, … (negated every third), scale 1/64 (the
/// embeddings 1/128), biases 0.25 · (1 + row).
fn tiny_tensors() -> Vec<Tensor> {
    let mut next = 0i8;
    tiny_shape()
        .tensor_shapes()
        .into_iter()
        .enumerate()
        .map(|(i, (rows, cols, bias))| Tensor {
            rows,
            cols,
            weights: (0..rows * cols)
                .map(|_| {
                    next += 1;
                    if next % 3 == 0 {
                        -next
                    } else {
                        next
                    }
                })
                .collect(),
            scales: vec![
                if i % 3 == 0 && i < 9 {
                    0.0078125
                } else {
                    0.015625
                };
                rows
            ],
            bias: if bias {
                (0..rows as i32).map(|r| 16384 * (1 + r)).collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

fn tiny_file() -> Vec<u8> {
    let s = tiny_shape();
    file(s.config(), "ab", "A\nB", &tiny_tensors())
}

/// The exact bytes of the tiny seq2seq file. If this changes, the format changed: bump
/// `FORMAT_VERSION` and document it.
#[rustfmt::skip]
const TINY_GOLDEN: &[u8] = &[
    // header: "MRNN", version 1, flags 0, body length 502
    b'M', b'R', b'N', b'N', 1, 0, 0, 0, 246, 1, 0, 0,
    // config: cell 0 = rnn, task 2 = seq2seq, layers 1, hidden 2, embed 1, vocab 4
    0, 2, 1, 2, 1, 4,
    // vocab "ab", labels "A\nB" (the phonemes)
    2, b'a', b'b', 3, b'A', b'\n', b'B',
    // tensor table: 308 bytes (varint 180 2) = 11 records: enc_fwd emb, w_x, w_h;
    // enc_bwd emb, w_x, w_h; dec emb, w_x, w_h; w_out_h; w_out_c
    180, 2,
    4, 0, 1, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 1, 0, 20, 0, 0, 0, 1, 0, 0, 0, 21, 0, 0, 0, 4, 0, 0, 0, 25, 0, 0, 0, 4, 0, 0, 0,
    1, 0, 1, 0, 29, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0, 4, 0, 0, 0, 34, 0, 0, 0, 4, 0, 0, 0,
    4, 0, 1, 0, 38, 0, 0, 0, 4, 0, 0, 0, 42, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 1, 0, 58, 0, 0, 0, 1, 0, 0, 0, 59, 0, 0, 0, 4, 0, 0, 0, 63, 0, 0, 0, 4, 0, 0, 0,
    1, 0, 1, 0, 67, 0, 0, 0, 1, 0, 0, 0, 68, 0, 0, 0, 4, 0, 0, 0, 72, 0, 0, 0, 4, 0, 0, 0,
    3, 0, 1, 0, 76, 0, 0, 0, 3, 0, 0, 0, 79, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 1, 0, 91, 0, 0, 0, 2, 0, 0, 0, 93, 0, 0, 0, 8, 0, 0, 0, 101, 0, 0, 0, 8, 0, 0, 0,
    2, 0, 2, 0, 109, 0, 0, 0, 4, 0, 0, 0, 113, 0, 0, 0, 8, 0, 0, 0, 121, 0, 0, 0, 8, 0, 0, 0,
    3, 0, 2, 0, 129, 0, 0, 0, 6, 0, 0, 0, 135, 0, 0, 0, 12, 0, 0, 0, 147, 0, 0, 0, 12, 0, 0, 0,
    3, 0, 2, 0, 159, 0, 0, 0, 6, 0, 0, 0, 165, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    // data block: 177 bytes (varint 177 1), each tensor's weights, scales, bias
    177, 1,
    // enc_fwd emb: weights, scales
    1, 2, 253, 4, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0, 60,
    // enc_fwd w_x: weights, scales, bias
    5, 0, 0, 128, 60, 0, 64, 0, 0,
    // enc_fwd w_h: weights, scales, bias
    250, 0, 0, 128, 60, 0, 64, 0, 0,
    // enc_bwd emb: weights, scales
    7, 8, 247, 10, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0, 60,
    // enc_bwd w_x: weights, scales, bias
    11, 0, 0, 128, 60, 0, 64, 0, 0,
    // enc_bwd w_h: weights, scales, bias
    244, 0, 0, 128, 60, 0, 64, 0, 0,
    // dec emb: weights, scales
    13, 14, 241, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0, 60,
    // dec w_x: weights, scales, bias
    16, 17, 0, 0, 128, 60, 0, 0, 128, 60, 0, 64, 0, 0, 0, 128, 0, 0,
    // dec w_h: weights, scales, bias
    238, 19, 20, 235, 0, 0, 128, 60, 0, 0, 128, 60, 0, 64, 0, 0, 0, 128, 0, 0,
    // w_out_h: weights, scales, bias
    22, 23, 232, 25, 26, 229, 0, 0, 128, 60, 0, 0, 128, 60, 0, 0, 128, 60, 0, 64, 0, 0, 0, 128, 0, 0, 0, 192, 0, 0,
    // w_out_c: weights, scales
    28, 29, 226, 31, 32, 223, 0, 0, 128, 60, 0, 0, 128, 60, 0, 0, 128, 60,
    // CRC-32 of everything above, little-endian
    0, 168, 135, 186,
];

#[test]
fn tiny_seq2seq_golden_bytes() {
    let f = tiny_file();
    assert_eq!(f, TINY_GOLDEN, "got {f:?}");
}

#[test]
fn tiny_seq2seq_loads_and_pronounces() {
    let f = tiny_file();
    assert_eq!(&f[..4], b"MRNN");
    // Config: cell 0 (rnn), task 2 (seq2seq, a unit variant), layers 1, hidden 2, embed 1,
    // vocab 4.
    assert_eq!(&f[HEADER_LEN..HEADER_LEN + 6], &[0, 2, 1, 2, 1, 4]);
    let m = Model::load(&f).unwrap();
    assert_eq!(m.task(), Task::Seq2seq);
    assert_eq!((m.outputs(), m.hidden(), m.layer_count()), (3, 2, 1));
    assert_eq!(m.vocab.chars(), "ab");
    assert_eq!(m.labels().collect::<Vec<_>>(), ["A", "B"]);
    // emb 4 + (1+1+1+1) ×2 encoders, dec emb 3 + w_x 2+2 + w_h 4+2, w_out_h 6+3, w_out_c 6.
    assert_eq!(m.param_count(), 2 * (4 + 4) + 3 + 4 + 6 + 9 + 6);
    let mut arena = [0i32; 200];
    let mut net = Seq2seqQ::new(&m, &mut arena).unwrap();
    let (mut logits, mut ids) = ([0i32; 3], [0u16; 32]);
    let n = greedy(&mut net, "abba", &mut logits, &mut ids).unwrap();
    assert!(n <= 32);
}

/// The tensors of a valid random model, changed by `f`, written out and loaded.
fn load_changed(
    s: &Shape,
    f: impl FnOnce(&mut micrornn::format::Config, &mut Vec<Tensor>),
) -> Result<(), Error> {
    let mut rng = Rng::new(5);
    let mut tensors = random_tensors(s, &mut rng);
    let mut c = s.config();
    f(&mut c, &mut tensors);
    Model::load(&file(c, s.vocab(), &s.labels(), &tensors)).map(|_| ())
}

fn shape(cell: CellKind, layers: usize) -> Shape {
    Shape {
        cell,
        layers,
        hidden: 8,
        embed: 3,
        chars: 5,
        phonemes: 6,
    }
}

#[test]
fn inconsistent_configurations_are_refused() {
    let s = shape(CellKind::Gru, 2);
    assert!(load_changed(&s, |_, _| ()).is_ok());
    // An odd hidden size.
    let odd = Shape { hidden: 7, ..s };
    let e = load_changed(&odd, |_, _| ()).unwrap_err();
    assert!(matches!(e, Error::BadSeq2seq { .. }), "{e:?}");
    // No embedding, too many layers, a hidden size past the accumulators' limit.
    let e = load_changed(&s, |c, _| c.embed = 0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DimensionOutOfRange {
                what: "embedding width",
                ..
            }
        ),
        "{e:?}"
    );
    let e = load_changed(&s, |c, _| c.layers = 5).unwrap_err();
    assert!(
        matches!(e, Error::DimensionOutOfRange { what: "layers", .. }),
        "{e:?}"
    );
    let e = load_changed(&s, |c, _| c.hidden = 512).unwrap_err();
    assert!(matches!(e, Error::DimensionOutOfRange { .. }), "{e:?}");
    // A vocabulary size that is not the characters'.
    let e = load_changed(&s, |c, _| c.vocab_size = 8).unwrap_err();
    assert!(matches!(e, Error::BadVocab { .. }), "{e:?}");
    // One layer less in the configuration than in the tensors.
    let e = load_changed(&s, |c, _| c.layers = 1).unwrap_err();
    assert_eq!(
        e,
        Error::TensorCount {
            expected: tensor_count(1),
            found: tensor_count(2)
        }
    );
}

#[test]
fn bad_phonemes_are_refused() {
    let s = shape(CellKind::Lstm, 1);
    let mut rng = Rng::new(6);
    let tensors = random_tensors(&s, &mut rng);
    for labels in [
        "",
        "A\nB\nC\nD\nE",
        "A\nB\nC\nD\nE\nF\nG",
        "A\nB\nC\nD\nE\nE",
        "A\nB\nC\nD\nE\nF G",
    ] {
        let e = Model::load(&file(s.config(), s.vocab(), labels, &tensors)).unwrap_err();
        assert!(
            matches!(e, Error::BadLabels { .. } | Error::ShapeMismatch { .. }),
            "{labels:?}: {e:?}"
        );
    }
}

#[test]
fn every_tensor_of_the_wrong_shape_is_named() {
    for (cell, layers) in [(CellKind::Rnn, 1), (CellKind::Gru, 2), (CellKind::Lstm, 3)] {
        let s = shape(cell, layers);
        for i in 0..tensor_count(layers) {
            for (dr, dc) in [(1, 0), (0, 1)] {
                let e = load_changed(&s, |_, t| {
                    let t = &mut t[i];
                    t.rows += dr;
                    t.cols += dc;
                    t.weights.resize(t.rows * t.cols, 1);
                    t.scales.resize(t.rows, 0.01);
                    if !t.bias.is_empty() {
                        t.bias.resize(t.rows, 0);
                    }
                })
                .unwrap_err();
                let Error::ShapeMismatch { tensor, .. } = e else {
                    panic!("{cell:?} {layers} tensor {i}: {e:?}");
                };
                let stack = ["enc_fwd", "enc_bwd", "dec"].get(i / (1 + 2 * layers));
                match stack {
                    Some(stack) => assert!(tensor.starts_with(stack), "{i}: {tensor}"),
                    None => assert!(tensor.starts_with("w_out"), "{i}: {tensor}"),
                }
            }
        }
        // A bias where there is none, and none where there is one.
        let e = load_changed(&s, |_, t| t[0].bias = vec![0; t[0].rows]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::SpanLength {
                    tensor: "enc_fwd emb",
                    field: "bias",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = load_changed(&s, |_, t| t[1].bias.clear()).unwrap_err();
        assert!(
            matches!(e, Error::SpanLength { field: "bias", .. }),
            "{e:?}"
        );
        let last = tensor_count(layers) - 1;
        let e = load_changed(&s, |_, t| t[last].bias = vec![0; t[last].rows]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::SpanLength {
                    tensor: "w_out_c",
                    ..
                }
            ),
            "{e:?}"
        );
        // One tensor less.
        let e = load_changed(&s, |_, t| {
            t.pop();
        })
        .unwrap_err();
        assert!(matches!(e, Error::TensorCount { .. }), "{e:?}");
    }
}

/// Any single damaged byte (CRC recomputed) gives an error or a model that runs, never a
/// panic.
#[test]
fn damaged_files_never_panic() {
    let s = shape(CellKind::Lstm, 2);
    let mut rng = Rng::new(8);
    let good = random_file(&s, &mut rng);
    let body_end = good.len() - 4;
    let mut arena = vec![0i32; 8192];
    let (mut logits, mut ids) = ([0i32; 64], [0u16; 32]);
    for i in 4..body_end {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            let crc = format::crc32(&bad[..body_end]);
            bad[body_end..].copy_from_slice(&crc.to_le_bytes());
            if let Ok(m) = Model::load(&bad) {
                if let Ok(mut net) = Seq2seqQ::new(&m, &mut arena) {
                    let _ = greedy(&mut net, "abc", &mut logits, &mut ids);
                }
            }
        }
    }
    // The table's record length is checked too.
    let t = TensorEntry::RECORD_LEN;
    assert_eq!(t, 28);
}

#[test]
fn other_tasks_are_not_seq2seq() {
    let bytes = include_bytes!("fixtures/names.mrnn");
    let m = Model::load(bytes).unwrap();
    let mut arena = [0i32; 100];
    assert_eq!(Seq2seqQ::needs(&m), Err(Error::WrongTask(Task::Generate)));
    assert!(matches!(
        Seq2seqQ::new(&m, &mut arena),
        Err(Error::WrongTask(_))
    ));
}
