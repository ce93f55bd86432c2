//! The command loop on the serial line, generic over byte I/O so that it runs on a
//! board's UART and in host tests alike.
//!
//! Line-based, for a person at a terminal and for a program. Input lines end with CR,
//! LF or CR LF; with `echo on` (the default) typed characters are echoed, backspace
//! (0x08 or 0x7f) erases, and a `> ` prompt is shown. Every reply ends with a line
//! `ok` or a single line `err <reason>`; output lines end with CR LF. A line longer than
//! [`MAX_LINE`] bytes, bytes that are not UTF-8, an unknown command or a bad value each
//! get `err …` and the session goes on. Input that arrives while a `gen` is replying
//! stops it: the rest of that input line is discarded and the reply ends with `err`.

use core::num::NonZeroU32;

use embedded_io::{Read, ReadReady, Write};

use crate::cell::NetQ;
use crate::classify::classify;
use crate::error::Error;
use crate::format::Task;
use crate::generate::generate;
use crate::model::Model;
use crate::protocol::{parse, Command, GenSettings, ParseError};
use crate::rng::Rng;
use crate::text::{div_rem, Text};

/// Longest input line, in bytes (without its ending).
pub const MAX_LINE: usize = 127;

/// Buffers the board gives the session (statics on a device: nothing is allocated).
#[derive(Debug)]
pub struct Buffers<'w> {
    /// The network's arena: states and scratch ([`NetQ::needs`] words).
    pub arena: &'w mut [i32],
    /// Outputs (logits), one `i32` per output.
    pub logits: &'w mut [i32],
}

/// What the board says about itself in `info`.
#[derive(Clone, Copy, Debug)]
pub struct BoardInfo {
    /// Board name, e.g. `mps2-an386`.
    pub board: &'static str,
    /// Firmware name and version.
    pub firmware: &'static str,
    /// Address of the model partition.
    pub partition_addr: u32,
    /// Size of the model partition in bytes.
    pub partition_len: u32,
}

/// Board services the session uses for `stats`.
pub trait Board {
    /// A free-running tick counter.
    fn ticks(&self) -> u64;
    /// Instructions per tick when the emulator counts instructions (`-icount shift=0`), else 0.
    fn instructions_per_tick(&self) -> u32;
    /// Deepest stack use seen so far, in bytes (stack painting).
    fn stack_peak(&self) -> usize;
    /// Size of the stack region in bytes.
    fn stack_size(&self) -> usize;
    /// Bytes of static RAM (`.data` + `.bss`).
    fn static_ram(&self) -> usize;
}

/// Measurements of the last `gen`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct GenStats {
    names: u32,
    chars: u32,
    steps: u32,
    ticks: u64,
}

/// The state of one serial session: the model (or why there is none), buffers, settings
/// and the line being typed.
#[derive(Debug)]
pub struct Session<'m, 'w> {
    model: Result<Model<'m>, Error>,
    model_len: usize,
    buffers: Buffers<'w>,
    info: BoardInfo,
    settings: GenSettings,
    echo: bool,
    line: heapless::Vec<u8, MAX_LINE>,
    overflow: bool,
    /// Discard input up to the next line end (after an interrupted reply).
    discard: bool,
    /// The last byte was CR (so a following LF ends nothing).
    after_cr: bool,
    stats: GenStats,
}

impl<'m, 'w> Session<'m, 'w> {
    /// Validates the model in `partition` (it may hold anything) and checks that it fits
    /// the buffers. A session without a valid model still answers every command.
    pub fn new(partition: &'m [u8], buffers: Buffers<'w>, info: BoardInfo) -> Self {
        let model_len = crate::format::file_len(partition).unwrap_or(0);
        let model = Model::load(partition)
            .and_then(|m| check_fits(&m, buffers.arena.len(), buffers.logits.len()).map(|_| m));
        Session {
            model,
            model_len,
            buffers,
            info,
            settings: GenSettings::default(),
            echo: true,
            line: heapless::Vec::new(),
            overflow: false,
            discard: false,
            after_cr: false,
            stats: GenStats::default(),
        }
    }

    /// The model, or why there is none.
    pub fn model(&self) -> Result<&Model<'m>, Error> {
        self.model.as_ref().map_err(|e| *e)
    }

    /// Prints the banner and serves commands forever.
    pub fn run<IO: Read + Write + ReadReady, B: Board>(&mut self, io: &mut IO, board: &B) -> ! {
        self.banner(io);
        loop {
            let mut byte = [0u8];
            if let Ok(1) = io.read(&mut byte) {
                self.on_byte(byte[0], io, board);
            }
        }
    }

    /// The greeting: firmware, board, and the model or why there is none.
    pub fn banner<IO: Write>(&mut self, io: &mut IO) {
        let mut l = Line::new();
        l.text(self.info.firmware)
            .text(" on ")
            .text(self.info.board);
        l.send(io);
        match &self.model {
            Ok(m) => self.model_line(io, m),
            Err(e) => l.text("no valid model: ").err(e).send(io),
        }
        self.prompt(io);
    }

    /// Handles one received byte.
    pub fn on_byte<IO: Read + Write + ReadReady, B: Board>(
        &mut self,
        b: u8,
        io: &mut IO,
        board: &B,
    ) {
        let was_cr = core::mem::replace(&mut self.after_cr, b == b'\r');
        match b {
            b'\n' if was_cr => {}
            b'\r' | b'\n' => {
                if self.echo {
                    let _ = io.write_all(b"\r\n");
                }
                if !core::mem::take(&mut self.discard) {
                    self.end_of_line(io, board);
                }
                self.line.clear();
                self.overflow = false;
                self.prompt(io);
            }
            _ if self.discard => {}
            0x08 | 0x7f => {
                if self.line.pop().is_some() && self.echo {
                    let _ = io.write_all(b"\x08 \x08");
                }
            }
            _ => {
                if self.line.push(b).is_err() {
                    self.overflow = true;
                } else if self.echo {
                    let _ = io.write_all(&[b]);
                }
            }
        }
    }

    fn prompt<IO: Write>(&self, io: &mut IO) {
        if self.echo {
            let _ = io.write_all(b"> ");
        }
    }

    /// A complete line arrived: check it, parse it, run it.
    fn end_of_line<IO: Read + Write + ReadReady, B: Board>(&mut self, io: &mut IO, board: &B) {
        let mut l = Line::new();
        if self.overflow {
            let max = MAX_LINE as u64;
            return l
                .text("err line too long (max ")
                .num(max)
                .text(" bytes)")
                .send(io);
        }
        let line = self.line.clone();
        let Ok(text) = core::str::from_utf8(&line) else {
            return l.text("err line is not UTF-8").send(io);
        };
        match parse(text, &self.settings) {
            Ok(cmd) => self.execute(cmd, io, board),
            Err(e) => {
                l.text("err ");
                match e {
                    ParseError::BadValue { key, expected } => {
                        l.text("bad ").text(key).text(": expected ").text(expected)
                    }
                    ParseError::UnknownSetting(k) => l
                        .text("unknown setting ")
                        .text(k)
                        .text(" (seed, temp, topk, minp, prefix, maxlen)"),
                    ParseError::Usage(u) => l.text("usage: ").text(u),
                }
                .send(io);
            }
        }
    }

    #[inline(never)]
    fn execute<IO: Read + Write + ReadReady, B: Board>(
        &mut self,
        cmd: Command<'_>,
        io: &mut IO,
        board: &B,
    ) {
        let mut l = Line::new();
        match cmd {
            Command::Empty => return,
            Command::Help => {
                for h in HELP {
                    let _ = io.write_all(h.as_bytes());
                    let _ = io.write_all(b"\r\n");
                }
            }
            Command::Info => self.info(io),
            Command::Settings => {
                let s = &self.settings;
                l.text("seed=").num(s.seed);
                l.text(" temp=").milli(s.sampler.temperature_milli);
                l.text(" topk=").num(s.sampler.top_k as u64);
                l.text(" minp=").milli(s.sampler.min_p_milli);
                l.text(" prefix=").text(&s.prefix);
                l.text(" maxlen=").num(s.sampler.max_len as u64).send(io);
            }
            Command::Set(s) => self.settings = s,
            Command::Echo(on) => self.echo = on,
            Command::Stats => self.report_stats(io, board),
            Command::Gen { .. } | Command::Classify(_) => {
                let done = match cmd {
                    Command::Gen { count, settings } => self.gen(count, &settings, io, board),
                    Command::Classify(names) => self.classify(names, io, board),
                    _ => Ok(()),
                };
                if let Err(fail) = done {
                    l.text("err ");
                    match fail {
                        GenFail::NoModel(e) => l.text("no valid model: ").err(&e),
                        GenFail::Failed(e) => l.err(&e),
                        GenFail::Interrupted => l.text("input arrived during the reply; stopped"),
                    };
                    return l.send(io);
                }
            }
            Command::Unknown(c) => {
                let l = l.text("err unknown command \"").text(c);
                return l.text("\" (try help)").send(io);
            }
        }
        let _ = io.write_all(b"ok\r\n");
    }

    fn info<IO: Write>(&self, io: &mut IO) {
        let mut l = Line::new();
        let i = &self.info;
        l.text("firmware ").text(i.firmware).send(io);
        l.text("board ").text(i.board).send(io);
        l.text("format ")
            .num(crate::format::FORMAT_VERSION as u64)
            .send(io);
        l.text("partition ").hex(i.partition_addr, 8);
        l.text(" ")
            .num(i.partition_len as u64)
            .text(" bytes")
            .send(io);
        let b = &self.buffers;
        let capacity = [4 * b.arena.len(), b.logits.len()];
        l.printf("capacity ram %d outputs %d", &[], &capacity)
            .send(io);
        match &self.model {
            Ok(m) => self.model_line(io, m),
            Err(e) => l.text("model none: ").err(e).send(io),
        }
    }

    fn model_line<IO: Write>(&self, io: &mut IO, m: &Model<'_>) {
        let mut l = Line::new();
        let c = &m.config;
        let names = [
            ["rnn", "gru", "lstm"][c.cell as usize],
            ["generate", "classify"][c.task as usize],
        ];
        let numbers = [
            m.hidden(),
            m.layer_count(),
            m.vocab_size(),
            m.param_count(),
            self.model_len,
            m.ram_bytes(),
            m.macs_per_char(),
        ];
        let template = "model %s hidden %d layers %d %s vocab %d params %d bytes %d ram %d macs %d";
        l.printf(template, &names, &numbers).send(io);
    }

    fn report_stats<IO: Write, B: Board>(&self, io: &mut IO, board: &B) {
        let s = &self.stats;
        let mut l = Line::new();
        let counts = [s.names as usize, s.chars as usize, s.steps as usize];
        l.printf("names %d chars %d steps %d ticks ", &[], &counts);
        l.num(s.ticks).send(io);
        let ipt = board.instructions_per_tick() as u64;
        if let (true, Some(steps)) = (ipt > 0, NonZeroU32::new(s.steps)) {
            let instructions = s.ticks * ipt;
            l.text("instructions ").num(instructions);
            l.text(" per_step ")
                .num(div_rem(instructions, steps).0)
                .send(io);
        }
        let stack = [board.stack_peak(), board.stack_size(), board.static_ram()];
        l.printf("stack_peak %d stack_size %d static_ram %d", &[], &stack)
            .send(io);
    }

    /// `gen`: one name per line. Stops early (with an error) when input arrives.
    #[inline(never)]
    fn gen<IO: Read + Write + ReadReady, B: Board>(
        &mut self,
        count: u32,
        settings: &GenSettings,
        io: &mut IO,
        board: &B,
    ) -> Result<(), GenFail> {
        let model = model_for(&self.model, Task::Generate)?;
        let b = &mut self.buffers;
        let mut net = NetQ::new(model, b.arena).map_err(GenFail::Failed)?;
        let mut rng = Rng::new(settings.seed);
        let mut stats = GenStats::default();
        let start = board.ticks();
        for _ in 0..count {
            let n = generate(
                &mut net,
                &model.vocab,
                &settings.sampler,
                &settings.prefix,
                &mut rng,
                b.logits,
                |c| {
                    let mut utf8 = [0u8; 4];
                    let _ = io.write_all(c.encode_utf8(&mut utf8).as_bytes());
                },
            )
            .map_err(GenFail::Failed)?;
            let _ = io.write_all(b"\r\n");
            stats.names += 1;
            stats.chars += n as u32;
            // One step per character plus the step that chose the end (unless cut at max).
            stats.steps += n as u32 + (n < settings.sampler.max_len as usize) as u32;
            if let Some(first) = input_during_reply(io, &mut self.after_cr) {
                stats.ticks = board.ticks().wrapping_sub(start);
                self.stats = stats;
                (self.after_cr, self.discard) = drop_input(first, io);
                return Err(GenFail::Interrupted);
            }
        }
        stats.ticks = board.ticks().wrapping_sub(start);
        self.stats = stats;
        Ok(())
    }
}

impl Session<'_, '_> {
    /// `classify NAME...`: one line `name label probability` per name. Every name is
    /// checked against the vocabulary before the first answer.
    #[inline(never)]
    fn classify<IO: Write, B: Board>(
        &mut self,
        names: &str,
        io: &mut IO,
        board: &B,
    ) -> Result<(), GenFail> {
        let model = model_for(&self.model, Task::Classify)?;
        for c in names.chars().filter(|c| !c.is_ascii_whitespace()) {
            model.vocab.token(c).map_err(GenFail::Failed)?;
        }
        let b = &mut self.buffers;
        let mut net = NetQ::new(model, b.arena).map_err(GenFail::Failed)?;
        let mut stats = GenStats::default();
        let start = board.ticks();
        for name in names.split_ascii_whitespace() {
            let v = classify(&mut net, &model.vocab, name, b.logits).map_err(GenFail::Failed)?;
            let mut digits = [0; 6];
            let mut l = Line::new();
            let label = model.label(v.label).unwrap_or("?");
            l.text(name).text(" ").text(label).text(" ");
            l.text(v.prob_str(&mut digits)).send(io);
            // Characters = bytes that do not continue a UTF-8 sequence.
            let chars = name.bytes().filter(|&b| b & 0xc0 != 0x80).count() as u32;
            stats.names += 1;
            stats.chars += chars;
            stats.steps += chars + 1;
        }
        stats.ticks = board.ticks().wrapping_sub(start);
        self.stats = stats;
        Ok(())
    }
}

/// A byte that arrived during a reply, if any. The LF of a CR LF line ending that
/// started the reply (`after_cr`) is not input: it is dropped here.
fn input_during_reply<IO: Read + ReadReady>(io: &mut IO, after_cr: &mut bool) -> Option<u8> {
    while io.read_ready().unwrap_or(false) {
        let mut byte = [0u8];
        if !matches!(io.read(&mut byte), Ok(1)) {
            return None;
        }
        if !(byte[0] == b'\n' && core::mem::take(after_cr)) {
            return Some(byte[0]);
        }
    }
    None
}

/// Input arrived during a reply: drops it and what else is waiting. Returns whether the
/// last byte was CR, and whether the rest of its line must still be discarded.
fn drop_input<IO: Read + ReadReady>(first: u8, io: &mut IO) -> (bool, bool) {
    let mut last = first;
    while io.read_ready().unwrap_or(false) {
        let mut byte = [0u8];
        if !matches!(io.read(&mut byte), Ok(1)) {
            break;
        }
        last = byte[0];
    }
    (last == b'\r', !matches!(last, b'\r' | b'\n'))
}

/// Checks that a model fits an arena of `arena_words` and `logits_len` outputs, as a
/// session's buffers; the error names the part that does not fit, in bytes.
pub fn check_fits(m: &Model<'_>, arena_words: usize, logits_len: usize) -> Result<(), Error> {
    let need = [
        ("RAM for the state", NetQ::needs(m), arena_words),
        ("RAM for the outputs", m.outputs(), logits_len),
    ];
    for (what, needed, capacity) in need {
        if capacity < needed {
            return Err(Error::BufferTooSmall {
                what,
                needed: 4 * needed,
                capacity: 4 * capacity,
            });
        }
    }
    Ok(())
}

/// The session's model if there is one and it does `task`.
fn model_for<'a, 'm>(
    model: &'a Result<Model<'m>, Error>,
    task: Task,
) -> Result<&'a Model<'m>, GenFail> {
    let model = model.as_ref().map_err(|e| GenFail::NoModel(*e))?;
    if model.task() != task {
        return Err(GenFail::Failed(Error::WrongTask(model.task())));
    }
    Ok(model)
}

/// Why a `gen` or `classify` ended without `ok`.
enum GenFail {
    /// The partition holds no usable model.
    NoModel(Error),
    /// Settings or prefix refused.
    Failed(Error),
    /// Input arrived during the reply.
    Interrupted,
}

/// The `help` text.
const HELP: [&str; 10] = [
    "commands:",
    "  help                  this text",
    "  info                  firmware, board, capacity, model",
    "  gen [N] [key=value]   N names (default 1); keys: seed temp topk minp prefix maxlen",
    "  classify NAME...      label and probability of each name (classifiers)",
    "  set <key> <value>     keep a setting for the next gens",
    "  settings              show the settings",
    "  stats                 measurements of the last gen",
    "  echo on|off           echo typed characters (off for programs)",
    "every reply ends with a line 'ok' or 'err <reason>'",
];

/// One output line being formatted (truncated if longer than its buffer).
struct Line(heapless::String<100>);

impl Line {
    fn new() -> Line {
        Line(heapless::String::new())
    }

    /// Writes the line with CR LF and empties it.
    fn send<IO: Write>(&mut self, io: &mut IO) {
        let _ = io.write_all(self.0.as_bytes());
        let _ = io.write_all(b"\r\n");
        self.0.clear();
    }

    /// Appends an error's message.
    fn err(&mut self, e: &Error) -> &mut Self {
        e.write_to(self);
        self
    }

    /// Appends thousandths as a decimal: 800 → `0.8`, 2000 → `2`, 50 → `0.05`.
    fn milli(&mut self, milli: u32) -> &mut Self {
        let (int, mut frac) = (milli / 1000, milli % 1000);
        self.num(int as u64);
        if frac != 0 {
            // The decimals without trailing zeros: `frac` with `width` digits, written as
            // 10^width + frac without its leading 1.
            let mut width = 1000;
            while frac % 10 == 0 {
                (frac, width) = (frac / 10, width / 10);
            }
            let mut buf = [0; 20];
            let digits = crate::text::dec((width + frac) as u64, &mut buf);
            self.text(".").text(digits.get(1..).unwrap_or_default());
        }
        self
    }
}

impl Text for Line {
    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break; // long lines are cut, never an error
            }
        }
    }
}
