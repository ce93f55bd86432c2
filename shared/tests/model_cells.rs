//! The model file for every cell, layer count and task: what loads, and the typed error
//! (naming the tensor) for every wrong shape, count or label list.

use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::{Error, Model};

/// Tensor shapes (rows, cols, bias) of a model, in file order.
fn shapes(
    cell: CellKind,
    layers: usize,
    v: usize,
    h: usize,
    o: usize,
) -> Vec<(usize, usize, bool)> {
    let gh = cell.gates() * h;
    let mut s = vec![];
    for l in 0..layers {
        s.push(if l == 0 {
            (v, gh, false)
        } else {
            (gh, h, true)
        });
        s.push((gh, h, true));
    }
    s.push((o, h, true));
    s
}

/// A model file with these tensor shapes (small weights, scale 1/64, zero biases).
fn file(config: Config, vocab: &str, labels: &str, tensors: &[(usize, usize, bool)]) -> Vec<u8> {
    let mut data = vec![];
    let mut table = vec![];
    let put = |bytes: &[u8], data: &mut Vec<u8>| {
        let span = Span {
            offset: data.len() as u32,
            len: bytes.len() as u32,
        };
        data.extend_from_slice(bytes);
        span
    };
    for &(rows, cols, bias) in tensors {
        let w: Vec<u8> = (0..rows * cols).map(|i| (i % 7) as u8).collect();
        let scales: Vec<u8> = (0..rows)
            .flat_map(|_| (1.0f32 / 64.0).to_le_bytes())
            .collect();
        let entry = TensorEntry {
            rows: rows as u16,
            cols: cols as u16,
            weights: put(&w, &mut data),
            scales: put(&scales, &mut data),
            bias: if bias {
                put(&vec![0; 4 * rows], &mut data)
            } else {
                Span::default()
            },
        };
        table.extend_from_slice(&entry.to_record());
    }
    let body = Body {
        config,
        vocab,
        labels,
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; data.len() + table.len() + 256];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}

fn config(cell: CellKind, task: Task, layers: usize, h: usize) -> Config {
    Config {
        cell,
        task,
        layers: layers as u8,
        hidden: h as u16,
        embed: 0,
        vocab_size: 5,
    }
}

const CELLS: [CellKind; 3] = [CellKind::Rnn, CellKind::Gru, CellKind::Lstm];

#[test]
fn every_cell_layer_count_and_task_loads() {
    for cell in CELLS {
        for layers in 1..=4 {
            for (task, labels, o) in [(Task::Generate, "", 5), (Task::Classify, "F\nM\nX", 3)] {
                let c = config(cell, task, layers, 6);
                let f = file(c, "abc", labels, &shapes(cell, layers, 5, 6, o));
                let m = Model::load(&f).unwrap();
                assert_eq!((m.cell(), m.task(), m.layer_count()), (cell, task, layers));
                assert_eq!(m.outputs(), o);
                assert_eq!(m.labels().count(), if o == 3 { 3 } else { 0 });
                if task == Task::Classify {
                    assert_eq!(m.label(1), Some("M"));
                    assert_eq!(m.label(3), None);
                }
                let g = cell.gates();
                let want = 5 * 6 * g
                    + (layers - 1) * (6 * g * 6 + 6 * g)
                    + layers * (6 * g * 6 + 6 * g)
                    + o * 6
                    + o;
                assert_eq!(m.param_count(), want);
                assert!(m.ram_bytes() > 0);
            }
        }
    }
}

#[test]
fn wrong_shapes_name_the_tensor() {
    for cell in CELLS {
        for layers in 1..=4 {
            let good = shapes(cell, layers, 5, 6, 5);
            for i in 0..good.len() {
                let mut bad = good.clone();
                bad[i].1 += 1;
                let f = file(config(cell, Task::Generate, layers, 6), "abc", "", &bad);
                let e = Model::load(&f).unwrap_err();
                let name = if i == good.len() - 1 {
                    "w_out".to_string()
                } else {
                    format!("layer {} {}", i / 2, ["w_x", "w_h"][i % 2])
                };
                match e {
                    Error::ShapeMismatch {
                        tensor,
                        expected,
                        found,
                    } => {
                        assert_eq!(tensor, name, "{cell:?} {layers}");
                        assert_eq!((expected.0, expected.1 + 1), found);
                    }
                    e => panic!("{cell:?} {layers} {i}: {e:?}"),
                }
            }
            // A bias on layer 0's table, none on a layer above.
            let mut bad = good.clone();
            bad[0].2 = true;
            let f = file(config(cell, Task::Generate, layers, 6), "abc", "", &bad);
            assert!(matches!(
                Model::load(&f).unwrap_err(),
                Error::SpanLength {
                    tensor: "layer 0 w_x",
                    field: "bias",
                    ..
                }
            ));
            if layers > 1 {
                let mut bad = good.clone();
                bad[2].2 = false;
                let f = file(config(cell, Task::Generate, layers, 6), "abc", "", &bad);
                assert!(matches!(
                    Model::load(&f).unwrap_err(),
                    Error::SpanLength {
                        tensor: "layer 1 w_x",
                        field: "bias",
                        ..
                    }
                ));
            }
        }
    }
}

#[test]
fn missing_and_extra_tensors_are_counted() {
    for cell in CELLS {
        for layers in 1..=4 {
            let good = shapes(cell, layers, 5, 6, 5);
            let c = config(cell, Task::Generate, layers, 6);
            let f = file(c, "abc", "", &good[..good.len() - 1]);
            assert_eq!(
                Model::load(&f).unwrap_err(),
                Error::TensorCount {
                    expected: 2 * layers + 1,
                    found: 2 * layers
                }
            );
            let mut more = good.clone();
            more.push((5, 6, true));
            let f = file(c, "abc", "", &more);
            assert_eq!(
                Model::load(&f).unwrap_err(),
                Error::TensorCount {
                    expected: 2 * layers + 1,
                    found: 2 * layers + 2
                }
            );
        }
    }
}

#[test]
fn layer_counts_out_of_range_are_refused() {
    for layers in [0, 5, 255] {
        let f = file(
            config(CellKind::Gru, Task::Generate, layers, 6),
            "abc",
            "",
            &shapes(CellKind::Gru, layers.min(4), 5, 6, 5),
        );
        assert_eq!(
            Model::load(&f).unwrap_err(),
            Error::DimensionOutOfRange {
                what: "layers",
                value: layers,
                max: 4
            }
        );
    }
}

#[test]
fn bad_labels_are_refused() {
    let cases: [(Task, &str, usize); 7] = [
        (Task::Generate, "F\nM", 5),
        (Task::Classify, "", 1),
        (Task::Classify, "F", 1),
        (Task::Classify, "F\n", 2),
        (Task::Classify, "F\nM\nF", 3),
        (Task::Classify, "F\r\nM", 2),
        (Task::Classify, "\nM", 2),
    ];
    for (task, labels, o) in cases {
        let c = config(CellKind::Lstm, task, 2, 6);
        let f = file(c, "abc", labels, &shapes(CellKind::Lstm, 2, 5, 6, o));
        let e = Model::load(&f).unwrap_err();
        assert!(matches!(e, Error::BadLabels { .. }), "{labels:?}: {e:?}");
        assert!(e.to_string().starts_with("bad labels: "), "{e}");
    }
    // Labels and the output layer must agree.
    let c = config(CellKind::Rnn, Task::Classify, 1, 6);
    let f = file(c, "abc", "F\nM", &shapes(CellKind::Rnn, 1, 5, 6, 3));
    assert_eq!(
        Model::load(&f).unwrap_err(),
        Error::ShapeMismatch {
            tensor: "w_out",
            expected: (2, 6),
            found: (3, 6)
        }
    );
}
