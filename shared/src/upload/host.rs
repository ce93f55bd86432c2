//! The host's side of an upload: the command and chunk lines, the device's replies, and
//! which chunk to send next.

use core::ops::Range;

use super::base64::{encode, encoded_len};
use super::{crc_step, Request, CHUNK_OVERHEAD, MAX_TRIES};

/// Bytes of the chunk line for `data_len` data bytes: `:`, base64, CR LF.
pub const fn chunk_line_len(data_len: usize) -> usize {
    1 + encoded_len(data_len + CHUNK_OVERHEAD as usize) + 2
}

/// Writes the chunk line for `data` at `offset` (with `:` and CR LF) into `out`; returns
/// its length, or `None` when `out` is shorter than [`chunk_line_len`].
pub fn chunk_line(offset: u32, data: &[u8], out: &mut [u8]) -> Option<usize> {
    let offset = offset.to_le_bytes();
    let crc = !offset.iter().chain(data).fold(!0, |c, &b| crc_step(c, b));
    let crc = crc.to_le_bytes();
    let bytes = offset.iter().chain(data).chain(&crc).copied();
    *out.first_mut()? = b':';
    let n = 1 + encode(bytes, out.get_mut(1..)?)?;
    out.get_mut(n..n + 2)?.copy_from_slice(b"\r\n");
    Some(n + 2)
}

/// The command line that starts an upload (without its line end).
pub fn command(r: &Request) -> heapless::String<40> {
    let mut s = heapless::String::new();
    let (mut dec, mut hex) = ([0; 20], [0; 8]);
    for part in [
        "upload ",
        crate::text::dec(r.len as u64, &mut dec),
        " ",
        crate::text::hex(r.crc, 8, false, &mut hex),
        if r.single { " single" } else { "" },
    ] {
        let _ = s.push_str(part); // 40 bytes hold the longest command
    }
    s
}

/// Bytes the host sends for a `len`-byte model in `chunk`-byte chunks, the command line
/// (with CR LF) included, when no chunk is sent twice.
pub fn wire_bytes(len: u32, chunk: u32) -> u64 {
    let chunk = chunk.max(1);
    let (full, rest) = ((len / chunk) as u64, (len % chunk) as usize);
    let last = if rest > 0 { chunk_line_len(rest) } else { 0 };
    let request = Request {
        len,
        crc: 0,
        single: false,
    };
    command(&request).len() as u64 + 2 + full * chunk_line_len(chunk as usize) as u64 + last as u64
}

/// One line from the device, as the host reads it during an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `ready <chunk>`.
    Ready(u32),
    /// `ack <offset>`.
    Ack(u32),
    /// `nak <offset> <reason>`.
    Nak(u32, &'a str),
    /// `ok`.
    Ok,
    /// `err <message>`: holds the message.
    Err(&'a str),
    /// Any other line (the model line after the commit, a warning).
    Other(&'a str),
}

/// Reads one line from the device (without its line end).
pub fn parse_reply(line: &str) -> Reply<'_> {
    let line = line.trim_ascii();
    let number = |w: Option<&str>| w.and_then(|w| w.parse::<u32>().ok());
    let mut words = line.splitn(3, ' ');
    let (first, second, rest) = (words.next(), number(words.next()), words.next());
    match (first, second, rest) {
        (Some("ok"), None, None) if line == "ok" => Reply::Ok,
        (Some("ready"), Some(chunk), None) => Reply::Ready(chunk),
        (Some("ack"), Some(offset), None) => Reply::Ack(offset),
        (Some("nak"), Some(offset), Some(reason)) => Reply::Nak(offset, reason),
        _ => match line.strip_prefix("err ") {
            Some(message) => Reply::Err(message),
            None => Reply::Other(line),
        },
    }
}

/// What the host does after a line from the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Send the chunk [`Sender::current`] names (the first one, the next, or again).
    Send,
    /// Nothing to send: wait for the next line.
    Wait,
    /// Every chunk is acknowledged; the device verifies and commits (lines until `ok`).
    Committing,
    /// The device answered `ok` after the last chunk: the new model serves.
    Done,
    /// The upload failed; the message says why (the device's `err`, or the host's).
    Failed(&'a str),
}

/// The host's state of one upload: which chunk to send, and how often it was refused.
#[derive(Clone, Debug)]
pub struct Sender {
    len: u32,
    chunk: u32,
    /// Offset of the chunk to send.
    offset: u32,
    /// Refusals of this chunk.
    tries: u8,
    /// Every chunk acknowledged.
    committing: bool,
}

impl Sender {
    /// An upload of `len` bytes; the chunk size comes with the device's `ready`.
    pub fn new(len: u32) -> Sender {
        Sender {
            len,
            chunk: 0,
            offset: 0,
            tries: 0,
            committing: false,
        }
    }

    /// The chunk to send: its offset and its byte range in the model.
    pub fn current(&self) -> (u32, Range<usize>) {
        let end = self.offset.saturating_add(self.chunk).min(self.len);
        (self.offset, self.offset as usize..end as usize)
    }

    /// Bytes acknowledged so far.
    pub fn acknowledged(&self) -> u32 {
        self.offset
    }

    /// Takes one line from the device.
    pub fn on_line<'a>(&mut self, line: &'a str) -> Event<'a> {
        match parse_reply(line) {
            Reply::Ready(chunk) if self.chunk == 0 && chunk > 0 => {
                self.chunk = chunk;
                Event::Send
            }
            Reply::Ready(_) => Event::Failed("the device sent an unexpected ready"),
            Reply::Ack(offset) if self.chunk > 0 && offset == self.offset => {
                let (_, range) = self.current();
                self.offset = range.end as u32;
                self.tries = 0;
                self.committing = self.offset >= self.len;
                match self.committing {
                    true => Event::Committing,
                    false => Event::Send,
                }
            }
            Reply::Ack(_) => Event::Wait, // an old chunk's, sent again
            Reply::Nak(offset, _) => {
                self.tries = self.tries.saturating_add(1);
                if self.tries > MAX_TRIES {
                    return Event::Failed("a chunk was refused 4 times");
                }
                if offset > self.offset || offset % self.chunk.max(1) != 0 {
                    return Event::Failed("the device asked for a chunk never sent");
                }
                self.offset = offset;
                Event::Send
            }
            Reply::Ok if self.committing => Event::Done,
            Reply::Ok => Event::Failed("the device answered ok before the last chunk"),
            Reply::Err(message) => Event::Failed(message),
            Reply::Other(_) => Event::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse() {
        assert_eq!(parse_reply("ready 512"), Reply::Ready(512));
        assert_eq!(parse_reply("ack 1024\r"), Reply::Ack(1024));
        assert_eq!(parse_reply("nak 512 crc"), Reply::Nak(512, "crc"));
        assert_eq!(parse_reply("ok"), Reply::Ok);
        assert_eq!(
            parse_reply("err upload abandoned: no data for 3 s"),
            Reply::Err("upload abandoned: no data for 3 s")
        );
        for other in [
            "ack",
            "ack x",
            "ack 1 2",
            "nak 5",
            "ready",
            "okay",
            "model rnn",
        ] {
            assert_eq!(parse_reply(other), Reply::Other(other), "{other}");
        }
    }

    #[test]
    fn commands_and_wire_bytes() {
        let r = Request {
            len: 4_294_967_295,
            crc: 0xab,
            single: true,
        };
        assert_eq!(command(&r), "upload 4294967295 000000ab single");
        let line_512 = 1 + 696 + 2;
        assert_eq!(chunk_line_len(512), line_512);
        let cmd = "upload 1100 00000000\r\n".len() as u64;
        let want = cmd + 2 * line_512 as u64 + chunk_line_len(76) as u64;
        assert_eq!(wire_bytes(1100, 512), want);
        assert_eq!(chunk_line_len(76), 1 + 4 * 28 + 2);
    }

    #[test]
    fn sender_follows_acks_and_naks() {
        let mut s = Sender::new(1100);
        assert_eq!(s.on_line("ready 512"), Event::Send);
        assert_eq!(s.current(), (0, 0..512));
        assert_eq!(s.on_line("ack 0"), Event::Send);
        assert_eq!(s.current(), (512, 512..1024));
        assert_eq!(s.on_line("ack 0"), Event::Wait);
        for _ in 0..3 {
            assert_eq!(s.on_line("nak 512 crc"), Event::Send);
            assert_eq!(s.current().0, 512);
        }
        assert_eq!(s.on_line("ack 512"), Event::Send);
        assert_eq!(s.current(), (1024, 1024..1100));
        for _ in 0..3 {
            assert_eq!(s.on_line("nak 1024 crc"), Event::Send);
        }
        assert!(matches!(s.on_line("nak 1024 crc"), Event::Failed(_)));
        let mut s = Sender::new(1100);
        assert!(matches!(s.on_line("err too big"), Event::Failed("too big")));
        assert_eq!(s.on_line("ready 512"), Event::Send);
        assert!(matches!(s.on_line("nak 1024 offset"), Event::Failed(_)));
        assert!(matches!(s.on_line("ok"), Event::Failed(_)));
        let mut s = Sender::new(100);
        s.on_line("ready 512");
        assert_eq!(s.current(), (0, 0..100));
        assert_eq!(s.on_line("ack 0"), Event::Committing);
        assert_eq!(s.on_line("model rnn hidden 32"), Event::Wait);
        assert_eq!(s.on_line("ok"), Event::Done);
        assert_eq!(s.acknowledged(), 100);
    }

    #[test]
    fn chunk_lines_need_room() {
        let mut out = [0u8; 24];
        assert_eq!(chunk_line(0, b"abcd", &mut out), Some(chunk_line_len(4)));
        assert_eq!(&out[..1], b":");
        assert_eq!(&out[chunk_line_len(4) - 2..chunk_line_len(4)], b"\r\n");
        assert_eq!(
            chunk_line(0, b"abcd", &mut out[..chunk_line_len(4) - 1]),
            None
        );
        assert_eq!(chunk_line(0, b"", &mut []), None);
    }
}
