//! Picks the board from the build target: its memory layout goes to the linker as
//! `memory.x` (included by cortex-m-rt's `link.x`) and its name to the code as
//! `cfg(board = "…")`.

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let board = match target.as_str() {
        "thumbv7em-none-eabihf" => "mps2-an386",
        "thumbv6m-none-eabi" => "microbit",
        other => panic!(
            "micrornn-firmware has no board for target `{other}`: build with \
             --target thumbv7em-none-eabihf (mps2-an386) or --target thumbv6m-none-eabi (microbit)"
        ),
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let layout = format!("memory/{board}.x");
    fs::copy(&layout, out.join("memory.x")).unwrap_or_else(|e| panic!("{layout}: {e}"));

    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-cfg=board=\"{board}\"");
    println!("cargo::rustc-check-cfg=cfg(board, values(\"mps2-an386\", \"microbit\"))");
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
}
