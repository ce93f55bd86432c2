//! What the model store's tests share: real model files of any cell and size, and an
//! upload in chunks.

#![allow(dead_code)]

use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::rng::Rng;
use micrornn::store::{ActiveSlot, ModelStore, Partition};
use micrornn::Error;

/// A valid generator file: `cell`, one layer, `hidden` units, vocabulary "abc" (5 tokens),
/// random int8 weights drawn from `seed`, scale 1/64, small biases.
pub fn model_file(cell: CellKind, hidden: usize, seed: u64) -> Vec<u8> {
    model_of(cell, Task::Generate, "abc", "", hidden, seed)
}

/// A valid model file: `cell`, `task`, one layer, `hidden` units, the characters of
/// `vocab` (plus start and end), `labels` (one per line, for a classifier), random int8
/// weights drawn from `seed`, scale 1/64, small biases.
pub fn model_of(
    cell: CellKind,
    task: Task,
    vocab: &str,
    labels: &str,
    hidden: usize,
    seed: u64,
) -> Vec<u8> {
    let v = vocab.chars().count() + 2;
    let outputs = match task {
        Task::Classify => labels.lines().count(),
        _ => v,
    };
    let gh = cell.gates() * hidden;
    let shapes = [(v, gh, false), (gh, hidden, true), (outputs, hidden, true)];
    let mut rng = Rng::new(seed);
    let (mut data, mut table) = (vec![], vec![]);
    let put = |bytes: Vec<u8>, data: &mut Vec<u8>| {
        let span = Span {
            offset: data.len() as u32,
            len: bytes.len() as u32,
        };
        data.extend(bytes);
        span
    };
    for (rows, cols, bias) in shapes {
        let weights = (0..rows * cols).map(|_| rng.next_u32() as u8).collect();
        let scales = (0..rows)
            .flat_map(|_| (1.0f32 / 64.0).to_le_bytes())
            .collect();
        let biases = (0..rows)
            .flat_map(|_| ((rng.next_u32() as i32) >> 16).to_le_bytes())
            .collect();
        let entry = TensorEntry {
            rows: rows as u16,
            cols: cols as u16,
            weights: put(weights, &mut data),
            scales: put(scales, &mut data),
            bias: if bias {
                put(biases, &mut data)
            } else {
                Span::default()
            },
        };
        table.extend_from_slice(&entry.to_record());
    }
    let config = Config {
        cell,
        task,
        layers: 1,
        hidden: hidden as u16,
        embed: 0,
        vocab_size: v as u16,
    };
    let body = Body {
        config,
        vocab,
        labels,
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0; data.len() + table.len() + 64];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}

/// Begins, writes `bytes` in `chunk`-byte pieces, and commits.
pub fn upload<P: Partition>(
    store: &mut ModelStore<P>,
    bytes: &[u8],
    single_slot: bool,
    chunk: usize,
) -> Result<ActiveSlot, Error> {
    store.begin(bytes.len() as u32, format::model_crc(bytes), single_slot)?;
    for (i, piece) in bytes.chunks(chunk).enumerate() {
        store.write((i * chunk) as u32, piece)?;
    }
    store.commit()
}
