//! `micrornn device … upload`, run as a user runs it, against a device simulated in this
//! process: the shared session over a simulated NOR flash, served on a local TCP port as
//! QEMU serves a board's UART. The line between them can lose a chunk line, flip a bit,
//! hang up, or go slowly (for Ctrl-C).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use micrornn::cell::{FloatLayer, FloatWeights, MAX_LAYERS};
use micrornn::format::CellKind;
use micrornn::session::{BoardInfo, Buffers, Platform, Session};
use micrornn::store::sim::SimFlash;
use micrornn::store::ModelStore;
use micrornn::Task;
use micrornn_trainer::device::upload::model_crc;
use micrornn_trainer::export::quantize::export;

mod common;
use common::{assert_clean_error, micrornn, stderr, tmp_dir};

/// The simulated flash: 64 KiB, 1 KiB pages, 4-byte words (the nRF51's geometry).
type Flash = SimFlash<65536, 1024, 4>;

/// Words of the simulated device's arena (as the micro:bit: 1 KiB).
const ARENA_WORDS: usize = 256;
/// Outputs its logits buffer holds.
const OUTPUTS: usize = 96;

/// What the line between the program and the device does to the program's bytes.
#[derive(Clone, Copy, Debug, Default)]
struct Line {
    /// Lose this chunk line (0-based) entirely, once: the program hears nothing back.
    lose_chunk: Option<usize>,
    /// Flip one bit of this chunk line, once: the device refuses it.
    flip_chunk: Option<usize>,
    /// Hang up in the upload with this number (1 = the first) after this many bytes of
    /// its chunk lines.
    hang_up: Option<(usize, usize)>,
    /// Deliver at most 64 bytes per this long (a slow line).
    slow: Option<Duration>,
}

/// A simulated device listening on a local port; it keeps its flash across connections.
struct Device {
    port: String,
    /// `upload` commands the device received.
    uploads: Arc<AtomicUsize>,
}

fn start_device(line: Line) -> Device {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", listener.local_addr().unwrap());
    let uploads = Arc::new(AtomicUsize::new(0));
    let counter = uploads.clone();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || serve(listener, line, &counter))
        .unwrap();
    Device { port, uploads }
}

struct Clock(Instant);

impl Platform for Clock {
    fn ticks(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
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

/// The device: one session, its connections one after the other. Like a board, it goes
/// on (and times out an upload) while no one is connected.
fn serve(listener: TcpListener, line: Line, uploads: &AtomicUsize) {
    let mut flash = Box::new(Flash::new());
    let (mut arena, mut logits) = (vec![0i32; ARENA_WORDS], vec![0i32; OUTPUTS]);
    let info = BoardInfo {
        board: "sim",
        firmware: "test",
        partition_addr: 0x1000,
        partition_len: 65536,
    };
    let buffers = Buffers {
        arena: &mut arena,
        logits: &mut logits,
    };
    let mut session = Session::new(ModelStore::open(&mut *flash), buffers, info);
    let board = Clock(Instant::now());
    listener.set_nonblocking(true).unwrap();
    let mut io = Io {
        stream: None,
        line,
        inbox: VecDeque::new(),
        chunk_lines: 0,
        chunk_bytes: 0,
        at_line_start: true,
        in_chunk: false,
        skip_lf: false,
        uploads,
        text: Vec::new(),
    };
    loop {
        if io.stream.is_none() {
            if let Ok((stream, _)) = listener.accept() {
                stream.set_nonblocking(true).unwrap();
                (io.stream, io.at_line_start, io.in_chunk) = (Some(stream), true, false);
                session.banner(&mut io);
            }
        }
        io.fill();
        session.poll(&mut io, &board);
        std::thread::sleep(io.line.slow.unwrap_or(Duration::from_micros(200)));
    }
}

/// The device's end of the line, with the line's faults.
struct Io<'a> {
    /// The connection, if one is open.
    stream: Option<TcpStream>,
    line: Line,
    /// Bytes that came through the line, for the session.
    inbox: VecDeque<u8>,
    chunk_lines: usize,
    chunk_bytes: usize,
    at_line_start: bool,
    in_chunk: bool,
    /// Drop the LF after a lost line's CR.
    skip_lf: bool,
    uploads: &'a AtomicUsize,
    /// The current command line (to count `upload` commands).
    text: Vec<u8>,
}

impl Io<'_> {
    /// Takes what the program sent (64 bytes at most on a slow line) through the line.
    fn fill(&mut self) {
        let Some(stream) = &mut self.stream else {
            return;
        };
        let mut buf = [0u8; 4096];
        let max = if self.line.slow.is_some() { 64 } else { 4096 };
        let n = match stream.read(&mut buf[..max]) {
            Ok(0) => return self.stream = None,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => return self.stream = None,
        };
        for &b in &buf[..n] {
            if self.stream.is_some() {
                self.pass(b);
            }
        }
    }

    /// One byte through the line.
    fn pass(&mut self, b: u8) {
        let end = b == b'\r' || b == b'\n';
        if std::mem::take(&mut self.skip_lf) && b == b'\n' {
            return;
        }
        if self.at_line_start && !end {
            self.in_chunk = b == b':';
        }
        self.at_line_start = end;
        if !self.in_chunk {
            if !end {
                self.text.push(b);
            } else if std::mem::take(&mut self.text).starts_with(b"upload ") {
                self.uploads.fetch_add(1, Ordering::SeqCst);
                self.chunk_bytes = 0;
            }
            return self.inbox.push_back(b);
        }
        let nth = Some(self.chunk_lines);
        if end {
            self.chunk_lines += 1;
            self.in_chunk = false;
        }
        self.chunk_bytes += 1;
        let upload = self.uploads.load(Ordering::SeqCst);
        if self
            .line
            .hang_up
            .is_some_and(|(u, n)| u == upload && self.chunk_bytes > n)
        {
            self.stream = None; // hung up
            return;
        }
        if self.line.lose_chunk == nth {
            if end {
                (self.line.lose_chunk, self.skip_lf) = (None, b == b'\r');
            }
            return;
        }
        let flip = self.line.flip_chunk == nth && (b ^ 1).is_ascii_alphanumeric();
        if flip && b.is_ascii_alphanumeric() {
            self.line.flip_chunk = None;
            return self.inbox.push_back(b ^ 1);
        }
        self.inbox.push_back(b);
    }
}

impl embedded_io::ErrorType for Io<'_> {
    type Error = std::convert::Infallible;
}

impl embedded_io::Read for Io<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        match (buf.first_mut(), self.inbox.pop_front()) {
            (Some(slot), Some(b)) => {
                *slot = b;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl embedded_io::ReadReady for Io<'_> {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.inbox.is_empty())
    }
}

impl embedded_io::Write for Io<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if let Some(stream) = &mut self.stream {
            stream.set_nonblocking(false).ok();
            if stream.write_all(buf).is_err() {
                self.stream = None;
            } else {
                stream.set_nonblocking(true).ok();
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A random-weight generator over `a`…`z` (its file size grows with `hidden`).
fn model(cell: CellKind, hidden: usize, seed: u64) -> Vec<u8> {
    let chars = "abcdefghijklmnopqrstuvwxyz";
    let v = chars.len() + 2;
    let g = cell.gates() * hidden;
    let mut rng = micrornn::rng::Rng::new(seed);
    let mut r = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) / (hidden as f32).sqrt())
            .collect()
    };
    let (w_x, b_x, w_h, b_h, w_out, b_out) =
        (r(v * g), r(g), r(g * hidden), r(g), r(v * hidden), r(v));
    let mut layers = [FloatLayer::default(); MAX_LAYERS];
    layers[0] = FloatLayer {
        w_x: &w_x,
        b_x: &b_x,
        w_h: &w_h,
        b_h: &b_h,
    };
    let w = FloatWeights {
        cell,
        vocab: v,
        hidden,
        embed: 0,
        outputs: v,
        n_layers: 1,
        emb: &[],
        layers,
        w_out: &w_out,
        b_out: &b_out,
    };
    export(&w, Task::Generate, chars, &[]).unwrap()
}

/// A random-weight word classifier (GRU 8, embedding 4, 11 words, ham/spam).
fn word_model(seed: u64) -> Vec<u8> {
    let words = "!\n$\n<NUM>\n<URL>\nbuy\nfree\nmeeting\nmoney\nnow\npatch\nthe";
    let (v, e, h, o) = (13, 4, 8, 2);
    let g = CellKind::Gru.gates() * h;
    let mut rng = micrornn::rng::Rng::new(seed);
    let mut r = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| rng.next_u32() as f32 / u32::MAX as f32 - 0.5)
            .collect()
    };
    let (emb, w_x, b_x, w_h, b_h, w_out, b_out) =
        (r(v * e), r(g * e), r(g), r(g * h), r(g), r(o * h), r(o));
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
        outputs: o,
        n_layers: 1,
        emb: &emb,
        layers,
        w_out: &w_out,
        b_out: &b_out,
    };
    let labels = ["ham".to_string(), "spam".to_string()];
    export(&w, Task::ClassifyWords { max_words: 6 }, words, &labels).unwrap()
}

/// Model files written once: (folder).
fn files() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp_dir("upload_cli");
        let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
        write("a.mrnn", model(CellKind::Rnn, 32, 1));
        write("words.mrnn", word_model(6));
        write("b.mrnn", model(CellKind::Gru, 24, 2));
        write("slow.mrnn", model(CellKind::Rnn, 96, 3)); // ~12 KB
        write("big.mrnn", model(CellKind::Rnn, 180, 4)); // > a 32 KiB slot
        write("ram.mrnn", model(CellKind::Lstm, 200, 5)); // needs more than 1 KiB of RAM
        write(
            "garbage.mrnn",
            (0..2000u32).map(|i| (i * 31 % 253) as u8).collect(),
        );
        dir
    })
}

fn file(name: &str) -> String {
    files().join(name).to_str().unwrap().to_string()
}

fn upload(dev: &Device, extra: &[&str]) -> Output {
    let mut args = vec!["device", "--port", &dev.port, "--timeout", "10", "upload"];
    args.extend_from_slice(extra);
    micrornn(&args)
}

fn info(dev: &Device) -> String {
    let o = micrornn(&["device", "--port", &dev.port, "info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// The `slot …` line of `info`.
fn slot_line(info: &str) -> &str {
    info.lines().find(|l| l.starts_with("slot ")).unwrap()
}

fn crc_of(name: &str) -> String {
    let bytes = std::fs::read(file(name)).unwrap();
    format!("{:08x}", model_crc(&bytes))
}

#[test]
fn uploads_refusals_and_force() {
    let dev = start_device(Line::default());
    assert_eq!(slot_line(&info(&dev)), "slot none");

    let o = upload(&dev, &[&file("a.mrnn")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        out.starts_with("model rnn hidden 32 layers 1 generate"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1);
    assert!(
        stderr(&o).contains("0 sent again); slot a seq "),
        "{}",
        stderr(&o)
    );
    let i = info(&dev);
    assert_eq!(
        slot_line(&i),
        format!("slot a seq 1 crc {}", crc_of("a.mrnn")),
        "{i}"
    );

    // Served already: refused before an `upload` command; --force sends it again.
    let o = upload(&dev, &[&file("a.mrnn")]);
    assert_clean_error(&o, "already serves");
    assert!(stderr(&o).contains("--force"));
    assert_eq!(dev.uploads.load(Ordering::SeqCst), 1);
    let o = upload(&dev, &[&file("a.mrnn"), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(slot_line(&info(&dev)).starts_with("slot b seq 2 "));

    // Refused before a byte of the model: each with its reason.
    let cases = [
        ("garbage.mrnn", "garbage.mrnn is not a model: "),
        ("ram.mrnn", "ram.mrnn does not fit sim: "),
        ("big.mrnn", "bytes; a slot of sim holds "),
        ("missing.mrnn", "cannot read "),
    ];
    for (name, needle) in cases {
        assert_clean_error(&upload(&dev, &[&file(name)]), needle);
    }
    assert_eq!(dev.uploads.load(Ordering::SeqCst), 2);
    assert!(slot_line(&info(&dev)).starts_with("slot b seq 2 "));

    // --single-slot takes the big model.
    let o = upload(&dev, &[&file("big.mrnn"), "--single-slot"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        slot_line(&info(&dev)),
        format!("slot single seq 3 crc {}", crc_of("big.mrnn"))
    );
    let o = upload(&dev, &[&file("b.mrnn")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("model gru hidden 24 "));
}

#[test]
fn a_lost_chunk_and_a_flipped_bit_are_sent_again() {
    let dev = start_device(Line {
        lose_chunk: Some(2),
        flip_chunk: Some(4),
        ..Line::default()
    });
    let o = upload(&dev, &[&file("slow.mrnn")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 sent again); slot a seq 1"),
        "{}",
        stderr(&o)
    );
    let i = info(&dev);
    assert_eq!(
        slot_line(&i),
        format!("slot a seq 1 crc {}", crc_of("slow.mrnn"))
    );
}

#[test]
fn a_hang_up_keeps_the_old_model() {
    let dev = start_device(Line {
        hang_up: Some((2, 3000)),
        ..Line::default()
    });
    let o = upload(&dev, &[&file("a.mrnn")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = upload(&dev, &[&file("slow.mrnn")]);
    assert_clean_error(&o, "closed the connection");
    assert!(
        stderr(&o).contains("the device keeps its old model"),
        "{}",
        stderr(&o)
    );
    // The device gives up after its 3 s; A serves.
    std::thread::sleep(Duration::from_millis(3500));
    let i = info(&dev);
    assert_eq!(
        slot_line(&i),
        format!("slot a seq 1 crc {}", crc_of("a.mrnn"))
    );
}

#[test]
fn ctrl_c_ends_with_one_error_line() {
    let dev = start_device(Line {
        slow: Some(Duration::from_millis(4)),
        ..Line::default()
    });
    let child = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["device", "--port", &dev.port, "upload", &file("slow.mrnn")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while dev.uploads.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no upload began");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_clean_error(&o, "interrupted by Ctrl-C: upload failed at ");
    assert!(
        stderr(&o).contains("the device keeps its"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn device_classify_gives_the_host_lines_for_a_word_model() {
    let dev = start_device(Line::default());
    let o = upload(&dev, &[&file("words.mrnn")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let texts = [
        "FREE money now!!! buy $$$ http://x.example",
        "",
        "Re: the patch for the meeting, 10 am",
        "the the the the the the the the now",
    ];
    let lines = files().join("words.txt");
    std::fs::write(&lines, texts.join("\n") + "\n").unwrap();
    let lines = lines.to_str().unwrap();
    let host = micrornn(&["classify", "--model", &file("words.mrnn"), "--file", lines]);
    assert!(host.status.success(), "{}", stderr(&host));
    let host = String::from_utf8(host.stdout).unwrap();
    assert_eq!(host.lines().count(), texts.len(), "{host}");
    let device = |extra: &[&str]| {
        let mut args = vec!["device", "--port", &dev.port, "--timeout", "10", "classify"];
        args.extend_from_slice(extra);
        let o = micrornn(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(device(&["--file", lines]), host);
    let one = device(&["--text", texts[2], "--text", texts[0]]);
    let want: Vec<&str> = host.lines().collect();
    assert_eq!(one, format!("{}\n{}\n", want[2], want[0]));
    let o = micrornn(&["device", "--port", &dev.port, "classify"]);
    assert_clean_error(&o, "nothing to classify");
}

#[test]
fn help_names_every_flag() {
    let o = micrornn(&["device", "--port", "x", "upload", "--help"]);
    let help = String::from_utf8(o.stdout).unwrap();
    for needle in [
        "<M.mrnn>",
        "--force",
        "same CRC",
        "--single-slot",
        "whole partition",
    ] {
        assert!(help.contains(needle), "{help}");
    }
}
