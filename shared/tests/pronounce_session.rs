//! Encoder–decoders through the serial session on the host: `pronounce WORD...` gives the
//! lines of greedy decoding written by `seq2seq::write_line` (what the host's `micrornn
//! pronounce` prints), digit for digit; every misuse gets one `err` line and the session
//! goes on; a model that does not fit the arena is refused with the reason.
#![cfg(feature = "seq2seq")]

mod seq2seq_common;
mod session_common;

use micrornn::format::CellKind;
use micrornn::seq2seq::{arena_words, greedy, write_line, Seq2seqQ, MAX_OUTPUT};
use micrornn::{Model, Rng};
use seq2seq_common::{random_file, Shape, PHONEMES};
use session_common::{store_with, Device};

/// A session serving `model` with an arena of `arena` words and `outputs` outputs, echo off.
fn boot(model: &[u8], arena: usize, outputs: usize) -> Device {
    Device::boot_with_outputs(store_with(Some(model)), arena, outputs)
}

/// The host's line for `word`: greedy decoding on the integer network, `write_line`.
fn host_line(model: &[u8], word: &str) -> String {
    let m = Model::load(model).unwrap();
    let mut arena = vec![0i32; Seq2seqQ::needs(&m).unwrap()];
    let mut net = Seq2seqQ::new(&m, &mut arena).unwrap();
    let mut logits = vec![0i32; m.outputs()];
    let mut ids = [0u16; MAX_OUTPUT];
    let n = greedy(&mut net, word, &mut logits, &mut ids).unwrap();
    let mut line = String::new();
    write_line(&mut line, word, &net.phonemes(), &ids[..n]).unwrap();
    line
}

/// Test shapes over all 27 characters (`'` and a–z) and 12 phonemes.
const fn shape(cell: CellKind, layers: usize, hidden: usize, embed: usize) -> Shape {
    Shape {
        cell,
        layers,
        hidden,
        embed,
        chars: 27,
        phonemes: 12,
    }
}

const SHAPES: [Shape; 3] = [
    shape(CellKind::Gru, 1, 16, 8),
    shape(CellKind::Lstm, 2, 12, 5),
    shape(CellKind::Rnn, 1, 34, 3),
];

/// A random model file of `s`.
fn seq2seq_file(s: Shape, seed: u64) -> Vec<u8> {
    random_file(&s, &mut Rng::new(seed))
}

const WORDS: [&str; 8] = [
    "hello",
    "World",
    "a",
    "o'neil",
    "jeanluc",
    "abcdefghijklmnopqrstuvwxyzabcdef",
    "zzz",
    "MICROCONTROLLER",
];

/// The arena words of a shape (what the session's check asks for).
fn needs(s: Shape) -> usize {
    arena_words(s.cell, s.layers, s.hidden, s.embed, PHONEMES.len() + 1)
}

#[test]
fn pronounce_gives_the_hosts_lines() {
    let mut lengths = std::collections::BTreeSet::new();
    for (i, s) in SHAPES.into_iter().enumerate() {
        let m = seq2seq_file(s, 11 + i as u64);
        let mut d = boot(&m, needs(s), 16);
        let info = d.ask("info");
        let head = format!(
            "model {} hidden {}",
            ["rnn", "gru", "lstm"][s.cell as usize],
            s.hidden
        );
        assert!(
            info.iter()
                .any(|l| l.starts_with(&head) && l.contains("seq2seq")),
            "{info:?}"
        );
        let line = format!("phonemes {} embed {} max_input 32", PHONEMES.len(), s.embed);
        assert!(info.contains(&line), "{info:?}");
        // One word a line, then all of them on one line: the same answers.
        let mut all = Vec::new();
        for word in WORDS {
            let want = host_line(&m, word);
            lengths.insert(want.split(' ').count());
            assert_eq!(d.ask(&format!("pronounce {word}")), [&want, "ok"], "{word}");
            all.push(want);
        }
        all.push("ok".into());
        assert_eq!(d.ask(&format!("pronounce  {} ", WORDS.join("  "))), all);
        let stats = d.ask("stats");
        assert!(stats[0].starts_with("names 8 chars 74 steps "), "{stats:?}");
    }
    // The random models say something, of several lengths.
    assert!(lengths.len() > 2, "{lengths:?}");
}

#[test]
fn every_misuse_gets_one_err_line() {
    let s = SHAPES[0];
    let m = seq2seq_file(s, 5);
    let mut d = boot(&m, needs(s), 16);
    let cases = [
        ("pronounce", "err usage: pronounce <word>..."),
        // Every word is checked before the first answer.
        (
            "pronounce hello w0rld",
            "err character '0' is not in the vocabulary",
        ),
        (
            "pronounce hello abcdefghijklmnopqrstuvwxyzabcdefg",
            "err word has 33 characters, the model reads at most 32",
        ),
        ("gen", "err this model is an encoder-decoder"),
        ("classify hello", "err this model is an encoder-decoder"),
    ];
    for (line, want) in cases {
        let got = d.ask(line);
        assert_eq!(got.len(), 1, "{line}: {got:?}");
        assert!(got[0].starts_with(want), "{line}: {got:?}");
    }
    assert_eq!(d.ask("pronounce hello"), [&host_line(&m, "hello"), "ok"]);
}

#[test]
fn pronounce_on_another_model_says_what_it_needs() {
    // A generator with the same characters: the session's own random builder is the
    // store tests'; a seq2seq file with its task byte changed would fail its CRC, so an
    // old fixture serves.
    let bytes = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/names.mrnn"
    ));
    let mut d = boot(bytes, 4096, 64);
    let got = d.ask("pronounce anna");
    assert_eq!(
        got,
        ["err pronounce needs an encoder-decoder; this model's task is generate"]
    );
}

#[test]
fn a_model_that_does_not_fit_is_refused_with_the_reason() {
    let s = SHAPES[1];
    let m = seq2seq_file(s, 8);
    let need = needs(s);
    // One word short of the arena.
    let mut d = boot(&m, need - 1, 16);
    let want = format!(
        "err no valid model: RAM for the state too small: needs {} bytes, has {} bytes",
        4 * need,
        4 * (need - 1)
    );
    assert_eq!(d.ask("pronounce hello"), [want]);
    // Too few outputs for the P decoder tokens.
    let mut d = boot(&m, need, PHONEMES.len());
    let want = format!(
        "err no valid model: RAM for the outputs too small: needs {} bytes, has {} bytes",
        4 * (PHONEMES.len() + 1),
        4 * PHONEMES.len()
    );
    assert_eq!(d.ask("pronounce hello"), [want]);
}

#[test]
fn the_full_arena_holds_the_largest_encoder_decoder() {
    use micrornn::session::FULL_ARENA_WORDS;
    // An LSTM of 4 layers of 510 units (even), embedding 511, 1,024 phonemes + boundary.
    let largest = arena_words(CellKind::Lstm, 4, 510, 511, 1025);
    assert_eq!(FULL_ARENA_WORDS, largest);
    assert_eq!(FULL_ARENA_WORDS, 18_648);
    assert!(FULL_ARENA_WORDS > micrornn::arena_words(CellKind::Lstm, 4, 511));
}
