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
//!
//! The model comes from a [`ModelStore`] in the board's flash and is replaced with
//! `upload` ([`crate::upload`]: chunk lines, no echo, `ack`/`nak`, the old model serving
//! until the new one is whole, checked and fits the buffers). An upload that stalls for
//! [`crate::upload::TIMEOUT_SECONDS`] (measured with [`Platform::ticks`]), or meets a line
//! that is not a chunk, is abandoned and the session is back at its command loop.

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
use crate::store::{ModelStore, Partition};
use crate::text::{div_rem, escape_char, hex, Text};
use crate::upload::{
    chunk_size, Abandon, Receiver, Request, Step, CHUNK_OVERHEAD, MAX_BAD_IN_ROW, MIN_CHUNK,
    TIMEOUT_SECONDS,
};

#[cfg(feature = "seq2seq")]
mod pronounce;
#[cfg(feature = "words")]
mod text;

/// Longest input line, in bytes (without its ending).
pub const MAX_LINE: usize = 127;

/// Words of network arena that serve every model the format allows: the LSTM of
/// [`MAX_LAYERS`](crate::cell::MAX_LAYERS) layers of [`MAX_HIDDEN`](crate::model::MAX_HIDDEN)
/// units (the cell that needs most), and with feature `seq2seq` the largest encoder–decoder
/// (that LSTM's shape, the widest embedding, the most phonemes) if it needs more — it does:
/// its encoder memory alone is 32 states. The arena of every board but the micro:bit v1
/// (whose firmware has no encoder–decoders), and of the host's table of them.
pub const FULL_ARENA_WORDS: usize = {
    use crate::cell::MAX_LAYERS;
    use crate::model::MAX_HIDDEN;
    let net = crate::cell::arena_words(crate::format::CellKind::Lstm, MAX_LAYERS, MAX_HIDDEN);
    #[cfg(feature = "seq2seq")]
    let net = {
        let (cell, tokens) = (crate::format::CellKind::Lstm, crate::model::MAX_LABELS + 1);
        let s2s = crate::seq2seq::arena_words(cell, MAX_LAYERS, MAX_HIDDEN - 1, MAX_HIDDEN, tokens);
        if s2s > net {
            s2s
        } else {
            net
        }
    };
    net
};

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

/// What the session needs from the platform it runs on (a board, or a host test): a
/// clock, the `stats` figures, a reset. (Not a board's facts: those are [`BoardInfo`].)
pub trait Platform {
    /// A free-running tick counter.
    fn ticks(&self) -> u64;
    /// Ticks per second of [`Platform::ticks`] (the upload's timeout is measured with it).
    fn ticks_per_second(&self) -> u32;
    /// Instructions per tick when the emulator counts instructions (`-icount shift=0`), else 0.
    fn instructions_per_tick(&self) -> u32;
    /// Deepest stack use seen so far, in bytes (stack painting).
    fn stack_peak(&self) -> usize;
    /// Size of the stack region in bytes.
    fn stack_size(&self) -> usize;
    /// Bytes of static RAM (`.data` + `.bss`).
    fn static_ram(&self) -> usize;
    /// Restarts the chip (the `reset` command); a device does not return. The default
    /// returns at once (hosts, tests): the session goes on.
    fn reset(&self) {}
}

/// Measurements of the last `gen`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct GenStats {
    names: u32,
    chars: u32,
    steps: u32,
    ticks: u64,
}

/// An upload in progress.
#[derive(Debug)]
struct Upload {
    rx: Receiver,
    /// [`Platform::ticks`] at the last byte.
    last: u64,
}

/// The state of one serial session: the model store, the line being typed or the upload
/// being received, and the command side (buffers, settings, echo, measurements).
///
/// The model is not kept: it borrows the store's flash, which an upload writes. Each
/// command that needs it loads it ([`ModelStore::model`], no CRC pass) in a frame of its
/// own near the bottom of the stack, so that the loader's stack and the reply's do not add
/// up (the micro:bit has 4 KB of RAM for both and the buffers).
pub struct Session<'w, P: Partition> {
    store: ModelStore<P>,
    upload: Option<Upload>,
    line: heapless::Vec<u8, MAX_LINE>,
    overflow: bool,
    /// Discard input up to the next line end (after an interrupted reply).
    discard: bool,
    /// The last byte was CR (so a following LF ends nothing).
    after_cr: bool,
    console: Console<'w>,
}

/// The command side of a session: buffers, settings, echo, the last measurements.
struct Console<'w> {
    buffers: Buffers<'w>,
    info: BoardInfo,
    settings: GenSettings,
    echo: bool,
    stats: GenStats,
    /// The text being received after `text` (word classifiers).
    #[cfg(feature = "words")]
    text: Option<text::TextMode>,
}

/// What a command leaves for the session to do once the model is let go.
enum After {
    Nothing,
    Upload(Request),
    Reset,
}

impl<'w, P: Partition> Session<'w, P> {
    /// A session serving the store's model (checked at [`ModelStore::open`]) if it fits
    /// the buffers. A session without a valid model still answers every command.
    pub fn new(store: ModelStore<P>, buffers: Buffers<'w>, info: BoardInfo) -> Self {
        Session {
            store,
            upload: None,
            line: heapless::Vec::new(),
            overflow: false,
            discard: false,
            after_cr: false,
            console: Console {
                buffers,
                info,
                settings: GenSettings::default(),
                echo: true,
                stats: GenStats::default(),
                #[cfg(feature = "words")]
                text: None,
            },
        }
    }

    /// The model served, or why there is none (no valid model in the store, or one that
    /// does not fit the buffers).
    pub fn model(&self) -> Result<Model<'_>, Error> {
        let m = self.store.model()?;
        let b = &self.console.buffers;
        check_fits(&m, b.arena.len(), b.logits.len()).map(|()| m)
    }

    /// The model store.
    pub fn store(&self) -> &ModelStore<P> {
        &self.store
    }

    /// Ends the session and hands back its store (e.g. to open it again, as after a reset).
    pub fn into_store(self) -> ModelStore<P> {
        self.store
    }

    /// True while an upload is being received.
    pub fn uploading(&self) -> bool {
        self.upload.is_some()
    }

    /// Prints the banner, then serves forever ([`Session::poll`] in a loop).
    pub fn run<IO: Read + Write + ReadReady, B: Platform>(&mut self, io: &mut IO, board: &B) -> ! {
        self.banner(io);
        loop {
            self.poll(io, board);
        }
    }

    /// Handles the bytes that have arrived, and gives up an upload that has waited too
    /// long for its next byte. Returns without waiting when nothing is there.
    pub fn poll<IO: Read + Write + ReadReady, B: Platform>(&mut self, io: &mut IO, board: &B) {
        let mut byte = [0u8];
        while io.read_ready().unwrap_or(false) && matches!(io.read(&mut byte), Ok(1)) {
            self.on_byte(byte[0], io, board);
        }
        if let Some(up) = &self.upload {
            let limit = TIMEOUT_SECONDS as u64 * board.ticks_per_second() as u64;
            if board.ticks().wrapping_sub(up.last) >= limit.max(1) {
                self.abandon(Abandon::Timeout, io);
            }
        }
    }

    /// The greeting: firmware, board, and the model or why there is none.
    #[inline(never)]
    pub fn banner<IO: Write>(&mut self, io: &mut IO) {
        let c = &self.console;
        let mut l = Line::new();
        l.text(c.info.firmware).text(" on ").text(c.info.board);
        l.send(io);
        let loaded = self.store.model();
        match fits(&loaded, &c.buffers) {
            Ok(m) => model_line(io, m, &self.store),
            Err(e) => l.no_model("no valid model", &e).send(io),
        }
        c.prompt(io);
    }

    /// Handles one received byte.
    pub fn on_byte<IO: Read + Write + ReadReady, B: Platform>(
        &mut self,
        b: u8,
        io: &mut IO,
        board: &B,
    ) {
        if self.upload.is_some() {
            // The commit after the last chunk runs here, not under the byte's frame.
            if self.upload_byte(b, io, board) {
                self.commit(io);
            }
            return;
        }
        let echo = self.console.echo;
        let was_cr = core::mem::replace(&mut self.after_cr, b == b'\r');
        match b {
            b'\n' if was_cr => {}
            b'\r' | b'\n' => {
                if echo {
                    let _ = io.write_all(b"\r\n");
                }
                if !core::mem::take(&mut self.discard) {
                    self.end_of_line(io, board);
                }
                self.line.clear();
                self.overflow = false;
                if self.upload.is_none() && !self.in_text() {
                    self.console.prompt(io);
                }
            }
            _ if self.discard => {}
            0x08 | 0x7f => {
                if self.line.pop().is_some() && echo {
                    let _ = io.write_all(b"\x08 \x08");
                }
            }
            _ => {
                if self.line.is_full() && self.in_text() {
                    // A text's line of any length: its bytes go on in pieces.
                    #[cfg(feature = "words")]
                    self.text_piece(io, board);
                }
                if self.line.push(b).is_err() {
                    self.overflow = true;
                } else if echo {
                    let _ = io.write_all(&[b]);
                }
            }
        }
    }

    /// True while the lines of a `text` are being received.
    fn in_text(&self) -> bool {
        #[cfg(feature = "words")]
        return self.console.text.is_some();
        #[cfg(not(feature = "words"))]
        false
    }

    /// A complete line arrived: check it, parse it, run it (with the model if the command
    /// needs one).
    #[inline(never)]
    fn end_of_line<IO: Read + Write + ReadReady, B: Platform>(&mut self, io: &mut IO, board: &B) {
        #[cfg(feature = "words")]
        if self.console.text.is_some() {
            return self.text_line(io, board);
        }
        let Session {
            store,
            line,
            overflow,
            discard,
            after_cr,
            console,
            ..
        } = self;
        let mut l = Line::new();
        if *overflow {
            let max = MAX_LINE as u64;
            return l
                .text("err line too long (max ")
                .num(max)
                .text(" bytes)")
                .send(io);
        }
        let Ok(text) = core::str::from_utf8(line) else {
            return l.text("err line is not UTF-8").send(io);
        };
        let cmd = match parse(text, &console.settings) {
            Ok(cmd) => cmd,
            Err(e) => return parse_error(e, io),
        };
        let needs_model = matches!(
            cmd,
            Command::Gen { .. } | Command::Classify(_) | Command::Info | Command::Text
        ) || is_pronounce(&cmd);
        let loaded = match needs_model {
            true => store.model(),
            false => Err(Error::NoModel),
        };
        let model = fits(&loaded, &console.buffers);
        let reply = Reply {
            io,
            board,
            store,
            after_cr,
            discard,
        };
        match console.execute(cmd, model, reply) {
            After::Nothing => {}
            After::Upload(r) => self.begin_upload(r, io, board),
            After::Reset => {
                let _ = io.write_all(b"ok\r\n");
                let _ = io.flush();
                board.reset();
            }
        }
    }
}

/// What a command's reply may use besides the console: the line, the board, the store
/// (for `info`), and the session's input flags (a `gen` stopped by input sets them).
struct Reply<'r, IO, B, P: Partition> {
    io: &'r mut IO,
    board: &'r B,
    store: &'r ModelStore<P>,
    after_cr: &'r mut bool,
    discard: &'r mut bool,
}

impl Console<'_> {
    fn prompt<IO: Write>(&self, io: &mut IO) {
        if self.echo {
            let _ = io.write_all(b"> ");
        }
    }

    /// Runs a command; `model` is the model if the command needs one and there is one.
    #[inline(never)]
    fn execute<IO: Read + Write + ReadReady, B: Platform, P: Partition>(
        &mut self,
        cmd: Command<'_>,
        model: Result<&Model<'_>, Error>,
        r: Reply<'_, IO, B, P>,
    ) -> After {
        let mut l = Line::new();
        let io = r.io;
        match cmd {
            Command::Empty => return After::Nothing,
            Command::Help => {
                for h in HELP {
                    let _ = io.write_all(h.as_bytes());
                    let _ = io.write_all(b"\r\n");
                }
            }
            Command::Info => self.info(io, r.store, model),
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
            Command::Stats => self.report_stats(io, r.board),
            Command::Upload(req) => return After::Upload(req),
            Command::Reset => return After::Reset,
            Command::Text => {
                #[cfg(feature = "words")]
                let begun = self.text_begin(model, r.board);
                #[cfg(not(feature = "words"))]
                let begun = Err(GenFail::Failed(Error::UnsupportedTask {
                    task: "classify-words",
                }));
                match begun {
                    // No reply yet: the text's lines follow.
                    Ok(()) => return After::Nothing,
                    Err(fail) => {
                        fail_line(fail, io);
                        return After::Nothing;
                    }
                }
            }
            #[cfg(feature = "seq2seq")]
            Command::Pronounce(words) => {
                if let Err(fail) = self.pronounce(model, words, io, r.board) {
                    fail_line(fail, io);
                    return After::Nothing;
                }
            }
            Command::Gen { .. } | Command::Classify(_) => {
                let done = match cmd {
                    Command::Gen { count, settings } => {
                        let input = (r.after_cr, r.discard);
                        self.gen(model, count, &settings, io, r.board, input)
                    }
                    #[cfg(feature = "words")]
                    Command::Classify(text) if text::is_words(&model) => {
                        self.classify_text(model, text, io, r.board)
                    }
                    Command::Classify(names) => self.classify(model, names, io, r.board),
                    _ => Ok(()),
                };
                if let Err(fail) = done {
                    fail_line(fail, io);
                    return After::Nothing;
                }
            }
            Command::Unknown(c) => {
                const TAIL: &str = "\" (try help)";
                let l = l.text("err unknown command \"").input(c, TAIL.len());
                l.text(TAIL).send(io);
                return After::Nothing;
            }
        }
        let _ = io.write_all(b"ok\r\n");
        After::Nothing
    }

    fn info<IO: Write, P: Partition>(
        &self,
        io: &mut IO,
        store: &ModelStore<P>,
        model: Result<&Model<'_>, Error>,
    ) {
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
        let sizes = [store.slot_capacity(), store.partition_capacity()];
        l.printf("store slot %d single %d", &[], &sizes).send(io);
        match store.active() {
            Some(a) => {
                let mut digits = [0; 8];
                let crc = hex(a.crc, 8, false, &mut digits);
                let seq = [a.seq as usize];
                l.printf("slot %s seq %d crc %s", &[a.slot.name(), crc], &seq)
            }
            None => l.text("slot none"),
        }
        .send(io);
        match model {
            Ok(m) => model_line(io, m, store),
            Err(e) => l.no_model("model none", &e).send(io),
        }
    }

    fn report_stats<IO: Write, B: Platform>(&self, io: &mut IO, board: &B) {
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

    /// `gen`: one name per line. Stops early (with an error) when input arrives; then
    /// `input` (the session's after-CR and discard flags) says how the input line ended.
    #[inline(never)]
    fn gen<IO: Read + Write + ReadReady, B: Platform>(
        &mut self,
        model: Result<&Model<'_>, Error>,
        count: u32,
        settings: &GenSettings,
        io: &mut IO,
        board: &B,
        input: (&mut bool, &mut bool),
    ) -> Result<(), GenFail> {
        let model = model_for(model, Task::Generate)?;
        let b = &mut self.buffers;
        let mut net = NetQ::new(model, b.arena).map_err(GenFail::Failed)?;
        let mut rng = Rng::new(settings.seed);
        let mut stats = GenStats::default();
        let start = board.ticks();
        let (after_cr, discard) = input;
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
            if let Some(first) = input_during_reply(io, after_cr) {
                stats.ticks = board.ticks().wrapping_sub(start);
                self.stats = stats;
                (*after_cr, *discard) = drop_input(first, io);
                return Err(GenFail::Interrupted);
            }
        }
        stats.ticks = board.ticks().wrapping_sub(start);
        self.stats = stats;
        Ok(())
    }

    /// `classify NAME...`: one line `name label probability` per name. Every name is
    /// checked against the vocabulary before the first answer.
    #[inline(never)]
    fn classify<IO: Write, B: Platform>(
        &mut self,
        model: Result<&Model<'_>, Error>,
        names: &str,
        io: &mut IO,
        board: &B,
    ) -> Result<(), GenFail> {
        let model = model_for(model, Task::Classify)?;
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
            let label = model.label(v.label).unwrap_or("?");
            // Written straight out, not through a `Line`: a name may be as long as an
            // input line, and the answer is the host's whole line (`micrornn classify`).
            // The label comes from the model file: its control characters are escaped.
            let _ = io.write_all(name.as_bytes());
            let _ = io.write_all(b" ");
            for c in label.chars() {
                let _ = io.write_all(escape_char(c, &mut [0; 4]).as_bytes());
            }
            for part in [" ", v.prob_str(&mut digits), "\r\n"] {
                let _ = io.write_all(part.as_bytes());
            }
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

// ---- upload ----

impl<P: Partition> Session<'_, P> {
    /// `upload LEN CRC [single]`: erases the target slot (the store refuses an empty
    /// model or one too big before erasing anything) and answers `ready <chunk>`; the
    /// following bytes are chunk lines, with no echo and no prompt.
    #[inline(never)]
    fn begin_upload<IO: Write, B: Platform>(&mut self, r: Request, io: &mut IO, board: &B) {
        let mut l = Line::new();
        let arena = 4 * self.console.buffers.arena.len();
        let Some(chunk) = chunk_size(arena) else {
            let need = (MIN_CHUNK + CHUNK_OVERHEAD) as usize;
            let template = "err upload needs %d bytes of arena, this board has %d";
            return l.printf(template, &[], &[need, arena]).send(io);
        };
        if let Err(e) = self.store.begin(r.len, r.crc, r.single) {
            return l.text("err ").err(&e).send(io);
        }
        if r.single {
            l.text("single slot: the old model is erased, none serves until this upload ends")
                .send(io);
        }
        l.text("ready ").num(chunk as u64).send(io);
        self.upload = Some(Upload {
            rx: Receiver::new(r.len, chunk, self.after_cr),
            last: board.ticks(),
        });
    }

    /// One byte of an upload: decoded into the network arena, checked and written by the
    /// receiver; its answer sent. True when every byte is written: commit now.
    #[inline(never)]
    fn upload_byte<IO: Write, B: Platform>(&mut self, b: u8, io: &mut IO, board: &B) -> bool {
        let Some(up) = &mut self.upload else {
            return false;
        };
        up.last = board.ticks();
        self.after_cr = b == b'\r';
        match up
            .rx
            .feed(b, &mut *self.console.buffers.arena, &mut self.store)
        {
            Step::Wait => {}
            Step::Ack(offset) => send_number(io, "ack ", offset, ""),
            Step::Nak(offset, why) => send_number(io, "nak ", offset, why.as_str()),
            Step::Complete(offset) => {
                send_number(io, "ack ", offset, "");
                self.upload = None;
                return true;
            }
            Step::Abandon(why) => {
                // The rest of a line that is not a chunk is not a command either.
                self.discard = !matches!(b, b'\r' | b'\n');
                self.abandon(why, io);
            }
        }
        false
    }

    /// Every byte is written: the store reads the model back and checks it, the session
    /// checks that it fits the buffers, and only then the store records it as served.
    #[inline(never)]
    fn commit<IO: Write>(&mut self, io: &mut IO) {
        let b = &self.console.buffers;
        let (words, outputs) = (b.arena.len(), b.logits.len());
        match self.store.commit_if(|m| check_fits(m, words, outputs)) {
            Ok(_) => self.announce(io),
            Err(e) => send_error(io, "err upload refused: ", &e),
        }
        self.console.prompt(io);
    }

    /// After a commit: the new model's line and `ok`.
    #[inline(never)]
    fn announce<IO: Write>(&self, io: &mut IO) {
        let loaded = self.store.model();
        match fits(&loaded, &self.console.buffers) {
            Ok(m) => {
                model_line(io, m, &self.store);
                let _ = io.write_all(b"ok\r\n");
            }
            Err(e) => send_error(io, "err ", &e),
        }
    }

    /// Gives the upload up (the old model stays served) and goes back to the commands.
    #[inline(never)]
    fn abandon<IO: Write>(&mut self, why: Abandon, io: &mut IO) {
        self.upload = None;
        self.store.abort();
        let mut l = Line::new();
        l.text("err upload abandoned: ");
        match why {
            Abandon::Timeout => l.printf("no data for %d s", &[], &[TIMEOUT_SECONDS as usize]),
            Abandon::NotAChunk => l.text("a line that is not a chunk"),
            Abandon::TooManyBadChunks => {
                l.printf("%d bad chunks in a row", &[], &[MAX_BAD_IN_ROW as usize])
            }
            Abandon::Store(e) => l.err(&e),
        }
        .send(io);
        self.console.prompt(io);
    }
}

/// Sends `head`, `n` in decimal, and ` tail` if `tail` is not empty, as one line.
#[inline(never)]
fn send_number<IO: Write>(io: &mut IO, head: &str, n: u32, tail: &str) {
    let mut l = Line::new();
    l.text(head).num(n as u64);
    if !tail.is_empty() {
        l.text(" ").text(tail);
    }
    l.send(io);
}

/// Sends `head` and the error's message as one line.
#[inline(never)]
fn send_error<IO: Write>(io: &mut IO, head: &str, e: &Error) {
    Line::new().text(head).err(e).send(io);
}

/// The model line of `info`, the banner and a commit.
fn model_line<IO: Write, P: Partition>(io: &mut IO, m: &Model<'_>, store: &ModelStore<P>) {
    let mut l = Line::new();
    let c = m.config();
    let names = [["rnn", "gru", "lstm"][c.cell as usize], c.task.name()];
    let numbers = [
        m.hidden(),
        m.layer_count(),
        m.vocab_size(),
        m.param_count(),
        store.active().map_or(0, |a| a.len as usize),
        m.ram_bytes(),
        m.macs_per_char(),
    ];
    let template = "model %s hidden %d layers %d %s vocab %d params %d bytes %d ram %d macs %d";
    l.printf(template, &names, &numbers).send(io);
    #[cfg(feature = "words")]
    if let (Some(w), Some(max)) = (m.word_vocab(), m.max_words()) {
        let layout = match m.input_layout() {
            crate::InputLayout::Folded => "folded",
            crate::InputLayout::Apart { .. } => "apart",
        };
        let numbers = [w.tokens() - crate::words::SPECIALS, max];
        l.printf("words %d max_words %d input %s", &[layout], &numbers)
            .send(io);
    }
    #[cfg(feature = "seq2seq")]
    if c.task == Task::Seq2seq {
        let phonemes = m.outputs().saturating_sub(1);
        let numbers = [phonemes, c.embed as usize, crate::seq2seq::MAX_INPUT];
        l.printf("phonemes %d embed %d max_input %d", &[], &numbers)
            .send(io);
    }
}

/// Writes the `err` line of a `gen`, `classify`, `text` or `pronounce` that failed.
#[inline(never)]
fn fail_line<IO: Write>(fail: GenFail, io: &mut IO) {
    let mut l = Line::new();
    l.text("err ");
    match fail {
        GenFail::NoModel(e) => l.no_model("no valid model", &e),
        GenFail::Failed(e) => l.err(&e),
        GenFail::Interrupted => l.text("input arrived during the reply; stopped"),
        #[cfg(feature = "seq2seq")]
        GenFail::NotSeq2seq(task) => l
            .text("pronounce needs an encoder-decoder; this model's task is ")
            .text(task.name()),
    };
    l.send(io);
}

/// Writes a parse error's `err` line.
#[inline(never)]
fn parse_error<IO: Write>(e: ParseError<'_>, io: &mut IO) {
    let mut l = Line::new();
    l.text("err ");
    match e {
        ParseError::BadValue { key, expected } => {
            l.text("bad ").text(key).text(": expected ").text(expected)
        }
        ParseError::UnknownSetting(k) => {
            const TAIL: &str = " (seed, temp, topk, minp, prefix, maxlen)";
            l.text("unknown setting ").input(k, TAIL.len()).text(TAIL)
        }
        ParseError::Usage(u) => l.text("usage: ").text(u),
    }
    .send(io);
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
        ("RAM for the state", state_words(m)?, arena_words),
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

/// Words of arena the model's network needs ([`NetQ`], or an encoder–decoder's).
fn state_words(m: &Model<'_>) -> Result<usize, Error> {
    #[cfg(feature = "seq2seq")]
    if m.task() == Task::Seq2seq {
        return crate::seq2seq::Seq2seqQ::needs(m);
    }
    Ok(NetQ::needs(m))
}

/// The model of `loaded` if it fits the buffers.
fn fits<'a, 'm>(
    loaded: &'a Result<Model<'m>, Error>,
    b: &Buffers<'_>,
) -> Result<&'a Model<'m>, Error> {
    let m = loaded.as_ref().map_err(|e| *e)?;
    check_fits(m, b.arena.len(), b.logits.len()).map(|()| m)
}

/// The model if there is one and it does `task`.
fn model_for<'a, 'm>(
    model: Result<&'a Model<'m>, Error>,
    task: Task,
) -> Result<&'a Model<'m>, GenFail> {
    let model = model.map_err(GenFail::NoModel)?;
    if model.task() != task {
        return Err(GenFail::Failed(Error::WrongTask(model.task())));
    }
    Ok(model)
}

/// Why a `gen`, `classify`, `text` or `pronounce` ended without `ok`.
enum GenFail {
    /// The partition holds no usable model.
    NoModel(Error),
    /// Settings or prefix refused.
    Failed(Error),
    /// Input arrived during the reply.
    Interrupted,
    /// `pronounce` on a model of this other task.
    #[cfg(feature = "seq2seq")]
    NotSeq2seq(Task),
}

/// Whether `cmd` is `pronounce` (a command only builds with `seq2seq` know).
fn is_pronounce(cmd: &Command<'_>) -> bool {
    #[cfg(feature = "seq2seq")]
    return matches!(cmd, Command::Pronounce(_));
    #[cfg(not(feature = "seq2seq"))]
    {
        let _ = cmd;
        false
    }
}

/// The `help` text.
const HELP: &[&str] = &[
    "commands:",
    "  help                  this text",
    "  info                  firmware, board, capacity, model",
    "  gen [N] [key=value]   N names (default 1); keys: seed temp topk minp prefix maxlen",
    "  classify NAME...      label and probability of each name (classifiers)",
    #[cfg(feature = "words")]
    "  classify TEXT         label and probability of a text (word classifiers)",
    #[cfg(feature = "words")]
    "  text                  then a text's lines, an empty line ends it: its label",
    #[cfg(feature = "seq2seq")]
    "  pronounce WORD...     the phonemes of each word (encoder-decoders)",
    "  set <key> <value>     keep a setting for the next gens",
    "  settings              show the settings",
    "  stats                 measurements of the last gen",
    "  echo on|off           echo typed characters (off for programs)",
    "  upload LEN CRC [single]  receive a model (micrornn device upload sends it)",
    "  reset                 restart the board",
    "every reply ends with a line 'ok' or 'err <reason>'",
];

/// Bytes of an output line formatted in a [`Line`].
const LINE_CAPACITY: usize = 100;

/// One output line being formatted (truncated if longer than its buffer).
struct Line(heapless::String<LINE_CAPACITY>);

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

    /// Appends text that came in (a command, a key) escaped as [`Text::escaped`] does,
    /// cut with `...` where it would leave fewer than `room` bytes for the rest of the line.
    fn input(&mut self, s: &str, room: usize) -> &mut Self {
        let limit = LINE_CAPACITY.saturating_sub(room);
        for (at, c) in s.char_indices() {
            let mut buf = [0; 4];
            let shown = escape_char(c, &mut buf);
            let last = at + c.len_utf8() == s.len();
            let need = shown.len() + if last { 0 } else { 3 };
            if self.0.len() + need > limit {
                return self.text("...");
            }
            self.text(shown);
        }
        self
    }

    /// Appends an error's message.
    fn err(&mut self, e: &Error) -> &mut Self {
        e.write_to(self);
        self
    }

    /// Appends `what` and, unless it says nothing more, `: ` and the error's message.
    fn no_model(&mut self, what: &str, e: &Error) -> &mut Self {
        self.text(what);
        if *e != Error::NoModel {
            self.text(": ").err(e);
        }
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
