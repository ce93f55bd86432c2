//! `micrornn train` killed with SIGKILL at random moments, again and again, each time
//! resumed from what it left: every file on disk loads after every kill, and the run
//! finishes with the bytes of a run that was never interrupted. Unix only (SIGKILL).
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use micrornn::rng::Rng;
use micrornn_trainer::train::checkpoint::Checkpoint;

mod common;
use common::names;

/// Kills at least this many runs (and half as many after a checkpoint was written).
const KILLS: usize = 24;

/// `micrornn train` of a small GRU for `epochs` writing `out`: fresh, or resuming `out`'s
/// checkpoint.
fn train(data: &Path, out: &Path, resume: bool, epochs: u32) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_micrornn"));
    cmd.arg("train");
    if resume {
        cmd.arg("--resume").arg(out.with_extension("ckpt"));
    } else {
        cmd.arg("--data").arg(data);
        cmd.args([
            "--cell", "gru", "--hidden", "12", "--embed", "4", "--seed", "5",
        ]);
        cmd.args(["--batch-size", "16", "--threads", "1", "--lr", "0.01"]);
    }
    cmd.args(["--quiet", "--epochs"])
        .arg(epochs.to_string())
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Every file the run has left loads: the checkpoint, the model, the validation names.
fn files_load(out: &Path) -> [bool; 3] {
    let ckpt = out.with_extension("ckpt");
    let has_ckpt = ckpt.exists();
    if has_ckpt {
        Checkpoint::read(&ckpt).expect("the checkpoint loads after a kill");
    }
    let has_model = out.exists();
    if has_model {
        let bytes = std::fs::read(out).unwrap();
        micrornn::model::Model::load(&bytes).expect("the model loads after a kill");
    }
    let val = out.with_extension("val.txt");
    let has_val = val.exists();
    if has_val {
        let text = std::fs::read_to_string(&val).expect("the validation names are UTF-8");
        assert!(text.lines().all(|l| !l.trim().is_empty()), "{text:?}");
    }
    [has_ckpt, has_model, has_val]
}

#[test]
fn sigkill_at_random_moments_then_resume_gives_the_uninterrupted_bytes() {
    let root = tempfile::tempdir().unwrap();
    let data = names(root.path(), 1500, 41);
    for d in ["whole", "killed"] {
        std::fs::create_dir(root.path().join(d)).unwrap();
    }
    let whole = root.path().join("whole/m.mrnn");
    let killed = root.path().join("killed/m.mrnn");

    let start = Instant::now();
    let status = train(&data, &whole, false, 12).status().unwrap();
    assert!(status.success());
    let run_time = start.elapsed();

    // Each attempt runs for a random part of an eighth of a whole run, then gets SIGKILL;
    // it resumes from the checkpoint when there is one.
    let mut rng = Rng::new(2024);
    let (mut kills, mut finished_early, mut attempts) = (0, 0, 0);
    let mut seen = [0usize; 3];
    // At least KILLS kills, and at least KILLS / 2 of them in resumed runs (a slow
    // machine makes more attempts; the bound only stops a run that cannot progress).
    while kills < KILLS || seen[0] < KILLS / 2 {
        assert!(
            attempts < 40 * KILLS,
            "no progress after {attempts} attempts"
        );
        attempts += 1;
        let resume = killed.with_extension("ckpt").exists();
        let mut child = train(&data, &killed, resume, 12).spawn().unwrap();
        let wait = run_time.mul_f64(rng.below(1000) as f64 / 8000.0);
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            finished_early += 1;
            // A run that got to the end: start the whole exercise over from nothing, so that
            // every kill lands in a run.
            for f in std::fs::read_dir(root.path().join("killed")).unwrap() {
                std::fs::remove_file(f.unwrap().path()).unwrap();
            }
            continue;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        for (n, present) in seen.iter_mut().zip(files_load(&killed)) {
            *n += present as usize;
        }
    }
    // Then once more, to the end.
    let resume = killed.with_extension("ckpt").exists();
    let out = train(&data, &killed, resume, 12).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    files_load(&killed);
    eprintln!(
        "{kills} kills in {attempts} attempts ({finished_early} runs ended before their kill); \
         after the kills: checkpoint present {} times, model {}, validation names {}; \
         a whole run takes {:.1} s",
        seen[0],
        seen[1],
        seen[2],
        run_time.as_secs_f64()
    );
    for ext in ["mrnn", "ckpt", "val.txt"] {
        let a = std::fs::read(whole.with_extension(ext)).unwrap();
        let b = std::fs::read(killed.with_extension(ext)).unwrap();
        assert!(a == b, "{ext} differs from the uninterrupted run's");
    }
}

/// The narrowest window: killed after an improving epoch's checkpoint was written but
/// before its model file was. The resumed run has nothing left to improve, and must still
/// leave the model of the checkpoint's best epoch.
#[test]
fn a_kill_between_checkpoint_and_model_is_healed_by_resume() {
    let root = tempfile::tempdir().unwrap();
    let data = names(root.path(), 600, 61);
    let run = root.path().join("m.mrnn");
    assert!(train(&data, &run, false, 3).status().unwrap().success());
    let good = std::fs::read(&run).unwrap();
    // An older model where the newest should be, as the kill would leave it.
    let old = root.path().join("old.mrnn");
    assert!(train(&data, &old, false, 1).status().unwrap().success());
    std::fs::copy(&old, &run).unwrap();
    assert_ne!(std::fs::read(&run).unwrap(), good);
    assert!(train(&data, &run, true, 3).status().unwrap().success());
    assert!(
        std::fs::read(&run).unwrap() == good,
        "the resumed run left the older model"
    );
}
