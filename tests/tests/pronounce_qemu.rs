//! Encoder–decoders under QEMU: on the Cortex-M4F and Cortex-M33 boards, `pronounce WORD…`
//! (and `micrornn device … pronounce`) gives the host's lines byte for byte — greedy
//! decoding on the integer network, written by `seq2seq::write_line` — for models the
//! trainer's exporter wrote from random float weights (GRU, LSTM, 2 layers). The micro:bit
//! v1's firmware is built without encoder–decoders (no room in its 40 KB of code): it says
//! so, and the host refuses to place one there. Needs qemu-system-arm: these tests fail
//! (they do not skip) without it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use micrornn::format::CellKind;
use micrornn::seq2seq::{greedy, write_line, Seq2seqQ, Seq2seqShape, Seq2seqWeights, MAX_OUTPUT};
use micrornn::{Model, Rng};
use micrornn_trainer::device::boards::{BoardKind, BoardSpec};
use micrornn_trainer::device::emulator::{build_firmware, Emulator};
use micrornn_trainer::export::seq2seq::quantize;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The spelling's characters of the test models (sorted): CMUdict's.
const CHARS: &str = "'-.abcdefghijklmnopqrstuvwxyz";

/// CMUdict's 39 phonemes, vowels with their stress digits (69 in all), sorted.
fn phonemes() -> Vec<String> {
    const VOWELS: [&str; 15] = [
        "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
    ];
    const CONSONANTS: [&str; 24] = [
        "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
        "T", "TH", "V", "W", "Y", "Z", "ZH",
    ];
    let mut all: Vec<String> = CONSONANTS.iter().map(|c| c.to_string()).collect();
    for v in VOWELS {
        all.extend((0..3).map(|stress| format!("{v}{stress}")));
    }
    all.sort();
    all
}

/// A seq2seq model file written by the trainer's exporter from random float weights of
/// `cell`, `layers` layers, decoder width `hidden`, embedding `embed`: uniform within
/// ±2/√hidden, the boundary's output bias 0.8 (found by trying: random networks tend to a fixed
/// point, and this bias gives words of many lengths).
fn exported_model(
    cell: CellKind,
    layers: usize,
    hidden: usize,
    embed: usize,
    seed: u64,
) -> Vec<u8> {
    exported_model_with(cell, layers, hidden, embed, seed, 0.8)
}

/// [`exported_model`] with the boundary's output bias `boundary`.
fn exported_model_with(
    cell: CellKind,
    layers: usize,
    hidden: usize,
    embed: usize,
    seed: u64,
    boundary: f32,
) -> Vec<u8> {
    let names = phonemes();
    let shape = Seq2seqShape {
        cell,
        layers,
        hidden,
        embed,
        in_tokens: CHARS.len() + 2,
        out_tokens: names.len() + 1,
    };
    let mut rng = Rng::new(seed);
    let amp = 2.0 / (hidden as f32).sqrt();
    let mut params: Vec<f32> = (0..shape.param_count())
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp)
        .collect();
    // The last parameter is the boundary's output bias.
    *params.last_mut().unwrap() = boundary;
    let w = Seq2seqWeights::from_flat(shape, &params).unwrap();
    quantize(&w, CHARS, &names).unwrap()
}

/// Test words: every character, upper and lower case, 1 to 32 characters.
fn words(n: usize, seed: u64) -> Vec<String> {
    let mut out: Vec<String> = [
        "hello",
        "Pronounce",
        "a",
        "o'neil",
        "jean-luc",
        "st.",
        "abcdefghijklmnopqrstuvwxyzabcdef",
        "MICROCONTROLLER",
    ]
    .map(String::from)
    .to_vec();
    let chars: Vec<char> = CHARS.chars().collect();
    let mut rng = Rng::new(seed);
    while out.len() < n {
        let len = 1 + rng.below(12) as usize;
        out.push(
            (0..len)
                .map(|_| chars[rng.below(chars.len() as u64) as usize])
                .collect(),
        );
    }
    out
}

/// The host's lines for `words`: what `micrornn pronounce --model M WORD…` prints (greedy
/// decoding on the integer network, each line written by `seq2seq::write_line`).
fn host_lines(bytes: &[u8], words: &[String]) -> Vec<String> {
    let m = Model::load(bytes).unwrap();
    let mut arena = vec![0i32; Seq2seqQ::needs(&m).unwrap()];
    let mut net = Seq2seqQ::new(&m, &mut arena).unwrap();
    let phonemes = net.phonemes();
    let mut logits = vec![0i32; m.outputs()];
    let mut ids = [0u16; MAX_OUTPUT];
    words
        .iter()
        .map(|word| {
            let n = greedy(&mut net, word, &mut logits, &mut ids).unwrap();
            let mut line = String::new();
            write_line(&mut line, word, &phonemes, &ids[..n]).unwrap();
            line
        })
        .collect()
}

/// Boots `elf` with the model `bytes` in the board's model store (and the model's file,
/// to keep until QEMU is gone).
fn boot(
    spec: &BoardSpec,
    elf: &Path,
    bytes: &[u8],
    icount: bool,
) -> (tempfile::NamedTempFile, Emulator) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    let emu = Emulator::boot(spec, elf, Some(file.path()), icount).expect("QEMU boots");
    (file, emu)
}

fn parity_on(board: BoardKind) {
    let spec = board.spec();
    let elf = build_firmware(&spec).expect("firmware builds");
    let models = [
        (CellKind::Gru, 1, 32, 8, "gru"),
        (CellKind::Lstm, 2, 24, 6, "lstm"),
    ];
    let mut lengths = std::collections::BTreeSet::new();
    for (i, &(cell, layers, hidden, embed, name)) in models.iter().enumerate() {
        let bytes = exported_model(cell, layers, hidden, embed, 3 + i as u64);
        spec.check_fits(&bytes).unwrap();
        let (_file, mut emu) = boot(&spec, &elf, &bytes, false);
        let mut dev = emu.client(TIMEOUT).expect("the board answers");
        let info = dev.command("info").unwrap();
        let head = format!("model {name} hidden {hidden} layers {layers} seq2seq vocab 31 ");
        assert!(info.iter().any(|l| l.starts_with(&head)), "{info:?}");
        assert!(
            info.contains(&format!("phonemes 69 embed {embed} max_input 32")),
            "{info:?}"
        );
        // Many words, in as few command lines as fit (the client's `pronounce`).
        let words = words(60, 10 + i as u64);
        let want = host_lines(&bytes, &words);
        lengths.extend(want.iter().map(|l| l.split(' ').count()));
        assert_eq!(dev.pronounce(&words).unwrap(), want);
        // One word, typed as a person would.
        let one = dev.command("pronounce  Hello ").unwrap();
        assert_eq!(one, host_lines(&bytes, &["Hello".into()]));
        // Errors, and the session goes on.
        let e = dev
            .command("pronounce hello w0rld")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "device: character '0' is not in the vocabulary");
        let long = "a".repeat(33);
        let e = dev.command(&format!("pronounce {long}")).unwrap_err();
        assert!(e.to_string().contains("at most 32"), "{e}");
        let e = dev.command("gen").unwrap_err().to_string();
        assert!(e.contains("encoder-decoder"), "{e}");
        assert_eq!(dev.pronounce(&words[..3]).unwrap(), want[..3]);
    }
    // The random models say something, of several lengths.
    assert!(lengths.len() > 3, "{lengths:?}");
}

#[test]
fn mps2_an386_pronounces_as_the_host() {
    parity_on(BoardKind::Mps2An386);
}

#[test]
fn mps2_an505_pronounces_as_the_host() {
    parity_on(BoardKind::Mps2An505);
}

#[test]
fn the_microbit_has_no_encoder_decoders() {
    let spec = BoardKind::Microbit.spec();
    // The host refuses to place one there (upload, export --board), even a tiny one.
    let bytes = exported_model(CellKind::Rnn, 1, 4, 2, 1);
    let e = format!("{:#}", spec.check_fits(&bytes).unwrap_err());
    assert!(e.contains("without encoder-decoders"), "{e}");
    // Its firmware, built without them, has no `pronounce` command and answers on.
    let elf = build_firmware(&spec).expect("firmware builds");
    let mut emu = Emulator::boot(&spec, &elf, None, false).expect("QEMU boots");
    let mut dev = emu.client(TIMEOUT).expect("the board answers");
    let e = dev.command("pronounce hello").unwrap_err().to_string();
    assert!(e.contains(r#"unknown command "pronounce""#), "{e}");
    assert!(dev.command("help").is_ok());
}

/// What `measure` saw: words, characters, decoder steps, instructions (per word, sorted),
/// and the `stats` line of the stack.
struct Measured {
    chars: u64,
    steps: u64,
    instructions: Vec<u64>,
    stack: String,
}

impl Measured {
    fn mean(&self) -> u64 {
        self.instructions.iter().sum::<u64>() / self.instructions.len() as u64
    }
}

/// Pronounces `words` one command each on the Cortex-M4F under `-icount shift=0`; every
/// answer checked against the host's.
fn measure(bytes: &[u8], words: &[String]) -> Measured {
    let spec = BoardKind::Mps2An386.spec();
    let elf = build_firmware(&spec).expect("firmware builds");
    spec.check_fits(bytes).unwrap();
    let (_file, mut emu) = boot(&spec, &elf, bytes, true);
    let mut dev = emu.client(TIMEOUT).expect("the board answers");
    let want = host_lines(bytes, words);
    let field = |line: &str, key: &str| -> u64 {
        let parts: Vec<&str> = line.split(' ').collect();
        let at = parts.iter().position(|w| *w == key).unwrap();
        parts[at + 1].parse().unwrap()
    };
    let mut m = Measured {
        chars: 0,
        steps: 0,
        instructions: Vec::new(),
        stack: String::new(),
    };
    for (word, want) in words.iter().zip(&want) {
        let got = dev.command(&format!("pronounce {word}")).unwrap();
        assert_eq!(got, std::slice::from_ref(want));
        let stats = dev.command("stats").unwrap();
        m.chars += field(&stats[0], "chars");
        m.steps += field(&stats[0], "steps");
        m.instructions.push(field(&stats[1], "instructions"));
        m.stack = stats[2].clone();
    }
    m.instructions.sort();
    m
}

/// By hand (`cargo test -p micrornn-tests --test pronounce_qemu -- --ignored --nocapture`):
/// instructions per pronounced word on the Cortex-M4F under `-icount shift=0` (`stats`
/// after each `pronounce`: the model's load from the store, encoder and decoder), on 40
/// words. With `MICRORNN_PRONOUNCE_MODEL=M.mrnn`: that model, and the words of
/// `MICRORNN_PRONOUNCE_WORDS` (one a line, default the test words). Without: two random
/// models of the default shape (GRU, 1 layer, H 256, E 32, 69 phonemes), one whose words
/// end at once (boundary bias +20: the encoder and one decoder step) and one whose words
/// never end (−20: the encoder and 32 steps), which give the cost of a decoder step and of
/// the rest.
#[test]
#[ignore]
fn instructions_per_word_on_the_m4f() {
    let mut words = words(40, 99);
    if let Ok(path) = std::env::var("MICRORNN_PRONOUNCE_MODEL") {
        let bytes = std::fs::read(path).unwrap();
        let model = Model::load(&bytes).unwrap();
        if let Ok(list) = std::env::var("MICRORNN_PRONOUNCE_WORDS") {
            let text = std::fs::read_to_string(list).unwrap();
            words = text.lines().map(|l| l.trim().to_string()).collect();
        }
        words.retain(|w| {
            w.chars()
                .all(|c| model.vocab.token(c.to_ascii_lowercase()).is_ok())
        });
        let m = measure(&bytes, &words);
        eprintln!(
            "{} words ({} characters, {} decoder steps), {} B model, RAM {} B: instructions \
             per word mean {}, min {}, median {}, max {}; {}",
            words.len(),
            m.chars,
            m.steps,
            bytes.len(),
            model.ram_bytes(),
            m.mean(),
            m.instructions[0],
            m.instructions[m.instructions.len() / 2],
            m.instructions[m.instructions.len() - 1],
            m.stack
        );
        return;
    }
    let mut runs = Vec::new();
    for boundary in [20.0, -20.0] {
        let bytes = exported_model_with(CellKind::Gru, 1, 256, 32, 1, boundary);
        runs.push((measure(&bytes, &words), bytes));
    }
    let (short, long) = (&runs[0].0, &runs[1].0);
    assert_eq!((short.steps, long.steps), (40, 40 * 32));
    let step = (long.mean() - short.mean()) / 31;
    let model = Model::load(&runs[0].1).unwrap();
    eprintln!(
        "default shape, {} B model, RAM {} B, {} words of {:.1} characters on average: \
         instructions per decoder step {step}; per word without its decoder steps {}; \
         a word of 7 phonemes (8 decoder steps) {}; {}",
        runs[0].1.len(),
        model.ram_bytes(),
        words.len(),
        short.chars as f64 / words.len() as f64,
        short.mean() - step,
        short.mean() - step + 8 * step,
        long.stack
    );
}
