//! Building a board's firmware: `cargo build` in its folder, for its target, with the
//! progress shown, and the ELF it made.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::device::boards::BoardSpec;

/// The repository's root (where `firmware/` is).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folder of `spec`'s firmware (its cargo project).
pub fn firmware_folder(spec: &BoardSpec) -> PathBuf {
    repo_root().join(spec.firmware_dir)
}

/// Checks that the Rust standard library for `target` is installed, and names the
/// command that installs it if not.
pub fn check_target(target: &str) -> Result<()> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| format!("cannot run {rustc} (is Rust installed? https://rustup.rs)"))?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || sysroot.is_empty() {
        bail!("`{rustc} --print sysroot` failed");
    }
    let lib = Path::new(&sysroot).join("lib/rustlib").join(target);
    if !lib.is_dir() {
        bail!(
            "the Rust target {target} is not installed; install it with: rustup target add {target}"
        );
    }
    Ok(())
}

/// Builds `spec`'s firmware (`cargo build --profile P --target T` in its folder; cargo's
/// progress goes to this terminal) and returns the ELF it made.
pub fn build(spec: &BoardSpec) -> Result<PathBuf> {
    let dir = firmware_folder(spec);
    if !dir.join("Cargo.toml").is_file() {
        bail!(
            "no firmware sources for {} at {} (a clone of the whole repository has them)",
            spec.name,
            dir.display()
        );
    }
    check_target(spec.target)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--profile", spec.profile, "--target", spec.target])
        .arg("--message-format=json-render-diagnostics");
    if let Some(bin) = spec.firmware_bin {
        cmd.args(["--bin", bin]);
    }
    // The folder's own .cargo/config.toml (target flags, linker script) must apply: no
    // flags from the environment, and the folder's own target directory.
    cmd.env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .context("cannot run cargo to build the firmware")?;
    let mut elf = None;
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines() {
            let line = line.context("cannot read cargo's output")?;
            if let Some(path) = executable(&line) {
                elf = Some(path);
            }
        }
    }
    let status = child.wait().context("cargo did not finish")?;
    if !status.success() {
        bail!(
            "building the firmware for {} failed (cargo build in {})",
            spec.name,
            dir.display()
        );
    }
    elf.with_context(|| format!("cargo built no executable for {}", spec.name))
}

/// The executable a line of cargo's JSON messages announces, if it announces one.
pub fn executable(line: &str) -> Option<PathBuf> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    v.get("executable")?.as_str().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_comes_from_the_artifact_message() {
        let art = r#"{"reason":"compiler-artifact","executable":"/t/x/release/fw","fresh":true}"#;
        assert_eq!(executable(art), Some(PathBuf::from("/t/x/release/fw")));
        let lib = r#"{"reason":"compiler-artifact","executable":null}"#;
        assert_eq!(executable(lib), None);
        assert_eq!(
            executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(executable("Compiling foo"), None);
    }

    #[test]
    fn a_missing_target_names_the_rustup_command() {
        let e = check_target("thumbv99-none-nonsense")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rustup target add thumbv99-none-nonsense"),
            "{e}"
        );
    }
}
