//! The serial session (`micrornn::session::Session`) on any byte stream, with a valid
//! model in a simulated NOR flash partition, as a board runs it.
//!
//! Input: one byte of setup (bit 0: the classifier is served instead of the generator;
//! bit 1: the store starts empty; bit 2: a small arena that fits fewer models), then the
//! bytes typed on the serial line. A NUL byte starts an operation of the harness:
//!
//! | bytes | operation |
//! |---|---|
//! | `00 00` | a NUL byte typed |
//! | `00 'w' n` | `n` × 100 ms pass (an upload waiting that long is abandoned) |
//! | `00 'j' n` | the next `n` bytes arrive at once (input during a reply stops it) |
//! | `00 'u' k d` | the host uploads a model (`k`: which, and how; `d`: a chunk damaged or cut) |
//! | `00 'r'` | the board resets (the store is opened again from the flash) |
//!
//! Otherwise each line (up to its CR or LF) arrives on its own. For every line whose
//! state is known (echo on or off, the start of a line), the harness checks the output:
//! the echo is the typed bytes (backspace erasing), a blank line gets no reply, and any
//! other reply ends with a line `ok` or `err …` (or `ready N` that starts an upload); no
//! reply line holds a control character (the session escapes what it quotes). A reply
//! that runs long (a `gen` of thousands of names) is interrupted by a byte arriving, as a
//! user would, so that every run is short.

#![no_main]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use micrornn::format;
use micrornn::protocol::{parse, Command, GenSettings};
use micrornn::session::{BoardInfo, Buffers, Session, MAX_LINE};
use micrornn::store::ModelStore;
use micrornn::upload::{chunk_line, chunk_line_len, command, Event, Request, Sender};

// The flash and the clock (moved by the harness, 1000 ticks per second, noting resets) of
// the library's session tests.
#[path = "../../shared/tests/session_common/mod.rs"]
mod session_common;

use session_common::{Clock, Flash};

/// A generator: RNN, 8 units, 26 letters (trained by `micrornn train`, 1 epoch).
const GENERATOR: &[u8] = include_bytes!("../seeds/model_loader/g_rnn.mrnn");
/// A classifier: GRU, 2 units, vocabulary `abc`, labels `x`, `y`.
const CLASSIFIER: &[u8] = include_bytes!("../seeds/model_loader/t_cls.mrnn");

/// Output bytes after which a reply is interrupted by a typed byte.
const REPLY_BUDGET: usize = 8192;

const INFO: BoardInfo = BoardInfo {
    board: "fuzz",
    firmware: "fuzz 0",
    partition_addr: 0,
    partition_len: 65536,
};

/// Most resets one input may ask for.
const MAX_RESETS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut input)) = data.split_first() else {
        return;
    };
    let mut flash = Box::new(flash_with(setup & 3));
    let words = if setup & 4 != 0 { 70 } else { 256 };
    for boot in 0..=MAX_RESETS {
        let (mut arena, mut logits) = (vec![0i32; words], vec![0i32; 64]);
        let buffers = Buffers {
            arena: &mut arena,
            logits: &mut logits,
        };
        let mut h = Harness {
            session: Session::new(ModelStore::open(&mut *flash), buffers, INFO),
            serial: Serial::default(),
            clock: Clock::default(),
            echo: true,
            synced: true,
            after_cr: false,
            last_byte: 0,
        };
        h.session.banner(&mut h.serial);
        h.serial.take();
        match h.run(input) {
            Some(rest) if boot < MAX_RESETS => {
                h.reset();
                input = rest;
            }
            _ => {
                h.finish();
                break;
            }
        }
    }
});

/// A flash holding the generator (`which` 0), the classifier (1) in its first slot, as
/// a flasher leaves it, or nothing (built once).
fn flash_with(which: u8) -> Flash {
    static FLASHES: OnceLock<[Flash; 3]> = OnceLock::new();
    let all = FLASHES.get_or_init(|| {
        [Some(GENERATOR), Some(CLASSIFIER), None].map(|m| {
            let mut flash = Flash::new();
            let mut store = ModelStore::open(&mut flash);
            if let Some(m) = m {
                store
                    .begin(m.len() as u32, format::model_crc(m), false)
                    .expect("room");
                store.write(0, m).expect("written");
                store.commit().expect("a valid model");
            }
            flash
        })
    });
    all[(which as usize).min(2)].clone()
}

/// The board's side: the session, its serial line and clock, and what the harness knows
/// of the session's state.
struct Harness<'w> {
    session: Session<'w, &'w mut Flash>,
    serial: Serial,
    clock: Clock,
    /// Echo is on (valid when `synced`).
    echo: bool,
    /// The harness knows the echo state and the session is at the start of a line with
    /// nothing to discard.
    synced: bool,
    /// The last byte typed was CR (the session ignores an LF after it).
    after_cr: bool,
    /// The clock when the last byte was typed.
    last_byte: u64,
}

impl Harness<'_> {
    /// Types `input`, running the operations it holds, up to a reset: then returns the
    /// rest.
    fn run<'i>(&mut self, mut input: &'i [u8]) -> Option<&'i [u8]> {
        let mut text = Vec::new();
        while let Some((&b, rest)) = input.split_first() {
            input = rest;
            if b != 0 {
                text.push(b);
                if matches!(b, b'\r' | b'\n') {
                    self.line(&std::mem::take(&mut text));
                }
                continue;
            }
            let op = input.first().copied();
            if op == Some(0) {
                text.push(0);
                input = &input[1..];
                continue;
            }
            if !text.is_empty() {
                self.partial(&std::mem::take(&mut text));
            }
            let arg = |i: usize| input.get(i).copied().unwrap_or(0);
            match op {
                Some(b'w') => {
                    self.wait(arg(1) as u64 * 100);
                    input = input.get(2..).unwrap_or_default();
                }
                Some(b'j') => {
                    let n = (arg(1) as usize).min(input.len().saturating_sub(2));
                    let bytes = input.get(2..2 + n).unwrap_or_default();
                    self.partial(bytes);
                    input = input.get(2 + n..).unwrap_or_default();
                }
                Some(b'u') => {
                    self.upload(arg(1), arg(2));
                    input = input.get(3..).unwrap_or_default();
                }
                Some(b'r') => return Some(&input[1..]),
                _ => {} // a lone NUL: nothing
            }
        }
        if !text.is_empty() {
            self.partial(&text);
        }
        None
    }

    /// Delivers bytes and lets the session handle them; returns what it sent.
    fn deliver(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.serial.input.extend(bytes);
        self.serial.reply_start = self.serial.output.len();
        self.session.poll(&mut self.serial, &self.clock);
        if let Some(&last) = bytes.last() {
            self.after_cr = last == b'\r';
            self.last_byte = self.clock.now.get();
        }
        if self.serial.interrupted {
            self.serial.interrupted = false;
            self.synced = false;
        }
        self.serial.take()
    }

    /// Bytes whose effect the harness does not follow (part of a line, several lines).
    fn partial(&mut self, bytes: &[u8]) {
        self.deliver(bytes);
        self.synced = false;
    }

    /// One line, ending with CR or LF, typed on its own.
    fn line(&mut self, bytes: &[u8]) {
        let uploading = self.session.uploading();
        if !uploading && !self.synced {
            // The line's start is unknown: it is typed as it comes, then the state found.
            self.deliver(bytes);
            self.sync();
            return;
        }
        if uploading || (bytes == b"\n" && self.after_cr) {
            let out = self.deliver(bytes);
            if uploading && !self.session.uploading() {
                assert_has_terminal(&out);
                self.synced = false;
            }
            return;
        }
        // What the session holds and echoes when the line ends.
        let (mut line, mut echo, mut overflow) = (Vec::new(), Vec::new(), false);
        for &b in &bytes[..bytes.len() - 1] {
            match b {
                0x08 | 0x7f => {
                    if line.pop().is_some() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                _ if line.len() < MAX_LINE => {
                    line.push(b);
                    echo.push(b);
                }
                _ => overflow = true,
            }
        }
        let out = self.deliver(bytes);
        if !self.synced {
            // Interrupted by the reply budget: the reply ends with its err line.
            assert_has_terminal(&out);
            self.sync();
            return;
        }
        let mut reply: &[u8] = &out;
        if self.echo {
            echo.extend_from_slice(b"\r\n");
            assert!(
                out.starts_with(&echo),
                "echo {echo:?} of {bytes:?}: {out:?}"
            );
            reply = &out[echo.len()..];
        }
        let cmd = match std::str::from_utf8(&line) {
            Ok(text) if !overflow => parse(text, &GenSettings::default()).ok(),
            _ => None,
        };
        let prompt_after = match cmd {
            Some(Command::Echo(on)) => on,
            _ => self.echo,
        };
        if self.session.uploading() {
            // `upload` answered `ready N` (after a warning for a single slot): no prompt.
            assert!(
                matches!(cmd, Some(Command::Upload(_))),
                "{bytes:?}: {out:?}"
            );
            let last = reply.strip_suffix(b"\r\n").expect("a whole line");
            let last = &last[last.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..];
            assert!(last.starts_with(b"ready "), "{out:?}");
            check_no_control_in_replies(reply);
            return;
        }
        if prompt_after {
            reply = reply
                .strip_suffix(b"> ")
                .unwrap_or_else(|| panic!("no prompt after {bytes:?}: {out:?}"));
        }
        check_no_control_in_replies(reply);
        match cmd {
            Some(Command::Empty) => assert!(reply.is_empty(), "{bytes:?}: {out:?}"),
            _ => assert_terminal(reply, &out),
        }
        if let Some(Command::Echo(on)) = cmd {
            self.echo = on;
        }
    }

    /// Finds the session's state: ends any line, then reads the echo from a blank line.
    fn sync(&mut self) {
        for _ in 0..4 {
            if self.session.uploading() {
                self.wait(4000);
            }
            self.deliver(b"\r");
            if self.session.uploading() {
                continue; // that line was an upload command
            }
            let out = self.deliver(b"\r");
            self.echo = match &out[..] {
                b"\r\n> " => true,
                b"" => false,
                _ => panic!("a blank line answered {out:?}"),
            };
            self.synced = true;
            return;
        }
        panic!("the session does not come back to its commands");
    }

    /// Time passes; an upload that waited too long is abandoned with an err line.
    fn wait(&mut self, ms: u64) {
        let uploading = self.session.uploading();
        self.clock.now.set(self.clock.now.get() + ms);
        let out = self.deliver(b"");
        if uploading && !self.session.uploading() {
            let quiet = self.clock.now.get() - self.last_byte;
            assert!(quiet >= 3000, "abandoned after {quiet} ms");
            assert_has_terminal(&out);
            self.synced = false;
        } else {
            assert!(out.is_empty(), "{out:?} after {ms} ms");
        }
    }

    /// The board is reset (by the `reset` command when the session takes commands): the
    /// caller starts a new session on the same flash.
    fn reset(&mut self) {
        if !self.session.uploading() {
            self.sync();
            let before = self.clock.resets.get(); // a typed `reset` counts too
            self.line(b"reset\r");
            assert_eq!(self.clock.resets.get(), before + 1);
        }
    }

    /// The host uploads a model: `k` chooses it (generator, classifier, a damaged one whose
    /// CRC matches, or the classifier into a single slot); `d` damages or cuts a chunk.
    fn upload(&mut self, k: u8, d: u8) {
        if self.session.uploading() || !self.synced {
            self.sync();
        }
        let mut model = [GENERATOR, CLASSIFIER][k as usize & 1].to_vec();
        if k & 2 != 0 {
            let at = (k as usize * 37) % model.len();
            model[at] ^= 1 << (k >> 5);
        }
        let req = Request {
            len: model.len() as u32,
            crc: format::model_crc(&model),
            single: k & 0x10 != 0,
        };
        let mut sender = Sender::new(req.len);
        let mut out = self.deliver(format!("{}\r", command(&req)).as_bytes());
        let mut n = 0u8;
        let mut all = Vec::new();
        loop {
            all.extend_from_slice(&out);
            let text = String::from_utf8(out).expect("the upload's replies are text");
            let mut send = None;
            for line in text.split("\r\n") {
                match sender.on_line(line.trim_start_matches("> ")) {
                    Event::Send => send = Some(sender.current()),
                    Event::Wait | Event::Committing => {}
                    Event::Done => {
                        assert!(!self.session.uploading());
                        assert!(all.ends_with(b"ok\r\n") || all.ends_with(b"ok\r\n> "));
                        self.synced = false;
                        return;
                    }
                    Event::Failed(_) => {
                        if !self.session.uploading() {
                            assert_has_terminal(&all);
                        }
                        self.synced = false;
                        return;
                    }
                }
            }
            let Some((offset, range)) = send else {
                self.synced = false;
                return; // the device waits
            };
            let mut bytes = vec![0; chunk_line_len(range.len())];
            chunk_line(offset, &model[range], &mut bytes).expect("room for the line");
            if d >= 0x80 && n == d & 7 {
                if d & 8 != 0 {
                    self.synced = false;
                    return; // the cable is out: what follows is typed into the upload
                }
                let at = (d as usize * 7) % bytes.len();
                bytes[at] ^= 0x04;
            }
            n = n.wrapping_add(1);
            out = self.deliver(&bytes);
        }
    }

    /// After the input: any upload gives up, and the session still answers.
    fn finish(&mut self) {
        self.sync();
        for cmd in ["info\r", "gen 2 seed=5\r", "classify abc\r"] {
            self.line(cmd.as_bytes());
            assert!(self.synced);
        }
    }
}

/// Panics unless `reply` ends with a line `ok` or `err …`.
fn assert_terminal(reply: &[u8], whole: &[u8]) {
    let reply = reply.strip_suffix(b"> ").unwrap_or(reply);
    let body = reply
        .strip_suffix(b"\r\n")
        .unwrap_or_else(|| panic!("a reply that does not end a line: {whole:?}"));
    let last = &body[body
        .windows(2)
        .rposition(|w| w == b"\r\n")
        .map_or(0, |i| i + 2)..];
    let last = last.strip_prefix(b"> ").unwrap_or(last);
    assert!(
        last == b"ok" || last.starts_with(b"err "),
        "last line {:?} of {:?}",
        String::from_utf8_lossy(last),
        String::from_utf8_lossy(whole)
    );
}

/// Panics unless some line of `out` is `ok` or `err …` (after an upload or a reply that
/// ended with other bytes waiting: the prompt and echo of those may follow).
fn assert_has_terminal(out: &[u8]) {
    let found = out.split(|&b| b == b'\n').any(|l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        let l = l.strip_prefix(b"> ").unwrap_or(l);
        l == b"ok" || l.starts_with(b"err ")
    });
    assert!(
        found,
        "no ok or err line: {:?}",
        String::from_utf8_lossy(out)
    );
}

/// Panics if a line of `reply` (the bytes after the echo) is not UTF-8 or holds a control
/// character: the session escapes what it quotes.
fn check_no_control_in_replies(reply: &[u8]) {
    for line in reply.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line)
            .unwrap_or_else(|_| panic!("a reply line that is not UTF-8: {line:?}"));
        assert!(
            !text.chars().any(char::is_control),
            "a control character in a reply: {text:?}"
        );
    }
}

/// The serial line: bytes still to arrive, and what the session sent.
#[derive(Default)]
struct Serial {
    input: VecDeque<u8>,
    output: Vec<u8>,
    /// Output not yet taken by the harness starts here.
    taken: usize,
    /// Output length when the current delivery began.
    reply_start: usize,
    /// A byte was typed to stop a long reply.
    interrupted: bool,
}

impl Serial {
    /// The output since the last take.
    fn take(&mut self) -> Vec<u8> {
        let out = self.output[self.taken..].to_vec();
        self.taken = self.output.len();
        if self.output.len() > 1 << 20 {
            self.output.clear();
            self.taken = 0;
        }
        out
    }

    /// A reply over budget: the user types a key.
    fn over_budget(&self) -> bool {
        !self.interrupted && self.output.len() - self.reply_start > REPLY_BUDGET
    }
}

impl embedded_io::ErrorType for Serial {
    type Error = Infallible;
}

impl embedded_io::Read for Serial {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let Some(slot) = buf.first_mut() else {
            return Ok(0);
        };
        if let Some(b) = self.input.pop_front() {
            *slot = b;
            return Ok(1);
        }
        if self.over_budget() {
            self.interrupted = true;
            *slot = b'q';
            return Ok(1);
        }
        Ok(0)
    }
}

impl embedded_io::ReadReady for Serial {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(!self.input.is_empty() || self.over_budget())
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
