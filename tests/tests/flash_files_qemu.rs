//! The drag-and-drop file of `micrornn firmware --board microbit --model M` — one Intel
//! HEX holding the firmware and the model in its store — is all the emulated micro:bit
//! needs: QEMU loads that file alone (no ELF), the firmware boots, serves the model from
//! slot A and sends the host's names. Needs qemu-system-arm: fails (does not skip)
//! without it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use micrornn::format::{CellKind, Task};
use micrornn::sampler::Settings;
use micrornn_trainer::device::boards::BoardKind;
use micrornn_trainer::device::client::DeviceClient;
use micrornn_trainer::device::emulator::build_firmware;
use micrornn_trainer::eval::host_model::generate_names;
use micrornn_trainer::export::board_file::{firmware_file, FileFormat};
use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::params::Dims;

/// QEMU, killed when dropped.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_microbit_firmware_and_model_hex_alone_boots_and_serves_the_model() {
    let spec = BoardKind::Microbit.spec();
    let chars = "abcdefghijklmnopqrstuvwxyz";
    let dims = Dims::generate(CellKind::Rnn, 1, 64, chars.len() + 2);
    let mut rng = micrornn::rng::Rng::new(11);
    let flat: Vec<f32> = (0..dims.param_count())
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * 0.3)
        .collect();
    let model = export(&dims.split(&flat), Task::Generate, chars, &[]).unwrap();

    let elf = std::fs::read(build_firmware(&spec).expect("firmware builds")).unwrap();
    let file = firmware_file(&spec, &elf, Some(&model)).unwrap();
    assert_eq!(file.format, FileFormat::Hex);
    let dir = tempfile::tempdir().unwrap();
    let hex = dir.path().join("microbit+model.hex");
    std::fs::write(&hex, &file.bytes).unwrap();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("qemu-system-arm")
        .args(["-machine", "microbit", "-nographic", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("tcp:127.0.0.1:{port},server=on,wait=on"))
        .arg("-device")
        .arg(format!("loader,file={}", hex.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-arm runs");
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || BufReader::new(err).lines().count());
    let _qemu = Qemu(child);

    let start = Instant::now();
    let mut dev = loop {
        match DeviceClient::connect(&format!("tcp:127.0.0.1:{port}"), Duration::from_secs(60)) {
            Ok(d) => break d,
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("{e:#}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let info = dev.command("info").unwrap();
    assert!(
        info.iter().any(|l| l.starts_with("slot a seq 1 ")),
        "{info:?}"
    );
    let names = dev.command("gen 12 seed=5").unwrap();
    let host = generate_names(&model, 5, &Settings::default(), "", 12).unwrap();
    assert_eq!(names, host);
}
