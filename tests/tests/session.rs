//! The serial session, run on the host with a scripted byte stream: protocol, errors,
//! and the same names as `micrornn generate`.

// The serial line, board and flash of the library's session tests.
#[path = "../../shared/tests/session_common/mod.rs"]
mod session_common;

use micrornn::sampler::Settings;
use micrornn::session::{Buffers, Session};
use micrornn::store::ModelStore;
use micrornn_tests::{small_names, tiny_config, train_tiny};
use micrornn_trainer::eval::host_model::generate_names;
use session_common::{Clock, Flash, Serial, INFO};

/// Runs a session over a model store holding `model` (put there through the store, which
/// refuses a damaged one; an empty `model` leaves the store empty), sending `script` one
/// line at a time (the next line only once the session has read the previous one, as a
/// client waiting for `ok` does); returns the banner and replies.
fn converse(model: &[u8], arena_words: usize, script: &[u8]) -> String {
    let lines: Vec<&[u8]> = script.split_inclusive(|&b| b == b'\n').collect();
    converse_chunks(model, arena_words, &lines)
}

/// Like [`converse`], but each chunk arrives at once, whatever it holds.
fn converse_chunks(model: &[u8], arena_words: usize, chunks: &[&[u8]]) -> String {
    let mut flash = Box::new(Flash::new());
    let mut store = ModelStore::open(&mut *flash);
    if !model.is_empty() {
        let _ = store
            .begin(
                model.len() as u32,
                micrornn::format::model_crc(model),
                false,
            )
            .and_then(|_| store.write(0, model))
            .and_then(|_| store.commit());
    }
    let (mut arena, mut logits) = (vec![0i32; arena_words], vec![0i32; 64]);
    let buffers = Buffers {
        arena: &mut arena,
        logits: &mut logits,
    };
    let mut session = Session::new(store, buffers, INFO);
    let mut line = Serial::default();
    let board = Clock::default();
    session.banner(&mut line);
    for chunk in chunks {
        line.input.extend(chunk.iter());
        while let Some(b) = line.input.pop_front() {
            session.on_byte(b, &mut line, &board);
        }
    }
    String::from_utf8(line.output).expect("the session writes UTF-8")
}

fn model_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let data = small_names(dir.path(), 2000, 31);
    let (paths, _) = train_tiny(dir.path(), "m", &data, tiny_config(4, 2, 2));
    std::fs::read(paths.out).unwrap()
}

/// Names from the library, as `micrornn generate` makes them.
fn host_names(bytes: &[u8], seed: u64, s: &Settings, prefix: &str, n: usize) -> Vec<String> {
    generate_names(bytes, seed, s, prefix, n).unwrap()
}

/// The reply lines after the banner and the echoed first command (`echo off`).
fn replies(out: &str) -> Vec<&str> {
    out.split("\r\n")
        .skip(3)
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("> "))
        .collect()
}

#[test]
fn gen_gives_the_hosts_names() {
    let bytes = model_bytes();
    let out = converse(&bytes, 64, b"echo off\r\ngen 20 seed=7\r\ngen 15 seed=3 temp=0.7 topk=5 minp=0.05 prefix=ka maxlen=9\n");
    let r = replies(&out);
    assert_eq!(r[0], "ok");
    let want1 = host_names(&bytes, 7, &Settings::default(), "", 20);
    assert_eq!(
        r[1..21],
        want1.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert_eq!(r[21], "ok");
    let s = Settings {
        temperature_milli: 700,
        top_k: 5,
        min_p_milli: 50,
        max_len: 9,
    };
    let want2 = host_names(&bytes, 3, &s, "ka", 15);
    assert_eq!(
        r[22..37],
        want2.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert_eq!(r[37], "ok");
    assert!(want2
        .iter()
        .all(|n| n.starts_with("ka") && n.chars().count() <= 9));
}

#[test]
fn set_keeps_settings_and_info_describes_the_model() {
    let bytes = model_bytes();
    let out = converse(
        &bytes,
        64,
        b"echo off\nset seed 11\nset prefix ma\nsettings\ngen 3\ninfo\n",
    );
    let r = replies(&out);
    assert_eq!(r[..3], ["ok", "ok", "ok"]);
    assert_eq!(r[3], "seed=11 temp=1 topk=0 minp=0 prefix=ma maxlen=24");
    let want = host_names(&bytes, 11, &Settings::default(), "ma", 3);
    assert_eq!(
        r[5..8],
        want.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert!(
        r.iter()
            .any(|l| l.starts_with("model rnn hidden 32 layers 1 generate vocab ")),
        "{r:?}"
    );
    assert!(r.contains(&"capacity ram 256 outputs 64"));
    assert_eq!(r.last(), Some(&"ok"));
}

#[test]
fn malformed_lines_get_err_and_the_session_goes_on() {
    let bytes = model_bytes();
    let mut script = b"echo off\n".to_vec();
    script.extend([b'x'; 300]);
    script.extend(b"\n");
    script.extend(b"gen \xff\xfe\n");
    script.extend(b"frobnicate\n");
    script.extend(b"gen many\n");
    script.extend(b"gen temp=-1\n");
    script.extend(b"gen minp=2\n");
    script.extend(b"gen colour=red\n");
    script.extend(b"gen prefix=4x\n");
    script.extend(b"gen maxlen=1 prefix=abc\n");
    script.extend(b"echo\n");
    script.extend(b"\x00\x01\x02\n");
    script.extend(b"gen 2 seed=1\n");
    let out = converse(&bytes, 64, &script);
    let r = replies(&out);
    let errs: Vec<&str> = r
        .iter()
        .copied()
        .filter(|l| l.starts_with("err "))
        .collect();
    assert_eq!(errs.len(), 11, "{r:?}");
    assert!(errs[0].contains("line too long"));
    assert!(errs[1].contains("not UTF-8"));
    assert!(errs[2].contains("unknown command"));
    assert!(errs[3].contains("bad N"));
    assert!(errs[4].contains("bad temp"));
    assert!(errs[5].contains("bad minp"));
    assert!(errs[6].contains("unknown setting colour"));
    assert!(errs[7].contains("'4' is not in the vocabulary"));
    assert!(errs[8].contains("prefix has 3 characters"));
    assert!(errs[9].contains("usage: echo"));
    assert!(errs[10].contains("unknown command"));
    // ...and then it still works.
    assert_eq!(
        r[r.len() - 3..r.len() - 1],
        host_names(&bytes, 1, &Settings::default(), "", 2)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()[..]
    );
    assert_eq!(r.last(), Some(&"ok"));
}

#[test]
fn input_during_a_reply_stops_it_with_err() {
    let bytes = model_bytes();
    let out = converse_chunks(
        &bytes,
        64,
        &[b"echo off\n", b"gen 500 seed=2\ninfo\n", b"gen 1\n"],
    );
    let r = replies(&out);
    // The first name comes out, then the pending "info" line stops the reply and is dropped.
    assert_eq!(r[1], host_names(&bytes, 2, &Settings::default(), "", 1)[0]);
    assert_eq!(r[2], "err input arrived during the reply; stopped");
    assert_eq!(r.len(), 5, "{r:?}");
    assert_eq!(r[4], "ok");
}

#[test]
fn terminal_echo_backspace_and_prompt() {
    let bytes = model_bytes();
    let out = converse(&bytes, 64, b"hellp\x7f\x08p\r");
    assert!(out.contains("> hellp\x08 \x08\x08 \x08p\r\n"), "{out:?}");
    assert!(
        out.contains("commands:"),
        "help ran after the correction: {out:?}"
    );
}

#[test]
fn bad_or_oversized_models_are_reported_at_boot_and_on_gen() {
    let bytes = model_bytes();
    let mut bad = bytes.clone();
    bad[0] = b'X';
    let mut crc = bytes.clone();
    let mid = crc.len() / 2;
    crc[mid] ^= 1;
    // The store refuses each of them: the session boots with no model, and says so.
    for damaged in [
        &bad[..],
        &vec![0xffu8; 4096],
        &crc,
        &bytes[..bytes.len() - 9],
        &[],
    ] {
        let out = converse(damaged, 64, b"echo off\ngen 1\ninfo\n");
        assert!(
            out.contains("test 0 on host\r\nno valid model\r\n"),
            "{out}"
        );
        let r = replies(&out);
        assert_eq!(r[1], "err no valid model", "{r:?}");
        assert!(
            r.contains(&"slot none") && r.contains(&"model none"),
            "{r:?}"
        );
    }
    // Hidden 32 (64 words: two states of 16, a chunk of 16 units) does not fit 16 words.
    let out = converse(&bytes, 16, b"echo off\ngen 1\n");
    assert!(
        out.contains("RAM for the state too small: needs 256 bytes, has 64 bytes"),
        "{out}"
    );
    assert!(replies(&out)[1].starts_with("err no valid model: RAM for the state too small"));
}

/// A GRU classifier trained for a moment on labelled names.
fn classifier_bytes(dir: &std::path::Path) -> Vec<u8> {
    let data = micrornn_tests::small_labelled(dir, 2000, 23);
    let config = micrornn_trainer::train::config::TrainConfig {
        task: micrornn::format::Task::Classify,
        cell: micrornn::format::CellKind::Gru,
        hidden: 16,
        embed: 8,
        ..tiny_config(3, 2, 1)
    };
    let (paths, _) = train_tiny(dir, "c", &data, config);
    std::fs::read(paths.out).unwrap()
}

#[test]
fn classify_prints_long_names_whole_as_the_host_does() {
    use micrornn_trainer::eval::classifier::classify_names;
    use micrornn_trainer::eval::host_model::HostModel;
    let dir = tempfile::tempdir().unwrap();
    let bytes = classifier_bytes(dir.path());
    let path = dir.path().join("c.mrnn");
    let host = HostModel::open(&path).unwrap();
    let labels = host.labels();
    // Names of 1 to 118 bytes: the longest fills a 127-byte line with `classify `.
    let long: String = "annabelle".chars().cycle().take(118).collect();
    let names = vec![
        long.clone(),
        long[..99].to_string(),
        long[..100].to_string(),
        "anna".to_string(),
        long[..60].to_string(),
    ];
    let mut script = b"echo off\n".to_vec();
    for n in &names {
        script.extend(format!("classify {n}\n").bytes());
    }
    script.extend(format!("classify {} {}\n", &long[..50], &long[..60]).bytes());
    let out = converse(&bytes, 256, &script);
    let r = replies(&out);
    let answers = classify_names(&host, &names).unwrap();
    let host_line = |i: usize| {
        let v = answers[i].0;
        format!(
            "{} {} {}",
            names[i],
            labels[v.label],
            v.prob_str(&mut [0; 6])
        )
    };
    for (i, _) in names.iter().enumerate() {
        assert_eq!(r[1 + 2 * i], host_line(i), "{r:?}");
        assert_eq!(r[2 + 2 * i], "ok");
    }
    // Two names on one line: one answer line each.
    let pair = [long[..50].to_string(), long[..60].to_string()];
    let want: Vec<String> = classify_names(&host, &pair)
        .unwrap()
        .iter()
        .zip(&pair)
        .map(|((v, _), n)| format!("{n} {} {}", labels[v.label], v.prob_str(&mut [0; 6])))
        .collect();
    let at = 1 + 2 * names.len();
    assert_eq!(r[at..at + 2], want[..]);
    assert_eq!(r[at + 2], "ok");
}

#[test]
fn error_replies_escape_control_bytes() {
    let bytes = model_bytes();
    let script: &[u8] =
        b"echo off\n\x1b[2J\x07frob\nfrob\x01x\ngen \x1b]0;pwned\x07=1\nset \x1b[31m 1\n";
    let mut script = script.to_vec();
    script.extend([0x1b; 60]);
    script.push(b'\n');
    let out = converse(&bytes, 64, &script);
    let after_banner = out.split("\r\n").skip(3).collect::<Vec<_>>().join("\n");
    assert!(
        after_banner
            .bytes()
            .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
        "raw control bytes in {after_banner:?}"
    );
    let r = replies(&out);
    assert_eq!(
        r[1], r#"err unknown command "\x1b[2J\x07frob" (try help)"#,
        "{r:?}"
    );
    assert_eq!(r[2], r#"err unknown command "frob\x01x" (try help)"#);
    assert!(
        r[3].starts_with(r#"err unknown setting \x1b]0;pwned\x07 "#),
        "{r:?}"
    );
    assert!(
        r[4].starts_with(r#"err unknown setting \x1b[31m "#),
        "{r:?}"
    );
    // A long one is cut where the line's end would not fit, and says so.
    assert!(
        r[5].starts_with(r#"err unknown command "\x1b\x1b"#),
        "{r:?}"
    );
    assert!(r[5].ends_with(r#"\x1b..." (try help)"#), "{r:?}");
}

#[test]
fn classify_escapes_control_bytes_in_a_models_labels() {
    use micrornn::format::{CellKind, Task};
    use micrornn_trainer::train::params::Dims;
    // A hostile file: labels that would clear the screen and ring the bell.
    let dims = Dims {
        task: Task::Classify,
        outputs: 2,
        ..Dims::generate(CellKind::Rnn, 1, 8, 5)
    };
    let labels = ["\x1b[2Jspam".to_string(), "\x07ham".to_string()];
    let bytes = micrornn_tests::random_model(dims, "anp", &labels, 9);
    let out = converse(&bytes, 64, b"echo off\nclassify anna nap\n");
    let r = replies(&out);
    for line in &r[1..3] {
        assert!(line.bytes().all(|b| b >= 0x20), "{line:?}");
        let label = line.split(' ').nth(1).unwrap();
        assert!([r"\x1b[2Jspam", r"\x07ham"].contains(&label), "{line:?}");
    }
    assert_eq!(r[3], "ok");
}
