//! `micrornn emulate` ended from outside, as a script, `timeout` or a service manager
//! ends it: QEMU must not outlive it, whether it gets SIGTERM (it ends QEMU itself) or
//! SIGKILL (it cannot: the kernel ends QEMU when its parent dies). Linux only (the
//! parent-death signal is a Linux feature); needs qemu-system-arm.
#![cfg(target_os = "linux")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use micrornn_trainer::device::boards::BoardKind;
use micrornn_trainer::device::emulator::build_firmware;

/// The micro:bit's firmware, built once for both tests.
fn elf() -> PathBuf {
    static ELF: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ELF.get_or_init(|| build_firmware(&BoardKind::Microbit.spec()).expect("firmware builds"))
        .clone()
}

/// The parent pid and state letter of process `pid`, if it exists.
fn stat(pid: u32) -> Option<(u32, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) S ppid ...`: the name may hold spaces, so read after its last `)`.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Whether `pid` is still running (a zombie waiting to be reaped is not).
fn running(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, state)| state != 'Z')
}

/// The pid of the `qemu-system-arm` whose parent is `parent`, once it has started.
fn qemu_child_of(parent: u32) -> u32 {
    let start = Instant::now();
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            // The emulator itself, not the `qemu-system-arm --version` run before it.
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let is_qemu = args
                .first()
                .is_some_and(|a| a.ends_with(b"qemu-system-arm"))
                && args.contains(&&b"-kernel"[..]);
            if is_qemu && stat(pid).is_some_and(|(pp, _)| pp == parent) {
                return pid;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "micrornn emulate started no QEMU"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until something listens on local TCP `port` (QEMU is up, not still starting:
/// one killed in its first moments may end by itself and hide the defect).
fn wait_listening(port: u16) {
    let start = Instant::now();
    let want = format!(":{port:04X} 00000000:0000 0A");
    while !std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .any(|l| l.contains(&want))
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "QEMU does not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `micrornn emulate` on the micro:bit with its UART on a free TCP port (QEMU waits
/// there for a connection that never comes: it runs until it is ended).
fn emulate(elf: &Path) -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["emulate", "--board", "microbit", "--serial"])
        .arg(format!("tcp:127.0.0.1:{port}"))
        .arg("--elf")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, port)
}

/// Sends `signal` to `micrornn emulate` and checks that its QEMU ends too.
fn qemu_ends_with_emulate(signal: &str) {
    let (mut emulate, port) = emulate(&elf());
    let qemu = qemu_child_of(emulate.id());
    wait_listening(port);
    let status = Command::new("kill")
        .args([format!("-{signal}"), emulate.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let ended = emulate.wait().unwrap();
    assert!(!ended.success(), "{ended}");
    // QEMU gets a few seconds to go (it is killed, not asked).
    let start = Instant::now();
    while running(qemu) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = running(qemu);
    if left {
        // Do not leave it behind for the next test either.
        let _ = Command::new("kill")
            .args(["-KILL", &qemu.to_string()])
            .status();
    }
    assert!(
        !left,
        "qemu-system-arm {qemu} outlived `micrornn emulate` ({signal})"
    );
}

#[test]
fn sigterm_ends_qemu() {
    qemu_ends_with_emulate("TERM");
}

#[test]
fn sigkill_of_the_parent_ends_qemu() {
    qemu_ends_with_emulate("KILL");
}

#[test]
fn sigterm_through_timeout_ends_qemu() {
    // As `timeout 2 micrornn emulate …` in a script: timeout sends SIGTERM.
    let elf = elf();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut timeout = Command::new("timeout")
        .arg("3")
        .arg(env!("CARGO_BIN_EXE_micrornn"))
        .args(["emulate", "--board", "microbit", "--serial"])
        .arg(format!("tcp:127.0.0.1:{port}"))
        .arg("--elf")
        .arg(&elf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let emulate = {
        let start = Instant::now();
        loop {
            let found = std::fs::read_dir("/proc").unwrap().flatten().find_map(|e| {
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                (stat(pid)?.0 == timeout.id()).then_some(pid)
            });
            if let Some(pid) = found {
                break pid;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timeout ran nothing"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let qemu = qemu_child_of(emulate);
    wait_listening(port);
    let status = timeout.wait().unwrap();
    assert_eq!(status.code(), Some(124), "timeout ended it: {status}");
    let start = Instant::now();
    while running(qemu) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = running(qemu);
    if left {
        let _ = Command::new("kill")
            .args(["-KILL", &qemu.to_string()])
            .status();
    }
    assert!(
        !left,
        "qemu-system-arm {qemu} outlived `timeout micrornn emulate`"
    );
}
