//! Uploads through the whole session over a simulated NOR flash: the host's sender on one
//! side, `Session::poll` on the other, a fake clock, and a proxy that can damage or cut
//! the line. The new model serves exactly as a session booted on it; every failure leaves
//! the old one serving.

use micrornn::format::{self, CellKind, Task};
use micrornn::upload::{chunk_line, chunk_line_len, command, Event, Request, Sender};

// ---- a model file of any cell, task and size ----

mod store_common;

/// A valid model: `cell`, one layer, `hidden` units, vocabulary "abcde" (7 tokens); a
/// classifier has the labels `x`, `y`, `z`. Random int8 weights from `seed`.
fn model_file(cell: CellKind, task: Task, hidden: usize, seed: u64) -> Vec<u8> {
    let labels = if task == Task::Classify {
        "x\ny\nz"
    } else {
        ""
    };
    store_common::model_of(cell, task, "abcde", labels, hidden, seed)
}

// ---- the device: a session over a simulated flash, a serial line, a clock ----

mod session_common;

use session_common::{store_with, Device};

// ---- the host: the sender, through a proxy that may damage or drop lines ----

/// What the proxy does with the `n`-th chunk line (from 0, re-sends counted).
enum Proxy {
    Pass,
    /// Replaces it with these bytes.
    Replace(Vec<u8>),
    /// Sends nothing more (the cable is out).
    Cut,
}

/// How an upload went.
#[derive(Debug)]
struct Outcome {
    /// The device's lines after the command, up to and including `ok` or `err`.
    replies: Vec<String>,
    /// Bytes the host sent (command and chunk lines).
    sent: usize,
    /// Bytes the device sent back.
    received: usize,
    /// The sender's last event.
    done: bool,
}

fn upload(d: &mut Device, model: &[u8], single: bool, proxy: impl Fn(usize) -> Proxy) -> Outcome {
    let req = Request {
        len: model.len() as u32,
        crc: format::model_crc(model),
        single,
    };
    let cmd = format!("{}\r\n", command(&req));
    let before = d.serial.output.len();
    d.send(cmd.as_bytes());
    let mut sent = cmd.len();
    let mut sender = Sender::new(model.len() as u32);
    let (mut replies, mut n, mut done) = (vec![], 0, false);
    'talk: loop {
        let lines = d.take();
        if lines.is_empty() {
            break; // the device waits for more
        }
        for line in lines {
            replies.push(line.clone());
            match sender.on_line(&line) {
                Event::Send => {
                    let (offset, range) = sender.current();
                    let mut out = vec![0; chunk_line_len(range.len())];
                    chunk_line(offset, &model[range], &mut out).unwrap();
                    let bytes = match proxy(n) {
                        Proxy::Pass => out,
                        Proxy::Replace(b) => b,
                        Proxy::Cut => break 'talk,
                    };
                    n += 1;
                    sent += bytes.len();
                    d.send(&bytes);
                }
                Event::Wait | Event::Committing => {}
                Event::Done => {
                    done = true;
                    break 'talk;
                }
                Event::Failed(_) => break 'talk,
            }
        }
    }
    Outcome {
        replies,
        sent,
        received: d.serial.output.len() - before,
        done,
    }
}

/// `gen 5 seed=3` on a session booted afresh on `model`, and the same on `d`.
fn same_names_as_a_fresh_boot(d: &mut Device, model: &[u8]) {
    let mut fresh = Device::boot(store_with(Some(model)), d.arena_words);
    let want = fresh.ask("gen 5 seed=3 temp=0.9");
    assert_eq!(want.len(), 6, "{want:?}");
    assert_eq!(want.last().unwrap(), "ok");
    assert_eq!(d.ask("gen 5 seed=3 temp=0.9"), want);
}

fn info_line(d: &mut Device, start: &str) -> String {
    let info = d.ask("info");
    info.into_iter()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no {start} line"))
}

fn model_a() -> Vec<u8> {
    model_file(CellKind::Gru, Task::Generate, 32, 1)
}

fn model_b() -> Vec<u8> {
    model_file(CellKind::Lstm, Task::Generate, 24, 2)
}

// ---- tests ----

#[test]
fn upload_a_then_b_then_a_serves_each_as_a_fresh_boot() {
    let (a, b) = (model_a(), model_b());
    let mut d = Device::boot(store_with(Some(&a)), 256);
    assert!(info_line(&mut d, "model ").starts_with("model gru hidden 32 layers 1 generate"));
    // info's crc is the one each model file carries (its last 4 bytes), not the CRC of
    // the whole file (always 2144df1c: the residue of a file that ends with its own CRC).
    let crc = |m: &[u8]| format!("{:08x}", format::model_crc(m));
    assert_eq!(format::model_crc(&a).to_le_bytes(), a[a.len() - 4..]);
    assert_eq!(format::crc32(&a), 0x2144_df1c);
    assert_ne!(crc(&a), crc(&b));
    assert_eq!(
        info_line(&mut d, "slot "),
        format!("slot a seq 1 crc {}", crc(&a))
    );
    for (model, slot, seq, cell) in [(&b, "b", 2, "lstm"), (&a, "a", 3, "gru")] {
        let o = upload(&mut d, model, false, |_| Proxy::Pass);
        assert!(o.done, "{o:?}");
        assert_eq!(o.replies[0], "ready 512");
        assert!(o.replies[o.replies.len() - 2].starts_with(&format!("model {cell} ")));
        assert_eq!(
            info_line(&mut d, "slot "),
            format!("slot {slot} seq {seq} crc {}", crc(model))
        );
        same_names_as_a_fresh_boot(&mut d, model);
    }
    // A reset comes back serving the last upload, from the flash.
    assert_eq!(d.ask("reset"), ["ok"]);
    assert_eq!(d.clock.resets.get(), 1);
    let mut d = d.reboot();
    assert_eq!(
        info_line(&mut d, "slot "),
        format!("slot a seq 3 crc {}", crc(&a))
    );
    same_names_as_a_fresh_boot(&mut d, &a);
}

#[test]
fn the_first_upload_into_an_empty_store() {
    let a = model_a();
    let mut d = Device::boot(store_with(None), 256);
    assert_eq!(d.ask("gen 1"), ["err no valid model"]);
    assert_eq!(info_line(&mut d, "slot"), "slot none");
    assert!(upload(&mut d, &a, false, |_| Proxy::Pass).done);
    same_names_as_a_fresh_boot(&mut d, &a);
}

#[test]
fn a_cable_pulled_half_way_times_out_and_the_old_model_serves() {
    let (a, b) = (model_a(), model_b());
    let mut d = Device::boot(store_with(Some(&a)), 256);
    let o = upload(&mut d, &b, false, |n| {
        if n < 3 {
            Proxy::Pass
        } else {
            Proxy::Cut
        }
    });
    assert!(!o.done);
    assert_eq!(o.replies[1..], ["ack 0", "ack 512", "ack 1024"]);
    d.wait(2999);
    assert_eq!(d.take(), Vec::<String>::new(), "not yet");
    d.wait(1);
    assert_eq!(d.take(), ["err upload abandoned: no data for 3 s"]);
    assert!(info_line(&mut d, "slot ").starts_with("slot a seq 1 "));
    same_names_as_a_fresh_boot(&mut d, &a);
    // ...and the next upload goes through.
    assert!(upload(&mut d, &b, false, |_| Proxy::Pass).done);
    same_names_as_a_fresh_boot(&mut d, &b);
}

#[test]
fn a_corrupted_chunk_is_refused_sent_again_and_the_upload_succeeds() {
    let (a, b) = (model_a(), model_b());
    let mut d = Device::boot(store_with(Some(&a)), 256);
    let mut flipped = vec![0; chunk_line_len(512)];
    chunk_line(512, &b[512..1024], &mut flipped).unwrap();
    flipped[300] ^= 0x01; // a bit flipped in transit
    let o = upload(&mut d, &b, false, |n| match n {
        1 | 2 => Proxy::Replace(flipped.clone()),
        _ => Proxy::Pass,
    });
    assert!(o.done, "{o:?}");
    assert_eq!(
        o.replies[1..5],
        ["ack 0", "nak 512 crc", "nak 512 crc", "ack 512"]
    );
    same_names_as_a_fresh_boot(&mut d, &b);
    // Four bad ones in a row: abandoned, the old model serves.
    let o = upload(&mut d, &a, false, |n| match n {
        1.. => Proxy::Replace(flipped.clone()),
        _ => Proxy::Pass,
    });
    assert!(!o.done);
    assert_eq!(
        o.replies.last().unwrap(),
        "err upload abandoned: 4 bad chunks in a row"
    );
    same_names_as_a_fresh_boot(&mut d, &b);
}

#[test]
fn a_line_that_is_not_a_chunk_abandons_and_the_commands_come_back() {
    let (a, b) = (model_a(), model_b());
    let mut d = Device::boot(store_with(Some(&a)), 256);
    let o = upload(&mut d, &b, false, |n| match n {
        2 => Proxy::Replace(b"info\r\n".to_vec()),
        _ => Proxy::Pass,
    });
    assert!(!o.done);
    assert_eq!(
        o.replies[1..],
        [
            "ack 0",
            "ack 512",
            "err upload abandoned: a line that is not a chunk"
        ]
    );
    // The rest of that line ("nfo") was dropped, not run.
    assert_eq!(d.ask("settings").len(), 2);
    same_names_as_a_fresh_boot(&mut d, &a);
    // Chunk lines after the abandon are too long for a command; nothing breaks.
    let mut late = vec![0; chunk_line_len(512)];
    chunk_line(1024, &b[1024..1536], &mut late).unwrap();
    d.send(&late);
    assert_eq!(d.take(), ["err line too long (max 127 bytes)"]);
    same_names_as_a_fresh_boot(&mut d, &a);
}

#[test]
fn refusals_before_anything_is_erased() {
    let a = model_a();
    let mut d = Device::boot(store_with(Some(&a)), 256);
    let slot = d.session.store().slot_capacity();
    let big = model_file(CellKind::Rnn, Task::Generate, 200, 5);
    assert!(big.len() > slot, "{} bytes", big.len());
    let o = upload(&mut d, &big, false, |_| Proxy::Pass);
    assert_eq!(
        o.replies,
        [format!(
            "err model is {} bytes, a slot holds {slot} (--single-slot uses the whole partition)",
            big.len()
        )]
    );
    let whole = d.session.store().partition_capacity();
    for (line, why) in [
        (
            "upload 0 00000000".to_string(),
            "err upload: empty model".to_string(),
        ),
        (
            format!("upload {} 00000000 single", whole + 1),
            format!(
                "err model is {} bytes, the partition holds {whole}",
                whole + 1
            ),
        ),
        (
            "upload 12".to_string(),
            "err usage: upload <len> <crc32 as 8 hex digits> [single]".to_string(),
        ),
    ] {
        assert_eq!(d.ask(&line), [why]);
    }
    same_names_as_a_fresh_boot(&mut d, &a);
    let mut d = d.reboot();
    assert!(info_line(&mut d, "slot ").starts_with("slot a seq 1 "));
    same_names_as_a_fresh_boot(&mut d, &a);
}

#[test]
fn a_model_that_does_not_fit_the_ram_is_refused_before_its_record() {
    // 70 words: 256-byte chunks; a 16-unit RNN fits, a 32-unit GRU does not.
    let small = model_file(CellKind::Rnn, Task::Generate, 16, 3);
    let mut d = Device::boot(store_with(Some(&small)), 70);
    let o = upload(&mut d, &model_a(), false, |_| Proxy::Pass);
    assert_eq!(o.replies[0], "ready 256");
    assert_eq!(
        o.replies.last().unwrap(),
        "err upload refused: RAM for the state too small: needs 384 bytes, has 280 bytes"
    );
    same_names_as_a_fresh_boot(&mut d, &small);
    let mut d = d.reboot();
    assert!(info_line(&mut d, "slot ").starts_with("slot a seq 1 "));
    same_names_as_a_fresh_boot(&mut d, &small);
    // Below 264 bytes of arena there is no room for a chunk.
    let mut d = Device::boot(store_with(Some(&small)), 65);
    assert_eq!(
        d.ask("upload 100 00000000"),
        ["err upload needs 264 bytes of arena, this board has 260"]
    );
}

#[test]
fn single_slot_warns_and_an_interrupted_one_leaves_no_model() {
    let (a, b) = (model_a(), model_b());
    let big = model_file(CellKind::Rnn, Task::Generate, 200, 5);
    let mut d = Device::boot(store_with(Some(&a)), 256);
    let o = upload(&mut d, &big, true, |n| {
        if n < 2 {
            Proxy::Pass
        } else {
            Proxy::Cut
        }
    });
    assert_eq!(
        o.replies[0],
        "single slot: the old model is erased, none serves until this upload ends"
    );
    d.wait(3000);
    assert_eq!(d.take(), ["err upload abandoned: no data for 3 s"]);
    assert_eq!(d.ask("gen 1"), ["err no valid model"]);
    let mut d = d.reboot();
    assert_eq!(info_line(&mut d, "slot"), "slot none");
    assert!(upload(&mut d, &big, true, |_| Proxy::Pass).done);
    assert!(info_line(&mut d, "slot ").starts_with("slot single seq "));
    same_names_as_a_fresh_boot(&mut d, &big);
    // A two-slot upload after it replaces it.
    assert!(upload(&mut d, &b, false, |_| Proxy::Pass).done);
    same_names_as_a_fresh_boot(&mut d, &b);
}

#[test]
fn a_classifier_is_accepted_and_serves_classify() {
    let a = model_a();
    let c = model_file(CellKind::Rnn, Task::Classify, 16, 8);
    let mut d = Device::boot(store_with(Some(&a)), 256);
    let o = upload(&mut d, &c, false, |_| Proxy::Pass);
    assert!(o.done, "{o:?}");
    assert!(o.replies[o.replies.len() - 2].starts_with("model rnn hidden 16 layers 1 classify"));
    assert_eq!(
        d.ask("gen 1"),
        ["err this model is a classifier: use classify NAME"]
    );
    let mut fresh = Device::boot(store_with(Some(&c)), 256);
    let want = fresh.ask("classify abc ed");
    assert_eq!(want.len(), 3);
    assert_eq!(d.ask("classify abc ed"), want);
}

#[test]
fn echo_stays_off_during_an_upload_and_comes_back() {
    let (a, b) = (model_a(), model_b());
    let mut d = Device::boot(store_with(Some(&a)), 256);
    assert!(d.ask("echo on").contains(&"ok".to_string()));
    let o = upload(&mut d, &b, false, |_| Proxy::Pass);
    assert!(o.done, "{o:?}");
    // The command is echoed; no chunk character is.
    assert!(o.replies[0].starts_with("upload "), "{o:?}");
    assert!(o.replies.iter().all(|l| !l.starts_with(':')), "{o:?}");
    d.send(b"info\r");
    let out = String::from_utf8(d.serial.output[d.read..].to_vec()).unwrap();
    assert!(out.starts_with("> info\r\nfirmware "), "{out:?}");
}

#[test]
fn wire_bytes_per_model_byte() {
    for (arena_words, chunk) in [(256, 512), (1026, 4096)] {
        let m = model_file(CellKind::Gru, Task::Generate, 64, 9);
        let mut d = Device::boot(store_with(None), arena_words);
        let o = upload(&mut d, &m, false, |_| Proxy::Pass);
        assert!(o.done);
        assert_eq!(o.replies[0], format!("ready {chunk}"));
        assert_eq!(
            o.sent as u64,
            micrornn::upload::wire_bytes(m.len() as u32, chunk)
        );
        let per_byte = o.sent as f64 / m.len() as f64;
        eprintln!(
            "chunk {chunk}: model {} bytes, host sends {} ({per_byte:.3} per model byte), \
             device sends {}; at 115200 baud {:.2} s",
            m.len(),
            o.sent,
            o.received,
            o.sent as f64 * 10.0 / 115200.0
        );
        assert!(per_byte <= 1.4, "{per_byte}");
    }
}
