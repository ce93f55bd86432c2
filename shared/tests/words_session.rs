//! Word classifiers through the serial session on the host: `classify TEXT` and `text`
//! give the verdict of `classify_text` on the same model, digit for digit; texts of any
//! length go in pieces; every misuse gets one `err` line and the session goes on.

use std::collections::VecDeque;
use std::convert::Infallible;

mod words_common;

use micrornn::format::{self, CellKind};
use micrornn::session::{BoardInfo, Buffers, Platform, Session};
use micrornn::store::sim::SimFlash;
use micrornn::store::ModelStore;
use micrornn::words::classify_text;
use micrornn::{Model, NetQ, Rng};
use words_common::{word_model_file, WordShape};

type Flash = SimFlash<65536, 1024, 4>;

const INFO: BoardInfo = BoardInfo {
    board: "host",
    firmware: "test 0",
    partition_addr: 0x1000,
    partition_len: 65536,
};

#[derive(Default)]
struct Serial {
    input: VecDeque<u8>,
    output: Vec<u8>,
}

impl embedded_io::ErrorType for Serial {
    type Error = Infallible;
}

impl embedded_io::Read for Serial {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        match (buf.first_mut(), self.input.pop_front()) {
            (Some(slot), Some(b)) => {
                *slot = b;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(!self.input.is_empty())
    }
}

impl embedded_io::Write for Serial {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

struct Board;

impl Platform for Board {
    fn ticks(&self) -> u64 {
        0
    }
    fn ticks_per_second(&self) -> u32 {
        1000
    }
    fn instructions_per_tick(&self) -> u32 {
        0
    }
    fn stack_peak(&self) -> usize {
        0
    }
    fn stack_size(&self) -> usize {
        0
    }
    fn static_ram(&self) -> usize {
        0
    }
}

struct Device {
    session: Session<'static, &'static mut Flash>,
    serial: Serial,
}

impl Device {
    /// A session serving `model` with an arena of `arena` words and 8 outputs, echo off.
    fn boot(model: &[u8], arena: usize) -> Device {
        let flash: &'static mut Flash = Box::leak(Box::new(Flash::new()));
        let mut store = ModelStore::open(flash);
        store
            .begin(model.len() as u32, format::model_crc(model), false)
            .unwrap();
        store.write(0, model).unwrap();
        store.commit().unwrap();
        let buffers = Buffers {
            arena: Box::leak(vec![0i32; arena].into_boxed_slice()),
            logits: Box::leak(vec![0i32; 8].into_boxed_slice()),
        };
        let mut d = Device {
            session: Session::new(store, buffers, INFO),
            serial: Serial::default(),
        };
        d.ask("echo off");
        d
    }

    /// Sends bytes; returns the reply lines (prompts and empty lines dropped).
    fn send(&mut self, bytes: &[u8]) -> Vec<String> {
        self.serial.input.extend(bytes);
        self.session.poll(&mut self.serial, &Board);
        let out = String::from_utf8(std::mem::take(&mut self.serial.output)).unwrap();
        out.split("\r\n")
            .map(|l| l.trim_start_matches("> ").to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    fn ask(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n").as_bytes())
    }
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
        let mut d = Device::boot(&m, 400);
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
            assert_eq!(d.send(b"text\r\n"), Vec::<String>::new());
            if !text.is_empty() {
                assert_eq!(
                    d.send(format!("{lines}\r\n").as_bytes()),
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
    let mut d = Device::boot(&m, 400);
    // Words cut at every place by the 127-byte line buffer, on one line of ~1200 bytes;
    // the model reads 40 tokens, so the words that count are at the end of a 2nd text.
    let long: String = (0..150)
        .map(|i| ["money ", "the ", "zebra "][i % 3])
        .collect();
    let want = host_verdict(&m, &long);
    assert_eq!(d.send(b"text\r\n"), Vec::<String>::new());
    d.send(long.as_bytes());
    assert_eq!(d.ask(""), Vec::<String>::new()); // ends the long line
    assert_eq!(d.ask(""), [&want, "ok"]);
    // The same with CR LF and bare LF endings, and max_words reached early: the verdict of
    // its first 40 tokens.
    let first: String = long.split(' ').take(40).collect::<Vec<_>>().join(" ");
    let want = host_verdict(&m, &first);
    d.send(b"text\n");
    d.send(long.as_bytes());
    d.send(b"\n");
    assert_eq!(d.send(b"\n"), [&want, "ok"]);
    // `stats` counts one text, its bytes and the tokens fed (at most max_words).
    let stats = d.ask("stats");
    let want = format!("names 1 chars {} steps 40 ticks 0", long.len() + 1);
    assert_eq!(stats[0], want);
}

#[test]
fn misuse_gets_one_error_line() {
    let m = model(false, 4);
    let mut d = Device::boot(&m, 400);
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
    let mut c = Device::boot(&chars, 400);
    assert_eq!(
        c.ask("text"),
        ["err this model is a classifier: use classify NAME"]
    );
    assert_eq!(c.ask("settings").last().unwrap(), "ok");
    // An arena too small for the embedding row: the model does not fit, said once.
    let apart = model(true, 5);
    let words = NetQ::needs(&Model::load(&apart).unwrap());
    let mut small = Device::boot(&apart, words - 1);
    let e = small.ask("text");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("err no valid model: "), "{e:?}");
    assert!(e[0].contains("RAM for the state"), "{e:?}");
}
