//! The simulated NOR flash itself: it refuses (and counts) what real NOR flash forbids,
//! and a power cut stops it at an exact operation.

use embedded_storage::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash};
use micrornn::store::sim::{SimError, SimFlash};
use micrornn::store::Partition;

type Flash = SimFlash<4096, 1024, 4>;

#[test]
fn erase_by_aligned_pages_only() {
    let mut f = Flash::new();
    assert_eq!(f.capacity(), 4096);
    assert!(f.mapped().iter().all(|&b| b == 0xFF), "starts erased");
    assert_eq!(f.erase(512, 1024), Err(SimError::NotAligned));
    assert_eq!(f.erase(1024, 1500), Err(SimError::NotAligned));
    assert_eq!(f.erase(3072, 5120), Err(SimError::OutOfBounds));
    assert_eq!(f.erase(2048, 1024), Err(SimError::OutOfBounds));
    assert_eq!(f.violations(), 4);
    assert_eq!(f.ops(), 0);
    assert_eq!(f.erase(1024, 3072), Ok(()));
    assert_eq!(f.ops(), 2, "one operation per page");
    assert_eq!(f.erase(1024, 1024), Ok(()));
    assert_eq!(SimError::NotAligned.kind(), NorFlashErrorKind::NotAligned);
    assert_eq!(SimError::PowerCut.kind(), NorFlashErrorKind::Other);
}

#[test]
fn write_whole_units_once_per_erase() {
    let mut f = Flash::new();
    assert_eq!(f.write(2, &[0; 4]), Err(SimError::NotAligned));
    assert_eq!(f.write(0, &[0; 6]), Err(SimError::NotAligned));
    assert_eq!(f.write(4094, &[0; 4]), Err(SimError::OutOfBounds));
    assert_eq!(f.write(u32::MAX, &[0; 4]), Err(SimError::OutOfBounds));
    assert_eq!(f.violations(), 4);
    f.write(8, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    assert_eq!(f.ops(), 2, "one operation per unit");
    assert_eq!(
        &f.mapped()[4..20],
        &[255, 255, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8, 255, 255, 255, 255]
    );
    // Again, even with bits that only clear, or all 0xFF: refused, nothing changes.
    assert_eq!(f.write(12, &[0; 8]), Err(SimError::WrittenTwice));
    assert_eq!(f.write(8, &[0xFF; 4]), Err(SimError::WrittenTwice));
    assert_eq!(f.violations(), 6);
    assert_eq!(&f.mapped()[12..20], &[5, 6, 7, 8, 255, 255, 255, 255]);
    // An all-0xFF write still counts as the unit's one write.
    f.write(100, &[0xFF; 4]).unwrap();
    assert_eq!(f.write(100, &[0; 4]), Err(SimError::WrittenTwice));
    // After an erase the units take a write again.
    f.erase(0, 1024).unwrap();
    f.write(8, &[9; 8]).unwrap();
    f.write(100, &[0; 4]).unwrap();
    let mut back = [0; 3];
    f.read(9, &mut back).unwrap();
    assert_eq!(back, [9; 3]);
    assert_eq!(f.violations(), 7);
}

#[test]
fn power_cut_stops_at_the_kth_operation() {
    let mut f = Flash::new();
    f.cut_after(3);
    assert_eq!(f.write(0, &[0; 16]), Err(SimError::PowerCut));
    assert_eq!(
        &f.mapped()[..16],
        &[&[0u8; 12][..], &[0xFF; 4]].concat()[..],
        "3 units written"
    );
    assert_eq!(f.erase(0, 1024), Err(SimError::PowerCut));
    assert_eq!(&f.mapped()[..4], &[0; 4], "memory untouched after the cut");
    assert_eq!(f.ops(), 3);
    assert_eq!(f.violations(), 0, "a cut is not a broken rule");
    f.power_on();
    f.cut_after(1);
    assert_eq!(f.erase(0, 2048), Err(SimError::PowerCut));
    assert_eq!(f.mapped()[0], 0xFF, "first page erased");
    f.power_on();
    f.erase(1024, 2048).unwrap();
    f.write(0, &[7; 16]).unwrap();
    assert_eq!(f.ops(), 4 + 1 + 4);
    f.cut_after(0);
    assert_eq!(f.write(16, &[7; 4]), Err(SimError::PowerCut));
    assert_eq!(f.mapped()[16], 0xFF);
}

#[test]
fn a_byte_flipped_by_a_test_is_not_a_write() {
    let mut f = Flash::new();
    f.memory_mut()[5] = 0x12;
    assert_eq!(f.memory()[5], 0x12);
    f.write(4, &[0xF0; 4]).unwrap();
    assert_eq!(f.memory()[5], 0x10, "a write only clears bits");
}
