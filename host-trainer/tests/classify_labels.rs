//! `micrornn classify` on a model whose label names hold control characters (a hostile
//! file): the labels come out escaped (`\x1b`), as the device's `classify` writes them,
//! never as bytes that would drive the terminal.

use std::process::Command;

use micrornn::format::{CellKind, Task};
use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::params::Dims;

#[test]
fn label_control_bytes_are_escaped() {
    let dims = Dims {
        task: Task::Classify,
        outputs: 2,
        ..Dims::generate(CellKind::Rnn, 1, 8, 5)
    };
    let mut rng = micrornn::rng::Rng::new(9);
    let flat: Vec<f32> = (0..dims.param_count())
        .map(|_| rng.next_u32() as f32 / u32::MAX as f32 - 0.5)
        .collect();
    let labels = ["\x1b[2Jspam".to_string(), "\x07ham".to_string()];
    let bytes = export(&dims.split(&flat), Task::Classify, "anp", &labels).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("c.mrnn");
    std::fs::write(&model, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .arg("classify")
        .arg("--model")
        .arg(&model)
        .args(["anna", "nap"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(line.bytes().all(|b| b >= 0x20), "{line:?}");
        let label = line.split(' ').nth(1).unwrap();
        assert!([r"\x1b[2Jspam", r"\x07ham"].contains(&label), "{line:?}");
    }
    assert_eq!(text.lines().count(), 2);
}
