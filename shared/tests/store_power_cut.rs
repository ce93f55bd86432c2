//! Power cuts at every point of an upload: cut after k flash operations (page erases and
//! unit writes) for every k from 0 to the operations of the whole upload, reboot, and
//! check what serves — the old model or the new one, whole (or, for a single-slot
//! upload, nothing), never a mix. Run with `--nocapture` to see the cut points counted.

mod store_common;

use micrornn::format::CellKind;
use micrornn::store::sim::SimFlash;
use micrornn::store::ModelStore;
use store_common::{model_file, upload};

/// What a cut before the end of the upload leaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Before {
    /// The old model, always (a two-slot upload next to it).
    Old,
    /// The old model until the upload erased its record, then nothing (the upload
    /// overwrites it).
    OldThenNothing,
}

/// Sweeps the cut over an upload of `new` onto the state `base` (serving `old`); returns
/// the number of cut points tested.
fn sweep<const S: usize, const E: usize, const W: usize>(
    base: &SimFlash<S, E, W>,
    old: &[u8],
    new: &[u8],
    single_slot: bool,
    before: Before,
) -> usize {
    let served = |f: &mut SimFlash<S, E, W>| {
        let store = ModelStore::open(f);
        let bytes = store.model_bytes().ok().map(<[u8]>::to_vec);
        if let Some(bytes) = &bytes {
            assert!(store.model().is_ok());
            assert_eq!(
                store.active().map(|a| a.crc),
                Some(micrornn::format::model_crc(bytes))
            );
        }
        bytes
    };
    assert_eq!(served(&mut base.clone()).as_deref(), Some(old));
    let mut whole = base.clone();
    let start = whole.ops();
    upload(&mut ModelStore::open(&mut whole), new, single_slot, 256).unwrap();
    let total = whole.ops() - start;
    let mut lost = false;
    for k in 0..=total {
        let mut f = base.clone();
        f.cut_after(k);
        let done = upload(&mut ModelStore::open(&mut f), new, single_slot, 256);
        assert_eq!(done.is_ok(), k == total, "cut after {k} of {total}");
        f.power_on();
        let now = served(&mut f);
        let expected = match (k == total, before) {
            (true, _) => Some(new),
            (false, Before::Old) => Some(old),
            // Once the old model is lost it stays lost until the new one is recorded.
            (false, Before::OldThenNothing) if lost || now.is_none() => None,
            (false, Before::OldThenNothing) => Some(old),
        };
        assert_eq!(now.as_deref(), expected, "cut after {k} of {total}");
        lost = now.is_none();
        // After the reboot the upload goes through.
        upload(&mut ModelStore::open(&mut f), new, single_slot, 256).unwrap();
        assert_eq!(served(&mut f).as_deref(), Some(new));
        assert_eq!(f.violations(), 0, "cut after {k}");
    }
    total + 1
}

/// `models` uploaded in turn (the last one `single_slot` if asked) on a fresh flash.
fn installed<const S: usize, const E: usize, const W: usize>(
    models: &[&[u8]],
    single_slot: bool,
) -> Box<SimFlash<S, E, W>> {
    let mut f = Box::new(SimFlash::new());
    let mut store = ModelStore::open(&mut *f);
    for (i, m) in models.iter().enumerate() {
        let single = single_slot && i + 1 == models.len();
        upload(&mut store, m, single, 256).unwrap();
    }
    f
}

/// Every kind of upload over every kind of state, on one flash geometry.
fn all_sweeps<const S: usize, const E: usize, const W: usize>() -> usize {
    let a = model_file(CellKind::Rnn, 8, 1);
    let b = model_file(CellKind::Gru, 16, 2);
    let c = model_file(CellKind::Lstm, 8, 3);
    let big = model_file(CellKind::Gru, 32, 4);
    let big2 = model_file(CellKind::Lstm, 24, 5);
    let mut points = 0;
    let mut run = |name: &str, base: Box<SimFlash<S, E, W>>, old, new, single, before| {
        let n = sweep::<S, E, W>(&base, old, new, single, before);
        println!("W {W:3} E {E:5}: {name}: {n} cut points");
        points += n;
    };
    run(
        "B over A (slot B)",
        installed(&[&a], false),
        &a,
        &b,
        false,
        Before::Old,
    );
    let ab = installed(&[&a, &b], false);
    run("C over B (slot A, A there)", ab, &b, &c, false, Before::Old);
    let ab = installed(&[&a, &b], false);
    run("single over B", ab, &b, &big, true, Before::OldThenNothing);
    let single = installed(&[&a, &big], true);
    run(
        "single over single",
        single,
        &big,
        &big2,
        true,
        Before::OldThenNothing,
    );
    let single = installed(&[&a, &big], true);
    run(
        "A over single",
        single,
        &big,
        &a,
        false,
        Before::OldThenNothing,
    );
    points
}

#[test]
fn a_cut_at_any_point_leaves_a_whole_model() {
    let mut points = 0;
    points += all_sweeps::<8192, 1024, 4>(); // nRF51/52: 1 KiB pages (nRF52: 4), words
    points += all_sweeps::<8192, 1024, 1>();
    points += all_sweeps::<16384, 4096, 256>(); // RP2040 QSPI: 4 KiB sectors, 256-byte pages
    println!("{points} cut points tested");
    assert!(points > 10_000, "{points}");
}
