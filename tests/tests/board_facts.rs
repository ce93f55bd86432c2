//! One source of truth for each board fact, checked: every emulated board boots in QEMU
//! and its `info` (partition address and length, RAM and outputs capacity) must equal the
//! host's table (`BoardKind::spec`), which `export --board`, `emulate` and `demo` use. And
//! each board's flash driver keeps NOR rules on its own partition (the firmware's
//! self-test, `n`). Needs qemu-system-arm: these tests fail (they do not skip) without it.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use micrornn_trainer::device::boards::{BoardKind, BoardSpec};
use micrornn_trainer::device::build::firmware_folder;
use micrornn_trainer::device::emulator::{build_firmware, Emulator};

/// The boards QEMU emulates.
const QEMU_BOARDS: [BoardKind; 3] = [
    BoardKind::Mps2An386,
    BoardKind::Microbit,
    BoardKind::Mps2An505,
];

/// The value after `key` in the `info` line that starts with `key`.
fn field<'a>(info: &'a [String], key: &str) -> &'a str {
    info.iter()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no `{key}` line in {info:?}"))
}

#[test]
fn every_board_reports_the_facts_of_the_host_table() {
    for board in QEMU_BOARDS {
        let spec = board.spec();
        let elf = build_firmware(&spec).expect("firmware builds");
        let mut emu = Emulator::boot(&spec, &elf, None, false).expect("QEMU boots");
        let mut dev = emu
            .client(Duration::from_secs(60))
            .expect("the board answers");
        let info = dev.command("info").unwrap();
        assert_eq!(field(&info, "board "), spec.name, "{info:?}");
        assert_eq!(
            field(&info, "partition "),
            format!("{:#010x} {} bytes", spec.partition_addr, spec.partition_len),
            "{}: the partition in firmware/memory/{}.x and in the host table",
            spec.name,
            spec.name
        );
        assert_eq!(
            field(&info, "capacity "),
            format!("ram {} outputs {}", 4 * spec.arena_words, spec.logits_len),
            "{}: the buffers in the firmware's board file and in the host table",
            spec.name
        );
    }
}

/// Builds the firmware's self-test for `spec`'s target and returns its ELF.
fn build_selftest(spec: &BoardSpec) -> PathBuf {
    let dir = firmware_folder(spec);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&dir)
        .args(["build", "--quiet", "--bin", "selftest"])
        .args(["--profile", spec.profile, "--target", spec.target])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the self-test for {}", spec.name);
    dir.join("target")
        .join(spec.target)
        .join(spec.profile)
        .join("selftest")
}

/// Runs the self-test on `spec`'s machine with `input` on its UART (a byte at a time,
/// after the prompt) and returns its output lines and whether QEMU exited with success.
fn selftest(spec: &BoardSpec, input: &[u8]) -> (Vec<String>, bool) {
    let elf = build_selftest(spec);
    let mut qemu = Command::new("qemu-system-arm")
        .args([
            "-machine",
            spec.qemu_machine().expect("a QEMU board"),
            "-display",
            "none",
            "-monitor",
            "none",
        ])
        .args([
            "-serial",
            "stdio",
            "-semihosting-config",
            "enable=on,target=native",
        ])
        .arg("-kernel")
        .arg(&elf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("qemu-system-arm runs (apt-get install qemu-system-arm)");
    let (tx, rx) = mpsc::channel();
    let out = qemu.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line.trim_end().to_string()).is_err() {
                break;
            }
        }
    });
    let mut stdin = qemu.stdin.take().unwrap();
    let mut lines = Vec::new();
    let mut input = input.iter();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let prompt = line.starts_with("command (") || line.starts_with("flash ");
                lines.push(line);
                if prompt {
                    if let Some(&b) = input.next() {
                        stdin.write_all(&[b]).unwrap();
                        stdin.flush().unwrap();
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = qemu.kill();
                panic!("{}: the self-test stopped answering: {lines:?}", spec.name);
            }
        }
    }
    let status = qemu.wait().unwrap();
    (lines, status.success())
}

#[test]
fn every_board_flash_driver_keeps_nor_rules() {
    for board in QEMU_BOARDS {
        let spec = board.spec();
        let (lines, success) = selftest(&spec, b"nq");
        assert!(success, "{}: {lines:?}", spec.name);
        let partition = format!(
            "partition: {:#010x} {} bytes",
            spec.partition_addr, spec.partition_len
        );
        assert!(
            lines.iter().any(|l| l.starts_with(&partition)),
            "{}: {lines:?}",
            spec.name
        );
        assert!(
            lines.iter().any(|l| l.starts_with("flash ok: ")),
            "{}: {lines:?}",
            spec.name
        );
    }
}
