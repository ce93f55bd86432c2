//! Malformed and unsupported files: each is one error line, never a panic.

use std::collections::BTreeMap;

use super::import::{import, ImportOptions};
use super::layout::Choices;
use super::safetensors::{parse, write, Dtype, F32Tensor};
use micrornn::format::CellKind;

/// A tensor of `shape` with small distinct values.
fn t(name: &str, shape: &[usize]) -> F32Tensor {
    let n = shape.iter().product::<usize>();
    F32Tensor {
        name: name.into(),
        shape: shape.to_vec(),
        values: (0..n)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 200.0)
            .collect(),
    }
}

/// A generator over "abc" (5 ids: a b c, start 3, end 4): embedding 2 → GRU (H = 3,
/// `layers`) → Linear, under the module names `emb`, `rnn`, `fc`.
fn gru(layers: usize) -> Vec<F32Tensor> {
    let mut v = vec![t("emb.weight", &[5, 2])];
    for k in 0..layers {
        let input = if k == 0 { 2 } else { 3 };
        v.push(t(&format!("rnn.weight_ih_l{k}"), &[9, input]));
        v.push(t(&format!("rnn.weight_hh_l{k}"), &[9, 3]));
        v.push(t(&format!("rnn.bias_ih_l{k}"), &[9]));
        v.push(t(&format!("rnn.bias_hh_l{k}"), &[9]));
    }
    v.push(t("fc.weight", &[5, 3]));
    v.push(t("fc.bias", &[5]));
    v
}

fn vocab_meta() -> BTreeMap<String, String> {
    [
        ("micrornn.chars", "abc"),
        ("micrornn.start", "3"),
        ("micrornn.end", "4"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The error of importing `tensors` (with the vocabulary in the metadata).
fn import_err(tensors: &[F32Tensor], opts: &ImportOptions) -> String {
    let bytes = write(tensors, &vocab_meta());
    let file = parse(&bytes).expect("a well-formed file");
    let e = import(&file, opts).expect_err("refused").to_string();
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

/// A raw file: the header text as given, then `data`.
fn raw(header: impl AsRef<[u8]>, data: &[u8]) -> Vec<u8> {
    let header = header.as_ref();
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend(header);
    v.extend(data);
    v
}

fn parse_err(bytes: &[u8]) -> String {
    let e = format!("{:#}", parse(bytes).expect_err("refused"));
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

#[test]
fn writes_and_parses_back_with_golden_bytes() {
    let meta = BTreeMap::from([("k".to_string(), "v".to_string())]);
    let bytes = write(
        &[F32Tensor {
            name: "x".into(),
            shape: vec![2],
            values: vec![1.0, -2.0],
        }],
        &meta,
    );
    let header =
        r#"{"__metadata__":{"k":"v"},"x":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#;
    let mut want = raw(format!("{header:<80}"), &[]);
    want.extend(1f32.to_le_bytes());
    want.extend((-2f32).to_le_bytes());
    assert_eq!(bytes, want);
    let f = parse(&bytes).unwrap();
    assert_eq!(f.metadata, meta);
    assert_eq!(f.tensors["x"].to_f32().unwrap(), vec![1.0, -2.0]);
}

#[test]
fn half_bfloat_and_double_weights_are_read() {
    let h = [0x3c00u16, 0xc000, 0x0001, 0x7bff];
    let data: Vec<u8> = h.iter().flat_map(|x| x.to_le_bytes()).collect();
    let f16 = raw(
        r#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#,
        &data,
    );
    let got = parse(&f16).unwrap().tensors["a"].to_f32().unwrap();
    assert_eq!(got, vec![1.0, -2.0, 2f32.powi(-24), 65504.0]);
    let bf = raw(
        r#"{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#,
        &[0x80, 0x3f],
    );
    assert_eq!(
        parse(&bf).unwrap().tensors["a"].to_f32().unwrap(),
        vec![1.0]
    );
    let d = raw(
        r#"{"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}"#,
        &0.5f64.to_le_bytes(),
    );
    let f = parse(&d).unwrap();
    assert_eq!(f.tensors["a"].dtype, Dtype::F64);
    assert_eq!(f.tensors["a"].to_f32().unwrap(), vec![0.5]);
}

#[test]
fn malformed_files_are_one_line_errors() {
    let ok = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert!(parse(&raw(ok, &[0; 8])).is_ok());
    // A file of one tensor `a` whose header entry is `entry`, with `n` zero bytes of data.
    let one = |entry: &str, n: usize| raw(format!(r#"{{"a":{{{entry}}}}}"#), &vec![0; n]);
    let cases: &[(Vec<u8>, &str)] = &[
        (vec![], "shorter than the 8-byte"),
        (vec![1, 0, 0], "shorter than the 8-byte"),
        (raw(ok, &[0; 8])[..20].to_vec(), "past the end of the file"),
        (u64::MAX.to_le_bytes().to_vec(), "beyond"),
        (raw("[1]", &[]), "does not start with '{'"),
        (raw("{\"a\":", &[]), "not JSON"),
        (raw("{\"a\":1}", &[]), "not an object"),
        (raw(r#"{"__metadata__":{"k":1}}"#, &[]), "not a string"),
        (
            raw(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
            "overlaps",
        ),
        (
            one(r#""dtype":"F17","shape":[1],"data_offsets":[0,4]"#, 4),
            "unknown dtype",
        ),
        (one(r#""shape":[1],"data_offsets":[0,4]"#, 4), "no dtype"),
        (raw(ok, &[0; 12]), "after the last tensor"),
        (
            one(r#""dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1"#, 4),
            "unknown field",
        ),
        (raw(b"{\"a\xff\":1}", &[]), "not UTF-8"),
    ];
    // One F32 tensor `a` of `shape` at `data_offsets`, with `n` zero bytes of data:
    // (shape, data_offsets, n, error).
    let f32_cases: &[(&str, &str, usize, &str)] = &[
        ("[-1]", "[0,4]", 4, "not a size"),
        ("[1.5]", "[0,4]", 4, "not a size"),
        ("[1]", "[0]", 4, "not 2"),
        ("[1]", "[0,8]", 4, "outside"),
        ("[1]", "[4,0]", 4, "outside"),
        ("[3]", "[0,8]", 8, "needs 12 bytes"),
        (
            "[4294967296,4294967296,4294967296]",
            "[0,8]",
            8,
            "too large",
        ),
        ("[1]", "[4,8]", 8, "hole"),
    ];
    let f32_cases = f32_cases.iter().map(|&(shape, offsets, n, needle)| {
        let entry = format!(r#""dtype":"F32","shape":{shape},"data_offsets":{offsets}"#);
        (one(&entry, n), needle)
    });
    let cases = cases.iter().cloned().chain(f32_cases);
    for (bytes, needle) in cases {
        let e = parse_err(&bytes);
        assert!(e.contains(needle), "{e:?} lacks {needle:?}");
    }
}

#[test]
fn every_truncation_is_refused_and_no_flip_panics() {
    let bytes = write(&gru(1), &vocab_meta());
    for n in 0..bytes.len() {
        assert!(parse(&bytes[..n]).is_err(), "truncation to {n} accepted");
    }
    for i in 0..bytes.len() {
        for bit in [0x01, 0x20, 0x80] {
            let mut bad = bytes.clone();
            bad[i] ^= bit;
            if let Ok(f) = parse(&bad) {
                if let Ok(got) = import(&f, &ImportOptions::default()) {
                    let _ = crate::eval::host_model::export_checkpoint(&got.ckpt);
                }
            }
        }
    }
}

#[test]
fn a_well_formed_model_imports() {
    let bytes = write(&gru(2), &vocab_meta());
    let got = import(&parse(&bytes).unwrap(), &ImportOptions::default()).unwrap();
    let d = got.ckpt.dims();
    assert_eq!(
        (d.cell, d.layers, d.hidden, d.embed, d.vocab),
        (CellKind::Gru, 2, 3, 2, 5)
    );
    assert_eq!(got.ckpt.vocab, "abc");
    // micrornn START (0) takes PyTorch id 3's embedding row, 'a' (token 2) id 0's.
    let emb = &gru(1)[0].values;
    assert_eq!(got.ckpt.best[..2], emb[6..8]);
    assert_eq!(got.ckpt.best[4..6], emb[0..2]);
}

#[test]
fn unsupported_layers_are_refused_by_name() {
    let mut bi = gru(1);
    bi.push(t("rnn.weight_ih_l0_reverse", &[9, 2]));
    let e = import_err(&bi, &ImportOptions::default());
    assert!(e.contains("bidirectional"), "{e}");
    let mut proj = gru(1);
    proj.push(t("rnn.weight_hr_l0", &[2, 3]));
    assert!(import_err(&proj, &ImportOptions::default()).contains("proj_size"));
    let mut odd = gru(1);
    odd.push(t("x\n.weight_ih_l0", &[9, 2]));
    let e = import_err(&odd, &ImportOptions::default());
    assert!(e.contains("control character"), "{e}");
    let mut extra = gru(1);
    extra.push(t("norm.weight", &[3]));
    let e = import_err(&extra, &ImportOptions::default());
    assert!(
        e.contains("norm.weight") && e.contains("not part of"),
        "{e}"
    );
    let five: Vec<F32Tensor> = gru(5);
    assert!(import_err(&five, &ImportOptions::default()).contains("at most 4"));
}

#[test]
fn missing_or_misshapen_tensors_are_named() {
    let drop =
        |name: &str| -> Vec<F32Tensor> { gru(2).into_iter().filter(|x| x.name != name).collect() };
    let o = ImportOptions::default();
    assert!(import_err(&drop("rnn.weight_hh_l1"), &o).contains("rnn.weight_hh_l1"));
    assert!(import_err(&drop("rnn.bias_hh_l0"), &o).contains("missing tensor rnn.bias_hh_l0"));
    assert!(import_err(&drop("rnn.weight_ih_l0"), &o).contains("no recurrent layer"));
    assert!(import_err(&drop("fc.bias"), &o).contains("no output layer"));
    let mut two_gates = gru(1);
    two_gates[2] = t("rnn.weight_hh_l0", &[6, 3]);
    assert!(import_err(&two_gates, &o).contains("2 gate blocks"));
    let mut bad_ih = gru(2);
    bad_ih[5] = t("rnn.weight_ih_l1", &[9, 4]);
    assert!(import_err(&bad_ih, &o).contains("rnn.weight_ih_l1 has shape"));
    let mut bad_bias = gru(1);
    bad_bias[3] = t("rnn.bias_ih_l0", &[8]);
    assert!(import_err(&bad_bias, &o).contains("rnn.bias_ih_l0 has shape"));
    let lstm = ImportOptions {
        choices: Choices {
            cell: Some(CellKind::Lstm),
            ..Choices::default()
        },
        ..ImportOptions::default()
    };
    assert!(import_err(&gru(1), &lstm).contains("a GRU"));
}

#[test]
fn ambiguity_is_named_and_resolved_by_choices() {
    let mut two = gru(1);
    for x in gru(1).into_iter().skip(1).take(4) {
        two.push(F32Tensor {
            name: x.name.replace("rnn.", "other."),
            ..x
        });
    }
    let e = import_err(&two, &ImportOptions::default());
    assert!(
        e.contains("--rnn") && e.contains("other") && e.contains("rnn"),
        "{e}"
    );
    // Choosing one leaves the other's tensors unused: refused as not part of the model.
    let pick = ImportOptions {
        choices: Choices {
            rnn: Some("rnn".into()),
            ..Choices::default()
        },
        ..ImportOptions::default()
    };
    assert!(import_err(&two, &pick).contains("other."));

    let mut embs = gru(1);
    embs.push(t("emb2.weight", &[5, 2]));
    let e = import_err(&embs, &ImportOptions::default());
    assert!(
        e.contains("--embedding") && e.contains("emb2.weight"),
        "{e}"
    );

    let mut fcs = gru(1);
    fcs.push(t("fc2.weight", &[5, 3]));
    fcs.push(t("fc2.bias", &[5]));
    assert!(import_err(&fcs, &ImportOptions::default()).contains("--linear"));
}

#[test]
fn bias_free_layers_import_with_zero_biases() {
    let v: Vec<F32Tensor> = gru(1)
        .into_iter()
        .filter(|x| !x.name.starts_with("rnn.bias") && x.name != "fc.bias")
        .collect();
    let bytes = write(&v, &vocab_meta());
    let f = parse(&bytes).unwrap();
    assert!(import(&f, &ImportOptions::default())
        .unwrap_err()
        .to_string()
        .contains("--linear"));
    let opts = ImportOptions {
        choices: Choices {
            linear: Some("fc".into()),
            ..Choices::default()
        },
        ..ImportOptions::default()
    };
    let ck = import(&f, &opts).unwrap().ckpt;
    let p = ck.dims().split(&ck.best);
    assert!(p.layers[0].b_x.iter().chain(p.b_out).all(|&b| b == 0.0));
    assert!(p.layers[0].w_h.iter().any(|&w| w != 0.0));
}

#[test]
fn bad_values_vocabularies_and_labels_are_refused() {
    let mut nan = gru(1);
    nan[2].values[4] = f32::NAN;
    let e = import_err(&nan, &ImportOptions::default());
    assert!(
        e.contains("rnn.weight_hh_l0") && e.contains("not finite"),
        "{e}"
    );

    // An integer tensor where a weight is expected.
    let header = r#"{"__metadata__":{"micrornn.chars":"ab","micrornn.start":"2"},"rnn.weight_ih_l0":{"dtype":"I32","shape":[1,3],"data_offsets":[0,12]},"rnn.weight_hh_l0":{"dtype":"F32","shape":[1,1],"data_offsets":[12,16]},"fc.weight":{"dtype":"F32","shape":[3,1],"data_offsets":[16,28]},"fc.bias":{"dtype":"F32","shape":[3],"data_offsets":[28,40]}}"#;
    let bytes = raw(header, &[0; 40]);
    let e = format!(
        "{:#}",
        import(&parse(&bytes).unwrap(), &ImportOptions::default()).unwrap_err()
    );
    assert!(e.contains("dtype I32"), "{e}");

    let none = write(&gru(1), &BTreeMap::new());
    let e = import(&parse(&none).unwrap(), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--chars"), "{e}");
    let short = ImportOptions {
        chars: Some("ab".into()),
        start: Some(0),
        end: Some(1),
        ..ImportOptions::default()
    };
    let e = import(&parse(&none).unwrap(), &short)
        .unwrap_err()
        .to_string();
    assert!(e.contains("5 token ids") && e.contains("gives 4"), "{e}");

    let labels = ImportOptions {
        labels: Some(vec!["F".into(), "M".into()]),
        ..ImportOptions::default()
    };
    let e = import_err(&gru(1), &labels);
    assert!(e.contains("5 outputs") && e.contains("2 labels"), "{e}");
    let mut clf = gru(1);
    clf[5] = t("fc.weight", &[2, 3]);
    clf[6] = t("fc.bias", &[2]);
    assert!(import_err(&clf, &ImportOptions::default()).contains("--labels"));
    let ck = import(&parse(&write(&clf, &vocab_meta())).unwrap(), &labels)
        .unwrap()
        .ckpt;
    assert_eq!(ck.dims().outputs, 2);
    assert_eq!(ck.labels, ["F", "M"]);
}

#[test]
fn a_cell_module_imports_as_one_layer() {
    // nn.GRUCell's names: no `_l0`.
    let v: Vec<F32Tensor> = gru(1)
        .into_iter()
        .map(|x| F32Tensor {
            name: x.name.replace("_l0", ""),
            ..x
        })
        .collect();
    let bytes = write(&v, &vocab_meta());
    let got = import(&parse(&bytes).unwrap(), &ImportOptions::default()).unwrap();
    assert!(got.layout.cell_module);
    let d = got.ckpt.dims();
    assert_eq!((d.cell, d.layers, d.hidden), (CellKind::Gru, 1, 3));
    let layer_style = write(&gru(1), &vocab_meta());
    let want = import(&parse(&layer_style).unwrap(), &ImportOptions::default()).unwrap();
    assert_eq!(got.ckpt.best, want.ckpt.best);
}
