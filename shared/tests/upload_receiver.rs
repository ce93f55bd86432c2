//! The device's upload receiver fed by the host's helpers: every chunk checked before it
//! is written, every bad one refused with its reason, and the give-up rules.

use micrornn::upload::{
    chunk_line, chunk_line_len, chunk_size, Abandon, Event, Nak, Receiver, Sender, Step, Target,
    MAX_BAD_IN_ROW,
};
use micrornn::Error;

/// A model being written: every byte at most once, as on NOR flash.
struct Flash {
    bytes: Vec<Option<u8>>,
    writes: usize,
    fail_at: Option<usize>,
    /// The flash's write unit: every write but the last is a multiple of it.
    unit: usize,
    ended: bool,
}

impl Flash {
    fn new(len: usize) -> Flash {
        Flash {
            bytes: vec![None; len],
            writes: 0,
            fail_at: None,
            unit: 4,
            ended: false,
        }
    }
    fn contents(&self) -> Vec<u8> {
        self.bytes
            .iter()
            .map(|b| b.expect("every byte written"))
            .collect()
    }
}

impl Target for Flash {
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        self.writes += 1;
        if self.fail_at == Some(self.writes) {
            return Err(Error::Malformed);
        }
        assert!(!self.ended, "a write after a partial unit");
        self.ended = data.len() % self.unit != 0;
        for (i, &b) in data.iter().enumerate() {
            let slot = &mut self.bytes[offset as usize + i];
            assert!(slot.is_none(), "byte {} written twice", offset as usize + i);
            *slot = Some(b);
        }
        Ok(())
    }
    fn unit(&self) -> usize {
        self.unit
    }
}

fn model(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
}

fn line(offset: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0; chunk_line_len(data.len())];
    let n = chunk_line(offset, data, &mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

/// A receiver with a word arena of `arena_words` (as the session lends it).
struct Device {
    rx: Receiver,
    arena: Vec<i32>,
    flash: Flash,
}

impl Device {
    fn new(len: usize, arena_words: usize) -> Device {
        let chunk = chunk_size(4 * arena_words).unwrap();
        Device {
            rx: Receiver::new(len as u32, chunk, true),
            arena: vec![0; arena_words],
            flash: Flash::new(len),
        }
    }
    /// Feeds `bytes`; returns every step that is not `Wait`.
    fn feed(&mut self, bytes: &[u8]) -> Vec<Step> {
        bytes
            .iter()
            .map(|&b| self.rx.feed(b, &mut self.arena[..], &mut self.flash))
            .filter(|s| *s != Step::Wait)
            .collect()
    }
}

#[test]
fn a_whole_model_arrives_through_the_word_arena() {
    let m = model(1300);
    let mut d = Device::new(m.len(), 256); // 1 KB arena → 512-byte chunks
    assert_eq!(d.rx.chunk(), 512);
    let mut sender = Sender::new(m.len() as u32);
    assert_eq!(sender.on_line("ready 512"), Event::Send);
    let mut replies = vec![];
    loop {
        let (offset, range) = sender.current();
        let steps = d.feed(&line(offset, &m[range]));
        assert_eq!(steps.len(), 1);
        let reply = match steps[0] {
            Step::Ack(o) | Step::Complete(o) => format!("ack {o}"),
            other => panic!("{other:?}"),
        };
        replies.push(steps[0]);
        match sender.on_line(&reply) {
            Event::Send => continue,
            Event::Committing => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        replies,
        [Step::Ack(0), Step::Ack(512), Step::Complete(1024)]
    );
    assert_eq!(d.flash.contents(), m);
    assert_eq!(d.rx.received(), 1300);
    // 64-byte pieces: 8 + 8 + 5 writes.
    assert_eq!(d.flash.writes, 21);
}

#[test]
fn line_endings_cr_lf_cr_or_lf() {
    let m = model(600);
    let mut d = Device::new(m.len(), 256);
    let mut first = line(0, &m[..512]);
    first.truncate(first.len() - 1); // CR only
    assert_eq!(d.feed(b"\n"), []); // the LF of the command's CR LF
    assert_eq!(d.feed(&first), [Step::Ack(0)]);
    let mut second = line(512, &m[512..]);
    second.truncate(second.len() - 2);
    second.push(b'\n'); // LF only
    assert_eq!(d.feed(&second), [Step::Complete(512)]);
    assert_eq!(d.flash.contents(), m);
}

#[test]
fn every_malformed_chunk_gets_nak_with_its_reason() {
    let m = model(1100);
    let good = line(0, &m[..512]);
    let body = &good[1..good.len() - 2];
    let mut flipped = good.clone();
    flipped[40] = if flipped[40] == b'A' { b'B' } else { b'A' };
    let mut long = good.clone();
    long.splice(1..1, b"AAAA".iter().copied());
    let cases: Vec<(Vec<u8>, Nak)> = vec![
        (
            [b":", &body[..body.len() - 1], b"\r\n"].concat(),
            Nak::Base64,
        ),
        (
            [b":", &body[..100], b"!", &body[101..], b"\r\n"].concat(),
            Nak::Base64,
        ),
        ([b":", body, b"====\r\n"].concat(), Nak::Base64),
        (b":\r\n".to_vec(), Nak::Length),
        (b":AAAAAAAA\r\n".to_vec(), Nak::Length), // 6 bytes: shorter than offset + CRC
        (long, Nak::Length),                      // more than chunk + 8 bytes
        (flipped, Nak::Crc),
        (line(512, &m[512..1024]), Nak::Offset), // ahead of the expected chunk
        (line(7, &m[7..519]), Nak::Offset),
        (line(0, &m[..511]), Nak::Length), // short, not the last
        (line(0, &m[..100]), Nak::Length),
    ];
    for (bad, why) in cases {
        let mut d = Device::new(m.len(), 256);
        assert_eq!(
            d.feed(&bad),
            [Step::Nak(0, why)],
            "{}",
            String::from_utf8_lossy(&bad)
        );
        assert_eq!(d.flash.writes, 0, "nothing written for a bad chunk");
        // The same chunk sent again goes through.
        assert_eq!(d.feed(&good), [Step::Ack(0)]);
    }
}

#[test]
fn a_flipped_bit_anywhere_in_a_line_is_never_written() {
    let m = model(700);
    let good = line(0, &m[..512]);
    let last = line(512, &m[512..]);
    for at in 1..good.len() - 2 {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[at] ^= 1 << bit;
            let mut d = Device::new(m.len(), 256);
            let steps = d.feed(&bad);
            let refused = matches!(steps[..], [Step::Nak(0, _)]);
            // A bit that turns a character into CR/LF ends the line early (refused), and
            // the rest of the line is then not a chunk line.
            let early_end = matches!(steps[..], [Step::Nak(0, _), Step::Abandon(_), ..]);
            assert!(refused || early_end, "byte {at} bit {bit}: {steps:?}");
            assert_eq!(d.flash.writes, 0);
            if refused {
                assert_eq!(d.feed(&good), [Step::Ack(0)]);
                assert_eq!(d.feed(&last), [Step::Complete(512)]);
                assert_eq!(d.flash.contents(), m);
            }
        }
    }
}

#[test]
fn a_chunk_sent_again_is_acked_without_writing() {
    let m = model(1500);
    let mut d = Device::new(m.len(), 256);
    let first = line(0, &m[..512]);
    assert_eq!(d.feed(&first), [Step::Ack(0)]);
    let writes = d.flash.writes;
    assert_eq!(d.feed(&first), [Step::Ack(0)]);
    assert_eq!(d.flash.writes, writes);
    assert_eq!(d.feed(&line(512, &m[512..1024])), [Step::Ack(512)]);
    assert_eq!(d.feed(&first), [Step::Ack(0)]);
    assert_eq!(d.rx.received(), 1024);
    assert_eq!(d.feed(&line(1024, &m[1024..])), [Step::Complete(1024)]);
    assert_eq!(d.flash.contents(), m);
}

#[test]
fn bad_chunks_in_a_row_abandon_good_ones_reset_the_count() {
    let m = model(1100);
    let mut d = Device::new(m.len(), 256);
    let bad = b":!!!!\r\n";
    for _ in 1..MAX_BAD_IN_ROW {
        assert_eq!(d.feed(bad), [Step::Nak(0, Nak::Base64)]);
    }
    assert_eq!(d.feed(&line(0, &m[..512])), [Step::Ack(0)]);
    for _ in 1..MAX_BAD_IN_ROW {
        assert_eq!(d.feed(bad), [Step::Nak(512, Nak::Base64)]);
    }
    assert_eq!(d.feed(bad), [Step::Abandon(Abandon::TooManyBadChunks)]);
}

#[test]
fn a_line_that_is_not_a_chunk_abandons_at_once() {
    let m = model(1100);
    for input in [&b"info\r\n"[..], b"\r\n", b"\n", b" :AAAA\r\n", b"\x00"] {
        let mut d = Device::new(m.len(), 256);
        assert_eq!(d.feed(&line(0, &m[..512])), [Step::Ack(0)]);
        let steps = d.feed(input);
        assert_eq!(steps[0], Step::Abandon(Abandon::NotAChunk), "{input:?}");
    }
    // The LF of a CR LF is not an empty line; a second LF is.
    let mut d = Device::new(m.len(), 256);
    assert_eq!(d.feed(b"\n\n"), [Step::Abandon(Abandon::NotAChunk)]);
    let mut d = Device::new(m.len(), 256);
    assert_eq!(d.feed(b"\r"), [Step::Abandon(Abandon::NotAChunk)]);
}

#[test]
fn a_store_error_abandons() {
    let m = model(1100);
    let mut d = Device::new(m.len(), 256);
    d.flash.fail_at = Some(3);
    assert_eq!(
        d.feed(&line(0, &m[..512])),
        [Step::Abandon(Abandon::Store(Error::Malformed))]
    );
}

#[test]
fn the_largest_chunk_fits_the_scratch_exactly() {
    let m = model(5000);
    let mut d = Device::new(m.len(), (4096 + 8) / 4);
    assert_eq!(d.rx.chunk(), 4096);
    assert_eq!(d.feed(&line(0, &m[..4096])), [Step::Ack(0)]);
    assert_eq!(d.feed(&line(4096, &m[4096..])), [Step::Complete(4096)]);
    assert_eq!(d.flash.contents(), m);
    // A receiver whose scratch is smaller than its chunk refuses, never overruns.
    let mut rx = Receiver::new(5000, 4096, false);
    let mut small = [0i32; 100];
    let mut flash = Flash::new(5000);
    let steps: Vec<Step> = line(0, &m[..4096])
        .iter()
        .map(|&b| rx.feed(b, &mut small[..], &mut flash))
        .filter(|s| *s != Step::Wait)
        .collect();
    assert_eq!(steps, [Step::Nak(0, Nak::Length)]);
}

#[test]
fn writes_are_whole_flash_units_but_the_last() {
    for (unit, writes) in [(1, 21), (64, 21), (128, 6), (256, 6)] {
        let m = model(1300);
        let mut d = Device::new(m.len(), 256);
        d.flash.unit = unit;
        assert_eq!(d.feed(&line(0, &m[..512])), [Step::Ack(0)]);
        assert_eq!(d.feed(&line(512, &m[512..1024])), [Step::Ack(512)]);
        assert_eq!(d.feed(&line(1024, &m[1024..])), [Step::Complete(1024)]);
        assert_eq!(d.flash.contents(), m);
        assert_eq!(d.flash.writes, writes, "unit {unit}");
    }
}
