//! Model and firmware files for every board: the device's own model store (run here on
//! a copy of each partition) serves the model a file writes, even over an older upload;
//! firmware from an ELF lands at its load addresses, and firmware that would overwrite
//! the model partition is refused.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use micrornn::format::{CellKind, Task};
use micrornn::store::{ModelStore, Partition, Slot};
use micrornn_trainer::device::boards::{BoardKind, BoardSpec, FlashFormat};
use micrornn_trainer::export::board_file::{firmware_file, model_file, FileFormat};
use micrornn_trainer::export::image::Image;
use micrornn_trainer::export::partition::{model_image, store_capacity};
use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::params::Dims;

const CHARS: &str = "abcdefghijklmnopqrstuvwxyz";

/// A generator with random weights and `hidden` units (no training).
fn model(hidden: usize, seed: u64) -> Vec<u8> {
    let dims = Dims::generate(CellKind::Rnn, 1, hidden, CHARS.len() + 2);
    let mut rng = micrornn::rng::Rng::new(seed);
    let flat: Vec<f32> = (0..dims.param_count())
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.2)
        .collect();
    export(&dims.split(&flat), Task::Generate, CHARS, &[]).unwrap()
}

/// A partition in memory with `E`-byte pages and `W`-byte units (NOR: writes only clear
/// bits), for the device's model store.
struct Flash<const E: usize, const W: usize>(Vec<u8>);

impl<const E: usize, const W: usize> ErrorType for Flash<E, W> {
    type Error = NorFlashErrorKind;
}

impl<const E: usize, const W: usize> ReadNorFlash for Flash<E, W> {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        bytes.copy_from_slice(&self.0[at..at + bytes.len()]);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.0.len()
    }
}

impl<const E: usize, const W: usize> NorFlash for Flash<E, W> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        assert!(from as usize % E == 0 && to as usize % E == 0);
        self.0[from as usize..to as usize].fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        assert!(at % W == 0 && bytes.len() % W == 0);
        for (m, b) in self.0[at..at + bytes.len()].iter_mut().zip(bytes) {
            *m &= b;
        }
        Ok(())
    }
}

impl<const E: usize, const W: usize> Partition for Flash<E, W> {
    fn mapped(&self) -> &[u8] {
        &self.0
    }
}

/// What the store serves after `before` (uploads of these models, in order, over the
/// serial line) and then a flash file writing `image`: (slot, model bytes) or `None`.
fn serves_after<const E: usize, const W: usize>(
    spec: &BoardSpec,
    before: &[&[u8]],
    image: &Image,
) -> Option<(Slot, Vec<u8>)> {
    let mut flash = Flash::<E, W>(vec![0xFF; spec.partition_len as usize]);
    for m in before {
        let mut store = ModelStore::open(&mut flash);
        store
            .begin(m.len() as u32, micrornn::format::model_crc(m), false)
            .unwrap();
        store.write(0, m).unwrap();
        store.commit().unwrap();
    }
    // The flash file: whole pages, written after an erase (as every flasher does).
    for (addr, bytes) in image.segments() {
        let at = (addr - spec.partition_addr) as usize;
        flash.0[at..at + bytes.len()].copy_from_slice(bytes);
    }
    let store = ModelStore::open(&mut flash);
    let bytes = store.model_bytes().ok()?.to_vec();
    store.active().map(|a| (a.slot, bytes))
}

fn serves(spec: &BoardSpec, before: &[&[u8]], image: &Image) -> Option<(Slot, Vec<u8>)> {
    match (spec.erase_size, spec.write_size) {
        (1024, 4) => serves_after::<1024, 4>(spec, before, image),
        (4096, 1) => serves_after::<4096, 1>(spec, before, image),
        (4096, 4) => serves_after::<4096, 4>(spec, before, image),
        (131_072, 4) => serves_after::<131_072, 4>(spec, before, image),
        g => panic!("{}: geometry {g:?} not covered by this test", spec.name),
    }
}

#[test]
fn every_board_serves_the_model_its_file_writes_even_over_a_newer_upload() {
    let small = model(16, 1);
    let (old1, old2) = (model(16, 2), model(16, 3));
    for board in BoardKind::ALL {
        let spec = board.spec();
        let placed = model_image(&spec, &small).unwrap();
        assert_eq!(placed.slot, Slot::A, "{}", spec.name);
        // Whole erase pages inside the partition.
        let (lo, hi) = (
            spec.partition_addr as u64,
            spec.partition_addr as u64 + spec.partition_len as u64,
        );
        for (addr, bytes) in placed.image.segments() {
            assert_eq!(addr % spec.erase_size, 0, "{}", spec.name);
            assert_eq!(bytes.len() as u32 % spec.erase_size, 0, "{}", spec.name);
            assert!(addr as u64 >= lo && addr as u64 + bytes.len() as u64 <= hi);
        }
        assert_eq!(
            serves(&spec, &[], &placed.image),
            Some((Slot::A, small.clone())),
            "{}: on an erased partition",
            spec.name
        );
        // Two uploads leave slot B serving with sequence 2: the file still wins.
        assert_eq!(
            serves(&spec, &[&old1, &old2], &placed.image),
            Some((Slot::A, small.clone())),
            "{}: over older uploads",
            spec.name
        );
    }
}

#[test]
fn a_model_larger_than_a_slot_takes_the_whole_partition() {
    // The Pico's table with a 48 KiB partition (slots of 24 KiB) and a 25 KB model.
    let mut spec = BoardKind::Pico.spec();
    spec.partition_len = 48 * 1024;
    let big = model(128, 4);
    assert!(
        big.len() > 24 * 1024 && big.len() < 48 * 1024 - 64,
        "test model of {} bytes",
        big.len()
    );
    let placed = model_image(&spec, &big).unwrap();
    assert_eq!(placed.slot, Slot::Single);
    let old = model(16, 5);
    assert_eq!(
        serves(&spec, &[&old, &old], &placed.image),
        Some((Slot::Single, big.clone()))
    );
    spec.partition_len = 16 * 1024;
    let e = model_image(&spec, &big).unwrap_err().to_string();
    assert!(e.contains("partition"), "{e}");
}

#[test]
fn a_model_that_does_not_fit_the_boards_ram_is_refused() {
    let wide = model(300, 6);
    let e = model_image(&BoardKind::Microbit.spec(), &wide)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not fit microbit"), "{e}");
}

/// (address, 256 bytes) of each UF2 block, and the block's family.
fn uf2_pages(file: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let w = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    file.chunks(512)
        .map(|b| (w(b, 12), w(b, 28), b[32..32 + w(b, 16) as usize].to_vec()))
        .collect()
}

#[test]
fn model_files_in_each_format() {
    let m = model(16, 7);
    // Pico: UF2, RP2040 family, every byte of the image.
    let pico = BoardKind::Pico.spec();
    let (file, placed) = model_file(&pico, &m, FileFormat::Uf2).unwrap();
    let pages = uf2_pages(&file);
    assert_eq!(pages.len() * 256, placed.image.len());
    for (addr, fam, data) in &pages {
        assert_eq!(*fam, 0xE48B_FF56);
        for (i, &b) in data.iter().enumerate() {
            assert_eq!(Some(b), placed.image.byte(addr + i as u32));
        }
    }
    // Pico 2: the model alone is written with the absolute family, no E10 block.
    let (file, _) = model_file(&BoardKind::Pico2.spec(), &m, FileFormat::Uf2).unwrap();
    assert!(uf2_pages(&file).iter().all(|p| p.1 == 0xE48B_FF57));
    // Nucleo: a .bin from the partition's address through the other slot's record page.
    let nucleo = BoardKind::NucleoF411re.spec();
    let (file, placed) = model_file(&nucleo, &m, FileFormat::Bin).unwrap();
    assert_eq!(file.len(), nucleo.partition_len as usize);
    assert_eq!(&file[..m.len()], &m[..]);
    assert_eq!(
        Some(file[1000]),
        placed.image.byte(nucleo.partition_addr + 1000)
    );
    // The micro:bit takes HEX, not UF2.
    let v2 = BoardKind::MicrobitV2.spec();
    let e = model_file(&v2, &m, FileFormat::Uf2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("takes .hex"), "{e}");
    let (hex, _) = model_file(&v2, &m, FileFormat::Hex).unwrap();
    assert!(String::from_utf8(hex).unwrap().ends_with(":00000001FF\n"));
    assert_eq!(FileFormat::native(&v2), FileFormat::Hex);
    assert_eq!(FileFormat::native(&nucleo), FileFormat::Bin);
    assert_eq!(FileFormat::native(&pico), FileFormat::Uf2);
}

/// A 32-bit little-endian Arm ELF executable with these program headers:
/// (type, paddr, vaddr, file bytes, memsz).
fn elf(segments: &[(u32, u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let mut out = vec![0u8; 52];
    out[..4].copy_from_slice(b"\x7fELF");
    out[4] = 1; // 32-bit
    out[5] = 1; // little-endian
    out[6] = 1;
    out[16..18].copy_from_slice(&2u16.to_le_bytes()); // executable
    out[18..20].copy_from_slice(&40u16.to_le_bytes()); // Arm
    out[24..28].copy_from_slice(&0x101u32.to_le_bytes()); // entry
    out[28..32].copy_from_slice(&52u32.to_le_bytes()); // phoff
    out[42..44].copy_from_slice(&32u16.to_le_bytes()); // phentsize
    out[44..46].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    let mut data_at = 52 + 32 * segments.len();
    let mut body = Vec::new();
    for (kind, paddr, vaddr, bytes, memsz) in segments {
        let mut ph = Vec::new();
        for w in [
            *kind,
            data_at as u32,
            *vaddr,
            *paddr,
            bytes.len() as u32,
            *memsz,
            5,
            4,
        ] {
            ph.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&ph);
        body.extend_from_slice(bytes);
        data_at += bytes.len();
    }
    out.extend_from_slice(&body);
    out
}

/// Text at `base`, initialised data stored after it (run in RAM), .bss (not loaded).
fn firmware_at(base: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let text: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let data: Vec<u8> = (0..100u32).map(|i| (i * 3 + 1) as u8).collect();
    let file = elf(&[
        (1, base, base, text.clone(), 3000),
        (1, base + 3000, 0x2000_0000, data.clone(), 100),
        (1, 0x2000_0064, 0x2000_0064, Vec::new(), 4096), // .bss
        (4, 0, 0, vec![1, 2, 3, 4], 4),                  // a note: not loaded
    ]);
    (file, text, data)
}

#[test]
fn firmware_and_model_in_one_file_for_the_drag_and_drop_boards() {
    let m = model(16, 8);
    // Nucleo: one .bin from the start of flash: text, data at its load address, 0xFF,
    // then the model at the partition.
    let nucleo = BoardKind::NucleoF411re.spec();
    let (elf_file, text, data) = firmware_at(0x0800_0000);
    let f = firmware_file(&nucleo, &elf_file, Some(&m)).unwrap();
    assert_eq!(f.format, FileFormat::Bin);
    assert_eq!(f.firmware_len, 3100);
    assert_eq!(&f.bytes[..3000], &text[..]);
    assert_eq!(&f.bytes[3000..3100], &data[..]);
    assert!(f.bytes[3100..0x4_0000].iter().all(|&b| b == 0xFF));
    assert_eq!(&f.bytes[0x4_0000..0x4_0000 + m.len()], &m[..]);
    assert_eq!(f.bytes.len(), 0x8_0000, "through slot B's record sector");
    // Without a model the .bin ends with the firmware.
    let f = firmware_file(&nucleo, &elf_file, None).unwrap();
    assert_eq!(f.bytes.len(), 3100);

    // Pico 2: UF2, the E10 block first, then firmware and model in the Arm-S family.
    let pico2 = BoardKind::Pico2.spec();
    let (elf_file, _, _) = firmware_at(0x1000_0000);
    let f = firmware_file(&pico2, &elf_file, Some(&m)).unwrap();
    let pages = uf2_pages(&f.bytes);
    assert_eq!((pages[0].0, pages[0].1), (0x100F_FF00, 0xE48B_FF57));
    assert!(pages[1..].iter().all(|p| p.1 == 0xE48B_FF59));
    assert!(pages.iter().any(|p| p.0 == pico2.partition_addr));

    // micro:bit v2: one .hex; the model's bytes are in it.
    let v2 = BoardKind::MicrobitV2.spec();
    let (elf_file, _, _) = firmware_at(0);
    let f = firmware_file(&v2, &elf_file, Some(&m)).unwrap();
    let text = String::from_utf8(f.bytes).unwrap();
    assert!(text.contains(":020000040004F6"), "a segment at 0x0004_0000");
}

#[test]
fn firmware_over_the_model_partition_or_outside_flash_is_refused() {
    let pico = BoardKind::Pico.spec();
    let (over, _, _) = firmware_at(pico.partition_addr - 1000);
    let e = firmware_file(&pico, &over, None).unwrap_err().to_string();
    assert!(e.contains("inside the model partition"), "{e}");
    let (outside, _, _) = firmware_at(0x0800_0000);
    let e = firmware_file(&pico, &outside, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside the pico's flash"), "{e}");
    let pico2 = BoardKind::Pico2.spec();
    let (e10, _, _) = firmware_at(0x100F_F000);
    let e = firmware_file(&pico2, &e10, None).unwrap_err().to_string();
    assert!(e.contains("RP2350-E10"), "{e}");
    assert!(firmware_file(&pico, b"not an elf", None).is_err());
    let mut truncated = firmware_at(0x1000_0000).0;
    truncated.truncate(200);
    let e = firmware_file(&pico, &truncated, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn drive_names_and_formats() {
    let f = |b: BoardKind| b.spec().flash_format.map(|f| (f.drive(), f.extension()));
    assert_eq!(f(BoardKind::Pico), Some(("RPI-RP2", "uf2")));
    assert_eq!(f(BoardKind::Pico2), Some(("RP2350", "uf2")));
    assert_eq!(f(BoardKind::MicrobitV2), Some(("MICROBIT", "hex")));
    assert_eq!(f(BoardKind::Microbit), Some(("MICROBIT", "hex")));
    assert_eq!(f(BoardKind::NucleoF411re), Some(("NODE_F411RE", "bin")));
    assert_eq!(f(BoardKind::Mps2An386), None);
    for b in BoardKind::ALL {
        let s = b.spec();
        assert_eq!(s.machine.is_some(), s.qemu_machine().is_ok());
        if let Some(FlashFormat::Uf2 { sector, .. }) = s.flash_format {
            assert_eq!(sector, 4096, "{}: RP boot ROMs erase 4 KiB sectors", s.name);
        }
    }
}

#[test]
fn store_capacities_are_what_the_emulated_boards_report() {
    // `info` of the firmware under QEMU: `store slot S single P`.
    let cap = |b: BoardKind| store_capacity(&b.spec()).unwrap();
    assert_eq!(cap(BoardKind::Mps2An386), (524_264, 1_048_552));
    assert_eq!(cap(BoardKind::Microbit), (98_280, 196_584));
    // Real boards: half the partition in whole erase pages, less the 24-byte record.
    assert_eq!(cap(BoardKind::Pico), (786_408, 1_572_840));
    assert_eq!(cap(BoardKind::NucleoF411re), (131_048, 262_120));
}
