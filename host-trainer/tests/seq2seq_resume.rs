//! `micrornn train --task seq2seq` killed with SIGKILL after its first epoch, then
//! `--resume`d: the files end byte for byte as an uninterrupted run's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use micrornn_trainer::train::seq2seq_ckpt::Seq2seqCheckpoint;

/// Every 20th entry of the repository's dictionary, in `dir` (5,600 words: epochs of
/// a large fraction of a second, so that the kill lands between two of them).
fn dictionary(dir: &Path) -> PathBuf {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/cmudict-train.dict");
    let text = std::fs::read_to_string(full).unwrap();
    let some: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(";;;"))
        .step_by(20)
        .collect();
    let path = dir.join("small.dict");
    std::fs::write(&path, some.join("\n") + "\n").unwrap();
    path
}

/// `micrornn train --task seq2seq` of a small model on `data` into `out`, not yet waited for.
fn start(data: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["train", "--task", "seq2seq", "--quiet", "--threads", "1"])
        .args([
            "--hidden",
            "64",
            "--embed",
            "8",
            "--epochs",
            "6",
            "--batch-size",
            "16",
        ])
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn files(out: &Path) -> [Vec<u8>; 3] {
    ["mrnn", "ckpt", "val.dict"].map(|ext| std::fs::read(out.with_extension(ext)).unwrap())
}

#[test]
fn a_killed_run_resumes_to_the_same_bytes() {
    let root = tempfile::tempdir().unwrap();
    let data = dictionary(root.path());
    let whole = root.path().join("whole.mrnn");
    let done = start(&data, &whole).wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    let cut = root.path().join("cut.mrnn");
    let ckpt = cut.with_extension("ckpt");
    let mut child = start(&data, &cut);
    let begun = Instant::now();
    while !ckpt.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its first checkpoint"
        );
        assert!(
            begun.elapsed() < Duration::from_secs(600),
            "no checkpoint after 600 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at = Seq2seqCheckpoint::read(&ckpt).unwrap();
    assert!(
        (1..6).contains(&at.epochs_done),
        "killed after {} of 6 epochs: the test wants a run cut in the middle",
        at.epochs_done
    );
    // From another folder, without --data: the checkpoint knows its data.
    let resumed = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .current_dir(std::env::temp_dir())
        .args(["train", "--quiet", "--resume"])
        .arg(&ckpt)
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let said = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        said.contains(&format!("resuming after epoch {} of 6", at.epochs_done)),
        "{said}"
    );
    assert!(
        files(&whole) == files(&cut),
        "the resumed run's files differ"
    );

    // A finished run asks for more epochs; a changed shape is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["train", "--quiet", "--resume"])
        .arg(&ckpt)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.contains("give a larger --epochs"),
        "{err}"
    );
    let shape = Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(["train", "--quiet", "--hidden", "32", "--resume"])
        .arg(&ckpt)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&shape.stderr);
    assert!(
        !shape.status.success() && err.contains("--hidden cannot change"),
        "{err}"
    );
}
