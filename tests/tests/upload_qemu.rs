//! Models uploaded over the emulated UART into the firmware's flash store, on every
//! emulated board: each upload serves names identical to the host's, and every failure
//! (a dropped connection, a flipped bit, a refused file) leaves the old model serving.
//!
//! Each board boots with an EMPTY partition (QEMU copies `-device loader` images again
//! at every reset, so only an upload proves that the flash keeps a model over a reset).
//! Needs qemu-system-arm: these tests fail (they do not skip) without it.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use micrornn::arena_words;
use micrornn::cell::MAX_LAYERS;
use micrornn::format::{CellKind, Task};
use micrornn::model::MAX_HIDDEN;
use micrornn::sampler::Settings;
use micrornn::upload::TIMEOUT_SECONDS;
use micrornn::vocab::MAX_TOKENS;
use micrornn_tests::proxy::BitFlipProxy;
use micrornn_tests::{random_model, small_names, tiny_config, train_tiny};
use micrornn_trainer::device::boards::{BoardKind, BoardSpec};
use micrornn_trainer::device::client::DeviceClient;
use micrornn_trainer::device::emulator::{build_firmware, Emulator};
use micrornn_trainer::device::upload::{check, model_crc, send, DeviceFacts, Options, Sent, Watch};
use micrornn_trainer::eval::host_model::generate_names;
use micrornn_trainer::train::config::TrainConfig;
use micrornn_trainer::train::params::Dims;

/// The boards QEMU emulates: every test runs on each.
const BOARDS: [BoardKind; 3] = [
    BoardKind::Mps2An386,
    BoardKind::Microbit,
    BoardKind::Mps2An505,
];

const TIMEOUT: Duration = Duration::from_secs(60);

/// The two small models every board gets: A an RNN, B a GRU (another cell type).
struct Models {
    a: Vec<u8>,
    b: Vec<u8>,
    /// A's characters (for random models over the same vocabulary).
    chars: String,
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("upload_qemu");
        std::fs::create_dir_all(&dir).unwrap();
        let data = small_names(&dir, 2000, 37);
        let a = TrainConfig {
            hidden: 24,
            ..tiny_config(11, 2, 1)
        };
        let b = TrainConfig {
            cell: CellKind::Gru,
            hidden: 16,
            embed: 8,
            ..tiny_config(12, 2, 1)
        };
        let (pa, _) = train_tiny(&dir, "a", &data, a);
        let (pb, _) = train_tiny(&dir, "b", &data, b);
        let a = std::fs::read(&pa.out).unwrap();
        let m = micrornn::Model::load(&a).unwrap();
        let chars = m.vocab.chars().to_string();
        Models {
            b: std::fs::read(&pb.out).unwrap(),
            a,
            chars,
        }
    })
}

/// Boots `spec`'s firmware with an empty model partition.
fn boot_empty(spec: &BoardSpec) -> (Emulator, DeviceClient) {
    let elf = build_firmware(spec).expect("firmware builds");
    let mut emu = Emulator::boot(spec, &elf, None, false).expect("QEMU boots");
    let client = emu.client(TIMEOUT).expect("the board answers");
    (emu, client)
}

/// Uploads `bytes` after the host's checks; panics with the error if either fails.
fn upload(dev: &mut DeviceClient, bytes: &[u8], opts: Options) -> Sent {
    let facts = DeviceFacts::ask(dev).unwrap();
    check("m.mrnn", bytes, &facts, opts).unwrap();
    let sent = send(dev, bytes, opts.single_slot, TIMEOUT, &mut ()).unwrap();
    let secs = sent.elapsed.as_secs_f64();
    eprintln!(
        "{}: {} bytes, {} on the wire in {secs:.2} s ({:.0} wire bytes/s)",
        facts.board,
        bytes.len(),
        sent.wire_bytes,
        sent.wire_bytes as f64 / secs
    );
    sent
}

/// The message of the host's refusal of `bytes`.
fn refusal(dev: &mut DeviceClient, bytes: &[u8], opts: Options) -> String {
    let facts = DeviceFacts::ask(dev).unwrap();
    format!("{:#}", check("m.mrnn", bytes, &facts, opts).unwrap_err())
}

/// Asserts that the device serves `bytes` (its CRC in `info`) and that `gen` with
/// `line` (settings `seed`, `s`) gives the host's names for it.
fn assert_serves(dev: &mut DeviceClient, bytes: &[u8], line: &str, seed: u64, s: &Settings) {
    let facts = DeviceFacts::ask(dev).unwrap();
    let serving = facts.serving.expect("a model serves");
    assert_eq!(serving.crc, model_crc(bytes), "{}", facts.model_line);
    let n: usize = line.split(' ').nth(1).unwrap().parse().unwrap();
    let want = generate_names(bytes, seed, s, "", n).unwrap();
    assert_eq!(dev.command(line).unwrap(), want, "{line}");
}

fn assert_serves_20(dev: &mut DeviceClient, bytes: &[u8]) {
    assert_serves(dev, bytes, "gen 20 seed=7", 7, &Settings::default());
}

/// Stops an upload once half the model is acknowledged.
struct StopHalfWay(bool);

impl Watch for StopHalfWay {
    fn progress(&mut self, acked: u64, len: u64) {
        self.0 |= 2 * acked >= len;
    }
    fn stopped(&self) -> bool {
        self.0
    }
}

/// A random-weight model of one layer over A's characters.
fn over_a(cell: CellKind, hidden: usize, seed: u64) -> Vec<u8> {
    let chars = &models().chars;
    let dims = Dims::generate(cell, 1, hidden, chars.chars().count() + 2);
    random_model(dims, chars, &[], seed)
}

/// A GRU over A's characters, larger than one slot and smaller than the partition, that
/// fits the device's RAM.
fn too_big_for_a_slot(facts: &DeviceFacts) -> Vec<u8> {
    let slot = facts.slot_capacity.expect("info reports the slot size");
    let vocab = models().chars.chars().count() + 2;
    for hidden in (64..=511).step_by(8) {
        let dims = Dims::generate(CellKind::Gru, 1, hidden, vocab);
        let len = dims.param_count(); // about the file's bytes (int8 weights)
        if len > slot {
            let bytes = over_a(CellKind::Gru, hidden, hidden as u64);
            assert!(bytes.len() > slot);
            assert!(bytes.len() <= facts.single_capacity.unwrap());
            return bytes;
        }
    }
    panic!("no GRU of hidden ≤ 511 is larger than a slot of {slot} bytes");
}

/// A valid model that needs more than the device has (a model for a bigger device): more
/// outputs than its logits hold, or more RAM than its arena. `None` when every valid model
/// fits (the format's largest shapes are within the device's capacity).
fn too_big_for_the_device(facts: &DeviceFacts) -> Option<Vec<u8>> {
    let n = facts.outputs + 8;
    if n + 2 <= MAX_TOKENS {
        let chars: String = (0..n as u32)
            .map(|i| char::from_u32(0x4e00 + i).unwrap())
            .collect();
        let dims = Dims::generate(CellKind::Rnn, 1, 16, n + 2);
        return Some(random_model(dims, &chars, &[], 3));
    }
    let deepest = 4 * arena_words(CellKind::Lstm, MAX_LAYERS, MAX_HIDDEN);
    assert!(
        deepest <= facts.ram_bytes,
        "a model could need more RAM: test it"
    );
    None
}

/// A GRU classifier over A's characters (two labels).
fn classifier() -> Vec<u8> {
    let chars = &models().chars;
    let dims = Dims {
        task: Task::Classify,
        outputs: 2,
        ..Dims::generate(CellKind::Gru, 1, 16, chars.chars().count() + 2)
    };
    random_model(dims, chars, &["f".into(), "m".into()], 4)
}

fn upload_cycle(board: BoardKind) {
    let start = Instant::now();
    let spec = board.spec();
    let m = models();
    let (mut emu, mut dev) = boot_empty(&spec);
    let facts = DeviceFacts::ask(&mut dev).unwrap();
    assert_eq!(facts.serving, None);
    assert!(facts.model_line.starts_with("model none"), "{facts:?}");

    // A into the empty store, B of another cell, A again.
    let sent = upload(&mut dev, &m.a, Options::default());
    assert!(
        sent.model_line.starts_with("model rnn hidden 24 "),
        "{sent:?}"
    );
    assert_eq!(sent.resent, 0);
    assert_serves_20(&mut dev, &m.a);
    let sent = upload(&mut dev, &m.b, Options::default());
    assert!(
        sent.model_line.starts_with("model gru hidden 16 "),
        "{sent:?}"
    );
    assert_serves_20(&mut dev, &m.b);
    upload(&mut dev, &m.a, Options::default());
    assert_serves_20(&mut dev, &m.a);

    // A is what it serves: refused unless forced.
    let e = refusal(&mut dev, &m.a, Options::default());
    assert!(
        e.contains("already serves m.mrnn") && e.contains("--force"),
        "{e}"
    );
    let forced = Options {
        force: true,
        ..Options::default()
    };
    upload(&mut dev, &m.a, forced);
    assert_serves_20(&mut dev, &m.a);
    let seq_a = DeviceFacts::ask(&mut dev).unwrap().serving.unwrap().seq;

    // The connection dropped half way through C: once the device gives up, A serves.
    let c = over_a(CellKind::Gru, 64, 9);
    assert!(c.len() > 4 * 4096, "C takes several chunks on every board");
    let e = send(&mut dev, &c, false, TIMEOUT, &mut StopHalfWay(false)).unwrap_err();
    assert!(
        format!("{e:#}").contains("the device keeps its old model"),
        "{e:#}"
    );
    drop(dev);
    std::thread::sleep(Duration::from_millis(TIMEOUT_SECONDS as u64 * 1000 + 500));
    let mut dev = emu.client(TIMEOUT).unwrap();
    assert_eq!(
        DeviceFacts::ask(&mut dev).unwrap().serving.unwrap().seq,
        seq_a
    );
    assert_serves_20(&mut dev, &m.a);

    // One bit of B's first chunk flipped on its way: the device refuses that chunk,
    // the host sends it again, and B serves.
    drop(dev);
    let target = emu.port.strip_prefix("tcp:").unwrap();
    let proxy = BitFlipProxy::start(target, 0).unwrap();
    let mut through = DeviceClient::connect(&proxy.port, TIMEOUT).unwrap();
    let sent = upload(&mut through, &m.b, Options::default());
    assert_eq!((proxy.flips(), sent.resent), (1, 1), "{sent:?}");
    assert_serves_20(&mut through, &m.b);
    drop(through);
    let mut dev = emu.client(TIMEOUT).unwrap();
    assert_serves_20(&mut dev, &m.b);

    // Refused by the host before a byte, and by the device when sent anyway; B serves.
    let facts = DeviceFacts::ask(&mut dev).unwrap();
    let big = too_big_for_a_slot(&facts);
    let slot = facts.slot_capacity.unwrap();
    let e = refusal(&mut dev, &big, Options::default());
    assert!(
        e.contains(&format!("a slot of {} holds {slot}", spec.name)),
        "{e}"
    );
    assert!(e.contains("--single-slot"), "{e}");
    let e = send(&mut dev, &big, false, TIMEOUT, &mut ()).unwrap_err();
    let e = format!("{e:#}");
    assert!(e.contains(&format!("a slot holds {slot}")), "{e}");
    assert!(e.contains("the device keeps its model"), "{e}");

    let garbage: Vec<u8> = (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let e = refusal(&mut dev, &garbage, Options::default());
    assert!(e.starts_with("m.mrnn is not a model: "), "{e}");
    let e = format!(
        "{:#}",
        send(&mut dev, &garbage, false, TIMEOUT, &mut ()).unwrap_err()
    );
    assert!(
        e.contains("device: ") && e.contains("keeps its old model"),
        "{e}"
    );

    if let Some(other) = too_big_for_the_device(&facts) {
        let e = refusal(&mut dev, &other, Options::default());
        assert!(
            e.starts_with(&format!("m.mrnn does not fit {}: ", spec.name)),
            "{e}"
        );
        assert!(e.contains("outputs"), "{e}");
        let e = send(&mut dev, &other, false, TIMEOUT, &mut ()).unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.contains("outputs") && e.contains("keeps its old model"),
            "{e}"
        );
    }
    assert_serves_20(&mut dev, &m.b);

    // A model of the other task is no reason to refuse: the firmware serves either, and
    // says which one it has.
    let sent = upload(&mut dev, &classifier(), Options::default());
    assert!(sent.model_line.contains(" classify "), "{sent:?}");
    let e = dev.command("gen 1").unwrap_err().to_string();
    assert!(e.contains("this model is a classifier"), "{e}");
    assert_eq!(dev.command("classify anna").unwrap().len(), 1);

    // With --single-slot the big model fits, and serves.
    let single = Options {
        single_slot: true,
        ..Options::default()
    };
    let sent = upload(&mut dev, &big, single);
    assert!(sent.model_line.starts_with("model gru hidden "), "{sent:?}");
    let facts = DeviceFacts::ask(&mut dev).unwrap();
    assert_eq!(facts.serving.as_ref().unwrap().slot, "single", "{facts:?}");
    let short = Settings {
        max_len: 8,
        ..Settings::default()
    };
    assert_serves(&mut dev, &big, "gen 3 seed=5 maxlen=8", 5, &short);

    // A two-slot upload after it, then a reset: the flash brings A back.
    upload(&mut dev, &m.a, Options::default());
    let before = DeviceFacts::ask(&mut dev).unwrap().serving;
    assert_eq!(dev.command("reset").unwrap(), Vec::<String>::new());
    drop(dev);
    let mut dev = emu.client(TIMEOUT).unwrap();
    let after = DeviceFacts::ask(&mut dev).unwrap();
    assert_eq!(after.serving, before, "{after:?}");
    assert_serves_20(&mut dev, &m.a);
    eprintln!("{}: {:.1} s", spec.name, start.elapsed().as_secs_f64());
}

/// Every board at once, each in its own QEMU.
#[test]
fn uploads_on_every_emulated_board() {
    models(); // trained once, before the boards start
    std::thread::scope(|s| {
        let runs: Vec<_> = BOARDS
            .iter()
            .map(|&b| (b, s.spawn(move || upload_cycle(b))))
            .collect();
        let failed: Vec<&str> = runs
            .into_iter()
            .filter_map(|(b, run)| run.join().is_err().then_some(b.spec().name))
            .collect();
        assert!(failed.is_empty(), "failed on {failed:?} (see above)");
    });
}
