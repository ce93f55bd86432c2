//! What the command-line tests share: the `micrornn` binary run as a user runs it, its
//! output, clean one-line errors, folders under the tests' temporary directory, files
//! written there, and the repository's data.
//!
//! Each test file that needs it says `mod common;`; not every file uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `micrornn ARGS`, run to the end: its exit status and output.
pub fn micrornn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(args)
        .output()
        .expect("runs")
}

/// `micrornn ARGS` run in the folder `cwd`.
pub fn micrornn_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(o: Output) -> String {
    ok_keep(&o)
}

/// Like [`ok`], without consuming the output.
pub fn ok_keep(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", stderr(o));
    stdout(o)
}

/// Asserts a clean failure: exit code 1, one `error:` line containing `needle`, no panic.
pub fn assert_clean_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err:?}"
    );
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    assert!(!err.contains("panicked"), "{err}");
}

/// As [`assert_clean_error`], and nothing printed on stdout.
pub fn assert_clean_error_quiet(o: &Output, needle: &str) {
    assert_clean_error(o, needle);
    assert!(o.stdout.is_empty(), "printed {:?}", stdout(o));
}

/// The folder `name` under the tests' temporary directory, made if missing; what earlier
/// runs left there stays.
pub fn tmp_dir(name: impl AsRef<Path>) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// As [`tmp_dir`], emptied first: a file left by an earlier run must not pass for this
/// one's.
pub fn fresh_tmp_dir(name: impl AsRef<Path>) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `contents` to `dir/name` and returns that path.
pub fn write_file(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// A path in the repository, `rel` from its root (e.g. `data/names.csv`).
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A path as the `&str` of a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every `step`-th name of the repository's data set (up to `n`), one per line, in
/// `dir/names.txt`.
pub fn names(dir: &Path, n: usize, step: usize) -> PathBuf {
    let text = std::fs::read_to_string(repo_path("data/names.csv")).unwrap();
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .step_by(step)
        .filter_map(|l| l.split(',').next())
        .take(n)
        .collect();
    write_file(dir, "names.txt", names.join("\n"))
}
