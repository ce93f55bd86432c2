//! Soak on the emulated Cortex-M0 (micro:bit under QEMU): 2,000 commands mixing `gen`
//! with random settings (each checked against the host's names), `classify` of random
//! names (the host's lines while a classifier serves, the error while the generator
//! does), hostile lines (overlong, binary, sent in pieces, terminal escape sequences),
//! interrupted uploads, and whole uploads that switch the served model (the classifier
//! serves in the middle third). Afterwards `gen` still gives the host's names and the
//! stack peak has not grown past what a warm-up of every kind with both models reached.
//! Needs qemu-system-arm. The counts go to stderr:
//! `cargo test -p micrornn-tests --test soak_qemu -- --nocapture`.

use std::path::Path;
use std::time::{Duration, Instant};

use micrornn::format::{CellKind, Task};
use micrornn::rng::Rng;
use micrornn::sampler::Settings;
use micrornn_tests::{small_labelled, small_names, tiny_config, train_tiny};
use micrornn_trainer::device::boards::BoardKind;
use micrornn_trainer::device::client::{milli_to_decimal, DeviceClient};
use micrornn_trainer::device::emulator::{build_firmware, Emulator};
use micrornn_trainer::device::upload::send;
use micrornn_trainer::eval::classifier::classify_names;
use micrornn_trainer::eval::host_model::{generate_names, HostModel};
use micrornn_trainer::train::config::TrainConfig;

const TIMEOUT: Duration = Duration::from_secs(60);
/// Commands in the soak (after the warm-up).
const COMMANDS: usize = 2000;

/// The kinds of command, in the order of the report (the last is not drawn at random: it
/// switches the served model between the generator and the classifier).
const KINDS: [&str; 8] = [
    "gen",
    "classify",
    "overlong",
    "binary",
    "in pieces",
    "escapes",
    "upload cut",
    "upload whole",
];

/// The reply to what was sent: the lines before the last, and the last (`ok` or `err …`).
fn reply(dev: &mut DeviceClient) -> (Vec<String>, String) {
    let mut lines = Vec::new();
    loop {
        let l = dev
            .read_line_within(TIMEOUT)
            .unwrap()
            .expect("the board answers");
        if l == "ok" || l.starts_with("err ") {
            return (lines, l);
        }
        lines.push(l);
    }
}

/// Sends `bytes` and a line end; returns the reply.
fn send_line(dev: &mut DeviceClient, bytes: &[u8]) -> (Vec<String>, String) {
    let mut line = bytes.to_vec();
    line.push(b'\n');
    dev.send_raw(&line).unwrap();
    reply(dev)
}

/// The soak's world: the two models, which one serves, its characters and the device.
struct Soak<'a> {
    dev: DeviceClient,
    generator: &'a [u8],
    classifier: &'a [u8],
    /// The classifier on the host (its answers are the expected ones).
    host_classifier: HostModel,
    /// Whether the classifier serves (else the generator).
    classifying: bool,
    chars: Vec<char>,
    rng: Rng,
    counts: [usize; 8],
    /// Seconds spent on each kind.
    seconds: [f64; 8],
}

/// The characters of a model's vocabulary.
fn vocab_chars(model: &[u8]) -> Vec<char> {
    let m = micrornn::Model::load(model).unwrap();
    m.vocab.chars().chars().collect()
}

impl Soak<'_> {
    /// The model the device serves.
    fn model(&self) -> &[u8] {
        match self.classifying {
            true => self.classifier,
            false => self.generator,
        }
    }

    /// Uploads the other model in full (`micrornn device upload`'s client) and checks that
    /// the device serves it.
    fn switch(&mut self) {
        self.classifying = !self.classifying;
        let bytes = self.model().to_vec();
        send(&mut self.dev, &bytes, false, TIMEOUT, &mut ()).unwrap();
        let info = self.dev.command("info").unwrap();
        let crc = format!("crc {:08x}", micrornn::format::model_crc(&bytes));
        assert!(info.iter().any(|l| l.contains(&crc)), "{info:?}");
        self.chars = vocab_chars(&bytes);
    }

    fn pick(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    /// A character of the model's vocabulary.
    fn random_char(&mut self) -> char {
        let i = self.pick(self.chars.len() as u64) as usize;
        self.chars[i]
    }

    /// A `gen` line with random settings, and the host's answer (names, or an error).
    fn random_gen(&mut self) -> (String, Result<Vec<String>, String>) {
        let count = 1 + self.pick(3) as usize;
        let seed = self.pick(1 << 40);
        let s = Settings {
            temperature_milli: 100 + self.pick(2400) as u32,
            top_k: self.pick(12) as u16,
            min_p_milli: [0, self.pick(300) as u32][self.pick(2) as usize],
            max_len: 1 + self.pick(30) as u16,
        };
        let prefix: String = (0..self.pick(3)).map(|_| self.random_char()).collect();
        let mut line = format!(
            "gen {count} seed={seed} temp={} topk={} minp={} maxlen={}",
            milli_to_decimal(s.temperature_milli),
            s.top_k,
            milli_to_decimal(s.min_p_milli),
            s.max_len
        );
        if !prefix.is_empty() {
            line += &format!(" prefix={prefix}");
        }
        let want = match self.classifying {
            true => Err("this model is a classifier: use classify NAME".to_string()),
            false => {
                generate_names(self.model(), seed, &s, &prefix, count).map_err(|e| e.to_string())
            }
        };
        (line, want)
    }

    /// Checks a `gen` reply against the host's answer.
    fn check_gen(line: &str, got: (Vec<String>, String), want: Result<Vec<String>, String>) {
        match want {
            Ok(names) => assert_eq!((got.0, got.1.as_str()), (names, "ok"), "{line}"),
            Err(e) => {
                assert!(
                    got.0.is_empty() && got.1.starts_with("err "),
                    "{line}: {got:?}"
                );
                assert!(
                    e.contains(&got.1[4..]),
                    "{line}: host {e}, device {}",
                    got.1
                );
            }
        }
    }

    fn gen(&mut self) {
        let (line, want) = self.random_gen();
        let got = send_line(&mut self.dev, line.as_bytes());
        Soak::check_gen(&line, got, want);
    }

    /// One to four random names: the host's lines on a classifier, the error on a
    /// generator.
    fn classify(&mut self) {
        let names: Vec<String> = (0..1 + self.pick(4))
            .map(|_| (0..1 + self.pick(14)).map(|_| self.random_char()).collect())
            .collect();
        let line = format!("classify {}", names.join(" "));
        let (lines, last) = send_line(&mut self.dev, line.as_bytes());
        if !self.classifying {
            assert!(lines.is_empty(), "{lines:?}");
            assert_eq!(
                last,
                "err this model generates names: classify needs a classifier"
            );
            return;
        }
        let labels = self.host_classifier.labels();
        let want: Vec<String> = classify_names(&self.host_classifier, &names)
            .unwrap()
            .iter()
            .zip(&names)
            .map(|((v, _), n)| format!("{n} {} {}", labels[v.label], v.prob_str(&mut [0; 6])))
            .collect();
        assert_eq!((lines, last.as_str()), (want, "ok"), "{line}");
    }

    fn overlong(&mut self) {
        let n = 128 + self.pick(400) as usize;
        let line: Vec<u8> = (0..n).map(|_| b'a' + self.pick(26) as u8).collect();
        let (lines, last) = send_line(&mut self.dev, &line);
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(last, "err line too long (max 127 bytes)");
    }

    /// Random bytes that no command starts with (the first is not ASCII), without line
    /// ends or erasing keys.
    fn binary(&mut self) {
        let n = 1 + self.pick(100) as usize;
        let mut line = vec![0x80 + self.pick(0x80) as u8];
        while line.len() < n {
            let b = self.pick(256) as u8;
            if !matches!(b, b'\r' | b'\n' | 0x08 | 0x7f) {
                line.push(b);
            }
        }
        let (lines, last) = send_line(&mut self.dev, &line);
        assert!(lines.is_empty(), "{lines:?}");
        assert!(last.starts_with("err "), "{last}");
        assert_no_raw_controls(&last);
    }

    /// A `gen` line sent in two to four pieces with pauses between them.
    fn in_pieces(&mut self) {
        let (line, want) = self.random_gen();
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        let mut cuts: Vec<usize> = (0..1 + self.pick(3))
            .map(|_| self.pick(bytes.len() as u64) as usize)
            .collect();
        cuts.extend([0, bytes.len()]);
        cuts.sort();
        for w in cuts.windows(2) {
            self.dev.send_raw(&bytes[w[0]..w[1]]).unwrap();
            std::thread::sleep(Duration::from_millis(1 + self.pick(5)));
        }
        Soak::check_gen(&line, reply(&mut self.dev), want);
    }

    /// Terminal escape sequences where a command or a setting goes.
    fn escapes(&mut self) {
        const SEQUENCES: [&str; 5] = [
            "\x1b[2J\x1b[H",
            "\x1b]0;title\x07",
            "\x1b[31mred\x1b[0m",
            "\u{9b}6n",
            "\x1bc\x00\x01\x02",
        ];
        let seq = SEQUENCES[self.pick(SEQUENCES.len() as u64) as usize];
        let line = match self.pick(2) {
            0 => seq.to_string(),
            _ => format!("set {seq} 1"),
        };
        let (lines, last) = send_line(&mut self.dev, line.as_bytes());
        assert!(lines.is_empty(), "{lines:?}");
        assert!(
            last.starts_with("err unknown command") || last.starts_with("err unknown setting"),
            "{last}"
        );
        assert_no_raw_controls(&last);
    }

    /// An upload of the served model begun, `acked` chunks sent, maybe a damaged one, then
    /// cut by a line that is not a chunk: the device gives it up and the old model serves.
    fn upload_cut(&mut self) {
        let m = self.model().to_vec();
        let m = &m[..];
        let crc = micrornn::format::model_crc(m);
        let line = format!("upload {} {crc:08x}\n", m.len());
        self.dev.send_raw(line.as_bytes()).unwrap();
        let ready = self.dev.read_line_within(TIMEOUT).unwrap().unwrap();
        let chunk: usize = ready
            .strip_prefix("ready ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{ready}"));
        let whole = m.len().div_ceil(chunk);
        let acked = self.pick(whole.min(3) as u64) as usize;
        let mut out = vec![0u8; micrornn::upload::chunk_line_len(chunk)];
        for i in 0..acked {
            let data = &m[i * chunk..((i + 1) * chunk).min(m.len())];
            let n = micrornn::upload::chunk_line(i as u32 * chunk as u32, data, &mut out).unwrap();
            self.dev.send_raw(&out[..n]).unwrap();
            let ack = self.dev.read_line_within(TIMEOUT).unwrap().unwrap();
            assert_eq!(ack, format!("ack {}", i * chunk));
        }
        if self.pick(2) == 1 {
            // A chunk damaged on the way: refused, the device asks for the same offset.
            let at = acked * chunk;
            let data = &m[at..(at + chunk).min(m.len())];
            let n = micrornn::upload::chunk_line(at as u32, data, &mut out).unwrap();
            // (Not the `:` nor the CR LF that ends the line.)
            let flip = 1 + self.pick(n as u64 - 3) as usize;
            out[flip] = if out[flip] == b'A' { b'B' } else { b'A' };
            self.dev.send_raw(&out[..n]).unwrap();
            let nak = self.dev.read_line_within(TIMEOUT).unwrap().unwrap();
            assert!(nak.starts_with(&format!("nak {at} ")), "{nak}");
        }
        // The cut: what comes next is a command, not a chunk.
        let (lines, last) = send_line(&mut self.dev, b"gen 1");
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(last, "err upload abandoned: a line that is not a chunk");
    }
}

/// A reply line as `DeviceClient` gives it has every control byte the device sent shown
/// as `\xNN` and every backslash doubled: a device that escapes its replies shows only
/// doubled backslashes before an `x`.
fn assert_no_raw_controls(line: &str) {
    let single = line.replace(r"\\", "");
    assert!(
        !single.contains(r"\x"),
        "the device sent a raw control byte: {line}"
    );
}

/// The `stack_peak` figure of `stats`.
fn stack_peak(dev: &mut DeviceClient) -> usize {
    let stats = dev.command("stats").unwrap();
    let line = stats.iter().find(|l| l.starts_with("stack_peak")).unwrap();
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

fn model(dir: &Path) -> Vec<u8> {
    let data = small_names(dir, 2000, 29);
    let (paths, _) = train_tiny(dir, "m", &data, tiny_config(21, 2, 1));
    std::fs::read(paths.out).unwrap()
}

/// A small GRU classifier, written to `dir/c.mrnn`.
fn classifier(dir: &Path) -> Vec<u8> {
    let data = small_labelled(dir, 2000, 31);
    let config = TrainConfig {
        task: Task::Classify,
        cell: CellKind::Gru,
        hidden: 16,
        embed: 8,
        ..tiny_config(22, 2, 1)
    };
    let (paths, _) = train_tiny(dir, "c", &data, config);
    std::fs::read(paths.out).unwrap()
}

#[test]
fn microbit_soak_of_2000_commands() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = model(dir.path());
    let path = dir.path().join("m.mrnn");
    let classifier = classifier(dir.path());
    let host_classifier = HostModel::open(&dir.path().join("c.mrnn")).unwrap();
    let spec = BoardKind::Microbit.spec();
    spec.check_fits(&bytes).unwrap();
    spec.check_fits(&classifier).unwrap();
    let elf = build_firmware(&spec).expect("firmware builds");
    let mut emu = Emulator::boot(&spec, &elf, Some(&path), false).expect("QEMU boots");
    let dev = emu.client(TIMEOUT).expect("the board answers");
    let mut soak = Soak {
        dev,
        generator: &bytes,
        classifier: &classifier,
        host_classifier,
        classifying: false,
        chars: vocab_chars(&bytes),
        rng: Rng::new(12),
        counts: [0; 8],
        seconds: [0.0; 8],
    };
    let run = |soak: &mut Soak, kind: usize| {
        let start = Instant::now();
        match kind {
            0 => soak.gen(),
            1 => soak.classify(),
            2 => soak.overlong(),
            3 => soak.binary(),
            4 => soak.in_pieces(),
            5 => soak.escapes(),
            6 => soak.upload_cut(),
            _ => soak.switch(),
        }
        soak.counts[kind] += 1;
        soak.seconds[kind] += start.elapsed().as_secs_f64();
    };
    // Warm-up: each kind a few times with each model, so that the stack peak has seen
    // every path.
    for _ in 0..2 {
        for _ in 0..3 {
            for kind in 0..7 {
                run(&mut soak, kind);
            }
        }
        run(&mut soak, 7);
    }
    let warm_up = soak.counts.iter().sum::<usize>();
    let peak_before = stack_peak(&mut soak.dev);
    let start = Instant::now();
    // The weights of the kinds: gen 43 %, classify 10 %, the hostile ones 44 %, cut
    // uploads 3 % (each erases a slot: the slowest kind).
    const WEIGHTS: [u64; 7] = [43, 10, 12, 12, 10, 10, 3];
    for i in 0..COMMANDS {
        // The classifier serves in the middle third.
        if i == COMMANDS / 3 || i == 2 * COMMANDS / 3 {
            run(&mut soak, 7);
        }
        let mut r = soak.pick(100);
        let kind = WEIGHTS
            .iter()
            .position(|&w| {
                let hit = r < w;
                r = r.saturating_sub(w);
                hit
            })
            .unwrap();
        run(&mut soak, kind);
    }
    let seconds = start.elapsed().as_secs_f64();
    let want = generate_names(&bytes, 7, &Settings::default(), "", 20).unwrap();
    assert_eq!(soak.dev.command("gen 20 seed=7").unwrap(), want);
    let peak_after = stack_peak(&mut soak.dev);
    let counts: Vec<String> = KINDS
        .iter()
        .zip(soak.counts.iter().zip(soak.seconds))
        .map(|(k, (n, s))| format!("{k} {n} ({s:.1} s)"))
        .collect();
    eprintln!(
        "soak on the micro:bit: {} commands ({} warm-up): {}; stack peak {peak_before} B \
         after the warm-up, {peak_after} B after the soak; {seconds:.1} s",
        soak.counts.iter().sum::<usize>(),
        warm_up,
        counts.join(", ")
    );
    assert_eq!(peak_after, peak_before, "the stack peak grew");
}
