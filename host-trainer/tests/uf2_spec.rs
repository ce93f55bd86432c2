//! The UF2 writer against the UF2 specification (github.com/microsoft/uf2, README
//! "File format"), read back with a reader written here from the specification — not
//! the writer's code — and against the RP2040 boot ROM's erase bookkeeping and picotool's
//! RP2350-E10 block.

use std::collections::BTreeMap;

use micrornn_trainer::export::image::Image;
use micrornn_trainer::export::uf2::{encode, family, Options};

/// One block as the specification lays it out: eight little-endian words, 476 data
/// bytes, the end magic.
#[derive(Debug, Clone)]
struct Block {
    flags: u32,
    target: u32,
    payload_size: u32,
    block_no: u32,
    num_blocks: u32,
    family: u32,
    data: Vec<u8>,
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Parses a UF2 file; panics on anything the specification does not allow.
fn read(file: &[u8]) -> Vec<Block> {
    assert_eq!(file.len() % 512, 0, "a UF2 file is whole 512-byte blocks");
    file.chunks(512)
        .map(|b| {
            assert_eq!(word(b, 0), 0x0A32_4655, "magicStart0 \"UF2\\n\"");
            assert_eq!(word(b, 4), 0x9E5D_5157, "magicStart1");
            assert_eq!(word(b, 508), 0x0AB1_6F30, "magicEnd");
            let block = Block {
                flags: word(b, 8),
                target: word(b, 12),
                payload_size: word(b, 16),
                block_no: word(b, 20),
                num_blocks: word(b, 24),
                family: word(b, 28),
                data: b[32..508].to_vec(),
            };
            assert!(block.payload_size <= 476, "payload fits the data field");
            assert!(block.block_no < block.num_blocks, "blockNo < numBlocks");
            block
        })
        .collect()
}

/// The bytes a file writes: address → byte, for the blocks of `fam`.
fn memory(blocks: &[Block], fam: u32) -> BTreeMap<u32, u8> {
    let mut m = BTreeMap::new();
    for b in blocks.iter().filter(|b| b.family == fam) {
        for (i, &v) in b.data[..b.payload_size as usize].iter().enumerate() {
            assert!(
                m.insert(b.target + i as u32, v).is_none(),
                "a byte written twice"
            );
        }
    }
    m
}

fn image(parts: &[(u32, Vec<u8>)]) -> Image {
    let mut im = Image::new();
    for (a, b) in parts {
        im.add(*a, b).unwrap();
    }
    im
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn blocks_follow_the_specification_and_hold_the_image() {
    // A model-like piece that does not end on a page, and a far record page.
    let model = pattern(5000, 3);
    let record = pattern(24, 9);
    let im = image(&[(0x1008_0000, model.clone()), (0x1013_FFE8, record.clone())]);
    let opts = Options {
        family: family::RP2040,
        sector: None,
        e10_block: None,
    };
    let blocks = read(&encode(&im, &opts).unwrap());
    // Whole 256-byte pages only: ceil(5000/256) = 20 pages, and the record's one page.
    assert_eq!(blocks.len(), 21);
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(b.flags, 0x0000_2000, "familyID present, nothing else");
        assert_eq!(b.family, 0xE48B_FF56, "RP2040 family ID");
        assert_eq!(b.payload_size, 256);
        assert_eq!(b.target % 256, 0, "page-aligned target");
        assert_eq!(b.block_no, i as u32, "blocks numbered in order from 0");
        assert_eq!(b.num_blocks, 21, "every block carries the total");
        assert!(
            b.data[256..].iter().all(|&x| x == 0),
            "unused data bytes are zero"
        );
    }
    let mem = memory(&blocks, family::RP2040);
    for (i, &v) in model.iter().enumerate() {
        assert_eq!(mem[&(0x1008_0000 + i as u32)], v);
    }
    for (i, &v) in record.iter().enumerate() {
        assert_eq!(mem[&(0x1013_FFE8 + i as u32)], v);
    }
    // Padding of a partial page is erased flash.
    assert_eq!(mem[&(0x1008_0000 + 5000)], 0xFF);
    assert_eq!(mem[&0x1013_FF00], 0xFF);
}

#[test]
fn rp2040_files_cover_whole_sectors_numbered_from_multiples_of_16() {
    let im = image(&[
        (0x1000_0000, pattern(300, 1)),
        (0x1000_1F00, pattern(600, 2)), // crosses into the next sector
        (0x1013_F000 + 4000, pattern(24, 3)),
    ]);
    let opts = Options {
        family: family::RP2040,
        sector: Some(4096),
        e10_block: None,
    };
    let blocks = read(&encode(&im, &opts).unwrap());
    // Sectors 0x1000_0000, 0x1000_1000, 0x1000_2000, 0x1013_F000: 4 × 16 blocks.
    assert_eq!(blocks.len(), 64);
    let mut sectors: BTreeMap<u32, Vec<&Block>> = BTreeMap::new();
    for b in &blocks {
        sectors.entry(b.target / 4096 * 4096).or_default().push(b);
    }
    assert_eq!(
        sectors.keys().copied().collect::<Vec<_>>(),
        vec![0x1000_0000, 0x1000_1000, 0x1000_2000, 0x1013_F000]
    );
    for (start, bs) in &sectors {
        assert_eq!(bs.len(), 16, "sector {start:#x} is whole");
        assert_eq!(
            bs[0].block_no % 16,
            0,
            "sector {start:#x} starts a group of 16"
        );
        for (i, b) in bs.iter().enumerate() {
            assert_eq!(b.target, start + 256 * i as u32);
            assert_eq!(b.block_no, bs[0].block_no + i as u32);
        }
    }
}

/// The RP2040 boot ROM (pico-bootrom `virtual_disk.c`): for each block, the erase group
/// is `block_no * 256 / 4096`; the first block of a group erases the 4 KiB sector of
/// *its own target address*, later blocks of that group erase nothing. Programming NOR
/// flash only clears bits (the new byte is ANDed into the old one). Returns nothing:
/// `flash` (address → byte, absent = erased) is updated as the blocks arrive in `order`.
fn rp2040_boot_rom(flash: &mut BTreeMap<u32, u8>, blocks: &[Block], order: &[usize]) {
    let mut erased_groups = std::collections::BTreeSet::new();
    for &i in order {
        let b = &blocks[i];
        if erased_groups.insert(b.block_no * 256 / 4096) {
            let sector = b.target & !0xFFF;
            for a in sector..sector + 4096 {
                flash.insert(a, 0xFF);
            }
        }
        for (k, &v) in b.data[..256].iter().enumerate() {
            let cell = flash.entry(b.target + k as u32).or_insert(0xFF);
            *cell &= v;
        }
    }
}

/// Flash whose sectors under `blocks` hold old bytes (not erased).
fn used_flash(blocks: &[Block]) -> BTreeMap<u32, u8> {
    let mut flash = BTreeMap::new();
    for b in blocks {
        let s = b.target & !0xFFF;
        for a in s..s + 4096 {
            flash.insert(a, (a as u8) ^ 0x5A);
        }
    }
    flash
}

#[test]
fn the_rp2040_boot_rom_writes_exactly_the_image_in_any_block_order() {
    let im = image(&[
        (0x1008_0000, pattern(9000, 5)),
        (0x1013_FFE8, pattern(24, 7)),
    ]);
    let opts = Options {
        family: family::RP2040,
        sector: Some(4096),
        e10_block: None,
    };
    let blocks = read(&encode(&im, &opts).unwrap());
    let n = blocks.len();
    let orders: Vec<Vec<usize>> = vec![
        (0..n).collect(),
        (0..n).rev().collect(),
        (0..n).map(|i| (i * 7) % n).collect(),
    ];
    for order in orders {
        let mut flash = used_flash(&blocks);
        rp2040_boot_rom(&mut flash, &blocks, &order);
        // Every sector the file touches holds the image, the rest of it erased.
        for (&a, &v) in &flash {
            assert_eq!(v, im.byte(a).unwrap_or(0xFF), "at {a:#x}");
        }
    }
}

#[test]
fn without_whole_sectors_the_rp2040_boot_rom_corrupts_data() {
    // Two pages straddling a sector boundary are blocks 0 and 1, one erase group: only
    // the first page's sector is erased, the second page is programmed over old bytes.
    let straddle = image(&[(0x1008_0F00, pattern(512, 1))]);
    let loose = Options {
        family: family::RP2040,
        sector: None,
        e10_block: None,
    };
    let blocks = read(&encode(&straddle, &loose).unwrap());
    assert_eq!(blocks.len(), 2);
    let mut flash = used_flash(&blocks);
    rp2040_boot_rom(&mut flash, &blocks, &[0, 1]);
    let wrong = (0x1008_1000..0x1008_1100)
        .filter(|&a| flash[&a] != straddle.byte(a).unwrap())
        .count();
    assert!(wrong > 0, "the unerased page was programmed correctly");
    // The same bytes in whole sectors arrive intact.
    let whole = Options {
        sector: Some(4096),
        ..loose
    };
    let blocks = read(&encode(&straddle, &whole).unwrap());
    assert_eq!(blocks.len(), 32);
    let mut flash = used_flash(&blocks);
    rp2040_boot_rom(&mut flash, &blocks, &(0..32).collect::<Vec<_>>());
    for (&a, &v) in &flash {
        assert_eq!(v, straddle.byte(a).unwrap_or(0xFF), "at {a:#x}");
    }
}

#[test]
fn rp2350_firmware_files_start_with_picotools_e10_block() {
    let im = image(&[(0x1000_0000, pattern(1000, 4))]);
    let opts = Options {
        family: family::RP2350_ARM_S,
        sector: Some(4096),
        e10_block: Some(0x100F_FF00),
    };
    let blocks = read(&encode(&im, &opts).unwrap());
    assert_eq!(blocks.len(), 17);
    let e10 = &blocks[0];
    assert_eq!(
        e10.flags,
        0x0000_2000 | 0x0000_8000,
        "family ID and extension tags"
    );
    assert_eq!(e10.family, 0xE48B_FF57, "absolute family");
    assert_eq!(e10.target, 0x100F_FF00);
    assert_eq!((e10.block_no, e10.num_blocks), (0, 2));
    assert_eq!(e10.payload_size, 256);
    assert!(e10.data[..256].iter().all(|&b| b == 0xEF));
    // Extension tags follow the payload, 4-byte aligned: size 4, type 0x9957E3
    // (RP2_IGNORE_BLOCK), then a zero word ends the list.
    assert_eq!(e10.data[256], 4);
    assert_eq!(
        u32::from_le_bytes(e10.data[256..260].try_into().unwrap()) >> 8,
        0x9957E3
    );
    assert_eq!(word(&e10.data, 260), 0);
    for (i, b) in blocks[1..].iter().enumerate() {
        assert_eq!(b.family, 0xE48B_FF59, "RP2350 Arm secure");
        assert_eq!((b.block_no, b.num_blocks), (i as u32, 16));
        assert_eq!(b.flags, 0x2000);
    }
    // The E10 page may not be in a sector the file writes.
    let bad = Options {
        e10_block: Some(0x1000_0F00),
        ..opts
    };
    assert!(encode(&im, &bad).is_err());
    let unaligned = Options {
        e10_block: Some(0x100F_FF80),
        ..opts
    };
    assert!(encode(&im, &unaligned).is_err());
}

#[test]
fn empty_images_and_odd_sectors_are_refused() {
    let opts = Options {
        family: family::RP2040,
        sector: Some(4096),
        e10_block: None,
    };
    assert!(encode(&Image::new(), &opts).is_err());
    let im = image(&[(0, vec![1])]);
    assert!(encode(
        &im,
        &Options {
            sector: Some(3000),
            ..opts
        }
    )
    .is_err());
}
