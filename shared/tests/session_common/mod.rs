//! What the serial-session tests share: a fake serial line, a fake board with a clock the
//! test moves, a model store over a simulated NOR flash, and a device that runs a
//! `Session` on them, line by line.
//!
//! Besides `shared/tests/*_session.rs`, the end-to-end test `tests/tests/session.rs` and
//! the fuzz target `fuzz/fuzz_targets/session.rs` include this file (`#[path]`): it may
//! use only `std`, `micrornn` and `embedded-io`, which all three crates depend on.

#![allow(dead_code)]

use std::cell::Cell;
use std::collections::VecDeque;
use std::convert::Infallible;

use micrornn::format;
use micrornn::session::{BoardInfo, Buffers, Platform, Session};
use micrornn::store::sim::SimFlash;
use micrornn::store::ModelStore;

/// 64 KiB of NOR flash, 1 KiB pages, 4-byte words: two slots of 32 KiB.
pub type Flash = SimFlash<65536, 1024, 4>;

/// A model store on a leaked flash, as the device's session owns it.
pub type Store = ModelStore<&'static mut Flash>;

/// The board the session describes in `info`.
pub const INFO: BoardInfo = BoardInfo {
    board: "host",
    firmware: "test 0",
    partition_addr: 0x1000,
    partition_len: 65536,
};

/// A serial line: bytes still to arrive, and what the session sent.
#[derive(Default)]
pub struct Serial {
    pub input: VecDeque<u8>,
    pub output: Vec<u8>,
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

/// A board whose clock the test moves (1000 ticks per second, from 0) and which notes a
/// reset; no instruction count, no stack or static RAM measured.
#[derive(Default)]
pub struct Clock {
    pub now: Cell<u64>,
    pub resets: Cell<u32>,
}

impl Platform for Clock {
    fn ticks(&self) -> u64 {
        self.now.get()
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
    fn reset(&self) {
        self.resets.set(self.resets.get() + 1);
    }
}

/// A store holding `model` (put there directly, as a flasher would; in the whole
/// partition when it is larger than a slot), or empty.
pub fn store_with(model: Option<&[u8]>) -> Store {
    let flash: &'static mut Flash = Box::leak(Box::new(Flash::new()));
    let mut store = ModelStore::open(flash);
    if let Some(m) = model {
        let single = m.len() > store.slot_capacity();
        store
            .begin(m.len() as u32, format::model_crc(m), single)
            .unwrap();
        store.write(0, m).unwrap();
        store.commit().unwrap();
    }
    store
}

/// A session over a simulated flash, a serial line and a clock, as a board runs it.
pub struct Device {
    pub session: Session<'static, &'static mut Flash>,
    pub serial: Serial,
    pub clock: Clock,
    /// Output already read by the test.
    pub read: usize,
    pub arena_words: usize,
    pub outputs: usize,
}

impl Device {
    /// A session booted on `store` with an arena of `arena_words` and 64 outputs; the
    /// banner is read and `echo off` sent.
    pub fn boot(store: Store, arena_words: usize) -> Device {
        Device::boot_with_outputs(store, arena_words, 64)
    }

    /// [`Device::boot`] with room for `outputs` outputs.
    pub fn boot_with_outputs(store: Store, arena_words: usize, outputs: usize) -> Device {
        let arena = Box::leak(vec![0i32; arena_words].into_boxed_slice());
        let logits = Box::leak(vec![0i32; outputs].into_boxed_slice());
        let buffers = Buffers { arena, logits };
        let mut d = Device {
            session: Session::new(store, buffers, INFO),
            serial: Serial::default(),
            clock: Clock::default(),
            read: 0,
            arena_words,
            outputs,
        };
        d.session.banner(&mut d.serial);
        d.take();
        assert_eq!(d.ask("echo off"), ["echo off", "ok"]); // echoed: it was on
        d
    }

    /// Sends bytes and lets the session handle them.
    pub fn send(&mut self, bytes: &[u8]) {
        self.serial.input.extend(bytes);
        self.session.poll(&mut self.serial, &self.clock);
    }

    /// The output not yet read, whole lines, without prompts (and empty lines dropped).
    pub fn take(&mut self) -> Vec<String> {
        let out = &self.serial.output[self.read..];
        let end = out
            .windows(2)
            .rposition(|w| w == b"\r\n")
            .map_or(0, |i| i + 2);
        self.read += end;
        String::from_utf8(out[..end].to_vec())
            .unwrap()
            .split("\r\n")
            .map(|l| l.trim_start_matches("> ").to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Sends bytes; returns the reply lines.
    pub fn reply(&mut self, bytes: &[u8]) -> Vec<String> {
        self.send(bytes);
        self.take()
    }

    /// Sends a command line; returns the reply lines.
    pub fn ask(&mut self, line: &str) -> Vec<String> {
        self.reply(format!("{line}\r\n").as_bytes())
    }

    /// Moves the clock by `ms` milliseconds and polls.
    pub fn wait(&mut self, ms: u64) {
        self.clock.now.set(self.clock.now.get() + ms);
        self.session.poll(&mut self.serial, &self.clock);
    }

    /// The device after a reset: the same flash opened again, the same buffers' sizes.
    pub fn reboot(self) -> Device {
        let flash = self.session.into_store().into_partition();
        Device::boot_with_outputs(ModelStore::open(flash), self.arena_words, self.outputs)
    }
}
