//! `micrornn pronounce`, `eval` of a seq2seq model, `generate --pronounce` and `inspect`,
//! run as a user runs them, on small models made with the seq2seq export.

use std::path::PathBuf;
use std::sync::OnceLock;

use micrornn::format::{CellKind, Task};
use micrornn::rng::Rng;
use micrornn::seq2seq::Seq2seqF;
use micrornn::seq2seq::{pronounce, Seq2seqQ, Seq2seqShape, Seq2seqWeights};
use micrornn::vocab::Vocab;
use micrornn::Model;
use micrornn_trainer::engine::seq2seq::Seq2seqDims;
use micrornn_trainer::eval::beam::beam_search;
use micrornn_trainer::train::params::Dims;
use micrornn_trainer::train::seq2seq_ckpt::{Seq2seqCheckpoint, Seq2seqConfig};

mod common;
use common::{
    assert_clean_error_quiet, micrornn, ok, ok_keep, repo_path, s, stderr, tmp_dir, write_file,
};

/// The spelling's characters (sorted) and the phonemes (sorted), of both test models.
const CHARS: &str = "'abcdefghijklmnopqrstuvwxyz";
const PHONEMES: [&str; 5] = ["AA0", "AA1", "B", "K", "S"];
/// Id of `AA1`, the phoneme the biased model always says.
const AA1: usize = 1;

/// This file's folder under the tests' temporary directory.
fn dir() -> PathBuf {
    tmp_dir("pronounce_cli")
}

fn shape() -> Seq2seqShape {
    Seq2seqShape {
        cell: CellKind::Gru,
        layers: 1,
        hidden: 8,
        embed: 4,
        in_tokens: CHARS.len() + 2,
        out_tokens: PHONEMES.len() + 1,
    }
}

/// Random flat parameters of [`shape`], uniform in ±`scale`.
fn random_params(seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..shape().param_count())
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * scale)
        .collect()
}

/// The model file of `params`.
fn export(params: &[f32]) -> Vec<u8> {
    let w = Seq2seqWeights::from_flat(shape(), params).unwrap();
    let phonemes: Vec<String> = PHONEMES.iter().map(|p| p.to_string()).collect();
    micrornn_trainer::export::seq2seq::quantize(&w, CHARS, &phonemes).unwrap()
}

/// Two models written once: (random weights, one that says `AA1` 32 times for any word).
fn models() -> &'static (PathBuf, PathBuf) {
    static M: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    M.get_or_init(|| {
        let random = write_file(&dir(), "random.mrnn", export(&random_weights()));
        let fixed = write_file(&dir(), "aa1.mrnn", export(&aa1_weights()));
        (random, fixed)
    })
}

/// Random weights with a strong output layer: the words get different pronunciations,
/// some empty, some of 32 phonemes.
fn random_weights() -> Vec<f32> {
    let mut p = random_params(11, 3.0);
    let (n, pt, h) = (p.len(), PHONEMES.len() + 1, shape().hidden);
    for x in &mut p[n - pt * 2 * h - pt..] {
        *x *= 8.0;
    }
    p
}

/// The output layer (last P·2H + P parameters) nearly zero, the bias of AA1 high: every
/// step's arg-max is AA1, never the boundary.
fn aa1_weights() -> Vec<f32> {
    let mut p = random_params(8, 1.0);
    let (n, pt, h) = (p.len(), PHONEMES.len() + 1, shape().hidden);
    for x in &mut p[n - pt * 2 * h - pt..n - pt] {
        *x *= 1e-3;
    }
    for (k, b) in p[n - pt..].iter_mut().enumerate() {
        *b = if k == AA1 { 8.0 } else { 0.0 };
    }
    p
}

/// A seq2seq checkpoint whose best weights are `params`, written to `name`.
fn checkpoint(name: &str, params: Vec<f32>) -> PathBuf {
    let s = shape();
    let ck = Seq2seqCheckpoint {
        dims: Seq2seqDims {
            cell: s.cell,
            layers: s.layers,
            hidden: s.hidden,
            embed: s.embed,
            vocab: s.in_tokens,
            phonemes: PHONEMES.len(),
        },
        vocab: CHARS.into(),
        phonemes: PHONEMES.iter().map(|p| p.to_string()).collect(),
        config: Seq2seqConfig {
            epochs: 1,
            batch: 1,
            lr: 0.0,
            weight_decay: 0.0,
            clip: 1.0,
            dropout: 0.0,
            seed: 0,
            threads: 1,
            val_frac: 0.0,
            data: String::new(),
        },
        epochs_done: 1,
        best_epoch: 1,
        best_val: 0.0,
        history: vec![],
        last: params.clone(),
        adam_m: vec![0.0; params.len()],
        adam_v: vec![0.0; params.len()],
        best: params,
        adam_step: 0,
    };
    let path = dir().join(name);
    ck.write(&path).unwrap();
    path
}

/// What the shared library's `pronounce` (the device's code) writes for `word`.
fn library_line(bytes: &[u8], word: &str) -> String {
    let model = Model::load(bytes).unwrap();
    let mut arena = vec![0; Seq2seqQ::needs(&model).unwrap()];
    let mut net = Seq2seqQ::new(&model, &mut arena).unwrap();
    let phonemes = net.phonemes();
    let (mut logits, mut ids, mut line) = ([0; 16], [0u16; 32], String::new());
    pronounce(&mut net, &phonemes, word, &mut logits, &mut ids, &mut line).unwrap();
    line
}

#[test]
fn pronounce_prints_the_devices_line_for_each_word() {
    let (random, _) = models();
    let bytes = std::fs::read(random).unwrap();
    let words = [
        "hello",
        "Kiss",
        "o'brien",
        "a",
        "zz",
        "abcdefghijklmnopqrstuvwxyzabcdef",
    ];
    let mut args = vec!["pronounce", "--model", s(random)];
    args.extend(words);
    let out = ok(micrornn(&args));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), words.len(), "{out}");
    // This model says nothing for "hello", one phoneme for "kiss", 32 for "a".
    assert_eq!(lines[0], "hello");
    assert_eq!(lines[1], "kiss K");
    assert_eq!(lines[3].split(' ').count(), 33);
    for (line, word) in lines.iter().zip(words) {
        assert_eq!(*line, library_line(&bytes, word));
        let mut parts = line.split(' ');
        assert_eq!(parts.next(), Some(word.to_ascii_lowercase().as_str()));
        assert!(parts.all(|p| PHONEMES.contains(&p)), "{line}");
    }
    // --beam 1 is greedy.
    args.splice(1..1, ["--beam", "1"]);
    assert_eq!(ok(micrornn(&args)), out);
}

#[test]
fn beam_search_on_the_command_line_is_the_librarys() {
    let (random, fixed) = models();
    let bytes = std::fs::read(random).unwrap();
    let model = Model::load(&bytes).unwrap();
    let mut arena = vec![0; Seq2seqQ::needs(&model).unwrap()];
    let mut net = Seq2seqQ::new(&model, &mut arena).unwrap();
    let out = ok(micrornn(&[
        "pronounce",
        "--model",
        s(random),
        "--beam",
        "4",
        "hello",
        "kiss",
    ]));
    for (line, word) in out.lines().zip(["hello", "kiss"]) {
        let ids = beam_search(&mut net, word, 4).unwrap();
        let want: Vec<&str> = std::iter::once(word)
            .chain(ids.iter().map(|&i| PHONEMES[i as usize]))
            .collect();
        assert_eq!(line, want.join(" "));
    }
    // A model sure of AA1 at every step: the beam agrees with greedy.
    let aa1 = format!("bob{}", " AA1".repeat(32));
    for beam in ["1", "3"] {
        let out = ok(micrornn(&[
            "pronounce",
            "--model",
            s(fixed),
            "--beam",
            beam,
            "bob",
        ]));
        assert_eq!(out, format!("{aa1}\n"));
    }
}

#[test]
fn pronounce_refuses_what_the_model_cannot_read_with_one_line() {
    let (random, _) = models();
    let o = micrornn(&["pronounce", "--model", s(random), "hello", "héllo"]);
    assert_clean_error_quiet(&o, "\"héllo\": character 'é' is not in the vocabulary");
    let long = "a".repeat(33);
    let o = micrornn(&["pronounce", "--model", s(random), &long]);
    assert_clean_error_quiet(&o, "the model reads at most 32");
    let o = micrornn(&["pronounce", "--model", s(random), "--beam", "0", "a"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A generator model file (not seq2seq).
fn generator() -> PathBuf {
    let dims = Dims::generate(CellKind::Rnn, 1, 8, CHARS.len() + 2);
    let params: Vec<f32> = (0..dims.param_count())
        .map(|i| (i % 7) as f32 * 0.01)
        .collect();
    let bytes = micrornn_trainer::export::quantize::export(
        &dims.split(&params),
        Task::Generate,
        CHARS,
        &[],
    )
    .unwrap();
    write_file(&dir(), "names.mrnn", bytes)
}

#[test]
fn pronounce_refuses_another_kind_of_model() {
    let names = generator();
    let o = micrornn(&["pronounce", "--model", s(&names), "hello"]);
    assert_clean_error_quiet(&o, "generates names: this needs a seq2seq model");
}

/// Writes a `.dict` file of `lines`.
fn dict(name: &str, lines: &[String]) -> PathBuf {
    write_file(&dir(), name, lines.join("\n") + "\n")
}

#[test]
fn eval_scores_alternatives_and_stress_as_computed_by_hand() {
    let (_, fixed) = models();
    // The model says 32 × AA1 for every word.
    let n = |k: usize, p: &str| vec![p; k].join(" ");
    let data = dict(
        "hand.dict",
        &[
            // Right through its second pronunciation (the first is 1 substitution away).
            format!("ab {} B", n(31, "AA1")),
            format!("ab(2) {}", n(32, "AA1")),
            // Wrong stress on every phoneme: 32 errors of 32; right without stress.
            format!("ba {}", n(32, "AA0")),
            // Two phonemes too many in the output: 2 errors of 30, with or without stress.
            format!("abc {}", n(30, "AA1")),
        ],
    );
    let out = ok(micrornn(&[
        "eval",
        "--model",
        s(fixed),
        "--data",
        s(&data),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let close = |key: &str, want: f64| {
        let got = v[key].as_f64().unwrap_or_else(|| panic!("{key} in {out}"));
        assert!((got - want).abs() < 1e-12, "{key}: {got} vs {want}");
    };
    close("per", 34.0 / 94.0);
    close("wer", 2.0 / 3.0);
    close("per_nostress", 2.0 / 94.0);
    close("wer_nostress", 1.0 / 3.0);
    assert_eq!(v["words"], 3);
    // The same with a beam, and as text.
    let text = ok(micrornn(&[
        "eval",
        "--model",
        s(fixed),
        "--data",
        s(&data),
        "--beam",
        "3",
    ]));
    assert!(
        text.contains("words             3 (0 left out), beam 3"),
        "{text}"
    );
    assert!(
        text.contains(&format!("PER               {:.4}", 34.0 / 94.0)),
        "{text}"
    );
    assert!(
        text.contains(&format!("WER (no stress)   {:.4}", 1.0 / 3.0)),
        "{text}"
    );
}

#[test]
fn eval_leaves_out_words_the_model_cannot_read_and_says_so() {
    let (_, fixed) = models();
    let aa1 = vec!["AA1"; 32].join(" ");
    let data = dict(
        "unknown.dict",
        &[
            format!("bob {aa1}"),
            format!("b0b {aa1}"),
            format!("bób {aa1}"),
        ],
    );
    let o = micrornn(&["eval", "--model", s(fixed), "--data", s(&data), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok_keep(&o)).unwrap();
    assert_eq!(v["words"], 1);
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["wer"], 0.0);
    let err = stderr(&o);
    assert!(
        err.contains("2 word(s) left out") && err.contains("b0b"),
        "{err}"
    );
}

#[test]
fn generate_pronounces_each_name() {
    let (random, _) = models();
    let names = generator();
    let generate = ["generate", "--model", s(&names), "-n", "5", "--seed", "3"];
    let plain = ok(micrornn(&generate));
    let spoken = ok(micrornn(
        &[&generate[..], &["--pronounce", s(random)]].concat(),
    ));
    let bytes = std::fs::read(random).unwrap();
    assert_eq!(plain.lines().count(), 5);
    for (name, line) in plain.lines().zip(spoken.lines()) {
        if name.is_empty() {
            assert_eq!(line, "");
        } else {
            assert_eq!(line, library_line(&bytes, name));
        }
    }
    let o = micrornn(&["generate", "--model", s(&names), "--pronounce", s(&names)]);
    assert_clean_error_quiet(&o, "generates names: this needs a seq2seq model");
    let o = micrornn(&["generate", "--model", s(random)]);
    assert_clean_error_quiet(
        &o,
        "is a seq2seq model (it pronounces words): use micrornn pronounce",
    );
}

#[test]
fn inspect_describes_a_seq2seq_model() {
    let (random, _) = models();
    let text = ok(micrornn(&["inspect", s(random)]));
    assert!(text.contains("task            seq2seq"), "{text}");
    assert!(
        text.contains("phonemes        5 + boundary: AA0 AA1 B K S"),
        "{text}"
    );
    assert!(
        text.contains("bidirectional: 2 stacks of 4 units"),
        "{text}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&ok(micrornn(&["inspect", s(random), "--json"]))).unwrap();
    assert_eq!(v["task"], "seq2seq");
    assert_eq!(v["hidden"], 8);
    assert_eq!(v["encoder_hidden"], 4);
    assert_eq!(v["outputs"], 6);
    assert_eq!(v["phonemes"].as_array().unwrap().len(), 5);
    let bytes = std::fs::read(random).unwrap();
    let model = Model::load(&bytes).unwrap();
    assert_eq!(v["device_ram_bytes"], model.ram_bytes());
    assert_eq!(v["params"], shape().param_count());
}

#[test]
fn a_checkpoint_runs_the_float_path() {
    let params = random_weights();
    let ckpt = checkpoint("random.ckpt", params.clone());
    let words = ["hello", "kiss", "o'brien", "a", "zz"];
    let mut args = vec!["pronounce", "--model", s(&ckpt)];
    args.extend(words);
    let out = ok(micrornn(&args));
    // The lines of the shared float network on the same weights.
    let w = Seq2seqWeights::from_flat(shape(), &params).unwrap();
    let mut arena = vec![0.0; Seq2seqF::needs(&w)];
    let mut net = Seq2seqF::new(&w, Vocab::new(CHARS).unwrap(), &mut arena).unwrap();
    let names = PHONEMES.join("\n");
    let phonemes = micrornn::seq2seq::Phonemes::new(&names).unwrap();
    let mut want = String::new();
    for word in words {
        let (mut logits, mut ids) = ([0; 16], [0u16; 32]);
        pronounce(&mut net, &phonemes, word, &mut logits, &mut ids, &mut want).unwrap();
        want.push('\n');
    }
    assert_eq!(out, want);
    // inspect describes it through the model file it quantizes to.
    let text = ok(micrornn(&["inspect", s(&ckpt)]));
    let bytes = export(&params);
    assert!(text.contains("float (f32 path)"), "{text}");
    assert!(
        text.contains(&format!("as .mrnn        {} bytes", bytes.len())),
        "{text}"
    );
    // The AA1 model scores the same in float as in int8.
    let fixed = checkpoint("aa1.ckpt", aa1_weights());
    let aa1 = vec!["AA1"; 32].join(" ");
    let aa1_k = format!("{} K", vec!["AA1"; 31].join(" "));
    let data = dict("float.dict", &[format!("bob {aa1}"), format!("ab {aa1_k}")]);
    let v: serde_json::Value = serde_json::from_str(&ok(micrornn(&[
        "eval",
        "--model",
        s(&fixed),
        "--data",
        s(&data),
        "--json",
    ])))
    .unwrap();
    assert_eq!(v["path"], "float (f32 path)");
    assert_eq!(v["wer"], 0.5);
    assert_eq!(v["per"], 1.0 / 64.0);
    assert_eq!(v["words"], 2);
}

#[test]
fn eval_agrees_with_the_trainers_own_validation_score() {
    // A tiny run: the trainer prints its float greedy PER and WER on the validation
    // words it writes to M.val.dict; eval of M.ckpt on that file must say the same.
    let text = std::fs::read_to_string(repo_path("data/cmudict-train.dict")).unwrap();
    let lines: Vec<String> = text.lines().step_by(400).map(String::from).collect();
    let data = dict("tiny-train.dict", &lines);
    let out = dir().join("tiny.mrnn");
    let o = micrornn(&[
        "train",
        "--task",
        "seq2seq",
        "--data",
        s(&data),
        "--out",
        s(&out),
        "--hidden",
        "16",
        "--embed",
        "4",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--quiet",
    ]);
    let log = ok_keep(&o);
    // "… WER 100.00%  PER 80.13% (float greedy) … *best" on the line of the epoch whose
    // weights the checkpoint keeps (the last one marked best).
    let epoch = log
        .lines()
        .rfind(|l| l.starts_with("epoch") && l.ends_with("*best"))
        .expect("a best epoch line");
    let pct = |key: &str| -> f64 {
        let rest = &epoch[epoch
            .find(key)
            .unwrap_or_else(|| panic!("{key} in {epoch}"))
            + key.len()..];
        rest.trim_start()
            .split('%')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (wer, per) = (pct("WER"), pct("PER"));
    let ckpt = out.with_extension("ckpt");
    let val = out.with_extension("val.dict");
    let v: serde_json::Value = serde_json::from_str(&ok(micrornn(&[
        "eval",
        "--model",
        s(&ckpt),
        "--data",
        s(&val),
        "--json",
    ])))
    .unwrap();
    let got = |k: &str| (v[k].as_f64().unwrap() * 10000.0).round() / 100.0;
    assert_eq!((got("wer"), got("per")), (wer, per), "{epoch}\n{v}");
    assert!(v["words"].as_u64().unwrap() > 10, "{v}");
}
