//! Links the crate's Cortex-M example (`examples/embedded_name.rs`): cortex-m-rt's
//! `link.x` with the chip's `examples/memory.x`. Only the examples get these linker
//! arguments; the library, and every firmware that uses it, link as they would without.

use std::{env, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv") && target.contains("-none-") {
        let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
        let examples = dir.join("examples");
        println!("cargo:rustc-link-arg-examples=-L{}", examples.display());
        println!("cargo:rustc-link-arg-examples=-Tlink.x");
    }
    println!("cargo:rerun-if-changed=examples/memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}
