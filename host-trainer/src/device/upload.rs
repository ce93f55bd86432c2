//! Putting a model file into a device's flash over its serial line.
//!
//! In: a `.mrnn` file's bytes and a synced [`DeviceClient`]. Out: the device's new
//! `model …` line, or why not. Two steps:
//!
//! 1. [`DeviceFacts::ask`] reads the device's `info` and [`check`] refuses, before a byte
//!    of the model is sent, a file that does not load, that needs more RAM or outputs
//!    than the device has, that is larger than a slot (or the partition), or that the
//!    device already serves.
//! 2. [`send`] runs the protocol of `micrornn::upload` (its chunk encoder and reply
//!    parser, so that host and device share one implementation): chunks in order, each
//!    sent again when the device refuses it or does not answer, at most
//!    [`MAX_TRIES`] more times.
//!
//! Whatever fails, the device keeps serving its old model (it abandons an upload after
//! [`micrornn::upload::TIMEOUT_SECONDS`] without a byte), except after a `--single-slot`
//! upload began: that one erased the old model first.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
pub use micrornn::format::model_crc;
use micrornn::upload::{
    chunk_line, chunk_line_len, command, parse_reply, Event, Reply, Request, Sender, MAX_TRIES,
};
use micrornn::Model;

use crate::device::client::DeviceClient;

/// What a device's `info` says about room for a model and the model it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFacts {
    /// Board name (`board …`).
    pub board: String,
    /// Bytes of the network arena (`capacity ram …`).
    pub ram_bytes: usize,
    /// Outputs the logits buffer holds (`capacity … outputs …`).
    pub outputs: usize,
    /// Bytes of the model partition (`partition <addr> <n> bytes`).
    pub partition_len: usize,
    /// Largest model for a two-slot upload, when `info` reports it
    /// (`store slot <n> single <n>`).
    pub slot_capacity: Option<usize>,
    /// Largest model for a single-slot upload, when `info` reports it.
    pub single_capacity: Option<usize>,
    /// The model that serves, if any (`slot <a|b|single> seq <n> crc <hex>`).
    pub serving: Option<Serving>,
    /// The `model …` line (or `model none: …`).
    pub model_line: String,
}

/// The slot a device serves its model from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serving {
    /// `a`, `b` or `single`.
    pub slot: String,
    /// Sequence number of its commit record.
    pub seq: u32,
    /// The CRC-32 the model file carries ([`model_crc`]).
    pub crc: u32,
}

impl DeviceFacts {
    /// Sends `info` and reads its reply.
    pub fn ask(dev: &mut DeviceClient) -> Result<DeviceFacts> {
        let lines = dev.command("info")?;
        DeviceFacts::parse(&lines).with_context(|| format!("{}: unexpected info", dev.name()))
    }

    /// Reads the reply lines of `info`. The capacity and partition lines are required;
    /// the slot lines are optional (firmware without a model store has none).
    pub fn parse(lines: &[String]) -> Result<DeviceFacts> {
        let mut facts = DeviceFacts {
            board: String::new(),
            ram_bytes: 0,
            outputs: 0,
            partition_len: 0,
            slot_capacity: None,
            single_capacity: None,
            serving: None,
            model_line: String::new(),
        };
        let (mut capacity, mut partition) = (false, false);
        for line in lines {
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            let num = |i: usize| words.get(i).and_then(|w| w.parse::<usize>().ok());
            match words.as_slice() {
                ["board", name, ..] => facts.board = name.to_string(),
                ["capacity", "ram", _, "outputs", _, ..] => {
                    facts.ram_bytes = num(2).context("bad capacity line")?;
                    facts.outputs = num(4).context("bad capacity line")?;
                    capacity = true;
                }
                ["partition", _, _, "bytes", ..] => {
                    facts.partition_len = num(2).context("bad partition line")?;
                    partition = true;
                }
                ["store", "slot", _, "single", _, ..] => {
                    facts.slot_capacity = Some(num(2).context("bad store line")?);
                    facts.single_capacity = Some(num(4).context("bad store line")?);
                }
                ["slot", "none", ..] => facts.serving = None,
                ["slot", slot, "seq", seq, "crc", crc, ..] => {
                    facts.serving = Some(Serving {
                        slot: slot.to_string(),
                        seq: seq.parse().context("bad slot line")?,
                        crc: u32::from_str_radix(crc, 16).context("bad slot line")?,
                    });
                }
                ["model", ..] => facts.model_line = line.clone(),
                _ => {}
            }
        }
        if !capacity {
            bail!("no `capacity ram … outputs …` line");
        }
        if !partition {
            bail!("no `partition … bytes` line");
        }
        Ok(facts)
    }
}

/// Choices of the user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Send the model even if the device already serves one with its CRC.
    pub force: bool,
    /// Use the whole partition (for a model larger than a slot).
    pub single_slot: bool,
}

/// Refuses, before a byte is sent, a file the device cannot or need not take; `file`
/// names it in the message.
pub fn check(file: &str, bytes: &[u8], facts: &DeviceFacts, opts: Options) -> Result<()> {
    let board = match facts.board.as_str() {
        "" => "the device",
        b => b,
    };
    let model = Model::load(bytes).map_err(|e| anyhow!("{file} is not a model: {e}"))?;
    micrornn::session::check_fits(&model, facts.ram_bytes / 4, facts.outputs)
        .map_err(|e| anyhow!("{file} does not fit {board}: {e}"))?;
    let len = bytes.len();
    let single = facts.single_capacity.unwrap_or(facts.partition_len);
    if len > single {
        bail!("{file} is {len} bytes; the model partition of {board} holds {single}");
    }
    if let (false, Some(slot)) = (opts.single_slot, facts.slot_capacity) {
        if len > slot {
            bail!(
                "{file} is {len} bytes; a slot of {board} holds {slot} (--single-slot uses \
                 the whole partition, {single} bytes, and leaves no model if interrupted)"
            );
        }
    }
    let crc = model_crc(bytes);
    if let (false, Some(s)) = (opts.force, &facts.serving) {
        if s.crc == crc {
            bail!(
                "{board} already serves {file} (crc {crc:08x}, slot {}, seq {}); --force \
                 sends it again",
                s.slot,
                s.seq
            );
        }
    }
    Ok(())
}

/// How an upload went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The device's new `model …` line.
    pub model_line: String,
    /// Data bytes per chunk (from the device's `ready`).
    pub chunk: u32,
    /// Bytes written to the device (command and chunk lines).
    pub wire_bytes: u64,
    /// Chunks sent again (refused or unanswered).
    pub resent: u32,
    /// From the command to the device's `ok`.
    pub elapsed: Duration,
}

/// What [`send`] reports to its caller while it runs.
pub trait Watch {
    /// `acked` of `len` model bytes are acknowledged.
    fn progress(&mut self, acked: u64, len: u64);
    /// The user asked to stop (checked at least every [`POLL`]).
    fn stopped(&self) -> bool {
        false
    }
}

/// No progress, never stopped.
impl Watch for () {
    fn progress(&mut self, _: u64, _: u64) {}
}

/// Longest wait between two checks of [`Watch::stopped`].
pub const POLL: Duration = Duration::from_millis(100);

/// How long the host waits for a chunk's `ack` before it sends the chunk again: the
/// line's time on a slow link (2,000 bytes/s: a loaded emulator's UART delivers less than
/// a 115200-baud wire) plus 2.5 s, within the 3 s of silence after which the device gives
/// up the upload.
pub fn chunk_wait(line_len: usize) -> Duration {
    Duration::from_millis(2500) + Duration::from_micros(line_len as u64 * 500)
}

/// Uploads `bytes` (not checked: see [`check`]) to the device; `wait` bounds the wait for
/// the device to erase and to commit. The error says how far it got and what the device
/// serves now.
pub fn send(
    dev: &mut DeviceClient,
    bytes: &[u8],
    single_slot: bool,
    wait: Duration,
    watch: &mut dyn Watch,
) -> Result<Sent> {
    let len = u32::try_from(bytes.len()).context("the model is larger than 4 GB")?;
    let mut run = Run {
        dev,
        bytes,
        sender: Sender::new(len),
        watch,
        wait,
        wire: 0,
        resent: 0,
        chunk: 0,
        start: Instant::now(),
    };
    run.go(single_slot).map_err(|e| {
        let acked = run.sender.acknowledged();
        let after = match (acked, single_slot) {
            (0, false) => "the device keeps its model".to_string(),
            (_, false) => format!("at {acked} of {len} bytes; the device keeps its old model"),
            (_, true) => format!(
                "at {acked} of {len} bytes; the device may have no model until the next upload"
            ),
        };
        e.context(format!("upload failed {after}"))
    })
}

/// One upload in progress.
struct Run<'a> {
    dev: &'a mut DeviceClient,
    bytes: &'a [u8],
    sender: Sender,
    watch: &'a mut dyn Watch,
    wait: Duration,
    wire: u64,
    resent: u32,
    chunk: u32,
    start: Instant,
}

/// What the next line from the device brought.
enum Next {
    /// Send the sender's current chunk.
    Send,
    /// The commit is done: the model line.
    Done(String),
}

impl Run<'_> {
    fn go(&mut self, single_slot: bool) -> Result<Sent> {
        let request = Request {
            len: self.bytes.len() as u32,
            crc: model_crc(self.bytes),
            single: single_slot,
        };
        let line = format!("{}\r\n", command(&request));
        self.write(line.as_bytes())?;
        // The device erases before it answers `ready`: the long wait.
        let mut next = self.expect(self.wait, "ready")?;
        let mut last_sent: Option<u32> = None;
        let mut line = Vec::new();
        loop {
            if let Next::Done(model_line) = next {
                return Ok(Sent {
                    model_line,
                    chunk: self.chunk,
                    wire_bytes: self.wire,
                    resent: self.resent,
                    elapsed: self.start.elapsed(),
                });
            }
            let (offset, range) = self.sender.current();
            if last_sent == Some(offset) {
                self.resent += 1;
            }
            let data = self.bytes.get(range).context("a chunk outside the model")?;
            line.resize(chunk_line_len(data.len()), 0);
            let n = chunk_line(offset, data, &mut line).context("chunk line buffer")?;
            let tries = 1 + MAX_TRIES as usize;
            next = 'chunk: {
                for attempt in 0..tries {
                    // No answer in time: the chunk goes again.
                    self.resent += (attempt > 0) as u32;
                    self.write(&line[..n])?;
                    last_sent = Some(offset);
                    if let Some(next) = self.next_event(chunk_wait(n))? {
                        break 'chunk next;
                    }
                }
                bail!("the device did not acknowledge the chunk at offset {offset} ({tries} tries)")
            };
            self.watch
                .progress(self.sender.acknowledged() as u64, self.bytes.len() as u64);
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if self.watch.stopped() {
            bail!("interrupted");
        }
        self.dev.send_raw(bytes)?;
        self.wire += bytes.len() as u64;
        Ok(())
    }

    /// Lines until the sender has something to do, within `wait`; `None` when none came.
    /// During the commit (every chunk acknowledged) it waits for `ok` up to `self.wait`.
    fn next_event(&mut self, wait: Duration) -> Result<Option<Next>> {
        let mut deadline = Instant::now() + wait;
        let mut model_line = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            if self.watch.stopped() {
                bail!("interrupted");
            }
            let Some(line) = self.dev.read_line_within(left.min(POLL))? else {
                continue;
            };
            if let Reply::Ready(chunk) = parse_reply(&line) {
                self.chunk = chunk;
            }
            match self.sender.on_line(&line) {
                Event::Send => return Ok(Some(Next::Send)),
                Event::Wait => {
                    if line.starts_with("model ") {
                        model_line = line;
                    }
                }
                Event::Committing => {
                    self.watch
                        .progress(self.bytes.len() as u64, self.bytes.len() as u64);
                    deadline = Instant::now() + self.wait; // verify and commit
                }
                Event::Done => return Ok(Some(Next::Done(model_line))),
                Event::Failed(why) => bail!("device: {why}"),
            }
        }
    }

    /// The first event, within `wait`: the device's `ready`, or its `err`.
    fn expect(&mut self, wait: Duration, what: &str) -> Result<Next> {
        self.next_event(wait)?
            .ok_or_else(|| anyhow!("the device did not answer `{what}` in {wait:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn info_lines_parse() {
        let info = lines(
            "firmware micrornn 0.1.0\nboard microbit\nformat 1\npartition 00010000 196608 bytes\n\
             capacity ram 1024 outputs 96\nstore slot 98280 single 196584\n\
             slot b seq 7 crc 00c0ffee\nmodel rnn hidden 24 layers 1 generate vocab 28",
        );
        let f = DeviceFacts::parse(&info).unwrap();
        assert_eq!(f.board, "microbit");
        assert_eq!(
            (f.ram_bytes, f.outputs, f.partition_len),
            (1024, 96, 196608)
        );
        assert_eq!(
            (f.slot_capacity, f.single_capacity),
            (Some(98280), Some(196584))
        );
        let serving = Serving {
            slot: "b".into(),
            seq: 7,
            crc: 0x00c0_ffee,
        };
        assert_eq!(f.serving, Some(serving));
        assert!(f.model_line.starts_with("model rnn hidden 24"));

        let empty =
            lines("partition 0 10 bytes\ncapacity ram 8 outputs 2\nslot none\nmodel none: x");
        let f = DeviceFacts::parse(&empty).unwrap();
        assert_eq!((f.serving, f.slot_capacity), (None, None));
        for bad in [
            "capacity ram 8 outputs 2",
            "partition 0 10 bytes",
            "capacity ram x outputs 2",
        ] {
            assert!(DeviceFacts::parse(&lines(bad)).is_err(), "{bad}");
        }
        let bad_slot =
            lines("partition 0 10 bytes\ncapacity ram 8 outputs 2\nslot a seq 1 crc xyz");
        assert!(DeviceFacts::parse(&bad_slot).is_err());
    }
}
