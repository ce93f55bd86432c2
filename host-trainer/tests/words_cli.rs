//! The word classifier from the command line (train, classify, eval, inspect), and the
//! trainer's token ids against the ids the classification path feeds, on the whole corpus.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use micrornn::words::{classify_text, WordVocab};
use micrornn::Net;
use micrornn_trainer::data::messages::load_messages;
use micrornn_trainer::data::words::{build_vocab, encode};

mod common;
use common::{assert_clean_error, micrornn, ok, repo_path, s, tmp_dir, write_file};

/// `micrornn COMMAND --data DATA` with the text in column `body` and the label in `kind`,
/// then `extra`.
fn on_slice(command: &[&str], data: &Path, extra: &[&str]) -> Output {
    let columns = [
        "--data",
        s(data),
        "--text-column",
        "body",
        "--label-column",
        "kind",
    ];
    micrornn(&[command, &columns[..], extra].concat())
}

/// `micrornn train` of a word classifier on `data` (see [`on_slice`]).
fn train_words(data: &Path, extra: &[&str]) -> Output {
    let train = ["train", "--task", "classify", "--tokens", "word"];
    on_slice(&train, data, extra)
}

/// `micrornn eval` of `model` on `data` (see [`on_slice`]).
fn eval_words(model: &Path, data: &Path, extra: &[&str]) -> Output {
    on_slice(&["eval", "--model", s(model)], data, extra)
}

fn corpus() -> PathBuf {
    repo_path("data/spamassassin-train.csv")
}

/// A small word model trained once for all tests here, on every 8th message (a few
/// seconds): (folder, model.mrnn).
fn trained() -> &'static (PathBuf, PathBuf) {
    static DIR: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp_dir("words_cli");
        let all = load_messages(&corpus(), "text", "label", None).unwrap();
        let idx: Vec<usize> = (0..all.len()).step_by(8).collect();
        let slice = all.subset(&idx);
        let data = write_file(&dir, "slice.csv", slice.to_csv("body", "kind").unwrap());
        let out = dir.join("w.mrnn");
        let o = train_words(
            &data,
            &[
                "--vocab-size",
                "300",
                "--max-words",
                "32",
                "--hidden",
                "16",
                "--embed",
                "8",
                "--epochs",
                "10",
                "--lr",
                "0.01",
                "--threads",
                "2",
                "--out",
                s(&out),
                "-q",
            ],
        );
        let text = ok(o);
        assert!(text.contains("for validation"), "{text}");
        assert!(text.contains("300 words (+ PAD, UNK)"), "{text}");
        (dir, out)
    })
}

/// `label prob` with four decimals.
fn is_verdict(line: &str) -> bool {
    let Some((label, prob)) = line.split_once(' ') else {
        return false;
    };
    ["ham", "spam"].contains(&label)
        && prob.len() == 6
        && prob.parse::<f64>().is_ok_and(|p| (0.0..=1.0).contains(&p))
}

#[test]
fn classify_a_text_and_a_file_of_lines_both_paths() {
    let (dir, model) = trained();
    let texts = [
        "Re: meeting tomorrow, see you at the office",
        "FREE!!! Make $$$ fast, click http://win.example now",
        "",
        "Dear friend, I am a banker in Lagos with an offer",
    ];
    let file = write_file(dir, "lines.txt", texts.join("\n") + "\n");
    for m in [model.clone(), model.with_extension("ckpt")] {
        let from_file = ok(micrornn(&[
            "classify",
            "--model",
            s(&m),
            "--file",
            s(&file),
        ]));
        let lines: Vec<&str> = from_file.lines().collect();
        assert_eq!(lines.len(), texts.len(), "{from_file}");
        for (text, line) in texts.iter().zip(&lines) {
            assert!(is_verdict(line), "{line:?}");
            let one = ok(micrornn(&["classify", "--model", s(&m), "--text", text]));
            assert_eq!(one.trim_end(), *line, "{text:?}");
        }
    }
}

#[test]
fn eval_counts_match_a_hand_count() {
    let (dir, model) = trained();
    let rows = [
        ("Re: your patch to the kernel list", "ham"),
        ("FREE money!!! click here now $$$", "spam"),
        ("Lowest mortgage rates, act now, limited offer", "spam"),
        ("Minutes of the meeting attached, thanks", "ham"),
        ("You have won a prize! Claim at http://x.example", "spam"),
        ("Can you review the build failure on CI?", "ham"),
        ("Cheap meds online, no prescription $$$", "spam"),
    ];
    let mut csv = String::from("text,label\n");
    for (t, l) in rows {
        csv += &format!("\"{t}\",{l}\n");
    }
    let data = write_file(dir, "tiny.csv", csv);
    let mut lines = String::new();
    for (t, _) in rows {
        lines += &format!("{t}\n");
    }
    let file = write_file(dir, "tiny.txt", lines);
    let verdicts = ok(micrornn(&[
        "classify",
        "--model",
        s(model),
        "--file",
        s(&file),
    ]));
    // The hand count, from the verdicts.
    let mut m = [[0usize; 2]; 2]; // [true][predicted], ham = 0, spam = 1
    for ((_, truth), line) in rows.iter().zip(verdicts.lines()) {
        let pred = usize::from(line.starts_with("spam "));
        m[usize::from(*truth == "spam")][pred] += 1;
    }
    let json = ok(micrornn(&[
        "eval",
        "--model",
        s(model),
        "--data",
        s(&data),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let n = rows.len() as f64;
    let frac = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let close = |key: &str, want: f64| {
        let got = v[key].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-12,
            "{key}: {got} vs {want} ({json})"
        );
    };
    close("accuracy", (m[0][0] + m[1][1]) as f64 / n);
    close("precision", frac(m[1][1], m[0][1] + m[1][1]));
    close("recall", frac(m[1][1], m[1][0] + m[1][1]));
    assert_eq!(v["positive"], "spam");
    assert_eq!(v["messages"], rows.len());
    let confusion: Vec<Vec<usize>> = serde_json::from_value(v["confusion"].clone()).unwrap();
    assert_eq!(confusion, vec![m[0].to_vec(), m[1].to_vec()]);
    // The text form carries the same matrix.
    let text = ok(micrornn(&["eval", "--model", s(model), "--data", s(&data)]));
    assert!(
        text.contains("precision") && text.contains("true\\pred"),
        "{text}"
    );
}

#[test]
fn validation_split_evaluates_and_int8_agrees_with_float() {
    let (_, model) = trained();
    let val = model.with_extension("val.csv");
    let ckpt = model.with_extension("ckpt");
    let json = ok(eval_words(model, &val, &["--compare", s(&ckpt), "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // 626 messages, 10% held out per label.
    assert_eq!(v["messages"], 63);
    // Always `ham` would score about 0.7; even this tiny model does better.
    assert!(v["accuracy"].as_f64().unwrap() > 0.75, "{json}");
    assert!(v["agreement"].as_f64().unwrap() >= 0.95, "{json}");
}

#[test]
fn inspect_names_the_words_and_the_layout() {
    let (_, model) = trained();
    for m in [model.clone(), model.with_extension("ckpt")] {
        let text = ok(micrornn(&["inspect", s(&m)]));
        assert!(text.contains("classify-words"), "{text}");
        assert!(text.contains("302"), "{text}");
        assert!(text.contains("max words       32"), "{text}");
    }
    let text = ok(micrornn(&["inspect", s(model)]));
    // 302 tokens, E = 8, G·H = 48: folded 302·48 + 4·302 > apart 302·8 + 4·302 + 48·8 + 8·48.
    assert!(text.contains("apart"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&ok(micrornn(&["inspect", s(model), "--json"]))).unwrap();
    assert_eq!(v["input_layout"], "apart");
}

#[test]
fn resume_continues_a_word_run() {
    let (dir, model) = trained();
    let copy = dir.join("again.ckpt");
    std::fs::copy(model.with_extension("ckpt"), &copy).unwrap();
    let data = dir.join("slice.csv");
    let text = ok(micrornn(&[
        "train",
        "--resume",
        s(&copy),
        "--data",
        s(&data),
        "--epochs",
        "11",
        "-q",
    ]));
    assert!(text.contains("epoch  11/11"), "{text}");
    assert!(!text.contains("epoch  10/11"), "{text}");
    let o = micrornn(&[
        "train",
        "--resume",
        s(&copy),
        "--data",
        s(&data),
        "--vocab-size",
        "10",
        "--tokens",
        "word",
        "--task",
        "classify",
    ]);
    assert_clean_error(&o, "--vocab-size cannot change");
}

#[test]
fn word_errors_are_clean() {
    let (dir, model) = trained();
    let data = dir.join("slice.csv");
    assert_clean_error(
        &micrornn(&["classify", "--model", s(model), "some", "names"]),
        "classifies messages",
    );
    assert_clean_error(
        &micrornn(&["classify", "--model", s(model)]),
        "nothing to classify",
    );
    assert_clean_error(
        &micrornn(&["train", "--tokens", "word", "--data", s(&data)]),
        "needs --task classify",
    );
    assert_clean_error(
        &micrornn(&["train", "--task", "classify", "--max-words", "8"]),
        "are for --tokens word",
    );
    let with = |extra: &[&str]| train_words(&data, extra);
    assert_clean_error(&with(&["--max-words", "0"]), "--max-words must be in");
    assert_clean_error(&with(&["--vocab-size", "0"]), "--vocab-size must be in");
    assert_clean_error(&with(&["--embed", "0"]), "needs an embedding");
    assert_clean_error(
        &micrornn(&[
            "train",
            "--task",
            "classify",
            "--tokens",
            "word",
            "--data",
            s(&data),
        ]),
        "no `text` column",
    );
    assert_clean_error(
        &eval_words(model, &data, &["--positive", "eggs"]),
        "not one of the model's labels",
    );
}

#[test]
fn boards_whose_firmware_reads_no_words_refuse_a_word_model() {
    let (dir, model) = trained();
    let export = |board: &str, out: &Path| {
        micrornn(&[
            "export",
            "--model",
            s(model),
            "--board",
            board,
            "--out",
            s(out),
        ])
    };
    assert_clean_error(
        &export("microbit", &dir.join("w.hex")),
        "built without word classifiers",
    );
    let uf2 = dir.join("w.uf2");
    ok(export("pico", &uf2));
    assert!(std::fs::metadata(&uf2).unwrap().len() > 0);
}

/// A network that records the ids it is fed (and answers with zeros).
struct Recorder(Vec<u16>);

impl Net for Recorder {
    fn outputs(&self) -> usize {
        2
    }
    fn inputs(&self) -> usize {
        usize::from(u16::MAX)
    }
    fn reset(&mut self) {
        self.0.clear();
    }
    fn feed(&mut self, token: u16) {
        self.0.push(token);
    }
    fn output(&mut self, out: &mut [i32]) {
        out.fill(0);
    }
}

#[test]
fn training_ids_are_the_ids_classification_feeds_on_the_whole_corpus() {
    let all = load_messages(&corpus(), "text", "label", None).unwrap();
    assert_eq!(all.len(), 5004);
    let words = build_vocab(&all.texts, 2000, 64).unwrap();
    let vocab = WordVocab::new(&words).unwrap();
    assert_eq!(vocab.tokens(), 2002);
    let mut net = Recorder(Vec::new());
    let mut out = [0; 2];
    let mut unk = 0;
    for max_words in [64, 7] {
        for text in &all.texts {
            let ids = encode(text, &vocab, max_words);
            classify_text(&mut net, &vocab, max_words, text, &mut out).unwrap();
            assert_eq!(ids, net.0, "{text:?}");
            unk += ids.iter().filter(|&&i| i == micrornn::words::UNK).count();
        }
    }
    assert!(unk > 0);
}
