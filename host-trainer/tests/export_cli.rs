//! `micrornn export --board B` through the binary: each board's default format, the
//! advice it prints, and clear refusals; `micrornn ports` runs.

use std::path::Path;
use std::process::Output;

use micrornn::format::{CellKind, Task};
use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::params::Dims;

mod common;
use common::micrornn_in;

fn micrornn(args: &[&str], dir: &Path) -> Output {
    micrornn_in(dir, args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small untrained generator, written to `dir/m.mrnn`.
fn model(dir: &Path) -> Vec<u8> {
    let chars = "abcdefghijklmnopqrstuvwxyz";
    let dims = Dims::generate(CellKind::Rnn, 1, 32, chars.len() + 2);
    let flat = vec![0.01f32; dims.param_count()];
    let bytes = export(&dims.split(&flat), Task::Generate, chars, &[]).unwrap();
    std::fs::write(dir.join("m.mrnn"), &bytes).unwrap();
    bytes
}

#[test]
fn each_board_gets_its_own_format_and_advice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bytes = model(d);

    let o = micrornn(
        &[
            "export", "--board", "pico", "--model", "m.mrnn", "--out", "m.uf2",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let uf2 = std::fs::read(d.join("m.uf2")).unwrap();
    assert!(uf2.len() % 512 == 0 && uf2.starts_with(b"UF2\n"));
    assert!(text(&o).contains("BOOTSEL") && text(&o).contains("RPI-RP2"));

    let o = micrornn(
        &[
            "export",
            "--board",
            "nucleo-f411re",
            "--model",
            "m.mrnn",
            "--out",
            "m.bin",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let bin = std::fs::read(d.join("m.bin")).unwrap();
    assert_eq!(
        &bin[..bytes.len()],
        &bytes[..],
        "the model at the partition's start"
    );
    let t = text(&o);
    assert!(
        t.contains("NODE_F411RE")
            && t.contains("micrornn firmware --board nucleo-f411re --model m.mrnn")
            && t.contains("--base-address 0x08040000"),
        "{t}"
    );

    let o = micrornn(
        &[
            "export",
            "--board",
            "microbit-v2",
            "--model",
            "m.mrnn",
            "--out",
            "m.hex",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(d.join("m.hex"))
        .unwrap()
        .ends_with(":00000001FF\n"));
    assert!(text(&o).contains("erases the whole flash"), "{}", text(&o));

    // --format mrnn with a board: the model file itself, checked to fit.
    let o = micrornn(
        &[
            "export",
            "--board",
            "pico",
            "--format",
            "mrnn",
            "--model",
            "m.mrnn",
            "--out",
            "again.mrnn",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(d.join("again.mrnn")).unwrap(), bytes);
}

#[test]
fn wrong_combinations_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    model(d);
    let o = micrornn(
        &[
            "export",
            "--board",
            "microbit-v2",
            "--format",
            "uf2",
            "--model",
            "m.mrnn",
            "--out",
            "x",
        ],
        d,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("the microbit-v2 takes .hex"),
        "{}",
        text(&o)
    );
    let o = micrornn(
        &[
            "export", "--format", "hex", "--model", "m.mrnn", "--out", "x",
        ],
        d,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("need --board"), "{}", text(&o));
    assert!(!d.join("x").exists(), "nothing written on failure");
    let o = micrornn(&["emulate", "--board", "nucleo-f411re"], d);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("micrornn firmware --board nucleo-f411re"),
        "{}",
        text(&o)
    );
}

#[test]
fn ports_lists_and_firmware_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let o = micrornn(&["ports"], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("--port"), "{}", text(&o));
    let o = micrornn(&["firmware", "--help"], dir.path());
    assert!(o.status.success() && text(&o).contains("--model"));
}
