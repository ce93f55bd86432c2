//! The model file: golden bytes, and a typed error (never a panic) for every kind of damage.

use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry, HEADER_LEN};
use micrornn::rng::Rng;
use micrornn::{Error, Model};

/// The tiny model: vocabulary "ab" (4 tokens), hidden 2, hand-picked weights.
/// Data block: w_in weights (8) scales (16) | w_hh weights (4) scales (8) bias (8) |
/// w_out weights (8) scales (16) bias (16) = 84 bytes.
fn tiny_data() -> Vec<u8> {
    let mut d = Vec::new();
    let scales = |n: usize, s: f32| -> Vec<u8> { (0..n).flat_map(|_| s.to_le_bytes()).collect() };
    let q16 = |xs: &[i32]| -> Vec<u8> { xs.iter().flat_map(|x| x.to_le_bytes()).collect() };
    d.extend([10u8, 246, 20, 236, 127, 129, 0, 1]); // w_in (4,2)
    d.extend(scales(4, 0.0625));
    d.extend([64u8, 192, 32, 224]); // w_hh (2,2)
    d.extend(scales(2, 0.015625));
    d.extend(q16(&[65536, -32768]));
    d.extend([1u8, 2, 3, 4, 5, 6, 7, 8]); // w_out (4,2)
    d.extend(scales(4, 0.125));
    d.extend(q16(&[0, 1, -1, 65536]));
    d
}

fn span(offset: u32, len: u32) -> Span {
    Span { offset, len }
}

fn tiny_tensors() -> Vec<TensorEntry> {
    let e = |rows, cols, w: Span, s: Span, b: Span| TensorEntry {
        rows,
        cols,
        weights: w,
        scales: s,
        bias: b,
    };
    vec![
        e(4, 2, span(0, 8), span(8, 16), span(0, 0)),
        e(2, 2, span(24, 4), span(28, 8), span(36, 8)),
        e(4, 2, span(44, 8), span(52, 16), span(68, 16)),
    ]
}

fn table(entries: &[TensorEntry]) -> Vec<u8> {
    entries.iter().flat_map(|e| e.to_record()).collect()
}

fn tiny_config() -> Config {
    Config {
        cell: CellKind::Rnn,
        task: Task::Generate,
        layers: 1,
        hidden: 2,
        embed: 0,
        vocab_size: 4,
    }
}

fn encode(body: &Body<'_>) -> Vec<u8> {
    let mut out = vec![0u8; 1024];
    let n = format::encode(body, &mut out).unwrap();
    out.truncate(n);
    out
}

fn tiny_file() -> Vec<u8> {
    let (data, table) = (tiny_data(), table(&tiny_tensors()));
    encode(&Body {
        config: tiny_config(),
        vocab: "ab",
        labels: "",
        tensors: &table,
        data: &data,
    })
}

/// The exact bytes of the tiny model file. If this changes, the format changed:
/// bump `FORMAT_VERSION` and document it.
#[rustfmt::skip]
const TINY_GOLDEN: &[u8] = &[
    // header: "MRNN", version 1, flags 0, body length 180
    b'M', b'R', b'N', b'N', 1, 0, 0, 0, 180, 0, 0, 0,
    // body: config (cell 0 = rnn, task 0 = generate, layers 1, hidden 2, embed 0, vocab 4)
    0, 0, 1, 2, 0, 4,
    // vocab "ab", labels ""
    2, b'a', b'b', 0,
    // tensor table: 84 bytes = 3 records of rows u16, cols u16, then (offset, len) u32
    // pairs for weights, scales and bias, all little-endian
    84,
    4, 0, 2, 0, 0, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 2, 0, 24, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 8, 0, 0, 0, 36, 0, 0, 0, 8, 0, 0, 0,
    4, 0, 2, 0, 44, 0, 0, 0, 8, 0, 0, 0, 52, 0, 0, 0, 16, 0, 0, 0, 68, 0, 0, 0, 16, 0, 0, 0,
    // data block: length 84, then w_in weights and scales, w_hh weights, scales, bias,
    // w_out weights, scales, bias
    84,
    10, 246, 20, 236, 127, 129, 0, 1,
    0, 0, 128, 61, 0, 0, 128, 61, 0, 0, 128, 61, 0, 0, 128, 61,
    64, 192, 32, 224,
    0, 0, 128, 60, 0, 0, 128, 60,
    0, 0, 1, 0, 0, 128, 255, 255,
    1, 2, 3, 4, 5, 6, 7, 8,
    0, 0, 0, 62, 0, 0, 0, 62, 0, 0, 0, 62, 0, 0, 0, 62,
    0, 0, 0, 0, 1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 1, 0,
    // CRC-32 of everything above, little-endian (zlib.crc32)
    160, 60, 203, 223,
];

#[test]
fn header_golden_bytes() {
    let f = tiny_file();
    assert_eq!(
        &f[..HEADER_LEN],
        &[b'M', b'R', b'N', b'N', 1, 0, 0, 0, 180, 0, 0, 0]
    );
}

#[test]
fn tiny_model_golden_bytes() {
    let f = tiny_file();
    assert_eq!(f, TINY_GOLDEN, "got {f:?}");
    let m = Model::load(TINY_GOLDEN).unwrap();
    assert_eq!(m.vocab.chars(), "ab");
    assert_eq!(m.layer(0).w_x.weight(1, 1), -20); // byte 236
    assert_eq!(m.layer(0).w_x.weight(2, 1), -127); // byte 129
    assert_eq!(m.layer(0).w_h.bias_q16(1), -32768);
    assert_eq!(m.w_out().scale(3), 0.125);
    assert_eq!(m.param_count(), 8 + 4 + 2 + 8 + 4);
}

#[test]
fn trailing_bytes_after_the_crc_are_ignored() {
    let mut f = tiny_file();
    f.extend([0xff; 100]); // rest of a flash partition
    assert!(Model::load(&f).is_ok());
    assert_eq!(format::file_len(&f), Some(TINY_GOLDEN.len()));
}

#[test]
fn truncation_at_every_length_is_refused() {
    let f = tiny_file();
    for n in 0..f.len() {
        match Model::load(&f[..n]) {
            Err(Error::Truncated { got, .. }) => assert_eq!(got, n),
            other => panic!("truncated to {n}: {other:?}"),
        }
    }
}

#[test]
fn every_flipped_bit_is_refused() {
    let f = tiny_file();
    for i in 0..f.len() * 8 {
        let mut bad = f.clone();
        bad[i / 8] ^= 1 << (i % 8);
        let e = Model::load(&bad).expect_err("a flipped bit was accepted");
        let expected = match i / 8 {
            0..=3 => matches!(e, Error::BadMagic),
            4 | 5 => matches!(e, Error::UnsupportedVersion { .. }),
            6 | 7 => matches!(e, Error::BadFlags { .. }),
            // A longer body length runs past the end; a shorter one moves the CRC.
            8..=11 => matches!(e, Error::Truncated { .. } | Error::CrcMismatch { .. }),
            _ => matches!(e, Error::CrcMismatch { .. }),
        };
        assert!(expected, "bit {i}: {e:?}");
    }
}

#[test]
fn wrong_magic_and_unknown_version() {
    let mut f = tiny_file();
    f[0] = b'X';
    assert_eq!(Model::load(&f).unwrap_err(), Error::BadMagic);
    let mut f = tiny_file();
    f[4] = 9;
    assert_eq!(
        Model::load(&f).unwrap_err(),
        Error::UnsupportedVersion { found: 9 }
    );
}

/// The parts of a body, owned, to damage before encoding.
struct Parts {
    config: Config,
    vocab: &'static str,
    labels: &'static str,
    tensors: Vec<TensorEntry>,
    table: Option<Vec<u8>>,
}

/// Re-encodes a damaged body with a valid CRC, so the content checks are what refuse it.
fn load_modified(change: impl FnOnce(&mut Parts)) -> Error {
    let data = tiny_data();
    let mut p = Parts {
        config: tiny_config(),
        vocab: "ab",
        labels: "",
        tensors: tiny_tensors(),
        table: None,
    };
    change(&mut p);
    let table = p.table.unwrap_or_else(|| table(&p.tensors));
    let body = Body {
        config: p.config,
        vocab: p.vocab,
        labels: p.labels,
        tensors: &table,
        data: &data,
    };
    let file = encode(&body);
    let e = Model::load(&file).expect_err("damaged body accepted");
    assert_eq!(Model::load_without_crc(&file).unwrap_err(), e);
    e
}

#[test]
fn inconsistent_dimensions_are_refused() {
    let e = load_modified(|b| b.config.hidden = 3);
    assert_eq!(
        e,
        Error::ShapeMismatch {
            tensor: "layer 0 w_x",
            expected: (4, 3),
            found: (4, 2)
        }
    );
    let e = load_modified(|b| b.tensors[1].rows = 3);
    assert_eq!(
        e,
        Error::ShapeMismatch {
            tensor: "layer 0 w_h",
            expected: (2, 2),
            found: (3, 2)
        }
    );
    let e = load_modified(|b| b.config.vocab_size = 5);
    assert!(matches!(e, Error::BadVocab { .. }), "{e:?}");
    let e = load_modified(|b| b.vocab = "ba");
    assert!(matches!(e, Error::BadVocab { .. }), "{e:?}");
    let e = load_modified(|b| b.config.hidden = 0);
    assert!(
        matches!(
            e,
            Error::DimensionOutOfRange {
                what: "hidden size",
                ..
            }
        ),
        "{e:?}"
    );
    let e = load_modified(|b| b.config.hidden = 4000);
    assert!(
        matches!(
            e,
            Error::DimensionOutOfRange {
                what: "hidden size",
                max: 511,
                ..
            }
        ),
        "{e:?}"
    );
    let e = load_modified(|b| {
        b.tensors.pop();
    });
    assert_eq!(
        e,
        Error::TensorCount {
            expected: 3,
            found: 2
        }
    );
    let e = load_modified(|b| b.tensors[2].bias.len = 12);
    assert_eq!(
        e,
        Error::SpanLength {
            tensor: "w_out",
            field: "bias",
            expected: 16,
            found: 12
        }
    );
    let e = load_modified(|b| b.tensors[0].bias = span(0, 16));
    assert_eq!(
        e,
        Error::SpanLength {
            tensor: "layer 0 w_x",
            field: "bias",
            expected: 0,
            found: 16
        }
    );
    // A GRU's layer-0 table has three gate blocks per token.
    assert_eq!(
        load_modified(|b| b.config.cell = CellKind::Gru),
        Error::ShapeMismatch {
            tensor: "layer 0 w_x",
            expected: (4, 6),
            found: (4, 2)
        }
    );
    assert!(matches!(
        load_modified(|b| b.labels = "F\nM"),
        Error::BadLabels { .. }
    ));
}

#[test]
fn out_of_range_indices_are_refused() {
    let e = load_modified(|b| b.tensors[1].bias.offset = 80);
    assert_eq!(
        e,
        Error::SpanOutOfRange {
            tensor: "layer 0 w_h",
            field: "bias",
            end: 88,
            len: 84
        }
    );
    let e = load_modified(|b| b.tensors[2].weights.offset = u32::MAX);
    assert!(
        matches!(
            e,
            Error::SpanOutOfRange {
                tensor: "w_out",
                field: "weights",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn bad_scales_are_refused() {
    for bad in [-1.0f32, f32::NAN, f32::INFINITY, 1e-30, 1e5] {
        let mut data = tiny_data();
        data[28..32].copy_from_slice(&bad.to_le_bytes()); // w_hh row 0 scale
        let table = table(&tiny_tensors());
        let body = Body {
            config: tiny_config(),
            vocab: "ab",
            labels: "",
            tensors: &table,
            data: &data,
        };
        let e = Model::load(&encode(&body)).unwrap_err();
        assert_eq!(
            e,
            Error::BadScale {
                tensor: "layer 0 w_h",
                row: 0
            },
            "{bad}"
        );
    }
}

#[test]
fn garbage_never_panics() {
    // Random bytes, and random bodies behind a valid header and CRC.
    let mut rng = Rng::new(99);
    let mut buf = vec![0u8; 300];
    for round in 0..20_000 {
        let n = rng.below(buf.len() as u64) as usize;
        for b in &mut buf[..n] {
            *b = rng.next_u32() as u8;
        }
        if round % 2 == 0 && n >= 16 {
            buf[..4].copy_from_slice(b"MRNN");
            buf[4..8].copy_from_slice(&[1, 0, 0, 0]);
            buf[8..12].copy_from_slice(&((n - 16) as u32).to_le_bytes());
            let crc = format::crc32(&buf[..n - 4]);
            buf[n - 4..n].copy_from_slice(&crc.to_le_bytes());
        }
        let _ = Model::load(&buf[..n]);
        let _ = Model::load_without_crc(&buf[..n]);
    }
}

/// `bytes` with the CRC field recomputed where the header's body length puts it (if the
/// header is readable and the bytes are long enough), else unchanged.
fn with_fixed_crc(bytes: &[u8]) -> Vec<u8> {
    let mut f = bytes.to_vec();
    if let Some(n) = format::file_len(&f).filter(|&n| n <= f.len()) {
        let crc = format::crc32(&f[..n - 4]);
        f[n - 4..n].copy_from_slice(&crc.to_le_bytes());
    }
    f
}

#[test]
fn load_without_crc_accepts_a_wrong_crc_field() {
    let n = TINY_GOLDEN.len();
    for bad in [0u32, 0xffff_ffff, 0xdfcb_3ca1] {
        let mut f = TINY_GOLDEN.to_vec();
        f[n - 4..].copy_from_slice(&bad.to_le_bytes());
        assert!(matches!(Model::load(&f), Err(Error::CrcMismatch { .. })));
        let m = Model::load_without_crc(&f).expect("the CRC field is not compared");
        let good = Model::load(TINY_GOLDEN).unwrap();
        assert_eq!(m.vocab.chars(), "ab");
        assert_eq!(m.param_count(), good.param_count());
        assert_eq!(m.w_out().weight(3, 1), good.w_out().weight(3, 1));
    }
}

#[test]
fn load_without_crc_refuses_everything_load_refuses_but_the_crc() {
    let f = tiny_file();
    // The CRC field must still be there.
    for n in 0..f.len() {
        match Model::load_without_crc(&f[..n]) {
            Err(Error::Truncated { got, .. }) => assert_eq!(got, n),
            other => panic!("truncated to {n}: {other:?}"),
        }
    }
    // Any flipped bit: the verdict `load` gives once the CRC is made to match.
    let mut accepted = 0;
    for i in 0..f.len() * 8 {
        let mut bad = f.clone();
        bad[i / 8] ^= 1 << (i % 8);
        let want = Model::load(&with_fixed_crc(&bad)).map(|m| m.param_count());
        let got = Model::load_without_crc(&bad).map(|m| m.param_count());
        assert_eq!(got, want, "bit {i}");
        assert!(!matches!(got, Err(Error::CrcMismatch { .. })), "bit {i}");
        accepted += usize::from(got.is_ok());
    }
    // Weight bytes, and the CRC field itself, can change without breaking the structure.
    assert!(accepted >= 32 && accepted < f.len() * 8 / 2, "{accepted}");
}

#[test]
fn error_messages_are_one_line() {
    let errors = [
        Error::Truncated { needed: 16, got: 3 },
        Error::BadMagic,
        Error::UnsupportedVersion { found: 2 },
        Error::CrcMismatch {
            stored: 1,
            computed: 2,
        },
        Error::ShapeMismatch {
            tensor: "w_hh",
            expected: (2, 2),
            found: (3, 2),
        },
        Error::SpanOutOfRange {
            tensor: "layer 0 w_h",
            field: "bias",
            end: 88,
            len: 84,
        },
    ];
    for e in errors {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "{s:?}");
    }
}
