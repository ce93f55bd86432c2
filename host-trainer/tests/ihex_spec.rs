//! The Intel HEX writer against the format's specification (Intel, "Hexadecimal
//! Object File Format Specification", rev. A), read back with a reader written here from
//! the specification: record syntax, checksums, extended linear address records, the end
//! record, and the bytes at their addresses.

use std::collections::BTreeMap;

use micrornn_trainer::export::ihex::{encode, encode_image};
use micrornn_trainer::export::image::Image;

/// A record: `:` LL AAAA TT DD… CC, hexadecimal pairs.
#[derive(Debug)]
struct Record {
    kind: u8,
    offset: u16,
    data: Vec<u8>,
}

/// Parses every line; panics on anything the specification does not allow.
fn records(text: &str) -> Vec<Record> {
    assert!(text.ends_with('\n'), "the last line ends");
    text.lines()
        .map(|line| {
            let hex = line.strip_prefix(':').expect("a record starts with ':'");
            assert!(
                hex.len() % 2 == 0 && hex.chars().all(|c| c.is_ascii_hexdigit()),
                "{line}"
            );
            assert!(
                !hex.chars().any(|c| c.is_ascii_lowercase()),
                "upper-case digits"
            );
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            assert!(bytes.len() >= 5, "{line}");
            let len = bytes[0] as usize;
            assert_eq!(bytes.len(), 5 + len, "LL counts the data bytes: {line}");
            let sum = bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b));
            assert_eq!(sum, 0, "checksum: all bytes sum to 0 mod 256: {line}");
            Record {
                kind: bytes[3],
                offset: u16::from_be_bytes([bytes[1], bytes[2]]),
                data: bytes[4..4 + len].to_vec(),
            }
        })
        .collect()
}

/// The memory a HEX file describes (types 00, 01, 04 only: what a 32-bit flasher reads).
fn memory(text: &str) -> BTreeMap<u32, u8> {
    let recs = records(text);
    let last = recs.last().expect("at least the end record");
    assert_eq!(
        (last.kind, last.offset, last.data.len()),
        (0x01, 0, 0),
        "ends with :00000001FF"
    );
    let mut upper = 0u32;
    let mut mem = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        match r.kind {
            0x00 => {
                assert!(!r.data.is_empty(), "no empty data record");
                assert!(
                    r.offset as usize + r.data.len() <= 0x1_0000,
                    "a data record stays inside its 64 KiB segment"
                );
                for (k, &b) in r.data.iter().enumerate() {
                    let a = (upper << 16) + r.offset as u32 + k as u32;
                    assert!(mem.insert(a, b).is_none(), "byte {a:#x} written twice");
                }
            }
            0x01 => assert_eq!(i, recs.len() - 1, "the end record is last"),
            0x04 => {
                assert_eq!(
                    (r.offset, r.data.len()),
                    (0, 2),
                    "type 04: offset 0, 2 bytes"
                );
                upper = u16::from_be_bytes([r.data[0], r.data[1]]) as u32;
            }
            k => panic!("record type {k:02X} is not expected"),
        }
    }
    mem
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

#[test]
fn every_byte_at_its_address_across_segments_and_64k_boundaries() {
    let mut im = Image::new();
    let a = pattern(40_000, 1); // crosses 0x0001_0000 at an odd offset
    let b = pattern(100, 2);
    let c = pattern(7, 3);
    im.add(0x0000_A003, &a).unwrap();
    im.add(0x0804_0000, &b).unwrap();
    im.add(0x1013_FFFD, &c).unwrap(); // crosses 0x1014_0000 inside one would-be record
    let text = encode_image(&im);
    let mem = memory(&text);
    assert_eq!(mem.len(), a.len() + b.len() + c.len());
    for (base, bytes) in [(0x0000_A003u32, &a), (0x0804_0000, &b), (0x1013_FFFD, &c)] {
        for (i, &v) in bytes.iter().enumerate() {
            assert_eq!(mem[&(base + i as u32)], v, "at {:#x}", base + i as u32);
        }
    }
    // An extended linear address record only where the upper half changes.
    let uppers: Vec<u16> = records(&text)
        .iter()
        .filter(|r| r.kind == 0x04)
        .map(|r| u16::from_be_bytes([r.data[0], r.data[1]]))
        .collect();
    assert_eq!(uppers, vec![0x0000, 0x0001, 0x0804, 0x1013, 0x1014]);
    // Records carry at most 16 bytes.
    assert!(records(&text).iter().all(|r| r.data.len() <= 16));
}

#[test]
fn a_single_piece_and_an_empty_image() {
    let mem = memory(&encode(0x0004_0000, b"MRNN").unwrap());
    assert_eq!(
        mem.into_iter().collect::<Vec<_>>(),
        vec![
            (0x0004_0000, b'M'),
            (0x0004_0001, b'R'),
            (0x0004_0002, b'N'),
            (0x0004_0003, b'N')
        ]
    );
    assert_eq!(encode_image(&Image::new()), ":00000001FF\n");
    assert!(encode(0xFFFF_FFFF, &[1, 2]).is_err());
}
