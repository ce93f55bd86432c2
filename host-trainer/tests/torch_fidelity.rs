//! Models trained in PyTorch (tests/fixtures/torch, made by make_fixtures.py) imported
//! into micrornn: the float path gives PyTorch's logits within 1e-5 and its mean
//! validation loss within 1e-4; the int8 model stays within 2% of the float loss.
//!
//! `cargo test -p micrornn-trainer --test torch_fidelity -- --nocapture` prints the figures.

use std::path::{Path, PathBuf};

use micrornn::cell::NetF;
use micrornn::vocab::{Vocab, END, START};
use micrornn::Net;
use micrornn_trainer::data::labelled::load_labelled;
use micrornn_trainer::eval::classifier::{classify_names, score};
use micrornn_trainer::eval::generator::evaluate;
use micrornn_trainer::eval::host_model::{export_checkpoint, HostModel};
use micrornn_trainer::torch::import::{import, ImportOptions};
use micrornn_trainer::torch::safetensors::parse;
use micrornn_trainer::train::checkpoint::Checkpoint;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/torch")
}

fn fixtures() -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["fixtures"].as_array().unwrap().clone()
}

/// Imports a fixture as `micrornn import` would: the vocabulary from the file's metadata,
/// or from the flags when the file has none.
fn imported(f: &Value) -> Checkpoint {
    let bytes = std::fs::read(dir().join(f["file"].as_str().unwrap())).unwrap();
    let file = parse(&bytes).unwrap();
    let opts = if f["metadata"].as_bool().unwrap() {
        ImportOptions::default()
    } else {
        ImportOptions {
            chars: Some(f["chars"].as_str().unwrap().into()),
            start: Some(f["start"].as_u64().unwrap() as usize),
            end: Some(f["end"].as_u64().unwrap() as usize),
            ..ImportOptions::default()
        }
    };
    import(&file, &opts).unwrap().ckpt
}

/// Largest |micrornn − PyTorch| over every logit of every probe name, read through the
/// fixture's own id table (so a wrong permutation in the importer shows here).
fn max_logit_diff(f: &Value, ck: &Checkpoint) -> f64 {
    let w = ck.dims().split(&ck.best);
    let mut arena = vec![0.0; NetF::needs(&w)];
    let mut net = NetF::new(w, &mut arena).unwrap();
    let vocab = Vocab::new(&ck.vocab).unwrap();
    let ids = &f["ids"];
    let classify = f["task"] == "classify";
    let mut out = vec![0.0f32; w.outputs];
    let mut worst = 0.0f64;
    for p in f["probes"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let torch = p["logits"].as_array().unwrap();
        net.reset();
        let inputs: Vec<u16> = std::iter::once(START)
            .chain(name.chars().map(|c| vocab.token(c).unwrap()))
            .collect();
        let mut steps = Vec::new();
        for &t in &inputs {
            net.step_f32(t, &mut out);
            steps.push(out.clone());
        }
        if classify {
            // One output, after the last character.
            steps.drain(..steps.len() - 1);
        }
        assert_eq!(steps.len(), torch.len(), "{name}");
        for (mine, theirs) in steps.iter().zip(torch) {
            let theirs: Vec<f64> = theirs
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let pairs: Vec<(f32, f64)> = if classify {
                mine.iter().copied().zip(theirs.iter().copied()).collect()
            } else {
                // micrornn's END and each character against the PyTorch id it came from.
                let mut v = vec![(
                    mine[END as usize],
                    theirs[ids["<end>"].as_u64().unwrap() as usize],
                )];
                for c in ck.vocab.chars() {
                    let t = vocab.token(c).unwrap() as usize;
                    v.push((
                        mine[t],
                        theirs[ids[c.to_string()].as_u64().unwrap() as usize],
                    ));
                }
                v
            };
            for (m, t) in pairs {
                worst = worst.max((m as f64 - t).abs());
            }
        }
    }
    worst
}

#[test]
fn imported_models_give_pytorchs_logits_and_losses() {
    let all = fixtures();
    assert_eq!(
        all.len(),
        14,
        "RNN, GRU, LSTM × (1, 2 layers; one-hot, embedding), a classifier, an LSTMCell"
    );
    for f in &all {
        let file = f["file"].as_str().unwrap();
        let ck = imported(f);
        let d = ck.dims();
        assert_eq!(
            (d.layers as u64, d.hidden as u64, d.embed as u64),
            (
                f["layers"].as_u64().unwrap(),
                f["hidden"].as_u64().unwrap(),
                f["embed"].as_u64().unwrap()
            ),
            "{file}"
        );
        assert_eq!(format!("{:?}", d.cell).to_lowercase(), f["cell"], "{file}");
        let diff = max_logit_diff(f, &ck);
        assert!(diff < 1e-5, "{file}: logits differ by up to {diff:e}");

        // Mean validation loss: micrornn's own evaluation, float and int8 paths.
        let torch_loss = f["val_loss"].as_f64().unwrap();
        let val = dir().join(f["val_file"].as_str().unwrap());
        let int8 = export_checkpoint(&ck).unwrap();
        let float = HostModel::Float {
            path: val.clone(),
            ckpt: Box::new(ck.clone()),
        };
        let quant = HostModel::Quantized {
            path: val.clone(),
            bytes: int8,
        };
        let (loss_f, loss_q) = if f["task"] == "classify" {
            let labels = ck.labels.clone();
            let vocab = Vocab::new(&ck.vocab).unwrap();
            let data = load_labelled(&val, "gender", Some(&vocab), Some(&labels)).unwrap();
            let xent = |m: &HostModel| {
                let a = classify_names(m, &data.names).unwrap();
                score(a.iter().map(|(_, o)| o.as_slice()), &data).xent
            };
            (xent(&float), xent(&quant))
        } else {
            let names: Vec<String> = std::fs::read_to_string(&val)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            (evaluate(&float, &names).nll, evaluate(&quant, &names).nll)
        };
        println!(
            "{file:32} max |logit diff| {diff:.2e}  val loss: PyTorch {torch_loss:.6}, micrornn float {loss_f:.6} (diff {:.1e}), int8 {loss_q:.6} ({:+.3}%)",
            (loss_f - torch_loss).abs(),
            100.0 * (loss_q - loss_f) / loss_f
        );
        assert!(
            (loss_f - torch_loss).abs() < 1e-4,
            "{file}: float loss {loss_f} vs PyTorch {torch_loss}"
        );
        assert!(
            (loss_q - loss_f).abs() < 0.02 * loss_f,
            "{file}: int8 loss {loss_q} vs float {loss_f}"
        );
    }
}

/// For tests/fixtures/torch/check_export.py (by hand, where PyTorch is installed): writes
/// micrornn's float logits, for each checkpoint in `MICRORNN_CHECK_CKPTS` (paths separated
/// by spaces), on the probe names, into `<checkpoint>.logits.json`: per name, the token ids
/// fed (micrornn's: START 0, END 1, characters from 2) and the logits after each (a
/// classifier: after the last only), which PyTorch must reproduce from the exported file.
#[test]
#[ignore = "run by check_export.py"]
fn dump_float_logits_for_check_export() {
    let paths = std::env::var("MICRORNN_CHECK_CKPTS").expect("MICRORNN_CHECK_CKPTS");
    for p in paths.split_whitespace() {
        let ck = Checkpoint::read(Path::new(p)).unwrap();
        let w = ck.dims().split(&ck.best);
        let mut arena = vec![0.0; NetF::needs(&w)];
        let mut net = NetF::new(w, &mut arena).unwrap();
        let vocab = Vocab::new(&ck.vocab).unwrap();
        let mut out = vec![0.0f32; w.outputs];
        let mut probes = Vec::new();
        for name in ["emma", "olivia", "zyx", "james"] {
            let Ok(chars) = name
                .chars()
                .map(|c| vocab.token(c))
                .collect::<Result<Vec<_>, _>>()
            else {
                continue;
            };
            let tokens: Vec<u16> = std::iter::once(START).chain(chars).collect();
            net.reset();
            let mut logits = Vec::new();
            for &t in &tokens {
                net.step_f32(t, &mut out);
                logits.push(out.clone());
            }
            if ck.dims().task == micrornn::format::Task::Classify {
                logits.drain(..logits.len() - 1);
            }
            probes.push(serde_json::json!({"name": name, "tokens": tokens, "logits": logits}));
        }
        let json = serde_json::json!({ "probes": probes });
        std::fs::write(format!("{p}.logits.json"), json.to_string()).unwrap();
        println!("wrote {p}.logits.json");
    }
}
