//! Relinks the firmware when memory.x changes (.cargo/config.toml hands it to the linker).

fn main() {
    println!("cargo:rerun-if-changed=memory.x");
}
