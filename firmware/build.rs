//! Picks the board from the build target: its memory layout goes to the linker as
//! `memory.x` (included by cortex-m-rt's `link.x`) and its name to the code as
//! `cfg(board = "…")`.

use std::{env, fs, path::PathBuf};

/// Every board: (build target, board name). The name is also its `memory/<name>.x`.
const BOARDS: [(&str, &str); 3] = [
    ("thumbv7em-none-eabihf", "mps2-an386"),
    ("thumbv8m.main-none-eabihf", "mps2-an505"),
    ("thumbv6m-none-eabi", "microbit"),
];

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let Some(&(_, board)) = BOARDS.iter().find(|(t, _)| *t == target) else {
        let known: Vec<String> = BOARDS
            .iter()
            .map(|(t, b)| format!("--target {t} ({b})"))
            .collect();
        panic!(
            "micrornn-firmware has no board for target `{target}`: build with {}",
            known.join(", ")
        );
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let layout = format!("memory/{board}.x");
    fs::copy(&layout, out.join("memory.x")).unwrap_or_else(|e| panic!("{layout}: {e}"));

    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-cfg=board=\"{board}\"");
    let names: Vec<String> = BOARDS.iter().map(|(_, b)| format!("\"{b}\"")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(board, values({}))",
        names.join(", ")
    );
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
}
