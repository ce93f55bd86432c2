//! Word classifiers through the serial session on the host: `classify TEXT` and `text`
//! give the verdict of `classify_text` on the same model, digit for digit; texts of any
//! length go in pieces; every misuse gets one `err` line and the session goes on.

mod session_common;
mod words_common;

use micrornn::format::CellKind;
use micrornn::words::classify_text;
use micrornn::{Model, NetQ, Rng};
use session_common::{store_with, Device};
use words_common::{word_model_file, WordShape};

/// A session serving `model` with an arena of `arena` words and 8 outputs, echo off.
fn boot(model: &[u8], arena: usize) -> Device {
    Device::boot_with_outputs(store_with(Some(model)), arena, 8)
}

/// The host's line for `text`: `label prob`, through `classify_text`.
fn host_verdict(model: &[u8], text: &str) -> String {
    let m = Model::load(model).unwrap();
    let mut arena = vec![0i32; NetQ::needs(&m)];
    let mut net = NetQ::new(&m, &mut arena).unwrap();
    let (vocab, max) = (m.word_vocab().unwrap(), m.max_words().unwrap());
    let mut out = [0i32; 2];
    let v = classify_text(&mut net, vocab, max, text, &mut out).unwrap();
    let mut digits = [0; 6];
    format!("{} {}", m.label(v.label).unwrap(), v.prob_str(&mut digits))
}

fn model(apart: bool, seed: u64) -> Vec<u8> {
    let shape = WordShape {
        cell: CellKind::Gru,
        layers: 1,
        hidden: 16,
        embed: 8,
        apart,
        max_words: 40,
    };
    word_model_file(shape, &mut Rng::new(seed))
}

const TEXTS: [&str; 5] = [
    "Hello, you: the meeting is today.",
    "WIN money NOW!!! click http://x.example/buy — free $$$",
    "",
    "re: 2002 money? mail bob@example.com",
    "zebra zebra zebra",
];

#[test]
fn classify_and_text_give_the_hosts_verdict() {
    for (i, apart) in [false, true].into_iter().enumerate() {
        let m = model(apart, 3 + i as u64);
        let mut d = boot(&m, 400);
        let info = d.ask("info");
        assert!(
            info.iter()
                .any(|l| l.starts_with("model gru hidden 16") && l.contains("classify-words")),
            "{info:?}"
        );
        let layout = if apart { "apart" } else { "folded" };
        let words = format!("words 17 max_words 40 input {layout}");
        assert!(info.contains(&words), "{info:?}");
        for text in TEXTS {
            let want = host_verdict(&m, text);
            if !text.trim().is_empty() {
                assert_eq!(d.ask(&format!("classify {text}")), [&want, "ok"], "{text}");
            }
            // The same text over several lines (line ends are whitespace), then an empty one.
            let lines = text.replace(' ', "\n");
            assert_eq!(d.reply(b"text\r\n"), Vec::<String>::new());
            if !text.is_empty() {
                assert_eq!(
                    d.reply(format!("{lines}\r\n").as_bytes()),
                    Vec::<String>::new()
                );
            }
            assert_eq!(d.ask(""), [&want, "ok"], "{text:?}");
        }
        // The session is back at its commands.
        assert_eq!(d.ask("settings").last().unwrap(), "ok");
    }
}

#[test]
fn a_text_longer_than_a_line_is_read_in_pieces() {
    let m = model(true, 9);
    let mut d = boot(&m, 400);
    // Words cut at every place by the 127-byte line buffer, on one line of ~1200 bytes;
    // the model reads 40 tokens, so the words that count are at the end of a 2nd text.
    let long: String = (0..150)
        .map(|i| ["money ", "the ", "zebra "][i % 3])
        .collect();
    let want = host_verdict(&m, &long);
    assert_eq!(d.reply(b"text\r\n"), Vec::<String>::new());
    d.reply(long.as_bytes());
    assert_eq!(d.ask(""), Vec::<String>::new()); // ends the long line
    assert_eq!(d.ask(""), [&want, "ok"]);
    // The same with CR LF and bare LF endings, and max_words reached early: the verdict of
    // its first 40 tokens.
    let first: String = long.split(' ').take(40).collect::<Vec<_>>().join(" ");
    let want = host_verdict(&m, &first);
    d.reply(b"text\n");
    d.reply(long.as_bytes());
    d.reply(b"\n");
    assert_eq!(d.reply(b"\n"), [&want, "ok"]);
    // `stats` counts one text, its bytes and the tokens fed (at most max_words).
    let stats = d.ask("stats");
    let want = format!("names 1 chars {} steps 40 ticks 0", long.len() + 1);
    assert_eq!(stats[0], want);
}

#[test]
fn misuse_gets_one_error_line() {
    let m = model(false, 4);
    let mut d = boot(&m, 400);
    assert_eq!(
        d.ask("text now"),
        ["err usage: text (then the lines of the text, an empty line ends it)"]
    );
    assert_eq!(
        d.ask("gen"),
        ["err this model classifies text: use classify TEXT or text"]
    );
    // A character classifier has no words: `text` refuses it.
    let chars = words_common::char_classifier();
    let mut c = boot(&chars, 400);
    assert_eq!(
        c.ask("text"),
        ["err this model is a classifier: use classify NAME"]
    );
    assert_eq!(c.ask("settings").last().unwrap(), "ok");
    // An arena too small for the embedding row: the model does not fit, said once.
    let apart = model(true, 5);
    let words = NetQ::needs(&Model::load(&apart).unwrap());
    let mut small = boot(&apart, words - 1);
    let e = small.ask("text");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("err no valid model: "), "{e:?}");
    assert!(e[0].contains("RAM for the state"), "{e:?}");
}
