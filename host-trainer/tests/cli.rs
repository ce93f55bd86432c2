//! The `micrornn` command line, run as a user runs it.

use std::path::PathBuf;
use std::sync::OnceLock;

mod common;
use common::{assert_clean_error, micrornn, repo_path, stderr, stdout, tmp_dir};

/// A model trained once for all tests here: (folder, model.mrnn).
fn trained() -> &'static (PathBuf, PathBuf) {
    static DIR: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp_dir("cli");
        let csv = std::fs::read_to_string(repo_path("data/names.csv")).unwrap();
        let subset: Vec<&str> = csv
            .lines()
            .take(1)
            .chain(csv.lines().skip(1).step_by(50))
            .collect();
        let data = dir.join("names.csv");
        std::fs::write(&data, subset.join("\n")).unwrap();
        let out = dir.join("m.mrnn");
        let o = micrornn(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--hidden",
            "24",
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--lr",
            "0.01",
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains("epoch   2/2") && text.contains("*best"),
            "{text}"
        );
        (dir, out)
    })
}

#[test]
fn help_for_every_command() {
    for cmd in [
        "train", "eval", "classify", "export", "inspect", "generate", "bench", "device", "emulate",
        "demo",
    ] {
        let o = micrornn(&[cmd, "--help"]);
        assert!(
            o.status.success() && stdout(&o).contains("Usage: micrornn"),
            "{cmd}"
        );
    }
}

#[test]
fn train_writes_model_checkpoint_and_validation_names() {
    let (dir, model) = trained();
    assert!(model.exists() && dir.join("m.ckpt").exists() && dir.join("m.val.txt").exists());
}

#[test]
fn generate_is_reproducible_and_greedy_at_temperature_zero() {
    let (_, model) = trained();
    let m = model.to_str().unwrap();
    let a = micrornn(&["generate", "--model", m, "-n", "20", "--seed", "9"]);
    let b = micrornn(&["generate", "--model", m, "-n", "20", "--seed", "9"]);
    assert!(a.status.success());
    assert_eq!(stdout(&a), stdout(&b));
    assert_eq!(stdout(&a).lines().count(), 20);
    let c = micrornn(&["generate", "--model", m, "-n", "20", "--seed", "10"]);
    assert_ne!(stdout(&a), stdout(&c));
    let g1 = micrornn(&[
        "generate",
        "--model",
        m,
        "-n",
        "3",
        "--seed",
        "1",
        "--temperature",
        "0",
    ]);
    let g2 = micrornn(&[
        "generate",
        "--model",
        m,
        "-n",
        "3",
        "--seed",
        "2",
        "--temperature",
        "0",
    ]);
    assert_eq!(stdout(&g1), stdout(&g2));
    let lines: Vec<String> = stdout(&g1).lines().map(String::from).collect();
    assert!(lines.iter().all(|l| *l == lines[0]), "{lines:?}");
    let p = micrornn(&[
        "generate",
        "--model",
        m,
        "-n",
        "10",
        "--prefix",
        "ka",
        "--max-len",
        "6",
        "--top-k",
        "3",
        "--min-p",
        "0.05",
    ]);
    assert!(
        stdout(&p)
            .lines()
            .all(|l| l.starts_with("ka") && l.chars().count() <= 6),
        "{}",
        stdout(&p)
    );
    let ck = micrornn(&[
        "generate",
        "--model",
        model.with_extension("ckpt").to_str().unwrap(),
        "-n",
        "5",
    ]);
    assert!(ck.status.success() && stdout(&ck).lines().count() == 5);
}

#[test]
fn eval_inspect_and_export() {
    let (dir, model) = trained();
    let val = dir.join("m.val.txt");
    let o = micrornn(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        val.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        j["nll"].as_f64().unwrap() > 1.0
            && j["names"].as_u64().unwrap() > 100
            && j["tokens"].as_u64().unwrap() > 500
    );
    let o = micrornn(&["inspect", model.to_str().unwrap(), "--json"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["hidden"], 24);
    assert_eq!(
        j["macs_per_char"],
        24 * 24 + 24 * j["vocab_size"].as_u64().unwrap()
    );
    let again = dir.join("again.mrnn");
    let o = micrornn(&[
        "export",
        "--model",
        dir.join("m.ckpt").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(model).unwrap()
    );
}

#[test]
fn damaged_model_files_fail_cleanly() {
    let (dir, model) = trained();
    let good = std::fs::read(model).unwrap();
    let bad = dir.join("bad.mrnn");
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x04;
    let mut magic = good.clone();
    magic[0] = b'X';
    let mut version = good.clone();
    version[4] = 7;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..good.len() - 1].to_vec(), "truncated"),
        (good[..7].to_vec(), "truncated"),
        (Vec::new(), "truncated"),
        (flipped, "CRC-32"),
        (magic, "bad magic"),
        (version, "version 7"),
    ];
    for (bytes, needle) in cases {
        std::fs::write(&bad, &bytes).unwrap();
        for cmd in [&["generate", "--model"][..], &["inspect"][..]] {
            let mut args = cmd.to_vec();
            args.push(bad.to_str().unwrap());
            assert_clean_error(&micrornn(&args), needle);
        }
    }
}

#[test]
fn missing_files_and_bad_data_fail_cleanly() {
    let (dir, model) = trained();
    assert_clean_error(
        &micrornn(&["generate", "--model", "/no/such/model.mrnn"]),
        "cannot read /no/such/model.mrnn",
    );
    let m = model.to_str().unwrap();
    assert_clean_error(
        &micrornn(&["eval", "--model", m, "--data", "/no/such.csv"]),
        "cannot read /no/such.csv",
    );
    let csv = dir.join("noname.csv");
    std::fs::write(&csv, "first,gender\nanna,F\n").unwrap();
    assert_clean_error(
        &micrornn(&["eval", "--model", m, "--data", csv.to_str().unwrap()]),
        "no `name` column",
    );
    assert_clean_error(
        &micrornn(&[
            "train",
            "--data",
            csv.to_str().unwrap(),
            "--out",
            dir.join("x.mrnn").to_str().unwrap(),
        ]),
        "no `name` column",
    );
    // Characters outside the vocabulary are skipped with their line number.
    let txt = dir.join("odd.txt");
    std::fs::write(&txt, "anna\nzoë\n\nmaria\n").unwrap();
    let o = micrornn(&[
        "eval",
        "--model",
        m,
        "--data",
        txt.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("odd.txt:2: skipped: character 'ë'")
            && stderr(&o).contains("odd.txt:3: skipped: empty name"),
        "{}",
        stderr(&o)
    );
    assert_clean_error(
        &micrornn(&["generate", "--model", m, "--prefix", "4x"]),
        "'4' is not in the vocabulary",
    );
}

#[test]
fn bad_flag_values_are_refused_by_the_parser() {
    let (_, model) = trained();
    let m = model.to_str().unwrap();
    for args in [
        &["generate", "--model", m, "--temperature", "hot"][..],
        &["generate", "--model", m, "--min-p", "1.5"],
        &["generate", "--model", m, "--max-len", "0"],
        &["generate", "--model", m, "-n", "many"],
    ] {
        let o = micrornn(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("invalid value"), "{}", stderr(&o));
    }
    let o = micrornn(&["train", "--hidden", "0", "--epochs", "1"]);
    assert_clean_error(&o, "--hidden");
    assert_clean_error(&micrornn(&["bench", "--threads", "0"]), "--threads");
    assert_clean_error(&micrornn(&["bench", "--hidden", "100000"]), "--hidden");
}

/// A small GRU classifier trained once: (folder, model.mrnn).
fn classifier() -> &'static (PathBuf, PathBuf) {
    static DIR: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let (dir, _) = trained();
        let out = dir.join("c.mrnn");
        let o = micrornn(&[
            "train",
            "--task",
            "classify",
            "--data",
            dir.join("names.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--hidden",
            "16",
            "--embed",
            "4",
            "--epochs",
            "2",
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains("training gru: 1 layer(s), hidden 16, embedding 4")
                && text.contains("nats/name"),
            "{text}"
        );
        (dir.clone(), out)
    })
}

#[test]
fn classify_eval_and_inspect_a_classifier() {
    let (dir, model) = classifier();
    let m = model.to_str().unwrap();
    let o = micrornn(&["classify", "--model", m, "anna", "john"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(lines.len(), 2);
    for (line, name) in lines.iter().zip(["anna", "john"]) {
        let w: Vec<&str> = line.split(' ').collect();
        assert_eq!(w.len(), 3, "{line}");
        assert_eq!(w[0], name);
        assert!(w[1] == "F" || w[1] == "M", "{line}");
        let p: f64 = w[2].parse().unwrap();
        assert!((0.5..=1.0).contains(&p) && w[2].len() == 6, "{line}");
    }
    // The float checkpoint classifies too, with its own digits.
    let ckpt = dir.join("c.ckpt");
    let o = micrornn(&["classify", "--model", ckpt.to_str().unwrap(), "anna"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let val = dir.join("c.val.csv");
    assert!(std::fs::read_to_string(&val)
        .unwrap()
        .starts_with("name,gender,count\n"));
    let o = micrornn(&[
        "eval",
        "--model",
        m,
        "--data",
        val.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let acc = v["accuracy"].as_f64().unwrap();
    assert!(acc > 0.63, "better than the majority class: {v}");
    assert!(
        (0.0..=1.0).contains(&v["weighted_accuracy"].as_f64().unwrap()),
        "{v}"
    );
    assert!(v["xent"].as_f64().unwrap() < 0.69, "{v}");

    let o = micrornn(&["inspect", m]);
    let text = stdout(&o);
    assert!(
        text.contains("cell            gru, 1 layer(s), task classify")
            && text.contains("labels          F, M (2)"),
        "{text}"
    );
}

#[test]
fn classifier_errors_are_clean() {
    let (dir, model) = classifier();
    let m = model.to_str().unwrap();
    let o = micrornn(&["classify", "--model", m, "anna", "j0hn"]);
    assert_clean_error(&o, "\"j0hn\": character '0' is not in the vocabulary");
    assert!(stdout(&o).is_empty(), "no answer before the error");
    let o = micrornn(&["generate", "--model", m]);
    assert_clean_error(&o, "classifier");
    let (_, generator) = trained();
    let o = micrornn(&["classify", "--model", generator.to_str().unwrap(), "anna"]);
    assert_clean_error(&o, "classify needs a classifier");
    // A name is required (--text and --file are for word classifiers).
    let o = micrornn(&["classify", "--model", m]);
    assert_clean_error(&o, "give them as arguments");
    let o = micrornn(&["classify", "--model", m, "--text", "anna"]);
    assert_clean_error(&o, "--text and --file are for word classifiers");
    // A CSV without the label column; a column with one label only.
    let data = dir.join("bad-labels.csv");
    let out = dir.join("x.mrnn");
    for (csv, error) in [
        ("name,count\nanna,3\nbob,4\n", "no `gender` column"),
        (
            "name,gender\nanna,F\nbella,F\n",
            "a classifier needs at least 2",
        ),
    ] {
        std::fs::write(&data, csv).unwrap();
        let (data, out) = (data.to_str().unwrap(), out.to_str().unwrap());
        let o = micrornn(&[
            "train", "--task", "classify", "--data", data, "--out", out, "--epochs", "1", "-q",
        ]);
        assert_clean_error(&o, error);
    }
}
