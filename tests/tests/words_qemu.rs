//! Word classifiers under QEMU: on the Cortex-M4F and Cortex-M33 boards, `classify TEXT`
//! and `text` give the host's verdict line, digit for digit, for e-mails of the corpus
//! (both input layouts, random int8 weights and a file of the trainer's exporter); the
//! micro:bit v1's firmware is built without word classifiers and says so. Needs
//! qemu-system-arm: these tests fail (they do not skip) without it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use micrornn::cell::{FloatLayer, FloatWeights, MAX_LAYERS};
use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::words::{classify_text, tokenize};
use micrornn::{InputLayout, Model, NetQ, Rng};
use micrornn_trainer::device::boards::{BoardKind, BoardSpec};
use micrornn_trainer::device::client::DeviceClient;
use micrornn_trainer::device::emulator::{build_firmware, Emulator};
use micrornn_trainer::export::quantize::export;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Every 97th line of the corpus (an e-mail a line, but for the rare quoted line break),
/// `n` of them, each cut to at most `max` bytes at a char boundary.
fn corpus_lines(n: usize, max: usize) -> Vec<String> {
    corpus_lines_every(97, n, max)
}

/// Every `step`-th line of the corpus, `n` of them, cut to at most `max` bytes.
fn corpus_lines_every(step: usize, n: usize, max: usize) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/spamassassin-train.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .step_by(step)
        .take(n)
        .map(|l| {
            let mut end = l.len().min(max);
            while !l.is_char_boundary(end) {
                end -= 1;
            }
            l[..end].to_string()
        })
        .collect()
}

/// A word classifier with random weights over the `words` most frequent tokens of the
/// corpus lines: a GRU of `hidden` units, embedding width `e` (apart or folded), labels
/// ham and spam, reading at most 64 tokens.
fn word_model(words: usize, hidden: usize, e: usize, apart: bool, seed: u64) -> Vec<u8> {
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for l in corpus_lines_every(1, usize::MAX, 2000) {
        tokenize(l.as_bytes(), |t| {
            *counts.entry(t.to_string()).or_default() += 1
        });
    }
    counts.remove("<UNK>");
    let mut by_count: Vec<(String, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut vocab: Vec<String> = by_count.into_iter().take(words).map(|(w, _)| w).collect();
    vocab.sort();
    let vocab = vocab.join("\n");
    let (v, gh) = (words + 2, 3 * hidden);
    let mut shapes = vec![];
    if apart {
        shapes.push((v, e, false));
        shapes.push((gh, e, true));
    } else {
        shapes.push((v, gh, false));
    }
    shapes.push((gh, hidden, true));
    shapes.push((2, hidden, true));
    let mut rng = Rng::new(seed);
    let (mut data, mut entries) = (Vec::new(), Vec::new());
    for (i, &(rows, cols, bias)) in shapes.iter().enumerate() {
        let at = |d: &Vec<u8>, len: usize| Span {
            offset: d.len() as u32,
            len: len as u32,
        };
        let weights = at(&data, rows * cols);
        data.extend((0..rows * cols).map(|_| rng.next_u32() as u8));
        let scales = at(&data, 4 * rows);
        for _ in 0..rows {
            // The embedding's values within [-1, 1]; the others moderate.
            let s: f32 = if apart && i == 0 {
                1.0 / 127.0
            } else {
                1.0 / 256.0
            };
            data.extend(s.to_le_bytes());
        }
        let b = at(&data, if bias { 4 * rows } else { 0 });
        if bias {
            for _ in 0..rows {
                data.extend(((rng.next_u32() as i32) >> 15).to_le_bytes());
            }
        }
        entries.push(TensorEntry {
            rows: rows as u16,
            cols: cols as u16,
            weights,
            scales,
            bias: b,
        });
    }
    let table: Vec<u8> = entries.iter().flat_map(|e| e.to_record()).collect();
    let body = Body {
        config: Config {
            cell: CellKind::Gru,
            task: Task::ClassifyWords { max_words: 64 },
            layers: 1,
            hidden: hidden as u16,
            embed: e as u16,
            vocab_size: v as u16,
        },
        vocab: &vocab,
        labels: "ham\nspam",
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; data.len() + table.len() + vocab.len() + 1024];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}

/// The word list of [`word_model`]'s vocabulary of `words` words.
fn vocab_of(bytes: &[u8]) -> String {
    Model::load(bytes)
        .unwrap()
        .word_vocab()
        .unwrap()
        .as_str()
        .to_string()
}

/// A word classifier written by the trainer's exporter from random float weights of a
/// GRU of 32 units, embedding width 24, over the words of `vocab` (it keeps the
/// embedding apart: smaller for hundreds of words), the embedding scaled up to ±3 so that
/// the exporter's rescaling into [-1, 1] is needed.
fn exported_model(vocab: &str, seed: u64) -> Vec<u8> {
    let (v, h, e) = (vocab.split('\n').count() + 2, 32, 24);
    let gh = 3 * h;
    let mut rng = Rng::new(seed);
    let mut draw = |n: usize, amp: f32| -> Vec<f32> {
        (0..n)
            .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp)
            .collect()
    };
    let emb = draw(v * e, 3.0);
    let (w_x, b_x, w_h, b_h) = (
        draw(gh * e, 0.3),
        draw(gh, 0.5),
        draw(gh * h, 0.3),
        draw(gh, 0.5),
    );
    let (w_out, b_out) = (draw(2 * h, 1.0), draw(2, 0.5));
    let mut layers = [FloatLayer::default(); MAX_LAYERS];
    layers[0] = FloatLayer {
        w_x: &w_x,
        b_x: &b_x,
        w_h: &w_h,
        b_h: &b_h,
    };
    let w = FloatWeights {
        cell: CellKind::Gru,
        vocab: v,
        hidden: h,
        embed: e,
        outputs: 2,
        n_layers: 1,
        emb: &emb,
        layers,
        w_out: &w_out,
        b_out: &b_out,
    };
    let labels = ["ham".to_string(), "spam".to_string()];
    export(&w, Task::ClassifyWords { max_words: 64 }, vocab, &labels).unwrap()
}

/// The host's verdict line for `text`.
fn host_line(m: &Model<'_>, text: &str) -> String {
    let mut arena = vec![0i32; NetQ::needs(m)];
    let mut net = NetQ::new(m, &mut arena).unwrap();
    let mut out = [0i32; 2];
    let (vocab, max) = (m.word_vocab().unwrap(), m.max_words().unwrap());
    let v = classify_text(&mut net, vocab, max, text, &mut out).unwrap();
    let mut digits = [0; 6];
    format!("{} {}", m.label(v.label).unwrap(), v.prob_str(&mut digits))
}

/// `text`, the text's lines, an empty line: the reply lines before `ok`.
fn text_command(dev: &mut DeviceClient, text: &str) -> Vec<String> {
    dev.send_raw(b"text\n").unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        dev.send_raw(format!("{line}\n").as_bytes()).unwrap();
    }
    dev.command("").unwrap()
}

/// Boots `elf` with the model `bytes` in the board's model store (and the model's file,
/// to keep until QEMU is gone).
fn boot(spec: &BoardSpec, elf: &Path, bytes: &[u8]) -> (tempfile::NamedTempFile, Emulator) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    let emu = Emulator::boot(spec, elf, Some(file.path()), false).expect("QEMU boots");
    (file, emu)
}

fn parity_on(board: BoardKind) {
    let spec = board.spec();
    let elf = build_firmware(&spec).expect("firmware builds");
    // Random int8 models of both layouts, and one the trainer's exporter wrote.
    let exported = exported_model(&vocab_of(&word_model(300, 8, 8, false, 1)), 5);
    for (apart, words, hidden) in [(true, 600, 24), (false, 60, 16), (true, 300, 32)] {
        let bytes = match hidden {
            32 => exported.clone(),
            _ => word_model(words, hidden, 16, apart, 7 + words as u64),
        };
        let m = Model::load(&bytes).unwrap();
        let layout = match (apart, hidden) {
            (true, 32) => InputLayout::Apart { embed: 24 },
            (true, _) => InputLayout::Apart { embed: 16 },
            (false, _) => InputLayout::Folded,
        };
        assert_eq!(m.input_layout(), layout);
        spec.check_fits(&bytes).unwrap();
        let (_file, mut emu) = boot(&spec, &elf, &bytes);
        let mut dev = emu.client(TIMEOUT).expect("the board answers");
        let input = if apart { "apart" } else { "folded" };
        let info = dev.command("info").unwrap();
        let want = format!("words {words} max_words 64 input {input}");
        assert!(info.contains(&want), "{info:?}");
        // Whole e-mails (up to 1,500 bytes) through `text`, in lines of a few words.
        for mail in corpus_lines(12, 1500) {
            let want = host_line(&m, &mail);
            let wrapped = mail
                .split(' ')
                .collect::<Vec<_>>()
                .chunks(9)
                .map(|c| c.join(" "))
                .collect::<Vec<_>>()
                .join("\n");
            assert_eq!(text_command(&mut dev, &wrapped), [want], "{mail}");
        }
        // Short ones on the command line.
        for mail in corpus_lines(8, 110) {
            let want = host_line(&m, &mail);
            let got = dev.command(&format!("classify {mail}")).unwrap();
            assert_eq!(got, [want], "{mail}");
        }
        // The session goes on after an error.
        let e = dev.command("gen").unwrap_err().to_string();
        assert!(e.contains("classifies text"), "{e}");
        assert!(dev.command("settings").is_ok());
    }
}

#[test]
fn mps2_an386_word_verdicts_match_the_host() {
    parity_on(BoardKind::Mps2An386);
}

#[test]
fn mps2_an505_word_verdicts_match_the_host() {
    parity_on(BoardKind::Mps2An505);
}

#[test]
fn the_microbit_has_no_word_classifiers() {
    let spec = BoardKind::Microbit.spec();
    // The host refuses to place a word model there (upload, export --board).
    let bytes = word_model(60, 16, 16, false, 3);
    let e = spec.check_fits(&bytes).unwrap_err().to_string();
    assert!(e.contains("without word classifiers"), "{e}");
    // Its firmware, built without them, has no `text` command and answers on.
    let elf = build_firmware(&spec).expect("firmware builds");
    let mut emu = Emulator::boot(&spec, &elf, None, false).expect("QEMU boots");
    let mut dev = emu.client(TIMEOUT).expect("the board answers");
    let e = dev.command("text").unwrap_err().to_string();
    assert!(e.contains(r#"unknown command "text""#), "{e}");
    assert!(dev.command("help").is_ok());
}

/// By hand (`cargo test -p micrornn-tests --test words_qemu -- --ignored --nocapture`):
/// instructions per classified e-mail on the Cortex-M4F under `-icount shift=0`, for the
/// model in `MICRORNN_WORDS_MODEL` or a random one of the default shape (GRU 64, E 32,
/// 4,000 words, 64 tokens). Each e-mail of the corpus (every 97th, 40 of them) goes with
/// `text` as one line; `stats` counts from `text` to the verdict, model loads included.
#[test]
#[ignore]
fn instructions_per_message_on_the_m4f() {
    let spec = BoardKind::Mps2An386.spec();
    let elf = build_firmware(&spec).expect("firmware builds");
    let bytes = match std::env::var("MICRORNN_WORDS_MODEL") {
        Ok(path) => std::fs::read(path).unwrap(),
        Err(_) => word_model(4000, 64, 32, true, 1),
    };
    let m = Model::load(&bytes).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&bytes).unwrap();
    let mut emu = Emulator::boot(&spec, &elf, Some(file.path()), true).expect("QEMU boots");
    let mut dev = emu.client(TIMEOUT).expect("the board answers");
    let (mut all, mut tokens) = (Vec::new(), 0u64);
    for mail in corpus_lines(40, 100_000) {
        assert_eq!(text_command(&mut dev, &mail), [host_line(&m, &mail)]);
        let stats = dev.command("stats").unwrap();
        let field = |line: &str, key: &str| -> u64 {
            let words: Vec<&str> = line.split(' ').collect();
            let at = words.iter().position(|w| *w == key).unwrap();
            words[at + 1].parse().unwrap()
        };
        tokens += field(&stats[0], "steps");
        all.push(field(&stats[1], "instructions"));
    }
    all.sort();
    let mean = all.iter().sum::<u64>() / all.len() as u64;
    eprintln!(
        "{} e-mails, {} tokens fed in all, {} B model, {:?}: instructions per e-mail mean {mean}, \
         min {}, median {}, max {}; per token {}",
        all.len(),
        tokens,
        bytes.len(),
        m.input_layout(),
        all[0],
        all[all.len() / 2],
        all[all.len() - 1],
        all.iter().sum::<u64>() / tokens.max(1),
    );
}
