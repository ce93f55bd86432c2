//! The firmware under QEMU, on every emulated board (Cortex-M4F, Cortex-M0, Cortex-M33):
//! names over the emulated UART byte-identical to the host's for a model placed in the
//! board's model store, and no model served from a damaged partition. Needs qemu-system-arm:
//! these tests fail (they do not skip) without it.

use std::path::Path;
use std::time::Duration;

use micrornn::format::{CellKind, Task};
use micrornn::sampler::Settings;
use micrornn_tests::{small_labelled, small_names, tiny_config, train_tiny};
use micrornn_trainer::data::labelled::load_labelled;
use micrornn_trainer::device::boards::{BoardKind, BoardSpec};
use micrornn_trainer::device::client::DeviceClient;
use micrornn_trainer::device::emulator::{build_firmware, Emulator};
use micrornn_trainer::eval::classifier::classify_names;
use micrornn_trainer::eval::host_model::{generate_names, HostModel};
use micrornn_trainer::export::board_file::{model_file, FileFormat};
use micrornn_trainer::train::config::TrainConfig;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The boards QEMU emulates.
const QEMU_BOARDS: [BoardKind; 3] = [
    BoardKind::Mps2An386,
    BoardKind::Microbit,
    BoardKind::Mps2An505,
];

fn host_names(bytes: &[u8], seed: u64, s: &Settings, prefix: &str, n: usize) -> Vec<String> {
    generate_names(bytes, seed, s, prefix, n).unwrap()
}

/// Boots `board` with `model` in its partition and returns the running emulator and a
/// synced client.
fn boot(spec: &BoardSpec, model: Option<&Path>) -> (Emulator, DeviceClient) {
    let elf = build_firmware(spec).expect("firmware builds");
    let mut emu = Emulator::boot(spec, &elf, model, false).expect("QEMU boots");
    let client = emu.client(TIMEOUT).expect("the board answers");
    (emu, client)
}

/// Trains `config` on a few thousand names, boots `board` with it and checks `gen` with
/// default and with non-default settings against the host, byte for byte.
fn parity_on(board: BoardKind, config: TrainConfig, banner: &str) {
    let spec = board.spec();
    let dir = tempfile::tempdir().unwrap();
    let data = small_names(dir.path(), 3000, 27);
    let (paths, _) = train_tiny(dir.path(), "m", &data, config);
    let bytes = std::fs::read(&paths.out).unwrap();
    spec.check_fits(&bytes).unwrap();
    let (_emu, mut dev) = boot(&spec, Some(&paths.out));
    assert!(
        dev.banner.iter().any(|l| l.starts_with(banner)),
        "{:?}",
        dev.banner
    );

    let names = dev.command("gen 20 seed=7").unwrap();
    assert_eq!(names, host_names(&bytes, 7, &Settings::default(), "", 20));

    let s = Settings {
        temperature_milli: 650,
        top_k: 6,
        min_p_milli: 40,
        max_len: 10,
    };
    let names = dev
        .command("gen 20 seed=12345 temp=0.65 topk=6 minp=0.04 prefix=ma maxlen=10")
        .unwrap();
    assert_eq!(names, host_names(&bytes, 12345, &s, "ma", 20));
    assert!(names.iter().all(|n| n.starts_with("ma")));

    let info = dev.command("info").unwrap();
    assert!(info.contains(&format!("board {}", spec.name)), "{info:?}");
    // The session goes on after errors.
    assert!(dev
        .command("gen 2 temp=hot")
        .unwrap_err()
        .to_string()
        .contains("bad temp"));
    assert_eq!(
        dev.command("gen 3 seed=1").unwrap(),
        host_names(&bytes, 1, &Settings::default(), "", 3)
    );
    // A generator has no labels.
    let e = dev.command("classify anna").unwrap_err().to_string();
    assert!(e.contains("classify needs a classifier"), "{e}");
}

fn rnn(hidden: usize) -> TrainConfig {
    TrainConfig {
        hidden,
        ..tiny_config(5, 2, 2)
    }
}

fn gru_2_layers() -> TrainConfig {
    TrainConfig {
        cell: CellKind::Gru,
        layers: 2,
        hidden: 32,
        embed: 8,
        ..tiny_config(5, 2, 1)
    }
}

fn lstm() -> TrainConfig {
    TrainConfig {
        cell: CellKind::Lstm,
        hidden: 48,
        ..tiny_config(5, 2, 1)
    }
}

#[test]
fn mps2_an386_names_match_the_host() {
    parity_on(
        BoardKind::Mps2An386,
        rnn(64),
        "model rnn hidden 64 layers 1 ",
    );
}

#[test]
fn microbit_names_match_the_host() {
    parity_on(
        BoardKind::Microbit,
        rnn(64),
        "model rnn hidden 64 layers 1 ",
    );
}

#[test]
fn mps2_an505_names_match_the_host() {
    parity_on(
        BoardKind::Mps2An505,
        rnn(64),
        "model rnn hidden 64 layers 1 ",
    );
}

#[test]
fn mps2_an386_gru_and_lstm_names_match_the_host() {
    let b = BoardKind::Mps2An386;
    parity_on(b, gru_2_layers(), "model gru hidden 32 layers 2 generate");
    parity_on(b, lstm(), "model lstm hidden 48 layers 1 generate");
}

#[test]
fn microbit_gru_and_lstm_names_match_the_host() {
    let b = BoardKind::Microbit;
    parity_on(b, gru_2_layers(), "model gru hidden 32 layers 2 generate");
    parity_on(b, lstm(), "model lstm hidden 48 layers 1 generate");
}

#[test]
fn mps2_an505_gru_and_lstm_names_match_the_host() {
    let b = BoardKind::Mps2An505;
    parity_on(b, gru_2_layers(), "model gru hidden 32 layers 2 generate");
    parity_on(b, lstm(), "model lstm hidden 48 layers 1 generate");
}

/// A GRU classifier: `classify` over the serial line gives the host's label and
/// probability digits for every name, and the same errors.
fn classify_on(board: BoardKind) {
    let spec = board.spec();
    let dir = tempfile::tempdir().unwrap();
    let data = small_labelled(dir.path(), 4000, 23);
    let config = TrainConfig {
        task: Task::Classify,
        cell: CellKind::Gru,
        hidden: 32,
        embed: 8,
        ..tiny_config(3, 2, 2)
    };
    let (paths, _) = train_tiny(dir.path(), "c", &data, config);
    let bytes = std::fs::read(&paths.out).unwrap();
    spec.check_fits(&bytes).unwrap();
    let (_emu, mut dev) = boot(&spec, Some(&paths.out));
    assert!(
        dev.banner
            .iter()
            .any(|l| l.starts_with("model gru hidden 32 layers 1 classify")),
        "{:?}",
        dev.banner
    );
    let host = HostModel::open(&paths.out).unwrap();
    let labels = host.labels();
    let val = load_labelled(&paths.val_file(Task::Classify), "gender", None, None).unwrap();
    let names = &val.names[..val.names.len().min(120)];
    let answers = classify_names(&host, names).unwrap();
    let want: Vec<String> = names
        .iter()
        .zip(&answers)
        .map(|(n, (v, _))| format!("{n} {} {}", labels[v.label], v.prob_str(&mut [0; 6])))
        .collect();
    let mut got = Vec::new();
    for chunk in names.chunks(8) {
        got.extend(
            dev.command(&format!("classify {}", chunk.join(" ")))
                .unwrap(),
        );
    }
    assert_eq!(got, want);
    // Characters outside the vocabulary: the same error on both sides, and no answer.
    let e = dev.command("classify anna j0hn").unwrap_err().to_string();
    assert!(e.contains("character '0' is not in the vocabulary"), "{e}");
    let host_err = classify_names(&host, &["j0hn".to_string()]).unwrap_err();
    assert!(format!("{host_err:#}").contains("character '0' is not in the vocabulary"));
    let e = dev.command("gen 1").unwrap_err().to_string();
    assert!(e.contains("this model is a classifier"), "{e}");
    assert_eq!(dev.command("classify anna").unwrap().len(), 1);

    // `micrornn device classify` (its client call): all the names in as few lines as the
    // device's line holds, and names as long as a line allows answered whole, as the host.
    let long: String = "annabelle".chars().cycle().take(118).collect();
    let mut many: Vec<String> = names[..40].to_vec();
    many.extend([long.clone(), long[..100].to_string(), "anna".to_string()]);
    let answers = classify_names(&host, &many).unwrap();
    let want: Vec<String> = many
        .iter()
        .zip(&answers)
        .map(|(n, (v, _))| format!("{n} {} {}", labels[v.label], v.prob_str(&mut [0; 6])))
        .collect();
    assert_eq!(dev.classify(&many).unwrap(), want);
    let e = dev.classify(&[long + "a"]).unwrap_err().to_string();
    assert!(e.contains("119 bytes"), "{e}");
}

#[test]
fn mps2_an386_classifies_like_the_host() {
    classify_on(BoardKind::Mps2An386);
}

#[test]
fn microbit_classifies_like_the_host() {
    classify_on(BoardKind::Microbit);
}

#[test]
fn mps2_an505_classifies_like_the_host() {
    classify_on(BoardKind::Mps2An505);
}

/// Boots with `partition` bytes at the start of the model partition and checks that the
/// model store serves nothing, and says so at boot, on `gen` and in `info`.
fn serves_nothing(board: BoardKind, partition: &[u8], what: &str) {
    let spec = board.spec();
    let elf = build_firmware(&spec).expect("firmware builds");
    let mut emu = Emulator::boot_raw(&spec, &elf, partition, false).expect("QEMU boots");
    let mut dev = emu.client(TIMEOUT).expect("the board answers");
    let at = format!("{} with {what}", spec.name);
    assert!(
        dev.banner.iter().any(|l| l.contains("no valid model")),
        "{at}: {:?}",
        dev.banner
    );
    let e = dev.command("gen 1").unwrap_err().to_string();
    assert!(e.contains("no valid model"), "{at}: {e}");
    let info = dev.command("info").unwrap();
    assert!(info.iter().any(|l| l == "slot none"), "{at}: {info:?}");
}

#[test]
fn damaged_partitions_serve_no_model_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_names(dir.path(), 1500, 43);
    let (paths, _) = train_tiny(dir.path(), "m", &data, tiny_config(2, 2, 1));
    let good = std::fs::read(&paths.out).unwrap();
    for board in QEMU_BOARDS {
        let spec = board.spec();
        // A model file copied to the partition without the store's commit record.
        serves_nothing(board, &good, "a bare model file");
        // The partition as the store leaves it (the model at slot A's start, its record at
        // the end of slot A), with one bit flipped in the model, then in the record.
        let (image, _) = model_file(&spec, &good, FileFormat::Bin).unwrap();
        assert_eq!(image[..good.len()], good[..]);
        let half = spec.partition_len / 2 / spec.erase_size * spec.erase_size;
        let record = half as usize - 24;
        assert_ne!(
            image[record..record + 4],
            [0xFF; 4],
            "{}: a record",
            spec.name
        );
        let mut flipped = image.clone();
        flipped[good.len() / 2] ^= 0x20;
        serves_nothing(board, &flipped, "a bit flipped in the model");
        let mut flipped = image.clone();
        flipped[record + 8] ^= 0x01;
        serves_nothing(board, &flipped, "a bit flipped in the commit record");
    }
    // Hidden 240 needs more RAM than the Cortex-M0 board's arena holds (272 words: two
    // states of 120, a chunk of 16 units; the arena has 256): the host refuses to place it
    // (and `upload` refuses it the same way before a byte is sent).
    let config = TrainConfig {
        hidden: 240,
        ..tiny_config(2, 2, 1)
    };
    let (big, _) = train_tiny(dir.path(), "big", &data, config);
    let bytes = std::fs::read(&big.out).unwrap();
    let e = format!(
        "{:#}",
        BoardKind::Microbit.spec().check_fits(&bytes).unwrap_err()
    );
    assert!(
        e.contains("does not fit microbit: RAM for the state too small"),
        "{e}"
    );
}
