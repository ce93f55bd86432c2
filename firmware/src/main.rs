//! The firmware: one program for every board, the build target picks the board
//! (`build.rs`): `thumbv7em-none-eabihf` → `mps2-an386`, `thumbv8m.main-none-eabihf` →
//! `mps2-an505`, `thumbv6m-none-eabi` → `microbit`. `cargo run --release [--target T]
//! [-- QEMU flags]` boots it in QEMU.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

use micrornn::session::Buffers;
use micrornn_firmware::board::current as board;

#[cortex_m_rt::entry]
fn main() -> ! {
    // The session's buffers (cortex-m-rt hands each `static mut` here out once, as `&'static mut`).
    static mut ARENA: [i32; board::ARENA_LEN] = [0; board::ARENA_LEN];
    static mut LOGITS: [i32; board::LOGITS_LEN] = [0; board::LOGITS_LEN];
    board::run(Buffers {
        arena: ARENA,
        logits: LOGITS,
    })
}
