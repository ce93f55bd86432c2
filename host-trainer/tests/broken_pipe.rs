//! Output into a pipe that the reader closed (`micrornn inspect … | head -1`) ends the
//! program quietly, as Unix tools do, never with a panic.

use std::process::{Command, Stdio};

/// The committed example model of the `micrornn` crate.
const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/tests/fixtures/names.mrnn"
);

#[test]
fn a_closed_stdout_is_not_a_panic() {
    for args in [
        &["inspect", MODEL][..],
        &["export", "--model", MODEL, "--board", "pico", "--out"][..],
    ] {
        let mut args = args.to_vec();
        let dir = std::env::temp_dir().join(format!("micrornn-pipe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("m.uf2");
        if args.last() == Some(&"--out") {
            args.push(out.to_str().unwrap());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_micrornn"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before the program writes anything.
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
