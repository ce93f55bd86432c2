//! One source of truth for the partition: each board's linker script (the `MEMORY`
//! regions of `firmware/boards/<board>/memory.x`, or `firmware/memory/<board>.x` for the
//! QEMU boards) and the host's table (`BoardKind::spec`) must agree, so that `export`,
//! `firmware` and the device put the model in the same place.

use std::collections::BTreeMap;
use std::path::PathBuf;

use micrornn_trainer::device::boards::{BoardKind, FlashFormat};
use micrornn_trainer::device::build::repo_root;

/// A `MEMORY` region: (origin, length).
type Region = (u64, u64);

/// A number of a linker script: `0x…`, decimal, with an optional `K` or `M`.
fn number(s: &str) -> u64 {
    let s = s.trim();
    let (digits, scale) = match s.strip_suffix('K').or_else(|| s.strip_suffix('k')) {
        Some(d) => (d, 1024),
        None => match s.strip_suffix('M').or_else(|| s.strip_suffix('m')) {
            Some(d) => (d, 1024 * 1024),
            None => (s, 1),
        },
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(h) => u64::from_str_radix(h, 16),
        None => digits.parse(),
    };
    v.unwrap_or_else(|_| panic!("not a number: {s:?}")) * scale
}

/// An expression of numbers joined by `+` and `-` (e.g. `512K - 0x100`).
fn expr(s: &str) -> u64 {
    let mut total: i64 = 0;
    let mut sign = 1;
    let mut term = String::new();
    for c in s.chars().chain(std::iter::once('+')) {
        if c == '+' || c == '-' {
            if !term.trim().is_empty() {
                total += sign * number(&term) as i64;
            }
            term.clear();
            sign = if c == '+' { 1 } else { -1 };
        } else {
            term.push(c);
        }
    }
    total as u64
}

/// The `MEMORY { NAME : ORIGIN = …, LENGTH = … }` regions of a linker script.
fn regions(script: &str) -> BTreeMap<String, Region> {
    // Comments out, then the body of MEMORY { … }.
    let mut text = String::new();
    let mut rest = script;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    text.push_str(rest);
    let start = text.find("MEMORY").expect("a MEMORY block");
    let open = start + text[start..].find('{').unwrap();
    let close = open + text[open..].find('}').unwrap();
    let mut out = BTreeMap::new();
    for line in text[open + 1..close].lines() {
        let Some((name, def)) = line.split_once(':') else {
            continue;
        };
        let field = |key: &str| {
            let at = def.find(key).unwrap_or_else(|| panic!("{key} in {line:?}"));
            let v = &def[at + key.len()..];
            let v = v.trim_start().strip_prefix('=').unwrap();
            expr(v.split(',').next().unwrap())
        };
        out.insert(name.trim().to_string(), (field("ORIGIN"), field("LENGTH")));
    }
    out
}

fn script(board: BoardKind) -> PathBuf {
    let spec = board.spec();
    if spec.machine.is_some() {
        repo_root()
            .join("firmware/memory")
            .join(format!("{}.x", spec.name))
    } else {
        repo_root().join(spec.firmware_dir).join("memory.x")
    }
}

#[test]
fn linker_scripts_parse() {
    let r = regions("MEMORY\n{\n /* x */ FLASH : ORIGIN = 0x10000100, LENGTH = 512K - 0x100 /* y */\n  RAM : ORIGIN = 0x20000000, LENGTH = 264K\n}");
    assert_eq!(r["FLASH"], (0x1000_0100, 512 * 1024 - 0x100));
    assert_eq!(r["RAM"], (0x2000_0000, 264 * 1024));
    assert_eq!(expr("1M"), 1 << 20);
}

#[test]
fn every_boards_partition_is_the_one_in_its_linker_script() {
    let mut checked = 0;
    for board in BoardKind::ALL {
        let spec = board.spec();
        let path = script(board);
        let Ok(text) = std::fs::read_to_string(&path) else {
            // A board folder still being written is not there yet.
            assert!(
                spec.machine.is_none(),
                "{}: no linker script at {}",
                spec.name,
                path.display()
            );
            eprintln!("{}: no {} yet, skipped", spec.name, path.display());
            continue;
        };
        let r = regions(&text);
        let model = r
            .get("MODEL")
            .unwrap_or_else(|| panic!("{}: no MODEL region", path.display()));
        assert_eq!(
            *model,
            (spec.partition_addr as u64, spec.partition_len as u64),
            "{}: MODEL in {} and partition in the host table",
            spec.name,
            path.display()
        );
        assert_eq!(
            spec.partition_addr % spec.erase_size,
            0,
            "{}: whole erase pages",
            spec.name
        );
        assert_eq!(spec.partition_len % spec.erase_size, 0, "{}", spec.name);
        // The program's region (and the RP2040's boot loader) lie in the chip's flash,
        // before the partition, and on real boards the partition lies in flash too.
        let flash = (
            spec.flash_addr as u64,
            spec.flash_addr as u64 + spec.flash_len as u64,
        );
        for name in ["BOOT2", "FLASH"] {
            if let Some(&(o, l)) = r.get(name) {
                assert!(
                    o >= flash.0 && o + l <= flash.1,
                    "{}: {name} outside the chip's flash",
                    spec.name
                );
            }
        }
        if spec.machine.is_none() {
            let (o, l) = r["FLASH"];
            assert!(o + l <= model.0, "{}: FLASH runs into MODEL", spec.name);
            assert!(
                model.0 >= flash.0 && model.0 + model.1 <= flash.1,
                "{}: MODEL outside the chip's flash",
                spec.name
            );
        }
        // The RP2350-E10 block's page: in the program's region, not in the partition.
        if let Some(FlashFormat::Uf2 {
            e10_block: Some(page),
            ..
        }) = spec.flash_format
        {
            let (o, l) = r["FLASH"];
            let p = page as u64;
            assert!(
                p >= o && p + 256 <= o + l,
                "{}: E10 page outside FLASH",
                spec.name
            );
        }
        checked += 1;
    }
    assert!(checked >= 3, "the QEMU boards' scripts at least");
}

/// The real boards cannot be booted here to ask `info` (the QEMU boards are, in
/// `tests/tests/board_facts.rs`): their arena and outputs are read from the one place the
/// four firmwares take them, `firmware/boards/common/src/session.rs`, and compared with
/// the host's table.
#[test]
fn the_real_boards_buffers_are_the_hosts() {
    let path = repo_root().join("firmware/boards/common/src/session.rs");
    let source = std::fs::read_to_string(&path).unwrap();
    let constant = |name: &str| {
        let line = source
            .lines()
            .find(|l| l.starts_with(&format!("pub const {name}: usize = ")))
            .unwrap_or_else(|| panic!("{}: no `pub const {name}`", path.display()));
        line.split(" = ")
            .nth(1)
            .unwrap()
            .trim_end_matches(';')
            .to_string()
    };
    assert_eq!(constant("ARENA_LEN"), "micrornn::session::FULL_ARENA_WORDS");
    let logits: usize = constant("LOGITS_LEN").parse().unwrap();
    let full = micrornn::session::FULL_ARENA_WORDS;
    for board in [
        BoardKind::Pico,
        BoardKind::Pico2,
        BoardKind::MicrobitV2,
        BoardKind::NucleoF411re,
    ] {
        let spec = board.spec();
        assert_eq!(
            (spec.arena_words, spec.logits_len),
            (full, logits),
            "{}",
            spec.name
        );
    }
}
