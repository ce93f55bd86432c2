//! `micrornn train --task seq2seq` end to end on a tiny dictionary: the files it
//! writes, the checkpoint and model they hold, the same bytes from the same seed, and
//! one-line errors for bad input.

use std::path::Path;
use std::process::{Command, Output};

use micrornn_trainer::train::seq2seq_ckpt::{is_seq2seq_checkpoint, load_seq2seq};

/// A small dictionary with alternatives: words of `a`..`f`, phonemes from letters.
fn dict() -> String {
    let mut out = String::new();
    let names = ["AA1", "B", "K", "D", "EH0", "F"];
    for i in 0..60u32 {
        // Distinct words: the digits of i + 7 in base 6, as letters a..f.
        let (mut n, mut word) = (i + 7, String::new());
        while n > 0 {
            word.push((b'a' + (n % 6) as u8) as char);
            n /= 6;
        }
        let pron: Vec<&str> = word.bytes().map(|b| names[(b - b'a') as usize]).collect();
        out += &format!("{word} {}\n", pron.join(" "));
        if i % 10 == 0 {
            out += &format!("{}(2) {}\n", word.to_uppercase(), pron[..2].join(" "));
        }
    }
    out
}

fn train(dir: &Path, data: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["train", "--task", "seq2seq", "--quiet", "--threads", "2"])
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(dir.join("p.mrnn"))
        .args(["--embed", "4", "--epochs", "3", "--batch-size", "8"])
        .args(extra)
        .output()
        .expect("micrornn runs")
}

#[test]
fn trains_and_writes_checkpoint_model_and_validation_words() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.dict");
    std::fs::write(&data, dict()).unwrap();
    let out = train(dir.path(), &data, &["--val-frac", "0.2", "--hidden", "16"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("epoch   3/3"), "{stdout}");
    assert!(
        stdout.contains("WER") && stdout.contains("phonemes/s"),
        "{stdout}"
    );
    assert!(stdout.contains("% int8 / "), "{stdout}");
    let ckpt = dir.path().join("p.ckpt");
    assert!(is_seq2seq_checkpoint(&std::fs::read(&ckpt).unwrap()));
    let (meta, params) = load_seq2seq(&ckpt).unwrap();
    assert_eq!(meta.phonemes, ["AA1", "B", "D", "EH0", "F", "K"]);
    assert_eq!(meta.dims.hidden, 16);
    assert_eq!(params.len(), meta.dims.param_count());
    let model = std::fs::read(dir.path().join("p.mrnn")).unwrap();
    let m = micrornn::Model::load(&model).unwrap();
    assert_eq!(m.config().task, micrornn::format::Task::Seq2seq);
    // 12 of 60 words held out, alternatives kept with their word.
    let val = std::fs::read_to_string(dir.path().join("p.val.dict")).unwrap();
    let words = micrornn_trainer::data::cmudict::parse_dict(&val, "val").unwrap();
    assert_eq!(words.words.len(), 12);
    // Same seed and threads: the same checkpoint bytes.
    let first = std::fs::read(&ckpt).unwrap();
    assert!(
        train(dir.path(), &data, &["--val-frac", "0.2", "--hidden", "16"])
            .status
            .success()
    );
    assert_eq!(std::fs::read(&ckpt).unwrap(), first);
}

#[test]
fn bad_input_is_a_one_line_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.dict");
    std::fs::write(&data, "abc EY1 B\nabd\n").unwrap();
    let out = train(dir.path(), &data, &["--hidden", "16"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.dict:2: `abd` has no phonemes"), "{err}");
    let odd = train(dir.path(), &data, &["--hidden", "15"]);
    assert!(String::from_utf8_lossy(&odd.stderr).contains("--hidden must be even"));
    let drop = train(dir.path(), &data, &["--dropout", "1"]);
    assert!(String::from_utf8_lossy(&drop.stderr).contains("--dropout must be in [0, 1)"));
    let names = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["train", "--dropout", "0.2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&names.stderr);
    assert!(
        !names.status.success() && err.contains("--dropout is only for --task seq2seq"),
        "{err}"
    );
}

/// By hand: `MICRORNN_S2S_CKPT=p.ckpt MICRORNN_S2S_VAL=p.val.dict cargo test -p
/// micrornn-trainer --release --test seq2seq_train -- --ignored --nocapture` prints the
/// int8 and float greedy error rates of a checkpoint's best weights.
#[test]
#[ignore]
fn score_a_checkpoint() {
    use micrornn_trainer::data::cmudict::{encode_word, read_dict};
    use micrornn_trainer::engine::seq2seq::Seq2seqEngine;
    use micrornn_trainer::train::seq2seq::edit_distance;
    use micrornn_trainer::train::seq2seq_ckpt::Seq2seqCheckpoint;
    let ckpt = std::env::var("MICRORNN_S2S_CKPT").expect("MICRORNN_S2S_CKPT");
    let val = std::env::var("MICRORNN_S2S_VAL").expect("MICRORNN_S2S_VAL");
    let ck = Seq2seqCheckpoint::read(Path::new(&ckpt)).unwrap();
    let dict = read_dict(Path::new(&val)).unwrap();
    let id = |ph: &String| ck.phonemes.binary_search(ph).unwrap() as u16;
    let refs: Vec<Vec<Vec<u16>>> = dict
        .words
        .iter()
        .map(|w| w.prons.iter().map(|p| p.iter().map(id).collect()).collect())
        .collect();
    let model = ck.export().unwrap();
    let t = std::time::Instant::now();
    let (wer, per) =
        micrornn_trainer::train::seq2seq_int8::score_int8(&model, &dict, &refs, 2).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let vocab = micrornn::vocab::Vocab::new(&ck.vocab).unwrap();
    let words: Vec<Vec<u16>> = dict
        .words
        .iter()
        .map(|w| encode_word(&w.word, &vocab).unwrap())
        .collect();
    let rows: Vec<&[u16]> = words.iter().map(Vec::as_slice).collect();
    let got = Seq2seqEngine::new(ck.dims, 2).greedy(&ck.best, &rows);
    let (mut wrong, mut errors, mut length) = (0, 0, 0);
    for (g, prons) in got.iter().zip(&refs) {
        let (d, l) = prons
            .iter()
            .map(|p| (edit_distance(g, p), p.len()))
            .min()
            .unwrap();
        wrong += usize::from(d > 0);
        errors += d;
        length += l;
    }
    println!(
        "{} words, best epoch {}: int8 WER {:.2}% PER {:.2}% ({:.1} s); float WER {:.2}% PER {:.2}%; model {} bytes",
        dict.words.len(),
        ck.best_epoch,
        100.0 * wer,
        100.0 * per,
        secs,
        100.0 * wrong as f64 / dict.words.len() as f64,
        100.0 * errors as f64 / length as f64,
        model.len()
    );
}
