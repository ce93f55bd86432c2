//! The model store on a simulated NOR flash: two slots that alternate, fallback to the
//! older model, single-slot uploads, and a clear error (the model served unchanged) for
//! every wrong upload.

mod store_common;

use micrornn::format::CellKind;
use micrornn::store::sim::SimFlash;
use micrornn::store::{ActiveSlot, ModelStore, Slot};
use micrornn::Error;
use store_common::{model_file, upload};

/// An nRF51-like partition: 8 KiB, 1 KiB pages, 32-bit words. Slots of 4 KiB.
type Flash = SimFlash<8192, 1024, 4>;
const HALF: usize = 4096;
/// A slot less its 24-byte record.
const SLOT: usize = HALF - 24;

fn rnn() -> Vec<u8> {
    model_file(CellKind::Rnn, 8, 1)
}
fn gru() -> Vec<u8> {
    model_file(CellKind::Gru, 16, 2)
}
fn lstm() -> Vec<u8> {
    model_file(CellKind::Lstm, 8, 3)
}
/// Larger than a slot, smaller than the partition.
fn big() -> Vec<u8> {
    model_file(CellKind::Gru, 32, 4)
}

fn active(slot: Slot, seq: u32, bytes: &[u8]) -> Option<ActiveSlot> {
    Some(ActiveSlot {
        slot,
        seq,
        crc: micrornn::format::model_crc(bytes),
        len: bytes.len() as u32,
    })
}

/// The message of an error, as the device prints it.
fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn models_have_the_sizes_the_tests_need() {
    for small in [rnn(), gru(), lstm()] {
        assert!(small.len() < SLOT / 2, "{}", small.len());
    }
    assert!(gru().len() > 1024, "the GRU spans two pages");
    assert!(big().len() > SLOT && big().len() < 2 * HALF - 24);
}

#[test]
fn fresh_partition_has_no_model() {
    let mut flash = Flash::new();
    let store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), None);
    assert_eq!(store.model().unwrap_err(), Error::NoModel);
    assert_eq!(message(store.model().unwrap_err()), "no valid model");
    assert_eq!(store.slot_capacity(), SLOT);
    assert_eq!(store.partition_capacity(), 2 * HALF - 24);
}

#[test]
fn uploads_alternate_slots_and_leave_the_other_untouched() {
    let mut flash = Flash::new();
    let (a, b, c) = (rnn(), gru(), lstm());
    {
        let mut store = ModelStore::open(&mut flash);
        assert_eq!(
            upload(&mut store, &a, false, 256),
            Ok(active(Slot::A, 1, &a).unwrap())
        );
        assert_eq!(store.active(), active(Slot::A, 1, &a));
        assert_eq!(store.model().unwrap().cell(), CellKind::Rnn);
        assert_eq!(store.model_bytes().unwrap(), &a[..]);
    }
    let slot_a = flash.memory()[..HALF].to_vec();
    {
        let mut store = ModelStore::open(&mut flash);
        assert_eq!(store.active(), active(Slot::A, 1, &a), "survives a reboot");
        upload(&mut store, &b, false, 256).unwrap();
        assert_eq!(store.active(), active(Slot::B, 2, &b));
        assert_eq!(store.model().unwrap().cell(), CellKind::Gru);
        assert_eq!(store.model().unwrap().hidden(), 16);
    }
    assert_eq!(flash.memory()[..HALF], slot_a[..], "slot A untouched");
    let mut store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), active(Slot::B, 2, &b));
    upload(&mut store, &c, false, 64).unwrap();
    assert_eq!(store.active(), active(Slot::A, 3, &c));
    upload(&mut store, &a, false, 1024).unwrap();
    assert_eq!(store.active(), active(Slot::B, 4, &a));
    assert_eq!(store.model_bytes().unwrap(), &a[..]);
    let store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), active(Slot::B, 4, &a));
    assert_eq!(store.model().unwrap().cell(), CellKind::Rnn);
    assert_eq!(flash.violations(), 0);
}

/// Slot A holds `a` (seq 1), slot B holds `b` (seq 2).
fn two_models(a: &[u8], b: &[u8]) -> Flash {
    let mut flash = Flash::new();
    let mut store = ModelStore::open(&mut flash);
    upload(&mut store, a, false, 256).unwrap();
    upload(&mut store, b, false, 256).unwrap();
    flash
}

#[test]
fn a_damaged_newest_model_falls_back_to_the_other() {
    let (a, b) = (rnn(), gru());
    for at in [0, 11, 100, b.len() / 2, b.len() - 1] {
        let mut flash = two_models(&a, &b);
        flash.memory_mut()[HALF + at] ^= 0x10;
        let mut store = ModelStore::open(&mut flash);
        assert_eq!(store.active(), active(Slot::A, 1, &a), "byte {at}");
        assert_eq!(store.model_bytes().unwrap(), &a[..]);
        // The next upload replaces the damaged slot, with a newer sequence number.
        let c = lstm();
        upload(&mut store, &c, false, 256).unwrap();
        assert_eq!(store.active(), active(Slot::B, 3, &c));
        assert_eq!(flash.memory()[..a.len()], a[..], "slot A untouched");
    }
}

#[test]
fn a_record_whose_own_crc_fails_is_ignored() {
    let (a, b) = (rnn(), gru());
    let record_b = 2 * HALF - 24;
    for field in 0..6 {
        let mut flash = two_models(&a, &b);
        flash.memory_mut()[record_b + 4 * field] ^= 0x01;
        let store = ModelStore::open(&mut flash);
        assert_eq!(store.active(), active(Slot::A, 1, &a), "field {field}");
    }
    // Both damaged: nothing.
    let mut flash = two_models(&a, &b);
    flash.memory_mut()[record_b + 4] ^= 0x01;
    flash.memory_mut()[HALF - 24 + 8] ^= 0x01;
    assert_eq!(ModelStore::open(&mut flash).active(), None);
}

#[test]
fn a_model_too_big_for_a_slot_is_refused_with_the_slot_size() {
    let (a, big) = (rnn(), big());
    let mut flash = Flash::new();
    let mut store = ModelStore::open(&mut flash);
    upload(&mut store, &a, false, 256).unwrap();
    let e = upload(&mut store, &big, false, 256).unwrap_err();
    assert_eq!(
        e,
        Error::TooBigForSlot {
            len: big.len(),
            slot: SLOT
        }
    );
    let text = message(e);
    assert!(
        text.contains(&SLOT.to_string()) && text.contains("--single-slot"),
        "{text}"
    );
    let huge = store.partition_capacity() as u32 + 1;
    for single in [false, true] {
        assert_eq!(
            store.begin(huge, 0, single),
            Err(Error::TooBigForPartition {
                len: huge as usize,
                capacity: 2 * HALF - 24
            })
        );
    }
    assert_eq!(store.active(), active(Slot::A, 1, &a), "old model serves");
    assert_eq!(
        ModelStore::open(&mut flash).active(),
        active(Slot::A, 1, &a)
    );
}

#[test]
fn single_slot_upload_takes_the_partition() {
    let (a, big, b) = (rnn(), big(), gru());
    let mut flash = Flash::new();
    let mut store = ModelStore::open(&mut flash);
    upload(&mut store, &a, false, 256).unwrap();
    upload(&mut store, &big, true, 256).unwrap();
    assert_eq!(store.active(), active(Slot::Single, 2, &big));
    assert_eq!(store.model().unwrap().hidden(), 32);
    let mut store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), active(Slot::Single, 2, &big));
    assert_eq!(store.model_bytes().unwrap(), &big[..]);
    // A two-slot upload after it goes to slot A.
    upload(&mut store, &b, false, 256).unwrap();
    assert_eq!(store.active(), active(Slot::A, 3, &b));
    let mut store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), active(Slot::A, 3, &b));
    upload(&mut store, &a, false, 256).unwrap();
    assert_eq!(store.active(), active(Slot::B, 4, &a));
    assert_eq!(flash.violations(), 0);
}

#[test]
fn an_interrupted_single_slot_upload_leaves_no_model() {
    let (a, big) = (rnn(), big());
    let mut flash = Flash::new();
    upload(&mut ModelStore::open(&mut flash), &a, false, 256).unwrap();
    flash.cut_after(40);
    assert!(upload(&mut ModelStore::open(&mut flash), &big, true, 256).is_err());
    flash.power_on();
    let store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), None);
    assert_eq!(message(store.model().unwrap_err()), "no valid model");
}

#[test]
fn wrong_writes_are_refused_and_the_old_model_serves() {
    let (a, b) = (rnn(), gru());
    let mut flash = Flash::new();
    let mut store = ModelStore::open(&mut flash);
    upload(&mut store, &a, false, 256).unwrap();
    let served = active(Slot::A, 1, &a);
    let no_upload = Err(Error::Upload {
        reason: "no upload in progress",
    });
    assert_eq!(store.write(0, &b[..4]), no_upload);
    assert_eq!(
        store.commit(),
        Err(Error::Upload {
            reason: "no upload in progress"
        })
    );
    assert!(matches!(
        store.begin(0, 0, false),
        Err(Error::Upload { .. })
    ));
    let (len, crc) = (b.len() as u32, micrornn::format::model_crc(&b));
    store.begin(len, crc, false).unwrap();
    assert_eq!(
        store.write(4, &b[4..8]),
        Err(Error::UploadOffset {
            expected: 0,
            got: 4
        })
    );
    assert!(
        matches!(store.write(0, &b[..6]), Err(Error::Upload { .. })),
        "not whole units"
    );
    store.write(0, &b[..8]).unwrap();
    assert!(matches!(
        store.write(8, &vec![0; b.len()]),
        Err(Error::Upload { .. })
    ));
    assert!(
        matches!(store.commit(), Err(Error::Upload { .. })),
        "incomplete"
    );
    assert_eq!(store.active(), served);
    // The announced CRC does not match the bytes.
    store.begin(len, crc ^ 1, false).unwrap();
    store.write(0, &b).unwrap();
    assert!(matches!(store.commit(), Err(Error::CrcMismatch { .. })));
    // Bytes that are not a model (with their right CRC).
    let junk = vec![0x5a; 301];
    assert_eq!(upload(&mut store, &junk, false, 256), Err(Error::BadMagic));
    // A model damaged before it was announced (its own CRC fails).
    let mut damaged = b.clone();
    damaged[50] ^= 1;
    assert!(matches!(
        upload(&mut store, &damaged, false, 256),
        Err(Error::CrcMismatch { .. })
    ));
    // Aborted.
    store.begin(len, crc, false).unwrap();
    store.write(0, &b[..256]).unwrap();
    store.abort();
    assert_eq!(store.write(256, &b[256..512]), no_upload);
    assert_eq!(store.active(), served);
    assert_eq!(store.model_bytes().unwrap(), &a[..]);
    assert_eq!(ModelStore::open(&mut flash).active(), served);
    // After all that, an upload still works, and no NOR rule was broken.
    let mut store = ModelStore::open(&mut flash);
    upload(&mut store, &b, false, 4).unwrap();
    assert_eq!(store.active(), active(Slot::B, 2, &b));
    assert_eq!(flash.violations(), 0);
}

/// Uploads alternate on a flash of another geometry; returns the violations.
fn alternate<const S: usize, const E: usize, const W: usize>(
    flash: &mut SimFlash<S, E, W>,
) -> usize {
    let models = [rnn(), gru(), lstm(), big()];
    for (i, m) in models.iter().enumerate() {
        let mut store = ModelStore::open(&mut *flash);
        let slot = if i % 2 == 0 { Slot::A } else { Slot::B };
        // Odd chunk sizes that are whole units, the last one partial.
        upload(&mut store, m, false, 3 * W).unwrap();
        assert_eq!(store.active(), active(slot, i as u32 + 1, m), "W {W}");
        let store = ModelStore::open(&mut *flash);
        assert_eq!(store.model_bytes().unwrap(), &m[..]);
    }
    flash.violations()
}

#[test]
fn other_geometries_byte_writes_256_byte_writes_64k_pages() {
    assert_eq!(alternate(&mut SimFlash::<16384, 1024, 1>::new()), 0);
    assert_eq!(alternate(&mut SimFlash::<16384, 4096, 256>::new()), 0);
    assert_eq!(alternate(&mut SimFlash::<16384, 2048, 16>::new()), 0);
    let mut big_pages = Box::new(SimFlash::<131072, 65536, 4>::new());
    assert_eq!(alternate(&mut *big_pages), 0);
    let store = ModelStore::open(&mut *big_pages);
    assert_eq!(store.slot_capacity(), 65536 - 24);
}

#[test]
fn a_partition_of_one_page_holds_nothing() {
    let mut flash = SimFlash::<1024, 1024, 4>::new();
    let mut store = ModelStore::open(&mut flash);
    assert_eq!((store.slot_capacity(), store.partition_capacity()), (0, 0));
    let a = rnn();
    assert!(matches!(
        upload(&mut store, &a, true, 256),
        Err(Error::TooBigForPartition { .. })
    ));
}

/// A model file followed by extra bytes loads (a model may sit at the start of a larger
/// region), but its last four bytes are not its CRC: it would not open at the next boot,
/// so the upload is refused at commit and the old model keeps serving, then and after a
/// reboot.
#[test]
fn a_model_with_bytes_after_its_crc_is_refused_at_commit() {
    let (a, b) = (rnn(), gru());
    let mut flash = Flash::new();
    let mut store = ModelStore::open(&mut flash);
    upload(&mut store, &a, false, 256).unwrap();
    let mut padded = b.clone();
    padded.extend_from_slice(&[1, 2, 3, 4]);
    assert!(micrornn::Model::load(&padded).is_ok());
    assert!(matches!(
        upload(&mut store, &padded, false, 256),
        Err(Error::CrcMismatch { .. })
    ));
    assert_eq!(store.active(), active(Slot::A, 1, &a));
    let store = ModelStore::open(&mut flash);
    assert_eq!(store.active(), active(Slot::A, 1, &a));
    assert_eq!(flash.violations(), 0);
}
