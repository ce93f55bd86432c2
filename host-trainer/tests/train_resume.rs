//! `micrornn train` as a user runs it: `--resume` from another folder than the one the
//! run started in, and a run without a validation split (`--val-frac 0`).

use std::path::Path;
use std::process::Output;

use micrornn_trainer::train::checkpoint::Checkpoint;

mod common;
use common::{micrornn_in, names};

/// `micrornn ARGS` run in `cwd`; fails the test if it fails.
fn micrornn(cwd: &Path, args: &[&str]) -> Output {
    let out = micrornn_in(cwd, args);
    assert!(
        out.status.success(),
        "micrornn {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

const TINY: [&str; 10] = [
    "--hidden",
    "8",
    "--batch-size",
    "32",
    "--threads",
    "1",
    "--quiet",
    "--lr",
    "0.01",
    "--seed",
];

#[test]
fn resume_works_from_another_folder() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    std::fs::create_dir_all(run.join("data")).unwrap();
    let data = names(&run.join("data"), 600, 53);
    assert!(data.ends_with("data/names.txt"));
    let mut args = vec!["train", "--data", "data/names.txt", "--epochs", "1"];
    args.extend(TINY);
    args.extend(["3", "--out", "m.mrnn"]);
    micrornn(&run, &args);

    // From the parent folder, with the checkpoint's path only: the data is found.
    let out = micrornn(
        root.path(),
        &[
            "train",
            "--resume",
            "run/m.ckpt",
            "--epochs",
            "2",
            "--quiet",
        ],
    );
    let ck = Checkpoint::read(&run.join("m.ckpt")).unwrap();
    assert_eq!(
        ck.epochs_done,
        2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The data moved: the error names the file it looked for and the flag that points at
    // the data.
    let moved = root.path().join("elsewhere.txt");
    std::fs::rename(&data, &moved).unwrap();
    let resume = [
        "train",
        "--resume",
        "run/m.ckpt",
        "--epochs",
        "3",
        "--quiet",
    ];
    let fail = micrornn_in(root.path(), &resume);
    assert!(!fail.status.success());
    let e = String::from_utf8_lossy(&fail.stderr);
    assert!(e.contains("names.txt") && e.contains("--data"), "{e}");
    // ...and --data points at it.
    micrornn(
        root.path(),
        &[&resume[..], &["--data", "elsewhere.txt"]].concat(),
    );
    assert_eq!(
        Checkpoint::read(&run.join("m.ckpt")).unwrap().epochs_done,
        3
    );
}

#[test]
fn no_validation_split_says_so_and_keeps_the_best_training_loss() {
    let dir = tempfile::tempdir().unwrap();
    let data = names(dir.path(), 400, 71);
    let data = data.to_str().unwrap();
    let mut args = vec!["train", "--data", data, "--epochs", "4", "--val-frac", "0"];
    args.extend(TINY);
    args.extend(["5", "--out", "m.mrnn"]);
    let out = micrornn(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.to_lowercase().contains("nan"), "{stdout}");
    assert!(stdout.contains("no validation split"), "{stdout}");
    let ck = Checkpoint::read(&dir.path().join("m.ckpt")).unwrap();
    let train: Vec<f64> = ck.history.iter().map(|e| e.train).collect();
    let best = (0..train.len())
        .min_by(|&a, &b| train[a].total_cmp(&train[b]))
        .unwrap();
    assert_eq!(ck.best_epoch as usize, best + 1, "{train:?}");
    assert!(
        stdout.contains(&format!("best epoch {} (training loss", best + 1)),
        "{stdout}"
    );
}
